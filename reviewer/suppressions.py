"""Inline and file-level suppression comments.

``# reviewer: ignore[RV101, RV203] optional reason`` on the first line of a finding hides
those rules there (``# reviewer: ignore`` with no codes hides every rule on the line);
``# reviewer: ignore-file[RV501]`` anywhere in a file hides those rules in the whole file.
Codes are rule IDs, ID prefixes (``RV3``) or slugs. ``//`` comments work the same for
languages that use them. In Python files only real comments count (the text inside a
string literal is not a suppression).

A suppression code that hides nothing is *unused*. When ``report_unused_suppressions`` is on
(``--show-unused-suppressions``), unused codes of rules that ran on the file are reported
like findings, make ``check`` exit 1 (as ruff's RUF100 does) and follow the diff filter;
codes naming no rule at all are always reported as unknown.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from reviewer.findings import Finding, split_lines

_PATTERN = re.compile(
    r"(?:#|//)\s*reviewer:\s*(?P<kind>ignore-file|ignore)(?![\w-])"
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


def _comments(source: str, python: bool) -> Iterable[tuple[int, str]]:
    """(line, text) of the comments that may hold a suppression."""
    if python:
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
        except (tokenize.TokenError, SyntaxError):
            tokens = []  # does not tokenize: fall back to a line scan
        else:
            return [(t.start[0], t.string) for t in tokens
                    if t.type == tokenize.COMMENT and "reviewer:" in t.string]
    return [(i, text) for i, text in enumerate(split_lines(source), 1) if "reviewer:" in text]


def parse(source: str, path: str = "") -> list[Suppression]:
    """Every suppression comment in ``source`` (Python files: real comments only)."""
    if "reviewer:" not in source:
        return []
    python = path.endswith((".py", ".pyi", ".pyw")) or source.startswith("#!")
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
        reason = m.group("reason").strip()
        out.append(Suppression(line, codes, m.group("kind") == "ignore-file", reason))
    return out


def apply_inline(
    findings: list[Finding], source: str, path: str
) -> tuple[list[Finding], list[Unused]]:
    """Drop suppressed findings; return the kept ones and the unused suppression codes.

    A file that does not parse (RV000) reports no unused suppressions: no rule ran on it.
    """
    sups = parse(source, path)
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
