"""reviewer.diff: git output parsing (quoting, hunk bodies) and changes from real repos."""

from __future__ import annotations

from collections.abc import Callable

from conftest import JsonRun, Repo, where

from reviewer import diff
from reviewer.findings import Finding, Severity, Span


def _finding(line: int, scope: tuple[int, int] | None = None, rule: str = "RV101") -> Finding:
    return Finding(rule, "slug", "m", "a.py", Span(line), Severity.MEDIUM, scope=scope)


def test_unquote_undoes_git_c_quoting() -> None:
    assert diff._unquote(b"plain.py") == b"plain.py"
    assert diff._unquote(b'"a\\nb.py"') == b"a\nb.py"
    assert diff._unquote(b'"tab\\there\\\\ \\"q\\".py"') == b'tab\there\\ "q".py'
    assert diff._unquote(b'"\\303\\251t\\303\\251.py"') == "été.py".encode()


def test_hunk_bodies_are_skipped_by_count() -> None:
    """Added lines that look like headers (``++ x`` shows as ``+++ x``) are content."""
    text = (
        b"diff --git a/a.py b/a.py\n"
        b"--- a/a.py\n"
        b"+++ b/a.py\n"
        b"@@ -1,0 +2,3 @@\n"
        b"+++ not a header\n"
        b"+@@ -1 +1 @@ neither\n"
        b"+diff --git a/x b/x\n"
        b"@@ -9 +11 @@ def f():\n"
        b"-old\n"
        b"\\ No newline at end of file\n"
        b"+new\n"
        b"\\ No newline at end of file\n"
        b'diff --git "a/sp ace\\n.py" "b/sp ace\\n.py"\n'
        b"new file mode 100644\n"
        b"--- /dev/null\n"
        b'+++ "b/sp ace\\n.py"\n'
        b"@@ -0,0 +1 @@\n"
        b"+x = 1\n"
        b"diff --git a/gone.py b/gone.py\n"
        b"deleted file mode 100644\n"
        b"--- a/gone.py\n"
        b"+++ /dev/null\n"
        b"@@ -1 +0,0 @@\n"
        b"-x = 1\n"
    )
    assert diff.parse_unified_zero(text) == {"a.py": {2, 3, 4, 11}, "sp ace\n.py": {1}}


def test_space_names_carry_a_trailing_tab() -> None:
    text = b"--- a/my file.py\t\n+++ b/my file.py\t\n@@ -1 +1 @@\n-a\n+b\n"
    assert diff.parse_unified_zero(text) == {"my file.py": {1}}


def test_filters() -> None:
    changes: diff.Changes = {"a.py": {10}}
    plain, whole, near = _finding(20), _finding(2, scope=(2, 12)), _finding(8)
    keep = diff.filter_findings
    assert keep([plain, whole, near], changes, "added") == [whole]
    assert keep([plain, whole, near], changes, "context", 3) == [whole, near]
    assert keep([plain, whole, near], changes, "file") == [plain, whole, near]
    other = plain.with_(path="b.py")
    assert keep([other], changes, "file") == []
    assert keep([other], changes, "none") == [other]
    assert keep([_finding(1, rule="RV000")], changes, "added")  # a parse error always counts
    assert keep([plain], {"a.py": None}, "added") == [plain]  # whole file counts as changed


def test_line_kept() -> None:
    changes: diff.Changes = {"a.py": {10}, "b.py": None}
    assert diff.line_kept("a.py", 10, changes, "added")
    assert not diff.line_kept("a.py", 12, changes, "added")
    assert diff.line_kept("a.py", 12, changes, "context", 3)
    assert diff.line_kept("b.py", 99, changes, "added")
    assert not diff.line_kept("c.py", 1, changes, "file")
    assert diff.line_kept("c.py", 1, changes, "none")


def test_staged_changes_with_odd_names_renames_and_deletions(repo: Repo) -> None:
    names = ["sp ace.py", "ünï cödé.py", "new\nline.py", 'quo"te.py', "tab\there.py"]
    for n in names:
        repo.write(n, "a = 1\n")
    repo.write("old.py", "a = 1\nb = 2\nc = 3\nd = 4\ne = 5\n")
    repo.write("gone.py", "x = 1\n")
    repo.commit_all()
    for n in names:
        repo.write(n, "a = 1\nb = 2\n")
    repo.git("mv", "old.py", "renamed.py")
    repo.write("renamed.py", "a = 1\nb = 2\nc = 33\nd = 4\ne = 5\n")
    repo.git("rm", "-q", "gone.py")
    repo.stage(*names, "renamed.py")
    files, changes, _ = diff.staged_review(repo.path)
    assert sorted(files) == sorted([*names, "renamed.py"])
    assert {n: changes[n] for n in names} == {n: {2} for n in names}
    assert changes["renamed.py"] == {3}


def test_first_commit_compares_with_the_empty_tree(repo: Repo) -> None:
    repo.write("a.py", "a = 1\nb = 2\n")
    repo.stage("a.py")
    assert diff.staged_review(repo.path)[:2] == (["a.py"], {"a.py": {1, 2}})


def test_blobs_reads_index_and_commits(repo: Repo) -> None:
    repo.write("a.py", "v1\n")
    repo.write("dir/ü b.py", "w1\n")
    repo.commit_all()
    repo.write("a.py", "v2\n")
    repo.stage("a.py")
    repo.write("a.py", "v3\n")
    assert diff.blobs(repo.path, ["a.py", "dir/ü b.py", "missing.py"]) == {
        "a.py": b"v2\n", "dir/ü b.py": b"w1\n"}
    assert diff.blobs(repo.path, ["a.py"], "HEAD") == {"a.py": b"v1\n"}
    assert diff.staged_review(repo.path)[2] == {"a.py"}


def test_tracked_files_leaves_out_deleted_files(repo: Repo) -> None:
    repo.write("a.py", "")
    repo.write("b.py", "")
    repo.commit_all()
    (repo.path / "b.py").unlink()
    repo.write("new.py", "")
    assert diff.tracked_files(repo.path) == ["a.py", "new.py"]


def test_odd_names_end_to_end(repo: Repo, run_json: Callable[..., JsonRun]) -> None:
    """Spaces, unicode, a newline, quotes and a tab in staged file names: every finding
    names its file exactly, at the right line."""
    names = ["dir with space/ünïcödé.py", "new\nline.py", 'quo"te.py', "tab\there.py"]
    for n in names:
        repo.write(n, "A = 1\n")
    repo.commit_all()
    for n in names:
        repo.write(n, "A = 1\n\n\ndef f(x=[]):\n    return x\n")
    repo.stage(*names)
    code, report, err = run_json("--select", "RV101")
    assert code == 1, err
    assert sorted(where(report)) == sorted((n, 4, "RV101") for n in names)
    # The same files named on the command line (as pre-commit passes them).
    code, report, _ = run_json(*names, "--select", "RV101")
    assert sorted(where(report)) == sorted((n, 4, "RV101") for n in names)


def test_staged_review_says_which_staged_files_have_unstaged_changes_too(repo: Repo) -> None:
    repo.write("a.py", "a = 1\n")
    repo.write("b.py", "b = 1\n")
    repo.stage("a.py", "b.py")
    repo.write("a.py", "a = 2\n")  # before the first commit: the index against nothing
    assert diff.staged_review(repo.path) == (["a.py", "b.py"], {"a.py": {1}, "b.py": {1}},
                                             {"a.py"})
    repo.commit_all()
    repo.write("b.py", "b = 1\nc = 2\n")
    repo.stage("b.py")
    repo.write("c.py", "untracked\n")
    assert diff.staged_review(repo.path) == (["b.py"], {"b.py": {2}}, set())
