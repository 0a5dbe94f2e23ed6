"""Replaying an unchanged ``reviewer check``: the same report without reviewing again.

When every file is unchanged since the last run (:func:`reviewer.engine.unchanged_key`)
and nothing else the report depends on changed (the configuration, the baseline, the
verdicts database, the taught principles, reviewer's own code, the format and the report
options), the output of the last such run is written again with its exit code: no file is
read, no finding rendered. Runs with the model (``--explain``), without the cache, and
staged reviews whose staged content differs from the working tree are never replayed. The
replays live next to the result cache (``.reviewer/cache/replay.pickle``, the last few
runs), written atomically; an unreadable file is ignored.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reviewer.digests import sha256
from reviewer.fileio import replace_bytes

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.engine import Job

FILE = "replay.pickle"
KEEP = 2  # runs remembered (e.g. the text and the JSON report of the same tree)
FORMAT = 2


@dataclass(frozen=True)
class Replay:
    """What an unchanged run prints."""

    text: str
    exit_code: int
    # Files outside the review that its results used (path, content digest): checked again.
    depends: tuple[tuple[str, str], ...] = ()


def replay_key(job: Job, cfg: Config, options: tuple[object, ...]) -> str | None:
    """The identity of this run's report, or None when it cannot be replayed."""
    if cfg.explain:
        return None
    from reviewer.engine import code_stamp, unchanged_key

    files = unchanged_key(job, cfg, fixes=False)  # check builds no libcst fixes
    if files is None:
        return None
    from reviewer.feedback.store import db_path
    from reviewer.feedback.taught import taught_path

    db = db_path(job.root, cfg.feedback_db)
    inputs = [job.root / cfg.baseline, db, db.with_name(db.name + "-wal"),
              taught_path(job.root, cfg)]
    h = sha256(f"{FORMAT}\0{files}\0{cfg!r}\0{options!r}\0".encode())
    h.update(f"{job.diff_filter}\0{sorted((job.changes or {}).items())!r}\0".encode())
    for path in inputs:
        h.update(f"{path}:{_stat(path)}\0".encode("utf-8", "surrogateescape"))
    h.update(code_stamp().encode())  # the reporters' and the CLI's code decide it too
    return h.hexdigest()


def load_replay(job: Job, cfg: Config, run_key: str) -> Replay | None:
    """The replay stored for ``run_key``, if any."""
    try:
        with (job.root / cfg.cache_dir / FILE).open("rb") as fh:
            stored = pickle.load(fh)
        found = stored["runs"].get(run_key) if stored.get("format") == FORMAT else None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
            IndexError, KeyError, TypeError, ValueError, MemoryError):
        return None
    if not isinstance(found, Replay):
        return None
    from reviewer.engine import depends_unchanged

    return found if depends_unchanged(job.root, found.depends) else None


def save_replay(job: Job, cfg: Config, run_key: str, replay: Replay) -> None:
    """Remember ``replay`` for ``run_key`` (with the last few others); never raises."""
    folder = job.root / cfg.cache_dir
    path = folder / FILE
    try:
        with path.open("rb") as fh:
            runs = dict(pickle.load(fh)["runs"])
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
            IndexError, KeyError, TypeError, ValueError, MemoryError):
        runs = {}  # a missing or unreadable file starts afresh
    runs.pop(run_key, None)
    runs[run_key] = replay
    runs = dict(list(runs.items())[-KEEP:])
    try:
        folder.mkdir(parents=True, exist_ok=True)
        replace_bytes(path, pickle.dumps({"format": FORMAT, "runs": runs},
                                         protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        return


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)

