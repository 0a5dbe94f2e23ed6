"""The pre-commit hooks, run by the real `pre-commit` in temporary git repositories.

The hook repository is a snapshot of this checkout as a fresh clone would have it (tracked
plus untracked, not ignored files, committed once per session), so pre-commit installs
exactly what a user's ``pip install`` of the repository would get. ``pre-commit try-repo``
installs the hook into a new environment on every call (it uses a temporary store), which
takes seconds: those tests are marked slow.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from tree_snapshot import committed_copy

if TYPE_CHECKING:
    from conftest import Repo

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

VIOLATING = "def add(item, items=[]):\n    items.append(item)\n    return items\n"
CLEAN = '''\
"""Greeting helpers."""


def greet(name: str) -> str:
    """Return a greeting for ``name``."""
    return f"hello {name}"
'''


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A committed snapshot of the working tree: (path, commit sha)."""
    snap = tmp_path_factory.mktemp("hook-repo")
    return snap, committed_copy(snap)


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pre-commit's store for this test session (environments are reused across tests)."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def pc_env(pre_commit_home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment pre-commit runs in: its own store, no outer hook variables."""
    monkeypatch.setenv("PRE_COMMIT_HOME", str(pre_commit_home))
    for var in ("PRE_COMMIT", "PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF", "VIRTUAL_ENV"):
        monkeypatch.delenv(var, raising=False)
    return dict(os.environ)


def pre_commit(repo: Repo, *args: str, env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args], cwd=repo.path,
        capture_output=True, text=True, env=env,
    )


def git(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo.path, capture_output=True, text=True)


def manifest() -> list[dict[str, Any]]:
    hooks: list[dict[str, Any]] = yaml.safe_load(
        (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    )
    return hooks


# -- the manifest ------------------------------------------------------------------------
def test_manifest_is_valid_for_pre_commit() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest",
         str(ROOT / ".pre-commit-hooks.yaml")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_manifest_follows_the_conventions() -> None:
    hooks = {h["id"]: h for h in manifest()}
    assert set(hooks) == {"reviewer", "reviewer-system"}
    assert hooks["reviewer"]["language"] == "python"
    assert hooks["reviewer-system"]["language"] == "system"
    for hook in hooks.values():
        assert hook["entry"] == "reviewer check"
        assert hook["require_serial"] is True  # one process: caches and model shared
        assert hook["types_or"] == ["python", "pyi", "javascript", "jsx", "ts", "tsx", "go"]
        assert hook["stages"] == ["pre-commit", "pre-push", "manual"]
        assert hook["minimum_pre_commit_version"] == "3.2.0"
        assert "--fix" not in hook["entry"]  # a hook that edits files fails anyway


# -- try-repo ----------------------------------------------------------------------------
@pytest.mark.slow
def test_try_repo_fails_a_violating_change(
    repo: Repo, hook_repo: tuple[Path, str], pc_env: dict[str, str]
) -> None:
    repo.write("clean.py", CLEAN)
    repo.commit_all("base")
    repo.write("lib/bad.py", VIOLATING)
    repo.stage("lib/bad.py")
    proc = pre_commit(repo, "try-repo", str(hook_repo[0]), "reviewer",
                      "--ref", hook_repo[1], "--files", "lib/bad.py", env=pc_env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "reviewer" in out and "Failed" in out
    assert "lib/bad.py:1:21: RV101 Mutable default argument items=[]" in out
    assert (repo.path / "lib/bad.py").read_text(encoding="utf-8") == VIOLATING  # untouched


@pytest.mark.slow
def test_try_repo_passes_a_clean_change(
    repo: Repo, hook_repo: tuple[Path, str], pc_env: dict[str, str]
) -> None:
    # The committed file violates, but only the staged change is reviewed.
    repo.write("old.py", VIOLATING)
    repo.commit_all("base")
    repo.write("greet.py", CLEAN)
    repo.stage("greet.py")
    proc = pre_commit(repo, "try-repo", str(hook_repo[0]), "reviewer",
                      "--ref", hook_repo[1], "--files", "greet.py", env=pc_env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Passed" in out


def test_try_repo_system_hook_uses_the_installed_reviewer(
    repo: Repo, hook_repo: tuple[Path, str], pc_env: dict[str, str]
) -> None:
    env = {**pc_env, "PATH": os.pathsep.join([str(VENV_BIN), pc_env.get("PATH", "")])}
    repo.write("lib/bad.py", VIOLATING)
    repo.write("greet.py", CLEAN)
    repo.stage("lib/bad.py", "greet.py")
    bad = pre_commit(repo, "try-repo", str(hook_repo[0]), "reviewer-system",
                     "--ref", hook_repo[1], "--files", "lib/bad.py", env=env)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "lib/bad.py:1:21: RV101" in bad.stdout
    good = pre_commit(repo, "try-repo", str(hook_repo[0]), "reviewer-system",
                      "--ref", hook_repo[1], "--files", "greet.py", env=env)
    assert good.returncode == 0, good.stdout + good.stderr


# -- installed hooks: real commits and pushes ----------------------------------------------
def _install(repo: Repo, hook_repo: tuple[Path, str], env: dict[str, str]) -> None:
    config = {"repos": [{"repo": str(hook_repo[0]), "rev": hook_repo[1],
                         "hooks": [{"id": "reviewer"}]}]}
    repo.write(".pre-commit-config.yaml", yaml.safe_dump(config))
    repo.commit_all("pre-commit config")
    proc = pre_commit(repo, "install", "--install-hooks",
                      "--hook-type", "pre-commit", "--hook-type", "pre-push", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_installed_hook_rejects_a_violating_commit_and_push(
    repo: Repo, hook_repo: tuple[Path, str], pc_env: dict[str, str], tmp_path: Path
) -> None:
    _install(repo, hook_repo, pc_env)

    # pre-commit stage: a violating commit is rejected, a clean one goes through.
    repo.write("bad.py", VIOLATING)
    repo.stage("bad.py")
    rejected = git(repo, "commit", "-m", "violating")
    assert rejected.returncode != 0
    assert "bad.py:1:21: RV101" in rejected.stdout + rejected.stderr
    assert "violating" not in repo.git("log", "--format=%s")
    repo.git("rm", "-q", "--cached", "bad.py")
    (repo.path / "bad.py").unlink()

    # The staged content is reviewed even when the file on disk differs (pre-commit
    # stashes the unstaged fix away first).
    repo.write("staged.py", VIOLATING)
    repo.stage("staged.py")
    repo.write("staged.py", CLEAN)
    assert git(repo, "commit", "-m", "staged violation").returncode != 0
    assert (repo.path / "staged.py").read_text(encoding="utf-8") == CLEAN  # restored
    repo.stage("staged.py")
    clean = git(repo, "commit", "-m", "clean")
    assert clean.returncode == 0, clean.stdout + clean.stderr

    # pre-push stage: the pushed range is reviewed (the hook skipped at commit time).
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    pushed = git(repo, "push", "-q", "origin", "main")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    repo.write("pushed.py", VIOLATING)
    repo.stage("pushed.py")
    skipped = subprocess.run(["git", "commit", "-q", "-m", "sneaky"], cwd=repo.path,
                             capture_output=True, text=True, env={**pc_env, "SKIP": "reviewer"})
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    refused = git(repo, "push", "origin", "main")
    assert refused.returncode != 0
    assert "pushed.py:1:21: RV101" in refused.stdout + refused.stderr
    assert repo.git("rev-parse", "HEAD") != subprocess.run(
        ["git", "rev-parse", "main"], cwd=remote, capture_output=True, text=True
    ).stdout


# -- model explanations in the hook: a hard time limit, then fail-open ------------------------
@pytest.fixture
def silent_server() -> Iterator[str]:
    """An OpenAI-compatible URL whose server accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(sock.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    sock.close()


@pytest.mark.slow  # two pre-commit runs, each waiting out the model's time limit
def test_model_timeout_lets_the_commit_through_with_one_warning(
    repo: Repo, hook_repo: tuple[Path, str], pc_env: dict[str, str], silent_server: str
) -> None:
    env = {**pc_env, "PATH": os.pathsep.join([str(VENV_BIN), pc_env.get("PATH", "")])}
    model = ["--explain", "--server-url", silent_server, "--llm-timeout", "1"]

    def configure(*extra: str) -> None:
        hook = {"id": "reviewer-system", "args": [*model, *extra], "verbose": True}
        config = {"repos": [{"repo": str(hook_repo[0]), "rev": hook_repo[1],
                             "hooks": [hook]}]}
        repo.write(".pre-commit-config.yaml", yaml.safe_dump(config))

    repo.write("mod.py", VIOLATING)  # RV101 is medium
    configure("--fail-on", "high")
    repo.stage("mod.py", ".pre-commit-config.yaml")
    passed = pre_commit(repo, "run", "--files", "mod.py", env=env)
    out = passed.stdout + passed.stderr
    assert passed.returncode == 0, out  # the model gave up; nothing at the threshold
    warnings = [ln for ln in out.splitlines() if ln.startswith("reviewer: warning:")]
    assert len(warnings) == 1 and "did not answer within 1s" in warnings[0], out
    assert "mod.py:1:21: RV101" in out

    configure()  # default threshold: the rule findings still fail the hook
    repo.stage(".pre-commit-config.yaml")
    failed = pre_commit(repo, "run", "--files", "mod.py", env=env)
    assert failed.returncode == 1
    assert "did not answer within 1s" in failed.stdout and "RV101" in failed.stdout
