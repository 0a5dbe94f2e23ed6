"""Inline and file-level suppression comments.

``# reviewer: ignore[RV101, RV203] optional reason`` on a finding's line hides those rules
there (``# reviewer: ignore`` with no codes hides every rule on the line);
``# reviewer: ignore-file[RV501]`` anywhere in a file hides those rules in the whole file.
``//`` comments work the same for languages that use them. A suppression that hides nothing
is reported as unused when ``report_unused_suppressions`` is on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reviewer.findings import Finding

_PATTERN = re.compile(
    r"(?:#|//)\s*reviewer:\s*(?P<kind>ignore-file|ignore)\b"
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
        return not self.codes or any(f.rule_id.startswith(c) or f.slug == c for c in self.codes)


@dataclass(frozen=True)
class Unused:
    """A suppression comment that hid nothing."""

    path: str
    line: int
    codes: tuple[str, ...]


def parse(source: str) -> list[Suppression]:
    """Every suppression comment in ``source``."""
    if "reviewer:" not in source:
        return []
    out = []
    for i, text in enumerate(source.splitlines(), 1):
        if "reviewer:" not in text:
            continue
        m = _PATTERN.search(text)
        if not m:
            continue
        codes = tuple(
            c.strip().upper() if c.strip()[:2].upper() == "RV" else c.strip()
            for c in (m.group("codes") or "").split(",")
            if c.strip()
        )
        out.append(
            Suppression(i, codes, m.group("kind") == "ignore-file", m.group("reason").strip())
        )
    return out


def apply_inline(
    findings: list[Finding], source: str, path: str
) -> tuple[list[Finding], list[Unused]]:
    """Drop suppressed findings; return the kept ones and the unused suppressions."""
    sups = parse(source)
    if not sups:
        return findings, []
    used: set[int] = set()
    kept = []
    for f in findings:
        hit = [i for i, s in enumerate(sups) if s.covers(f)]
        if hit:
            used.update(hit)
        else:
            kept.append(f)
    unused = [Unused(path, s.line, s.codes) for i, s in enumerate(sups) if i not in used]
    return kept, unused
