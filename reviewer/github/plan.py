"""What one run posts, edits and resolves on a pull request (pure: no network).

- A finding already commented (its fingerprint marker on one of reviewer's inline comments
  that is not marked resolved) is not commented again: zero repeats across pushes.
- New inline comments go only on lines inside a hunk of the PR diff; a suggestion widens the
  comment to the lines it replaces, and is dropped when those leave the hunk.
- At most ``max_comments`` inline comments stand on the PR at once (earlier ones count);
  the most severe findings get them, the rest are listed in the summary.
- Comments whose finding disappeared are edited to say so; findings the previous summary
  listed that are gone are named as resolved.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from reviewer.findings import Finding
from reviewer.github import render
from reviewer.github.diffmap import DiffMap

_RULE = re.compile(r"\*\*([A-Z]+\d+ [\w-]+)\*\*")  # RV101 ..., or a taught T001 ...


@dataclass(frozen=True)
class Posted:
    """One of reviewer's earlier inline comments on the PR."""

    id: int
    fp: str
    path: str
    body: str
    resolved: bool


@dataclass(frozen=True)
class NewComment:
    """An inline comment to create, as PyGithub's ``create_review`` takes it."""

    finding: Finding
    path: str
    line: int
    start_line: int | None
    body: str

    def as_dict(self) -> dict[str, str | int]:
        out: dict[str, str | int] = {"path": self.path, "line": self.line, "side": "RIGHT",
                                     "body": self.body}
        if self.start_line is not None and self.start_line < self.line:
            out["start_line"] = self.start_line
            out["start_side"] = "RIGHT"
        return out


@dataclass
class Plan:
    """Everything one run does to the PR."""

    new: list[NewComment] = field(default_factory=list)
    resolve: list[tuple[int, str]] = field(default_factory=list)  # (comment id, new body)
    not_inline: list[Finding] = field(default_factory=list)
    inline: int = 0
    resolved: list[tuple[str, str]] = field(default_factory=list)


# A validated suggestion for a finding, with its note ("Fix", "Model fix ..."), or None.
Suggest = Callable[[Finding], "tuple[render.Suggestion, str] | None"]


def make_plan(
    findings: Sequence[Finding],
    diff: DiffMap,
    posted: Sequence[Posted],
    previous: render.State,
    max_comments: int,
    sha: str,
    suggest: Suggest,
) -> Plan:
    """Decide the run's comments, edits and resolutions."""
    plan = Plan()
    current = {f.fingerprint for f in findings if f.fingerprint}
    active = {p.fp for p in posted if not p.resolved}
    standing = active & current
    slots = max(0, max_comments - len(standing))
    for f in sorted(findings, key=lambda f: (-f.severity, f.sort_key)):
        if f.fingerprint and f.fingerprint in standing:
            continue
        comment = _comment(f, diff, suggest) if slots else None
        if comment is None:
            plan.not_inline.append(f)
            continue
        plan.new.append(comment)
        slots -= 1
    plan.not_inline.sort(key=lambda f: f.sort_key)
    plan.inline = len(standing) + len(plan.new)

    gone: dict[str, tuple[str, str]] = {}
    for p in posted:
        if p.resolved or p.fp in current:
            continue
        plan.resolve.append((p.id, render.resolved_body(p.body, sha)))
        m = _RULE.search(p.body)
        gone[p.fp] = (p.path, m.group(1) if m else "")
    for fp, (path, rule) in previous.items():
        if fp not in current:
            gone.setdefault(fp, (path, rule))
    plan.resolved = sorted(gone.values())
    return plan


def _comment(f: Finding, diff: DiffMap, suggest: Suggest) -> NewComment | None:
    """The inline comment for ``f``, or None when its line is outside the diff."""
    line = f.span.line
    if not diff.contains(f.path, line):
        return None
    got = suggest(f) if f.fix is not None or f.model_fix is not None else None
    if got is not None:
        fix, note = got
        if diff.contains(f.path, fix.first, fix.last):
            start = fix.first if fix.first < fix.last else None
            return NewComment(f, f.path, fix.last, start, render.inline_body(f, fix, note))
    return NewComment(f, f.path, line, None, render.inline_body(f))
