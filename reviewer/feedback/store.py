"""The verdicts database: the findings a run reported and what the team said about them.

One SQLite file (``feedback-db``, default ``.reviewer/feedback.db``, git-ignored) with three
tables:

- ``findings``: the last known snapshot of each reported finding, keyed by its fingerprint
  (rule, path, line, symbol, message, the flagged code, the enclosing function, the model's
  explanation and validated fix as a unified diff). ``check`` upserts what it reports.
- ``verdicts``: one row per verdict (accept / dismiss), with a reason, an author, where it
  came from (cli, review, github, import) and when, plus optional corrections (a better
  explanation or fix written by a person). Verdicts are never updated in place; the latest
  verdict of an author on a fingerprint is the one that counts.
- ``vectors``: embeddings of the flagged code per embedding model (learned suppressions).

Verdicts export to JSONL (one self-contained record per verdict, finding snapshot included)
and import back idempotently, so a team merges its members' files by importing each.
The database uses WAL and a busy timeout, so a ``check`` and a ``review`` at the same time
do not fail on each other.
"""

from __future__ import annotations

import json
import os
import sqlite3
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from operator import attrgetter
from pathlib import Path
from typing import IO, Any

from reviewer.errors import ReviewerError

SCHEMA_VERSION = 2  # 2: findings.function_start/function_end (lazy function text)
VERDICTS = ("accept", "dismiss")
SOURCES = ("cli", "review", "github", "import")
MIN_PREFIX = 4

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS findings (
    fingerprint TEXT PRIMARY KEY,
    rule_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    message TEXT NOT NULL,
    path TEXT NOT NULL,
    line INTEGER NOT NULL,
    symbol TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL,
    code TEXT NOT NULL DEFAULT '',
    function TEXT NOT NULL DEFAULT '',
    explanation TEXT NOT NULL DEFAULT '',
    fix_diff TEXT NOT NULL DEFAULT '',
    seen_at TEXT NOT NULL,
    function_start INTEGER NOT NULL DEFAULT 0,
    function_end INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS findings_rule ON findings(rule_id);
CREATE TABLE IF NOT EXISTS verdicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('accept', 'dismiss')),
    reason TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'cli',
    created_at TEXT NOT NULL,
    corrected_explanation TEXT NOT NULL DEFAULT '',
    corrected_fix TEXT NOT NULL DEFAULT '',
    UNIQUE (fingerprint, verdict, author, created_at)
);
CREATE INDEX IF NOT EXISTS verdicts_fp ON verdicts(fingerprint);
CREATE TABLE IF NOT EXISTS vectors (
    fingerprint TEXT NOT NULL,
    model TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (fingerprint, model)
);
"""


def now_iso() -> str:
    """The current UTC time as ISO 8601 with seconds (``2026-11-22T05:40:00Z``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_author() -> str:
    """Who is giving a verdict: ``REVIEWER_AUTHOR``, git's user.email, or the login name."""
    env = os.environ.get("REVIEWER_AUTHOR")
    if env:
        return env
    import subprocess

    try:
        out = subprocess.run(["git", "config", "user.email"], capture_output=True, text=True,
                             timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        out = None
    if out is not None and out.returncode == 0 and out.stdout.strip():
        return out.stdout.strip()
    return os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"


@dataclass(frozen=True)
class Recorded:
    """A finding as the store keeps it (enough to show, embed and train on it later)."""

    fingerprint: str
    rule_id: str
    slug: str
    message: str
    path: str
    line: int
    symbol: str = ""
    severity: str = "low"
    code: str = ""  # the flagged lines
    function: str = ""  # the enclosing function (or a window around the lines), trimmed
    explanation: str = ""  # the model's explanation, "" when none
    fix_diff: str = ""  # the validated fix as a unified diff, "" when none
    seen_at: str = ""
    # The lines ``function`` is taken from. ``check`` records only these (``function`` "")
    # and the text is filled in when a verdict is given (:meth:`FeedbackStore.add_verdict`):
    # most findings never get one, and copying every function cost a cold run its time.
    function_start: int = 0
    function_end: int = 0


@dataclass(frozen=True)
class Verdict:
    """What somebody said about a finding."""

    fingerprint: str
    verdict: str  # "accept" | "dismiss"
    reason: str = ""
    author: str = ""
    source: str = "cli"
    created_at: str = ""
    corrected_explanation: str = ""
    corrected_fix: str = ""


@dataclass(frozen=True)
class Judged:
    """A verdict with the finding it is about (None when the finding was never recorded)."""

    verdict: Verdict
    finding: Recorded | None


_RECORDED_FIELDS = [f.name for f in fields(Recorded)]
_recorded_row = attrgetter(*_RECORDED_FIELDS)
_VERDICT_FIELDS = [f.name for f in fields(Verdict)]


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    """Bring a database of an older schema up to :data:`SCHEMA_VERSION` (once, whichever
    process gets there first)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        have = {row[1] for row in conn.execute("PRAGMA table_info(findings)")}
        if version < 2:
            for column in ("function_start", "function_end"):
                if column not in have:
                    conn.execute(f"ALTER TABLE findings ADD COLUMN {column} INTEGER NOT NULL"
                                 " DEFAULT 0")
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def db_path(root: Path, setting: str) -> Path:
    """The database file for the ``feedback-db`` setting (relative to the root)."""
    path = Path(setting).expanduser()
    return path if path.is_absolute() else root / path


class FeedbackStore:
    """The open database. Use as a context manager (``with FeedbackStore.open(p) as s``)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, create: bool = True, wait: float = 30.0) -> FeedbackStore:
        """Open (and create, unless ``create`` is False) the database at ``path``; ``wait``:
        seconds to wait for another process's write lock before giving up.

        Raises ReviewerError with one line when the file cannot be opened or is not a
        verdicts database.
        """
        if not create and not path.is_file():
            raise ReviewerError(f"no verdicts yet ({path} does not exist)")
        try:
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
                _ignore_in_git(path)
            conn = sqlite3.connect(str(path), timeout=wait, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            # WAL with NORMAL sync: a commit is not flushed to disk on its own (a power cut may
            # lose the last run's records, never corrupt the file); `check` records on every run.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.executescript(_SCHEMA)
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None:
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)",
                             (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                conn.close()
                raise ReviewerError(f"{path} was written by a newer reviewer (schema "
                                    f"{row[0]}); upgrade reviewer")
            elif int(row[0]) < SCHEMA_VERSION:
                _migrate(conn, int(row[0]))
        except sqlite3.DatabaseError as exc:
            raise ReviewerError(f"cannot open the verdicts database {path}: {exc}") from None
        except OSError as exc:
            raise ReviewerError(f"cannot create {path}: {exc.strerror or exc}") from None
        return cls(conn, path)

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self.conn.close()

    def _tx(self) -> _Transaction:
        return _Transaction(self.conn)

    def transaction(self) -> _Transaction:
        """One transaction around several calls (``with store.transaction(): ...``): all
        of them are written, or none when the block raises."""
        return _Transaction(self.conn)

    # -- findings ------------------------------------------------------------------------
    def record(self, items: Iterable[Recorded]) -> int:
        """Upsert finding snapshots (a newer snapshot keeps an older explanation/fix when it
        has none of its own). Returns how many were written."""
        return self.record_rows([_recorded_row(r) for r in items])

    def record_rows(self, rows: Sequence[tuple[Any, ...]], no_nulls: bool = False) -> int:
        """:meth:`record` for rows already in ``Recorded``'s field order (what ``check``
        writes for thousands of findings at once: no object per finding). ``no_nulls``:
        the caller guarantees no None among the values (``snapshot_rows``), so they are
        not scanned for one."""
        if not no_nulls:
            rows = [r if None not in r else tuple("" if v is None else v for v in r)
                    for r in rows]
        if not rows:
            return 0
        cols = ", ".join(_RECORDED_FIELDS)
        marks = ", ".join("?" for _ in _RECORDED_FIELDS)
        keep = ("explanation", "fix_diff", "function")  # a verdict's snapshot stays
        updates = ", ".join(
            f"{n} = CASE WHEN excluded.{n} != '' THEN excluded.{n} ELSE findings.{n} END"
            if n in keep else f"{n} = excluded.{n}"
            for n in _RECORDED_FIELDS if n != "fingerprint"
        )
        with self._tx():
            self.conn.executemany(
                f"INSERT INTO findings ({cols}) VALUES ({marks}) "
                f"ON CONFLICT(fingerprint) DO UPDATE SET {updates}", rows)
        return len(rows)

    def fill_function(self, fingerprint: str) -> None:
        """Fill in the function text of a finding recorded with its lines only, from the
        file as it is now under the root ``check`` recorded (meta ``root``); left empty
        when the file is gone or its flagged line is no longer the recorded code."""
        row = self.conn.execute(
            "SELECT path, line, code, function, function_start, function_end FROM findings"
            " WHERE fingerprint = ?", (fingerprint,)).fetchone()
        root = self.meta("root")
        if row is None or row[3] or not row[4] or root is None:
            return
        from reviewer.feedback.sourcetext import function_text

        path, line, code, _, start, end = row
        text = function_text(Path(root), path, line, code, start, end)
        if text:
            self.conn.execute("UPDATE findings SET function = ? WHERE fingerprint = ?",
                              (text, fingerprint))

    def meta(self, key: str) -> str | None:
        """A value of the ``meta`` table (None when unset)."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                          "value = excluded.value", (key, value))

    def recorded_state(self, fingerprints: Iterable[str]) -> dict[str, tuple[Any, ...]]:
        """fingerprint -> (path, line, message, severity, explanation, has a fix diff) of
        those of ``fingerprints`` already recorded (one indexed query per 500)."""
        out: dict[str, tuple[Any, ...]] = {}
        if self.conn.execute("SELECT 1 FROM findings LIMIT 1").fetchone() is None:
            return out  # a new database (a first run): nothing to look up
        wanted = list(dict.fromkeys(fingerprints))
        for i in range(0, len(wanted), 500):
            chunk = wanted[i:i + 500]
            rows = self.conn.execute(
                "SELECT fingerprint, path, line, message, severity, explanation, fix_diff != ''"
                f" FROM findings WHERE fingerprint IN ({', '.join('?' for _ in chunk)})", chunk)
            for fp, *state in rows:
                out[fp] = (*state[:5], bool(state[5]))
        return out

    def finding(self, fingerprint: str) -> Recorded | None:
        """The snapshot of exactly this fingerprint, or None."""
        row = self.conn.execute(
            f"SELECT {', '.join(_RECORDED_FIELDS)} FROM findings WHERE fingerprint = ?",
            (fingerprint,)).fetchone()
        return None if row is None else Recorded(*row)

    def resolve(self, prefix: str) -> Recorded:
        """The finding whose fingerprint starts with ``prefix`` (at least 4 characters).

        Raises ReviewerError (one line) when none or several match.
        """
        prefix = prefix.strip().lower()
        if len(prefix) < MIN_PREFIX or not all(c in "0123456789abcdef" for c in prefix):
            raise ReviewerError(f"{prefix!r} is not a fingerprint (at least {MIN_PREFIX} hex "
                                "digits, as shown by `reviewer check --format json`)")
        rows = self.conn.execute(
            f"SELECT {', '.join(_RECORDED_FIELDS)} FROM findings WHERE fingerprint LIKE ? "
            "ORDER BY fingerprint LIMIT 6", (prefix + "%",)).fetchall()
        if not rows:
            raise ReviewerError(f"no recorded finding has fingerprint {prefix} (run "
                                "`reviewer check` first; it records what it reports)")
        if len(rows) > 1:
            shown = ", ".join(r[0][:12] for r in rows[:5])
            raise ReviewerError(f"fingerprint prefix {prefix} is ambiguous ({shown}...): "
                                "give more digits")
        return Recorded(*rows[0])

    def findings(self, rule_id: str | None = None) -> list[Recorded]:
        """Every recorded finding (of one rule), oldest first."""
        sql = f"SELECT {', '.join(_RECORDED_FIELDS)} FROM findings"
        args: tuple[str, ...] = ()
        if rule_id is not None:
            sql += " WHERE rule_id = ?"
            args = (rule_id,)
        return [Recorded(*r) for r in self.conn.execute(sql + " ORDER BY seen_at", args)]

    # -- verdicts ------------------------------------------------------------------------
    def add_verdict(self, verdict: Verdict) -> bool:
        """Store a verdict (``created_at`` and ``author`` filled in when empty).

        Returns False when the very same verdict (fingerprint, verdict, author, time) is
        already stored. Raises ReviewerError for an unknown verdict or source.
        """
        if verdict.verdict not in VERDICTS:
            raise ReviewerError(f"unknown verdict {verdict.verdict!r} (expected accept or "
                                "dismiss)")
        if verdict.source not in SOURCES:
            raise ReviewerError(f"unknown verdict source {verdict.source!r}")
        values = asdict(verdict)
        values["created_at"] = verdict.created_at or now_iso()
        values["author"] = verdict.author or default_author()
        cols = ", ".join(_VERDICT_FIELDS)
        marks = ", ".join(f":{n}" for n in _VERDICT_FIELDS)
        with self._tx():
            self.fill_function(verdict.fingerprint)
            cur = self.conn.execute(
                f"INSERT OR IGNORE INTO verdicts ({cols}) VALUES ({marks})", values)
        return cur.rowcount > 0

    def verdicts(self, rule_id: str | None = None, verdict: str | None = None,
                 latest: bool = True) -> list[Judged]:
        """Verdicts with their findings, oldest first.

        ``latest`` keeps only each author's last verdict on a fingerprint (what counts).
        """
        where, args = [], []
        if rule_id is not None:
            where.append("f.rule_id = ?")
            args.append(rule_id)
        if latest:
            where.append("v.id = (SELECT w.id FROM verdicts w WHERE w.fingerprint = "
                         "v.fingerprint AND w.author = v.author ORDER BY w.created_at DESC, "
                         "w.id DESC LIMIT 1)")
        sql = (f"SELECT {', '.join('v.' + n for n in _VERDICT_FIELDS)}, "
               f"{', '.join('f.' + n for n in _RECORDED_FIELDS)} "
               "FROM verdicts v LEFT JOIN findings f ON f.fingerprint = v.fingerprint")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY v.created_at, v.id"
        out = []
        n = len(_VERDICT_FIELDS)
        for row in self.conn.execute(sql, args):
            v = Verdict(*row[:n])
            f = Recorded(*row[n:]) if row[n] is not None else None
            if verdict is None or v.verdict == verdict:
                out.append(Judged(v, f))
        return out

    def latest(self, fingerprint: str) -> Verdict | None:
        """The most recent verdict on a fingerprint (any author), or None."""
        row = self.conn.execute(
            f"SELECT {', '.join(_VERDICT_FIELDS)} FROM verdicts WHERE fingerprint = ? "
            "ORDER BY created_at DESC, id DESC LIMIT 1", (fingerprint,)).fetchone()
        return None if row is None else Verdict(*row)

    def latest_many(self, fingerprints: Sequence[str]) -> dict[str, Verdict]:
        """The most recent verdict of each of ``fingerprints`` that has one."""
        out: dict[str, Verdict] = {}
        for start in range(0, len(fingerprints), 500):
            chunk = list(fingerprints[start:start + 500])
            marks = ", ".join("?" for _ in chunk)
            rows = self.conn.execute(
                f"SELECT {', '.join(_VERDICT_FIELDS)} FROM verdicts WHERE fingerprint IN "
                f"({marks}) ORDER BY created_at, id", chunk)
            for row in rows:
                v = Verdict(*row)
                out[v.fingerprint] = v
        return out

    # -- vectors -------------------------------------------------------------------------
    def put_vectors(self, model: str, vectors: dict[str, Sequence[float]]) -> None:
        """Store embeddings of findings' code under an embedding model's identity."""
        rows = [(fp, model, _pack(vec)) for fp, vec in vectors.items()]
        with self._tx():
            self.conn.executemany(
                "INSERT OR REPLACE INTO vectors (fingerprint, model, vector) VALUES (?, ?, ?)",
                rows)

    def vectors(self, model: str, fingerprints: Sequence[str]) -> dict[str, list[float]]:
        """The stored embeddings of ``fingerprints`` under ``model`` (missing ones left out)."""
        out: dict[str, list[float]] = {}
        for start in range(0, len(fingerprints), 500):
            chunk = list(fingerprints[start:start + 500])
            marks = ", ".join("?" for _ in chunk)
            for fp, blob in self.conn.execute(
                    f"SELECT fingerprint, vector FROM vectors WHERE model = ? AND fingerprint "
                    f"IN ({marks})", [model, *chunk]):
                out[fp] = _unpack(blob)
        return out

    # -- JSONL ---------------------------------------------------------------------------
    def export_jsonl(self, out: IO[str], latest: bool = False) -> int:
        """Write every verdict (or only the latest per author and finding) as JSONL."""
        count = 0
        for judged in self.verdicts(latest=latest):
            record = {"verdict": asdict(judged.verdict),
                      "finding": asdict(judged.finding) if judged.finding else None}
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
        return count

    def import_jsonl(self, lines: Iterable[str], where: str = "input") -> tuple[int, int]:
        """Merge exported verdicts. Returns (added, already present).

        The whole file is checked before anything is written: a malformed line is a
        ReviewerError naming the line, and the database is left as it was.
        """
        parsed = list(_parse_jsonl(lines, where))
        added = 0
        with self._tx():
            for verdict, finding in parsed:
                if finding is not None and self.finding(finding.fingerprint) is None:
                    self._insert_finding(finding)
                values = asdict(verdict)
                cur = self.conn.execute(
                    f"INSERT OR IGNORE INTO verdicts ({', '.join(_VERDICT_FIELDS)}) VALUES "
                    f"({', '.join(':' + n for n in _VERDICT_FIELDS)})", values)
                added += cur.rowcount > 0
        return added, len(parsed) - added

    def _insert_finding(self, finding: Recorded) -> None:
        cols = ", ".join(_RECORDED_FIELDS)
        marks = ", ".join("?" for _ in _RECORDED_FIELDS)
        self.conn.execute(f"INSERT OR IGNORE INTO findings ({cols}) VALUES ({marks})",
                          tuple(getattr(finding, n) for n in _RECORDED_FIELDS))


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.nested = conn.in_transaction

    def __enter__(self) -> None:
        if not self.nested:
            self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        if self.nested:
            return
        self.conn.execute("ROLLBACK" if kind is not None else "COMMIT")


def _parse_jsonl(lines: Iterable[str], where: str) -> Iterator[tuple[Verdict, Recorded | None]]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            yield _verdict_of(record), _finding_of(record.get("finding"))
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise ReviewerError(f"{where}:{number}: not a verdict record ({exc})") from None


def _verdict_of(record: Any) -> Verdict:
    data = record["verdict"]
    values = {n: data.get(n, "") for n in _VERDICT_FIELDS}
    if not all(isinstance(v, str) for v in values.values()):
        raise ValueError("verdict fields must be strings")
    if values["verdict"] not in VERDICTS:
        raise ValueError(f"unknown verdict {values['verdict']!r}")
    if not values["fingerprint"] or not values["created_at"]:
        raise ValueError("fingerprint and created_at are required")
    values["source"] = values["source"] if values["source"] in SOURCES else "import"
    return Verdict(**values)


def _finding_of(data: Any) -> Recorded | None:
    if data is None:
        return None
    values = {n: data[n] for n in _RECORDED_FIELDS if n in data}
    numbers = ("line", "function_start", "function_end")
    if not all(isinstance(values.get(n, 0), int) for n in numbers):
        raise ValueError("finding line must be an integer")
    if not all(isinstance(v, str) for k, v in values.items() if k not in numbers):
        raise ValueError("finding fields must be strings")
    return Recorded(**values)


def _pack(vector: Sequence[float]) -> bytes:
    return struct.pack(f"<{len(vector)}f", *vector)


def _unpack(blob: bytes) -> list[float]:
    return list(struct.unpack(f"<{len(blob) // 4}f", blob))


def _ignore_in_git(path: Path) -> None:
    """Keep the database (and its WAL files) out of git when it lives in ``.reviewer/``."""
    from reviewer.fileio import ensure_git_ignored

    if path.parent.name == ".reviewer":
        ensure_git_ignored(path.parent, [path.name, f"{path.name}-*"])
