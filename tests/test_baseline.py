"""`reviewer baseline` and how `check` uses it: only new findings are reported."""

from __future__ import annotations

import json
from collections.abc import Callable

from conftest import JsonRun, Repo, RunResult, where

FUNC = "def f(x=[]):\n    return x\n"
TWO_IN_ONE = "def outer():\n    def a(x=[]):\n        return x\n    return a\n"


def _baseline(run_cli: Callable[..., RunResult], *args: str) -> str:
    code, out, err = run_cli("baseline", *args)
    assert code == 0, err
    return out


def test_baseline_is_written_atomically_and_hides_known_findings(
    repo: Repo, run_cli: Callable[..., RunResult], run_json: Callable[..., JsonRun]
) -> None:
    repo.write("pyproject.toml", "[tool.reviewer]\nselect = ['RV101']\n")
    repo.write("a.py", FUNC)
    repo.write("pkg/b.py", FUNC)
    repo.commit_all()
    out = _baseline(run_cli)
    target = repo.path / ".reviewer" / "baseline.json"
    assert out == f"baseline written to {target}: 2 findings\n"
    doc = json.loads(target.read_text())
    assert doc["version"] == 1 and [f["path"] for f in doc["findings"]] == ["a.py", "pkg/b.py"]
    assert {"fingerprint", "rule", "path", "symbol", "message"} <= set(doc["findings"][0])
    assert [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")] == []
    assert target.stat().st_mode & 0o777 == 0o644
    code, report, _ = run_json("--all")
    assert (code, where(report), report["summary"]["hidden_by_baseline"]) == (0, [], 2)
    code, report, _ = run_json("--all", "--no-baseline")
    assert (code, len(report["findings"])) == (1, 2)


def test_fingerprints_survive_line_moves(
    repo: Repo, run_cli: Callable[..., RunResult], run_json: Callable[..., JsonRun]
) -> None:
    repo.write("pyproject.toml", "[tool.reviewer]\nselect = ['RV101']\n")
    repo.write("a.py", TWO_IN_ONE)
    repo.commit_all()
    _baseline(run_cli)
    # Lines added above the baselined finding, and its line reformatted.
    repo.write("a.py", "import os\n\n\nX = 1\n\n\n" + TWO_IN_ONE.replace("x=[]", "x = [ ]"))
    repo.stage("a.py")
    code, report, _ = run_json("--diff-filter", "file")
    assert (code, where(report)) == (0, [])
    assert report["summary"]["hidden_by_baseline"] == 1
    # A second identical finding in the same function is new.
    repo.write("a.py", "import os\n\n\nX = 1\n\n\n" + TWO_IN_ONE.replace(
        "    return a\n", "    def a(x=[]):\n        return x\n    return a\n"))
    repo.stage("a.py")
    code, report, _ = run_json("--diff-filter", "file")
    assert code == 1
    assert where(report) == [("a.py", 10, "RV101")]
    # The same code in another function is new too.
    repo.write("a.py", TWO_IN_ONE + "\n\ndef other():\n    def a(x=[]):\n        return x\n")
    repo.stage("a.py")
    _, report, _ = run_json("--diff-filter", "file")
    assert where(report) == [("a.py", 8, "RV101")]


def test_baseline_output_option_and_config_key(
    repo: Repo, run_cli: Callable[..., RunResult], run_json: Callable[..., JsonRun]
) -> None:
    repo.write("a.py", FUNC)
    out = _baseline(run_cli, "-o", "debt.json", "-q")
    assert out == "" and (repo.path / "debt.json").exists()
    _, report, _ = run_json("--all", "--select", "RV101")
    assert len(report["findings"]) == 1  # the default baseline file does not exist
    repo.write("pyproject.toml", "[tool.reviewer]\nbaseline = 'debt.json'\n")
    code, report, _ = run_json("--all", "--select", "RV101")
    assert (code, report["findings"]) == (0, [])


def test_baseline_that_cannot_be_written(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write("a.py", FUNC)
    repo.write("blocker", "a file, not a folder\n")
    code, _, err = run_cli("baseline", "-o", "blocker/baseline.json")
    assert code == 2
    assert err.startswith("reviewer: error: cannot write the baseline blocker/baseline.json:")
    assert err.count("\n") == 1
