"""The index on a real Chroma server (`chroma run` on 127.0.0.1), as a team would share it."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import Repo

pytestmark = pytest.mark.slow

RunCli = Callable[..., tuple[int, str, str]]
UTIL = 'def read_config(path):\n    """Read the settings."""\n    return {"path": path}\n'
APP = "from pkg.util import read_config\n\n\ndef start(root):\n    return read_config(root)\n"


def chroma_executable() -> str:
    local = Path(sys.executable).parent / "chroma"
    found = str(local) if local.exists() else shutil.which("chroma")
    if found is None:
        pytest.skip("the chroma executable is not installed")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` server with its data in a temporary folder."""
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [chroma_executable(), "run", "--path", str(data), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the chroma server did not start")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def make_clone(repo: Repo, name: str) -> None:
    """A project whose origin is ``name`` (each test has its own collection)."""
    repo.git("remote", "add", "origin", f"https://example.com/team/{name}.git")
    repo.write("pkg/__init__.py", "")
    repo.write("pkg/util.py", UTIL)
    repo.write("pkg/app.py", APP)
    repo.commit_all()


def test_index_and_retrieve_on_a_server(repo: Repo, run_cli: RunCli, chroma_url: str) -> None:
    make_clone(repo, "first")
    code, out, err = run_cli("index", "--chroma-url", chroma_url)
    assert code == 0, err
    assert out.startswith("3 files: 3 added")
    assert not (repo.path / ".reviewer/index/chroma").exists()  # nothing stored locally
    code, out, err = run_cli("context", "pkg/app.py:5", "--chroma-url", chroma_url,
                             "--format", "json")
    assert code == 0, err
    first = json.loads(out)["items"][0]
    assert (first["kind"], first["path"], first["name"]) == (
        "definition", "pkg/util.py", "read_config")
    # Without --chroma-url the local index is used, and there is none.
    code, _, err = run_cli("context", "pkg/app.py:5")
    assert code == 2 and "no repository index yet" in err


def test_a_second_clone_shares_the_index(tmp_path: Path, repo: Repo, run_cli: RunCli,
                                         chroma_url: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Clones of one remote use one collection: the second finds everything indexed."""
    make_clone(repo, "shared")
    repo.write("pkg/extra.py", "def extra():\n    return 1\n")
    assert run_cli("index", "--chroma-url", chroma_url)[0] == 0
    other = tmp_path / "clone2"
    subprocess.run(["git", "clone", "-q", str(repo.path), str(other)], check=True)
    subprocess.run(["git", "remote", "set-url", "origin", "https://example.com/team/shared.git"],
                   cwd=other, check=True)
    monkeypatch.chdir(other)
    code, out, err = run_cli("index", "--chroma-url", chroma_url)
    assert code == 0, err
    # The clone has no pkg/extra.py (never committed): it is removed from the shared index.
    assert out.startswith("3 files: 0 added, 0 changed, 1 deleted, 3 unchanged")


def test_config_key_chroma_url(repo: Repo, run_cli: RunCli, chroma_url: str) -> None:
    make_clone(repo, "configured")
    repo.write("pyproject.toml", f'[tool.reviewer]\nchroma-url = "{chroma_url}"\n')
    code, out, err = run_cli("index")
    assert code == 0, err
    assert out.startswith("4 files: 4 added")
    assert not (repo.path / ".reviewer/index/chroma").exists()
