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


# -- other tools' suppressions -------------------------------------------------------------
BROAD = "try:\n    run()\nexcept Exception:{c}\n    recover()\n"


def _broad(line: int = 3) -> Finding:
    return Finding("RV202", "broad-except", "m", "a.py", Span(line), Severity.LOW)


def _kept(src: str, *found: Finding) -> list[int]:
    kept, unused = suppressions.apply_inline(list(found), src, "a.py")
    assert unused == []  # other tools' comments are never reported as unused
    return [f.span.line for f in kept]


def test_noqa_with_the_counterpart_code_or_bare_hides_the_rule() -> None:
    assert _kept(BROAD.format(c="  # noqa: BLE001"), _broad()) == []
    assert _kept(BROAD.format(c="  # noqa"), _broad()) == []
    assert _kept(BROAD.format(c="  # noqa:E722,BLE001 broad on purpose"), _broad()) == []
    # Another rule's code does not; neither does a pylint or bandit code in a noqa.
    assert _kept(BROAD.format(c="  # noqa: E722"), _broad()) == [3]
    assert _kept(BROAD.format(c="  # noqa: B110"), _broad()) == [3]
    # Only comments count, and only on the finding's line.
    assert _kept('try:\n    run()\nexcept Exception:\n    x = "# noqa"\n', _broad()) == [3]
    assert _kept("# noqa\n" + BROAD.format(c=""), _broad(4)) == [4]


def test_file_level_noqa() -> None:
    assert _kept("# ruff: noqa\n" + BROAD.format(c=""), _broad(4)) == []
    assert _kept("# ruff: noqa: BLE001\n" + BROAD.format(c=""), _broad(4)) == []
    assert _kept("# flake8: noqa\n" + BROAD.format(c=""), _broad(4)) == []
    assert _kept("# ruff: noqa: T201\n" + BROAD.format(c=""), _broad(4)) == [4]


def test_nosec_with_or_without_the_bandit_id() -> None:
    swallowed = Finding("RV203", "swallowed-exception", "m", "a.py", Span(3), Severity.MEDIUM)
    src = "try:\n    run()\nexcept Exception:{c}\n    pass\n"
    assert _kept(src.format(c="  # nosec"), swallowed) == []
    assert _kept(src.format(c="  # nosec B110"), swallowed) == []
    assert _kept(src.format(c="  # nosec: B112, B110 teardown"), swallowed) == []
    assert _kept(src.format(c="  # nosec B101"), swallowed) == [3]
    # RV202 has no bandit counterpart: a bare nosec is not about it.
    assert _kept(BROAD.format(c="  # nosec"), _broad()) == [3]


def test_pylint_disable_on_the_line_next_line_and_block() -> None:
    assert _kept(BROAD.format(c="  # pylint: disable=broad-exception-caught"), _broad()) == []
    assert _kept(BROAD.format(c="  # pylint: disable=all"), _broad()) == []
    assert _kept(BROAD.format(c="  # pylint: disable=bare-except"), _broad()) == [3]
    nxt = "try:\n    run()\n# pylint: disable-next=broad-exception-caught\nexcept Exception:\n"
    assert _kept(nxt + "    recover()\n", _broad(4)) == []
    block = (
        "def f():\n    # pylint: disable=broad-exception-caught\n    try:\n        run()\n"
        "    except Exception:\n        recover()\n\n\ndef g():\n    try:\n        run()\n"
        "    except Exception:\n        recover()\n"
    )
    assert _kept(block, _broad(5), _broad(12)) == [12]


def test_nosemgrep_hides_the_security_rules_only() -> None:
    assert_ = Finding("RV607", "assert-for-validation", "m", "a.py", Span(1), Severity.MEDIUM)
    assert _kept("assert x  # nosemgrep\n", assert_) == []
    assert _kept(BROAD.format(c="  # nosemgrep"), _broad()) == [3]


def test_foreign_off_keeps_the_finding() -> None:
    kept, _ = suppressions.apply_inline([_broad()], BROAD.format(c="  # noqa: BLE001"), "a.py",
                                        foreign=False)
    assert len(kept) == 1


def test_foreign_suppressions_end_to_end(repo: Repo, run_json: Callable[..., JsonRun]) -> None:
    repo.write("a.py", (
        "def f():\n    try:\n        run()\n    except Exception:  # noqa: BLE001\n"
        "        recover()\n    assert ready  # nosec B101\n    print('x')  # noqa: T201\n"
        "    print('y')\n"
    ))
    code, report, _ = run_json("--all", "--select", "RV202,RV501,RV607",
                               "--show-unused-suppressions")
    assert (code, where(report)) == (1, [("a.py", 8, "RV501")])
    assert report["unused_suppressions"] == []
    repo.write("pyproject.toml", "[tool.reviewer]\nhonor-foreign-suppressions = false\n")
    _, report, _ = run_json("--all", "--select", "RV202,RV501,RV607")
    # The two prints of f() are one finding again (RV501 groups them).
    assert where(report) == [("a.py", 4, "RV202"), ("a.py", 6, "RV607"), ("a.py", 7, "RV501")]
    assert [r["line"] for r in report["findings"][2]["related"]] == [8]


def test_buffers_of_slash_comment_languages_keep_their_suppressions() -> None:
    """A node script's ``#!`` line does not make it Python (its ``//`` comments count), and
    the plug-in's name decides for a buffer whose path has no suffix."""
    script = "#!/usr/bin/env node\nconst r = eval(x);  // reviewer: ignore[RV601]\n"
    for path, language in (("bin/tool.js", None), ("bin/tool", "javascript"),
                           ("Untitled-1", "typescript"), ("main.go", None)):
        got = suppressions.parse(script, path, language)
        assert [(s.line, s.codes) for s in got] == [(2, ("RV601",))], (path, language)
    python = "#!/usr/bin/env python\nx = '# reviewer: ignore[RV101]'\n"
    assert suppressions.parse(python, "bin/tool", "python") == []  # inside a string
    nosec = "#!/usr/bin/env node\nexec(cmd);  // eslint-disable-line no-eval\n"
    f = Finding("RV601", "eval-exec", "m", "bin/tool", Span(2, 1, 2, 5), Severity.HIGH)
    assert suppressions.apply_foreign([f], nosec, "bin/tool", "javascript") == []


def test_the_comment_scanner_agrees_with_tokenize_on_strings_and_comments() -> None:
    """suppressions.comments() (a regex scan) finds exactly tokenize's comments, with their
    positions, whatever quotes, escapes and triple-quoted text surround them."""
    import io
    import tokenize

    source = (
        "x = '# not a comment'  # one\n"
        's = "a \\" # still a string"  # two\n'
        "t = '''\n# inside a string\n'''  # three\n"
        'u = """it\'s "quoted" """ + r"\\"#"  # four\n'
        "v = f'{x!r}#'  # five\n"
        "w = (1,  # six\n     2)\n"
        "    # seven, on its own line\n"
        "z = '\\\n#continued'\n"
    )
    expected = [(t.start[0], t.start[1], t.string)
                for t in tokenize.generate_tokens(io.StringIO(source).readline)
                if t.type == tokenize.COMMENT]
    assert suppressions.comments(source) == expected
    assert [c[2] for c in expected] == ["# one", "# two", "# three", "# four", "# five",
                                        "# six", "# seven, on its own line"]
    assert suppressions.comments(source, stop=2) == expected[:2]


def test_foreign_comments_in_strings_do_not_count() -> None:
    source = 'x = "# noqa: BLE001"\ntry:\n    pass\nexcept Exception:  # noqa: BLE001\n    pass\n'
    found = suppressions.parse_foreign(source)
    assert [(f.first, f.kind, f.codes) for f in found] == [(4, "noqa", ("BLE001",))]
