"""Per-file results cached by content hash, one file per settings key.

The cache lives under ``.reviewer/cache/`` (configurable). It is written atomically
(temporary file + rename), so an interrupted run never leaves a corrupt cache; a cache that
cannot be read is ignored and rebuilt.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewer.engine import FileOutcome


class Cache:
    """path -> (content hash, outcome) for one settings key."""

    def __init__(self, path: Path, entries: dict[str, tuple[str, FileOutcome]]) -> None:
        self.path = path
        self.entries = entries
        self.dirty = False

    @classmethod
    def load(cls, directory: Path, key: str) -> Cache:
        """Open the cache for ``key`` (empty when missing or unreadable)."""
        path = directory / f"results-{key}.pickle"
        entries: dict[str, tuple[str, FileOutcome]] = {}
        try:
            with path.open("rb") as fh:
                loaded = pickle.load(fh)
            if isinstance(loaded, dict):
                entries = loaded
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
                TypeError, ValueError):
            entries = {}
        return cls(path, entries)

    def get(self, rel: str, digest: str) -> FileOutcome | None:
        """The cached outcome for a file whose content hash is ``digest``."""
        hit = self.entries.get(rel)
        if hit is not None and hit[0] == digest:
            return hit[1]
        return None

    def put(self, rel: str, digest: str, outcome: FileOutcome) -> None:
        self.entries[rel] = (digest, outcome)
        self.dirty = True

    def save(self) -> None:
        """Write atomically if anything changed."""
        if not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        gitignore = self.path.parent.parent / ".gitignore"
        if self.path.parent.parent.name == ".reviewer" and not gitignore.exists():
            gitignore.write_text("# created by reviewer\ncache/\n")
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".pickle")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(self.entries, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.dirty = False
