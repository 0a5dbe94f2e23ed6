"""The FastAPI application of ``reviewer serve``.

Routes: ``GET /health`` (no auth), ``GET /metrics``, ``GET /v1/models``,
``POST /v1/chat/completions``, ``POST /v1/review``, ``POST /v1/code/validate-principles``.
Every ``/v1`` route needs the bearer token when one is configured. Errors have OpenAI's
shape, ``{"error": {"message", "type", "code"}}``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reviewer import __version__
from reviewer.serve.errors import ApiError, error_response
from reviewer.serve.gate import Gate, QueueFull
from reviewer.serve.metrics import Metrics
from reviewer.serve.schemas import ChatRequest, ReviewRequest, ValidateRequest

if TYPE_CHECKING:
    from pathlib import Path

    from reviewer.config import Config
    from reviewer.llm.backend import Backend
    from reviewer.serve.settings import ServeSettings

log = logging.getLogger("reviewer.serve")
PROTOCOL = 1  # the /v1/review protocol version (in /health and /v1/models)
T = TypeVar("T")


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413 (by Content-Length, or while
    reading a chunked body), and record every request's status and latency."""

    def __init__(self, app: ASGIApp, limit: int, metrics: Metrics,
                 per_path: dict[str, int] | None = None) -> None:
        self.app, self.limit, self.metrics = app, limit, metrics
        self.per_path = per_path or {}  # other limits for some paths (the webhook's)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]
        endpoint = _endpoint(scope.get("path", ""))
        limit = self.per_path.get(scope.get("path", ""), self.limit)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            too_big = self._declared(scope, limit)
            body = b""
            if not too_big and scope.get("method") in ("POST", "PUT", "PATCH"):
                body, too_big = await self._read(receive, limit)
            if too_big:
                resp = error_response(413, f"request body over the {limit}-byte limit",
                                      code="body_too_large")
                await resp(scope, receive, sending)
                return
            replayed = [False]

            async def replay() -> Message:
                if not replayed[0]:
                    replayed[0] = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, sending)
        finally:
            self.metrics.observe(endpoint, status[0], time.perf_counter() - start)

    def _declared(self, scope: Scope, limit: int) -> bool:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    return int(value) > limit
                except ValueError:
                    return False
        return False

    async def _read(self, receive: Receive, limit: int) -> tuple[bytes, bool]:
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return b"", True
            parts.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(parts), False


KNOWN = ("/health", "/metrics", "/v1/models", "/v1/chat/completions", "/v1/review",
         "/v1/code/validate-principles", "/github/webhook")


def _endpoint(path: str) -> str:
    """The metrics label of a path (unknown paths share one label)."""
    return path if path in KNOWN else "other"


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


class Service:
    """The state one app shares between requests: settings, the model, the gate."""

    def __init__(self, settings: ServeSettings, config: Config, backend: Backend | None) -> None:
        self.settings = settings
        self.config = config
        self.backend = backend
        self.metrics = Metrics()
        self.gate: Gate | None = None
        # One model call at a time for an in-process model (llama.cpp and MLX are not
        # thread-safe); an upstream server takes --concurrency requests at once.
        self.model_lock: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if backend is not None and backend.name != "openai"
            else contextlib.nullcontext()
        )

    @property
    def root(self) -> Path:
        return self.settings.root

    def get_gate(self) -> Gate:
        if self.gate is None:  # created on the event loop that serves the requests
            self.gate = Gate(self.settings.concurrency, self.settings.queue_depth)
            gate = self.gate
            self.metrics.queue_depth = lambda: gate.waiting
            self.metrics.in_flight = lambda: gate.running
        return self.gate

    def model_id(self) -> str:
        if self.settings.model_name:
            return self.settings.model_name
        path = getattr(self.backend, "model_path", None)
        if path is not None:
            return str(getattr(path, "name", path))
        upstream = str(getattr(self.backend, "model", "") or "")
        if upstream:
            return upstream
        return "reviewer" if self.backend is None else f"reviewer-{self.backend.name}"

    def busy(self) -> ApiError:
        return ApiError(503, "the review queue is full; retry later", "server_error",
                        "queue_full", {"Retry-After": str(self.settings.retry_after)})

    async def run(self, request: Request, fn: Callable[[threading.Event], T]) -> T:
        """``fn(cancel)`` in a worker thread under a model slot; sets ``cancel`` when the
        client disconnects. Raises ApiError 503 when the queue is full."""
        gate = self.get_gate()
        try:
            gate.reserve()
        except QueueFull:
            raise self.busy() from None
        await gate.enter()
        try:
            return await self.watch(request, fn)
        finally:
            gate.leave()

    async def watch(self, request: Request, fn: Callable[[threading.Event], T]) -> T:
        cancel = threading.Event()
        task = asyncio.ensure_future(asyncio.to_thread(self._locked, fn, cancel))
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=0.2)
                if done:
                    return task.result()
                if await request.is_disconnected():
                    cancel.set()
        finally:
            cancel.set()

    def _locked(self, fn: Callable[[threading.Event], T], cancel: threading.Event) -> T:
        with self.model_lock:
            return fn(cancel)


def create_app(settings: ServeSettings, config: Config, backend: Backend | None,
               extra: Callable[[FastAPI], None] | None = None,
               limits: dict[str, int] | None = None) -> FastAPI:
    """The application for one service (``backend`` None: rules only, no model);
    ``extra`` adds more routes (the GitHub webhook), ``limits`` their body limits."""
    service = Service(settings, config, backend)
    app = FastAPI(title="reviewer", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.service = service

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> Response:
        return error_response(exc.status, exc.message, exc.type, exc.code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        return error_response(422, _validation_message(exc), code="invalid_body")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        type_ = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return error_response(exc.status_code, str(exc.detail), type_)

    async def auth(request: Request) -> None:
        token = settings.token
        if not token:
            return
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            value.strip().encode(), token.encode()
        ):
            raise ApiError(401, "missing or wrong bearer token", "authentication_error",
                           "invalid_api_key", {"WWW-Authenticate": "Bearer"})

    guarded = [Depends(auth)]

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "service": "reviewer", "version": __version__,
                "protocol": PROTOCOL, "model": service.model_id() if backend else None}

    @app.get("/metrics", dependencies=guarded)
    async def metrics() -> Response:
        return PlainTextResponse(service.metrics.render(),
                                 media_type="text/plain; version=0.0.4")

    @app.get("/v1/models", dependencies=guarded)
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{
            "id": service.model_id(), "object": "model", "created": 0, "owned_by": "reviewer",
            "reviewer": {"version": __version__, "protocol": PROTOCOL,
                         "review": "/v1/review", "backend": backend.name if backend else None},
        }]}

    @app.post("/v1/chat/completions", dependencies=guarded)
    async def chat(body: ChatRequest, request: Request) -> Response:
        from reviewer.serve.chat import chat_completion

        if service.settings.log_code:
            log.info("chat request: %s", body.model_dump_json())
        return await chat_completion(service, body, request)

    @app.post("/v1/review", dependencies=guarded)
    async def review(body: ReviewRequest, request: Request) -> dict[str, Any]:
        if service.settings.log_code:
            log.info("review request: %s", body.model_dump_json())
        sent = _review_files(body)
        files, changes = sent.files, sent.changes
        cfg = _review_config(service.config, body)
        from reviewer.serve.review import run_review

        want_model = body.explain and service.backend is not None

        def work(cancel: threading.Event) -> Any:
            model = _Cancellable(service.backend, cancel, service.metrics) if want_model \
                else None
            outcome = run_review(
                service.root, cfg, files, changes=changes,
                backend=model, explain=want_model, max_explained=body.max_explained,
                fix_passes=body.fix_passes, max_tokens=body.max_tokens,
                client_context=_client_context(body), only=body.findings,
                want_fix=body.fixes,
                finding_context=body.context.by_finding if body.context else None,
            )
            if body.describe:  # as `reviewer describe --format json` does
                from reviewer.errors import ReviewerError

                try:
                    outcome.body["description"] = _describe(service, cfg, sent, model)
                except ReviewerError as exc:  # no git on the server, say: one warning
                    outcome.body["description"] = None
                    outcome.body["warnings"].append(f"no description: {exc}")
            return outcome

        if want_model:
            outcome = await service.run(request, work)
        else:
            outcome = await asyncio.to_thread(work, threading.Event())
        service.metrics.generated(outcome.tokens, outcome.model_seconds)
        for key, n in outcome.validated.items():
            service.metrics.validated(key, n)
        warnings = outcome.body["warnings"]
        if body.explain and service.backend is None:
            warnings.append("this server has no model (llm-backend none): no explanations")
        return {"request_id": body.request_id, "object": "review",
                "model": service.model_id() if want_model else None, **outcome.body}

    @app.post("/v1/code/validate-principles", dependencies=guarded)
    async def validate(body: ValidateRequest) -> dict[str, Any]:
        from reviewer.serve.guide import UnknownLanguage, language_name
        from reviewer.serve.review import validate_principles

        try:
            lang = language_name(body.language)
        except UnknownLanguage as exc:
            raise ApiError(400, f"snippet: {exc}", code="unknown_language") from None
        out = await asyncio.to_thread(validate_principles, service.config, body.code, lang)
        service.metrics.validated("passed" if not out["violations"] else "failed")
        return out

    if extra is not None:
        extra(app)
    return BodyLimit(app, settings.body_limit, service.metrics,  # type: ignore[return-value]
                     limits)


class _Cancellable:
    """A backend proxy for one request: once the client went away it refuses new model
    calls, and a streaming backend stops the generation in flight at its next token."""

    def __init__(self, inner: Any, cancel: threading.Event, metrics: Metrics) -> None:
        self._inner, self._cancel, self._metrics = inner, cancel, metrics
        self.name = inner.name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def complete(self, *args: Any, **kwargs: Any) -> Any:
        from reviewer.llm.backend import Hooks, ModelUnavailable, streams

        if self._cancel.is_set():
            raise ModelUnavailable("the client disconnected")
        if not streams(self._inner):
            return self._inner.complete(*args, **kwargs)
        done = self._inner.stream(*args, hooks=Hooks(cancelled=self._cancel.is_set), **kwargs)
        if done.cancelled:
            self._metrics.cancelled(done.completion_tokens)
            log.info("generation cancelled after %d tokens: the client disconnected",
                     done.completion_tokens)
            raise ModelUnavailable("the client disconnected")
        return done


class _Files:
    """The decoded files of a review request: the reviewed ones, their changed lines, the
    base contents and the files the diff deletes."""

    def __init__(self, files: list[Any], changes: dict[str, set[int] | None] | None,
                 base: dict[str, str], removed: set[str]) -> None:
        self.files, self.changes, self.base, self.removed = files, changes, base, removed


def _review_files(body: ReviewRequest) -> _Files:
    """Decoded files and changed lines of a review request; ApiError 400 naming the file."""
    from reviewer.serve.patch import PatchError, apply_diff, deleted_paths
    from reviewer.serve.review import BadFile, decode_file

    def raw(f: Any) -> bytes:
        if f.content_base64 is not None:
            try:
                return base64.b64decode(f.content_base64, validate=True)
            except (binascii.Error, ValueError):
                raise ApiError(400, f"{f.path}: content_base64 is not base64",
                               code="bad_file") from None
        if f.content is None:
            raise ApiError(400, f"{f.path}: no content", code="bad_file")
        try:
            return str(f.content).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ApiError(400, f"{f.path}: not valid UTF-8 text (character {exc.start})",
                           code="bad_file") from None

    try:
        files = [decode_file(f.path, raw(f), f.language) for f in body.files]
        changes: dict[str, set[int] | None] | None = None
        base = {b.path: decode_file(b.path, raw(b), b.language).text for b in body.base}
        removed: set[str] = set()
        if body.diff is not None:
            removed = deleted_paths(body.diff)
            try:
                patched = apply_diff(body.diff, base)
            except PatchError as exc:
                raise ApiError(400, str(exc), code="bad_diff") from None
            changes = {}
            for path, (text, lines) in patched.items():
                lang = next((f.language for f in body.base if f.path == path), None)
                files.append(decode_file(path, text.encode("utf-8"), lang))
                changes[path] = lines
        if body.changed_lines is not None:
            changes = changes or {}
            for r in body.changed_lines:
                got = changes.get(r.path)
                if got is None:
                    got = changes[r.path] = set()
                got.update(range(r.start, r.end + 1))
    except BadFile as exc:
        raise ApiError(400, str(exc), code="bad_file") from None
    if not files:
        raise ApiError(400, "no files: send 'files' or a 'diff'", code="no_files")
    seen: set[str] = set()
    for f in files:
        if f.path in seen:
            raise ApiError(400, f"{f.path}: sent twice", code="bad_file")
        seen.add(f.path)
    return _Files(files, changes, base, removed)


def _describe(service: Service, cfg: Config, sent: _Files, model: Any) -> dict[str, Any]:
    """The request's change described (:mod:`reviewer.serve.describe`)."""
    from reviewer.llm.backend import timeout_for
    from reviewer.serve.describe import describe_change

    new = {f.path: f.text for f in sent.files}
    cache_dir = service.root / cfg.cache_dir if cfg.cache else None
    return describe_change(cfg, sent.base, new, sent.removed, backend=model,
                           cache_dir=cache_dir, timeout=timeout_for(cfg))


def _review_config(config: Config, body: ReviewRequest) -> Config:
    from reviewer.engine import known_selector

    for name, values in (("select", body.select), ("ignore", body.ignore)):
        for sel in values or ():
            if not known_selector(sel):
                raise ApiError(400, f"unknown rule {sel!r} in {name}", code="unknown_rule")
    cfg = config
    if body.select is not None:
        cfg = replace(cfg, select=tuple(body.select))
    if body.ignore is not None:
        cfg = replace(cfg, ignore=tuple(body.ignore))
    return cfg


def _client_context(body: ReviewRequest) -> str:
    if body.context is None:
        return ""
    parts = [body.context.style.strip(), *(s.strip() for s in body.context.snippets)]
    return "\n\n".join(p for p in parts if p)

