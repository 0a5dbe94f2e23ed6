"""A copy of this checkout as a fresh clone would have it (tracked plus untracked, not ignored).

Used where a real client installs the project from a folder (pre-commit, the action's pip
install), so files that exist only on this machine, or are ignored, cannot stand in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GIT_ID = ["-c", "user.name=Snapshot", "-c", "user.email=snapshot@example.com",
          "-c", "commit.gpgsign=false"]


def fresh_clone_files() -> list[str]:
    """The files of this checkout a fresh clone would have once it is committed."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return sorted(f for f in out.split("\0") if f and os.path.lexists(ROOT / f)
                  and not (ROOT / f).is_dir())


def copy_tree(dest: Path) -> Path:
    """Copy those files (symbolic links as links) below ``dest``."""
    for rel in fresh_clone_files():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel, follow_symlinks=False)
    return dest


def committed_copy(dest: Path) -> str:
    """``copy_tree`` into a new git repository at ``dest``, committed; the commit's SHA."""
    copy_tree(dest)
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 [*GIT_ID, "commit", "-q", "-m", "snapshot"]):
        subprocess.run(["git", *args], cwd=dest, check=True, env=env, capture_output=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=dest, check=True,
                          capture_output=True, text=True, env=env).stdout.strip()
