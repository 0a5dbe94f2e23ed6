"""What to review: the review modes (staged, base, push, all, paths) turned into a Job.

- ``--staged`` (the default without paths, and under pre-commit): files whose index version
  differs from HEAD, reviewed *as staged*; changed lines come from ``git diff --cached``.
- ``--base REF``: files changed since the merge base with REF, the working tree compared.
- pre-push under pre-commit (``PRE_COMMIT_FROM_REF``/``PRE_COMMIT_TO_REF``): the pushed
  range, reviewed as it is in the pushed commit.
- ``--all``: every file of the tree (git's view when in a repository, else a walk).
- ``PATHS``: those files (folders expanded), reviewed whole; with a diff mode they narrow it,
  and a named file outside the diff is reviewed whole (as with ``pre-commit run --all-files``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reviewer import diff
from reviewer.engine import Job
from reviewer.errors import ReviewerError
from reviewer.fileio import show_path

__all__ = ["Mode", "build_job", "expand", "find_root", "relative_paths", "show_path"]


@dataclass(frozen=True)
class Mode:
    """The mode options of ``check`` and ``fix``."""

    staged: bool = False
    base: str | None = None
    all_files: bool = False
    paths: tuple[Path, ...] = ()


def find_root(start: Path) -> tuple[Path, bool]:
    """The repository root (git top level) and whether it is a git repository."""
    root = diff.repo_root(start)
    if root is not None:
        return root.resolve(), True
    return start.resolve(), False


def relative_paths(root: Path, paths: Sequence[Path]) -> list[str]:
    """Paths as POSIX paths relative to ``root``; an error for missing or outside ones."""
    out = []
    for p in paths:
        if not p.exists() and not p.is_symlink():
            raise ReviewerError(f"path does not exist: {show_path(str(p))}")
        out.append(_relative(root, p))
    return out


def _relative(root: Path, p: Path) -> str:
    absolute = Path(os.path.abspath(p))
    # Try the path as written, then with its folder's symlinks resolved (the file itself may
    # be a link, which is judged later, when it is read); resolving costs a system call per
    # folder of the path, so only when the first try fails.
    try:
        return absolute.relative_to(root).as_posix() or "."
    except ValueError:
        pass
    try:
        return (absolute.parent.resolve() / absolute.name).relative_to(root).as_posix() or "."
    except ValueError:
        pass
    raise ReviewerError(f"path is outside the repository {root}: {show_path(str(p))}")


def expand(root: Path, rels: Sequence[str], is_git: bool) -> list[str]:
    """Files for ``rels``: files stay, folders become the files below them."""
    files: list[str] = []
    dirs: list[str] = []
    for rel in rels:
        path = root / rel
        (dirs if path.is_dir() and not path.is_symlink() else files).append(rel)
    if dirs:
        files.extend(diff.tracked_files(root, dirs) if is_git else diff.walk_files(root, dirs))
    return sorted(set(files))


def build_job(
    root: Path, is_git: bool, mode: Mode, env: Mapping[str, str] | None = None
) -> tuple[Job, str | None]:
    """Choose what to review. Returns the Job and a note for the user (or None).

    ``env``: the environment (``PRE_COMMIT``, ``PRE_COMMIT_FROM_REF``/``_TO_REF``).
    """
    env = os.environ if env is None else env
    if sum(bool(x) for x in (mode.staged, mode.base, mode.all_files)) > 1:
        raise ReviewerError("choose one of --staged, --base REF and --all")
    if mode.all_files and mode.paths:
        raise ReviewerError("--all reviews the whole tree; do not also give paths")
    rels = relative_paths(root, mode.paths)
    kind = "all" if mode.all_files else _diff_kind(mode, bool(rels), env)
    if kind in ("all", "paths"):
        return Job(root, expand(root, rels or ["."], is_git)), None
    if not is_git:
        flag = {"base": "--base", "push": "a pre-push review"}.get(kind, "--staged")
        raise ReviewerError(f"{flag} needs a git repository (none found at {root})")
    files, changes, contents, what = _changed(root, kind, mode.base or "", env)
    if rels:
        files, changes = _narrow(root, rels, is_git, files, changes)
    note = None if files else f"nothing {what} to review (use --all for the whole tree)"
    return Job(root, files, changes=changes, contents=contents), note


def _diff_kind(mode: Mode, has_paths: bool, env: Mapping[str, str]) -> str:
    """"staged", "base", "push" (pre-commit's pre-push stage) or "paths" (no diff)."""
    if mode.base:
        return "base"
    if mode.staged:
        return "staged"
    in_pre_commit = env.get("PRE_COMMIT") == "1"
    if in_pre_commit and env.get("PRE_COMMIT_FROM_REF"):
        return "push"
    # The default; pre-commit passes the staged files as arguments.
    return "staged" if in_pre_commit or not has_paths else "paths"


def _changed(
    root: Path, kind: str, base: str, env: Mapping[str, str]
) -> tuple[list[str], diff.Changes, dict[str, bytes], str]:
    """Files, changed lines, contents to review instead of the disk, and a description."""
    if kind == "push":
        from_ref, to_ref = env["PRE_COMMIT_FROM_REF"], env.get("PRE_COMMIT_TO_REF") or None
        files, changes, contents = _pushed(root, from_ref, to_ref)
        return files, changes, contents, f"in the pushed range {from_ref}..{to_ref or 'HEAD'}"
    if kind == "base":
        files, changes = diff.base_changes(root, base)
        return files, changes, {}, f"changed since the merge base with {base}"
    files, changes, unstaged = diff.staged_review(root)
    # Review what is staged, not what is on disk, when the two differ.
    return files, changes, diff.blobs(root, unstaged), "staged"


def _pushed(
    root: Path, from_ref: str, to_ref: str | None
) -> tuple[list[str], diff.Changes, dict[str, bytes]]:
    """A push: the range's changes, and the files as they are in the pushed commit."""
    if not to_ref:
        return (*diff.base_changes(root, from_ref), {})
    files, changes, to_sha = diff.range_changes(root, from_ref, to_ref)
    return files, changes, diff.blobs(root, files, to_sha)


def _narrow(
    root: Path, rels: list[str], is_git: bool, files: list[str], changes: diff.Changes
) -> tuple[list[str], diff.Changes]:
    """Keep the changed files under ``rels``; named files outside the diff count whole."""
    wanted = set(expand(root, rels, is_git))
    kept = [f for f in files if f in wanted]
    named = {r for r in rels if not ((root / r).is_dir() and not (root / r).is_symlink())}
    out = {f: changes[f] for f in kept}
    for rel in sorted(named - set(kept)):
        kept.append(rel)
        out[rel] = None
    return kept, out
