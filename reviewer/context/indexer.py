"""Build and refresh the repository index, incrementally by content hash.

Each run lists the repository's files (git's view: tracked plus untracked-not-ignored; a
walk without git), hashes them, and compares with the manifest stored beside the chunks:
only added and changed files are chunked and embedded, and deleted files lose their chunks.

Crash safety: the files are embedded in groups; a group's chunks are upserted first, then
the stale chunks of its files are deleted, and only then are the files' manifest entries
written. A run stopped at any point leaves the old manifest entries of unfinished files, so
the next run simply does them again (upserts are idempotent: chunk ids are content hashes).
One writer at a time: a lock file (``fcntl.flock``) under the index folder.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from reviewer.context.chunks import CHUNKER_VERSION, Chunk, chunk_file, language_of

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.context.embed import Embedder
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
    listed = diff.tracked_files(root) if is_git else diff.walk_files(root)
    return [rel for rel in listed
            if language_of(rel) is not None
            and not SKIP_PARTS.intersection(rel.split("/"))
            and not is_excluded(rel, exclude)]


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
    start = time.perf_counter()
    if index.embedder is None:
        index.embedder = make_embedder(index.settings)
    run = _Run(index.store, index.embedder, progress)
    run.prepare(full)
    current = _current_files(index.settings, paths, run.stats)
    run.plan(current, paths)
    run.write()
    run.stats.chunks_total = index.store.count()
    run.stats.seconds = time.perf_counter() - start
    return run.stats


def _current_files(settings: IndexSettings, paths: Sequence[str] | None,
                   stats: IndexStats) -> dict[str, tuple[str, str]]:
    """path -> (hash, text) of every indexable file now (or of ``paths``)."""
    if paths is None:
        rels = candidate_files(settings.root, settings.exclude)
    else:
        from reviewer.engine import is_excluded

        rels = [p for p in paths if language_of(p) is not None
                and not is_excluded(p, settings.exclude)
                and (settings.root / p).exists()]
    out: dict[str, tuple[str, str]] = {}
    for rel in rels:
        text, why = read_text(settings.root, rel, settings.max_file_size)
        if text is None:
            stats.skipped.append(f"{rel}: {why}")
            continue
        out[rel] = (content_hash(text), text)
    stats.files = len(out)
    return out


FileChunks = tuple[str, str, list[Chunk]]  # (path, content hash, chunks)


class _Run:
    """One update of the index."""

    def __init__(self, store: Store, embedder: Embedder, progress: Progress | None) -> None:
        self.store = store
        self.embedder = embedder
        self.progress = progress
        self.stats = IndexStats()
        self.manifest: dict[str, str] = {}
        self.todo: list[FileChunks] = []
        # What changed files have in the index already: path -> chunk id -> (start, end).
        # An unchanged function keeps its id (and vector): only new chunks are embedded.
        self.stored: dict[str, dict[str, tuple[int, int]]] = {}

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

    def plan(self, current: dict[str, tuple[str, str]], paths: Sequence[str] | None) -> None:
        """Count unchanged files, chunk the others, and drop deleted files from the index."""
        stats = self.stats
        for rel in sorted(current):
            digest, text = current[rel]
            old = self.manifest.get(rel)
            if old == digest:
                stats.unchanged += 1
                continue
            stats.added += old is None
            stats.changed += old is not None
            self.todo.append((rel, digest, chunk_file(rel, text)))
        self.stored = self.store.lines_by_path(
            sorted(r for r, _, _ in self.todo if r in self.manifest))
        deleted = [p for p in (paths if paths is not None else self.manifest)
                   if p in self.manifest and p not in current]
        if deleted:
            stats.chunks_deleted += self.store.delete_chunks(
                i for ids in self.store.ids_by_path(deleted).values() for i in ids)
            self.store.delete_files(deleted)
        stats.deleted = len(deleted)

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
def open_store(settings: IndexSettings, create: bool = True) -> Store:
    """The repository's Store (embedded or on the server)."""
    from reviewer.context.store import Store, collection_base, open_client

    client = open_client(settings.index_dir, settings.chroma_url, create=create)
    return Store(client, collection_base(settings.root), create=create)


def make_embedder(settings: IndexSettings) -> Embedder:
    """The configured embedding model (loaded on first use)."""
    from reviewer.context.embed import SentenceEmbedder, model_path

    return SentenceEmbedder(model_path(settings.embedding_model, settings.root),
                            batch_size=settings.batch_size)
