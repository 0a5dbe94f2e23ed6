"""Small multi-file reviews split with one forked child (reviewer.engine._run_forked): the
same result as one process, whatever happens to the child."""

from __future__ import annotations

import json
import os
import subprocess
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


# Run in a fresh interpreter: the test process may have threads left by other tests, and
# the split forks only a single-threaded process.
PROBE = """
import json, os, pickle, sys
from pathlib import Path
from reviewer import engine
from reviewer.config import Config
root, mode = Path(sys.argv[1]), sys.argv[2]
engine.FORK_MIN_BYTES = 10**12 if mode == "serial" else 0
forks = []
real_fork = os.fork
def counting_fork():
    forks.append(1)
    return real_fork()
os.fork = counting_fork
if mode == "failing-child":
    parent, real_dumps = os.getpid(), pickle.dumps
    def dumps(obj, *args, **kwargs):
        if os.getpid() != parent and isinstance(obj, dict):
            raise MemoryError("the child runs out")
        return real_dumps(obj, *args, **kwargs)
    pickle.dumps = dumps
files = sorted(p.name for p in root.glob("*.py"))
result = engine.run(engine.Job(root, files), Config(cache=False, jobs=2))
print(json.dumps({"forks": len(forks), "findings": sorted(
    (f.path, f.span.line, f.rule_id, f.message, f.fingerprint) for f in result.findings)}))
"""


def review_in_process(root: Path, mode: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", PROBE, str(root), mode],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    got: dict[str, Any] = json.loads(proc.stdout)
    return got


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


def test_the_forked_split_gives_the_one_process_result(tree: Path) -> None:
    serial = review_in_process(tree, "serial")
    split = review_in_process(tree, "split")
    assert (serial["forks"], split["forks"]) == (0, 1)
    assert split["findings"] == serial["findings"]
    assert {f[0] for f in serial["findings"]} == {"a.py", "b.py", "c.py", "d.py"}


def test_a_child_that_fails_leaves_its_files_to_the_parent(tree: Path) -> None:
    serial = review_in_process(tree, "serial")
    failed = review_in_process(tree, "failing-child")
    assert failed["forks"] == 1
    assert failed["findings"] == serial["findings"]


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
