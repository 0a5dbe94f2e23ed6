"""A description as plain text, Markdown (PR comments and bodies) or JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewer.describe.facts import Facts, SymbolFact
    from reviewer.describe.model import Description

MAX_ROWS = 40  # per section; the JSON always has everything
JSON_VERSION = 1


def _files(n: int) -> str:
    return f"{n} file{'' if n == 1 else 's'}"


def _symbol_row(s: SymbolFact) -> str:
    where = f"{s.path}:{s.line}"
    if s.change == "moved":
        row = f"{s.kind} {s.qualname}: {s.old_path} -> {where}"
    elif s.change == "renamed":
        row = f"{s.kind} {s.old_qualname} -> {s.qualname} ({where})"
    else:
        row = f"{s.kind} {s.qualname} ({where})"
    if s.signature_changes:
        row += f"; signature {s.old_signature} -> {s.signature}: " + "; ".join(
            s.signature_changes)
    if s.callers_total:
        more = f" and {s.callers_total - len(s.callers)} more" if s.callers_total > len(
            s.callers) else ""
        row += (f"; {s.callers_total} call site{'s' if s.callers_total != 1 else ''}: "
                + ", ".join(s.callers[:5]) + (more if len(s.callers) <= 5 else
                                              f" and {s.callers_total - 5} more"))
    return row


def fact_lines(facts: Facts) -> list[tuple[str, list[str]]]:
    """(section, rows) of the facts, in reading order."""
    sections: list[tuple[str, list[str]]] = []
    files = []
    for f in facts.files:
        size = "binary" if f.binary else f"+{f.added} -{f.deleted}"
        name = f"{f.old_path} -> {f.path}" if f.old_path else f.path
        files.append(f"{f.status:<8} {name} ({size}, {f.category})")
    sections.append(("Files", files))
    if facts.symbols:
        sections.append(("Definitions", [f"{s.change:<8} {_symbol_row(s)}"
                                         + (" [test]" if s.in_tests else "")
                                         for s in facts.symbols]))
    if facts.dependencies:
        rows = []
        for d in facts.dependencies:
            ver = {"added": d.new, "removed": d.old}.get(d.change, f"{d.old} -> {d.new}")
            rows.append(f"{d.change:<8} {d.name} {ver or ''}".rstrip() + f" ({d.manifest})")
        sections.append(("Dependencies", rows))
    t = facts.tests
    rows = []
    if t.changed_tests:
        rows.append("changed: " + ", ".join(t.changed_tests))
    for q, files_ in t.tested_alongside.items():
        rows.append(f"{q}: tested alongside in {', '.join(files_)}")
    if t.untested:
        rows.append("no test names: " + ", ".join(t.untested))
    if rows:
        sections.append(("Tests", rows))
    if facts.findings is not None:
        fd = facts.findings
        sev = ", ".join(f"{k} {v}" for k, v in fd["by_severity"].items()) or "none"
        rows = [f"{fd['total']} on the changed lines ({sev})"]
        rows += [f"{p}: " + ", ".join(f"{k} {v}" for k, v in c.items())
                 for p, c in fd["by_principle"].items()]
        sections.append(("Findings", rows))
    if facts.warnings:
        sections.append(("Warnings", list(facts.warnings)))
    return sections


def text(facts: Facts, d: Description) -> str:
    size = facts.size
    how = "model" if d.source == "model" else "rules"
    lines = [f"{d.title}",
             f"type: {d.type} ({how}, confidence {d.confidence:.2f}) · {facts.change} · "
             f"{_files(size['files'])}, +{size['added']} -{size['deleted']} · "
             f"scope: {facts.scope}", "", d.summary]
    if d.risks:
        lines += ["", "Risk areas:", *(f"  - {r}" for r in d.risks)]
    for title, rows in fact_lines(facts):
        shown = rows[:MAX_ROWS]
        if len(rows) > MAX_ROWS:
            shown.append(f"… and {len(rows) - MAX_ROWS} more (--format json has all)")
        lines += ["", f"{title}:", *(f"  {r}" for r in shown)]
    return "\n".join(lines) + "\n"


def facts_text(facts: Facts) -> str:
    """The facts alone, compactly (the model's prompt)."""
    lines = [f"scope: {facts.scope}; size: {facts.size}"]
    for title, rows in fact_lines(facts):
        if title == "Warnings":
            continue
        lines.append(f"{title}:")
        lines += [f"- {r}" for r in rows[:20]]
    return "\n".join(lines)


def markdown(facts: Facts, d: Description, heading: str = "###") -> str:
    size = facts.size
    how = "the local model" if d.source == "model" else "rules over the facts"
    lines = [f"{heading} {d.title}", "",
             f"**{d.type}** (from {how}, confidence {d.confidence:.2f}) · "
             f"{_files(size['files'])}, +{size['added']} -{size['deleted']} · "
             f"scope: {facts.scope}", "", d.summary]
    if d.risks:
        lines += ["", "**Risk areas**", "", *(f"- {r}" for r in d.risks)]
    for title, rows in fact_lines(facts):
        if title == "Warnings":
            continue
        shown = [f"- `{r}`" if title == "Files" else f"- {r}" for r in rows[:MAX_ROWS]]
        if len(rows) > MAX_ROWS:
            shown.append(f"- … and {len(rows) - MAX_ROWS} more")
        lines += ["", f"<details><summary>{title} ({len(rows)})</summary>", "", *shown, "",
                  "</details>"]
    return "\n".join(lines)


def as_json(facts: Facts, d: Description) -> str:
    return json.dumps({"version": JSON_VERSION, "description": d.as_dict(),
                       "facts": facts.to_dict()}, indent=2, ensure_ascii=False) + "\n"


FORMATS = {"text": text, "markdown": markdown, "json": as_json}
