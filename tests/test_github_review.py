"""`reviewer github review` with the real PyGithub client against tests/github_fake.py.

The fake enforces GitHub's rules (422 for a comment outside the diff, 50 annotations per
request, 403 for read-only tokens and for check runs from personal tokens), so a test that
passes here posted nothing GitHub would refuse.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from github_fake import (
    HUMAN,
    PAT,
    PR,
    READ_ONLY,
    new_side_lines,
    pull_request,
    run_github,
)
from model_fake import EXPLANATION, serve_model

from reviewer.github import render

if TYPE_CHECKING:
    from conftest import Repo

RunCli = Callable[..., tuple[int, str, str]]

BASE = '''\
"""Helpers."""


def total(values: list[int]) -> int:
    """Sum of ``values``."""
    return sum(values)
'''
# Four findings on added lines: RV602 + RV601 (high), RV101 (medium, with a fix), RV401.
HEAD = BASE + '''

def add(item: int, items: list[int] = []) -> list[int]:
    """Append ``item``."""
    items.append(item)
    return items


def run(cmd: str) -> object:
    import os

    os.system(cmd)
    return eval(cmd)


def undocumented() -> None:
    pass
'''
BIG = '"""Big."""\n\n\ndef big(a: int) -> int:\n    """Big."""\n' + "".join(
    f"    x{i} = a + {i}\n" for i in range(60)) + "    return a\n"


@pytest.fixture
def pr(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Iterator[PR]:
    with pull_request(repo, monkeypatch, {"lib/util.py": BASE, "big.py": BIG},
                      {"lib/util.py": HEAD,
                       "big.py": BIG.replace("x55 = a + 55", "x55 = a + 555")}) as opened:
        yield opened


def review(run_cli: RunCli, pr: PR, *args: str) -> tuple[int, str, str]:
    return run_github(run_cli, pr, "review", *args)


def fps(comments: list[dict[str, object]]) -> list[str | None]:
    return [render.marked_fp(str(c["body"])) for c in comments]


def in_hunks(pr: PR, path: str, first: int, last: int) -> bool:
    (f,) = [f for f in pr.state.files if f["filename"] == path]
    return any(set(range(first, last + 1)) <= h for h in new_side_lines(f["patch"]))


# -- the first review ------------------------------------------------------------------------
def test_first_run_posts_one_review_on_diff_lines(pr: PR, run_cli: RunCli) -> None:
    code, out, err = review(run_cli, pr)
    assert code == 0, err
    assert out == ("reviewer: octo/demo#7: 6 findings, 5 new inline comments, 0 resolved, "
                   "summary comment created, check run created.\n")
    s = pr.state
    assert len(s.writes("POST", "/reviews")) == 1 and len(s.reviews) == 1
    assert s.reviews[0]["commit_id"] == s.head_sha
    comments = s.review_comments
    assert len(comments) == 5
    for c in comments:
        first = c["start_line"] or c["line"]
        assert in_hunks(pr, c["path"], first, c["line"])  # the fake would have said 422
        assert str(c["body"]).rstrip().endswith(render.fp_marker(render.marked_fp(c["body"])))
    # The most severe first; RV301 reports big.py's `def` line, outside the diff's hunk.
    rules = sorted(str(c["body"]).split("**")[1].split()[0] for c in comments)
    assert rules == ["RV101", "RV401", "RV401", "RV601", "RV602"]

    (summary,) = s.issue_comments
    body = summary["body"]
    assert render.is_summary(body)
    assert "### reviewer: 6 findings in 2 files" in body
    assert "5 with an inline comment; 6 at or above the failure threshold." in body
    assert "Not commented inline (1)" in body and "`big.py:4`" in body and "RV301" in body
    assert len(render.summary_state(body)) == 6

    (run,) = s.check_runs
    assert run["head_sha"] == s.head_sha and run["conclusion"] == "failure"
    assert len(run["output"]["annotations"]) == 6
    levels = {a["title"].split()[0]: a["annotation_level"] for a in run["output"]["annotations"]}
    assert levels["RV602"] == "failure" and levels["RV101"] == "warning"


def test_suggestion_block_for_a_validated_fix(pr: PR, run_cli: RunCli) -> None:
    review(run_cli, pr)
    (c,) = [c for c in pr.state.review_comments if "RV101" in c["body"]]
    body = str(c["body"])
    assert "```suggestion\n" in body
    suggested = body.split("```suggestion\n", 1)[1].split("\n```", 1)[0]
    # Applying the suggestion to the commented lines gives the validated fix.
    lines = HEAD.splitlines()
    first, last = c["start_line"] or c["line"], c["line"]
    fixed = "\n".join([*lines[: first - 1], suggested, *lines[last:]]) + "\n"
    assert "items: list[int] = []" not in fixed and "items = []" in fixed
    compile(fixed, "util.py", "exec")
    others = [c for c in pr.state.review_comments if "RV101" not in c["body"]]
    assert all("suggestion" not in str(c["body"]) for c in others)  # no fix, no block


# -- re-runs -----------------------------------------------------------------------------------
def test_rerun_posts_nothing_twice(pr: PR, run_cli: RunCli) -> None:
    review(run_cli, pr)
    summary_id = pr.state.issue_comments[0]["id"]
    before = [dict(c) for c in pr.state.review_comments]
    code, out, _ = review(run_cli, pr)
    assert code == 0
    assert "0 new inline comments, 0 resolved, summary comment edited" in out
    assert len(pr.state.reviews) == 1  # no second review: nothing new to say inline
    assert pr.state.review_comments == before
    assert [c["id"] for c in pr.state.issue_comments] == [summary_id]  # edited in place
    assert pr.state.writes("PATCH", f"/issues/comments/{summary_id}")


def test_push_resolves_fixed_findings_and_comments_new_ones(pr: PR, run_cli: RunCli) -> None:
    review(run_cli, pr)
    old = {render.marked_fp(c["body"]): c for c in pr.state.review_comments}
    # Fix the shell injection and the eval (the lines move up too); add a new finding.
    fixed = HEAD.replace("    os.system(cmd)\n    return eval(cmd)\n",
                         "    return cmd\n").replace("    import os\n\n", "")
    pr.push("lib/util.py", fixed + "\n\ndef more(a=[]):\n    return a\n")
    code, out, _ = review(run_cli, pr)
    assert code == 0
    assert "2 resolved" in out
    resolved = [c for c in pr.state.review_comments if render.is_resolved(c["body"])]
    assert sorted(str(c["body"]).split("~~")[1].split("**")[1] for c in resolved) == [
        "RV601 eval-exec", "RV602 shell-injection"]
    for c in resolved:
        assert render.marked_fp(c["body"]) in old  # the same comments, edited
        assert f"Resolved** in {pr.state.head_sha[:7]}" in c["body"]
    body = pr.state.issue_comments[0]["body"]
    assert "Resolved since the last review (2)" in body
    assert "~~`lib/util.py` RV601 eval-exec~~" in body
    # Two inline slots came free: the new RV101 (medium) gets one of them.
    new = [c for c in pr.state.review_comments if render.marked_fp(c["body"]) not in old]
    assert new and any("def more" in c["body"] or "a=[]" in c["body"] for c in new)
    assert len(pr.state.reviews) == 2
    # A third run on the same commit changes nothing.
    snapshot = [dict(c) for c in pr.state.review_comments]
    code, out, _ = review(run_cli, pr)
    assert "0 new inline comments, 0 resolved" in out
    assert pr.state.review_comments == snapshot and len(pr.state.reviews) == 2


def test_comment_cap_counts_standing_comments(pr: PR, run_cli: RunCli) -> None:
    code, out, _ = review(run_cli, pr, "--max-comments", "2")
    assert code == 0 and "2 new inline comments" in out
    rules = sorted(str(c["body"]).split("**")[1].split()[0] for c in pr.state.review_comments)
    assert rules == ["RV601", "RV602"]  # the most severe
    body = pr.state.issue_comments[0]["body"]
    assert "Not commented inline (4)" in body
    _, out, _ = review(run_cli, pr, "--max-comments", "2")
    assert "0 new inline comments" in out and len(pr.state.review_comments) == 2
    _, out, _ = review(run_cli, pr, "--max-comments", "0", "--no-check-run")
    assert "0 new inline comments" in out and "check run" not in out
    assert len(pr.state.check_runs) == 2


def test_comments_of_others_are_not_trusted(pr: PR, run_cli: RunCli) -> None:
    # Someone pastes reviewer's markers: they neither hide findings nor get edited.
    review(run_cli, pr, "--max-comments", "0", "--no-check-run")
    state = render.summary_state(pr.state.issue_comments[0]["body"])
    pr.state.issue_comments.clear()
    fake_fp = next(iter(state))
    pr.state.review_comments.append({"id": 1, "body": render.fp_marker(fake_fp), "path":
                                     "lib/util.py", "line": 9, "user": HUMAN})
    pr.state.issue_comments.append({"id": 2, "body": render.SUMMARY_MARKER + "\nmine",
                                    "user": HUMAN})
    code, out, err = review(run_cli, pr)
    assert code == 0, err
    assert "5 new inline comments" in out and "summary comment created" in out
    assert fake_fp in fps(pr.state.review_comments[1:])
    assert pr.state.issue_comments[0]["body"] == render.SUMMARY_MARKER + "\nmine"


# -- tokens ------------------------------------------------------------------------------------
def test_read_only_token_degrades_to_the_summary(
    pr: PR, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", READ_ONLY)
    job_summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(job_summary))
    code, out, err = review(run_cli, pr)
    assert code == 0
    assert err == ("reviewer: warning: the token may not write to octo/demo#7 (403): the "
                   "summary follows\n")
    assert out.startswith(render.SUMMARY_MARKER) and "### reviewer: 6 findings" in out
    assert job_summary.read_text(encoding="utf-8") == out
    s = pr.state
    assert not s.reviews and not s.review_comments and not s.issue_comments
    assert not s.check_runs
    assert len(s.writes()) == 1  # it stopped at the first refusal


def test_personal_token_gets_no_check_run(pr: PR, run_cli: RunCli,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", PAT)
    code, out, _ = review(run_cli, pr)
    assert code == 0
    assert "5 new inline comments" in out
    assert "check run not created: this token may not create check runs (403)" in out
    assert all(c["user"] == HUMAN for c in pr.state.review_comments)
    code, out, _ = review(run_cli, pr)  # its own comments are recognised (via /user)
    assert "0 new inline comments" in out and "summary comment edited" in out


def test_annotations_go_out_fifty_at_a_time(pr: PR, run_cli: RunCli) -> None:
    many = '"""Many."""\n' + "".join(f"\n\ndef f{i}(a):\n    return a\n" for i in range(60))
    pr.push("many.py", many)  # 120 findings: RV401 and RV402 for each function
    code, _, err = review(run_cli, pr)
    assert code == 0, err
    (run,) = pr.state.check_runs
    assert len(run["output"]["annotations"]) == 126
    assert len(pr.state.writes("POST", "/check-runs")) == 1
    assert len(pr.state.writes("PATCH", "/check-runs/")) == 2
    assert all(len(body["output"]["annotations"]) <= 50
               for _, _, body in pr.state.writes(kind="/check-runs"))
    assert "… and" in pr.state.issue_comments[0]["body"]  # the list is cut, not the state


def test_refused_review_falls_back_to_the_summary(pr: PR, run_cli: RunCli) -> None:
    # A push lands between listing the files and posting: GitHub answers 422.
    original = pr.fake.check_line
    pr.fake.check_line = lambda c: False  # type: ignore[method-assign]
    try:
        code, out, err = review(run_cli, pr)
    finally:
        pr.fake.check_line = original  # type: ignore[method-assign]
    assert code == 0
    assert "0 new inline comments" in out
    assert "GitHub refused the inline comments (422" in err
    body = pr.state.issue_comments[0]["body"]
    assert "Not commented inline (6)" in body and "GitHub refused the inline comments" in body
    assert not pr.state.review_comments


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "env", "message"), [
    ((), {"GITHUB_TOKEN": ""}, "GITHUB_TOKEN is not set"),
    (("--repo", "nope"), {}, "expected OWNER/NAME"),
    (("--pr", "8"), {}, "GitHub API: reading octo/demo#8 failed: 404 Not Found"),
    ((), {"GITHUB_TOKEN": "wrong"}, "GitHub API: reading octo/demo#7 failed: 401 Bad credentials"),
])
def test_bad_input_is_one_line(pr: PR, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch,
                               args: tuple[str, ...], env: dict[str, str], message: str) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    base = {"--repo": "octo/demo", "--pr": "7"}
    given = dict(zip(args[::2], args[1::2], strict=True))
    argv = [x for k, v in {**base, **given}.items() for x in (k, v)]
    code, out, err = run_cli("github", "review", *argv, "--api-url", pr.fake.url,
                             "--no-throttle")
    assert code == 2 and not out
    assert err.startswith("reviewer: error: ") and err.count("\n") == 1
    assert message in err
    assert not pr.state.writes()


def test_outside_a_repository(pr: PR, run_cli: RunCli, nogit: Path) -> None:
    code, _, err = review(run_cli, pr)
    assert code == 2 and "not a git repository" in err


def test_checkout_not_at_the_head_warns(pr: PR, run_cli: RunCli) -> None:
    pr.state.head_sha = "1" * 40  # the PR moved on; this checkout is older
    code, _, err = review(run_cli, pr, "--max-comments", "0", "--no-check-run")
    assert code == 0
    assert "not the PR's head 1111111" in err


# -- with the model --------------------------------------------------------------------------
def test_model_explanations_follow_the_rule_statement(pr: PR, run_cli: RunCli) -> None:
    with serve_model() as model:
        code, _, err = review(run_cli, pr, "--explain", "--server-url", model.url,
                              "--max-explained", "2")
    assert code == 0, err
    explained = [c for c in pr.state.review_comments if EXPLANATION in str(c["body"])]
    assert len(explained) == 2  # --max-explained
    for c in explained:
        statement, explanation = str(c["body"]).split("\n\n")[:2]
        assert statement.startswith(("🔴 **RV60", "🟠 **RV101"))  # the rule speaks first
        assert explanation == EXPLANATION


def test_the_real_client_settings_report_a_refusal_once(pr: PR) -> None:
    # With PyGithub's own pauses and retries (no --no-throttle) and in a fresh process:
    # its logger must not add lines of its own to reviewer's one warning.
    env = {**os.environ, "GITHUB_TOKEN": READ_ONLY}
    proc = subprocess.run(
        [sys.executable, "-m", "reviewer", "github", "review", "--repo", "octo/demo",
         "--pr", "7", "--api-url", pr.fake.url, "--max-comments", "0", "--no-check-run"],
        cwd=pr.repo.path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0
    assert proc.stderr == ("reviewer: warning: the token may not write to octo/demo#7 "
                           "(403): the summary follows\n")
    assert proc.stdout.startswith(render.SUMMARY_MARKER)
