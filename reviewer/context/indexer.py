"""Build and refresh the repository index, incrementally by content hash.

Each run lists the repository's files (git's view: tracked plus untracked-not-ignored; a
walk without git), hashes them, and compares with the manifest stored beside the chunks:
only added and changed files are chunked and embedded, and deleted files lose their chunks.

Crash safety: the files are embedded in groups; a group's chunks are upserted first, then
the stale chunks of its files are deleted, and only then are the files' manifest entries
written. A run stopped at any point leaves the old manifest entries of unfinished files, so
the next run simply does them again (upserts are idempotent: chunk ids are content hashes).
One writer at a time: a lock file (``fcntl.flock``) under the index folder.

An embedded index keeps a record beside it (:mod:`reviewer.context.state`): files whose
size and modification time are unchanged are not read again, and :func:`refresh_index`
(``reviewer index``) finishes without opening ChromaDB or loading the model when no file
changed.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from reviewer.context.chunks import CHUNKER_VERSION, Chunk, chunk_file, language_of

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.context.embed import Embedder
    from reviewer.context.state import FileState, IndexState
    from reviewer.context.store import Store

# Chunks embedded (and written) together. Within a group the texts are embedded longest
# first, as sentence-transformers does in one call, so a group of this size pads about as
# little as embedding everything at once; an interrupted run loses at most one group.
GROUP_CHUNKS = 2048
# Texts per call to the model (the progress bar moves after each).
SLICE_CHUNKS = 256
# Config and data files above this size are not indexed.
MAX_CONFIG_BYTES = 128_000
# Code and docs above this size are not indexed (generated or vendored files).
MAX_TEXT_BYTES = 512_000
SKIP_PARTS = frozenset({".git", ".reviewer", "node_modules", "__pycache__", ".venv", "venv",
                        ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache"})


@dataclass(frozen=True)
class IndexSettings:
    """Where the index is and how it is built (from Config)."""

    root: Path
    index_dir: Path
    chroma_url: str = ""
    embedding_model: str = ""
    batch_size: int = 64
    exclude: tuple[str, ...] = ()
    max_file_size: int = MAX_TEXT_BYTES

    @classmethod
    def from_config(cls, root: Path, cfg: Config) -> IndexSettings:
        """The settings of ``cfg`` for the repository at ``root``."""
        index_dir = Path(cfg.index_dir)
        return cls(
            root=root, index_dir=index_dir if index_dir.is_absolute() else root / index_dir,
            chroma_url=cfg.chroma_url, embedding_model=cfg.embedding_model,
            batch_size=max(1, cfg.embedding_batch_size), exclude=tuple(cfg.exclude),
            max_file_size=min(cfg.max_file_size, MAX_TEXT_BYTES),
        )


@dataclass
class IndexStats:
    """What one run did."""

    files: int = 0  # indexable files found
    added: int = 0
    changed: int = 0
    deleted: int = 0
    unchanged: int = 0
    chunks_written: int = 0
    chunks_deleted: int = 0
    chunks_total: int = 0
    rebuilt: str = ""  # why the whole index was rebuilt ("" = it was not)
    seconds: float = 0.0
    embed_seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)  # "path: reason"
    # The content hash of each indexable file seen (every file, unless ``paths`` was given).
    hashes: dict[str, str] = field(default_factory=dict, repr=False)
    opened: bool = True  # False: nothing changed, and ChromaDB was not even opened

    def summary(self) -> str:
        """One line for the user."""
        did = (f"{self.added} added, {self.changed} changed, {self.deleted} deleted, "
               f"{self.unchanged} unchanged")
        how = f"{self.chunks_written} chunks embedded, {self.chunks_total} in the index"
        return f"{self.files} files: {did}; {how} ({self.seconds:.1f} s)"


# -- the files to index --------------------------------------------------------------------
def candidate_files(root: Path, exclude: Sequence[str] = ()) -> list[str]:
    """Root-relative POSIX paths of files the index covers (by extension), sorted."""
    from reviewer import diff
    from reviewer.engine import is_excluded

    is_git = diff.repo_root(root) is not None
    listed = diff.tracked_files(root) if is_git else walk_files(root)
    return [rel for rel in listed
            if language_of(rel) is not None
            and not SKIP_PARTS.intersection(rel.split("/"))
            and not is_excluded(rel, exclude)]


def walk_files(root: Path) -> list[str]:
    """Every file below ``root``, sorted, skipping tool folders and hidden ones.

    The same list as :func:`reviewer.diff.walk_files` (symlinked folders are not entered,
    links to files are listed), built with ``os.scandir`` and plain strings: on a folder of
    thousands of files that is several times faster than the path objects there.
    """
    from reviewer.diff import SKIP_DIRS

    out: list[str] = []
    todo = [("", os.fspath(root))]
    while todo:
        prefix, folder = todo.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if not _is_dir(entry):
                        out.append(prefix + entry.name)
                    elif entry.name not in SKIP_DIRS and not entry.name.startswith(".") \
                            and not entry.is_symlink():
                        todo.append((f"{prefix}{entry.name}/", entry.path))
        except OSError:
            continue  # unreadable folder: skipped, as os.walk does
    out.sort()
    return out


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def read_text(root: Path, rel: str, max_size: int) -> tuple[str | None, str]:
    """(text, "") or (None, why it is skipped)."""
    path = root / rel
    try:
        if path.is_symlink() or not path.is_file():
            return None, "not a regular file"
        limit = MAX_CONFIG_BYTES if language_of(rel) in ("toml", "ini", "yaml", "json") \
            else max_size
        size = path.stat().st_size
        if size > limit:
            return None, f"{size} bytes, above the {limit}-byte limit"
        data = path.read_bytes()
    except OSError as exc:
        return None, exc.strerror or str(exc)
    if b"\0" in data[:8192]:
        return None, "binary"
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError:
        return None, "not UTF-8"


def content_hash(text: str) -> str:
    """The manifest's hash of a file's text."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


# -- the run -------------------------------------------------------------------------------
class Progress(Protocol):
    """What a progress display gets: the chunks to embed, then each step done."""

    def start(self, total: int) -> None:
        """Called once with the number of chunks to embed."""

    def advance(self, done: int) -> None:
        """``done`` more chunks were embedded."""


@dataclass
class ContextIndex:
    """An opened index: settings, storage and the embedder (None: no vector queries)."""

    settings: IndexSettings
    store: Store
    embedder: Embedder | None = None

    @classmethod
    def open(cls, root: Path, config: Config, *, vectors: bool = True,
             create: bool = False) -> ContextIndex:
        """Open the repository's index (IndexMissing when there is none and not ``create``).

        The embedding model itself loads only when something is embedded.
        """
        settings = IndexSettings.from_config(root, config)
        store = open_store(settings, create=create)
        return cls(settings, store, make_embedder(settings) if vectors else None)

    def vector(self, text: str) -> list[float] | None:
        """The embedding of ``text`` (None without an embedder)."""
        if self.embedder is None:
            return None
        return self.embedder.embed([text])[0]


def index_meta(embedder: Embedder) -> dict[str, str]:
    """What the stored vectors depend on: another value means a full rebuild."""
    return {"chunker": CHUNKER_VERSION, "model": embedder.identity}


def update_index(index: ContextIndex, *, full: bool = False,
                 paths: Sequence[str] | None = None,
                 progress: Progress | None = None) -> IndexStats:
    """Bring the index up to date with the files on disk; return what was done.

    ``paths``: refresh only these root-relative files (a file that no longer exists is
    removed from the index). ``progress`` hears how many chunks are embedded.
    """
    return _update(index, full, paths, progress, None)


def refresh_index(root: Path, config: Config, *, full: bool = False,
                  progress: Progress | None = None) -> IndexStats:
    """``reviewer index``: bring the whole index up to date (call it holding the lock).

    When the record of an embedded index shows every file unchanged, this returns at once:
    ChromaDB is not imported and the model not loaded (``IndexStats.opened`` is False).
    """
    from reviewer.context.store import collection_base

    start = time.perf_counter()
    settings = IndexSettings.from_config(root, config)
    embedder = make_embedder(settings)
    base = collection_base(root)
    scan: Scan | None = None
    if not full and not settings.chroma_url:
        scan = Scan.of(settings, None, _load_state(settings, state_key(settings, embedder, base)))
        if scan.state is not None and scan.unchanged(scan.state):
            stats = scan.keep(settings.index_dir, scan.state)
            stats.seconds = time.perf_counter() - start
            return stats
    index = ContextIndex(settings, open_store(settings, create=True, base=base), embedder)
    stats = _update(index, full, None, progress, scan)
    stats.seconds = time.perf_counter() - start
    return stats


def _update(index: ContextIndex, full: bool, paths: Sequence[str] | None,
            progress: Progress | None, scan: Scan | None) -> IndexStats:
    start = time.perf_counter()
    settings = index.settings
    if index.embedder is None:
        index.embedder = make_embedder(settings)
    key = None if settings.chroma_url else state_key(settings, index.embedder,
                                                     index.store.base)
    if scan is None:  # --full reads every file: the record vouches for nothing then
        scan = Scan.of(settings, paths, None if full else _load_state(settings, key))
    if key is not None:
        from reviewer.context.state import drop_state

        drop_state(settings.index_dir)  # gone until the run completes (see context.state)
    run = _Run(index.store, index.embedder, progress, settings.root, settings.max_file_size)
    run.prepare(full)
    run.stats.files = len(scan.seen)
    run.stats.skipped = scan.skip_lines()
    run.plan(scan, paths)
    run.write()
    count = run.trusted_count(scan.state)
    run.stats.chunks_total = index.store.count() if count is None else count + run.delta
    run.stats.hashes = {rel: seen.digest for rel, seen in scan.seen.items()}
    if key is not None:
        run.save(settings.index_dir, scan, paths, key)
    run.stats.seconds = time.perf_counter() - start
    return run.stats


def state_key(settings: IndexSettings, embedder: Embedder, collection: str) -> dict[str, object]:
    """What the record of an embedded index is valid for (another value: not used)."""
    return {"collection": collection, "build": index_meta(embedder),
            "max_file_size": settings.max_file_size}


def _load_state(settings: IndexSettings, key: dict[str, object] | None) -> IndexState | None:
    from reviewer.context.state import load_state

    if key is None or not (settings.index_dir / "chroma").is_dir():
        return None
    return load_state(settings.index_dir, key)


@dataclass
class Seen:
    """An indexable file as found now: its content hash, and its text when it was read."""

    digest: str
    size: int
    mtime_ns: int
    text: str | None = None


@dataclass
class Scan:
    """The files now (all, or the named ones), hashed with the help of the record."""

    state: IndexState | None
    seen: dict[str, Seen] = field(default_factory=dict)
    skipped: dict[str, FileState] = field(default_factory=dict)
    at_ns: int = 0  # when the files were looked at
    read: int = 0  # files read (the others matched the record)

    @classmethod
    def of(cls, settings: IndexSettings, paths: Sequence[str] | None,
           state: IndexState | None) -> Scan:
        """Look at the indexable files (or ``paths``), reading only those that changed."""
        from reviewer.context.state import now_ns

        scan = cls(state, at_ns=now_ns())
        for rel in _listed(settings, paths):
            scan.add(settings, rel)
        return scan

    def add(self, settings: IndexSettings, rel: str) -> None:
        """Hash one file (or record why it is skipped)."""
        from reviewer.context.state import FileState, file_stat

        st = file_stat(os.path.join(settings.root, rel))
        known = self.state.lookup(rel, st) if self.state is not None and st else None
        if known is not None:
            if known.skipped:
                self.skipped[rel] = known
            else:
                self.seen[rel] = Seen(known.digest, known.size, known.mtime_ns)
            return
        self.read += 1
        text, why = read_text(settings.root, rel, settings.max_file_size)
        size, mtime = (st.st_size, st.st_mtime_ns) if st else (-1, -1)
        if text is None:
            self.skipped[rel] = FileState("", size, mtime, why)
        else:
            self.seen[rel] = Seen(content_hash(text), size, mtime, text)

    def unchanged(self, state: IndexState) -> bool:
        """Whether the indexed files are exactly the record's (same paths, same hashes)."""
        manifest = state.manifest()
        return len(manifest) == len(self.seen) and all(
            manifest.get(rel) == seen.digest for rel, seen in self.seen.items())

    def skip_lines(self) -> list[str]:
        """"path: reason" of the files left out."""
        return [f"{rel}: {f.skipped}" for rel, f in sorted(self.skipped.items())]

    def keep(self, index_dir: Path, state: IndexState) -> IndexStats:
        """The result of a run with nothing to do, by the record ``state`` (rewritten when
        files were read again, so that the next run need not)."""
        from reviewer.context.state import save_state

        if self.read:
            state.files = self.entries()
            save_state(index_dir, state, self.at_ns)
        n = len(self.seen)
        return IndexStats(files=n, unchanged=n, chunks_total=state.chunks,
                          skipped=self.skip_lines(), opened=False,
                          hashes={rel: seen.digest for rel, seen in self.seen.items()})

    def entries(self) -> dict[str, FileState]:
        """The record's entries for the files of this scan."""
        from reviewer.context.state import FileState

        out = dict(self.skipped)
        out.update({rel: FileState(s.digest, s.size, s.mtime_ns)
                    for rel, s in self.seen.items()})
        return out


def _listed(settings: IndexSettings, paths: Sequence[str] | None) -> list[str]:
    if paths is None:
        return candidate_files(settings.root, settings.exclude)
    from reviewer.engine import is_excluded

    return [p for p in paths if language_of(p) is not None
            and not is_excluded(p, settings.exclude)
            and (settings.root / p).exists()]


FileChunks = tuple[str, str, list[Chunk]]  # (path, content hash, chunks)


class _Run:
    """One update of the index."""

    def __init__(self, store: Store, embedder: Embedder, progress: Progress | None,
                 root: Path, max_size: int) -> None:
        self.store = store
        self.embedder = embedder
        self.progress = progress
        self.root = root
        self.max_size = max_size
        self.stats = IndexStats()
        self.manifest: dict[str, str] = {}
        self.todo: list[FileChunks] = []
        # What changed files have in the index already: path -> chunk id -> (start, end).
        # An unchanged function keeps its id (and vector): only new chunks are embedded.
        self.stored: dict[str, dict[str, tuple[int, int]]] = {}
        self.delta = 0  # chunks added minus chunks removed by this run
        self.unread: list[str] = []  # changed files that could not be read after all

    def prepare(self, full: bool) -> None:
        """Rebuild when asked or when the index was built differently; read the manifest."""
        want = index_meta(self.embedder)
        have = self.store.meta()
        if full or (have and have != want):
            self.stats.rebuilt = "--full" if full else \
                "the chunker or the embedding model changed"
            self.store.reset()
        if self.store.meta() != want:
            self.store.set_meta(want)
        self.manifest = self.store.manifest()

    def plan(self, scan: Scan, paths: Sequence[str] | None) -> None:
        """Count unchanged files, chunk the others, and drop deleted files from the index."""
        stats = self.stats
        for rel in sorted(scan.seen):
            seen = scan.seen[rel]
            old = self.manifest.get(rel)
            text = seen.text if old == seen.digest or seen.text is not None else \
                self._read(rel, seen)
            if old == seen.digest:
                stats.unchanged += 1
                continue
            if text is None:  # could not be read after all: next run
                continue
            stats.added += old is None
            stats.changed += old is not None
            self.todo.append((rel, seen.digest, chunk_file(rel, text)))
        self.stored = self.store.lines_by_path(
            sorted(r for r, _, _ in self.todo if r in self.manifest))
        deleted = [p for p in (paths if paths is not None else self.manifest)
                   if p in self.manifest and p not in scan.seen and p not in self.unread]
        if deleted:
            removed = self.store.delete_chunks(
                i for ids in self.store.ids_by_path(deleted).values() for i in ids)
            stats.chunks_deleted += removed
            self.delta -= removed
            self.store.delete_files(deleted)
        stats.deleted = len(deleted)

    def _read(self, rel: str, seen: Seen) -> str | None:
        """Read a file the record vouched for when the manifest has another hash for it
        (the index is behind the record, e.g. after an interrupted run); its hash is
        taken again from what is read."""
        text, _ = read_text(self.root, rel, self.max_size)
        if text is None:  # it changed since it was looked at: next run
            self.unread.append(rel)
            return None
        seen.text, seen.digest = text, content_hash(text)
        return text

    def trusted_count(self, state: IndexState | None) -> int | None:
        """The chunks in the index before this run, when the record knew them (counting
        them in ChromaDB reads the whole collection)."""
        if self.stats.rebuilt:
            return 0
        if state is None or state.manifest() != self.manifest:
            return None
        return state.chunks

    def save(self, index_dir: Path, scan: Scan, paths: Sequence[str] | None,
             key: dict[str, object]) -> None:
        """Write the record of the index as this run leaves it (when it knows all of it)."""
        from reviewer.context.state import IndexState, save_state

        if self.unread:
            return
        if paths is None:
            files = scan.entries()
        elif scan.state is not None and self.trusted_count(scan.state) is not None:
            files = dict(scan.state.files)
            for rel in paths:
                files.pop(rel, None)
            files.update(scan.entries())
        else:
            return
        save_state(index_dir, IndexState(key, self.stats.chunks_total, files), scan.at_ns)

    def write(self) -> None:
        """Embed and write the planned files, group by group."""
        if self.progress is not None:
            self.progress.start(sum(c.id not in self.stored.get(rel, {})
                                    for rel, _, cs in self.todo for c in cs))
        group: list[FileChunks] = []
        size = 0
        for entry in self.todo:
            group.append(entry)
            size += len(entry[2])
            if size >= GROUP_CHUNKS:
                self.write_group(group)
                group, size = [], 0
        if group:
            self.write_group(group)

    def write_group(self, group: list[FileChunks]) -> None:
        """Embed and upsert the group's new chunks, fix moved ones, drop stale ones, then
        record the files in the manifest (last: an interruption before it redoes them)."""
        new: list[Chunk] = []
        moved: list[Chunk] = []
        stale: list[str] = []
        for rel, _, chunks in group:
            had = self.stored.get(rel, {})
            new.extend(c for c in chunks if c.id not in had)
            moved.extend(c for c in chunks if c.id in had and had[c.id] != (c.start, c.end))
            fresh = {c.id for c in chunks}
            stale.extend(i for i in had if i not in fresh)
            self.delta += len(fresh) - len(had)
        t0 = time.perf_counter()
        vectors = embed_sorted(self.embedder, [c.embed_text() for c in new], self.progress)
        self.stats.embed_seconds += time.perf_counter() - t0
        if new:
            self.store.upsert(new, vectors)
        if moved:
            self.store.update_lines(moved)
        self.stats.chunks_written += len(new)
        self.stats.chunks_deleted += self.store.delete_chunks(stale)
        self.store.set_files({rel: digest for rel, digest, _ in group})


def embed_sorted(embedder: Embedder, texts: list[str],
                 progress: Progress | None = None) -> list[list[float]]:
    """Vectors of ``texts``, computed longest first in slices (little padding)."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    vectors: list[list[float]] = [[] for _ in texts]
    for lo in range(0, len(order), SLICE_CHUNKS):
        part = order[lo:lo + SLICE_CHUNKS]
        for i, v in zip(part, embedder.embed([texts[i] for i in part]), strict=True):
            vectors[i] = v
        if progress is not None:
            progress.advance(len(part))
    return vectors


# -- opening an index ----------------------------------------------------------------------
def open_store(settings: IndexSettings, create: bool = True, base: str = "") -> Store:
    """The repository's Store (embedded or on the server; ``base``: the collection names'
    stem when the caller knows it already)."""
    from reviewer.context.store import Store, collection_base, open_client

    client = open_client(settings.index_dir, settings.chroma_url, create=create)
    return Store(client, base or collection_base(settings.root), create=create)


def make_embedder(settings: IndexSettings) -> Embedder:
    """The configured embedding model (loaded on first use; numpy for a few texts,
    sentence-transformers for many: :class:`reviewer.context.embed.LocalEmbedder`)."""
    from reviewer.context.embed import LocalEmbedder, model_path

    return LocalEmbedder(model_path(settings.embedding_model, settings.root),
                         batch_size=settings.batch_size)
