"""The lines of a buffer changed against ``HEAD`` (the ``onlyChanged`` initialization option).

The committed version comes from git; the buffer is compared with it line by line, so what
counts is what the editor holds now, saved or not. A file git does not track (or a folder
that is not a repository) counts as changed throughout.
"""

from __future__ import annotations

import difflib
from pathlib import Path


def changed_lines(root: Path, rel: str, text: str) -> set[int] | None:
    """1-based numbers of the buffer's lines added or changed since ``HEAD``; None: all."""
    from reviewer.diff import git
    from reviewer.errors import ReviewerError

    try:
        proc = git(root, "cat-file", "blob", f"HEAD:./{rel}", check=False)
    except ReviewerError:
        return None
    if proc.returncode != 0:  # no repository, no commit yet, or not in HEAD
        return None
    committed = proc.stdout
    old = committed.decode("utf-8", "replace").splitlines()
    new = text.splitlines()
    out: set[int] = set()
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            out.update(range(j1 + 1, j2 + 1))
    return out
