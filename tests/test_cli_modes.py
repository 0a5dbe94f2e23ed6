"""Review modes against real git repositories: --staged (plain and under pre-commit),
pre-push ranges, --base, --all, explicit paths, and the four diff filters."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import JsonRun, Repo, RunResult, where

MUTABLE = "def f(x=[]):\n    return x\n"
CLEAN = "def g(y):\n    return y\n"


def test_staged_is_the_default_and_reviews_only_staged_files(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    repo.write("staged.py", MUTABLE)
    repo.write("unstaged.py", MUTABLE)
    repo.stage("staged.py")
    code, report, _ = run_json("--select", "RV101")
    assert code == 1
    assert where(report) == [("staged.py", 1, "RV101")]
    code2, report2, _ = run_json("--staged", "--select", "RV101")
    assert (code2, where(report2)) == (code, where(report))


def test_nothing_staged_is_a_note_and_exit_0(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write("a.py", MUTABLE)
    repo.commit_all()
    code, out, err = run_cli("check")
    assert code == 0
    assert "reviewer: warning: nothing staged to review" in err
    assert out.startswith("0 findings")


def test_staged_content_is_reviewed_not_the_disk(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    """The index holds the finding at line 3; the disk has two more lines above it and a
    second finding that is not staged: only the staged one, at its staged line, counts."""
    repo.write("a.py", "import os\n\n" + MUTABLE)
    repo.stage("a.py")
    repo.write("a.py", "import os\n# one\n# two\n\n" + MUTABLE + "\n\ndef h(z={}):\n    return z\n")
    code, report, _ = run_json("--select", "RV101")
    assert code == 1
    assert where(report) == [("a.py", 3, "RV101")]
    # And the reverse: the fix is staged, the disk still has the problem.
    repo.write("b.py", CLEAN)
    repo.stage("b.py")
    repo.write("b.py", MUTABLE)
    code, report, _ = run_json("--staged", "b.py", "--select", "RV101")
    assert (code, where(report)) == (0, [])
    # Named without --staged (and outside pre-commit), a path is the file on disk.
    code, report, _ = run_json("b.py", "--select", "RV101")
    assert (code, where(report)) == (1, [("b.py", 1, "RV101")])


def test_added_filter_keeps_only_findings_on_changed_lines(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    old = "def old(a=[]):\n    return a\n\n\n"
    repo.write("a.py", old)
    repo.commit_all()
    repo.write("a.py", old + "def new(b={}):\n    return b\n")
    repo.stage("a.py")
    _code, report, _ = run_json("--select", "RV101")
    assert where(report) == [("a.py", 5, "RV101")]
    assert report["summary"]["outside_diff"] == 1
    _, report, _ = run_json("--select", "RV101", "--diff-filter", "file")
    assert [ln for _, ln, _ in where(report)] == [1, 5]


LONG = """\
def long_one(a):
    x = 1
    y = 2
    z = 3
    w = 4
    return a


def other(q=[]):
    return q
"""


def test_whole_function_findings_follow_the_touched_function(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    """RV301 is reported on the ``def`` line; changing a line inside the body keeps it
    under ``added`` (its scope was touched); the untouched RV101 is kept by ``file``."""
    repo.write("pyproject.toml", "[tool.reviewer.rules.RV301]\nmax_statements = 3\n")
    repo.write("a.py", LONG)
    repo.commit_all()
    repo.write("a.py", LONG.replace("z = 3", "z = 33"))
    repo.stage("a.py")
    _, report, _ = run_json("--select", "RV101,RV301")
    assert where(report) == [("a.py", 1, "RV301")]
    assert report["findings"][0]["scope"] == [1, 6]
    _, report, _ = run_json("--select", "RV101,RV301", "--diff-filter", "context")
    assert where(report) == [("a.py", 1, "RV301")]  # RV101 on line 9 is 5 lines away
    _, report, _ = run_json("--select", "RV101,RV301", "--diff-filter", "file")
    assert where(report) == [("a.py", 1, "RV301"), ("a.py", 9, "RV101")]
    _, report, _ = run_json("--select", "RV101,RV301", "--diff-filter", "none")
    assert len(report["findings"]) == 2


def test_context_filter_reaches_a_few_lines(repo: Repo, run_json: Callable[..., JsonRun]) -> None:
    repo.write("a.py", "def f(x=[]):\n    return x\n\nA = 1\n\nB = 1\n")
    repo.commit_all()
    repo.write("a.py", "def f(x=[]):\n    return x\n\nA = 2\n\nB = 2\n")  # lines 4, 6
    repo.stage("a.py")
    _, report, _ = run_json("--select", "RV101")
    assert where(report) == []
    _, report, _ = run_json("--select", "RV101", "--diff-filter", "context")
    assert where(report) == [("a.py", 1, "RV101")]


def test_diff_filter_from_config(repo: Repo, run_json: Callable[..., JsonRun]) -> None:
    repo.write("a.py", "def f(x=[]):\n    return x\n\nA = 1\n")
    repo.commit_all()
    repo.write("a.py", "def f(x=[]):\n    return x\n\nA = 2\n")
    repo.write("pyproject.toml", '[tool.reviewer]\ndiff-filter = "file"\n')
    repo.stage("a.py")
    _, report, _ = run_json("--select", "RV101")
    assert where(report) == [("a.py", 1, "RV101")]


# -- pre-commit ------------------------------------------------------------------------------
def test_pre_commit_passes_staged_files(
    repo: Repo, run_json: Callable[..., JsonRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("a.py", "def old(a=[]):\n    return a\n")
    repo.commit_all()
    repo.write("a.py", "def old(a=[]):\n    return a\n\n\ndef new(b={}):\n    return b\n")
    repo.stage("a.py")
    monkeypatch.setenv("PRE_COMMIT", "1")
    code, report, _ = run_json("a.py", "--select", "RV101")
    assert code == 1
    assert where(report) == [("a.py", 5, "RV101")]  # the diff still applies


def test_pre_commit_all_files_reviews_named_files_whole(
    repo: Repo, run_json: Callable[..., JsonRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``pre-commit run --all-files`` passes every file with nothing staged."""
    repo.write("a.py", MUTABLE)
    repo.write("pkg/b.py", MUTABLE)
    repo.commit_all()
    monkeypatch.setenv("PRE_COMMIT", "1")
    code, report, _ = run_json("a.py", "pkg/b.py", "--select", "RV101")
    assert code == 1
    assert where(report) == [("a.py", 1, "RV101"), ("pkg/b.py", 1, "RV101")]


def test_staged_with_named_files_narrows_and_adds(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    repo.write("a.py", MUTABLE)
    repo.write("b.py", MUTABLE)
    repo.write("c.py", MUTABLE)
    repo.commit_all()
    repo.write("a.py", MUTABLE + "\n\ndef f2(x=[]):\n    return x\n")
    repo.write("b.py", MUTABLE + "\n\ndef f2(x=[]):\n    return x\n")
    repo.stage("a.py", "b.py")
    _, report, _ = run_json("--staged", "a.py", "c.py", "--select", "RV101")
    # a.py: staged, only its changed line; b.py: staged but not named; c.py: named, whole.
    assert where(report) == [("a.py", 5, "RV101"), ("c.py", 1, "RV101")]


def test_pre_push_reviews_the_pushed_commit(
    repo: Repo, run_json: Callable[..., JsonRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PRE_COMMIT_FROM_REF/TO_REF: the range's changes, as they are in the pushed commit,
    even when another branch is checked out."""
    repo.write("a.py", CLEAN)
    repo.commit_all("base")
    base = repo.git("rev-parse", "HEAD").strip()
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("a.py", CLEAN + "\n\ndef f(x=[]):\n    return x\n")
    repo.commit_all("feature")
    tip = repo.git("rev-parse", "HEAD").strip()
    repo.git("checkout", "-q", "main")
    monkeypatch.setenv("PRE_COMMIT", "1")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", base)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", tip)
    code, report, _ = run_json("--select", "RV101")
    assert code == 1
    assert where(report) == [("a.py", 5, "RV101")]
    monkeypatch.delenv("PRE_COMMIT_TO_REF")  # older pre-commit: compare with HEAD (main)
    code, report, _ = run_json("--select", "RV101")
    assert (code, where(report)) == (0, [])


# -- --base, --all, paths -------------------------------------------------------------------
def test_base_compares_merge_base_with_the_working_tree(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    repo.write("a.py", MUTABLE)
    repo.write("b.py", CLEAN)
    repo.commit_all("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("b.py", CLEAN + "\n\ndef f(x=[]):\n    return x\n")
    repo.commit_all("feature")
    repo.git("checkout", "-q", "main")
    repo.write("c.py", CLEAN)
    repo.commit_all("main moves on")  # not part of the feature's changes
    repo.git("checkout", "-q", "feature")
    repo.write("b.py", CLEAN + "\n\ndef f(x=[]):\n    return x\n\n\ndef g(y={}):\n    return y\n")
    code, report, _ = run_json("--base", "main", "--select", "RV101")
    assert code == 1
    assert where(report) == [("b.py", 5, "RV101"), ("b.py", 9, "RV101")]  # 9: unstaged edit


def test_base_with_nothing_changed(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write("a.py", MUTABLE)
    repo.commit_all()
    code, _, err = run_cli("check", "--base", "HEAD")
    assert code == 0
    assert "nothing changed since the merge base with HEAD" in err


def test_all_reviews_tracked_and_untracked_but_not_ignored(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    repo.write(".gitignore", "ignored.py\nbuild/\n")
    repo.write("tracked.py", MUTABLE)
    repo.commit_all()
    repo.write("untracked.py", MUTABLE)
    repo.write("ignored.py", MUTABLE)
    repo.write("build/gen.py", MUTABLE)
    code, report, _ = run_json("--all", "--select", "RV101")
    assert code == 1
    assert sorted(p for p, _, _ in where(report)) == ["tracked.py", "untracked.py"]


def test_explicit_paths_and_folders_are_reviewed_whole(
    repo: Repo, run_json: Callable[..., JsonRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("pkg/a.py", MUTABLE)
    repo.write("pkg/sub/b.py", MUTABLE)
    repo.write("other.py", MUTABLE)
    repo.commit_all()
    _, report, _ = run_json("pkg", "--select", "RV101")
    assert [p for p, _, _ in where(report)] == ["pkg/a.py", "pkg/sub/b.py"]
    monkeypatch.chdir(repo.path / "pkg")  # paths are relative to the current folder
    _, report, _ = run_json("sub/b.py", "../other.py", "--select", "RV101")
    assert [p for p, _, _ in where(report)] == ["other.py", "pkg/sub/b.py"]


def test_base_with_a_folder_only_narrows(repo: Repo, run_json: Callable[..., JsonRun]) -> None:
    repo.write("pkg/a.py", MUTABLE)
    repo.write("pkg/b.py", CLEAN)
    repo.write("top.py", CLEAN)
    repo.commit_all()
    repo.write("pkg/b.py", MUTABLE)
    repo.write("top.py", MUTABLE)
    _, report, _ = run_json("--base", "HEAD", "pkg", "--select", "RV101")
    assert where(report) == [("pkg/b.py", 1, "RV101")]  # not pkg/a.py (unchanged)


def test_modes_are_exclusive(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write("a.py", MUTABLE)
    code, _, err = run_cli("check", "--staged", "--all")
    assert code == 2
    assert err == "reviewer: error: choose one of --staged, --base REF and --all\n"
    code, _, err = run_cli("check", "--all", "a.py")
    assert code == 2
    assert err.startswith("reviewer: error: --all reviews the whole tree")
