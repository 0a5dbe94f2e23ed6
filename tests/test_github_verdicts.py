"""Reactions and replies on reviewer's PR comments become verdicts (real PyGithub, fake GitHub).

The bot posts with the app token; people answer with personal tokens through PyGithub,
the way they would click 👍 or reply on GitHub.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from github import Auth, Github
from github_fake import APP, PAT, PAT2, READ_ONLY, FakeGitHub, State, patches_from_git, serve

from reviewer.feedback.store import FeedbackStore
from reviewer.github import render
from reviewer.github.verdicts import parse_reply

if TYPE_CHECKING:
    from conftest import Repo

RunCli = Callable[..., tuple[int, str, str]]

BASE = '"""Helpers."""\n'
HEAD = BASE + '''

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


class PR:
    def __init__(self, repo: Repo, fake: FakeGitHub) -> None:
        self.repo, self.fake, self.state = repo, fake, fake.state
        base = repo.git("rev-parse", "main").strip()
        head = repo.git("rev-parse", "HEAD").strip()
        self.state.base_sha, self.state.head_sha = base, head
        self.state.files = patches_from_git(repo.path, base, head)

    def person(self, token: str) -> Any:
        """The PR as somebody with ``token`` sees it through PyGithub."""
        gh = Github(auth=Auth.Token(token), base_url=self.fake.url,
                    seconds_between_requests=None, seconds_between_writes=None, retry=None)
        return gh.get_repo("octo/demo").get_pull(7)

    def bot_comments(self) -> dict[str, dict[str, Any]]:
        """rule id -> reviewer's inline comment."""
        out = {}
        for c in self.state.review_comments:
            if render.marked_fp(c["body"]):
                rule = c["body"].split("**")[1].split()[0]
                out.setdefault(rule if rule not in out else rule + "'", c)
        return out


@pytest.fixture
def pr(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Iterator[PR]:
    repo.write("util.py", BASE)
    repo.commit_all("base")
    repo.git("checkout", "-q", "-b", "topic")
    repo.write("util.py", HEAD)
    repo.commit_all("topic")
    monkeypatch.setenv("GITHUB_TOKEN", APP)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_API_URL", raising=False)
    with serve(State()) as fake:
        yield PR(repo, fake)


def gh(run_cli: RunCli, pr: PR, command: str, *args: str) -> tuple[int, str, str]:
    return run_cli("github", command, "--repo", "octo/demo", "--pr", "7",
                   "--api-url", pr.fake.url, "--no-throttle", *args)


def stored(pr: PR) -> list[tuple[str, str, str, str, str]]:
    """(rule, verdict, author, source, reason) of every stored verdict."""
    with FeedbackStore.open(pr.repo.path / ".reviewer" / "feedback.db", create=False) as s:
        return sorted((j.finding.rule_id if j.finding else "?", j.verdict.verdict,
                       j.verdict.author, j.verdict.source, j.verdict.reason)
                      for j in s.verdicts(latest=False))


@pytest.mark.parametrize("body, expected", [
    ("accept", ("accept", "")),
    ("Accept: good catch", ("accept", "good catch")),
    ("dismiss we validate upstream", ("dismiss", "we validate upstream")),
    ("DISMISS - generated code", ("dismiss", "generated code")),
    ("/reviewer dismiss the input is trusted\nsee #12",
     ("dismiss", "the input is trusted see #12")),
    ("/reviewer accept", ("accept", "")),
    ("\N{THUMBS UP SIGN}", ("accept", "")),
    ("\N{THUMBS DOWN SIGN}\U0001F3FD not here", ("dismiss", "not here")),
    ("+1", ("accept", "")),
    ("-1, noise", ("dismiss", "noise")),
    ("  accept  ", ("accept", "")),
    ("acceptable risk", None),
    ("I dismiss this", None),
    ("thanks, will fix", None),
    ("/reviewer explain", None),
    ("", None),
    ("+10", None),
])
def test_reply_grammar(body: str, expected: tuple[str, str] | None) -> None:
    assert parse_reply(body) == expected


def test_reactions_and_replies_become_verdicts_once(pr: PR, run_cli: RunCli) -> None:
    code, out, err = gh(run_cli, pr, "review", "--no-check-run")
    assert code == 0, err
    ours = pr.bot_comments()
    assert {"RV101", "RV101'", "RV601"} <= set(ours)
    octocat, monalisa, bot = pr.person(PAT), pr.person(PAT2), pr.person(APP)
    octocat.get_review_comment(ours["RV101"]["id"]).create_reaction("+1")
    octocat.get_review_comment(ours["RV101"]["id"]).create_reaction("heart")  # no verdict
    bot.get_review_comment(ours["RV101"]["id"]).create_reaction("-1")  # the bot's own
    monalisa.get_review_comment(ours["RV101'"]["id"]).create_reaction("-1")
    octocat.create_review_comment_reply(ours["RV601"]["id"], "dismiss: we validate upstream")
    reply = monalisa.create_review_comment_reply(ours["RV601"]["id"], "why is this eval?")
    monalisa.create_review_comment_reply(reply.id, "/reviewer accept on second look")
    octocat.create_review_comment_reply(ours["RV101"]["id"], "thanks, fixing")

    code, out, err = gh(run_cli, pr, "verdicts")
    assert code == 0, err
    assert out.splitlines()[-1] == ("reviewer: octo/demo#7: 4 verdicts on 3 comments: 4 new, "
                                    "0 already recorded.")
    assert stored(pr) == sorted([
        ("RV101", "accept", "octocat", "github", ""),
        ("RV101", "dismiss", "monalisa", "github", ""),
        ("RV601", "dismiss", "octocat", "github", "we validate upstream"),
        ("RV601", "accept", "monalisa", "github", "on second look"),
    ])
    # A re-run adds nothing; a review run reads them too and adds nothing either.
    code, out, _ = gh(run_cli, pr, "verdicts")
    assert out.splitlines()[-1].endswith("0 new, 4 already recorded.")
    code, out, err = gh(run_cli, pr, "review", "--no-check-run")
    assert code == 0 and "verdict" not in out, err
    assert len(stored(pr)) == 4

    # The next push's review picks up what was said in between.
    monalisa.get_review_comment(ours["RV101"]["id"]).create_reaction("-1")
    code, out, err = gh(run_cli, pr, "review", "--no-check-run")
    assert code == 0, err
    assert "1 new verdict from the PR" in out
    assert ("RV101", "dismiss", "monalisa", "github", "") in stored(pr)
    assert len(stored(pr)) == 5
    # They are verdicts like any other: `feedback list` shows them with the GitHub login.
    code, out, _ = run_cli("feedback", "list", "--verdict", "dismiss", "--format", "json")
    authors = {(r["verdict"]["author"], r["finding"]["rule_id"]) for r in json.loads(out)}
    assert ("octocat", "RV601") in authors and ("monalisa", "RV101") in authors


def test_verdicts_without_recorded_findings_keep_a_snapshot(pr: PR, run_cli: RunCli) -> None:
    gh(run_cli, pr, "review", "--no-check-run")
    ours = pr.bot_comments()
    pr.person(PAT).get_review_comment(ours["RV601"]["id"]).create_reaction("-1")
    shutil.rmtree(pr.repo.path / ".reviewer")  # a CI runner without the earlier database
    code, out, err = gh(run_cli, pr, "verdicts", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["added"], data["already_present"]) == (1, 0)
    (v,) = data["verdicts"]
    assert (v["verdict"], v["author"], v["how"]) == ("dismiss", "octocat", "reaction")
    with FeedbackStore.open(pr.repo.path / ".reviewer" / "feedback.db", create=False) as s:
        found = s.finding(v["fingerprint"])
    assert found is not None
    assert (found.rule_id, found.slug, found.path, found.severity) == (
        "RV601", "eval-exec", "util.py", "high")
    assert found.line == ours["RV601"]["line"]


def test_errors_are_one_line(pr: PR, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_cli("github", "verdicts", "--repo", "octo/demo", "--pr", "8",
                           "--api-url", pr.fake.url, "--no-throttle")
    assert code == 2 and len(err.splitlines()) == 1 and "octo/demo#8" in err
    monkeypatch.setenv("GITHUB_TOKEN", "nope")
    code, _, err = gh(run_cli, pr, "verdicts")
    assert code == 2 and len(err.splitlines()) == 1 and "401" in err
    # A read-only token can still read verdicts.
    monkeypatch.setenv("GITHUB_TOKEN", READ_ONLY)
    code, out, err = gh(run_cli, pr, "verdicts")
    assert code == 0, err
    assert out.endswith("0 verdicts on 0 comments: 0 new, 0 already recorded.\n")
