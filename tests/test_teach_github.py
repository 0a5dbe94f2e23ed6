"""Taught principles in PR reviews: `reviewer github review --explain` posts the model's
findings on taught principles as inline comments like any rule's, inside the diff, and a
re-run neither repeats them nor loses them (their fingerprints hold no model output).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from github_fake import PR, pull_request
from model_fake import JUDGE_EXPLANATION, serve_model
from test_github_review import BASE, in_hunks, review

from reviewer.github import render

if TYPE_CHECKING:
    from conftest import Repo

RunCli = Callable[..., tuple[int, str, str]]
TEXT = "Prefer pathlib over os.path"
HEAD = BASE + '''

def data_file(name: str) -> str:
    """The data file called ``name``."""
    import os
    return os.path.join("data", name)
'''


@pytest.fixture
def taught_pr(repo: Repo, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> Iterator[PR]:
    code, _, err = run_cli("teach", TEXT, "--severity", "medium")
    assert code == 0, err  # the base commit holds the team's principle
    with pull_request(repo, monkeypatch, {"lib/util.py": BASE}, {"lib/util.py": HEAD}) as pr:
        yield pr


def test_taught_finding_becomes_an_inline_comment(taught_pr: PR, run_cli: RunCli) -> None:
    judge = {"violates": True, "line": 4, "explanation": JUDGE_EXPLANATION}
    with serve_model(judge=judge) as model:
        args = ("--explain", "--server-url", model.url, "--max-explained", "0",
                "--no-check-run")
        code, _, err = review(run_cli, taught_pr, *args)
        assert code == 0, err
        comments = taught_pr.state.review_comments
        taught = [c for c in comments if "**T001 prefer-pathlib-over-os-path**" in str(c["body"])]
        assert len(taught) == 1, [c["body"] for c in comments]
        (c,) = taught
        body = str(c["body"])
        assert body.startswith(f"🟠 **T001 prefer-pathlib-over-os-path** (medium): {TEXT}")
        assert JUDGE_EXPLANATION in body
        assert (c["path"], c["line"]) == ("lib/util.py", 12)  # the return line
        assert in_hunks(taught_pr, "lib/util.py", 12, 12)
        fp = render.marked_fp(body)

        n = len(comments)
        code, _, err = review(run_cli, taught_pr, *args)  # the same head again
        assert code == 0, err
        assert len(taught_pr.state.review_comments) == n  # nothing repeated
    (summary,) = taught_pr.state.issue_comments
    assert fp in render.summary_state(str(summary["body"]))
