"""Stock reports for the weekly meeting."""

from __future__ import annotations


def stock_report(items, low, high, location, include_empty, sort_by, limit, fmt):
    lines = []
    for item in items:
        if location and item.location != location:
            continue
        if not include_empty and item.quantity == 0:
            continue
        if item.quantity < low:
            status = "LOW"
        elif item.quantity > high:
            status = "HIGH"
        elif item.quantity == low or item.quantity == high:
            status = "EDGE"
        else:
            status = "OK"
        if fmt == "csv":
            lines.append(f"{item.name},{item.quantity},{status}")
        elif fmt == "tsv":
            lines.append(f"{item.name}\t{item.quantity}\t{status}")
        elif fmt == "md":
            lines.append(f"| {item.name} | {item.quantity} | {status} |")
        else:
            lines.append(f"{item.name:<12}{item.quantity:>6}  {status}")
    if sort_by == "name":
        lines.sort()
    elif sort_by == "status":
        lines.sort(key=lambda line: line.rsplit(maxsplit=1)[-1])
    if limit and len(lines) > limit:
        lines = lines[:limit]
    return "\n".join(lines)
