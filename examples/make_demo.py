"""Create the demo repository: ``python examples/make_demo.py DEST``.

DEST becomes a fresh git repository holding the small ``inventory`` project from
examples/base/ as its first commit, with the change in examples/change/ staged on top,
ready for ``reviewer check --staged``. Running it again recreates DEST from scratch; a DEST
that exists but was not made by this script is left alone (exit code 2).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = HERE / "base"
CHANGE = HERE / "change"
MARKER = "reviewer-demo"  # a file inside DEST/.git that marks a repository made here
GIT_IDENTITY = ("-c", "user.name=Demo Developer", "-c", "user.email=demo@example.com")


class DemoError(Exception):
    """A problem the user can fix; printed as one line."""


def git(dest: Path, *args: str) -> None:
    """Run git in DEST, quietly; a failure becomes a DemoError."""
    proc = subprocess.run(
        ["git", *GIT_IDENTITY, "-c", "commit.gpgsign=false", *args],
        cwd=dest, capture_output=True, text=True,
    )
    if proc.returncode != 0:
        message = (proc.stderr or proc.stdout).strip().splitlines()
        raise DemoError(f"git {args[0]} failed: {message[-1] if message else proc.returncode}")


def copy_tree(source: Path, dest: Path) -> list[str]:
    """Copy every file under ``source`` into ``dest``; return their relative paths."""
    copied = []
    for path in sorted(source.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(source)
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest / rel)
        copied.append(rel.as_posix())
    return copied


def clear(dest: Path) -> None:
    """Remove a previous demo repository at ``dest``; refuse to touch anything else."""
    if not dest.exists() and not dest.is_symlink():
        return
    if not (dest / ".git" / MARKER).is_file():
        raise DemoError(f"{dest} exists and is not a demo repository; choose another folder")
    shutil.rmtree(dest)


def make_demo(dest: Path) -> list[str]:
    """Build the demo repository at ``dest``; return the staged files."""
    clear(dest)
    dest.mkdir(parents=True)
    git(dest, "init", "-q", "-b", "main")
    (dest / ".git" / MARKER).write_text("made by examples/make_demo.py\n", encoding="utf-8")
    copy_tree(BASE, dest)
    git(dest, "add", "--all")
    git(dest, "commit", "-q", "--no-verify", "-m", "inventory 0.3.0")
    staged = copy_tree(CHANGE, dest)
    git(dest, "add", "--", *staged)
    return staged


def main(argv: list[str]) -> int:
    """Command line entry point."""
    if len(argv) != 1:
        sys.stderr.write("usage: python examples/make_demo.py DEST\n")
        return 2
    dest = Path(argv[0])
    try:
        staged = make_demo(dest)
    except (DemoError, OSError) as exc:
        sys.stderr.write(f"make_demo: error: {exc}\n")
        return 2
    sys.stdout.write(f"demo repository at {dest}: staged {', '.join(staged)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
