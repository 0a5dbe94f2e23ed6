"""What the embedded index holds, recorded beside it, so that a run with nothing to do
never opens ChromaDB and unchanged files are not read again.

``.reviewer/index/state.json`` mirrors the index's manifest (each indexed file's content
hash) with each file's size and modification time when it was hashed, the files that are
not indexed (binary, too large...) with the reason, the index's build record (chunker and
model) and its chunk count. A file whose size and modification time match its entry has
the recorded hash without being read; one modified in the last seconds before the record
was written is read again next time (its timestamp cannot tell a later edit apart).

The record is trusted only as written by the last complete update: every update of an
embedded index deletes it before its first write to ChromaDB and writes it again at the
end, so an interrupted run leaves none and the next run reads the manifest from ChromaDB.
An index on a Chroma server has no record (other clones write to it).
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATE_NAME = "state.json"
STATE_VERSION = 1
# A file modified less than this before its hash was recorded is read again next time.
RACY_NS = 2_000_000_000


@dataclass(frozen=True)
class FileState:
    """One file as last seen: its content hash ("" when skipped) or why it is skipped."""

    digest: str
    size: int
    mtime_ns: int
    skipped: str = ""


@dataclass
class IndexState:
    """The record of an embedded index (see the module docstring)."""

    key: dict[str, Any]  # what the record is valid for: store, build record, size limit
    chunks: int = 0
    files: dict[str, FileState] = field(default_factory=dict)

    def manifest(self) -> dict[str, str]:
        """path -> content hash of the indexed files."""
        return {rel: f.digest for rel, f in self.files.items() if not f.skipped}

    def lookup(self, rel: str, st: os.stat_result) -> FileState | None:
        """The recorded entry of ``rel`` when ``st`` shows it unchanged, else None."""
        entry = self.files.get(rel)
        if entry is None or entry.mtime_ns < 0:
            return None
        if entry.size != st.st_size or entry.mtime_ns != st.st_mtime_ns:
            return None
        return entry


def state_path(index_dir: Path) -> Path:
    """Where the record of the index under ``index_dir`` lives."""
    return index_dir / STATE_NAME


def load_state(index_dir: Path, key: Mapping[str, Any]) -> IndexState | None:
    """The record, when there is one for exactly ``key`` (else None)."""
    try:
        data = json.loads(state_path(index_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION \
            or data.get("key") != dict(key):
        return None
    try:
        files = {rel: FileState(str(v[0]), int(v[1]), int(v[2]), str(v[3]))
                 for rel, v in data["files"].items()}
        return IndexState(dict(key), int(data["chunks"]), files)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return None


def drop_state(index_dir: Path) -> None:
    """Forget the record (before the index is written; an OSError goes to the caller: the
    index must not be written while a record that would vouch for it stays)."""
    state_path(index_dir).unlink(missing_ok=True)


def save_state(index_dir: Path, state: IndexState, scanned_ns: int) -> None:
    """Write the record; entries modified within RACY_NS of ``scanned_ns`` (when the
    files were looked at) keep their hash but will be read again."""
    from reviewer.fileio import atomic_write_text

    racy = scanned_ns - RACY_NS
    files = {rel: [f.digest, f.size, f.mtime_ns if f.mtime_ns < racy else -1, f.skipped]
             for rel, f in sorted(state.files.items())}
    data = {"version": STATE_VERSION, "key": state.key, "chunks": state.chunks,
            "files": files}
    with suppress(OSError):  # the record only saves time; the index itself is complete
        atomic_write_text(state_path(index_dir), json.dumps(data, separators=(",", ":")))


def file_stat(path: str) -> os.stat_result | None:
    """``lstat`` of a regular file (None for links, folders, missing files)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def now_ns() -> int:
    """The wall clock, comparable with file modification times."""
    return time.time_ns()
