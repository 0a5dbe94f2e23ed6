"""`reviewer review`: the interactive walk, driven through a pipe like a person would type."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from model_fake import BROAD_FIX, EXPLANATION, serve_model

from reviewer.feedback.store import FeedbackStore

if TYPE_CHECKING:
    from conftest import Repo

RunCli = Callable[..., tuple[int, str, str]]
JsonRun = Callable[..., tuple[int, dict[str, Any], str]]

CODE = '''\
"""Helpers."""


def add(item: int, items: list[int] = []) -> list[int]:
    """Append ``item``."""
    items.append(item)
    return items


def run(cmd: str) -> object:
    """Run ``cmd``."""
    return eval(cmd)


def other(x: int, seen: dict[str, int] = {}) -> int:
    """Other."""
    return x + len(seen)
'''


def session(repo: Repo, answers: str, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "REVIEWER_AUTHOR": "alice@example.com"}
    proc = subprocess.run([sys.executable, "-m", "reviewer", "review", *args], input=answers,
                          cwd=repo.path, capture_output=True, text=True, env=env, timeout=60)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def verdicts(repo: Repo) -> dict[str, tuple[str, str, str]]:
    """rule id -> (verdict, reason, source) of the latest verdicts."""
    with FeedbackStore.open(repo.feedback_db, create=False) as store:
        return {j.finding.rule_id: (j.verdict.verdict, j.verdict.reason, j.verdict.source)
                for j in store.verdicts() if j.finding is not None}


@pytest.fixture
def staged(repo: Repo) -> Repo:
    repo.write_staged("util.py", CODE)
    return repo


def test_accept_dismiss_with_reason_and_quit(staged: Repo) -> None:
    code, out, err = session(staged, "a\nd\ninput is from our own config\nq\n")
    assert code == 0, err
    # Each finding shows its location, message, code frame and fix diff.
    assert "util.py:4:39: RV101 Mutable default argument items=[]" in out
    assert ">     4 | def add(item: int, items: list[int] = []) -> list[int]:" in out
    assert "+def add(item: int, items: list[int] | None = None) -> list[int]:" in out
    assert "util.py:12:12: RV601" in out
    assert "[1/3]" in out and "[3/3]" in out
    assert out.rstrip().endswith("Reviewed 2 of 3 findings: 1 accepted, 1 dismissed, 0 fixed, "
                                 "0 skipped (1 left for later).")
    assert verdicts(staged) == {"RV101": ("accept", "", "review"),
                                "RV601": ("dismiss", "input is from our own config", "review")}
    assert (staged.path / "util.py").read_text() == CODE  # nothing written


@pytest.fixture
def judged(staged: Repo, run_json: JsonRun, run_cli: RunCli,
           monkeypatch: pytest.MonkeyPatch) -> Repo:
    """RV101 in add() accepted, RV601 dismissed with a reason (in-process, quicker)."""
    monkeypatch.setenv("REVIEWER_AUTHOR", "alice@example.com")
    _, report, _ = run_json()
    fps = {(f["rule_id"], f["line"]): f["fingerprint"] for f in report["findings"]}
    assert run_cli("feedback", "accept", fps["RV101", 4])[0] == 0
    assert run_cli("feedback", "dismiss", fps["RV601", 12], "--reason",
                   "input is from our own config")[0] == 0
    return staged


def test_a_later_session_walks_only_findings_without_a_verdict(judged: Repo) -> None:
    # The accepted finding is listed, the dismissed one left out (as check does).
    code, out, _ = session(judged, "s\n")
    assert code == 0
    assert out.startswith("1 hidden by the team's verdicts; --all-verdicts walks them.\n")
    assert "= util.py:4: RV101" in out and "[accepted by alice@example.com]" in out
    assert "RV601" not in out
    assert "[1/1]" in out and "RV101 Mutable default argument seen={}" in out
    assert out.rstrip().endswith("0 accepted, 0 dismissed, 0 fixed, 1 skipped (1 already had "
                                 "a verdict).")
    # --all-verdicts shows the dismissed one again, with its verdict.
    code, out, _ = session(judged, "s\nq\n", "--all-verdicts")
    assert "hidden" not in out
    assert "earlier verdict: accepted by alice@example.com" in out
    assert "earlier verdict: dismissed by alice@example.com: input is from our own config" in out


def test_fix_is_applied_revalidated_and_accepted(staged: Repo) -> None:
    code, out, err = session(staged, "f\ns\nfix\n")
    assert code == 0, err
    text = (staged.path / "util.py").read_text()
    ast.parse(text)
    assert "def add(item: int, items: list[int] | None = None) -> list[int]:" in text
    assert "def other(x: int, seen: dict[str, int] | None = None) -> int:" in text
    assert "eval(cmd)" in text
    assert out.count("fixed util.py (RV101): re-validated") == 2
    # The third finding moved down by two lines after the first fix: shown where it is now.
    assert "util.py:17:42: RV101" in out
    assert "2 fixed, 1 skipped" in out
    assert "the fixed files are not staged" in err
    assert verdicts(staged)["RV101"] == ("accept", "fixed with `reviewer review`", "review")
    # Re-checking the file: only the eval finding is left.
    proc = subprocess.run([sys.executable, "-m", "reviewer", "check", "util.py"],
                          cwd=staged.path, capture_output=True, text=True, timeout=60)
    assert "RV601" in proc.stdout and "RV101" not in proc.stdout


def test_fix_refused_when_the_file_changed_leaves_it_alone(staged: Repo) -> None:
    # The staged version differs from the working tree: the fix must not be applied.
    changed = CODE + "\n\nLATER = 1\n"
    (staged.path / "util.py").write_text(changed)
    code, out, _ = session(staged, "f\nq\n")
    assert code == 0
    assert "Not fixed: util.py its staged content differs" in out
    assert (staged.path / "util.py").read_text() == changed


def test_bad_keys_reprompt_and_eof_quits(staged: Repo) -> None:
    code, out, err = session(staged, "x\n\nmaybe\naccept\n")
    assert code == 0, err
    assert out.count("Please answer a, d, f, s or q") == 3
    assert "1 accepted" in out and "(2 left for later)" in out
    assert verdicts(staged) == {"RV101": ("accept", "", "review")}
    # EOF while asking for a dismissal's reason records nothing.
    code, out, _ = session(staged, "d\n")
    assert code == 0 and "0 dismissed" in out
    assert "RV601" not in verdicts(staged)


def test_nothing_to_review(repo: Repo) -> None:
    repo.write_staged("ok.py", '"""Fine."""\n')
    code, out, _ = session(repo, "")
    assert (code, out) == (0, "Nothing to review: no findings in 1 file.\n")


def test_all_judged_says_so_and_all_verdicts_walks_again(judged: Repo, run_cli: RunCli
                                                         ) -> None:
    with FeedbackStore.open(judged.path / ".reviewer" / "feedback.db") as store:
        (other,) = [f for f in store.findings() if f.line == 15]
    run_cli("feedback", "accept", other.fingerprint)
    code, out, _ = session(judged, "")
    assert code == 0
    assert "Nothing to review: all 2 findings already have a verdict" in out
    assert "1 hidden by the team's verdicts" in out
    code, out, _ = session(judged, "d\nchanged my mind\nq\n", "--all-verdicts")
    assert "earlier verdict: accepted by alice@example.com" in out
    assert verdicts(judged)["RV101"][:2] == ("dismiss", "changed my mind")


def test_mode_errors_are_one_line(staged: Repo) -> None:
    code, _, err = session(staged, "", "--all", "util.py")
    assert code == 2 and len(err.splitlines()) == 1 and "--all" in err


def test_explain_shows_the_model_and_applies_its_validated_fix(repo: Repo) -> None:
    source = ('"""Load."""\n\n\ndef load(path: str) -> str:\n    """Read ``path``."""\n'
              "    try:\n        return open(path).read()\n    except:\n"
              '        return ""\n')
    repo.write("mod.py", source)
    with serve_model(fixed_code=BROAD_FIX) as model:
        code, out, err = session(repo, "f\n", "mod.py", "--select", "RV201", "--explain",
                                 "--server-url", model.url, "--llm-timeout", "20",
                                 "--no-cache")
        assert model.prompts
    assert code == 0, err
    assert f"    {EXPLANATION}" in out
    assert "suggested fix from the local model (validated)" in out
    assert "+    " + BROAD_FIX.rstrip() in out
    assert "fixed mod.py (RV201): re-validated" in out
    assert (repo.path / "mod.py").read_text() == source.replace("except:\n", BROAD_FIX)
    with FeedbackStore.open(repo.feedback_db, create=False) as store:
        (judged,) = store.verdicts()
    assert judged.verdict.verdict == "accept"
    assert judged.finding is not None and judged.finding.explanation == EXPLANATION
    assert "+    " + BROAD_FIX.rstrip() in judged.finding.fix_diff
