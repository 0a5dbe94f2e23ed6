"""Install the plain git hooks (reviewer/hooks/, shipped as package data) into a repository.

The hooks go where git looks for them (``git rev-parse --git-path hooks``, which honours
``core.hooksPath``). A hook that is already there and is not ours is kept: renamed to
``<name>.local``, which our script runs first; uninstalling puts it back. Installing twice
changes nothing but the script itself (an update).
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from reviewer import diff
from reviewer.errors import ReviewerError

HOOK_TYPES = ("pre-commit", "pre-push")
MARKER = "# reviewer-hook: "
LOCAL_SUFFIX = ".local"
_PYTHON_LINE = "INSTALL_PYTHON=''"


@dataclass(frozen=True)
class Outcome:
    """What happened to one hook, as a line for the user."""

    hook: Path
    message: str


def hooks_dir(root: Path) -> Path:
    """The folder git runs hooks from (core.hooksPath when set), created if missing."""
    proc = diff.git(root, "rev-parse", "--git-path", "hooks", check=False)
    raw = proc.stdout.decode("utf-8", "surrogateescape").strip()
    if proc.returncode != 0 or not raw:
        raise ReviewerError(f"not a git repository: {root}")
    folder = Path(raw).expanduser()
    folder = folder if folder.is_absolute() else root / folder
    if folder.exists() and not folder.is_dir():
        raise ReviewerError(f"the hooks folder {folder} is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReviewerError(f"cannot create the hooks folder {folder}: {exc.strerror}") from None
    return folder


def script(hook_type: str, python: str | None = None) -> str:
    """Our hook script, set to run reviewer with ``python`` (or from PATH when None)."""
    text = (resources.files("reviewer") / "hooks" / hook_type).read_text(encoding="utf-8")
    if python is not None:
        text = text.replace(_PYTHON_LINE, f"INSTALL_PYTHON={shlex.quote(python)}", 1)
    return text


def is_ours(path: Path) -> bool:
    """Whether ``path`` is a hook script written by reviewer."""
    if not path.is_file():
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except OSError:
        return False
    return MARKER.encode() in head


def install(root: Path, hook_types: tuple[str, ...] = HOOK_TYPES,
            python: str | None = None) -> list[Outcome]:
    """Install (or update) our hooks; keep any other hook as ``<name>.local``."""
    folder = hooks_dir(root)
    python = python if python is not None else sys.executable
    return [_install_one(folder, name, script(name, python)) for name in hook_types]


def _install_one(folder: Path, name: str, text: str) -> Outcome:
    hook = folder / name
    local = folder / (name + LOCAL_SUFFIX)
    kept = ""
    if (hook.exists() or hook.is_symlink()) and not is_ours(hook):
        if local.exists() or local.is_symlink():
            raise ReviewerError(
                f"{hook} is not reviewer's and {local.name} exists too: move one of them away"
            )
        _move(hook, local)
        kept = f" (the existing hook is kept as {local.name} and runs first)"
    elif is_ours(hook) and hook.read_text(encoding="utf-8", errors="replace") == text:
        return Outcome(hook, f"{hook}: already installed")
    _write_executable(hook, text)
    return Outcome(hook, f"{hook}: installed{kept}")


def uninstall(root: Path, hook_types: tuple[str, ...] = HOOK_TYPES) -> list[Outcome]:
    """Remove our hooks and put back the ones they replaced."""
    folder = hooks_dir(root)
    return [_uninstall_one(folder, name) for name in hook_types]


def _uninstall_one(folder: Path, name: str) -> Outcome:
    hook = folder / name
    local = folder / (name + LOCAL_SUFFIX)
    if (hook.exists() or hook.is_symlink()) and not is_ours(hook):
        return Outcome(hook, f"{hook}: not reviewer's, left alone")
    if not hook.exists():
        return Outcome(hook, f"{hook}: not installed")
    if local.exists() or local.is_symlink():
        _move(local, hook)  # replaces ours in one step
        return Outcome(hook, f"{hook}: removed, {local.name} restored")
    try:
        hook.unlink()
    except OSError as exc:
        raise ReviewerError(f"cannot remove {hook}: {exc.strerror}") from None
    return Outcome(hook, f"{hook}: removed")


def _move(src: Path, dst: Path) -> None:
    try:
        os.replace(src, dst)
    except OSError as exc:
        raise ReviewerError(f"cannot move {src} to {dst}: {exc.strerror}") from None


def _write_executable(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.reviewer-tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        mode = stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
        tmp.chmod(mode)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ReviewerError(f"cannot write {path}: {exc.strerror}") from None
