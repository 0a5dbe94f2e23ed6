"""Where the index lives: two ChromaDB collections, embedded or on a Chroma server.

``<name>-chunks`` holds one record per chunk (its text, embedding and metadata: path, name,
kind, label, lines, module, and the lists ``defines`` and ``calls`` that make the symbol
table). ``<name>-files`` is the manifest: one record per indexed file with the hash of its
content, plus a ``__meta__`` record naming the chunker and embedding model that built the
index. Both live in the same Chroma database, so a team server carries its own manifest.

ChromaDB is imported here only, when an index is opened.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from reviewer.context.chunks import Chunk
from reviewer.errors import ReviewerError

META_ID = "__meta__"
# Records per Chroma call (well below Chroma's own maximum batch size).
WRITE_BATCH = 1000
# Chroma writes its vector index (HNSW) to disk after this many changes, and every process
# that opens a collection first replays the changes made since (about 1 ms each). Chroma's
# default, 1000, makes the first read or write of a large index cost up to a second; small
# updates are this index's normal case, so it is saved after a few records.
SYNC_THRESHOLD = 20
HNSW = {"space": "cosine", "sync_threshold": SYNC_THRESHOLD, "batch_size": SYNC_THRESHOLD}


class IndexMissing(ReviewerError):
    """There is no index yet (``reviewer index`` builds it)."""


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as read back from the index."""

    id: str
    path: str
    name: str
    kind: str
    label: str
    start: int
    end: int
    text: str
    module: str
    defines: tuple[str, ...]
    calls: tuple[str, ...]
    distance: float | None = None  # cosine distance, for vector queries


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    """Chroma metadata of a chunk (empty lists left out: Chroma refuses them)."""
    meta: dict[str, Any] = {
        "path": chunk.path, "name": chunk.name, "kind": chunk.kind, "label": chunk.label,
        "language": chunk.language, "start": chunk.start, "end": chunk.end,
        "module": chunk.module,
    }
    if chunk.defines:
        meta["defines"] = list(chunk.defines)
    if chunk.calls:
        meta["calls"] = list(chunk.calls)
    return meta


def _stored(cid: str, doc: str | None, meta: Mapping[str, Any] | None,
            distance: float | None = None) -> StoredChunk:
    m = meta or {}
    return StoredChunk(
        cid, str(m.get("path", "")), str(m.get("name", "")), str(m.get("kind", "")),
        str(m.get("label", "")), int(m.get("start", 0)), int(m.get("end", 0)), doc or "",
        str(m.get("module", "")), tuple(m.get("defines") or ()), tuple(m.get("calls") or ()),
        distance,
    )


def collection_base(root: Path) -> str:
    """A name for this repository's collections, the same on every clone.

    Derived from the ``origin`` remote when there is one (so a team's clones share one
    index on a server), else from the folder name.
    """
    try:
        url = subprocess.run(
            ["git", "config", "--get", "remote.origin.url"], cwd=root, capture_output=True,
            text=True, timeout=10, check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        url = ""
    label = url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") if url else root.name
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-._")[:40] or "repo"
    digest = hashlib.sha1((url or root.name).encode()).hexdigest()[:8]
    return f"reviewer-{slug}-{digest}"


def _parse_url(url: str) -> tuple[str, int, bool]:
    parsed = urlparse(url if "://" in url else f"http://{url}")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ReviewerError(f"chroma-url must look like http://HOST:PORT, got {url!r}")
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
    except ValueError:
        raise ReviewerError(f"chroma-url has a bad port: {url!r}") from None
    return parsed.hostname, port, parsed.scheme == "https"


def _settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False)


@contextmanager
def _first_import() -> Iterator[None]:
    """The first time in a process: the cyclic garbage collector off, then the objects
    made meanwhile frozen.

    Importing chromadb and opening a client create some 130,000 long-lived objects
    (pydantic models, OpenTelemetry, the Rust bindings); collections during the import,
    and later full collections walking them all, cost a few tenths of a second per
    command. ``gc.freeze`` leaves them out of later collections (as modules, they are
    never garbage anyway). Later calls change nothing.
    """
    import gc
    import sys

    if "chromadb" in sys.modules or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def open_client(index_dir: Path, chroma_url: str = "", create: bool = True) -> Any:
    """A Chroma client: embedded under ``index_dir``, or a server at ``chroma_url``."""
    with _first_import():
        return _open_client(index_dir, chroma_url, create)


def _open_client(index_dir: Path, chroma_url: str, create: bool) -> Any:
    try:
        import chromadb
    except ImportError:
        raise ReviewerError("chromadb is not installed: pip install 'reviewer[rag]'") from None
    if chroma_url:
        host, port, ssl = _parse_url(chroma_url)
        try:
            client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=_settings())
            client.heartbeat()
        except Exception as exc:  # httpx/chroma raise many types; all mean "unreachable"
            raise ReviewerError(f"cannot reach the Chroma server at {chroma_url}: "
                                f"{_short(exc)}") from None
        return client
    folder = index_dir / "chroma"
    if not create and not folder.is_dir():
        raise IndexMissing("no repository index yet: run `reviewer index`")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(folder), settings=_settings())
    except Exception as exc:  # a broken or foreign database folder
        raise ReviewerError(f"cannot open the index at {folder}: {_short(exc)}") from None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


class Store:
    """The chunk and manifest collections of one repository."""

    def __init__(self, client: Any, base: str, create: bool = True) -> None:
        self.client = client
        self.base = base
        self.chunks: Any = None
        self.files: Any = None
        self._open(create)

    def _open(self, create: bool) -> None:
        from chromadb.errors import NotFoundError

        names = (f"{self.base}-chunks", f"{self.base}-files")
        try:
            if create:
                self.chunks, self.files = (
                    self.client.get_or_create_collection(
                        n, embedding_function=None,
                        metadata={f"hnsw:{k}": v for k, v in HNSW.items()})
                    for n in names
                )
                for collection in (self.chunks, self.files):
                    _sync_often(collection)
            else:
                self.chunks, self.files = (
                    self.client.get_collection(n, embedding_function=None) for n in names
                )
        except NotFoundError:
            raise IndexMissing("no repository index yet: run `reviewer index`") from None

    def reset(self) -> None:
        """Drop everything (a full rebuild)."""
        from chromadb.errors import NotFoundError

        for n in (f"{self.base}-chunks", f"{self.base}-files"):
            with suppress(NotFoundError):
                self.client.delete_collection(n)
        self._open(True)

    # -- manifest --------------------------------------------------------------------------
    def manifest(self) -> dict[str, str]:
        """path -> content hash of every indexed file."""
        got = self.files.get(include=["metadatas"])
        out = {}
        for fid, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
            if fid != META_ID and meta:
                out[fid] = str(meta.get("hash", ""))
        return out

    def meta(self) -> dict[str, Any]:
        """The record naming the chunker and model that built the index ({} if none)."""
        got = self.files.get(ids=[META_ID], include=["metadatas"])
        metas = got.get("metadatas") or []
        return dict(metas[0]) if metas and metas[0] else {}

    def set_meta(self, meta: Mapping[str, Any]) -> None:
        """Record what built the index."""
        self.files.upsert(ids=[META_ID], embeddings=[[1.0]], metadatas=[dict(meta)])

    def set_files(self, hashes: Mapping[str, str]) -> None:
        """Record files as indexed with these content hashes (after their chunks)."""
        ids = list(hashes)
        for part in _slices(ids):
            self.files.upsert(ids=part, embeddings=[[1.0]] * len(part),
                              metadatas=[{"hash": hashes[p]} for p in part])

    def delete_files(self, paths: Sequence[str]) -> None:
        """Forget files in the manifest (after their chunks are gone)."""
        for part in _slices(list(paths)):
            self.files.delete(ids=part)

    # -- chunks ----------------------------------------------------------------------------
    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        """Write chunks with their vectors (idempotent: ids are content hashes)."""
        for lo in range(0, len(chunks), WRITE_BATCH):
            part = chunks[lo:lo + WRITE_BATCH]
            self.chunks.upsert(
                ids=[c.id for c in part], embeddings=[list(v) for v in vectors[lo:lo + len(part)]],
                documents=[c.text for c in part], metadatas=[chunk_metadata(c) for c in part],
            )

    def lines_by_path(self, paths: Sequence[str]) -> dict[str, dict[str, tuple[int, int]]]:
        """For each of ``paths``: its stored chunk ids with their (start, end) lines."""
        out: dict[str, dict[str, tuple[int, int]]] = {p: {} for p in paths}
        for part in _slices(list(paths), 200):
            where = {"path": part[0]} if len(part) == 1 else {"path": {"$in": part}}
            got = self.chunks.get(where=where, include=["metadatas"])
            for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
                m = meta or {}
                out.setdefault(str(m.get("path", "")), {})[cid] = (
                    int(m.get("start", 0)), int(m.get("end", 0)))
        return out

    def ids_by_path(self, paths: Sequence[str]) -> dict[str, set[str]]:
        """The chunk ids stored for each of ``paths``."""
        return {p: set(ids) for p, ids in self.lines_by_path(paths).items()}

    def update_lines(self, chunks: Sequence[Chunk]) -> None:
        """Rewrite the metadata of stored chunks whose text is unchanged but moved."""
        for lo in range(0, len(chunks), WRITE_BATCH):
            part = chunks[lo:lo + WRITE_BATCH]
            self.chunks.update(ids=[c.id for c in part],
                               metadatas=[chunk_metadata(c) for c in part])

    def delete_chunks(self, ids: Iterable[str]) -> int:
        """Delete chunks by id; return how many."""
        ids = list(ids)
        for part in _slices(ids):
            self.chunks.delete(ids=part)
        return len(ids)

    def count(self) -> int:
        """Chunks in the index."""
        return int(self.chunks.count())

    # -- reading ---------------------------------------------------------------------------
    def get(self, where: Mapping[str, Any] | None = None,
            where_document: Mapping[str, Any] | None = None,
            limit: int | None = None) -> list[StoredChunk]:
        """Chunks matching metadata (``where``) and text (``where_document``) filters."""
        got = self.chunks.get(where=where, where_document=where_document, limit=limit,
                              include=["metadatas", "documents"])
        return [_stored(i, d, m) for i, d, m in
                zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False)]

    def query(self, vector: Sequence[float], n: int,
              where: Mapping[str, Any] | None = None,
              where_document: Mapping[str, Any] | None = None) -> list[StoredChunk]:
        """The ``n`` nearest chunks (cosine distance in ``StoredChunk.distance``)."""
        total = self.count()
        if total == 0 or n <= 0:
            return []
        got = self.chunks.query(
            query_embeddings=[list(vector)], n_results=min(n, total), where=where,
            where_document=where_document, include=["metadatas", "documents", "distances"],
        )
        ids = got["ids"][0]
        docs = (got.get("documents") or [[]])[0]
        metas = (got.get("metadatas") or [[]])[0]
        dists = (got.get("distances") or [[]])[0]
        rows = zip(ids, docs, metas, dists, strict=False)
        return [_stored(i, d, m, float(x)) for i, d, m, x in rows]


def _sync_often(collection: Any) -> None:
    """Give a collection made with Chroma's defaults (an index from an earlier version) the
    SYNC_THRESHOLD of new ones; anything unexpected leaves it as it is (it only costs time)."""
    try:
        hnsw = collection.configuration.get("hnsw") or {}
        if hnsw.get("sync_threshold") != SYNC_THRESHOLD:
            collection.modify(configuration={"hnsw": {"sync_threshold": SYNC_THRESHOLD,
                                                      "batch_size": SYNC_THRESHOLD}})
    except Exception:  # reviewer: ignore[RV202] - an older server, a foreign configuration
        return


def _slices(items: list[str], size: int = WRITE_BATCH) -> Iterator[list[str]]:
    for lo in range(0, len(items), size):
        yield items[lo:lo + size]


# -- one writer at a time ------------------------------------------------------------------
@contextmanager
def index_lock(index_dir: Path, wait: float, on_wait: Any = None) -> Iterator[None]:
    """Hold ``index_dir/lock`` (fcntl.flock) while the index is written.

    A second writer waits up to ``wait`` seconds (``on_wait(pid)`` is called once when it
    starts waiting), then fails with a clear message. The lock goes with the process, so a
    killed run never leaves a stale lock behind.
    """
    import time

    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / "lock"
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no locking
        yield
        return
    with open(path, "a+", encoding="utf-8") as fh:
        deadline = time.monotonic() + wait
        warned = False
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _lock_holder(path)
                if time.monotonic() >= deadline:
                    raise ReviewerError(
                        f"another `reviewer index` (pid {holder}) is writing the index at "
                        f"{index_dir}; try again when it has finished") from None
                if not warned and on_wait is not None:
                    on_wait(holder)
                    warned = True
                time.sleep(0.2)
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"{_pid()}\n")
            fh.flush()
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _pid() -> int:
    import os

    return os.getpid()


def _lock_holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "?"
    except OSError:
        return "?"
