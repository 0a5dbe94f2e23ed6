"""GitHub Actions workflow-command annotations, one per finding, then a summary line.

``::warning file=a.py,line=3,col=5,endColumn=9,title=RV101 mutable-default-argument::msg``.
Escaping follows GitHub's toolkit (``@actions/core`` ``command.ts``): in property values
``%``, ``\\r``, ``\\n``, ``:`` and ``,`` are percent-encoded; in the message only ``%``,
``\\r`` and ``\\n``. So a finding can never end its own line early or smuggle in a second
command. As in the toolkit, columns are only sent for single-line spans.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING

from reviewer.findings import Finding, Severity
from reviewer.report.text import verdict_extras

if TYPE_CHECKING:
    from reviewer.engine import Result
    from reviewer.report import ReportContext

COMMANDS = {
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}
# GitHub displays at most this many annotations of each level per step.
SHOWN_PER_LEVEL = 10


def escape_data(text: str) -> str:
    """Escape a command's message (toolkit ``escapeData``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property's value (toolkit ``escapeProperty``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: Mapping[str, str | int | None], message: str) -> str:
    """One workflow command line: ``::name k=v,k=v::message`` (None values are left out)."""
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in properties.items()
        if value is not None
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def annotation(f: Finding) -> str:
    """The workflow command for one finding."""
    span = f.span
    single_line = span.end_line is None or span.end_line == span.line
    props: dict[str, str | int | None] = {
        "file": f.path,
        "line": span.line,
        "endLine": span.end_line,
        "col": span.col if single_line else None,
        "endColumn": span.end_col if single_line and span.end_col is not None else None,
        "title": f"{f.rule_id} {f.slug}",
    }
    message = f.message
    if f.explanation:
        message += "\n\n" + f.explanation.strip()
    fix = f.fix or f.model_fix
    if fix is not None:
        kind = "Fix" if fix.safe else "Suggested fix (review it)"
        message += f"\n\n{kind}: {fix.description}"
    for note in f.notes:
        message += f"\n\nNote: {note}"
    return command(COMMANDS[f.severity], props, message)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary_line(result: Result) -> str:
    """The closing plain line: counts by annotation level, files, what was left out."""
    levels = Counter(COMMANDS[f.severity] for f in result.findings)
    parts = [
        _plural(levels[name], name) for name in ("error", "warning", "notice") if levels[name]
    ]
    text = f"reviewer: {_plural(len(result.findings), 'finding')}"
    if parts:
        text += f" ({', '.join(parts)})"
    text += f" in {_plural(result.files_reviewed, 'file')}"
    extras = []
    if result.skipped:
        extras.append(f"{_plural(len(result.skipped), 'file')} not reviewed")
    if result.hidden_by_baseline:
        extras.append(f"{result.hidden_by_baseline} hidden by the baseline")
    if result.filtered_by_diff:
        extras.append(f"{result.filtered_by_diff} outside the changed lines")
    extras.extend(verdict_extras(result))
    if any(n > SHOWN_PER_LEVEL for n in levels.values()):
        extras.append(
            f"GitHub shows only {SHOWN_PER_LEVEL} annotations per level and step;"
            " the log lists them all"
        )
    if extras:
        text += f"; {'; '.join(extras)}"
    return text + "."


def render(result: Result, ctx: ReportContext) -> str:
    """Every finding as an annotation command, then tool warnings, then the summary."""
    lines = [annotation(f) for f in result.findings]
    lines += [command("warning", {"title": "reviewer"}, w) for w in result.warnings]
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"
