"""``reviewer serve --github-webhook``: the webhook receiver as a route of the service, with
the same HMAC check and a durable SQLite queue. A burst of 100 signed deliveries for 10 PRs
on loopback, the server killed with SIGKILL in the middle and restarted: every PR is
reviewed exactly once at its newest head, none lost (against tests/github_fake.py)."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo
from github_fake import APP, ManyPulls, State, patches_from_git
from serve_proc import Server, serve

from reviewer.github.webhook import signature

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("github") is None,
    reason="the serve and github extras are not installed",
)

SECRET = "webhook-secret"
PRS = range(1, 11)
HEADS = 10


def event(number: int, head: str, base: str) -> bytes:
    return json.dumps({
        "action": "synchronize", "number": number,
        "pull_request": {"number": number, "head": {"sha": head, "ref": f"pr-{number}"},
                         "base": {"sha": base, "ref": "main"}},
        "repository": {"full_name": "octo/demo"},
    }).encode()


def deliver(server: Server, body: bytes, sig: str | None = None,
            kind: str = "pull_request") -> tuple[int, Any]:
    status, _, answer = server.request("POST", "/github/webhook", raw=body, headers={
        "X-GitHub-Event": kind, "X-Hub-Signature-256": sig or signature(SECRET.encode(), body)})
    return status, answer


def prs_with_heads(repo: Repo) -> tuple[str, dict[int, list[str]]]:
    """main with one file, and per PR a branch of HEADS commits, each adding a function."""
    repo.write("app.py", '"""App."""\n')
    repo.commit_all("base")
    base = repo.git("rev-parse", "HEAD").strip()
    heads: dict[int, list[str]] = {}
    for n in PRS:
        repo.git("checkout", "-q", "-b", f"pr-{n}", base)
        text = '"""Module."""\n'
        heads[n] = []
        for i in range(HEADS):
            text += f"\n\ndef f{i}(item, items=[]):\n    return items\n"
            repo.write(f"mod{n}.py", text)
            repo.commit_all(f"pr {n} head {i}")
            heads[n].append(repo.git("rev-parse", "HEAD").strip())
    repo.git("checkout", "-q", "main")
    return base, heads


def reviewed(db: Path) -> list[tuple[int, str, str]]:
    with sqlite3.connect(db) as conn:
        return [(int(n), str(h), str(o)) for n, h, o in conn.execute(
            "SELECT number, head_sha, outcome FROM reviewed ORDER BY id")]


def waiting(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT COUNT(*) FROM prs WHERE pending IS NOT NULL"
                           " OR running IS NOT NULL").fetchone()
    return int(row[0])


def test_a_killed_server_loses_no_review_and_repeats_none(repo: Repo, tmp_path: Path) -> None:
    base, heads = prs_with_heads(repo)
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(origin)], check=True)
    for n in PRS:
        subprocess.run(["git", "push", "-q", str(origin), f"{heads[n][-1]}:refs/pull/{n}/head"],
                       cwd=repo.path, check=True)
    box = tmp_path / "box"
    box.mkdir()
    clone = box / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
    db = tmp_path / "queue.db"
    states = [State(number=n, head_sha=heads[n][-1], base_sha=base,
                    files=patches_from_git(repo.path, base, heads[n][-1])) for n in PRS]
    deliveries = [event(n, heads[n][i], base) for n in PRS for i in range(HEADS)]
    with ManyPulls(states) as fake:
        args = ("--backend", "none", "--github-webhook", "--repo", "octo/demo",
                "--checkout", str(clone), "--api-url", fake.url, "--no-throttle",
                "--no-check-run", "--max-comments", "50", "--queue-db", str(db))
        env = {"GITHUB_TOKEN": APP, "REVIEWER_WEBHOOK_SECRET": SECRET}
        with serve(clone, *args, env=env) as first:
            # The same checks as `github serve`: unsigned or wrongly signed is refused.
            assert deliver(first, deliveries[0], sig="sha256=" + "0" * 64)[0] == 401
            assert deliver(first, b"{}", kind="ping")[0] == 200
            ignored = deliver(first, b"{}", kind="issues")
            assert ignored == (202, {"status": "ignored: issues event"})
            status, _, _ = first.request("POST", "/github/webhook", raw=deliveries[0], headers={
                "Content-Type": "text/plain", "X-GitHub-Event": "pull_request",
                "X-Hub-Signature-256": signature(SECRET.encode(), deliveries[0])})
            assert status == 415
            big = b'{"zen": "' + b"x" * 3_000_000 + b'"}'  # over --body-limit, under GitHub's
            assert deliver(first, big, kind="ping")[0] == 200
            answers = [deliver(first, body) for body in deliveries[:50]]
            first.proc.kill()  # SIGKILL: no shutdown, reviews cut off where they are
            first.proc.wait()
        assert all(status == 202 for status, _ in answers), answers
        before = reviewed(db)
        newest_before = {n for n, h, _ in before if h == heads[n][-1]}
        assert len(newest_before) < 5  # the kill came before PRs 1-5 were all reviewed
        with serve(clone, *args, env=env) as second:
            answers = [deliver(second, body) for body in deliveries[50:]]
            assert all(status == 202 for status, _ in answers), answers
            deadline = time.monotonic() + 300
            while waiting(db) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert waiting(db) == 0, second.log.read_text()[-3000:]
            log = second.log.read_text()
    assert "resuming" in log  # what was acknowledged before the kill came back
    done = reviewed(db)
    for n in PRS:
        at_newest = [o for m, h, o in done if m == n and h == heads[n][-1]]
        assert at_newest == ["done"], (n, done)
        assert fake.states[n].reviews, n  # published on the fake


def test_resume_reruns_a_cut_off_review_unless_a_newer_push_waits(tmp_path: Path) -> None:
    import threading

    from reviewer.github.webhook import PullEvent
    from reviewer.serve.queue import DurableQueue

    def pull(number: int, head: str) -> PullEvent:
        return PullEvent("octo/demo", number, "synchronize", head * 40, "b" * 40, "main")

    stuck = threading.Event()  # the first process never finishes its reviews ("dies")
    started = threading.Semaphore(0)

    def hang(_: PullEvent) -> None:
        started.release()
        stuck.wait(30)

    first = DurableQueue(tmp_path / "q.db", hang, workers=2)
    assert first.submit(pull(1, "1")) == "started"
    assert first.submit(pull(2, "3")) == "started"
    assert started.acquire(timeout=10) and started.acquire(timeout=10)  # both running
    assert first.submit(pull(1, "2")) == "queued"
    assert first.submit(pull(1, "4")) == "queued (replacing a waiting review)"

    seen: list[tuple[int, str]] = []
    second = DurableQueue(tmp_path / "q.db", lambda e: seen.append((e.number, e.head_sha[0])))
    assert second.resume() == 2
    assert second.wait_idle(10)
    # PR 1: the cut-off review of 1 is superseded by the newest waiting push (4); PR 2: the
    # cut-off review of 3 runs again. Nothing is left.
    assert sorted(seen) == [(1, "4"), (2, "3")] and second.pending() == 0
    stuck.set()


# -- the same receiver as `github serve`: verdict replies, learned suppressions, taught --------
TAUGHT = "Prefer pathlib over os.path"
UTIL_BASE = '"""Helpers."""\n\n\ndef total(values: list[int]) -> int:\n    """Sum."""\n' \
    "    return sum(values)\n"
UTIL_HEAD = UTIL_BASE + '''

def data_file(name: str) -> str:
    """The data file called ``name``."""
    import os
    return os.path.join("data", name)


def run(cmd: str) -> object:
    """Run ``cmd``."""
    return eval(cmd)


def add(item: int, items: list[int] = []) -> list[int]:
    """Append ``item``."""
    items.append(item)
    return items
'''


def wait_for(log: Path, text: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = log.read_text(errors="replace")
        if text in seen:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not logged: {log.read_text()[-3000:]}")


def test_serve_webhook_reads_verdicts_and_applies_them_and_taught_principles(
        repo: Repo, run_cli: Any, tmp_path: Path) -> None:
    from github_fake import BOT, HUMAN
    from github_fake import serve as serve_github
    from model_fake import JUDGE_EXPLANATION, serve_model

    from reviewer.github import render

    assert run_cli("teach", TAUGHT, "--severity", "medium")[0] == 0  # in the base commit
    repo.write("lib/util.py", UTIL_BASE)
    repo.commit_all("base")
    base = repo.git("rev-parse", "HEAD").strip()
    repo.git("checkout", "-q", "-b", "topic")
    repo.write("lib/util.py", UTIL_HEAD)
    repo.commit_all("topic")
    head = repo.git("rev-parse", "HEAD").strip()
    _, out, _ = run_cli("check", "--all", "--select", "RV601", "--format", "json")
    (dismissed,) = json.loads(out)["findings"]  # eval(): the team says the input is trusted
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(origin)], check=True)
    subprocess.run(["git", "push", "-q", str(origin), f"{head}:refs/pull/7/head"],
                   cwd=repo.path, check=True)
    box = tmp_path / "box"
    box.mkdir()
    clone = box / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)

    state = State(head_sha=head, base_sha=base, files=patches_from_git(repo.path, base, head))
    bot_body = (f"\N{LARGE RED CIRCLE} **RV601 eval-call** (high): {dismissed['message']}\n\n"
                f"{render.fp_marker(dismissed['fingerprint'])}")
    state.review_comments += [
        {"id": 1001, "body": bot_body, "path": "lib/util.py", "line": dismissed["line"],
         "side": "RIGHT", "user": BOT, "created_at": "2026-01-01T00:00:01Z"},
        {"id": 1002, "body": "dismiss: the input is trusted", "path": "lib/util.py",
         "line": dismissed["line"], "side": "RIGHT", "user": HUMAN, "in_reply_to_id": 1001,
         "created_at": "2026-01-01T00:00:02Z"},
    ]
    reply = json.dumps({"action": "created", "pull_request": {"number": 7},
                        "comment": {"id": 1002, "body": "dismiss: the input is trusted",
                                    "in_reply_to_id": 1001},
                        "repository": {"full_name": "octo/demo"}}).encode()
    judge = {"violates": True, "line": 4, "explanation": JUDGE_EXPLANATION}
    with serve_github(state) as fake, serve_model(judge=judge) as model:
        args = ("--explain", "--backend", "openai", "--server-url", model.url,
                "--max-explained", "0",
                "--github-webhook", "--repo", "octo/demo", "--checkout", str(clone),
                "--api-url", fake.url, "--no-throttle", "--no-check-run")
        env = {"GITHUB_TOKEN": APP, "REVIEWER_WEBHOOK_SECRET": SECRET}
        with serve(clone, *args, env=env) as server:
            assert deliver(server, reply, kind="pull_request_review_comment") == (
                202, {"status": "reading verdicts"})
            wait_for(server.log, "octo/demo#7: 1 new verdict from the PR")
            assert deliver(server, event(7, head, base))[0] == 202
            log = wait_for(server.log, f"{head[:7]}: ")
    assert "failed" not in log, log[-3000:]
    posted = " ".join(str(c["body"]) for c in state.review_comments[2:])
    assert "**T001 prefer-pathlib-over-os-path**" in posted  # the taught principle, judged
    assert JUDGE_EXPLANATION in posted
    assert "RV101" in posted and "RV601" not in posted  # the dismissed finding stays out:
    assert render.is_resolved(str(state.review_comments[0]["body"]))  # gone from the review
