"""The parts of `reviewer lsp` that need no editor: the engine's buffer entry point (the same
findings as `reviewer check` on the same text), positions, suppression edits, changed lines."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reviewer import config as config_mod
from reviewer import engine
from reviewer.baseline import write_baseline
from reviewer.findings import Finding, Severity, Span, apply_edits
from reviewer.lsp.changes import changed_lines
from reviewer.lsp.convert import Lines, column_to_chars, units
from reviewer.lsp.folders import Folders

pytest.importorskip("lsprotocol", reason="the lsp extra (lsprotocol) is not installed")
from reviewer.lsp.actions import ignore_edit

CODE = '''\
import subprocess


def run(cmd, acc=[]):
    try:
        subprocess.call(cmd, shell=True)  # reviewer: ignore[RV602] reviewed
    except:
        pass
    return acc
'''


def repo(root: Path, pyproject: str) -> Path:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "pyproject.toml").write_text(pyproject)
    return root


def keys(findings: list[Finding]) -> list[tuple[str, int, int, str]]:
    return [(f.rule_id, f.span.line, f.span.col, f.fingerprint) for f in findings]


def test_a_buffer_gets_the_findings_check_reports_for_the_file(tmp_path: Path) -> None:
    root = repo(tmp_path, '[tool.reviewer]\nignore = ["RV401"]\n'
                          '[tool.reviewer.per-file-ignores]\n"legacy/*" = ["RV2"]\n')
    (root / "legacy").mkdir()
    for rel in ("m.py", "legacy/old.py"):
        (root / rel).write_text(CODE)
    cfg = config_mod.load(root)
    for rel in ("m.py", "legacy/old.py"):
        on_disk = engine.run(engine.Job(root, [rel]), cfg).findings
        buffer = engine.review_buffer(root, rel, CODE, cfg).findings
        assert keys(buffer) == keys(on_disk) and buffer
    assert "RV602" not in {f.rule_id for f in buffer}  # the suppression comment holds
    assert not {"RV201", "RV203"} & {f.rule_id for f in buffer}  # per-file ignore


def test_the_baseline_and_exclusions_apply_to_buffers(tmp_path: Path) -> None:
    root = repo(tmp_path, '[tool.reviewer]\nexclude = ["gen/"]\n')
    cfg = config_mod.load(root)
    found = engine.review_buffer(root, "m.py", CODE, cfg).findings
    write_baseline(root / cfg.baseline, found[:2])
    after = engine.review_buffer(root, "m.py", CODE, cfg)
    assert keys(after.findings) == keys(found[2:]) and after.hidden_by_baseline == 2
    assert engine.review_buffer(root, "gen/m.py", CODE, cfg).findings == []
    assert engine.review_buffer(root, "notes.txt", CODE, cfg).findings == []
    script = engine.review_buffer(root, "tool", "#!/usr/bin/env python3\n" + CODE, cfg)
    assert script.findings  # a script without extension, by its #! line
    untitled = engine.buffer_language("Untitled-1", CODE, "python")
    assert untitled == "python" and engine.buffer_language("Untitled-1", CODE, "cobol") is None


def test_oversized_and_binary_buffers_are_skipped_with_a_reason(tmp_path: Path) -> None:
    cfg = config_mod.from_mapping({"max-file-size": 100})
    big = engine.review_buffer(tmp_path, "m.py", CODE * 10, cfg)
    assert big.findings == [] and "above the 100-byte limit" in big.skipped[0].reason
    nul = engine.review_buffer(tmp_path, "m.py", "x = 1\0", config_mod.Config())
    assert nul.findings == [] and nul.skipped[0].reason == "binary content"


def test_positions_in_every_encoding() -> None:
    line = "s = '😀é'; x = 1"
    assert units(line[:6], "utf-16") == 7 and units(line[:6], "utf-8") == 9
    assert units(line[:6], "utf-32") == 6
    assert column_to_chars(line, 7, "utf-16") == 6 and column_to_chars(line, 9, "utf-8") == 6
    lines = Lines(line + "\r\nnext\n", "utf-16")
    pos = lines.position(1, 7)  # the 1-based code-point column of 'é'
    assert (pos.line, pos.character) == (0, 7)
    assert lines.to_engine(pos) == (1, 7)
    whole = lines.range(Span(2))
    assert (whole.start.character, whole.end.character) == (0, 4)


def finding(line: int, rule: str = "RV101") -> Finding:
    return Finding(rule, "x", "m", "m.py", Span(line, 1), Severity.LOW)


def test_ignore_edits_add_or_extend_the_comment() -> None:
    text = "a = f(x)\nb = g(y)  # reviewer: ignore[RV603] known\nc = h(z)  # reviewer: ignore\n"
    lines = Lines(text, "utf-16")
    first = ignore_edit(finding(1), lines, "python")
    second = ignore_edit(finding(2, "RV201"), lines, "python")
    assert first is not None and second is not None
    assert ignore_edit(finding(3), lines, "python") is None  # bare ignore hides all already
    assert apply_edits(text, [first]).splitlines()[0] == "a = f(x)  # reviewer: ignore[RV101]"
    assert apply_edits(text, [second]).splitlines()[1] == (
        "b = g(y)  # reviewer: ignore[RV603, RV201] known")
    js = ignore_edit(finding(1), Lines("eval(x);\n", "utf-16"), "javascript")
    assert js is not None and js.text == "  // reviewer: ignore[RV101]"
    assert ignore_edit(finding(1), Lines("x = 1 + \\\n  2\n", "utf-16"), "python") is None


def test_changed_lines_against_head(tmp_path: Path) -> None:
    root = repo(tmp_path, "")
    (root / "m.py").write_text("a = 1\nb = 2\nc = 3\n")
    subprocess.run(["git", "-C", str(root), "add", "."], check=True)
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t",
                    "commit", "-qm", "c"], check=True)
    assert changed_lines(root, "m.py", "a = 1\nb = 20\nc = 3\nd = 4\n") == {2, 4}
    assert changed_lines(root, "m.py", "a = 1\nb = 2\nc = 3\n") == set()
    assert changed_lines(root, "new.py", "x = 1\n") is None  # untracked: all of it
    assert changed_lines(tmp_path / "nowhere", "m.py", "x\n") is None


def test_a_broken_configuration_keeps_the_last_good_one(tmp_path: Path) -> None:
    root = repo(tmp_path, '[tool.reviewer]\nselect = ["RV101"]\n').resolve()
    folders = Folders()
    folders.set_folders([root])
    place = folders.place(root / "pkg" / "m.py")
    assert (place.root, place.rel, place.in_workspace) == (root, "pkg/m.py", True)
    cfg, problem = folders.config(root)
    assert cfg.select == ("RV101",) and problem is None
    (root / "pyproject.toml").write_text('[tool.reviewer]\nselect = ["RV9999"]\n')
    problem = folders.reload(root)
    assert problem is not None and "unknown rule 'RV9999'" in problem
    assert folders.config(root) == (cfg, None)
    assert folders.roots_for(root / ".reviewer" / "baseline.json") == [root]
    json.dumps(problem)  # one line, plain text
    assert "\n" not in problem
