"""``reviewer github serve``: a small webhook receiver that reviews each pushed PR.

Meant for a self-hosted machine behind a tunnel or proxy (it listens on 127.0.0.1 unless
told otherwise). Every request must carry GitHub's ``X-Hub-Signature-256`` HMAC of its
exact body under the shared secret; anything else is refused before its body is parsed.
``pull_request`` events (opened, synchronize, reopened) of the configured repository queue a
review; a ``ping`` is answered; a ``pull_request_review_comment`` that replies to a comment
(``created`` with ``in_reply_to_id``) is handed to ``on_reply`` when the server has one (it
reads the PR's verdicts, see :mod:`reviewer.github.verdicts`); every other event is
acknowledged and ignored.

Reviews run in the background, one at a time per PR: an event for a PR whose review is
running waits, and only the newest waiting event of a PR is kept (its head is the one worth
reviewing). A global limit (``workers``) bounds the reviews running at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB
ACTIONS = ("opened", "synchronize", "reopened")
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_REF = re.compile(r"^[^\x00-\x20\x7f~^:?*\[\\]+$")


class BadEvent(ValueError):
    """A payload that is not a usable pull_request event."""


@dataclass(frozen=True)
class PullEvent:
    """The parts of a pull_request event a review needs."""

    repo: str
    number: int
    action: str
    head_sha: str
    base_sha: str
    base_ref: str

    @property
    def key(self) -> tuple[str, int]:
        return self.repo, self.number

    def describe(self) -> str:
        return f"{self.repo}#{self.number} {self.action} {self.head_sha[:7]}"


@dataclass(frozen=True)
class ReplyEvent:
    """A reply in a review comment thread (maybe a verdict on one of reviewer's comments)."""

    repo: str
    number: int
    comment_id: int
    in_reply_to: int

    def describe(self) -> str:
        return f"{self.repo}#{self.number} reply {self.comment_id} to {self.in_reply_to}"


def signature(secret: bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the HMAC-SHA256 of ``body`` (compared in constant time)."""
    if not secret or not header:
        return False
    expected = signature(secret, body).encode("ascii")
    return hmac.compare_digest(expected, header.strip().encode("utf-8", "replace"))


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            raise BadEvent(f"missing {'.'.join(path)}")
        data = data[key]
    return data


def parse_pull_request(body: bytes) -> PullEvent:
    """The PullEvent of a ``pull_request`` payload; BadEvent when it is malformed."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadEvent("the body is not JSON") from None
    action = _get(data, "action")
    number = _get(data, "pull_request", "number")
    repo = _get(data, "repository", "full_name")
    head = _get(data, "pull_request", "head", "sha")
    base = _get(data, "pull_request", "base", "sha")
    base_ref = _get(data, "pull_request", "base", "ref")
    if not isinstance(action, str) or not isinstance(repo, str) or "/" not in repo:
        raise BadEvent("bad action or repository")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise BadEvent("bad pull request number")
    for sha in (head, base):
        if not isinstance(sha, str) or not _SHA.match(sha):
            raise BadEvent("bad commit sha")
    if not isinstance(base_ref, str) or not _valid_branch(base_ref):
        raise BadEvent("bad base ref")
    return PullEvent(repo, number, action, head, base, base_ref)


def parse_review_comment(body: bytes) -> ReplyEvent | None:
    """The ReplyEvent of a ``pull_request_review_comment`` payload; None when the event is
    not a new reply; BadEvent when the payload is malformed."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadEvent("the body is not JSON") from None
    action = _get(data, "action")
    repo = _get(data, "repository", "full_name")
    number = _get(data, "pull_request", "number")
    comment = _get(data, "comment")
    if not isinstance(action, str) or not isinstance(repo, str) or "/" not in repo:
        raise BadEvent("bad action or repository")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise BadEvent("bad pull request number")
    if not isinstance(comment, dict):
        raise BadEvent("bad comment")
    cid, target = comment.get("id"), comment.get("in_reply_to_id")
    if action != "created" or target is None:
        return None
    if not isinstance(cid, int) or not isinstance(target, int):
        raise BadEvent("bad comment id")
    return ReplyEvent(repo, number, cid, target)


def _valid_branch(name: str) -> bool:
    """A branch name git accepts (``git check-ref-format`` rules), not starting with ``-``."""
    return (bool(_REF.match(name)) and ".." not in name and "@{" not in name
            and "//" not in name and not name.startswith(("-", "/", "."))
            and not name.endswith(("/", ".", ".lock")))


@dataclass
class _PRState:
    running: bool = False
    pending: PullEvent | None = None


@dataclass
class ReviewQueue:
    """Runs ``review`` for events in the background, never twice at once for one PR."""

    review: Callable[[PullEvent], None]
    workers: int = 1
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _states: dict[tuple[str, int], _PRState] = field(default_factory=dict)
    _idle: threading.Condition = field(init=False)
    _slots: threading.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self._idle = threading.Condition(self._lock)
        self._slots = threading.Semaphore(max(1, self.workers))

    def submit(self, event: PullEvent) -> str:
        """Queue a review of ``event``; returns what happened, for the HTTP answer."""
        with self._lock:
            state = self._states.setdefault(event.key, _PRState())
            if state.running:
                replaced = state.pending is not None
                state.pending = event
                return "queued (replacing a waiting review)" if replaced else "queued"
            state.running = True
        threading.Thread(target=self._run, args=(event,), daemon=True,
                         name=f"review-{event.repo}#{event.number}").start()
        return "started"

    def _run(self, event: PullEvent | None) -> None:
        while event is not None:
            with self._slots:
                self.log(f"reviewer: serve: reviewing {event.describe()}")
                try:
                    self.review(event)
                except Exception as exc:  # one failed review must not stop the others
                    detail = " ".join(str(exc).split())
                    self.log(f"reviewer: serve: {event.describe()} failed: "
                             f"{type(exc).__name__}: {detail}")
            with self._lock:
                state = self._states[event.key]
                event, state.pending = state.pending, None
                if event is None:
                    state.running = False
                    self._idle.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no review runs or waits; False on timeout."""
        with self._idle:
            return self._idle.wait_for(
                lambda: not any(s.running for s in self._states.values()), timeout)


class _Handler(BaseHTTPRequestHandler):
    secret: bytes
    queue: ReviewQueue
    repo: str
    path_: str
    on_reply: Callable[[ReplyEvent], str] | None
    server_version = "reviewer-webhook"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per event is logged by the queue and below

    def _answer(self, status: int, message: str) -> None:
        data = json.dumps({"status": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer(405, "only POST")

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != self.path_:
            self._answer(404, "not found")
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._answer(411, "Content-Length required")
            return
        if int(length) > MAX_BODY:
            self._answer(413, "payload too large")
            return
        body = self.rfile.read(int(length))
        if not verify(self.secret, body, self.headers.get("X-Hub-Signature-256")):
            self._answer(401, "bad or missing X-Hub-Signature-256")
            return
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            self._answer(415, "set the webhook's content type to application/json")
            return
        event = self.headers.get("X-GitHub-Event", "")
        if event == "ping":
            self._answer(200, "pong")
            return
        on_reply = self.on_reply
        if event == "pull_request_review_comment" and on_reply is not None:
            self._reply(body, on_reply)
            return
        if event != "pull_request":
            self._answer(202, f"ignored: {event or 'no'} event")
            return
        try:
            pull = parse_pull_request(body)
        except BadEvent as exc:
            self._answer(400, f"malformed pull_request event: {exc}")
            return
        if pull.repo.lower() != self.repo.lower():
            self._answer(202, f"ignored: not {self.repo}")
            return
        if pull.action not in ACTIONS:
            self._answer(202, f"ignored: action {pull.action}")
            return
        outcome = self.queue.submit(pull)
        self.queue.log(f"reviewer: serve: {pull.describe()}: {outcome}")
        self._answer(202, outcome)


    def _reply(self, body: bytes, on_reply: Callable[[ReplyEvent], str]) -> None:
        try:
            reply = parse_review_comment(body)
        except BadEvent as exc:
            self._answer(400, f"malformed pull_request_review_comment event: {exc}")
            return
        if reply is None:
            self._answer(202, "ignored: not a new reply")
            return
        if reply.repo.lower() != self.repo.lower():
            self._answer(202, f"ignored: not {self.repo}")
            return
        outcome = on_reply(reply)
        self.queue.log(f"reviewer: serve: {reply.describe()}: {outcome}")
        self._answer(202, outcome)


def make_server(host: str, port: int, secret: bytes, queue: ReviewQueue, repo: str,
                path: str = "/", on_reply: Callable[[ReplyEvent], str] | None = None
                ) -> ThreadingHTTPServer:
    """The HTTP server (not yet serving); port 0 picks a free one.

    ``on_reply`` (optional) is called for each new reply in a review comment thread of
    ``repo`` and returns a short status for the HTTP answer; it must not block for long.
    """
    if not secret:
        raise ValueError("a webhook secret is required")
    handler = type("Handler", (_Handler,), {"secret": secret, "queue": queue, "repo": repo,
                                            "path_": path,
                                            "on_reply": staticmethod(on_reply)
                                            if on_reply is not None else None})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
