"""`reviewer github serve`: signatures, payloads, the per-PR queue, and a real end-to-end run.

The receiver is the webhook route of the review service (reviewer.serve.webhook) with its
durable queue (reviewer.serve.queue), served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from github_fake import APP, State, patches_from_git, serve
from serve_proc import app_thread

from reviewer.github.webhook import (
    BadEvent,
    PullEvent,
    parse_pull_request,
    signature,
    verify,
)
from reviewer.serve.queue import DurableQueue
from reviewer.serve.webhook import webhook_app

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("fastapi") is None, reason="the github extra is not installed")

if TYPE_CHECKING:
    from conftest import Repo

SECRET = b"It's a Secret to Everybody"
HEAD = "a" * 40
BASE = "b" * 40


def payload(action: str = "synchronize", number: int = 7, repo: str = "octo/demo",
            head: str = HEAD, base: str = BASE) -> dict[str, Any]:
    return {
        "action": action, "number": number,
        "pull_request": {"number": number, "head": {"sha": head, "ref": "topic"},
                         "base": {"sha": base, "ref": "main"}},
        "repository": {"full_name": repo},
    }


class Server:
    """The webhook app on a free port, in a thread; the events its queue was asked to
    review (the queue's database in a temporary folder)."""

    def __init__(self, review: Any = None, workers: int = 1) -> None:
        self.reviewed: list[PullEvent] = []
        self.logged: list[str] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="reviewer-hook-"))
        self.queue = queue_in(self.tmp, review or self.reviewed.append, workers,
                              self.logged.append)
        self._serving = app_thread(webhook_app(SECRET, "octo/demo", self.queue, "/hook"))
        self.port = self._serving.__enter__()

    def post(self, body: bytes, *, event: str = "pull_request", sig: str | None = "good",
             path: str = "/hook", ctype: str = "application/json",
             method: str = "POST", headers: dict[str, str] | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        h = {"X-GitHub-Event": event, "Content-Type": ctype, **(headers or {})}
        if sig == "good":
            h["X-Hub-Signature-256"] = signature(SECRET, body)
        elif sig is not None:
            h["X-Hub-Signature-256"] = sig
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        status = json.loads(data).get("status", "") if data else ""
        return resp.status, status

    def close(self) -> None:
        self._serving.__exit__(None, None, None)
        self.queue.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def queue_in(folder: Path, review: Any, workers: int = 1, log: Any = None) -> DurableQueue:
    return DurableQueue(folder / "queue.db", review, workers=workers,
                        log=log or (lambda _: None))


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


def body_of(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


# -- signatures ------------------------------------------------------------------------------
def test_signature_matches_githubs_example() -> None:
    # The example from GitHub's "Validating webhook deliveries" documentation.
    assert signature(SECRET, b"Hello, World!") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
    assert verify(SECRET, b"Hello, World!", signature(SECRET, b"Hello, World!"))
    assert not verify(SECRET, b"Hello, World!!", signature(SECRET, b"Hello, World!"))
    assert not verify(b"", b"x", signature(b"", b"x"))  # no secret, no trust
    assert not verify(SECRET, b"x", None)
    assert not verify(SECRET, b"x", "sha1=" + "0" * 40)
    assert not verify(SECRET, b"x", "sha256=ünïcode")


def test_valid_signature_queues_a_review(server: Server) -> None:
    status, message = server.post(body_of(payload()))
    assert (status, message) == (202, "started")
    assert server.queue.wait_idle(5)
    (event,) = server.reviewed
    assert event == PullEvent("octo/demo", 7, "synchronize", HEAD, BASE, "main")
    assert any("octo/demo#7 synchronize aaaaaaa: started" in line for line in server.logged)


@pytest.mark.parametrize("sig", [
    None,  # missing
    "sha256=" + "0" * 64,  # wrong
    "sha256=",  # empty
    "sha1=0123456789abcdef0123456789abcdef01234567",  # the old SHA-1 header style
    "garbage",
])
def test_bad_or_missing_signature_is_refused(server: Server, sig: str | None) -> None:
    assert server.post(body_of(payload()), sig=sig)[0] == 401
    assert server.queue.wait_idle(5) and not server.reviewed


def test_signature_of_another_body_is_refused(server: Server) -> None:
    signed = body_of(payload(head="c" * 40))
    sent = body_of(payload())
    assert server.post(sent, sig=signature(SECRET, signed))[0] == 401
    # Same content, different bytes (whitespace): the HMAC covers the exact body.
    assert server.post(json.dumps(payload(), indent=1).encode(),
                       sig=signature(SECRET, sent))[0] == 401
    assert not server.reviewed


def test_unsigned_garbage_is_refused_before_parsing(server: Server) -> None:
    assert server.post(b"\xff{not json", sig=None)[0] == 401
    assert server.post(b"\xff{not json", sig="sha256=00")[0] == 401


# -- payloads --------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [
    b"{not json",
    b"\xff\xfe",
    b"[]",
    b'"a string"',
    body_of({"action": "opened"}),
    body_of({**payload(), "pull_request": {"number": 7}}),
    body_of(payload(head="not-a-sha")),
    body_of(payload(number=0)),
    body_of({**payload(), "pull_request": {**payload()["pull_request"], "number": True}}),
    body_of({**payload(), "repository": {"full_name": 5}}),
    body_of({**payload(), "pull_request": {**payload()["pull_request"],
                                           "base": {"sha": BASE, "ref": "main rm"}}}),
    body_of({**payload(), "pull_request": {**payload()["pull_request"],
                                           "base": {"sha": BASE, "ref": "-upload-pack=x"}}}),
])
def test_malformed_payloads_are_400(server: Server, body: bytes) -> None:
    status, message = server.post(body)
    assert status == 400 and message.startswith("malformed pull_request event")
    assert not server.reviewed


def test_base_refs_are_checked() -> None:
    assert parse_pull_request(body_of(payload())).base_ref == "main"
    for ref in ("a..b", "x y", "a:b", "-x", "", "x.lock", "a@{1}", "/a", "a/", "a\x7f"):
        data = payload()
        data["pull_request"]["base"]["ref"] = ref
        with pytest.raises(BadEvent):
            parse_pull_request(body_of(data))


def test_everything_else_is_answered_but_not_reviewed(server: Server) -> None:
    assert server.post(body_of({"zen": "Keep it simple."}), event="ping") == (200, "pong")
    assert server.post(body_of(payload()), event="push") == (202, "ignored: push event")
    assert server.post(body_of(payload(action="closed"))) == (202, "ignored: action closed")
    assert server.post(body_of(payload(action="edited")))[0] == 202
    assert server.post(body_of(payload(repo="evil/demo"))) == (202, "ignored: not octo/demo")
    assert server.post(body_of(payload()), path="/other")[0] == 404
    assert server.post(body_of(payload()), method="PUT")[0] == 405
    assert server.post(body_of(payload()), ctype="application/x-www-form-urlencoded")[0] == 415
    assert server.post(b"", headers={"Content-Length": str(26 * 1024 * 1024)})[0] == 413
    assert server.queue.wait_idle(5) and not server.reviewed


def test_missing_content_length_is_refused(server: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("POST", "/hook")
    conn.putheader("X-GitHub-Event", "pull_request")
    conn.endheaders()
    assert conn.getresponse().status == 411
    conn.close()


# -- one review at a time per PR ---------------------------------------------------------------
class Recorder:
    """A review that blocks until released, and notes how many ran at once per PR."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: dict[int, int] = {}
        self.most: dict[int, int] = {}
        self.done: list[PullEvent] = []
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)

    def __call__(self, event: PullEvent) -> None:
        with self.lock:
            self.running[event.number] = self.running.get(event.number, 0) + 1
            self.most[event.number] = max(self.most.get(event.number, 0),
                                          self.running[event.number])
        self.started.release()
        self.gate.wait(10)
        with self.lock:
            self.running[event.number] -= 1
            self.done.append(event)


def test_one_review_at_a_time_per_pr_newest_waiting_event_kept() -> None:
    rec = Recorder()
    s = Server(review=rec, workers=4)
    try:
        shas = [f"{i:x}" * 40 for i in range(1, 5)]
        assert s.post(body_of(payload(head=shas[0]))) == (202, "started")
        assert rec.started.acquire(timeout=5)  # the first review is running
        assert s.post(body_of(payload(head=shas[1]))) == (202, "queued")
        assert s.post(body_of(payload(head=shas[2]))) == (
            202, "queued (replacing a waiting review)")
        assert s.post(body_of(payload(number=8, head=shas[3]))) == (202, "started")
        assert rec.started.acquire(timeout=5)  # another PR runs alongside
        rec.gate.set()
        assert s.queue.wait_idle(10)
    finally:
        s.close()
    assert rec.most == {7: 1, 8: 1}  # never two at once for one PR
    pr7 = [e.head_sha for e in rec.done if e.number == 7]
    assert pr7 == [shas[0], shas[2]]  # the superseded waiting event was dropped


def test_workers_limit_reviews_across_prs() -> None:
    active, most = [0], [0]
    lock = threading.Lock()

    def review(event: PullEvent) -> None:
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1

    queue = queue_in(Path(tempfile.mkdtemp(prefix="reviewer-hook-")), review)
    for n in range(1, 5):
        queue.submit(PullEvent("octo/demo", n, "opened", HEAD, BASE, "main"))
    assert queue.wait_idle(10)
    assert most[0] == 1


def test_a_failing_review_is_logged_and_the_queue_goes_on() -> None:
    calls: list[int] = []
    logged: list[str] = []

    def review(event: PullEvent) -> None:
        calls.append(event.number)
        if event.number == 1:
            raise RuntimeError("boom\nsecond line")

    queue = queue_in(Path(tempfile.mkdtemp(prefix="reviewer-hook-")), review,
                     log=logged.append)
    queue.submit(PullEvent("octo/demo", 1, "opened", HEAD, BASE, "main"))
    assert queue.wait_idle(5)
    queue.submit(PullEvent("octo/demo", 1, "synchronize", HEAD, BASE, "main"))
    assert queue.wait_idle(5)
    assert calls == [1, 1]
    assert "octo/demo#1 opened aaaaaaa failed: RuntimeError: boom second line" in logged[1]


# -- the real thing: the CLI, a clone, an origin with refs/pull/N/head, the fake API ------------
def test_serve_reviews_a_pushed_pr_end_to_end(repo: Repo, tmp_path: Path) -> None:
    repo.write("app.py", '"""App."""\n')
    repo.commit_all("base")
    base = repo.git("rev-parse", "HEAD").strip()
    repo.git("checkout", "-q", "-b", "topic")
    repo.write("app.py", '"""App."""\n\n\ndef add(item, items=[]):\n    return items\n')
    repo.commit_all("topic")
    head = repo.git("rev-parse", "HEAD").strip()
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(origin)], check=True)
    subprocess.run(["git", "push", "-q", str(origin), f"{head}:refs/pull/7/head"],
                   cwd=repo.path, check=True)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)

    state = State(head_sha=head, base_sha=base, files=patches_from_git(repo.path, base, head))
    with serve(state) as fake:
        env = {**os.environ, "GITHUB_TOKEN": APP, "REVIEWER_WEBHOOK_SECRET": SECRET.decode()}
        proc = subprocess.Popen(
            [sys.executable, "-m", "reviewer", "github", "serve", "--repo", "octo/demo",
             "--checkout", str(clone), "--port", "0", "--api-url", fake.url, "--no-throttle"],
            env=env, stderr=subprocess.PIPE, text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        assert proc.stderr is not None
        reader = threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stderr or ()],
                                  daemon=True)
        reader.start()
        try:
            first = lines.get(timeout=60)
            assert first.startswith("reviewer: serving webhooks for octo/demo on http://127.0.0.1:")
            port = int(first.rsplit(":", 1)[1].split("/")[0])
            body = body_of(payload(head=head, base=base))
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", "/", body=body, headers={
                "X-GitHub-Event": "pull_request", "Content-Type": "application/json",
                "X-Hub-Signature-256": signature(SECRET, body)})
            assert conn.getresponse().status == 202
            conn.close()
            seen = [lines.get(timeout=60)]
            while "findings" not in seen[-1] and "failed" not in seen[-1]:
                seen.append(lines.get(timeout=60))
            assert seen[-1] == ("reviewer: serve: octo/demo#7 synchronize "
                                f"{head[:7]}: 3 findings, 3 new inline, 0 resolved\n"), seen
        finally:
            proc.send_signal(signal.SIGTERM)  # as a service manager stops it
            proc.wait(timeout=30)
            reader.join(timeout=10)
    rest = "".join(lines.queue)
    assert proc.returncode == 0, rest
    assert "stopping" in rest
    assert len(state.reviews) == 1
    assert any("RV101" in c["body"] for c in state.review_comments)
    assert len(state.issue_comments) == 1 and len(state.check_runs) == 1
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=clone, capture_output=True,
                               text=True).stdout
    assert worktrees.count("\n") == 1  # the temporary worktree is gone


def test_serve_needs_a_secret_and_a_token(run_cli: Any, repo: Repo,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REVIEWER_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("GITHUB_TOKEN", APP)
    code, _, err = run_cli("github", "serve", "--repo", "octo/demo", "--checkout", ".")
    assert code == 2 and "$REVIEWER_WEBHOOK_SECRET is not set" in err
    monkeypatch.setenv("REVIEWER_WEBHOOK_SECRET", "s")
    monkeypatch.delenv("GITHUB_TOKEN")
    code, _, err = run_cli("github", "serve", "--repo", "octo/demo", "--checkout", ".")
    assert code == 2 and "GITHUB_TOKEN is not set" in err
