"""The GitHub webhook receiver as a route of the service: ``POST /github/webhook``.

The same checks as ``reviewer github serve`` (:mod:`reviewer.github.webhook`): every
request must carry ``X-Hub-Signature-256``, the HMAC of its exact body under the shared
secret, checked before the body is parsed; ``application/json`` only; ``ping`` answered;
``pull_request`` events (opened, synchronize, reopened) of the configured repository are
written to the durable queue (:mod:`reviewer.serve.queue`) before the 202 is sent; every
other event is acknowledged and ignored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from reviewer.github.webhook import (
    ACTIONS,
    MAX_BODY,
    BadEvent,
    ReplyEvent,
    parse_pull_request,
    parse_review_comment,
    verify,
)
from reviewer.serve.queue import DurableQueue

PATH = "/github/webhook"


def _answer(status: int, message: str) -> Response:
    return JSONResponse({"status": message}, status_code=status)


def add_webhook(app: FastAPI, secret: bytes, repo: str, queue: DurableQueue,
                path: str = PATH, on_reply: Callable[[ReplyEvent], str] | None = None) -> None:
    """Add the webhook route to ``app``. ``on_reply`` (optional) gets each new reply in a
    review comment thread of ``repo`` and returns a short status; it must not block."""

    @app.post(path)
    async def webhook(request: Request) -> Response:
        if "content-length" not in request.headers:
            return _answer(411, "Content-Length required")
        body = await request.body()
        if not verify(secret, body, request.headers.get("x-hub-signature-256")):
            return _answer(401, "bad or missing X-Hub-Signature-256")
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return _answer(415, "set the webhook's content type to application/json")
        event = request.headers.get("x-github-event", "")
        if event == "ping":
            return _answer(200, "pong")
        if event == "pull_request_review_comment" and on_reply is not None:
            return _reply(body, repo, queue, on_reply)
        if event != "pull_request":
            return _answer(202, f"ignored: {event or 'no'} event")
        try:
            pull = parse_pull_request(body)
        except BadEvent as exc:
            return _answer(400, f"malformed pull_request event: {exc}")
        if pull.repo.lower() != repo.lower():
            return _answer(202, f"ignored: not {repo}")
        if pull.action not in ACTIONS:
            return _answer(202, f"ignored: action {pull.action}")
        outcome: Any = await asyncio.to_thread(queue.submit, pull)  # committed: then 202
        queue.log(f"reviewer: serve: {pull.describe()}: {outcome}")
        return _answer(202, str(outcome))


def _reply(body: bytes, repo: str, queue: DurableQueue,
           on_reply: Callable[[ReplyEvent], str]) -> Response:
    try:
        reply = parse_review_comment(body)
    except BadEvent as exc:
        return _answer(400, f"malformed pull_request_review_comment event: {exc}")
    if reply is None:
        return _answer(202, "ignored: not a new reply")
    if reply.repo.lower() != repo.lower():
        return _answer(202, f"ignored: not {repo}")
    outcome = on_reply(reply)
    queue.log(f"reviewer: serve: {reply.describe()}: {outcome}")
    return _answer(202, outcome)


def webhook_app(secret: bytes, repo: str, queue: DurableQueue, path: str = PATH,
                on_reply: Callable[[ReplyEvent], str] | None = None) -> Any:
    """An application with only the webhook route and ``GET /health``
    (``reviewer github serve``): no model routes, so no bearer token is involved."""
    from reviewer.serve.app import BodyLimit
    from reviewer.serve.metrics import Metrics

    app = FastAPI(title="reviewer webhook", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "service": "reviewer-webhook", "pending": queue.pending()}

    add_webhook(app, secret, repo, queue, path, on_reply)
    return BodyLimit(app, MAX_BODY, Metrics())
