"""``path:line:col: RV101 message``, one finding per line, then a summary line.

Piped or written to a file, that is all, plus what the local model added (``--explain``):
its explanation and its validated fix as a plain diff, indented under the finding, so editors
and ``grep`` still read the finding lines like flake8 output. On a terminal
(``ReportContext.code_frame`` / ``color``) each finding also gets a short code frame with the
flagged span underlined, and a fix is shown as a short unified diff of what ``reviewer fix``
would change.
The summary is always the last line (``--quiet`` drops it).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reviewer.fileio import show_path
from reviewer.findings import Finding, Fix, Severity, apply_edits

if TYPE_CHECKING:
    from reviewer.engine import Result
    from reviewer.report import ReportContext

SEVERITY_COLOURS = {
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "blue",
}
# Lines of context around the flagged lines, and the most span lines shown.
FRAME_CONTEXT = 1
FRAME_MAX_SPAN = 3
# A fix's diff is cut after this many lines.
DIFF_MAX_LINES = 12


class Sources:
    """File texts read once per report (for code frames and fix diffs).

    ``contents`` (path -> bytes) wins over the file on disk: with ``--staged`` the staged
    version is what was reviewed.
    """

    def __init__(self, root: Path, contents: Mapping[str, bytes] | None = None) -> None:
        self.root = root
        self.contents = contents or {}
        self._texts: dict[str, str | None] = {}

    def text(self, path: str) -> str | None:
        """The file's text as the engine decoded it, or None when it cannot be read."""
        if path not in self._texts:
            try:
                data = self.contents.get(path)
                raw = data if data is not None else (self.root / path).read_bytes()
                text = raw.decode("utf-8", errors="replace")
                self._texts[path] = text.removeprefix("\ufeff")
            except OSError:
                self._texts[path] = None
        return self._texts[path]


def _style(text: str, colour: bool, **styles: str | bool) -> str:
    if not colour:
        return text
    wanted = {k: v for k, v in styles.items() if v is not False}
    return click.style(text, **wanted) if wanted else text  # type: ignore[arg-type]


def headline(f: Finding, colour: bool = False) -> str:
    """``path:line:col: RV101 message``."""
    loc = _style(f"{show_path(f.path)}:{f.span.line}:{f.span.col}:", colour, bold=True)
    code = _style(f.rule_id, colour, fg=SEVERITY_COLOURS[f.severity], bold=True)
    return f"{loc} {code} {f.message}"


def _blank_like(prefix: str) -> str:
    """Spaces as wide as ``prefix`` (tabs kept, so a caret lines up under tabbed code)."""
    return "".join(c if c == "\t" else " " for c in prefix)


def code_frame(f: Finding, text: str, colour: bool = False) -> list[str]:
    """The flagged lines with one line of context each side, the span underlined."""
    lines = text.splitlines()
    line = f.span.line
    if not 0 < line <= len(lines):
        return []
    last = min(max(f.span.last_line, line), line + FRAME_MAX_SPAN - 1, len(lines))
    out = []
    for n in range(max(1, line - FRAME_CONTEXT), min(len(lines), last + FRAME_CONTEXT) + 1):
        flagged = line <= n <= last
        marker = ">" if flagged else " "
        gutter = _style(f"  {marker} {n:>5} | ", colour, dim=not flagged)
        out.append(f"{gutter}{lines[n - 1]}")
        if n == line and f.span.last_line == line:
            src = lines[n - 1]
            start = min(max(f.span.col, 1), len(src) + 1)
            end = f.span.end_col if f.span.end_col is not None else start + 1
            width = max(1, min(end, len(src) + 1) - start)
            caret = _style("^" * width, colour, fg=SEVERITY_COLOURS[f.severity], bold=True)
            out.append(f"{' ' * 10}| {_blank_like(src[: start - 1])}{caret}")
    return out


def fix_diff(fix: Fix, text: str, colour: bool = False) -> list[str]:
    """The change a fix makes, as a short unified diff (empty when it does not apply)."""
    try:
        fixed = apply_edits(text, fix.edits)
    except ValueError:
        return []
    diff = list(
        difflib.unified_diff(
            text.splitlines(), fixed.splitlines(), lineterm="", n=FRAME_CONTEXT
        )
    )[2:]  # drop the ---/+++ file header
    shown = diff[:DIFF_MAX_LINES]
    out = []
    for ln in shown:
        if ln.startswith("+"):
            out.append(_style(ln, colour, fg="green"))
        elif ln.startswith("-"):
            out.append(_style(ln, colour, fg="red"))
        else:
            out.append(_style(ln, colour, dim=ln.startswith("@@")))
    if len(diff) > len(shown):
        out.append(f"... {len(diff) - len(shown)} more diff lines")
    return ["      " + ln for ln in out]


def _fix_block(f: Finding, sources: Sources, colour: bool) -> list[str]:
    fix = f.fix or f.model_fix
    if fix is None:
        return []
    if fix.safe:
        label = "fix (`reviewer fix` applies it)"
    elif fix.origin == "rule":
        label = "unsafe fix (`reviewer fix --unsafe-fixes` applies it; review it)"
    else:
        label = "suggested fix (unsafe: review before applying)"
    out = [f"    {_style(label, colour, bold=True)}: {fix.description}"]
    text = sources.text(f.path)
    if text is not None:
        out.extend(fix_diff(fix, text, colour))
    return out


def verdict_extras(result: Result) -> list[str]:
    """What the team's verdicts made quieter (learned suppressions), for a summary line."""
    out = []
    if result.hidden_by_verdicts:
        out.append(f"{result.hidden_by_verdicts} hidden by the team's verdicts")
    if result.downgraded_by_verdicts:
        out.append(f"{result.downgraded_by_verdicts} downgraded to info by the team's verdicts")
    return out


def summary_line(result: Result) -> str:
    """``N findings in M files (...)``."""
    n = len(result.findings)
    summary = f"{n} finding{'s' if n != 1 else ''} in {result.files_reviewed} file" + (
        "s" if result.files_reviewed != 1 else ""
    )
    extras = []
    if result.skipped:
        extras.append(f"{len(result.skipped)} not reviewed")
    if result.hidden_by_baseline:
        extras.append(f"{result.hidden_by_baseline} hidden by the baseline")
    if result.filtered_by_diff:
        extras.append(f"{result.filtered_by_diff} outside the changed lines")
    extras.extend(verdict_extras(result))
    fixable = sum(1 for f in result.findings if f.fix is not None and f.fix.safe)
    if fixable:
        extras.append(f"{fixable} fixable with `reviewer fix`")
    unsafe = sum(1 for f in result.findings if f.fix is not None and not f.fix.safe)
    if unsafe:
        extras.append(f"{unsafe} more with `reviewer fix --unsafe-fixes`")
    if extras:
        summary += f" ({'; '.join(extras)})"
    return summary + "."


def render(result: Result, ctx: ReportContext) -> str:
    """The whole text report."""
    sources = Sources(ctx.root, ctx.contents)
    colour = ctx.color
    lines: list[str] = []
    for f in result.findings:
        shown = ctx.show_fingerprints and f.fingerprint
        lines.append(headline(f, colour) + (f"  [{f.fingerprint[:12]}]" if shown else ""))
        lines.extend(f"    note: {n}" for n in f.notes)
        text = sources.text(f.path) if ctx.code_frame else None
        if text is not None:
            lines.extend(code_frame(f, text, colour))
        if f.explanation:
            lines.extend(f"    {ln}" for ln in f.explanation.strip().splitlines())
        if ctx.code_frame:
            lines.extend(_fix_block(f, sources, colour))
        elif f.model_fix is not None and f.fix is None:
            # A model fix is in no other line of the report (a deterministic one is counted
            # in the summary): show it piped too, without colour.
            lines.extend(_fix_block(f, sources, False))
    for u in result.unused_suppressions:
        codes = ",".join(u.codes) or "all"
        lines.append(f"{u.path}:{u.line}:1: unused suppression (reviewer: ignore[{codes}])")
    summary = summary_line(result)
    lines.append(_style(summary, colour, bold=True) if result.findings else summary)
    return "\n".join(lines) + "\n"
