"""Model answers stored in SQLite, so re-running the same review makes zero model calls.

The key is a hash of the model identity, the generation settings, the prompt template (id and
file hash) and everything the prompt is built from (the finding, the code, earlier passes of
the validation loop). A cache that cannot be opened or written is silently skipped: it only
ever saves time.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    meta TEXT NOT NULL,
    created REAL NOT NULL
)
"""
FILE_NAME = "llm-answers.sqlite3"


def cache_key(*parts: Any) -> str:
    """A stable hash of JSON-able parts."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


class AnswerCache:
    """key -> (answer text, metadata). Use as a context manager or call :meth:`close`."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self.hits = 0
        self.misses = 0
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(str(path), timeout=5.0)
                self._db.execute(SCHEMA)
                self._db.commit()
            except (sqlite3.Error, OSError):
                self._db = None

    @classmethod
    def in_dir(cls, directory: Path) -> AnswerCache:
        return cls(directory / FILE_NAME)

    def get(self, key: str) -> tuple[str, dict[str, Any]] | None:
        if self._db is None:
            return None
        try:
            row = self._db.execute(
                "SELECT text, meta FROM answers WHERE key = ?", (key,)
            ).fetchone()
        except sqlite3.Error:
            return None
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        try:
            meta = json.loads(row[1])
        except ValueError:
            meta = {}
        return str(row[0]), meta if isinstance(meta, dict) else {}

    def put(self, key: str, text: str, meta: dict[str, Any] | None = None) -> None:
        if self._db is None:
            return
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO answers (key, text, meta, created) VALUES (?, ?, ?, ?)",
                (key, text, json.dumps(meta or {}), time.time()),
            )
            self._db.commit()
        except sqlite3.Error:
            pass

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> AnswerCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
