"""Atomic writes for files the tool creates or changes in a user's tree, and paths made
safe to print."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def mkstemp(folder: Path | str, prefix: str, suffix: str) -> tuple[int, str]:
    """A new file of this process only (mode 0600) in ``folder``: ``tempfile.mkstemp``
    without the import of tempfile (and random and shutil) on every ``reviewer check``."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_BINARY", 0)
    for _ in range(100):
        name = os.path.join(folder, f"{prefix}{os.getpid()}-{os.urandom(6).hex()}{suffix}")
        try:
            return os.open(name, flags, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


def atomic_write_text(
    path: Path, text: str, encoding: str = "utf-8", errors: str = "strict"
) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename.

    The file is either fully old or fully new, never half-written; its permission bits are
    kept when it already exists.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = 0o666 & ~_umask()  # a new file gets the usual permissions, not mkstemp's 0600
    with contextlib.suppress(FileNotFoundError):
        mode = path.stat().st_mode & 0o7777
    fd, tmp = mkstemp(path.parent, f".{path.name}.", ".tmp")
    try:
        with os.fdopen(fd, "w", encoding=encoding, errors=errors, newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_bytes(path: Path, data: bytes, mode: int | None = None) -> None:
    """Put ``data`` at ``path`` through a temporary file in the same folder and a rename,
    for the tool's own caches: readers see the old file or the new one, never a part
    (no fsync: a cache lost to a power cut is only rebuilt). The file is private to the
    user (mkstemp's 0600) unless ``mode`` is given. Raises OSError."""
    fd, tmp = mkstemp(path.parent, f".{path.name}.", ".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def show_path(path: str) -> str:
    """A path safe to print on one line: as is when printable, else quoted with escapes
    (``"new\\nline.py"``), the way git shows such names."""
    if path.isprintable():
        return path
    return '"' + path.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


def ensure_git_ignored(folder: Path, names: list[str]) -> None:
    """Add ``names`` to ``folder/.gitignore`` (created when missing); never raises."""
    ignore = folder / ".gitignore"
    try:
        present = ignore.read_text().splitlines() if ignore.exists() else [
            "# created by reviewer"]
        missing = [n for n in names if n not in present]
        if missing:
            ignore.write_text("\n".join(present + missing) + "\n")
    except OSError:
        pass  # a read-only checkout: nothing to protect
