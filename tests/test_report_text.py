"""The text report: plain `path:line:col: RV101 message` lines when piped; code frames,
colour and fix diffs on a terminal."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reviewer import engine
from reviewer.config import Config
from reviewer.findings import Finding, Fix, Severity, Span, TextEdit
from reviewer.report import ReportContext, text

if TYPE_CHECKING:
    from conftest import Repo

APP = "import os\n\n\ndef add(item, items=[]):\n    items.append(item)\n    return items\n"
LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>RV\d{3}) (?P<msg>.+)$")


def _review(repo: Repo) -> engine.Result:
    return engine.run(engine.Job(repo.path, ["app.py", "broken.py"]), Config(cache=False))


def _sample(repo: Repo) -> None:
    repo.write("app.py", APP)
    repo.write("broken.py", "x = (\n")


def test_piped_output_is_plain_lines(
    repo: Repo, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    _sample(repo)
    code, out, err = run_cli("check", "app.py", "broken.py", "--no-cache")
    assert code == 1, err
    assert "\x1b[" not in out
    lines = out.splitlines()
    parsed = [LINE.match(ln) for ln in lines[:-1]]
    assert all(parsed), lines
    got = {(m["path"], m["line"], m["col"], m["code"]) for m in parsed if m}
    assert ("app.py", "4", "21", "RV101") in got
    assert any(p == "broken.py" and c == "RV000" for p, _, _, c in got)
    assert lines[-1].startswith(f"{len(parsed)} findings in 2 files (")
    assert "fixable with `reviewer fix`" in lines[-1]
    # --quiet drops the summary (the last line) and nothing else.
    _, quiet, _ = run_cli("check", "app.py", "broken.py", "--no-cache", "--quiet")
    assert quiet.splitlines() == lines[:-1]


def test_terminal_output_has_frame_colour_and_fix_diff(repo: Repo) -> None:
    _sample(repo)
    result = _review(repo)
    ctx = ReportContext(root=repo.path, config=Config(), color=True, code_frame=True)
    out = text.render(result, ctx)
    assert "\x1b[" in out
    plain = click.unstyle(out).splitlines()
    i = plain.index(
        "app.py:4:21: RV101 Mutable default argument items=[]:"
        " the default object is shared between calls."
    )
    assert plain[i + 1: i + 5] == [
        "        3 | ",
        "  >     4 | def add(item, items=[]):",
        "          |                     ^^",
        "        5 |     items.append(item)",
    ]
    block = plain[i + 5:]
    assert block[0].startswith("    fix (`reviewer fix` applies it): Default items to None")
    assert "      -def add(item, items=[]):" in block
    assert "      +def add(item, items=None):" in block
    assert "      +    if items is None:" in block
    assert "      +        items = []" in block
    assert "+++" not in out and "---" not in click.unstyle(out)
    # The file itself is untouched.
    assert (repo.path / "app.py").read_text(encoding="utf-8") == APP


def test_explanation_and_unused_suppressions_in_both_modes(tmp_path: Path) -> None:
    from reviewer.suppressions import Unused

    f = Finding("RV101", "mutable-default-argument", "Shared default.", "gone.py",
                Span(2, 1), Severity.MEDIUM, explanation="Line one.\nLine two.")
    result = engine.Result(findings=[f], files_reviewed=1,
                           unused_suppressions=[Unused("a.py", 7, ("RV201",))])
    for on_terminal in (False, True):
        ctx = ReportContext(root=tmp_path, config=Config(), color=on_terminal,
                            code_frame=on_terminal)
        lines = click.unstyle(text.render(result, ctx)).splitlines()
        # gone.py cannot be read: no frame, no crash.
        assert lines == [
            "gone.py:2:1: RV101 Shared default.",
            "    Line one.",
            "    Line two.",
            "a.py:7:1: unused suppression (reviewer: ignore[RV201])",
            "1 finding in 1 file.",
        ]


def test_frame_handles_tabs_multiline_spans_and_bad_lines() -> None:
    src = "def f(a,\n\tb={}):\n\treturn b\n"
    f = Finding("RV101", "s", "m", "t.py", Span(2, 4, 2, 6), Severity.HIGH)
    frame = text.code_frame(f, src)
    assert frame[2] == "          | \t  ^^"
    multi = Finding("RV301", "s", "m", "t.py", Span(1, 1, 3, 9), Severity.LOW)
    frame = text.code_frame(multi, src)
    assert [ln[:9] for ln in frame] == ["  >     1", "  >     2", "  >     3"]
    assert text.code_frame(f.with_(span=Span(99, 1)), src) == []


def test_fix_diff_is_short_and_skips_broken_edits() -> None:
    src = "".join(f"line{i}\n" for i in range(1, 41))
    big = Fix("rewrite", tuple(TextEdit(i, 1, i, 5, "LINE") for i in range(1, 41)))
    diff = text.fix_diff(big, src)
    assert len(diff) == text.DIFF_MAX_LINES + 1
    assert diff[-1].strip().endswith("more diff lines")
    overlapping = Fix("bad", (TextEdit(1, 1, 1, 5, "x"), TextEdit(1, 2, 1, 3, "y")))
    assert text.fix_diff(overlapping, src) == []


def test_frames_show_the_reviewed_content_not_the_disk(repo: Repo) -> None:
    repo.write("app.py", "# edited on disk after staging\n")
    staged = APP.encode()
    f = Finding("RV101", "s", "m", "app.py", Span(4, 21, 4, 23), Severity.MEDIUM)
    result = engine.Result(findings=[f], files_reviewed=1)
    ctx = ReportContext(root=repo.path, config=Config(), color=False, code_frame=True,
                        contents={"app.py": staged})
    out = text.render(result, ctx)
    assert "  >     4 | def add(item, items=[]):" in out


def test_model_fix_diff_shows_piped_too(tmp_path: Path) -> None:
    """--explain output piped (CI logs, `| less`): the model's validated fix is in no other
    line, so it is shown as a plain diff under its finding; a deterministic fix is not."""
    (tmp_path / "app.py").write_text("try:\n    run()\nexcept:\n    pass\n", encoding="utf-8")
    edit = TextEdit(3, 1, 4, 1, "except ValueError:\n")
    model = Fix("Model fix for RV201 (validated)", (edit,), safe=False, origin="model")
    f = Finding("RV201", "bare-except", "Bare except.", "app.py", Span(3, 1), Severity.MEDIUM,
                explanation="Name the exception.", model_fix=model)
    deterministic = f.with_(model_fix=None, fix=Fix("Det", (edit,), safe=True),
                            span=Span(1, 1), explanation=None)
    result = engine.Result(findings=[f, deterministic], files_reviewed=1)
    ctx = ReportContext(root=tmp_path, config=Config(), color=False, code_frame=False)
    out = text.render(result, ctx)
    assert "\x1b[" not in out
    lines = out.splitlines()
    assert lines[:6] == [
        "app.py:3:1: RV201 Bare except.",
        "    Name the exception.",
        "    suggested fix (unsafe: review before applying): Model fix for RV201 (validated)",
        "      @@ -2,3 +2,3 @@",
        "           run()",
        "      -except:",
    ]
    assert "      +except ValueError:" in lines
    assert lines[-2] == "app.py:1:1: RV201 Bare except."  # its fix: counted, not shown
    assert LINE.match(lines[-2])
