"""Small multi-file reviews split with one forked child (reviewer.engine._run_forked): the
same result as one process, whatever happens to the child."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path
from typing import Any

import pytest

from reviewer import engine
from reviewer.config import Config

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the split forks on Linux only")

FILES = {
    "a.py": "def f(x=[]):\n    print(x)\n    return eval(x)\n" * 40,
    "b.py": "import pickle\n\n\ndef g(data):\n    return pickle.loads(data)\n" * 30,
    "c.py": "def h():\n    try:\n        return 1\n    except Exception:\n        pass\n" * 30,
    "d.py": "def broken(:\n",
}


def review(root: Path, monkeypatch: pytest.MonkeyPatch, min_bytes: int) -> list[Any]:
    monkeypatch.setattr(engine, "FORK_MIN_BYTES", min_bytes)
    result = engine.run(engine.Job(root, sorted(FILES)), Config(cache=False, jobs=2))
    return sorted((f.path, f.span.line, f.rule_id, f.message, f.fingerprint)
                  for f in result.findings)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for rel, text in FILES.items():
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_the_forked_split_gives_the_one_process_result(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forks: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", counting_fork)
    serial = review(tree, monkeypatch, 10**12)
    assert forks == []
    split = review(tree, monkeypatch, 0)
    assert forks == [1]
    assert split == serial
    assert {p for p, *_ in serial} == {"a.py", "b.py", "c.py", "d.py"}


def test_a_child_that_fails_leaves_its_files_to_the_parent(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = review(tree, monkeypatch, 10**12)
    parent = os.getpid()
    real_dumps = pickle.dumps

    def dumps_failing_in_the_child(obj: object, *args: Any, **kwargs: Any) -> bytes:
        if os.getpid() != parent and isinstance(obj, dict):
            raise MemoryError("the child runs out")
        return real_dumps(obj, *args, **kwargs)

    monkeypatch.setattr(engine.pickle, "dumps", dumps_failing_in_the_child)
    assert review(tree, monkeypatch, 0) == serial


def test_no_fork_in_a_process_with_other_threads(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        monkeypatch.setattr(os, "fork", lambda: pytest.fail("forked with a second thread"))
        assert review(tree, monkeypatch, 0)
    finally:
        stop.set()
        other.join()
