"""`reviewer fix`: validated deterministic fixes, written atomically, or a unified diff."""

from __future__ import annotations

from collections.abc import Callable

from conftest import Repo, RunResult

MUTABLE = "def f(x=[]):\n    return x\n"
FIXED = "def f(x=None):\n    if x is None:\n        x = []\n    return x\n"


def test_diff_prints_and_writes_nothing(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write("a.py", MUTABLE)
    before = repo.snapshot()
    code, out, err = run_cli("fix", "--diff", "a.py", "--select", "RV101")
    assert (code, err) == (1, "")
    assert out == (
        "--- a/a.py\n+++ b/a.py\n@@ -1,2 +1,4 @@\n-def f(x=[]):\n+def f(x=None):\n"
        "+    if x is None:\n+        x = []\n     return x\n")
    assert repo.snapshot() == before
    repo.write("b.py", "def g(y):\n    return y\n")
    assert run_cli("fix", "--diff", "b.py", "--select", "RV101") == (0, "", "")


def test_fix_writes_validated_fixes(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    path = repo.write("a.py", MUTABLE + "\n\n" + MUTABLE.replace("f(", "g("))
    path.chmod(0o755)
    code, out, err = run_cli("fix", "a.py", "--select", "RV101")
    assert (code, err) == (0, "")
    assert out == "a.py: fixed 2 (RV101)\n2 fixed, 0 remaining.\n"
    assert path.read_text() == FIXED + "\n\n" + FIXED.replace("f(", "g(")
    assert path.stat().st_mode & 0o777 == 0o755
    assert [p.name for p in repo.path.iterdir() if p.name.endswith(".tmp")] == []
    assert run_cli("check", "a.py", "--select", "RV101")[0] == 0


def test_encoding_bom_and_line_endings_are_kept(
    repo: Repo, run_cli: Callable[..., RunResult]
) -> None:
    crlf = repo.write("crlf.py", MUTABLE.replace("\n", "\r\n").encode())
    latin = repo.write("latin.py", b"# -*- coding: latin-1 -*-\nA = '\xe9'\n" + MUTABLE.encode())
    bom = repo.write("bom.py", b"\xef\xbb\xbf" + MUTABLE.encode())
    code, _, err = run_cli("fix", "--all", "--select", "RV101")
    assert (code, err) == (0, "")
    assert crlf.read_bytes() == FIXED.replace("\n", "\r\n").encode()
    assert latin.read_bytes() == b"# -*- coding: latin-1 -*-\nA = '\xe9'\n" + FIXED.encode()
    assert bom.read_bytes() == b"\xef\xbb\xbf" + FIXED.encode()


def test_a_fix_that_adds_a_finding_is_refused(
    repo: Repo, run_cli: Callable[..., RunResult]
) -> None:
    """The function is exactly at RV301's limit: the guard the fix inserts would push it
    over, so the file is left untouched and the finding remains."""
    repo.write("pyproject.toml", "[tool.reviewer.rules.RV301]\nmax_statements = 2\n")
    path = repo.write("a.py", "def f(x=[]):\n    y = 1\n    return x, y\n")
    before = repo.snapshot()
    code, out, err = run_cli("fix", "a.py", "--select", "RV101,RV301")
    assert code == 1
    assert err == (
        "reviewer: warning: a.py: the fix did not validate (RV301 would appear in f);"
        " not modified\n")
    assert out == "0 fixed, 1 remaining.\n"
    assert repo.snapshot() == before
    assert path.read_text().startswith("def f(x=[]):")


def test_fix_follows_the_mode(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    """In the default (staged) mode only the findings `check` reports are fixed."""
    old = "def old(a=[]):\n    return a\n"
    repo.write("a.py", old)
    repo.commit_all()
    repo.write("a.py", old + "\n\n" + MUTABLE)
    repo.stage("a.py")
    code, out, err = run_cli("fix", "--select", "RV101")
    assert code == 0
    assert out == "a.py: fixed 1 (RV101)\n1 fixed, 0 remaining.\n"
    assert err == (
        "reviewer: warning: the fixed files are not staged: review the changes and `git add`"
        " them\n")
    assert (repo.path / "a.py").read_text() == old + "\n\n" + FIXED


def test_staged_content_differing_from_disk_is_not_fixed(
    repo: Repo, run_cli: Callable[..., RunResult]
) -> None:
    repo.write("a.py", MUTABLE)
    repo.stage("a.py")
    repo.write("a.py", "# edited after staging\n" + MUTABLE)
    before = repo.snapshot()
    code, _, err = run_cli("fix", "--select", "RV101")
    assert code == 1
    assert err == (
        "reviewer: warning: a.py: its staged content differs from the working tree; stage or"
        " stash first\n")
    assert repo.snapshot() == before


def test_links_and_broken_files_are_left_alone(
    repo: Repo, run_cli: Callable[..., RunResult]
) -> None:
    repo.write("real.py", MUTABLE)
    (repo.path / "link.py").symlink_to("real.py")
    repo.write("broken.py", "def f(x=[]):\n    return (x\n")
    before = repo.snapshot()
    code, out, err = run_cli("fix", "link.py", "broken.py", "--select", "RV101")
    assert code == 1  # RV000 and the link's RV101 remain
    assert err == "reviewer: warning: link.py: is a symbolic link; not modified\n"
    assert out == "0 fixed, 2 remaining.\n"
    assert repo.snapshot() == before


def test_fix_uses_check_options(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write("a.py", MUTABLE)
    code, _, err = run_cli("fix", "--staged", "--all")
    assert code == 2 and err.startswith("reviewer: error: choose one of")
    code, out, _ = run_cli("fix", "a.py", "--select", "RV6", "-q")
    assert (code, out) == (0, "")
    assert (repo.path / "a.py").read_text() == MUTABLE
