"""Findings as LSP diagnostics: positions, severities, tags, links.

The engine's positions are 1-based lines and 1-based code-point columns; LSP's are 0-based
lines and columns counted in the negotiated position encoding (UTF-16 unless the client
chose UTF-8 or UTF-32).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reviewer.findings import Finding, Severity, Span, split_lines
from reviewer.suppressions import Unused

if TYPE_CHECKING:
    from lsprotocol import types

SOURCE = "reviewer"
UNNECESSARY_TAGS = frozenset({"unused", "dead-code", "redundant"})
DEPRECATED_TAGS = frozenset({"deprecated"})


def units(text: str, encoding: str) -> int:
    """The length of ``text`` in the code units of ``encoding`` ("utf-8"/"utf-16"/"utf-32")."""
    if encoding == "utf-32":
        return len(text)
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def column_to_chars(line_text: str, column: int, encoding: str) -> int:
    """The 0-based code-point column of a client's column on ``line_text``."""
    if encoding == "utf-32":
        return min(column, len(line_text))
    count = 0
    for i, ch in enumerate(line_text):
        if count >= column:
            return i
        count += units(ch, encoding)
    return len(line_text)


class Lines:
    """The lines of one buffer, for position conversion both ways."""

    def __init__(self, text: str, encoding: str) -> None:
        self.lines = [ln.rstrip("\r\n") for ln in split_lines(text, keepends=True)] or [""]
        self.source = text
        self.encoding = encoding

    def text(self, line: int) -> str:
        """The text of a 1-based line ('' beyond the end)."""
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""

    def position(self, line: int, col: int) -> types.Position:
        """LSP position of a 1-based (line, code-point column); clamped into the buffer."""
        from lsprotocol import types

        line = max(1, min(line, len(self.lines) + 1))
        prefix = self.text(line)[: max(col - 1, 0)]
        return types.Position(line=line - 1, character=units(prefix, self.encoding))

    def range(self, span: Span) -> types.Range:
        """LSP range of a finding's span (a span without an end runs to the line's end)."""
        from lsprotocol import types

        start = self.position(span.line, span.col)
        if span.end_line is None or span.end_col is None:
            text = self.text(span.line)
            end_col = len(text.rstrip()) + 1
            end = self.position(span.line, max(end_col, span.col))
        else:
            end = self.position(span.end_line, span.end_col)
        if (end.line, end.character) < (start.line, start.character):
            end = start
        return types.Range(start=start, end=end)

    def to_engine(self, pos: types.Position) -> tuple[int, int]:
        """1-based (line, code-point column) of an LSP position."""
        line = pos.line + 1
        return line, column_to_chars(self.text(line), pos.character, self.encoding) + 1


def severity(sev: Severity) -> types.DiagnosticSeverity:
    """high -> Error, medium -> Warning, low -> Information, info -> Hint."""
    from lsprotocol import types

    return {
        Severity.HIGH: types.DiagnosticSeverity.Error,
        Severity.MEDIUM: types.DiagnosticSeverity.Warning,
        Severity.LOW: types.DiagnosticSeverity.Information,
        Severity.INFO: types.DiagnosticSeverity.Hint,
    }[sev]


def tags(rule_tags: Sequence[str]) -> list[types.DiagnosticTag] | None:
    """``Unnecessary`` for rules about unused or redundant code, ``Deprecated`` for ones
    about deprecated APIs (the editor greys or strikes such code out)."""
    from lsprotocol import types

    out = []
    if UNNECESSARY_TAGS.intersection(rule_tags):
        out.append(types.DiagnosticTag.Unnecessary)
    if DEPRECATED_TAGS.intersection(rule_tags):
        out.append(types.DiagnosticTag.Deprecated)
    return out or None


def diagnostic(f: Finding, lines: Lines, uri: str) -> types.Diagnostic:
    """The diagnostic of one finding; ``data`` carries its fingerprint (for code actions)."""
    from lsprotocol import types

    from reviewer.principles import catalogue
    from reviewer.report.rules_doc import rule_help_uri
    from reviewer.rules import all_rules

    cls = all_rules().get(f.rule_id)
    where = lines.range(f.span)
    related = []
    if cls is not None:
        principle = catalogue().get(cls.principle)
        title = principle.title if principle is not None else cls.principle
        related.append(types.DiagnosticRelatedInformation(
            location=types.Location(uri=uri, range=where), message=f"principle: {title}"))
    for other in f.related:
        related.append(types.DiagnosticRelatedInformation(
            location=types.Location(uri=uri, range=lines.range(other)),
            message="the same problem here"))
    if f.explanation:
        related.append(types.DiagnosticRelatedInformation(
            location=types.Location(uri=uri, range=where),
            message=f"model: {' '.join(f.explanation.split())}"))
    return types.Diagnostic(
        range=where,
        message=f.message,
        severity=severity(f.severity),
        code=f.rule_id,
        code_description=types.CodeDescription(href=rule_help_uri(f.rule_id)),
        source=SOURCE,
        tags=tags(cls.tags if cls is not None else ()),
        related_information=related or None,
        data={"fingerprint": f.fingerprint, "rule": f.rule_id},
    )


UNUSED_CODE = "unused-suppression"


def unused_diagnostic(u: Unused, lines: Lines) -> types.Diagnostic:
    """A suppression comment that hides nothing (``report-unused-suppressions``): tagged
    ``Unnecessary``, on the comment."""
    from lsprotocol import types

    text = lines.text(u.line)
    start = text.find("reviewer:")
    start = max(text.rfind("#", 0, start), text.rfind("//", 0, start), 0) if start >= 0 else 0
    codes = ", ".join(u.codes) or "all"
    return types.Diagnostic(
        range=lines.range(Span(u.line, start + 1, u.line, len(text.rstrip()) + 1)),
        message=f"unused suppression (reviewer: ignore[{codes}])",
        severity=types.DiagnosticSeverity.Warning,
        code=UNUSED_CODE,
        source=SOURCE,
        tags=[types.DiagnosticTag.Unnecessary],
    )
