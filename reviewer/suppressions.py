"""Inline and file-level suppression comments.

``# reviewer: ignore[RV101, RV203] optional reason`` on the first line of a finding hides
those rules there (``# reviewer: ignore`` with no codes hides every rule on the line);
``# reviewer: ignore-file[RV501]`` anywhere in a file hides those rules in the whole file.
Codes are rule IDs, ID prefixes (``RV3``) or slugs. ``//`` and ``/* ... */`` comments work
the same for languages that use them (JavaScript, TypeScript, Go). In Python files only
real comments count (the text inside a string literal is not a suppression).

A suppression code that hides nothing is *unused*. When ``report_unused_suppressions`` is on
(``--show-unused-suppressions``), unused codes of rules that ran on the file are reported
like findings, make ``check`` exit 1 (as ruff's RUF100 does) and follow the diff filter;
codes naming no rule at all are always reported as unknown.

Other tools' suppressions hide the reviewer's finding too when they name the rule's
counterpart in that tool (``Rule.counterparts``; on by default, ``honor-foreign-suppressions
= false`` turns it off): ``# noqa`` (bare, or with the ruff/flake8 code: ``# noqa: BLE001``),
``# ruff: noqa`` / ``# flake8: noqa`` (file level, bare or with codes), ``# nosec`` (bare, or
with the bandit ID: ``# nosec B110``), ``# pylint: disable=broad-exception-caught`` (on the
line; on a line of its own, to the end of its block; ``disable-next`` for the next line) and
``# nosemgrep`` (the security rules); in JS/TS/Go files ``// eslint-disable-line RULE``,
``// eslint-disable-next-line RULE``, ``// #nosec G204``, ``//gosec:disable G204`` and
``//nolint:gosec`` (see :func:`parse_foreign_c`).
A bare foreign comment hides only the rules that have a
counterpart in that tool. Foreign comments belong to their tools: they are never reported as
unused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from reviewer.findings import Finding, group_findings, split_lines

_PATTERN = re.compile(
    r"(?:#|//|/\*)\s*reviewer:\s*(?P<kind>ignore-file|ignore)(?![\w-])"
    r"(?:\[(?P<codes>[^\]]*)\])?(?P<reason>[^\n]*)"
)


@dataclass(frozen=True)
class Suppression:
    """One suppression comment."""

    line: int
    codes: tuple[str, ...]  # empty: every rule
    file_level: bool
    reason: str

    def covers(self, f: Finding) -> bool:
        """Does this comment hide finding ``f``?"""
        if not self.file_level and f.span.line != self.line:
            return False
        return not self.codes or any(code_matches(c, f.rule_id, f.slug) for c in self.codes)


@dataclass(frozen=True)
class Unused:
    """A suppression comment (or some of its codes) that hid nothing."""

    path: str
    line: int
    codes: tuple[str, ...]  # the unused codes; empty: a code-less suppression


def code_matches(code: str, rule_id: str, slug: str) -> bool:
    """Does a suppression or per-file-ignore code name this rule?"""
    return rule_id.startswith(code.upper()) or slug == code.lower()


# A Python comment or string literal, to tell the one from the other without the tokenize
# module (pure Python: a hundred times slower). A literal is skipped whole, so a ``#`` in
# it is no comment. Prefixes need no matching: they do not move a literal's end (a
# backslash escapes the quote in a raw string too), and an f-string of Python 3.11 is one
# literal. A lone quote that starts no literal is passed over.
_COMMENT_OR_STRING = re.compile(
    r"""#[^\r\n]*"""
    r"""|'''(?:[^'\\]|\\.|'(?!''))*'''"""
    r'''|"""(?:[^"\\]|\\.|"(?!""))*"""'''
    r"""|'(?:[^'\\\r\n]|\\.)*'"""
    r'''|"(?:[^"\\\r\n]|\\.)*"''',
    re.DOTALL,
)


def comments(source: str, stop: int | None = None) -> list[tuple[int, int, str]]:
    """(line, column, text) of the comments of a Python source, up to line ``stop``."""
    out: list[tuple[int, int, str]] = []
    line, at = 1, 0  # ``line`` is the number of the line offset ``at`` is on
    for m in _COMMENT_OR_STRING.finditer(source):
        start = m.start()
        if source[start] != "#":
            continue
        line += source.count("\n", at, start)
        at = start
        if stop is not None and line > stop:
            break
        out.append((line, start - source.rfind("\n", 0, start) - 1, m.group()))
    return out


def _comments(source: str, python: bool) -> Iterable[tuple[int, str]]:
    """(line, text) of the comments that may hold a suppression."""
    if python:
        return [(line, text) for line, _, text in comments(source) if "reviewer:" in text]
    return [(i, text) for i, text in enumerate(split_lines(source), 1) if "reviewer:" in text]


_PY_SUFFIXES = (".py", ".pyi", ".pyw")
_C_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".mts", ".cts", ".go")


def _family(source: str, path: str, language: str | None) -> str | None:
    """``python`` or ``c`` (``//`` comments): by the plug-in's name when the caller knows it
    (a buffer or a script without a suffix), else by the suffix, else by a ``#!`` line."""
    if language is not None:
        return "python" if language == "python" else "c"
    if path.endswith(_C_SUFFIXES):
        return "c"
    if path.endswith(_PY_SUFFIXES) or source.startswith("#!"):
        return "python"
    return None


def parse(source: str, path: str = "", language: str | None = None) -> list[Suppression]:
    """Every suppression comment in ``source`` (Python files: real comments only).

    ``language``: the plug-in reviewing the text, when known (see :func:`_family`)."""
    if "reviewer:" not in source:
        return []
    python = _family(source, path, language) == "python"
    out = []
    for line, text in _comments(source, python):
        m = _PATTERN.search(text)
        if not m:
            continue
        codes = tuple(
            c.strip().upper() if c.strip()[:2].upper() == "RV" else c.strip().lower()
            for c in (m.group("codes") or "").split(",")
            if c.strip()
        )
        reason = m.group("reason").strip().removesuffix("*/").strip()
        out.append(Suppression(line, codes, m.group("kind") == "ignore-file", reason))
    return out


def apply_inline(
    findings: list[Finding], source: str, path: str, foreign: bool = True,
    language: str | None = None,
) -> tuple[list[Finding], list[Unused]]:
    """Drop suppressed findings; return the kept ones and the unused suppression codes.

    ``foreign``: other tools' comments that name a rule's counterpart hide it too. Then the
    findings a rule marked with the same ``group`` become one (``group_findings``).
    A file that does not parse (RV000) reports no unused suppressions: no rule ran on it.
    """
    kept, unused = _apply_own(findings, source, path, language)
    if foreign and kept:
        kept = apply_foreign(kept, source, path, language)
    # Findings a rule groups (RV501's prints of one function) are grouped from what is left,
    # so a suppression hides one place, not the whole group.
    return group_findings(kept), unused


def _apply_own(
    findings: list[Finding], source: str, path: str, language: str | None = None
) -> tuple[list[Finding], list[Unused]]:
    sups = parse(source, path, language)
    if not sups:
        return findings, []
    used: set[tuple[int, str]] = set()  # (suppression index, code) pairs that hid something
    kept = []
    for f in findings:
        hits = [i for i, s in enumerate(sups) if s.covers(f)]
        for i in hits:
            used.add((i, ""))
            used.update((i, c) for c in sups[i].codes if code_matches(c, f.rule_id, f.slug))
        if not hits:
            kept.append(f)
    if any(f.rule_id == "RV000" for f in findings):
        return kept, []
    return kept, _unused(sups, used, path)


def _unused(sups: list[Suppression], used: set[tuple[int, str]], path: str) -> list[Unused]:
    out = []
    for i, s in enumerate(sups):
        idle = tuple(c for c in s.codes if (i, c) not in used)
        if idle or (not s.codes and (i, "") not in used):
            out.append(Unused(path, s.line, idle))
    return out


def relevant_unused(
    unused: Iterable[Unused],
    enabled: Callable[[str, str], bool],
    known: Callable[[str], bool],
) -> list[Unused]:
    """Keep the unused codes worth reporting.

    ``enabled(code, path)``: whether a rule named by ``code`` ran on ``path`` (a suppression
    for a rule that is deselected or ignored for the file is not unused, only idle);
    ``known(code)``: whether ``code`` names any rule (unknown codes are always reported).
    """
    out = []
    for u in unused:
        if not u.codes:
            out.append(u)
            continue
        codes = tuple(c for c in u.codes if not known(c) or enabled(c, u.path))
        if codes:
            out.append(Unused(u.path, u.line, codes))
    return out


# -- other tools' suppressions ---------------------------------------------------------------
_CODE = r"[A-Za-z]+[0-9]+"
_CODES = rf"{_CODE}(?:[\s,]+{_CODE})*"
@lru_cache(maxsize=1)
def _foreign_patterns() -> tuple[re.Pattern[str], ...]:
    """noqa (line), ruff/flake8 noqa (file), nosec, pylint, nosemgrep: compiled when a file
    first mentions one of them, not on every start (compiling them costs a few ms)."""
    return (
        re.compile(rf"#\s*noqa(?![\w-])(?::\s*(?P<codes>{_CODES}))?", re.IGNORECASE),
        re.compile(rf"#\s*(?:ruff|flake8)\s*:\s*noqa(?![\w-])(?::\s*(?P<codes>{_CODES}))?",
                   re.IGNORECASE),
        re.compile(rf"#\s*nosec(?![\w-])(?::?\s*(?P<codes>{_CODES}))?", re.IGNORECASE),
        re.compile(r"#\s*pylint\s*:\s*(?P<kind>disable-next|disable)\s*=\s*"
                   r"(?P<codes>[\w\-]+(?:\s*,\s*[\w\-]+)*)"),
        re.compile(r"#\s*nosemgrep(?![\w-])"),
        # A line that may hold one of the comments above (each of them matches this too).
        re.compile(r"#.*?(?:noqa|nosec|pylint|nosemgrep)", re.IGNORECASE),
    )


_MARKERS = ("noqa", "nosec", "pylint", "nosemgrep")
# Which tools' codes each kind of comment speaks for.
_TOOLS = {"noqa": ("ruff", "flake8"), "nosec": ("bandit",), "pylint": ("pylint",),
          "nosemgrep": ("semgrep",), "eslint": ("eslint", "typescript-eslint"),
          "gosec": ("gosec",)}
# JS/TS/Go: ``// eslint-disable-line no-eval``, ``// eslint-disable-next-line no-eval``,
# ``// #nosec G204`` and ``//gosec:disable G204`` (Go), ``//nolint:gosec,errcheck``.
_C_FOREIGN = (
    r"(?://|/\*)\s*(?:(?P<eslint>eslint-disable-(?:next-)?line)(?P<ecodes>[^*\n]*)"
    r"|#nosec(?P<ncodes>[^\n]*)|gosec:disable(?P<gcodes>[^\n]*)"
    r"|nolint(?::(?P<linters>[\w,-]+))?)"
)  # compiled when a file first mentions one (re keeps it)


@dataclass(frozen=True)
class Foreign:
    """Another tool's suppression comment: the lines it covers and the codes it names."""

    first: int
    last: int  # inclusive; a very large number for file level
    kind: str  # "noqa", "nosec", "pylint" or "nosemgrep"
    codes: tuple[str, ...]  # empty: everything of that tool

    def covers(self, f: Finding) -> bool:
        if not self.first <= f.span.line <= self.last:
            return False
        mine = counterpart_codes(f.rule_id)
        if self.kind == "nosemgrep":
            return "semgrep" in mine
        tools = [mine[t] for t in _TOOLS[self.kind] if t in mine]
        if not tools:
            return False
        if not self.codes or (self.kind == "pylint" and "all" in self.codes):
            return True
        return any(c in codes for codes in tools for c in self.codes)


def counterpart_codes(rule_id: str) -> dict[str, frozenset[str]]:
    """The rule's counterparts as tool -> codes (upper case; pylint symbols lower case);
    security rules also count as semgrep's."""
    return _counterparts().get(rule_id, {})


@lru_cache(maxsize=1)
def _counterparts() -> dict[str, dict[str, frozenset[str]]]:
    from reviewer.rules import all_rules

    out: dict[str, dict[str, frozenset[str]]] = {}
    for rid, cls in all_rules().items():
        tools: dict[str, frozenset[str]] = {}
        for tool, codes in cls.counterparts.items():
            names = [c.strip() for c in codes.split(",") if c.strip()]
            tools[tool] = frozenset(c if tool == "pylint" else c.upper() for c in names)
        if "security" in cls.tags:
            tools["semgrep"] = frozenset()
        out[rid] = tools
    return out


def parse_foreign(source: str) -> list[Foreign]:
    """Every other-tool suppression comment in a Python source (real comments only)."""
    if not any(m in source for m in _MARKERS):
        return []
    noqa_line, noqa_file, nosec, pylint, nosemgrep, any_foreign = _foreign_patterns()
    lines = split_lines(source)
    # The lines whose text holds such a comment; the comments are read up to the last.
    candidates = [n for n, text in enumerate(lines, 1)
                  if any_foreign.search(text)]
    if not candidates:
        return []
    end = len(lines) + 1
    out: list[Foreign] = []
    for line, column, text in comments(source, candidates[-1]):
        if m := noqa_file.search(text):
            out.append(Foreign(1, end, "noqa", _split(m.group("codes"), upper=True)))
        elif m := noqa_line.search(text):
            out.append(Foreign(line, line, "noqa", _split(m.group("codes"), upper=True)))
        if m := nosec.search(text):
            out.append(Foreign(line, line, "nosec", _split(m.group("codes"), upper=True)))
        if nosemgrep.search(text):
            out.append(Foreign(line, line, "nosemgrep", ()))
        if m := pylint.search(text):
            codes = _split(m.group("codes"), upper=False)
            if m.group("kind") == "disable-next":
                first, last = line + 1, line + 1
            elif lines[line - 1][:column].strip():  # code before it: a trailing comment
                first, last = line, line
            else:
                first, last = line, block_end(lines, line, column)
            out.append(Foreign(first, last, "pylint", codes))
    return out


def _split(codes: str | None, upper: bool) -> tuple[str, ...]:
    if not codes:
        return ()
    parts = [c for c in re.split(r"[\s,]+", codes) if c]
    return tuple(c.upper() if upper else c.lower() for c in parts)


def block_end(lines: list[str], line: int, indent: int) -> int:
    """The last line (1-based) of the block that line ``line`` opens or sits in: until a
    later code line indented less than ``indent`` (pylint's block-scoped pragmas)."""
    last = line
    for i in range(line, len(lines)):
        text = lines[i]
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if len(text) - len(text.lstrip()) < indent:
            break
        last = i + 1
    return last


def parse_foreign_c(source: str) -> list[Foreign]:
    """ESLint's, gosec's and golangci-lint's line comments in a JS/TS/Go file."""
    out: list[Foreign] = []
    if not any(m in source for m in ("eslint-disable", "nosec", "gosec:", "nolint")):
        return out
    pattern = re.compile(_C_FOREIGN)  # once per file, not a cache lookup per line
    for n, line in enumerate(split_lines(source), 1):
        m = pattern.search(line)
        if m is None:
            continue
        if m.group("eslint"):
            target = n + 1 if "next-line" in m.group("eslint") else n
            codes = m.group("ecodes").split("--")[0]
            names = tuple(c.strip().upper() for c in codes.split(",") if c.strip())
            out.append(Foreign(target, target, "eslint", names))
        elif m.group("ncodes") is not None or m.group("gcodes") is not None:
            text = (m.group("ncodes") or m.group("gcodes") or "").split("--")[0]
            names = tuple(w.upper() for w in re.findall(r"G\d{3}", text))
            out.append(Foreign(n, n, "gosec", names))
        else:
            linters = (m.group("linters") or "").split(",")
            if not m.group("linters") or "gosec" in linters:
                out.append(Foreign(n, n, "gosec", ()))
    return out


def apply_foreign(findings: list[Finding], source: str, path: str,
                  language: str | None = None) -> list[Finding]:
    """Drop the findings another tool's suppression comment hides."""
    family = _family(source, path, language)
    if family == "c":
        c_comments = parse_foreign_c(source)
        if not c_comments:
            return findings
        return [f for f in findings if not any(c.covers(f) for c in c_comments)]
    if family is None:
        return findings
    comments = parse_foreign(source)
    if not comments:
        return findings
    return [f for f in findings if not any(c.covers(f) for c in comments)]
