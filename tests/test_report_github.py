"""GitHub workflow-command annotations: escaping per the toolkit, levels, summary."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from reviewer.config import Config
from reviewer.engine import Result, Skipped
from reviewer.findings import Finding, Fix, Severity, Span, TextEdit
from reviewer.report import ReportContext, github

if TYPE_CHECKING:
    from conftest import Repo


def _unescape_property(text: str) -> str:
    # The runner's ActionCommand unescaping, in its order.
    for enc, dec in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(enc, dec)
    return text


def _unescape_data(text: str) -> str:
    for enc, dec in (("%0D", "\r"), ("%0A", "\n"), ("%25", "%")):
        text = text.replace(enc, dec)
    return text


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """Parse ``::name k=v,k=v::message`` the way the Actions runner does."""
    assert line.startswith("::")
    end = line.index("::", 2)
    head, message = line[2:end], line[end + 2:]
    name, _, props_text = head.partition(" ")
    props = {}
    for pair in filter(None, props_text.split(",")):
        key, _, value = pair.partition("=")
        props[key] = _unescape_property(value)
    return name, props, _unescape_data(message)


@pytest.mark.parametrize(
    ("raw", "prop", "data"),
    [
        ("plain", "plain", "plain"),
        ("100%", "100%25", "100%25"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("a:b,c", "a%3Ab%2Cc", "a:b,c"),
        ("%0A", "%250A", "%250A"),  # an escape sequence in the input stays literal
        ("::error::x", "%3A%3Aerror%3A%3Ax", "::error::x"),
    ],
)
def test_escaping_matches_the_toolkit(raw: str, prop: str, data: str) -> None:
    assert github.escape_property(raw) == prop
    assert github.escape_data(raw) == data


def _finding(**kw: object) -> Finding:
    base: dict[str, object] = {
        "rule_id": "RV101", "slug": "mutable-default-argument",
        "message": "Mutable default argument items=[]: shared, between calls.",
        "path": "src/app.py", "span": Span(3, 21, 3, 23), "severity": Severity.MEDIUM,
    }
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def test_annotation_round_trips_hostile_text() -> None:
    f = _finding(
        path="we,ird:dir/100%\nname.py",
        message="first line\nsecond, with: colon\r and 100% ::error::injected",
        explanation="Model says:\nreally.",
        severity=Severity.HIGH,
    )
    line = github.annotation(f)
    assert "\n" not in line and "\r" not in line
    name, props, message = parse_command(line)
    assert name == "error"
    assert props == {
        "file": f.path, "line": "3", "endLine": "3", "col": "21", "endColumn": "23",
        "title": "RV101 mutable-default-argument",
    }
    assert message == f.message + "\n\nModel says:\nreally."


def test_levels_columns_and_fix_hint() -> None:
    assert parse_command(github.annotation(_finding(severity=Severity.LOW)))[0] == "notice"
    assert parse_command(github.annotation(_finding(severity=Severity.INFO)))[0] == "notice"
    assert parse_command(github.annotation(_finding()))[0] == "warning"
    # Multi-line span: like the toolkit, no columns.
    _, props, _ = parse_command(github.annotation(_finding(span=Span(3, 5, 9, 2))))
    assert props == {"file": "src/app.py", "line": "3", "endLine": "9",
                     "title": "RV101 mutable-default-argument"}
    # Unknown end: just line and col.
    _, props, _ = parse_command(github.annotation(_finding(span=Span(4, 2))))
    assert (props["line"], props["col"]) == ("4", "2") and "endLine" not in props
    fix = Fix("Default items to None", (TextEdit(3, 21, 3, 23, "None"),))
    _, _, message = parse_command(github.annotation(_finding(fix=fix)))
    assert message.endswith("\n\nFix: Default items to None")


def test_summary_line(tmp_path: Path) -> None:
    findings = [_finding(severity=s) for s in (Severity.HIGH, Severity.MEDIUM, Severity.MEDIUM)]
    result = Result(
        findings=findings, files_reviewed=2, skipped=[Skipped("b.bin", "binary file")],
        filtered_by_diff=4, warnings=["model not loaded: explanations skipped"],
    )
    out = github.render(result, ReportContext(root=tmp_path, config=Config())).splitlines()
    assert [parse_command(ln)[0] for ln in out[:-1]] == ["error", "warning", "warning", "warning"]
    assert parse_command(out[3])[2] == "model not loaded: explanations skipped"
    assert out[-1] == (
        "reviewer: 3 findings (1 error, 2 warnings) in 2 files; 1 file not reviewed;"
        " 4 outside the changed lines."
    )
    many = Result(findings=[_finding()] * 11, files_reviewed=1)
    assert "GitHub shows only 10" in github.summary_line(many)
    assert github.summary_line(Result(findings=[], files_reviewed=1)) == (
        "reviewer: 0 findings in 1 file."
    )


def test_real_run(repo: Repo, run_cli: Callable[..., tuple[int, str, str]]) -> None:
    repo.write("pkg/app.py", "def add(item, items=[]):\n    items.append(item)\n    return items\n")
    repo.write("pkg/broken.py", "def broken(:\n    pass\n")
    repo.stage("pkg/app.py", "pkg/broken.py")
    code, out, err = run_cli("check", "--staged", "--format", "github", "--no-cache")
    assert code == 1, err
    lines = out.splitlines()
    commands = [parse_command(ln) for ln in lines if ln.startswith("::")]
    by_title = {props["title"]: (name, props) for name, props, _ in commands}
    name, props = by_title["RV101 mutable-default-argument"]
    assert name == "warning"
    assert (props["file"], props["line"], props["col"]) == ("pkg/app.py", "1", "21")
    name, props = by_title["RV000 syntax-error"]
    assert name == "error" and props["file"] == "pkg/broken.py"
    assert lines[-1].startswith("reviewer: ") and not lines[-1].startswith("::")
