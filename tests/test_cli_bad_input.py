"""Bad input: each case gives a clear one-line message, the right exit code, no traceback
(the ``run_cli`` fixture checks that) and never a modified file."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import JsonRun, Repo, RunResult, snapshot, where

from reviewer import engine

MUTABLE = "def f(x=[]):\n    return x\n"


def one_line(err: str, prefix: str) -> str:
    """The single stderr line starting with ``prefix`` (asserting there is exactly one)."""
    lines = [ln for ln in err.splitlines() if ln.startswith(prefix)]
    assert len(lines) == 1, err
    return lines[0]


# -- files that cannot be reviewed -----------------------------------------------------------
def test_syntax_error_is_rv000_and_other_files_are_still_reviewed(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    repo.write("broken.py", "def ok():\n    return 1\n\nx = (1,\n")
    repo.write("good.py", MUTABLE)
    repo.stage("broken.py", "good.py")
    before = repo.snapshot()
    code, report, _ = run_json("--select", "RV101")
    assert code == 1
    assert where(report) == [("broken.py", 4, "RV000"), ("good.py", 1, "RV101")]
    rv000 = report["findings"][0]
    assert rv000["col"] == 5 and "does not parse" in rv000["message"]
    assert rv000["severity"] == "high"
    assert repo.snapshot() == before


def test_rv000_counts_even_outside_the_changed_lines(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    repo.write("a.py", "x = (1,\n\n\n\n\ny = 2\n")
    repo.commit_all()
    repo.write("a.py", "x = (1,\n\n\n\n\ny = 3\n")
    repo.stage("a.py")
    _, report, _ = run_json()
    assert where(report) == [("a.py", 1, "RV000")]


def test_non_utf8_and_binary_files(repo: Repo, run_json: Callable[..., JsonRun]) -> None:
    repo.write("latin.py", b'name = "caf\xe9"\n')
    repo.write("latin3.py", b'x = 1\n\nname = "caf\xe9"\n')
    repo.write("cookie.py", b'# -*- coding: latin-1 -*-\nname = "caf\xe9"\n\n\n' + MUTABLE.encode())
    repo.write("nul.py", b"x = 1\0\0\0\n")
    repo.write("image.png", b"\x89PNG\r\n\x1a\n\0\0\0")
    repo.write("good.py", MUTABLE)
    before = repo.snapshot()
    code, report, err = run_json("--all", "--select", "RV101")
    assert code == 1
    assert where(report) == [("cookie.py", 5, "RV101"), ("good.py", 1, "RV101")]
    assert one_line(err, "reviewer: warning: latin.py:") == (
        "reviewer: warning: latin.py: not valid UTF-8 text and no coding declaration;"
        " not reviewed")
    assert one_line(err, "reviewer: warning: latin3.py:") == (
        "reviewer: warning: latin3.py: not valid UTF-8 text (byte 18); not reviewed")
    assert one_line(err, "reviewer: warning: nul.py:") == "reviewer: warning: nul.py: binary file"
    assert "image.png" not in err  # not a reviewed file type: skipped quietly
    assert {s["path"] for s in report["skipped"]} == {"latin.py", "latin3.py", "nul.py"}
    assert repo.snapshot() == before


def test_skipped_files_alone_exit_0(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write("latin.py", b"x = '\xe9'\n")
    code, _, err = run_cli("check", "latin.py")
    assert code == 0
    assert "latin.py: not valid UTF-8 text" in err


def test_file_above_the_size_limit(repo: Repo, run_json: Callable[..., JsonRun]) -> None:
    repo.write("pyproject.toml", "[tool.reviewer]\nmax-file-size = 100\n")
    repo.write("big.py", MUTABLE + "# padding\n" * 20)
    repo.write("small.py", MUTABLE)
    repo.stage("big.py", "small.py")
    _code, report, err = run_json("--select", "RV101")
    assert where(report) == [("small.py", 1, "RV101")]
    assert one_line(err, "reviewer: warning: big.py") == (
        "reviewer: warning: big.py: file is 226 bytes, above the 100-byte limit")
    # The staged copy is checked against the limit too.
    repo.write("big.py", "x = 1\n")
    _, report, err = run_json("--select", "RV101")
    assert "big.py: file is 226 bytes, above the 100-byte limit" in err


def test_symlinks_outside_the_repository_are_not_followed(
    repo: Repo, run_json: Callable[..., JsonRun], tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text(MUTABLE)
    (repo.path / "link.py").symlink_to(outside / "secret.py")
    (repo.path / "linkdir").symlink_to(outside)
    (repo.path / "inner.py").symlink_to("real.py")  # inside: reviewed
    (repo.path / "dangling.py").symlink_to("nowhere.py")
    repo.write("real.py", MUTABLE)
    repo.stage("link.py", "linkdir", "inner.py", "real.py", "dangling.py")
    before = repo.snapshot()
    for args in (["--staged"], ["--all"], ["link.py", "inner.py", "real.py", "linkdir/secret.py"]):
        _code, report, err = run_json(*args, "--select", "RV101")
        assert sorted(where(report)) == [("inner.py", 1, "RV101"), ("real.py", 1, "RV101")], args
        assert one_line(err, "reviewer: warning: link.py") == (
            "reviewer: warning: link.py: symbolic link to outside the repository; not followed")
        assert "secret.py" not in {f["path"] for f in report["findings"]}
    assert "linkdir/secret.py: in a folder linked from outside" in err
    _, _, err = run_json("--all")
    assert "reviewer: warning: dangling.py: broken symbolic link" in err
    assert repo.snapshot() == before


def test_fifo_is_not_read(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    os.mkfifo(repo.path / "pipe.py")
    code, _, err = run_cli("check", "pipe.py")
    assert code == 0
    assert "reviewer: warning: pipe.py: not a regular file" in err


def test_unreadable_source_file(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    path = repo.write("locked.py", MUTABLE)
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: permissions do not stop reads")
        code, _, err = run_cli("check", "locked.py")
        assert code == 0
        assert "reviewer: warning: locked.py: permission denied" in err
    finally:
        path.chmod(0o644)


# -- the diff ---------------------------------------------------------------------------------
def test_deleted_and_renamed_files_in_the_diff(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    repo.write("gone.py", MUTABLE)
    repo.write("old_name.py", "A = 1\n\n\n" + MUTABLE)
    repo.write("moved.py", MUTABLE)
    repo.commit_all()
    repo.git("rm", "-q", "gone.py")
    repo.git("mv", "old_name.py", "new_name.py")
    repo.write("new_name.py", "A = 2\n\n\n" + MUTABLE)  # renamed and edited above the finding
    repo.git("mv", "moved.py", "pkg_moved.py")  # a pure rename
    repo.stage("new_name.py")
    before = repo.snapshot()
    code, report, err = run_json("--select", "RV101")
    assert (code, where(report), err) == (0, [], "")
    assert report["summary"]["files_reviewed"] == 2  # new_name.py, pkg_moved.py
    _, report, _ = run_json("--select", "RV101", "--diff-filter", "file")
    assert sorted(where(report)) == [("new_name.py", 4, "RV101"), ("pkg_moved.py", 1, "RV101")]
    assert repo.snapshot() == before


def test_deleted_on_disk_but_staged_is_reviewed_from_the_index(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    repo.write_staged("a.py", MUTABLE)
    (repo.path / "a.py").unlink()
    code, report, _err = run_json("--select", "RV101")
    assert (code, where(report)) == (1, [("a.py", 1, "RV101")])
    assert not (repo.path / "a.py").exists()


def test_named_file_with_a_newline_in_its_name(
    repo: Repo, run_cli: Callable[..., RunResult]
) -> None:
    repo.write("bad\nname.py", b"x = '\xe9'\n")
    code, _, err = run_cli("check", "bad\nname.py")
    assert code == 0
    assert err == (
        'reviewer: warning: "bad\\nname.py": not valid UTF-8 text and no coding declaration;'
        " not reviewed\n")
    code, _, err = run_cli("check", "missing\nfile.py")
    assert (code, err) == (2, 'reviewer: error: path does not exist: "missing\\nfile.py"\n')


# -- no repository, missing history ------------------------------------------------------------
def test_no_git_repository(nogit: Path, run_cli: Callable[..., RunResult]) -> None:
    (nogit / "a.py").write_text(MUTABLE)
    (nogit / "sub").mkdir()
    (nogit / "sub" / "b.py").write_text(MUTABLE)
    before = snapshot(nogit)
    cases = ((["--staged"], "--staged"), (["--base", "main"], "--base"), ([], "--staged"))
    for args, flag in cases:
        code, out, err = run_cli("check", *args)
        assert code == 2 and out == ""
        assert err == f"reviewer: error: {flag} needs a git repository (none found at {nogit})\n"
    code, out, err = run_cli("check", "a.py", "--select", "RV101")
    assert (code, err) == (1, "")
    assert out.startswith("a.py:1:9: RV101")
    code, out, _ = run_cli("check", "--all", "--select", "RV101")
    assert code == 1
    assert "a.py:1:9" in out and "sub/b.py:1:9" in out
    assert snapshot(nogit) == before


def test_pre_commit_without_git_is_an_error(
    nogit: Path, run_cli: Callable[..., RunResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    (nogit / "a.py").write_text(MUTABLE)
    monkeypatch.setenv("PRE_COMMIT", "1")
    code, _, err = run_cli("check", "a.py")
    assert code == 2 and "needs a git repository" in err


def _origin(tmp_path: Path) -> Path:
    origin = tmp_path / "origin"
    origin.mkdir()
    r = Repo(origin)
    r.write("a.py", "A = 1\n")
    r.commit_all("one")
    r.write("a.py", "A = 2\n")
    r.commit_all("two")
    r.git("checkout", "-q", "-b", "feature")
    r.write("a.py", "A = 3\n")
    r.commit_all("three")
    r.git("checkout", "-q", "main")
    r.write("a.py", "A = 4\n")
    r.commit_all("four")
    return origin


def _clone(origin: Path, dest: Path, *extra: str) -> None:
    subprocess.run(["git", "clone", "-q", "--depth", "1", *extra, f"file://{origin}", str(dest)],
                   check=True, capture_output=True)


def test_base_ref_missing_in_a_shallow_clone(
    tmp_path: Path, run_cli: Callable[..., RunResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    clone = tmp_path / "clone"
    _clone(_origin(tmp_path), clone)
    monkeypatch.chdir(clone)
    before = snapshot(clone)
    code, out, err = run_cli("check", "--base", "origin/feature")
    assert (code, out) == (2, "")
    assert err == (
        "reviewer: error: base ref 'origin/feature' not found: this is a shallow clone;"
        " fetch more history (e.g. actions/checkout with fetch-depth: 0)\n")
    code, _, err = run_cli("check", "--base", "HEAD~2")
    assert code == 2 and "base ref 'HEAD~2' not found: this is a shallow clone" in err
    assert snapshot(clone) == before


def test_merge_base_cut_off_by_a_shallow_clone(
    tmp_path: Path, run_cli: Callable[..., RunResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    clone = tmp_path / "clone"
    _clone(_origin(tmp_path), clone, "--no-single-branch")
    monkeypatch.chdir(clone)
    code, _, err = run_cli("check", "--base", "origin/feature")
    assert code == 2
    assert err == (
        "reviewer: error: no merge base between 'origin/feature' and HEAD (the history is cut"
        " by a shallow clone); fetch more history (e.g. actions/checkout with fetch-depth: 0)\n")


def test_unknown_base_ref_and_no_commits(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write_staged("a.py", MUTABLE)
    code, _, err = run_cli("check", "--base", "main")
    assert (code, err) == (
        2, "reviewer: error: --base needs at least one commit (this repository has none)\n")
    repo.commit()
    code, _, err = run_cli("check", "--base", "no-such-branch")
    assert (code, err) == (2, "reviewer: error: base ref 'no-such-branch' not found\n")
    code, _, err = run_cli("check", "--base=--output=x")
    assert (code, err) == (2, "reviewer: error: invalid base ref '--output=x'\n")


# -- configuration ---------------------------------------------------------------------------
def test_unreadable_config(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    path = repo.write("pyproject.toml", "[tool.reviewer]\n")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: permissions do not stop reads")
        code, out, err = run_cli("check", "--all")
        assert (code, out) == (2, "")
        assert err == f"reviewer: error: cannot read config {path}: Permission denied\n"
    finally:
        path.chmod(0o644)


def test_config_that_cannot_be_read_even_by_root(
    repo: Repo, run_cli: Callable[..., RunResult]
) -> None:
    """A folder named pyproject.toml cannot be read by anyone, root included."""
    (repo.path / "pyproject.toml").mkdir()
    code, out, err = run_cli("check", "--all")
    assert (code, out) == (2, "")
    assert err == (
        f"reviewer: error: cannot read config {repo.path / 'pyproject.toml'}: Is a directory\n")
    code, _, err = run_cli("check", "--all", "--config", "nowhere.toml")
    assert (code, err) == (2, "reviewer: error: config file nowhere.toml does not exist\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tool.reviewer\n", "is not valid TOML: Expected ']' at the end of a table declaration"
                             " (at line 1, column 15)"),
        (b"[tool.reviewer]\nexclude = ['\xff']\n", "is not UTF-8 text"),
        ("[tool.reviewer]\nselect = 5\n", "[tool.reviewer] select must be a list of strings"),
        ("[tool.reviewer]\nfail-on = 'severe'\n",
         "[tool.reviewer] fail-on: unknown severity 'severe' (expected one of: info, low,"
         " medium, high)"),
        ("[tool.reviewer]\nmax-file-size = -1\n",
         "[tool.reviewer] max-file-size must be a non-negative integer, got -1"),
        ("[tool.reviewer]\ncache = 'yes'\n", "[tool.reviewer] cache must be true or false"),
        ("[tool.reviewer]\ndiff-filter = 'lines'\n",
         "[tool.reviewer] diff-filter must be one of added, context, file, none, got 'lines'"),
        ("[tool.reviewer]\nper-file-ignores = ['x']\n", "per-file-ignores must be a table"),
        ("[tool]\nreviewer = 3\n", "[tool.reviewer] must be a table"),
    ],
)
def test_malformed_config_is_exit_2(
    repo: Repo, run_cli: Callable[..., RunResult], text: str | bytes, message: str
) -> None:
    repo.write("pyproject.toml", text)
    repo.write("a.py", MUTABLE)
    before = repo.snapshot()
    code, out, err = run_cli("check", "--all")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("reviewer: error: ")
    assert message in err
    assert repo.snapshot() == before


@pytest.mark.parametrize(
    ("config", "args", "bad"),
    [
        ("select = ['RV999']", [], "RV999"),
        ("ignore = ['no-such-rule']", [], "no-such-rule"),
        ("per-file-ignores = {'tests/*' = ['RV9']}", [], "RV9"),
        ("rule-options = {RV777 = {max = 1}}", [], "RV777"),
        ("", ["--select", "RV101,RV998"], "RV998"),
        ("", ["--ignore", "XY1"], "XY1"),
    ],
)
def test_unknown_rule_ids_are_exit_2(
    repo: Repo, run_cli: Callable[..., RunResult], config: str, args: list[str], bad: str
) -> None:
    repo.write("pyproject.toml", f"[tool.reviewer]\n{config}\n")
    repo.write("a.py", MUTABLE)
    code, out, err = run_cli("check", "--all", *args)
    assert (code, out) == (2, "")
    assert err == (
        f"reviewer: error: unknown rule '{bad}' in configuration (see `reviewer rules`)\n")


def test_bad_rule_option_is_exit_2(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write("pyproject.toml", "[tool.reviewer.rules.RV301]\nmax_statements = 'ten'\n")
    code, _, err = run_cli("check", "--all")
    assert code == 2
    assert err == "reviewer: error: RV301: option 'max_statements' must be int, got 'ten'\n"
    repo.write("pyproject.toml", "[tool.reviewer.rules.RV301]\nmax_lines = 5\n")
    code, _, err = run_cli("check", "--all")
    assert code == 2
    assert ("RV301: unknown option(s) max_lines"
            " (known: ignore_top_level_functions, max_statements)") in err


def test_unknown_config_key_is_a_warning(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write("pyproject.toml", "[tool.reviewer]\nfail_onn = 'high'\nfrobnicate = 1\n")
    repo.write("a.py", MUTABLE)
    code, out, err = run_cli("check", "--all", "--select", "RV101")
    assert code == 1 and "RV101" in out
    config = repo.path / "pyproject.toml"
    assert err.splitlines() == [
        f"reviewer: warning: {config}: unknown key 'fail_onn' in [tool.reviewer] ignored"
        " (did you mean 'fail-on'?)",
        f"reviewer: warning: {config}: unknown key 'frobnicate' in [tool.reviewer] ignored",
    ]
    code, _, err = run_cli("check", "--all", "--select", "RV101", "-q")
    assert (code, err) == (1, "")


def test_bad_baseline_file_is_exit_2(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write(".reviewer/baseline.json", "{not json")
    repo.write("a.py", MUTABLE)
    code, _, err = run_cli("check", "--all")
    assert code == 2
    assert err == (
        f"reviewer: error: baseline {repo.path / '.reviewer/baseline.json'} is not a reviewer"
        " baseline file; recreate it with `reviewer baseline`\n")


# -- usage and internal errors ----------------------------------------------------------------
def test_usage_errors_are_one_line_exit_2(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    code, out, err = run_cli("check", "--frobnicate")
    assert (code, out) == (2, "")
    assert err.startswith("reviewer: error: No such option")
    assert err.endswith(" (see `reviewer check --help`)\n") and err.count("\n") == 1
    code, _, err = run_cli("check", "--format", "xml")
    assert code == 2 and err.startswith("reviewer: error: Invalid value for '--format'")
    assert err.count("\n") == 1
    code, _, err = run_cli("check", "missing.py")
    assert (code, err) == (2, "reviewer: error: path does not exist: missing.py\n")
    code, _, err = run_cli("check", "/")
    assert (code, err) == (2, f"reviewer: error: path is outside the repository {repo.path}: /\n")


def test_report_that_cannot_be_written(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write("a.py", MUTABLE)
    code, _, err = run_cli("check", "a.py", "-o", "a.py/report.txt")
    assert code == 2
    assert err == "reviewer: error: cannot write a.py/report.txt: a.py is not a folder\n"
    assert (repo.path / "a.py").read_text() == MUTABLE


def test_internal_error_is_exit_3_without_traceback(
    repo: Repo, run_cli: Callable[..., RunResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(engine, "run", crash)
    repo.write("a.py", MUTABLE)
    code, out, err = run_cli("check", "a.py")
    assert (code, out) == (3, "")
    assert err == (
        "reviewer: internal error: RuntimeError: boom second line (rerun with --debug for the"
        " traceback; please report it)\n")
    code, _, err = run_cli("--debug", "check", "a.py")
    assert code == 3
    assert "Traceback" in err and 'raise RuntimeError("boom' in err


def test_exit_codes_follow_fail_on(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write("a.py", MUTABLE)  # RV101 is medium
    assert run_cli("check", "a.py", "--select", "RV101")[0] == 1
    assert run_cli("check", "a.py", "--select", "RV101", "--fail-on", "medium")[0] == 1
    assert run_cli("check", "a.py", "--select", "RV101", "--fail-on", "high")[0] == 0
    repo.write("pyproject.toml", "[tool.reviewer]\nfail-on = 'high'\n")
    assert run_cli("check", "a.py", "--select", "RV101")[0] == 0
    assert run_cli("check", "a.py", "--select", "RV101", "--fail-on", "info")[0] == 1
    repo.write("b.py", "def g(y):\n    return y\n")
    assert run_cli("check", "b.py", "--select", "RV101", "--fail-on", "info")[0] == 0
