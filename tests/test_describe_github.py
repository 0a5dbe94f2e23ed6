"""The description of the change in the PR bot's summary comment and (opt-in) in an empty
PR body, through the real PyGithub client and tests/github_fake.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from github_fake import APP, FakeGitHub, State, patches_from_git, serve

from reviewer.github import render

if TYPE_CHECKING:
    from conftest import Repo

RunCli = Callable[..., tuple[int, str, str]]

BASE = '"""Shapes."""\n\n\ndef area(width: int, height: int) -> int:\n    """Area."""\n' \
       '    return width * height\n'
USE = '"""Use."""\nfrom shapes import area\n\nprint(area(1, 2))\n'


class PR:
    def __init__(self, repo: Repo, fake: FakeGitHub) -> None:
        self.repo, self.fake, self.state = repo, fake, fake.state
        self.refresh()

    def refresh(self) -> None:
        base = self.repo.git("rev-parse", "main").strip()
        head = self.repo.git("rev-parse", "HEAD").strip()
        self.state.base_sha, self.state.head_sha = base, head
        self.state.files = patches_from_git(self.repo.path, base, head)


@pytest.fixture
def pr(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Iterator[PR]:
    repo.write("shapes.py", BASE)
    repo.write("use.py", USE)
    repo.commit_all("base")
    repo.git("checkout", "-q", "-b", "topic")
    repo.write("shapes.py", BASE.replace("def area(width: int, height: int) -> int:",
                                         "def area(width: int, height: int, scale: int) -> int:"))
    repo.commit_all("topic")
    monkeypatch.setenv("GITHUB_TOKEN", APP)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    with serve(State()) as fake:
        yield PR(repo, fake)


def review(run_cli: RunCli, pr: PR, *args: str) -> tuple[int, str, str]:
    return run_cli("github", "review", "--repo", "octo/demo", "--pr", "7", "--api-url",
                   pr.fake.url, "--no-throttle", "--no-check-run", *args)


def test_summary_comment_describes_the_change_and_is_edited_in_place(
        pr: PR, run_cli: RunCli) -> None:
    code, out, err = review(run_cli, pr)
    assert code == 0, err
    (summary,) = pr.state.issue_comments
    body = summary["body"]
    assert render.is_summary(body)
    assert "#### Change the signature of area" in body
    assert "**refactor** (from rules over the facts" in body
    assert "parameter scale added (required)" in body and "use.py:4" in body
    assert pr.state.body is None  # the PR body is opt-in
    assert "PR body" not in out
    pr.repo.write("shapes.py", pr.repo.path.joinpath("shapes.py").read_text() +
                  '\n\ndef volume(a: int) -> int:\n    """Volume."""\n    return a ** 3\n')
    pr.repo.commit_all("more")
    pr.refresh()
    code, _, err = review(run_cli, pr)
    assert code == 0, err
    (summary,) = pr.state.issue_comments  # edited, not a second comment
    assert "volume" in summary["body"] and "#### Add volume" in summary["body"]
    code, _, _ = review(run_cli, pr, "--no-describe")
    (summary,) = pr.state.issue_comments
    assert "####" not in summary["body"]


def test_empty_pr_body_is_filled_and_kept_up_to_date(pr: PR, run_cli: RunCli) -> None:
    code, out, err = review(run_cli, pr, "--fill-body")
    assert code == 0, err
    assert "PR body filled" in out
    assert pr.state.body is not None and render.is_description(pr.state.body)
    assert pr.state.body.startswith("#### Change the signature of area")
    code, out, _ = review(run_cli, pr, "--fill-body")
    assert "PR body" not in out  # the same description: no write
    assert not [w for w in pr.state.writes("PATCH") if w[1].endswith("/pulls/7")][1:]


def test_a_body_the_author_wrote_is_never_touched(pr: PR, run_cli: RunCli) -> None:
    pr.state.body = "My own words."
    pr.repo.write("pyproject.toml", "[tool.reviewer]\ndescribe-fill-body = true\n")
    pr.repo.commit_all("config")
    pr.refresh()
    code, out, err = review(run_cli, pr)
    assert code == 0, err
    assert pr.state.body == "My own words." and "PR body" not in out
