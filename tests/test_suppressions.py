"""Suppression comments: line and file level, codes, reasons, and unused ones."""

from __future__ import annotations

from collections.abc import Callable

from conftest import JsonRun, Repo, RunResult, where

from reviewer import suppressions
from reviewer.findings import Finding, Severity, Span

MUTABLE = "def f(x=[]):\n    return x\n"


def _finding(line: int, rule: str = "RV101", slug: str = "mutable-default-argument") -> Finding:
    return Finding(rule, slug, "m", "a.py", Span(line), Severity.MEDIUM)


def test_parse_codes_reasons_and_kinds() -> None:
    src = (
        "x = 1  # reviewer: ignore[RV101, rv2] the reason here\n"
        "y = 2  # reviewer: ignore\n"
        "# reviewer: ignore-file[print-in-library]\n"
        "z = 3  # reviewer:ignore[RV3]\n"
        "w = 4  # reviewer: ignored-by-mistake\n"
    )
    parsed = suppressions.parse(src, "a.py")
    assert parsed == [
        suppressions.Suppression(1, ("RV101", "RV2"), False, "the reason here"),
        suppressions.Suppression(2, (), False, ""),
        suppressions.Suppression(3, ("print-in-library",), True, ""),
        suppressions.Suppression(4, ("RV3",), False, ""),
    ]


def test_strings_are_not_suppressions_in_python() -> None:
    src = 'DOC = """\n# reviewer: ignore[RV101]\n"""\nx = "# reviewer: ignore"\n'
    assert suppressions.parse(src, "a.py") == []
    # Other languages (and Python that does not tokenize) fall back to a line scan.
    assert len(suppressions.parse("// reviewer: ignore[RV9]\n", "a.js")) == 1
    assert len(suppressions.parse("x = (\n# reviewer: ignore\n", "a.py")) == 1


def test_apply_inline_tracks_each_code() -> None:
    src = "a  # reviewer: ignore[RV101, RV201] why\nb\nc  # reviewer: ignore\n"
    kept, unused = suppressions.apply_inline([_finding(1), _finding(2)], src, "a.py")
    assert [f.span.line for f in kept] == [2]
    assert unused == [suppressions.Unused("a.py", 1, ("RV201",)),
                      suppressions.Unused("a.py", 3, ())]


def test_file_level_and_slug_codes() -> None:
    src = "# reviewer: ignore-file[mutable-default-argument]\n"
    kept, unused = suppressions.apply_inline([_finding(5), _finding(9)], src, "a.py")
    assert (kept, unused) == ([], [])


def test_unparsable_file_reports_no_unused() -> None:
    src = "x = (  # reviewer: ignore[RV101]\n"
    rv000 = _finding(1, "RV000", "syntax-error")
    kept, unused = suppressions.apply_inline([rv000], src, "a.py")
    assert (kept, unused) == ([rv000], [])


def test_line_suppression_end_to_end(repo: Repo, run_json: Callable[..., JsonRun]) -> None:
    repo.write("a.py", (
        "def f(x=[]):  # reviewer: ignore[RV101] shared on purpose\n    return x\n\n\n"
        "def g(y={}):  # reviewer: ignore[mutable-default-argument]\n    return y\n\n\n"
        "def h(z=[]):  # reviewer: ignore\n    return z\n\n\n"
        "def k(w=[]):  # reviewer: ignore[RV201]\n    return w\n"
    ))
    code, report, _ = run_json("--all", "--select", "RV101")
    assert (code, where(report)) == (1, [("a.py", 13, "RV101")])
    assert report["unused_suppressions"] == []  # not asked for


def test_ignore_file_end_to_end(repo: Repo, run_json: Callable[..., JsonRun]) -> None:
    repo.write("a.py", "# reviewer: ignore-file[RV101]\n" + MUTABLE)
    repo.write("b.py", "# reviewer: ignore-file\n" + MUTABLE)
    repo.write("c.py", "# reviewer: ignore-file[RV3]\n" + MUTABLE)
    _, report, _ = run_json("--all", "--select", "RV101")
    assert where(report) == [("c.py", 2, "RV101")]


def test_unused_suppressions_are_reported_and_fail(
    repo: Repo, run_cli: Callable[..., RunResult], run_json: Callable[..., JsonRun]
) -> None:
    repo.write("a.py", (
        "def f(x=[]):  # reviewer: ignore[RV101]\n    return x\n\n\n"
        "def g(y):  # reviewer: ignore[RV101]\n    return y\n\n\n"
        "def h(z):  # reviewer: ignore[RV999, RV301]\n    return z\n"
    ))
    code, out, _ = run_cli("check", "--all", "--select", "RV101")
    assert (code, out) == (0, "0 findings in 1 file.\n")
    code, report, _ = run_json("--all", "--select", "RV101", "--show-unused-suppressions")
    assert code == 1  # like ruff's RUF100: once reported, a stale suppression fails
    # RV301 did not run (not selected): not reported; RV999 names no rule: reported.
    assert report["unused_suppressions"] == [
        {"path": "a.py", "line": 5, "codes": ["RV101"]},
        {"path": "a.py", "line": 9, "codes": ["RV999"]},
    ]
    assert report["summary"]["exit_code"] == 1
    code, out, _ = run_cli("check", "--all", "--select", "RV101", "--show-unused-suppressions")
    assert "a.py:5:1: unused suppression" in out
    repo.write("pyproject.toml", "[tool.reviewer]\nreport-unused-suppressions = true\n")
    code, report, _ = run_json("--all", "--select", "RV101")
    assert code == 1 and len(report["unused_suppressions"]) == 2


def test_unused_respects_per_file_ignores(repo: Repo, run_json: Callable[..., JsonRun]) -> None:
    repo.write("pyproject.toml", (
        "[tool.reviewer]\nreport-unused-suppressions = true\n"
        "per-file-ignores = { 'tests/*' = ['RV101'] }\n"
    ))
    repo.write("tests/t.py", "def g(y):  # reviewer: ignore[RV101]\n    return y\n")
    code, report, _ = run_json("--all", "--select", "RV101")
    assert (code, report["unused_suppressions"]) == (0, [])


def test_unused_follow_the_diff_filter(repo: Repo, run_json: Callable[..., JsonRun]) -> None:
    repo.write("a.py", "def g(y):  # reviewer: ignore[RV101]\n    return y\n\n\nA = 1\n")
    repo.commit_all()
    repo.write("a.py", (
        "def g(y):  # reviewer: ignore[RV101]\n    return y\n\n\nA = 2  # reviewer: ignore\n"))
    repo.stage("a.py")
    code, report, _ = run_json("--select", "RV101", "--show-unused-suppressions")
    assert code == 1
    assert report["unused_suppressions"] == [{"path": "a.py", "line": 5, "codes": []}]
