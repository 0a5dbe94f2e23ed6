"""``path:line:col: RV101 message``, one finding per line, then a summary line.

On a terminal each finding is followed by a short code frame and colours are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from reviewer.engine import Result
    from reviewer.report import ReportContext


def _frame(ctx: ReportContext, path: str, line: int, col: int) -> list[str]:
    try:
        text = (ctx.root / path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    if not 0 < line <= len(text):
        return []
    out = []
    for n in range(max(1, line - 1), min(len(text), line + 1) + 1):
        marker = ">" if n == line else " "
        out.append(f"  {marker} {n:>5} | {text[n - 1]}")
        if n == line:
            out.append(f"          | {' ' * (col - 1)}^")
    return out


def render(result: Result, ctx: ReportContext) -> str:
    """The whole text report."""
    lines: list[str] = []
    for f in result.findings:
        code = click.style(f.rule_id, fg="red", bold=True) if ctx.color else f.rule_id
        loc = f"{f.path}:{f.span.line}:{f.span.col}:"
        if ctx.color:
            loc = click.style(loc, bold=True)
        lines.append(f"{loc} {code} {f.message}")
        if ctx.code_frame:
            lines.extend(_frame(ctx, f.path, f.span.line, f.span.col))
        if f.explanation:
            lines.extend(f"    {ln}" for ln in f.explanation.splitlines())
        fix = f.fix or f.model_fix
        if fix is not None and ctx.code_frame:
            kind = "fix" if fix.safe else "unsafe fix"
            lines.append(f"    {kind} available: {fix.description}")
    for u in result.unused_suppressions:
        codes = ",".join(u.codes) or "all"
        lines.append(f"{u.path}:{u.line}:1: unused suppression (reviewer: ignore[{codes}])")
    n = len(result.findings)
    summary = f"{n} finding{'s' if n != 1 else ''} in {result.files_reviewed} file" + (
        "s" if result.files_reviewed != 1 else ""
    )
    extras = []
    if result.hidden_by_baseline:
        extras.append(f"{result.hidden_by_baseline} hidden by the baseline")
    if result.filtered_by_diff:
        extras.append(f"{result.filtered_by_diff} outside the changed lines")
    fixable = sum(1 for f in result.findings if f.fix is not None and f.fix.safe)
    if fixable:
        extras.append(f"{fixable} fixable with `reviewer fix`")
    if extras:
        summary += f" ({'; '.join(extras)})"
    lines.append(summary + ".")
    return "\n".join(lines) + "\n"
