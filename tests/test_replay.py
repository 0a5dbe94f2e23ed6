"""An unchanged `reviewer check` prints the last report again without reviewing
(reviewer/cli/replay.py), and anything the report depends on makes it review again."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo, RunResult

import reviewer.engine

RunCli = Callable[..., RunResult]
CODE = "def add(item, items=[]):\n    items.append(item)\n    return items\n"
CLEAN = '"""Clean."""\n'


def settle(repo: Repo) -> None:
    """Date the repository's files back a minute: a file written in the last two seconds
    is never trusted by its stat stamp (it may change again unseen), so it is always
    re-read, and such a run is never replayed."""
    old = time.time() - 60
    for dirpath, dirnames, filenames in os.walk(repo.path):
        dirnames[:] = [d for d in dirnames if d not in (".git", ".reviewer")]
        for name in filenames:
            os.utime(Path(dirpath) / name, (old, old))


@pytest.fixture
def tree(repo: Repo) -> Repo:
    repo.write("pyproject.toml", '[tool.reviewer]\nselect = ["RV101"]\n')
    repo.write("pkg/a.py", CODE)
    repo.write("pkg/b.py", CLEAN)
    repo.commit_all("base")
    settle(repo)
    return repo


def engine_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the engine ran for an unchanged tree")

    monkeypatch.setattr(reviewer.engine, "run", refuse)


def check(run_cli: RunCli, *args: str) -> RunResult:
    return run_cli("check", "--all", *args)


def test_an_unchanged_run_prints_the_same_report_without_reviewing(
        tree: Repo, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    first = check(run_cli, "--format", "json")
    text = check(run_cli)
    assert first[0] == 1 and json.loads(first[1])["summary"]["findings"] == 1
    engine_forbidden(monkeypatch)
    assert check(run_cli, "--format", "json") == first
    assert check(run_cli) == text  # each format is remembered


def test_a_changed_file_is_reviewed_again(tree: Repo, run_cli: RunCli) -> None:
    check(run_cli, "--format", "json")
    tree.write("pkg/b.py", CLEAN + CODE)
    settle(tree)
    code, out, _ = check(run_cli, "--format", "json")
    assert code == 1 and json.loads(out)["summary"]["findings"] == 2


def test_a_new_file_or_changed_settings_are_reviewed_again(
        tree: Repo, run_cli: RunCli) -> None:
    check(run_cli, "--format", "json")
    tree.write("pkg/c.py", CODE)
    tree.git("add", "pkg/c.py")
    settle(tree)
    assert json.loads(check(run_cli, "--format", "json")[1])["summary"]["findings"] == 2
    tree.write("pyproject.toml", '[tool.reviewer]\nselect = ["RV101"]\nignore = ["RV101"]\n')
    settle(tree)
    code, out, _ = check(run_cli, "--format", "json")
    assert code == 0 and json.loads(out)["summary"]["findings"] == 0
    code, out, _ = check(run_cli, "--format", "json", "--fail-on", "high", "--select", "RV4")
    assert json.loads(out)["summary"]["fail_on"] == "high"


def test_a_verdict_or_a_baseline_changes_the_report(tree: Repo, run_cli: RunCli) -> None:
    code, out, _ = check(run_cli, "--format", "json")
    (finding,) = json.loads(out)["findings"]
    assert run_cli("feedback", "dismiss", finding["fingerprint"][:8])[0] == 0
    code, out, _ = check(run_cli, "--format", "json")
    assert (code, json.loads(out)["summary"]["hidden_by_verdicts"]) == (0, 1)
    (tree.path / ".reviewer" / "feedback.db").unlink()
    code, out, _ = check(run_cli, "--format", "json")
    assert (code, json.loads(out)["summary"]["hidden_by_verdicts"]) == (1, 0)
    assert run_cli("baseline", "-q")[0] == 0
    code, out, _ = check(run_cli, "--format", "json")
    assert (code, json.loads(out)["summary"]["hidden_by_baseline"]) == (0, 1)


def test_no_cache_is_never_replayed_and_a_staged_review_only_when_it_is_on_disk(
        tree: Repo, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    tree.write_staged("pkg/b.py", CLEAN + CODE)
    settle(tree)
    first = run_cli("check", "--staged", "--format", "json")
    calls: list[int] = []
    real = reviewer.engine.run

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(reviewer.engine, "run", counting)
    assert run_cli("check", "--staged", "--format", "json") == first
    assert calls == []  # the staged content is the file on disk: the same review
    tree.write("pkg/b.py", CLEAN)  # now the index differs from the working tree
    settle(tree)
    assert run_cli("check", "--staged", "--format", "json") == first
    assert run_cli("check", "--staged", "--format", "json") == first
    check(run_cli, "--no-cache")
    check(run_cli, "--no-cache")
    assert len(calls) == 4


def test_an_unreadable_replay_file_is_ignored(tree: Repo, run_cli: RunCli) -> None:
    first = check(run_cli, "--format", "json")
    (tree.path / ".reviewer" / "cache" / "replay.pickle").write_bytes(b"not a pickle")
    assert check(run_cli, "--format", "json") == first


def test_a_change_to_a_file_the_results_used_is_reviewed_again(
        repo: Repo, run_cli: RunCli) -> None:
    scripts = '[tool.reviewer]\nselect = ["RV501"]\n\n[project.scripts]\ntool = "pkg.a:{}"\n'
    repo.write("pyproject.toml", scripts.format("run"))
    repo.write("pkg/__init__.py", "")
    repo.write("pkg/a.py", '"""A."""\n\n\ndef run() -> None:\n    print("hi")\n')
    repo.commit_all("base")
    settle(repo)
    assert check(run_cli, "--format", "json")[0] == 0  # run is the program's entry point
    assert check(run_cli, "--format", "json")[0] == 0
    repo.write("pyproject.toml", scripts.format("other"))  # [tool.reviewer] is the same
    settle(repo)
    code, out, _ = check(run_cli, "--format", "json")
    assert code == 1 and [f["rule_id"] for f in json.loads(out)["findings"]] == ["RV501"]


REPLAY_PROBE = """
import json, sys
from reviewer.cli import main
code = main(["check", "--all", "--format", "json"])
rules = sorted(m for m in sys.modules if m.startswith("reviewer.rules.rv"))
print(json.dumps({"code": code, "rules": rules}), file=sys.stderr)
"""


def test_a_replayed_run_imports_no_rule_and_new_settings_review_again(tree: Repo) -> None:
    """The settings key of an unchanged re-run comes from settings-keys.marshal (no rule
    module imported); other settings (the rules selected) have another key, found by the rules."""
    import subprocess
    import sys

    def probe() -> dict[str, Any]:
        proc = subprocess.run([sys.executable, "-c", REPLAY_PROBE], cwd=tree.path,
                              capture_output=True, text=True, check=False)
        got: dict[str, Any] = json.loads(proc.stderr.strip().splitlines()[-1])
        return got

    first = probe()
    assert first["code"] == 1 and first["rules"]  # reviewed: the rules ran
    again = probe()
    assert again == {"code": 1, "rules": []}  # replayed from the memo and the last report
    assert (tree.path / ".reviewer" / "cache" / "settings-keys.marshal").is_file()
    tree.write("pyproject.toml", '[tool.reviewer]\nselect = ["RV101", "RV102"]\n')
    settle(tree)
    changed = probe()
    assert changed["rules"]  # new settings: the key is computed from the rules again
    assert probe()["rules"] == []
