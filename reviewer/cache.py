"""Per-file results cached by content hash, one file per settings key.

The content hash is the truth: a file whose bytes hash to the recorded digest gets the
recorded outcome. A stat shortcut, ``(st_mtime_ns, st_size)`` recorded when the file was
read, lets an unchanged file skip even the read and the hash (black and ruff do the same);
any change of time or size falls back to reading and hashing.

Outcomes are stored as pickled bytes, decoded only for the files a review needs: a
pre-commit run on a few files does not pay for the results of the whole tree.

The cache lives under ``.reviewer/cache/`` (configurable). It is written atomically
(temporary file + rename), so an interrupted run never leaves a corrupt cache; a cache that
cannot be read is ignored and rebuilt.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from reviewer.fileio import replace_bytes

# Bumped when the layout of a cache file changes (it is also part of the settings key).
FORMAT = 4

Stamp = tuple[int, int]  # (st_mtime_ns, st_size) of the file when it was read
Entry = tuple[str, Stamp | None, bytes]  # (content digest, stamp, pickled outcome)


def stamp_of(st: os.stat_result) -> Stamp:
    """The stat shortcut's identity of a file."""
    return (st.st_mtime_ns, st.st_size)


class Cache:
    """path -> (content digest, stat stamp, pickled outcome) for one settings key."""

    def __init__(self, path: Path, entries: dict[str, Entry]) -> None:
        self.path = path
        self.entries = entries
        self.dirty = False

    @classmethod
    def load(cls, directory: Path, key: str) -> Cache:
        """Open the cache for ``key`` (empty when missing or unreadable)."""
        path = directory / f"results-{key}.pickle"
        entries: dict[str, Entry] = {}
        try:
            with path.open("rb") as fh:
                loaded = pickle.load(fh)
            if (
                isinstance(loaded, dict)
                and loaded.get("format") == FORMAT
                and isinstance(loaded.get("entries"), dict)
            ):
                entries = loaded["entries"]
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
                IndexError, TypeError, ValueError, MemoryError):
            entries = {}
        return cls(path, entries)

    def by_stamp(self, rel: str, stamp: Stamp) -> bytes | None:
        """The stored outcome when the file's time and size are those recorded."""
        hit = self.entries.get(rel)
        if hit is not None and hit[1] == stamp:
            return hit[2]
        return None

    def digest(self, rel: str) -> str | None:
        """The content digest recorded for ``rel`` (None: nothing recorded)."""
        hit = self.entries.get(rel)
        return hit[0] if hit is not None else None

    def get(self, rel: str, digest: str, stamp: Stamp | None = None) -> bytes | None:
        """The stored outcome of a file whose content hash is ``digest``.

        A hit with a new ``stamp`` (the file was touched, not changed) records the stamp,
        so the next run can take the shortcut.
        """
        hit = self.entries.get(rel)
        if hit is None or hit[0] != digest:
            return None
        if stamp is not None and hit[1] != stamp:
            self.entries[rel] = (digest, stamp, hit[2])
            self.dirty = True
        return hit[2]

    def put(self, rel: str, digest: str, stamp: Stamp | None, blob: bytes) -> None:
        """Record the outcome (pickled) of a file just reviewed."""
        self.entries[rel] = (digest, stamp, blob)
        self.dirty = True

    def save(self) -> None:
        """Write atomically if anything changed."""
        if not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.parent.parent.name == ".reviewer":
            from reviewer.fileio import ensure_git_ignored

            ensure_git_ignored(self.path.parent.parent, ["cache/"])
        replace_bytes(self.path, pickle.dumps({"format": FORMAT, "entries": self.entries},
                                              protocol=pickle.HIGHEST_PROTOCOL))
        self.dirty = False
