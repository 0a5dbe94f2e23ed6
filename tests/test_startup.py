"""`reviewer check` on a small change stays light: no heavy library is imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Repo

HEAVY = (
    "llama_cpp", "mlx", "chromadb", "sentence_transformers", "torch", "github",
    "tree_sitter", "jsonschema", "numpy", "pygls", "lsprotocol",
)

# Runs in a fresh interpreter: the test process itself has imported pytest and more.
PROBE = """
import json, sys
from reviewer.cli import main
out, heavy, runs = sys.argv[1], sys.argv[2].split(","), json.loads(sys.argv[3])
codes = [main(args) for args in runs]
loaded = sorted(
    name for name in sys.modules if name.split(".")[0] in heavy
)
with open(out, "w", encoding="utf-8") as fh:
    json.dump({"codes": codes, "loaded": loaded}, fh)
"""


def probe(repo: Repo, tmp_path: Path, runs: list[list[str]]) -> dict[str, list[object]]:
    out = tmp_path / "probe.json"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), ",".join(HEAVY), json.dumps(runs)],
        cwd=repo.path, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, list[object]] = json.loads(out.read_text(encoding="utf-8"))
    return result


@pytest.fixture
def small_change(repo: Repo) -> Repo:
    repo.write("app/__init__.py", '"""App."""\n')
    repo.write("app/core.py", '"""Core."""\n\n\ndef total(xs: list[int]) -> int:\n'
               '    """Sum."""\n    return sum(xs)\n')
    repo.stage("app/__init__.py", "app/core.py")
    repo.commit("base")
    repo.write("app/core.py", '"""Core."""\n\n\ndef total(xs=[]):\n    return sum(xs)\n')
    repo.write("app/util.py", '"""Util."""\n\n\ndef shout(s: str) -> str:\n'
               '    """Upper."""\n    return s.upper()\n')
    repo.stage("app/core.py", "app/util.py")
    return repo


def test_check_staged_imports_no_heavy_module(small_change: Repo, tmp_path: Path) -> None:
    runs = [
        ["check", "--staged", "--no-cache"],
        ["check", "--staged", "--no-cache", "--format", "json"],
        ["check", "--staged", "--no-cache", "--format", "sarif"],
        ["check", "--staged", "--no-cache", "--format", "github"],
    ]
    result = probe(small_change, tmp_path, runs)
    assert result["codes"] == [1, 1, 1, 1]  # the mutable default is found every time
    assert result["loaded"] == []


def test_clean_staged_change_imports_no_heavy_module(repo: Repo, tmp_path: Path) -> None:
    repo.write("ok.py", '"""Fine."""\n\nVALUE = 1\n')
    repo.stage("ok.py")
    result = probe(repo, tmp_path, [["check"], ["rules"], ["principles"]])
    assert result["codes"] == [0, 0, 0]
    assert result["loaded"] == []


def test_check_builds_no_libcst_fix_and_fix_does(repo: Repo, tmp_path: Path) -> None:
    """A finding with a libcst fix (RV501's logger, RV402's ``-> None``) costs `check`
    nothing: the fixes are built only where something applies them (`reviewer fix`)."""
    repo.write("lib.py", '"""Lib."""\n\n\ndef run(x: int):\n    """Run."""\n    print(x)\n')
    repo.stage("lib.py")
    result = probe(repo, tmp_path, [["check", "--staged", "--select", "RV501,RV402"]])
    assert result["codes"] == [1]
    heavy = ",".join((*HEAVY, "libcst"))
    out = tmp_path / "probe2.json"
    runs = json.dumps([["check", "--staged", "--select", "RV501,RV402"]])
    subprocess.run([sys.executable, "-c", PROBE, str(out), heavy, runs], cwd=repo.path,
                   check=True, capture_output=True)
    assert json.loads(out.read_text(encoding="utf-8"))["loaded"] == []
    fixed = subprocess.run(
        [sys.executable, "-m", "reviewer", "fix", "--staged", "--diff", "--select", "RV402"],
        cwd=repo.path, capture_output=True, text=True)
    assert "+def run(x: int) -> None:" in fixed.stdout, fixed.stdout + fixed.stderr


def test_commands_load_lazily_and_help_lists_them_all(small_change: Repo, tmp_path: Path
                                                      ) -> None:
    """`check` imports no other command's module; `--help` still lists every command, and
    every name of the table is the command it loads."""
    probe = (
        "import sys\nfrom reviewer.cli import main\nmain(['check', '--staged', '--no-cache'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('reviewer.cli.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=small_change.path,
                         capture_output=True, text=True, check=True).stdout
    loaded = out.strip().splitlines()[-1]
    for other in ("github", "serve", "lsp", "models", "train", "teach", "context"):
        assert f"reviewer.cli.{other}'" not in loaded, loaded
    import click

    from reviewer.cli import COMMANDS, cli

    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
    text = subprocess.run([sys.executable, "-m", "reviewer", "--help"], capture_output=True,
                          text=True, check=True).stdout
    listed = {ln.split()[0] for ln in text.split("Commands:", 1)[1].splitlines() if ln.strip()}
    assert listed == set(COMMANDS)


def test_the_console_script_ends_at_once_with_its_output_and_records_complete(
    repo: Repo,
) -> None:
    """`reviewer check` ends without the interpreter's teardown (reviewer.cli.run): the
    report still arrives whole through a pipe, the exit code is the check's, and the
    verdicts database holds every finding of the run."""
    import sqlite3

    body = "".join(f"def f{i}(x=[]):\n    return x\n\n\n" for i in range(400))
    repo.write("big.py", body)
    repo.stage("big.py")
    script = Path(sys.executable).with_name("reviewer")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "reviewer"]
    proc = subprocess.run([*command, "check", "--staged", "--format", "json"],
                          cwd=repo.path, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    mutable = [f for f in report["findings"] if f["rule_id"] == "RV101"]
    assert len(mutable) == 400
    with sqlite3.connect(repo.feedback_db) as db:
        (rows,) = db.execute("SELECT COUNT(*) FROM findings WHERE rule_id = 'RV101'").fetchone()
    assert rows == 400
