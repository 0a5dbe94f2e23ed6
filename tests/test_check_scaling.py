"""A review's work grows linearly with what it reviews, and recording findings stays cheap.

No timings (machines here are noisy): the guard counts work instead. cProfile's count of
Python function calls is deterministic for the same input, so a check of 4N findings must
make at most ~4.5x the calls of a check of N findings; a step that walks the module once per
finding (issue 10) makes it ~16x. ``ast.parse`` is counted too: one parse per file.
"""

from __future__ import annotations

import ast
import cProfile
import json
import os
import pstats
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Repo, RunResult

FUNC = '''
def handler_{i}(item, seen=[]):
    try:
        seen.append(int(item))
    except:
        print("bad item", item)
    return seen
'''


def build(root: Path, funcs: int, files: int) -> None:
    per_file = funcs // files
    for f in range(files):
        body = "".join(FUNC.format(i=i) for i in range(f * per_file, (f + 1) * per_file))
        (root / f"mod_{f:04d}.py").write_text(body, encoding="utf-8")


def db(repo: Repo) -> Path:
    return repo.feedback_db


@pytest.fixture
def sized(tmp_path: Path) -> Callable[[int, int], Path]:
    """A git repository with ``n`` functions full of findings in ``files`` files."""

    def make(n: int, files: int) -> Path:
        root = tmp_path / f"r{n}-{files}"
        root.mkdir()
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        (root / "pyproject.toml").write_text(
            "[tool.reviewer]\njobs = 1\ncache = false\n", encoding="utf-8")
        build(root, n, files)
        subprocess.run(["git", "add", "-A"], cwd=root, check=True)
        return root

    return make


def work(root: Path, run_cli: Callable[..., RunResult], monkeypatch: pytest.MonkeyPatch,
         ) -> tuple[int, int, int]:
    """(Python calls, ast.parse calls, findings) of one ``check --all --format json``."""
    monkeypatch.chdir(root)
    parses = 0
    real_parse = ast.parse

    def counting_parse(*args: object, **kwargs: object) -> ast.AST:
        nonlocal parses
        parses += 1
        return real_parse(*args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(ast, "parse", counting_parse)
    profile = cProfile.Profile()
    profile.enable()
    code, out, err = run_cli("check", "--all", "--format", "json")
    profile.disable()
    monkeypatch.setattr(ast, "parse", real_parse)
    assert code == 1, err
    calls = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
    return int(calls), parses, len(json.loads(out)["findings"])


@pytest.mark.parametrize("files", [1, 4], ids=["bigger files", "more files"])
def test_the_work_of_a_check_grows_linearly_with_its_findings(
    sized: Callable[[int, int], Path], run_cli: Callable[..., RunResult],
    monkeypatch: pytest.MonkeyPatch, files: int,
) -> None:
    """4x the findings, in files 4x as long or in 4x as many files: at most 4.5x the work.
    (A step that walks a module once per finding is quadratic in the file's length, so the
    first case catches what a corpus of many same-sized files cannot.)"""
    n = 60
    small = sized(n, 1)
    large = sized(4 * n, files)
    work(sized(8, 1), run_cli, monkeypatch)  # imports and first-use caches, not counted
    calls1, parses1, found1 = work(small, run_cli, monkeypatch)
    calls4, parses4, found4 = work(large, run_cli, monkeypatch)
    assert abs(found4 - 4 * found1) <= 4 and found1 >= 4 * n  # module-level findings aside
    # One parse per file, whatever the number of findings (recording parses nothing).
    assert (parses1, parses4) == (1, files)
    ratio = calls4 / calls1
    assert ratio <= 4.5, f"4x the findings cost {ratio:.1f}x the calls"
    # Every finding was recorded for `reviewer feedback`.
    with sqlite3.connect(large / ".reviewer" / "feedback.db") as conn:
        assert conn.execute("SELECT count(*) FROM findings").fetchone()[0] == found4


def test_an_unchanged_rerun_records_nothing_and_a_moved_finding_is_updated(
    repo: Repo, run_cli: Callable[..., RunResult]
) -> None:
    repo.write("app.py", "import os\n\n\n@staticmethod\ndef load(path, seen=[]):\n"
                         "    seen.append(path)\n    return seen\n")
    repo.stage("app.py")
    code, _, err = run_cli("check", "--select", "RV101", "-q")
    assert code == 1, err
    with sqlite3.connect(db(repo)) as conn:
        (fp, line, function, lines, fix), = conn.execute(
            "SELECT fingerprint, line, function, function_start || '-' || function_end,"
            " fix_diff FROM findings").fetchall()
        # The enclosing function's lines, decorator included, as the engine parsed them (the
        # text is copied when a verdict is given).
        assert function == "" and lines == "4-7"
        assert line == 5 and "-def load(path, seen=[]):" in fix and "@@ -3," in fix
        conn.execute("UPDATE findings SET seen_at = 'marked'")
    run_cli("check", "--select", "RV101", "-q")
    with sqlite3.connect(db(repo)) as conn:
        assert conn.execute("SELECT seen_at FROM findings").fetchone()[0] == "marked"
    repo.write("app.py", "import os\n" + (repo.path / "app.py").read_text()[11:])
    repo.stage("app.py")
    run_cli("check", "--select", "RV101", "-q")
    with sqlite3.connect(db(repo)) as conn:
        rows = conn.execute("SELECT fingerprint, line, seen_at FROM findings").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(fp, 4)] and rows[0][2] != "marked"


# -- a verdicts database that cannot be written never changes the review -----------------
def staged_finding(repo: Repo) -> None:
    repo.write("app.py", "def load(path, seen=[]):\n    seen.append(path)\n    return seen\n")
    repo.stage("app.py")


def reference(repo: Repo, run_cli: Callable[..., RunResult]) -> tuple[int, str]:
    code, out, _ = run_cli("check", "--format", "json", "--select", "RV101")
    return code, json.dumps(json.loads(out)["findings"])


def test_a_corrupt_database_costs_one_warning_line(
    repo: Repo, run_cli: Callable[..., RunResult]
) -> None:
    staged_finding(repo)
    db(repo).parent.mkdir()
    db(repo).write_bytes(b"this is not a database" * 100)
    code, out, err = run_cli("check", "--format", "json", "--select", "RV101")
    assert code == 1 and len(json.loads(out)["findings"]) == 1
    (line,) = err.strip().splitlines()  # the learned step says it; recording does not repeat it
    assert "file is not a database" in line
    assert db(repo).read_bytes() == b"this is not a database" * 100  # left as it was


def test_a_database_that_cannot_be_created_costs_one_warning_line(
    repo: Repo, run_cli: Callable[..., RunResult]
) -> None:
    staged_finding(repo)
    repo.write("pyproject.toml", '[tool.reviewer]\nfeedback-db = "blocked/feedback.db"\n')
    repo.write("blocked", "a file where the folder should be\n")
    code, out, err = run_cli("check", "--format", "json", "--select", "RV101")
    assert code == 1 and len(json.loads(out)["findings"]) == 1
    (line,) = err.strip().splitlines()
    assert "findings not recorded" in line
    assert (repo.path / "blocked").read_text() == "a file where the folder should be\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_costs_one_warning_line(
    repo: Repo, run_cli: Callable[..., RunResult]
) -> None:
    staged_finding(repo)
    (repo.path / ".reviewer").mkdir()
    (repo.path / ".reviewer").chmod(0o500)
    try:
        code, out, err = run_cli("check", "--format", "json", "--select", "RV101")
    finally:
        (repo.path / ".reviewer").chmod(0o700)
    assert code == 1 and len(json.loads(out)["findings"]) == 1
    assert "not recorded" in err and len(err.strip().splitlines()) == 1


def test_a_database_locked_by_another_process_costs_one_warning_line(
    repo: Repo, run_cli: Callable[..., RunResult]
) -> None:
    staged_finding(repo)
    assert run_cli("check", "-q")[0] == 1  # the database exists
    repo.write("app.py", "def load(path, seen={}):\n    seen[path] = 1\n    return seen\n")
    repo.stage("app.py")
    expected = reference_without_recording(repo, run_cli)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3,sys,time\n"
         "c=sqlite3.connect(sys.argv[1],isolation_level=None)\n"
         "c.execute('BEGIN IMMEDIATE')\nprint('locked',flush=True)\ntime.sleep(60)\n",
         str(db(repo))], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        code, out, err = run_cli("check", "--format", "json", "--select", "RV101")
    finally:
        holder.kill()
        holder.wait()
    assert (code, json.dumps(json.loads(out)["findings"])) == expected
    assert "not recorded" in err and "locked" in err and len(err.strip().splitlines()) == 1


def reference_without_recording(repo: Repo, run_cli: Callable[..., RunResult]
                                ) -> tuple[int, str]:
    pyproject = repo.path / "pyproject.toml"
    pyproject.write_text("[tool.reviewer]\nrecord-findings = false\n", encoding="utf-8")
    try:
        return reference(repo, run_cli)
    finally:
        pyproject.unlink()
