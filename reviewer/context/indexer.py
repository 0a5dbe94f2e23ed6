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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

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

Progress = Callable[[int], None]


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
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


# -- the run -------------------------------------------------------------------------------
def index_meta(embedder: Embedder) -> dict[str, str]:
    """What the stored vectors depend on: another value means a full rebuild."""
    return {"chunker": CHUNKER_VERSION, "model": embedder.identity}


def update_index(
    settings: IndexSettings,
    store: Store,
    embedder: Embedder,
    *,
    full: bool = False,
    paths: Sequence[str] | None = None,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
) -> IndexStats:
    """Bring the index up to date with the files on disk; return what was done.

    ``paths``: refresh only these root-relative files (a file that no longer exists is
    removed from the index). ``on_total(n)`` is called once with the number of chunks to
    embed, then ``progress(k)`` each time ``k`` more are done.
    """
    start = time.perf_counter()
    stats = IndexStats()
    want = index_meta(embedder)
    have = store.meta()
    if full or (have and have != want):
        stats.rebuilt = "--full" if full else "the chunker or the embedding model changed"
        store.reset()
    if store.meta() != want:
        store.set_meta(want)
    manifest = store.manifest()
    current = _current_files(settings, paths, manifest, stats)
    todo = _plan(current, manifest, paths, stats)
    deleted = [p for p in (paths if paths is not None else manifest)
               if p in manifest and p not in current]
    if deleted:
        stats.chunks_deleted += store.delete_chunks(
            i for ids in store.ids_by_path(deleted).values() for i in ids)
        store.delete_files(deleted)
    stats.deleted = len(deleted)
    chunked = [(rel, digest, chunk_file(rel, text)) for rel, digest, text in todo]
    # What the changed files have in the index already: an unchanged function keeps its id
    # (and its vector), so only new or edited chunks are embedded.
    stored = store.lines_by_path(sorted(r for r, _, _ in chunked if r in manifest))
    if on_total is not None:
        on_total(sum(c.id not in stored.get(rel, {}) for rel, _, cs in chunked for c in cs))
    _embed_files(store, embedder, chunked, stored, stats, progress)
    stats.chunks_total = store.count()
    stats.seconds = time.perf_counter() - start
    return stats


def _current_files(settings: IndexSettings, paths: Sequence[str] | None,
                   manifest: dict[str, str], stats: IndexStats) -> dict[str, tuple[str, str]]:
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


def _plan(current: dict[str, tuple[str, str]], manifest: dict[str, str],
          paths: Sequence[str] | None, stats: IndexStats) -> list[tuple[str, str, str]]:
    """(path, hash, text) of the files to (re-)embed, in path order."""
    todo = []
    for rel in sorted(current):
        digest, text = current[rel]
        old = manifest.get(rel)
        if old == digest:
            stats.unchanged += 1
            continue
        if old is None:
            stats.added += 1
        else:
            stats.changed += 1
        todo.append((rel, digest, text))
    return todo


Stored = dict[str, dict[str, tuple[int, int]]]  # path -> chunk id -> (start, end)


def _embed_files(store: Store, embedder: Embedder,
                 chunked: list[tuple[str, str, list[Chunk]]], stored: Stored,
                 stats: IndexStats, progress: Progress | None) -> None:
    group: list[tuple[str, str, list[Chunk]]] = []
    size = 0
    for entry in chunked:
        group.append(entry)
        size += len(entry[2])
        if size >= GROUP_CHUNKS:
            _write_group(store, embedder, group, stored, stats, progress)
            group, size = [], 0
    if group:
        _write_group(store, embedder, group, stored, stats, progress)


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
            progress(len(part))
    return vectors


def _write_group(store: Store, embedder: Embedder,
                 group: list[tuple[str, str, list[Chunk]]], stored: Stored,
                 stats: IndexStats, progress: Progress | None) -> None:
    """Embed and upsert the group's new chunks, fix moved ones, drop stale ones, then
    record the files in the manifest (last: an interruption before it redoes the files)."""
    new: list[Chunk] = []
    moved: list[Chunk] = []
    stale: list[str] = []
    for rel, _, chunks in group:
        had = stored.get(rel, {})
        for c in chunks:
            if c.id not in had:
                new.append(c)
            elif had[c.id] != (c.start, c.end):
                moved.append(c)
        fresh = {c.id for c in chunks}
        stale.extend(i for i in had if i not in fresh)
    t0 = time.perf_counter()
    vectors = embed_sorted(embedder, [c.embed_text() for c in new], progress)
    stats.embed_seconds += time.perf_counter() - t0
    if new:
        store.upsert(new, vectors)
    if moved:
        store.update_lines(moved)
    stats.chunks_written += len(new)
    stats.chunks_deleted += store.delete_chunks(stale)
    store.set_files({rel: digest for rel, digest, _ in group})


# -- opening an index ----------------------------------------------------------------------
def open_store(settings: IndexSettings, create: bool = True) -> Store:
    """The repository's Store (embedded or on the server)."""
    from reviewer.context.store import Store, collection_base, open_client

    client = open_client(settings.index_dir, settings.chroma_url, create=create)
    return Store(client, collection_base(settings.root), create=create)


def make_embedder(settings: IndexSettings) -> Embedder:
    from reviewer.context.embed import SentenceEmbedder, model_path

    return SentenceEmbedder(model_path(settings.embedding_model, settings.root),
                            batch_size=settings.batch_size)


def lock_dir(settings: IndexSettings) -> Path:
    """Where the writers' lock lives (the local index folder, also for a server)."""
    return settings.index_dir
