"""The webhook receiver's durable review queue: SQLite in WAL mode.

An acknowledged delivery is committed (``synchronous=FULL``) before the receiver answers
2xx, so a crash or a restart loses no review. One row per pull request holds the newest
waiting event (``pending``) and the one under review (``running``); a review claims the
newest pending event only when it gets a worker slot, so a burst of pushes to one PR is
reviewed at its newest head, one review at a time per PR. On start, a review that was
running when the process died goes back to pending (unless a newer event waits), and
every pending PR is scheduled again. Finished reviews are logged in ``reviewed``.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from reviewer.github.webhook import PullEvent

SCHEMA = """
CREATE TABLE IF NOT EXISTS prs (
    repo TEXT NOT NULL, number INTEGER NOT NULL,
    pending TEXT, running TEXT, received INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (repo, number));
CREATE TABLE IF NOT EXISTS reviewed (
    id INTEGER PRIMARY KEY AUTOINCREMENT, repo TEXT NOT NULL, number INTEGER NOT NULL,
    head_sha TEXT NOT NULL, outcome TEXT NOT NULL, at REAL NOT NULL);
"""


def _dump(event: PullEvent) -> str:
    return json.dumps(asdict(event), sort_keys=True)


def _load(text: str) -> PullEvent:
    data = json.loads(text)
    return PullEvent(str(data["repo"]), int(data["number"]), str(data["action"]),
                     str(data["head_sha"]), str(data["base_sha"]), str(data["base_ref"]))


class DurableQueue:
    """Runs ``review`` for queued events in background threads; state in ``path``."""

    def __init__(self, path: Path, review: Callable[[PullEvent], None], workers: int = 1,
                 log: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.review = review
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                                   timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._slots = threading.Semaphore(max(1, workers))
        self._active: set[tuple[str, int]] = set()  # PRs with a thread (waiting or running)

    def resume(self) -> int:
        """Schedule what a previous process left: returns how many PRs were pending."""
        with self._lock:
            self._db.execute("UPDATE prs SET pending = COALESCE(pending, running),"
                             " running = NULL WHERE running IS NOT NULL")
            rows = self._db.execute(
                "SELECT repo, number FROM prs WHERE pending IS NOT NULL").fetchall()
            for repo, number in rows:
                self._start((str(repo), int(number)))
        return len(rows)

    def submit(self, event: PullEvent) -> str:
        """Queue ``event`` durably (committed on return); what happened, for the answer:
        "started" (no review of the PR runs or waits), "queued" (it waits for the one
        running), "queued (replacing a waiting review)" (a newer head supersedes one)."""
        key = event.key
        with self._lock:
            row = self._db.execute("SELECT pending FROM prs WHERE repo = ? AND number = ?",
                                   key).fetchone()
            self._db.execute(
                "INSERT INTO prs (repo, number, pending, received) VALUES (?, ?, ?, 1)"
                " ON CONFLICT (repo, number) DO UPDATE SET pending = excluded.pending,"
                " received = received + 1", (*key, _dump(event)))
            replaced = row is not None and row[0] is not None
            if key not in self._active:
                self._start(key)
                return "started"
        return "queued (replacing a waiting review)" if replaced else "queued"

    def _start(self, key: tuple[str, int]) -> None:
        self._active.add(key)
        threading.Thread(target=self._run, args=(key,), daemon=True,
                         name=f"review-{key[0]}#{key[1]}").start()

    def _claim(self, key: tuple[str, int]) -> PullEvent | None:
        """The newest pending event of ``key``, now marked running (None: nothing left)."""
        with self._lock:
            row = self._db.execute("SELECT pending FROM prs WHERE repo = ? AND number = ?",
                                   key).fetchone()
            if row is None or row[0] is None:
                self._db.execute("DELETE FROM prs WHERE repo = ? AND number = ?"
                                 " AND pending IS NULL", key)
                self._active.discard(key)
                self._idle.notify_all()
                return None
            self._db.execute("UPDATE prs SET running = pending, pending = NULL"
                             " WHERE repo = ? AND number = ?", key)
            return _load(str(row[0]))

    def _run(self, key: tuple[str, int]) -> None:
        while True:
            with self._slots:
                event = self._claim(key)
                if event is None:
                    return
                self.log(f"reviewer: serve: reviewing {event.describe()}")
                outcome = "done"
                try:
                    self.review(event)
                # One failed review must not stop the others: logged, and the queue goes on.
                except Exception as exc:  # reviewer: ignore[RV202]
                    outcome = "failed"
                    detail = " ".join(str(exc).split())
                    self.log(f"reviewer: serve: {event.describe()} failed: "
                             f"{type(exc).__name__}: {detail}")
                with self._lock:
                    self._db.execute(
                        "INSERT INTO reviewed (repo, number, head_sha, outcome, at)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (*key, event.head_sha, outcome, time.time()))
                    self._db.execute("UPDATE prs SET running = NULL WHERE repo = ?"
                                     " AND number = ?", key)

    def pending(self) -> int:
        """PRs waiting for or under review."""
        with self._lock:
            row = self._db.execute("SELECT COUNT(*) FROM prs WHERE pending IS NOT NULL"
                                   " OR running IS NOT NULL").fetchone()
        return int(row[0])

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no review runs or waits; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._active, timeout)

    def close(self) -> None:
        with self._lock:
            self._db.close()
