"""The finding model: severities, source spans, fixes, findings and their fingerprints.

Everything the engine produces and every reporter consumes is defined here. Findings are
plain frozen dataclasses so they pickle cheaply (worker processes, the result cache).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace

from reviewer.digests import sha256


class Severity(enum.IntEnum):
    """How much a finding matters. Ordered, so thresholds compare with ``>=``."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a severity name (case-insensitive); raise ValueError on anything else."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def sarif_level(self) -> str:
        return {0: "note", 1: "note", 2: "warning", 3: "error"}[int(self)]


_LABELS = tuple(s.name.lower() for s in Severity)


@dataclass(frozen=True)
class Span:
    """A source range. Lines are 1-based; columns are 1-based character offsets."""

    line: int
    col: int = 1
    end_line: int | None = None
    end_col: int | None = None

    @property
    def last_line(self) -> int:
        return self.end_line if self.end_line is not None else self.line


@dataclass(frozen=True)
class TextEdit:
    """Replace the text between two (line, col) positions (1-based, end exclusive)."""

    line: int
    col: int
    end_line: int
    end_col: int
    text: str


@dataclass(frozen=True)
class Fix:
    """A proposed change. ``safe`` fixes are deterministic rule fixes; model fixes never are."""

    description: str
    edits: tuple[TextEdit, ...]
    safe: bool = True
    origin: str = "rule"  # "rule" or "model"


@dataclass(frozen=True)
class Finding:
    """One problem found in one file."""

    rule_id: str
    slug: str
    message: str
    path: str  # POSIX path relative to the repository root (or as given)
    span: Span
    severity: Severity
    # For whole-function findings (too long, too complex): the lines of the function, so the
    # `added` diff filter keeps the finding when any line of the function was touched.
    scope: tuple[int, int] | None = None
    fix: Fix | None = None
    # Dotted name of the enclosing function/class ("" at module level).
    symbol: str = ""
    # The lines (decorators included) of the innermost function containing the finding,
    # as the parser saw them: what a verdict's snapshot keeps, with no second parse.
    enclosing: tuple[int, int] | None = None
    # Line-independent identity: rule, path, normalised code, enclosing scope and occurrence.
    fingerprint: str = ""
    # Model output (filled by the llm layer, never part of the fingerprint).
    explanation: str | None = None
    model_fix: Fix | None = None
    # Set by suppression logic when a finding was downgraded or annotated.
    notes: tuple[str, ...] = field(default_factory=tuple)
    # Other places of the same problem grouped into this finding (e.g. every print() of
    # one function); the finding itself is reported at ``span``.
    related: tuple[Span, ...] = ()
    # Set by a rule: findings of the rule with the same non-empty key in one file become one
    # finding (see group_findings), after suppressions.
    group: str = ""

    def with_(self, **changes: object) -> Finding:
        """Return a copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.span.line, self.span.col, self.rule_id)


_WS = re.compile(r"\s+")
# Characters str.splitlines() treats as line breaks but Python's parser does not.
_ODD_BREAK_CHARS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def group_findings(findings: list[Finding]) -> list[Finding]:
    """Merge the findings of one rule that share a ``group`` key into the first of them:
    the others become its ``related`` locations and its message says where they are."""
    if not any(f.group for f in findings):
        return findings
    members: dict[tuple[str, str, str], list[Finding]] = {}
    out: list[Finding] = []
    for f in findings:
        if not f.group:
            out.append(f)
            continue
        k = (f.rule_id, f.path, f.group)
        if k not in members:
            members[k] = []
            out.append(f)  # its place in the output; replaced below
        members[k].append(f)
    merged = {}
    for group in members.values():
        group.sort(key=lambda f: f.sort_key)
        first, rest = group[0], group[1:]
        if rest:
            lines = ", ".join(str(f.span.line) for f in rest)
            where = f" in {first.symbol}()" if first.symbol else ""
            first = first.with_(
                related=tuple(f.span for f in rest),
                message=f"{first.message} ({len(group)} places{where}; also line"
                        f"{'s' if len(rest) > 1 else ''} {lines})",
            )
        merged[(group[0].rule_id, group[0].path, group[0].group)] = first
    return [merged[(f.rule_id, f.path, f.group)] if f.group else f for f in out]


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """Split like Python's parser numbers lines: only \\n, \\r\\n and \\r end a line.

    ``str.splitlines`` also breaks on form feeds, ``\\u2028`` and others, which would put
    line numbers out of step with the AST's in files containing them.
    """
    if not any(c in text for c in _ODD_BREAK_CHARS):  # eight substring searches: several
        return text.splitlines(keepends)               # times faster than one regex scan
    parts: list[str] = _LINE.findall(text)
    return parts if keepends else [p.rstrip("\r\n") for p in parts]


def normalise_code(code: str) -> str:
    """Whitespace-insensitive form of a code snippet, used in fingerprints."""
    return _WS.sub("", code)


def fingerprint(rule_id: str, path: str, code: str, scope_name: str, occurrence: int) -> str:
    """A stable identity for a finding that survives line moves and reformatting.

    ``code`` is the flagged source text, ``scope_name`` the dotted name of the enclosing
    function or class ("" at module level) and ``occurrence`` the index of this
    (rule, path, code, scope) combination within the file, so identical lines stay distinct.
    """
    h = sha256()
    for part in (rule_id, path, normalise_code(code), scope_name, str(occurrence)):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()[:20]


def apply_edits(source: str, edits: tuple[TextEdit, ...] | list[TextEdit]) -> str:
    """Apply non-overlapping edits to ``source`` and return the new text.

    Identical edits count once (two fixes of one file that both add the same import).
    Raises ValueError when edits overlap or point outside the text.
    """
    edits = list(dict.fromkeys(edits))
    lines = split_lines(source, keepends=True)
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln))

    def offset(line: int, col: int) -> int:
        if line < 1 or line > len(lines) + 1:
            raise ValueError(f"edit position {line}:{col} outside the file")
        base = starts[line - 1]
        return base + col - 1

    spans = sorted(
        ((offset(e.line, e.col), offset(e.end_line, e.end_col), e.text) for e in edits),
        reverse=True,
    )
    out = source
    prev_start = len(source) + 1
    for start, end, text in spans:
        if end > prev_start or start > end:
            raise ValueError("overlapping or inverted edits")
        out = out[:start] + text + out[end:]
        prev_start = start
    return out


def lines_outside_kept(
    before: str, after: str, edits: tuple[TextEdit, ...] | list[TextEdit]
) -> str | None:
    """None when every line of ``before`` outside the ``edits`` is byte-identical in
    ``after`` (and in the same order); else which line changed. A fix may touch only the
    lines it edits."""
    import difflib

    old, new = split_lines(before, keepends=True), split_lines(after, keepends=True)
    ranges = [(e.line - 1, max(e.line, e.end_line - (1 if e.end_col == 1 else 0)))
              for e in edits]  # 0-based [start, stop) of the lines each edit touches
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if i2 == i1:  # lines inserted: next to an edit
            if not any(lo <= i1 <= hi for lo, hi in ranges):
                return f"lines inserted at line {i1 + 1}, outside the edit"
            continue
        for i in range(i1, i2):
            if not any(lo <= i < hi for lo, hi in ranges):
                return f"line {i + 1} outside the edit changed"
    return None
