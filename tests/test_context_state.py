"""The record beside an embedded index: nothing changed means ChromaDB is never opened.

Real ChromaDB and the real model (its numpy engine: these updates are small).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo

from reviewer import diff
from reviewer.config import Config
from reviewer.context import indexer
from reviewer.context.indexer import (
    ContextIndex,
    IndexSettings,
    IndexStats,
    open_store,
    refresh_index,
    update_index,
)
from reviewer.context.state import STATE_NAME
from reviewer.context.store import SYNC_THRESHOLD, Store

UTIL = textwrap.dedent('''\
    """Small helpers."""


    def join_path(base: str, name: str) -> str:
        """Join two parts of a path."""
        return base + "/" + name
''')
APP = "from pkg.util import join_path\n\n\ndef start(root):\n    return join_path(root, 'x')\n"
OLD = 1_600_000_000  # a modification time long before any run


@pytest.fixture
def project(repo: Repo) -> Repo:
    repo.write("pkg/__init__.py", "")
    repo.write("pkg/util.py", UTIL)
    repo.write("pkg/app.py", APP)
    repo.write("docs/guide.md", "# Guide\n\nUse `join_path`.\n")
    repo.write("logo.json", b"\0binary")
    repo.commit_all()
    for rel in ("pkg/__init__.py", "pkg/util.py", "pkg/app.py", "docs/guide.md", "logo.json"):
        os.utime(repo.path / rel, (OLD, OLD))  # not "just modified": the record trusts them
    return repo


def state(root: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (root / ".reviewer/index" / STATE_NAME).read_text(encoding="utf-8"))
    return data


def store_of(root: Path) -> Store:
    return open_store(IndexSettings.from_config(root, Config()))


def no_store(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> Store:
        raise AssertionError("the index was opened")

    monkeypatch.setattr(indexer, "open_store", refuse)


def test_nothing_changed_opens_nothing(project: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    first = refresh_index(project.path, Config())
    assert first.opened and first.added == 4
    with monkeypatch.context() as m:
        no_store(m)
        again = refresh_index(project.path, Config())
    assert not again.opened
    assert (again.files, again.unchanged, again.chunks_written) == (4, 4, 0)
    assert again.chunks_total == first.chunks_total == store_of(project.path).count()
    assert again.skipped == first.skipped == ["logo.json: binary"]
    assert again.hashes == first.hashes
    assert again.summary().startswith("4 files: 0 added, 0 changed, 0 deleted, 4 unchanged")


def test_nothing_changed_imports_neither_chromadb_nor_torch(project: Repo) -> None:
    refresh_index(project.path, Config())
    code = ("import sys; from pathlib import Path; from reviewer.config import Config;"
            "from reviewer.context.indexer import refresh_index;"
            "s = refresh_index(Path.cwd(), Config());"
            "print(s.opened, s.unchanged, sorted(m for m in ('chromadb', 'torch', 'numpy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=project.path, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "False 4 []"


def test_counts_and_record_follow_every_change(project: Repo) -> None:
    root = project.path
    refresh_index(root, Config())

    def check(stats: IndexStats, *, added: int = 0, changed: int = 0, deleted: int = 0) -> None:
        assert stats.opened
        assert (stats.added, stats.changed, stats.deleted) == (added, changed, deleted)
        store = store_of(root)
        assert stats.chunks_total == store.count()
        record = state(root)["files"]
        assert isinstance(record, dict)
        assert {k: v[0] for k, v in record.items() if not v[3]} == store.manifest()

    project.write("pkg/util.py", UTIL + "\n\ndef more():\n    return 2\n")
    check(refresh_index(root, Config()), changed=1)
    project.write("pkg/extra.py", "def extra():\n    return 1\n")
    (root / "docs/guide.md").unlink()
    check(refresh_index(root, Config()), added=1, deleted=1)
    project.write("pkg/app.py", b"\0now binary")
    check(refresh_index(root, Config()), deleted=1)


def test_a_touched_file_is_read_once_then_trusted(project: Repo,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    root = project.path
    refresh_index(root, Config())
    os.utime(root / "pkg/util.py", (OLD + 60, OLD + 60))  # same text, new time
    reads: list[str] = []
    real = indexer.read_text

    def counting(root: Path, rel: str, max_size: int) -> tuple[str | None, str]:
        reads.append(rel)
        return real(root, rel, max_size)

    monkeypatch.setattr(indexer, "read_text", counting)
    no_store(monkeypatch)
    assert not refresh_index(root, Config()).opened
    assert reads == ["pkg/util.py"]
    reads.clear()
    assert not refresh_index(root, Config()).opened
    assert reads == []


def test_an_edit_that_keeps_size_and_time_is_seen_when_recent(project: Repo) -> None:
    """A file written just before a run is read again next time: its timestamp cannot
    tell an edit in the same instant apart (git's "racy clean" files)."""
    root = project.path
    path = project.write("pkg/util.py", UTIL.replace("Join two", "Glue two"))
    refresh_index(root, Config())
    st = path.stat()
    path.write_text(UTIL.replace("Join two", "Bind two"), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size
    stats = refresh_index(root, Config())
    assert stats.opened and stats.changed == 1


def test_an_interrupted_run_leaves_no_record(project: Repo,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    root = project.path
    refresh_index(root, Config())
    project.write("pkg/util.py", UTIL + "\n\ndef more():\n    return 2\n")

    def crash(self: Store, *args: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(Store, "upsert", crash)
        with pytest.raises(KeyboardInterrupt):
            refresh_index(root, Config())
    assert not (root / ".reviewer/index" / STATE_NAME).exists()
    stats = refresh_index(root, Config())
    assert stats.opened and stats.changed == 1 and stats.chunks_total == store_of(root).count()


def test_a_record_made_otherwise_is_not_used(project: Repo, tmp_path: Path) -> None:
    from test_context_embed import model_copy

    from reviewer.context.embed import bundled_model_path

    root = project.path
    refresh_index(root, Config())
    stats = refresh_index(root, Config(max_file_size=10_000))
    assert stats.opened and stats.unchanged == 4
    other = model_copy(bundled_model_path(), tmp_path / "other-model")
    stats = refresh_index(root, Config(embedding_model=str(other)))
    assert stats.opened and stats.rebuilt.startswith("the chunker or the embedding model")


def test_a_removed_database_is_built_again(project: Repo) -> None:
    import shutil

    root = project.path
    refresh_index(root, Config())
    shutil.rmtree(root / ".reviewer/index/chroma")
    # A new process: this one's Chroma client remembers the removed database.
    out = subprocess.run([sys.executable, "-m", "reviewer", "index"], cwd=root,
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("4 files: 4 added, 0 changed, 0 deleted, 0 unchanged;")


def test_refreshing_named_files_keeps_the_record(project: Repo,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``check`` does (PromptContext, refresh_files) keeps `reviewer index` fast."""
    root = project.path
    refresh_index(root, Config())
    project.write("pkg/util.py", UTIL + "\n\ndef more():\n    return 2\n")
    os.utime(root / "pkg/util.py", (OLD + 60, OLD + 60))
    stats = update_index(ContextIndex.open(root, Config()), paths=["pkg/util.py"])
    assert stats.changed == 1
    no_store(monkeypatch)
    again = refresh_index(root, Config())
    assert not again.opened and again.chunks_total == stats.chunks_total


def test_full_rebuilds_even_when_nothing_changed(project: Repo) -> None:
    refresh_index(project.path, Config())
    stats = refresh_index(project.path, Config(), full=True)
    assert stats.opened and stats.rebuilt == "--full" and stats.added == 4


def test_cli_index_twice_rewrites_nothing(project: Repo,
                                          run_cli: Callable[..., tuple[int, str, str]]) -> None:
    root = project.path
    assert run_cli("index", "-q")[0] == 0
    files = [root / ".reviewer/style.json", root / ".reviewer/index/style-cache.json",
             root / ".reviewer/index" / STATE_NAME]
    before = [f.stat().st_mtime_ns for f in files]
    code, out, _ = run_cli("index")
    assert code == 0 and out.startswith("4 files: 0 added, 0 changed, 0 deleted, 4 unchanged;")
    assert [f.stat().st_mtime_ns for f in files] == before
    project.write("pkg/util.py", UTIL + "\n\ndef more() -> int:\n    return 2\n")
    code, out, _ = run_cli("index")
    assert code == 0 and "1 changed" in out
    assert all(f.stat().st_mtime_ns != b for f, b in zip(files, before, strict=True))


def test_walk_lists_what_diff_walk_files_lists(tmp_path: Path) -> None:
    for rel in ("a.py", "pkg/b.py", "pkg/deep/c.md", ".hidden/x.py", "node_modules/m.js",
                "build/gen.py", "pkg/.cache/y.py", "pkg/__pycache__/b.pyc", ".env"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x\n", encoding="utf-8")
    (tmp_path / "link_dir").symlink_to(tmp_path / "pkg")
    (tmp_path / "link_file.py").symlink_to(tmp_path / "a.py")
    (tmp_path / "broken.py").symlink_to(tmp_path / "missing.py")
    assert indexer.walk_files(tmp_path) == diff.walk_files(tmp_path)
    assert "pkg/deep/c.md" in indexer.walk_files(tmp_path)


@pytest.mark.filterwarnings("ignore:legacy embedding function config:DeprecationWarning")
def test_collections_save_their_vector_index_often(tmp_path: Path) -> None:
    import chromadb
    from chromadb.config import Settings

    folder = tmp_path / "index" / "chroma"
    old = chromadb.PersistentClient(path=str(folder),
                                    settings=Settings(anonymized_telemetry=False))
    old.create_collection("reviewer-old-chunks", embedding_function=None,
                          metadata={"hnsw:space": "cosine"})  # as earlier versions did
    config: Any = old.get_collection("reviewer-old-chunks").configuration
    assert config["hnsw"]["sync_threshold"] == 1000
    for base in ("reviewer-old", "reviewer-new"):
        store = Store(old, base)
        for collection in (store.chunks, store.files):
            hnsw = collection.configuration["hnsw"]
            assert (hnsw["sync_threshold"], hnsw["space"]) == (SYNC_THRESHOLD, "cosine")
