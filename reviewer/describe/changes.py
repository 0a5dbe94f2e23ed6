"""The change to describe, read from git: which files, their status, size and both versions.

``--staged``: the index against HEAD. ``--base REF``: the working tree against the merge base
with REF; in a shallow clone without that merge base, against REF itself (a warning says
so). Git runs with :func:`reviewer.diff.git`'s stable settings; names are NUL-separated.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from reviewer import diff
from reviewer.errors import ReviewerError

_OPTS = ("--no-color", "--no-ext-diff", "--no-textconv", "--ignore-submodules=all",
         "--src-prefix=a/", "--dst-prefix=b/", "-M")
STATUS = {"A": "added", "M": "changed", "D": "removed", "R": "renamed", "C": "copied",
          "T": "type-changed"}
# Larger versions are compared by size only (no symbols).
MAX_READ = 2 * 1024 * 1024


@dataclass(frozen=True)
class FileDiff:
    """One changed file: status, paths, lines added/deleted (None for binary files)."""

    path: str
    status: str
    old_path: str | None = None
    added: int | None = 0
    deleted: int | None = 0

    @property
    def binary(self) -> bool:
        return self.added is None


@dataclass
class Change:
    """What is compared: ``old`` (a commit, None: the empty tree) against ``new``
    ("index", "worktree")."""

    root: Path
    old: str | None
    new: str
    label: str  # for the user: "staged", "since the merge base with main"
    pathspec: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)

    def _args(self) -> list[str]:
        against = self.old or diff.EMPTY_TREE
        args = ["--cached", against] if self.new == "index" else [against]
        return [*args, "--", *self.pathspec] if self.pathspec else args

    def files(self) -> list[FileDiff]:
        """The changed files, in git's order, with their line counts."""
        status = diff.git(self.root, "diff", "--name-status", "-z", *_OPTS, *self._args())
        counts = _numstat(diff.git(self.root, "diff", "--numstat", "-z", *_OPTS,
                                   *self._args()).stdout)
        out = []
        parts = status.stdout.split(b"\0")
        i = 0
        while i < len(parts) and parts[i]:
            code = parts[i].decode()[:1]
            if code in ("R", "C"):
                old, new = os.fsdecode(parts[i + 1]), os.fsdecode(parts[i + 2])
                i += 3
            else:
                old, new = None, os.fsdecode(parts[i + 1])
                i += 2
            added, deleted = counts.get(new, (0, 0))
            out.append(FileDiff(new, STATUS.get(code, "changed"), old, added, deleted))
        return out

    def hunks(self) -> dict[str, tuple[set[int], set[int]]]:
        """new path -> (old lines, new lines) the diff touches (a pure insertion touches
        the lines around it on the old side, a pure deletion those on the new side)."""
        out = diff.git(self.root, "diff", "-U0", *_OPTS, *self._args()).stdout
        touched: dict[str, tuple[set[int], set[int]]] = {}
        current: tuple[set[int], set[int]] | None = None
        remaining = 0
        for line in out.split(b"\n"):
            if remaining:
                if not line.startswith(b"\\"):
                    remaining -= 1
                continue
            if line.startswith(b"+++ "):
                target = diff._target_path(line)  # git's quoting undone
                current = touched.setdefault(target, (set(), set())) if target else None
            elif line.startswith(b"@@ ") and current is not None:
                m = _HUNK.match(line)
                if m is None:
                    continue
                a, c = int(m.group(1)), int(m.group(3))
                b = int(m.group(2)) if m.group(2) is not None else 1
                d = int(m.group(4)) if m.group(4) is not None else 1
                remaining = b + d
                current[0].update(range(a, a + b) if b else (a, a + 1))
                current[1].update(range(c, c + d) if d else (c, c + 1))
        return touched

    def digest(self) -> str:
        """A hash of the whole diff (the model cache's key: same diff, same answer)."""
        patch = diff.git(self.root, "diff", "--binary", "--full-index", *_OPTS, *self._args())
        return hashlib.sha256(patch.stdout).hexdigest()

    def old_blobs(self, paths: list[str]) -> dict[str, bytes]:
        """The old versions of ``paths`` (those that exist there)."""
        if self.old is None:
            return {}
        return diff.blobs(self.root, paths, self.old)

    def new_blobs(self, paths: list[str]) -> dict[str, bytes]:
        """The new versions of ``paths``: from the index, or from the working tree."""
        if self.new == "index":
            return diff.blobs(self.root, paths)
        out = {}
        for rel in paths:
            p = self.root / rel
            try:
                if p.is_symlink() or p.stat().st_size > MAX_READ:
                    continue
                out[rel] = p.read_bytes()
            except OSError:
                continue
        return out


_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _numstat(out: bytes) -> dict[str, tuple[int | None, int | None]]:
    """new path -> (added, deleted); (None, None) for a binary file."""
    counts: dict[str, tuple[int | None, int | None]] = {}
    parts = out.split(b"\0")
    i = 0
    while i < len(parts) and parts[i]:
        fields = parts[i].split(b"\t")
        a, d = fields[0], fields[1]
        if len(fields) > 2 and fields[2]:
            path = os.fsdecode(fields[2])
            i += 1
        else:  # a rename: "a\td\t" then the old and the new name
            path = os.fsdecode(parts[i + 2])
            i += 3
        counts[path] = (None, None) if a == b"-" else (int(a), int(d))
    return counts


def staged(root: Path, pathspec: tuple[str, ...] = ()) -> Change:
    """The staged change (the index against HEAD, or against nothing before a first commit)."""
    old = "HEAD" if diff.has_head(root) else None
    return Change(root, _sha(root, old) if old else None, "index", "staged", pathspec)


def since(root: Path, ref: str, pathspec: tuple[str, ...] = ()) -> Change:
    """The working tree against the merge base with ``ref``."""
    if not diff.has_head(root):
        raise ReviewerError("--base needs at least one commit (this repository has none)")
    try:
        base = diff.merge_base(root, ref)
    except ReviewerError as exc:
        if "shallow" not in str(exc):
            raise
        # The base commit is there but the history between is not: compare with it directly.
        sha = _sha(root, ref)
        change = Change(root, sha, "worktree", f"against {ref} (shallow clone)", pathspec)
        change.warnings.append(
            f"no merge base with {ref!r} in this shallow clone: comparing with {ref} itself, "
            "so its own later changes show as reverted (fetch more history for the exact "
            "change)")
        return change
    return Change(root, base, "worktree", f"since the merge base with {ref}", pathspec)


def _sha(root: Path, ref: str) -> str:
    out = diff.git(root, "rev-parse", "--verify", "-q", "--end-of-options",
                   f"{ref}^{{commit}}", check=False)
    if out.returncode != 0:
        raise ReviewerError(f"base ref {ref!r} not found")
    return out.stdout.decode().strip()
