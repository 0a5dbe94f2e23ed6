"""The real pre-commit tool runs `reviewer check` the way users' hooks do: staged files
(with unstaged changes stashed), --all-files, and the pre-push stage's ref range."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Repo

BIN = Path(sys.executable).parent
if not (BIN / "pre-commit").exists() or not (BIN / "reviewer").exists():
    pytest.skip("pre-commit or the reviewer script is not installed", allow_module_level=True)

CONFIG = """\
repos:
  - repo: local
    hooks:
      - id: reviewer
        name: reviewer
        entry: reviewer check --select RV101
        language: system
        require_serial: true
        types_or: [python, pyi]
        stages: [pre-commit, pre-push, manual]
"""
CLEAN = "A = 1\n"
MUTABLE = "\n\ndef f(x=[]):\n    return x\n"


def pre_commit(repo: Repo, *args: str) -> tuple[int, str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    for name in ("PRE_COMMIT", "PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF"):
        env.pop(name, None)
    proc = subprocess.run([str(BIN / "pre-commit"), "run", *args], cwd=repo.path, env=env,
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


def test_real_pre_commit(repo: Repo) -> None:
    repo.write(".pre-commit-config.yaml", CONFIG)
    repo.write("a.py", CLEAN)
    repo.write("old.py", CLEAN + MUTABLE)  # committed debt, not part of the change
    repo.commit_all("init")
    base = repo.git("rev-parse", "HEAD").strip()

    # Staged change with a finding, plus an unstaged edit that pre-commit stashes.
    repo.write("a.py", CLEAN + MUTABLE)
    repo.stage("a.py")
    repo.write("a.py", CLEAN + MUTABLE + "# not staged\n")
    code, out = pre_commit(repo)
    assert code == 1, out
    assert "a.py:4:9: RV101" in out and "old.py" not in out
    assert "Traceback" not in out
    assert (repo.path / "a.py").read_text().endswith("# not staged\n")  # restored, unchanged

    # --all-files: nothing staged is special any more; every Python file is reviewed whole.
    code, out = pre_commit(repo, "--all-files")
    assert code == 1
    assert "a.py:4:9: RV101" in out and "old.py:4:9: RV101" in out

    # pre-push: the pushed range only; a clean range passes.
    repo.write("a.py", CLEAN + "B = 2\n")
    repo.commit_all("clean change")
    tip = repo.git("rev-parse", "HEAD").strip()
    code, out = pre_commit(repo, "--hook-stage", "pre-push", "--from-ref", base, "--to-ref", tip)
    assert code == 0, out
    repo.write("b.py", CLEAN + MUTABLE)
    repo.commit_all("bad change")
    tip = repo.git("rev-parse", "HEAD").strip()
    code, out = pre_commit(repo, "--hook-stage", "pre-push", "--from-ref", base, "--to-ref", tip)
    assert code == 1 and "b.py:4:9: RV101" in out and "old.py" not in out
