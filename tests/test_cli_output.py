"""What the CLI prints around the report: progress on a terminal, -q, help; and that
`reviewer check` stays light (no heavy library imported)."""

from __future__ import annotations

import ast
import os
import pty
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Repo, RunResult

import reviewer.cli.pipeline as pipeline

MUTABLE = "def f(x=[]):\n    return x\n"
HEAVY = ("llama_cpp", "mlx", "mlx_lm", "chromadb", "sentence_transformers", "github", "torch",
         "transformers", "numpy", "jsonschema", "tree_sitter", "httpx", "requests", "yaml")


def _run_on_a_terminal(cwd: Path, code: str) -> tuple[int, str, str]:
    """Run ``python -c code`` with stderr on a real pseudo-terminal, stdout on a pipe."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=slave, env={**os.environ, "COLUMNS": "80"})
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
    out, _ = proc.communicate(timeout=60)
    os.close(master)
    return proc.returncode, out.decode(), b"".join(chunks).decode("utf-8", "replace")


def test_progress_bar_on_a_terminal(nogit: Path) -> None:
    for i in range(3):
        (nogit / f"m{i}.py").write_text(MUTABLE)
    script = (
        "import reviewer.cli as c, reviewer.cli.pipeline as p; p.PROGRESS_MIN_FILES = 1; "
        "raise SystemExit(c.main(['check', '--all', '--no-cache', '--select', 'RV101'{q}]))"
    )
    code, out, err = _run_on_a_terminal(nogit, script.format(q=""))
    assert code == 1
    assert "reviewing" in err and "100%" in err
    assert out.count("RV101") == 3 and "Traceback" not in err
    code, out, err = _run_on_a_terminal(nogit, script.format(q=", '-q'"))
    assert code == 1 and err == "" and out.count("RV101") == 3


def test_no_progress_bar_without_a_terminal(
    repo: Repo, run_cli: Callable[..., RunResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "PROGRESS_MIN_FILES", 0)
    repo.write("a.py", MUTABLE)
    code, _, err = run_cli("check", "a.py")
    assert code == 1 and "reviewing" not in err


def test_quiet_prints_only_findings(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write("pyproject.toml", "[tool.reviewer]\nunknown-key = 1\n")
    repo.write("a.py", MUTABLE)
    repo.write("latin.py", b"x = '\xe9'\n")
    code, out, err = run_cli("check", "a.py", "latin.py", "--select", "RV101")
    assert code == 1 and out.endswith("1 finding in 1 file (1 not reviewed; 1 fixable with"
                                      " `reviewer fix`).\n")
    assert err.count("reviewer: warning:") == 2
    code, out, err = run_cli("check", "a.py", "latin.py", "--select", "RV101", "-q")
    assert code == 1 and err == ""
    assert out.splitlines() == [
        "a.py:1:9: RV101 Mutable default argument x=[]: the default object is shared between"
        " calls."]
    code, out, err = run_cli("check", "-q")  # nothing staged: no note either
    assert (code, out, err) == (0, "", "")


def test_help_and_version(run_cli: Callable[..., RunResult]) -> None:
    code, out, _ = run_cli("check", "--help")
    assert code == 0 and "--staged" in out and "--diff-filter" in out
    code, out, _ = run_cli("fix", "--help")
    assert code == 0 and "--diff" in out and "--base" in out
    code, out, _ = run_cli("--version")
    assert code == 0 and out.startswith("reviewer, version ")


def test_check_imports_no_heavy_library(repo: Repo) -> None:
    repo.write_staged("a.py", MUTABLE)
    script = (
        "import sys\nfrom reviewer.cli import main\ncode = main(['check', '-q'])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}))\nraise SystemExit(code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=repo.path, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    loaded = set(ast.literal_eval(proc.stdout.strip().splitlines()[-1]))
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)
