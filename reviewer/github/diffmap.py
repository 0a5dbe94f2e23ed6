"""Which lines of a pull request may carry an inline review comment.

GitHub rejects a whole review (422) when any comment points outside the diff, without
saying which one. A comment on the new side (``side: RIGHT``) may point at any line that a
hunk of the file's patch shows: added lines and context lines. A multi-line comment must
stay inside one hunk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def hunk_ranges(patch: str | None) -> list[tuple[int, int]]:
    """The new-side line ranges (first, last; inclusive) shown by each hunk of ``patch``.

    Counts the lines the patch really holds, so a truncated patch never claims more.
    """
    ranges: list[tuple[int, int]] = []
    if not patch:
        return ranges
    start = line = 0
    in_hunk = False
    for text in patch.split("\n"):
        m = _HUNK.match(text)
        if m:
            if in_hunk and line > start:
                ranges.append((start, line - 1))
            start = line = int(m.group(1))
            in_hunk = True
        elif in_hunk and text[:1] in (" ", "+"):
            line += 1  # context or added; "-" and "\\ No newline" lines have no new line
    if in_hunk and line > start:
        ranges.append((start, line - 1))
    return ranges


@dataclass(frozen=True)
class DiffMap:
    """Per file (its path in the PR head), the hunks a comment may point into."""

    hunks: Mapping[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)

    @classmethod
    def from_patches(cls, patches: Iterable[tuple[str, str | None]]) -> DiffMap:
        """Build from (filename, patch) pairs; files without a patch get no hunks."""
        return cls({name: tuple(hunk_ranges(patch)) for name, patch in patches})

    def contains(self, path: str, first: int, last: int | None = None) -> bool:
        """Whether lines ``first``..``last`` lie inside one hunk of ``path``."""
        last = first if last is None else last
        return any(lo <= first and last <= hi for lo, hi in self.hunks.get(path, ()))

    def hunk_of(self, path: str, line: int) -> tuple[int, int] | None:
        """The hunk holding ``line`` of ``path``, if any."""
        for lo, hi in self.hunks.get(path, ()):
            if lo <= line <= hi:
                return lo, hi
        return None
