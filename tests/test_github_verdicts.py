"""Reactions and replies on reviewer's PR comments become verdicts (real PyGithub, fake GitHub).

The bot posts with the app token; people answer with personal tokens through PyGithub,
the way they would click 👍 or reply on GitHub.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from github_fake import (
    APP,
    BOT,
    HUMAN,
    PAT,
    PAT2,
    PR,
    READ_ONLY,
    State,
    pull_request,
    run_github,
    serve,
)

from reviewer.feedback.store import FeedbackStore
from reviewer.github import render
from reviewer.github.verdicts import parse_reply
from reviewer.github.webhook import ReplyEvent, signature

if TYPE_CHECKING:
    from conftest import Repo

RunCli = Callable[..., tuple[int, str, str]]
SECRET = b"It's a Secret to Everybody"

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


@pytest.fixture
def pr(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Iterator[PR]:
    with pull_request(repo, monkeypatch, {"util.py": BASE}, {"util.py": HEAD}) as opened:
        yield opened


def gh(run_cli: RunCli, pr: PR, command: str, *args: str) -> tuple[int, str, str]:
    return run_github(run_cli, pr, command, *args)


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


# -- the webhook receiver: a reply on the PR reads its verdicts ------------------------------
def reply_payload(action: str = "created", in_reply_to: int | None = 1001,
                  repo: str = "octo/demo") -> dict[str, Any]:
    comment: dict[str, Any] = {"id": 2002, "body": "dismiss: noise"}
    if in_reply_to is not None:
        comment["in_reply_to_id"] = in_reply_to
    return {"action": action, "comment": comment, "pull_request": {"number": 7},
            "repository": {"full_name": repo}}


def post(port: int, event: str, body: bytes) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/", body=body, headers={
        "X-GitHub-Event": event, "Content-Type": "application/json",
        "X-Hub-Signature-256": signature(SECRET, body)})
    resp = conn.getresponse()
    status = json.loads(resp.read())["status"]
    conn.close()
    return resp.status, status


def test_receiver_hands_replies_to_on_reply(tmp_path: Path) -> None:
    replies: list[ReplyEvent] = []

    def on_reply(reply: ReplyEvent) -> str:
        replies.append(reply)
        return "reading verdicts"

    logged: list[str] = []
    from serve_proc import app_thread

    from reviewer.serve.queue import DurableQueue
    from reviewer.serve.webhook import webhook_app

    queue = DurableQueue(tmp_path / "queue.db", lambda event: None, log=logged.append)
    app = webhook_app(SECRET, "octo/demo", queue, "/", on_reply=on_reply)
    with app_thread(app) as port:
        event = "pull_request_review_comment"
        assert post(port, event, json.dumps(reply_payload()).encode()) == (
            202, "reading verdicts")
        assert post(port, event, json.dumps(reply_payload(in_reply_to=None)).encode()) == (
            202, "ignored: not a new reply")
        assert post(port, event, json.dumps(reply_payload(action="edited")).encode()) == (
            202, "ignored: not a new reply")
        assert post(port, event, json.dumps(reply_payload(repo="evil/x")).encode()) == (
            202, "ignored: not octo/demo")
        assert post(port, event, b'{"action": "created"}')[0] == 400
        bad = reply_payload()
        bad["comment"]["in_reply_to_id"] = "1001"
        assert post(port, event, json.dumps(bad).encode())[0] == 400
    assert replies == [ReplyEvent("octo/demo", 7, 2002, 1001)]
    assert logged == ["reviewer: serve: octo/demo#7 reply 2002 to 1001: reading verdicts"]
    # Without on_reply (the default) such events are ignored.
    with app_thread(webhook_app(SECRET, "octo/demo", queue, "/")) as port:
        assert post(port, "pull_request_review_comment",
                    json.dumps(reply_payload()).encode()) == (
            202, "ignored: pull_request_review_comment event")
    queue.close()


def test_serve_reads_verdicts_when_someone_replies(repo: Repo, tmp_path: Path) -> None:
    repo.write("app.py", '"""App."""\n')
    repo.commit_all("base")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(origin)], check=True)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
    fp = "0123456789abcdef0123"
    bot_body = ("\N{LARGE ORANGE CIRCLE} **RV101 mutable-default-argument** (medium): Mutable "
                f"default argument items=[].\n\n{render.fp_marker(fp)}")
    state = State()
    state.review_comments += [
        {"id": 1001, "body": bot_body, "path": "app.py", "line": 4, "side": "RIGHT",
         "user": BOT, "created_at": "2026-01-01T00:00:01Z"},
        {"id": 1002, "body": "Dismiss: the list is never mutated", "path": "app.py",
         "line": 4, "side": "RIGHT", "user": HUMAN, "in_reply_to_id": 1001,
         "created_at": "2026-01-01T00:00:02Z"},
    ]
    with serve(state) as fake:
        env = {**os.environ, "GITHUB_TOKEN": APP, "REVIEWER_WEBHOOK_SECRET": SECRET.decode()}
        proc = subprocess.Popen(
            [sys.executable, "-m", "reviewer", "github", "serve", "--repo", "octo/demo",
             "--checkout", str(clone), "--port", "0", "--api-url", fake.url, "--no-throttle"],
            env=env, stderr=subprocess.PIPE, text=True)
        lines: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stderr or ()],
                                  daemon=True)
        reader.start()
        try:
            first = lines.get(timeout=60)
            port = int(first.rsplit(":", 1)[1].split("/")[0])
            status = post(port, "pull_request_review_comment",
                          json.dumps(reply_payload(in_reply_to=1001)).encode())
            assert status == (202, "reading verdicts")
            seen = [lines.get(timeout=60)]
            while "from the PR" not in seen[-1] and "not read" not in seen[-1]:
                seen.append(lines.get(timeout=60))
            assert seen[-1] == "reviewer: serve: octo/demo#7: 1 new verdict from the PR\n", seen
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            reader.join(timeout=10)
    with FeedbackStore.open(clone / ".reviewer" / "feedback.db", create=False) as store:
        (judged,) = store.verdicts()
    assert (judged.verdict.fingerprint, judged.verdict.verdict, judged.verdict.author,
            judged.verdict.reason, judged.verdict.created_at) == (
        fp, "dismiss", "octocat", "the list is never mutated", "2026-01-01T00:00:02Z")
    assert judged.finding is not None and judged.finding.rule_id == "RV101"


def test_review_leaves_out_what_the_team_dismissed(pr: PR, run_cli: RunCli) -> None:
    code, out, _ = run_cli("check", "--all", "--select", "RV601", "--format", "json")
    (finding,) = json.loads(out)["findings"]
    assert run_cli("feedback", "dismiss", finding["fingerprint"][:8],
                   "--reason", "trusted input")[0] == 0
    code, out, err = gh(run_cli, pr, "review", "--no-check-run")
    assert code == 0, err
    posted = pr.bot_comments()
    assert "RV601" not in posted and "RV101" in posted
