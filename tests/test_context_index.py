"""The repository index with the real embedded ChromaDB and the real embedding model."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from conftest import Repo

from reviewer.config import Config
from reviewer.context import indexer
from reviewer.context.chunks import chunk_file
from reviewer.context.embed import SentenceEmbedder, bundled_model_path
from reviewer.context.indexer import ContextIndex, IndexSettings, open_store, update_index
from reviewer.context.store import Store, index_lock
from reviewer.errors import ReviewerError

UTIL = textwrap.dedent('''\
    """Small helpers."""
    import os


    def join_path(base: str, name: str) -> str:
        """Join two parts of a path."""
        return os.path.join(base, name)


    def read_config(path: str) -> dict:
        """Read the settings file."""
        return {"path": join_path(path, "settings.toml")}
''')
APP = textwrap.dedent('''\
    from pkg.util import read_config


    class App:
        """The application."""

        def start(self, root: str) -> None:
            self.config = read_config(root)
''')
GUIDE = "# Guide\n\nCall `read_config` with the folder.\n\n## Paths\n\nUse `join_path`.\n"
PYPROJECT = "[project]\nname = 'pkg'\n"


class CountingEmbedder:
    """The real model, counting what it embeds (and optionally failing on call N)."""

    def __init__(self, fail_on_call: int = 0, identity: str = "") -> None:
        self.real = SentenceEmbedder(bundled_model_path())
        self.texts: list[str] = []
        self.calls = 0
        self.fail_on_call = fail_on_call
        self._identity = identity

    @property
    def identity(self) -> str:
        return self._identity or self.real.identity

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise KeyboardInterrupt
        self.texts.extend(texts)
        return self.real.embed(texts)


@pytest.fixture
def project(repo: Repo) -> Repo:
    repo.write("pkg/__init__.py", "")
    repo.write("pkg/util.py", UTIL)
    repo.write("pkg/app.py", APP)
    repo.write("docs/guide.md", GUIDE)
    repo.write("pyproject.toml", PYPROJECT)
    repo.write("logo.png", b"\x89PNG\r\n\x1a\n\0\0")
    repo.commit_all()
    return repo


def settings_for(root: Path) -> IndexSettings:
    return IndexSettings.from_config(root, Config())


def all_ids(store: Store) -> set[str]:
    return set(store.chunks.get(include=[])["ids"])


def expected_ids(root: Path, rels: Sequence[str]) -> set[str]:
    return {c.id for rel in rels
            for c in chunk_file(rel, (root / rel).read_text(encoding="utf-8"))}


FILES = ["pkg/app.py", "pkg/util.py", "docs/guide.md", "pyproject.toml"]


def test_build_then_incremental_updates(project: Repo) -> None:
    root = project.path
    settings = settings_for(root)
    store = open_store(settings)
    emb = CountingEmbedder()
    stats = update_index(ContextIndex(settings, store, emb))
    assert (stats.added, stats.changed, stats.deleted) == (5, 0, 0)  # __init__.py: no chunks
    assert all_ids(store) == expected_ids(root, FILES)
    assert set(store.manifest()) == {*FILES, "pkg/__init__.py"}
    assert (root / ".reviewer/index/chroma").is_dir()

    emb.texts.clear()
    stats = update_index(ContextIndex(settings, store, emb))
    assert (stats.added, stats.changed, stats.unchanged, stats.chunks_written) == (0, 0, 5, 0)
    assert emb.texts == []

    project.write("pkg/util.py", UTIL.replace('"settings.toml"', '"config.toml"'))
    stats = update_index(ContextIndex(settings, store, emb))
    assert (stats.changed, stats.unchanged) == (1, 4)
    # Only read_config's text changed: only it is embedded again; its old chunk goes.
    assert [t.splitlines()[0] for t in emb.texts] == ["pkg/util.py read_config"]
    assert (stats.chunks_written, stats.chunks_deleted) == (1, 1)
    assert all_ids(store) == expected_ids(root, FILES)

    (root / "docs/guide.md").unlink()
    project.write("pkg/extra.py", "def extra():\n    return 1\n")
    stats = update_index(ContextIndex(settings, store, emb))
    assert (stats.added, stats.deleted) == (1, 1)
    assert all_ids(store) == expected_ids(root, ["pkg/app.py", "pkg/util.py", "pkg/extra.py",
                                                 "pyproject.toml"])
    assert "docs/guide.md" not in store.manifest()


def test_moved_chunks_keep_their_vectors_and_get_new_lines(project: Repo) -> None:
    settings = settings_for(project.path)
    store = open_store(settings)
    update_index(ContextIndex(settings, store, CountingEmbedder()))
    project.write("pkg/util.py", UTIL.replace('import os\n', 'import os\nimport sys\n\n'))
    emb = CountingEmbedder()
    stats = update_index(ContextIndex(settings, store, emb))
    assert [t.splitlines()[0] for t in emb.texts] == ["pkg/util.py <module>"]  # the header
    assert (stats.chunks_written, stats.chunks_deleted) == (1, 1)
    found = store.get(where={"defines": {"$contains": "read_config"}})
    assert [(c.start, c.end) for c in found] == [(12, 14)]  # was 10-12
    assert all_ids(store) == expected_ids(project.path, FILES)


def test_vectors_are_the_models_and_metadata_is_the_symbol_table(project: Repo) -> None:
    settings = settings_for(project.path)
    store = open_store(settings)
    update_index(ContextIndex(settings, store, CountingEmbedder()))
    found = store.get(where={"defines": {"$contains": "read_config"}})
    assert [(c.path, c.name, c.kind, c.label, c.start, c.end) for c in found] == [
        ("pkg/util.py", "read_config", "function", "code", 10, 12)]
    callers = store.get(where={"calls": {"$contains": "read_config"}})
    assert [c.name for c in callers] == ["App.start"]
    query = SentenceEmbedder(bundled_model_path()).embed(["read the settings file"])[0]
    best = store.query(query, 1, where={"label": "code"})[0]
    assert best.name == "read_config" and best.distance is not None and best.distance < 0.7


def test_interrupted_run_resumes_without_loss(project: Repo,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    root = project.path
    monkeypatch.setattr(indexer, "GROUP_CHUNKS", 1)  # one file per group
    settings = settings_for(root)
    store = open_store(settings)
    with pytest.raises(KeyboardInterrupt):
        update_index(ContextIndex(settings, store, CountingEmbedder(fail_on_call=3)))
    done = store.manifest()
    assert 0 < len(done) < 5  # the files finished before the interruption, and only them
    stats = update_index(ContextIndex(settings, store, CountingEmbedder()))
    assert stats.added == 5 - len(done) and stats.unchanged == len(done)
    assert all_ids(store) == expected_ids(root, FILES)


def test_interrupted_before_the_manifest_write_redoes_the_file(
        project: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project.path
    settings = settings_for(root)
    store = open_store(settings)
    update_index(ContextIndex(settings, store, CountingEmbedder()))
    project.write("pkg/util.py", UTIL.replace("Join two", "Join both"))

    def crash(self: Store, hashes: dict[str, str]) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(Store, "set_files", crash)
        with pytest.raises(KeyboardInterrupt):
            update_index(ContextIndex(settings, store, CountingEmbedder()))
    stats = update_index(ContextIndex(settings, store, CountingEmbedder()))
    assert stats.changed == 1
    assert all_ids(store) == expected_ids(root, FILES)


def test_full_rebuild_and_model_change(project: Repo) -> None:
    settings = settings_for(project.path)
    store = open_store(settings)
    update_index(ContextIndex(settings, store, CountingEmbedder()))
    stats = update_index(ContextIndex(settings, store, CountingEmbedder()), full=True)
    assert stats.rebuilt == "--full" and stats.added == 5
    stats = update_index(ContextIndex(settings, store, CountingEmbedder(identity="other-model")))
    assert stats.rebuilt.startswith("the chunker or the embedding model")
    assert stats.added == 5 and all_ids(store) == expected_ids(project.path, FILES)


def test_refresh_only_named_paths(project: Repo) -> None:
    settings = settings_for(project.path)
    store = open_store(settings)
    update_index(ContextIndex(settings, store, CountingEmbedder()))
    project.write("pkg/util.py", UTIL + "\n\ndef more():\n    return 2\n")
    project.write("pkg/app.py", APP + "\n# changed\n")
    emb = CountingEmbedder()
    stats = update_index(ContextIndex(settings, store, emb), paths=["pkg/util.py", "gone.py"])
    assert (stats.changed, stats.deleted) == (1, 0)
    assert all(t.startswith("pkg/util.py ") for t in emb.texts)
    assert store.manifest()["pkg/app.py"] != indexer.content_hash(APP + "\n# changed\n")


def test_excluded_and_oversized_files_are_left_out(project: Repo) -> None:
    project.write("vendor/big.py", "x = 1\n" * 100_000)
    project.write("examples/demo.py", "def demo():\n    pass\n")
    settings = IndexSettings.from_config(project.path, Config(exclude=("examples/",)))
    store = open_store(settings)
    stats = update_index(ContextIndex(settings, store, CountingEmbedder()))
    assert "vendor/big.py" not in store.manifest()
    assert "examples/demo.py" not in store.manifest()
    assert any(s.startswith("vendor/big.py: ") for s in stats.skipped)


# -- one writer at a time ------------------------------------------------------------------
HOLD = """
import sys, time
from pathlib import Path
from reviewer.context.store import index_lock
with index_lock(Path(sys.argv[1]), 0):
    print("locked", flush=True)
    time.sleep(30)
"""


def hold_lock(index_dir: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(index_dir)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_writer_waits_then_gives_a_clear_error(tmp_path: Path) -> None:
    proc = hold_lock(tmp_path)
    try:
        waited: list[str] = []
        with pytest.raises(ReviewerError, match=r"another `reviewer index` \(pid \d+\)"), \
                index_lock(tmp_path, 0.3, waited.append):
            pass
        assert waited == [str(proc.pid)]
    finally:
        proc.kill()
        proc.wait()
    with index_lock(tmp_path, 0):  # released when its holder died
        pass


def test_cli_index_waits_for_the_lock(project: Repo, run_cli: Callable[..., tuple[int, str, str]],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewer.cli import context as cli_context

    monkeypatch.setattr(cli_context, "LOCK_WAIT", 0.3)
    proc = hold_lock(project.path / ".reviewer/index")
    try:
        code, out, err = run_cli("index")
    finally:
        proc.kill()
        proc.wait()
    assert code == 2 and out == ""
    assert f"waiting for another `reviewer index` (pid {proc.pid})" in err
    assert "reviewer: error: another `reviewer index`" in err


@pytest.mark.slow
def test_two_index_processes_at_once(project: Repo) -> None:
    """Both finish; the second waited for the first; the index is whole."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    cmd = [sys.executable, "-m", "reviewer", "index"]
    procs = [subprocess.Popen(cmd, cwd=project.path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)]
    time.sleep(0.2)
    procs.append(subprocess.Popen(cmd, cwd=project.path, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sorted(o.splitlines()[0].split(":")[1].split(";")[0].strip() for o, _ in outs) == [
        "0 added, 0 changed, 0 deleted, 5 unchanged", "5 added, 0 changed, 0 deleted, 0 unchanged"]
    store = open_store(settings_for(project.path))
    assert all_ids(store) == expected_ids(project.path, FILES)


# -- the command ---------------------------------------------------------------------------
def test_cli_index(project: Repo, run_cli: Callable[..., tuple[int, str, str]]) -> None:
    code, out, err = run_cli("index")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("5 files: 5 added, 0 changed, 0 deleted, 0 unchanged; ")
    assert "Style profile:" in lines[-1]
    assert (project.path / ".reviewer/style.json").is_file()
    code, out, _ = run_cli("index", "-q")
    assert (code, out) == (0, "")
    code, out, _ = run_cli("index", "--full")
    assert code == 0 and out.startswith("Rebuilt the index (--full).\n5 files: 5 added")


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://x", "chroma-url must look like http://HOST:PORT"),
    ("http://127.0.0.1:9", "cannot reach the Chroma server at http://127.0.0.1:9"),
])
def test_cli_index_bad_server(project: Repo, run_cli: Callable[..., tuple[int, str, str]],
                              url: str, message: str) -> None:
    code, out, err = run_cli("index", "--chroma-url", url)
    assert code == 2 and out == ""
    assert err.startswith(f"reviewer: error: {message}") and len(err.splitlines()) == 1


def test_cli_does_not_import_heavy_libraries() -> None:
    code = ("import sys, reviewer.cli, reviewer.context.retrieve, reviewer.context.indexer;"
            "print(sorted(m for m in ('chromadb', 'torch', 'sentence_transformers') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def run_on_a_terminal(cwd: Path, args: list[str]) -> tuple[int, str, str]:
    """``python -m reviewer ARGS`` with stderr on a real pseudo-terminal, stdout on a pipe."""
    import pty

    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "100",
           "PYTHONPATH": str(Path(__file__).parent.parent)}
    proc = subprocess.Popen([sys.executable, "-m", "reviewer", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the other side closed
            break
        if not data:
            break
        chunks.append(data)
    out, _ = proc.communicate(timeout=300)
    os.close(master)
    return proc.returncode, out.decode(), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_progress_bar_on_a_terminal_only(project: Repo) -> None:
    code, out, err = run_on_a_terminal(project.path, ["index"])
    assert code == 0 and out.startswith("5 files: 5 added")
    assert "Embedding chunks" in err and "9/9" in err and "Traceback" not in err
    assert "Loading weights" not in err  # the model loads quietly
    project.write("pkg/util.py", UTIL + "\n\ndef more():\n    return 1\n")
    code, out, err = run_on_a_terminal(project.path, ["index", "-q"])
    assert (code, out, err) == (0, "", "")


@pytest.mark.slow
@pytest.mark.parametrize("delay", [1.0, 4.0])
def test_a_killed_run_leaves_a_usable_index(repo: Repo, delay: float) -> None:
    """SIGKILL at some point of a run; the next run completes the same index."""
    for n in range(12):
        repo.write(f"pkg/mod{n}.py", "".join(
            f"def f{n}_{k}(x):\n    '''Function {k} of module {n}.'''\n    return x + {k}\n\n\n"
            for k in range(20)))
    repo.commit_all()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    proc = subprocess.Popen([sys.executable, "-m", "reviewer", "index", "-q"], cwd=repo.path,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.kill()
    proc.wait()
    done = subprocess.run([sys.executable, "-m", "reviewer", "index"], cwd=repo.path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    files = [f"pkg/mod{n}.py" for n in range(12)]
    store = open_store(settings_for(repo.path))
    assert all_ids(store) == expected_ids(repo.path, files)
    assert set(store.manifest()) == set(files)


def test_cli_index_without_git(nogit: Path, run_cli: Callable[..., tuple[int, str, str]]) -> None:
    (nogit / "lib.py").write_text("def f():\n    return 1\n")
    (nogit / ".hidden").mkdir()
    (nogit / ".hidden" / "skip.py").write_text("def g():\n    return 2\n")
    code, out, err = run_cli("index")
    assert code == 0, err
    assert out.startswith("1 files: 1 added")


def test_cli_index_bad_embedding_model(project: Repo,
                                       run_cli: Callable[..., tuple[int, str, str]]) -> None:
    project.write("pyproject.toml", '[tool.reviewer]\nembedding-model = "no/such/model"\n')
    code, out, err = run_cli("index")
    assert (code, out) == (2, "")
    assert err == ("reviewer: error: embedding-model 'no/such/model' is not a "
                   "sentence-transformers folder\n")
