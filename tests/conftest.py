"""Shared fixtures: real git repositories in temporary folders, and the CLI runner."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reviewer.cli import main


class Repo:
    """A real git repository in a temporary folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "t@example.com")
        self.git("config", "user.name", "Test")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        out = subprocess.run(
            ["git", *args], cwd=self.path, check=True, capture_output=True, text=True
        )
        return out.stdout

    def write(self, rel: str, text: str | bytes) -> Path:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text, encoding="utf-8")
        return p

    def stage(self, *rels: str) -> None:
        self.git("add", "--", *rels)

    def write_staged(self, rel: str, text: str | bytes) -> Path:
        """Write ``rel`` and stage it (what most `check --staged` tests start from)."""
        path = self.write(rel, text)
        self.stage(rel)
        return path

    @property
    def feedback_db(self) -> Path:
        """Where `check` records findings and verdicts by default."""
        return self.path / ".reviewer" / "feedback.db"

    def commit(self, message: str = "commit") -> None:
        self.git("commit", "-q", "--allow-empty", "-m", message)

    def commit_all(self, message: str = "commit") -> None:
        """Stage everything (deletions included) and commit."""
        self.git("add", "-A")
        self.commit(message)

    def snapshot(self) -> dict[str, bytes]:
        """Every user file (not .git, not reviewer's own .reviewer/) with its bytes."""
        return snapshot(self.path)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` except .git/ and .reviewer/, with its content."""
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".git", ".reviewer")]
        for name in filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = b"-> " + os.fsencode(os.readlink(path))
            elif path.is_file():
                out[rel] = path.read_bytes()
    return out


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """An empty git repository; the current directory is its root."""
    path = tmp_path / "repo"
    path.mkdir()
    monkeypatch.chdir(path)
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    monkeypatch.delenv("PRE_COMMIT_FROM_REF", raising=False)
    monkeypatch.delenv("PRE_COMMIT_TO_REF", raising=False)
    return Repo(path)


@pytest.fixture
def nogit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A plain folder, not inside any git repository; the current directory."""
    path = tmp_path / "plain"
    path.mkdir()
    monkeypatch.chdir(path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    monkeypatch.delenv("PRE_COMMIT_FROM_REF", raising=False)
    monkeypatch.delenv("PRE_COMMIT_TO_REF", raising=False)
    return path


RunResult = tuple[int, str, str]


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., RunResult]:
    """Run ``reviewer ARGS`` in-process; return (exit code, stdout, stderr).

    Every run must end without a traceback: errors are one line on stderr.
    """

    def _run(*args: str) -> RunResult:
        code = main(list(args))
        out, err = capsys.readouterr()
        if "--debug" not in args:
            assert "Traceback" not in err, err
        return code, out, err

    return _run


@pytest.fixture(autouse=True)
def _no_user_git_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    os.environ.pop("GIT_DIR", None)


JsonRun = tuple[int, dict[str, Any], str]


@pytest.fixture
def run_json(run_cli: Callable[..., RunResult]) -> Callable[..., JsonRun]:
    """Run ``reviewer check --format json ARGS``; return (exit code, report, stderr)."""

    def _run(*args: str) -> JsonRun:
        code, out, err = run_cli("check", "--format", "json", *args)
        assert out, f"no report (exit {code}): {err}"
        return code, json.loads(out), err

    return _run


def where(report: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(path, line, rule) of every finding in a JSON report."""
    return [(f["path"], f["line"], f["rule_id"]) for f in report["findings"]]
