"""``POST /v1/chat/completions``: a principle-guided model behind OpenAI's chat API.

The server prepends a system message with the principles (those the request's code breaks
first), the taught principles, the repository context and its style profile. The answer's
fenced code blocks are reviewed by the rules; with refinement (``reviewer.refine`` in the
request, or the server's ``--refine``) the model gets the findings back and revises, up
to N passes, until the code passes. Streaming without refinement streams the tokens as
they come and reports validation in the last chunk; with refinement the answer can only be
known after validation, so the final answer is streamed after it (the first token comes
later: the trade-off docs/serve.md describes).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from reviewer.llm.backend import LLMError, Message
from reviewer.serve.errors import ApiError
from reviewer.serve.gate import QueueFull
from reviewer.serve.generate import Cancelled, Generation, GenRequest, generate
from reviewer.serve.schemas import ChatRequest

if TYPE_CHECKING:
    from reviewer.serve.app import Service
    from reviewer.serve.guide import Guidance

DEFAULT_MAX_TOKENS = 512
STREAM_PIECE = 16  # characters per chunk when a finished answer is streamed


@dataclass
class Outcome:
    """The answer after validation (and refinement)."""

    gen: Generation
    passes: int = 0  # refinement passes made
    findings: list[dict[str, Any]] = field(default_factory=list)
    blocks: int = 0  # reviewed code blocks in the final answer
    tokens: int = 0  # over all passes
    seconds: float = 0.0


def _schema(fmt: dict[str, Any] | None) -> dict[str, Any] | None:
    """The JSON schema a ``response_format`` asks for (None: free text)."""
    if not fmt or fmt.get("type") in (None, "text"):
        return None
    if fmt.get("type") == "json_object":
        return {"type": "object"}
    if fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise ApiError(422, "invalid request: response_format.json_schema.schema must be"
                           " an object", code="invalid_body")
        return schema
    raise ApiError(422, f"invalid request: response_format.type {fmt.get('type')!r} is not"
                   " one of text, json_object, json_schema", code="invalid_body")


def _messages(body: ChatRequest, guidance: Guidance | None) -> list[Message]:
    out: list[Message] = []
    own = [m for m in body.messages if m.role in ("system", "developer")]
    if guidance is not None:
        extra = "\n\n".join(m.text() for m in own)
        out.append({"role": "system",
                    "content": guidance.text + ("\n\n" + extra if extra else "")})
    else:
        out += [{"role": "system", "content": m.text()} for m in own]
    for m in body.messages:
        if m.role not in ("system", "developer"):
            out.append({"role": "assistant" if m.role == "assistant" else "user",
                        "content": m.text()})
    return out


def _review(text: str, service: Service) -> tuple[list[dict[str, Any]], int]:
    """Findings (as validate-principles violations, with the block number) of the answer's
    reviewed code blocks, and how many blocks were reviewed."""
    from reviewer.engine import selected_rules
    from reviewer.serve.guide import code_blocks, review_snippet, violation

    rules = selected_rules(service.config)
    found: list[dict[str, Any]] = []
    blocks = [b for b in code_blocks(text) if b.language]
    for n, block in enumerate(blocks):
        for f in review_snippet(block.code, block.language, rules):
            found.append({**violation(f), "block": n})
    return found, len(blocks)


def _answer(service: Service, body: ChatRequest, guidance: Guidance | None, refine: int,
            cancel: threading.Event, on_delta: Any = None) -> Outcome:
    """Generate, review the code blocks, and refine up to ``refine`` passes; a generation
    its client left is counted in the metrics."""
    try:
        return _generate_and_refine(service, body, guidance, refine, cancel, on_delta)
    except Cancelled as exc:
        service.metrics.cancelled(exc.tokens)
        raise


def _generate_and_refine(service: Service, body: ChatRequest, guidance: Guidance | None,
                         refine: int, cancel: threading.Event, on_delta: Any) -> Outcome:
    from reviewer.serve.guide import complaint

    backend = service.backend
    assert backend is not None
    stop = (body.stop,) if isinstance(body.stop, str) else tuple(body.stop or ())
    messages = _messages(body, guidance)
    schema = _schema(body.response_format)
    req = GenRequest(messages, max_tokens=body.max_completion_tokens or body.max_tokens
                     or DEFAULT_MAX_TOKENS,
                     temperature=body.temperature if body.temperature is not None else 0.0,
                     seed=body.seed or 0, stop=stop, schema=schema)
    gen = generate(backend, req, cancel, on_delta if not refine else None)
    out = Outcome(gen, tokens=gen.completion_tokens, seconds=gen.seconds)
    out.findings, out.blocks = _review(gen.text, service)
    while out.findings and out.passes < refine and schema is None:
        again: list[Message] = [*messages, {"role": "assistant", "content": gen.text},
                           {"role": "user", "content": complaint(_as_findings(out.findings))}]
        gen = generate(backend, GenRequest(again, req.max_tokens, req.temperature,
                                           req.seed + out.passes + 1, req.stop), cancel)
        out.passes += 1
        out.gen = gen
        out.tokens += gen.completion_tokens
        out.seconds += gen.seconds
        out.findings, out.blocks = _review(gen.text, service)
    return out


def _as_findings(items: list[dict[str, Any]]) -> list[Any]:
    from reviewer.findings import Finding, Severity, Span

    return [Finding(i["rule"], i["slug"], i["message"], "snippet", Span(i["line"], i["col"]),
                    Severity.parse(i["severity"])) for i in items]


def _reviewer_info(service: Service, guidance: Guidance | None, out: Outcome) -> dict[str, Any]:
    passed = None if not out.blocks else not out.findings
    return {
        "principles_applied": guidance.principles if guidance else [],
        "taught_principles": guidance.taught if guidance else [],
        "repository_context": bool(guidance and guidance.context),
        "style_profile": bool(guidance and guidance.style),
        "validation": {"passed": passed, "code_blocks": out.blocks,
                       "iterations": 1 + out.passes, "findings": out.findings},
    }


async def chat_completion(service: Service, body: ChatRequest, request: Request) -> Response:
    from reviewer.serve.guide import system_prompt

    if service.backend is None:
        raise ApiError(503, "this server has no model (llm-backend none)", "server_error",
                       "no_model")
    opts = body.reviewer
    refine = opts.refine if opts is not None and opts.refine is not None \
        else service.settings.refine_passes
    refine = min(refine, service.settings.max_refine_passes)
    guidance = None
    if opts is None or opts.principles:
        code = "\n".join(m.text() for m in body.messages if m.role == "user")
        guidance = await asyncio.to_thread(system_prompt, service.root, service.config, code)
    _schema(body.response_format)  # 422 before any work
    cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())
    model = service.model_id()
    if body.stream:
        return await _stream(service, body, guidance, refine, request, cid, created, model)
    try:
        out = await service.run(
            request, lambda cancel: _answer(service, body, guidance, refine, cancel))
    except Cancelled:
        return Response(status_code=499)
    except LLMError as exc:
        raise ApiError(502, f"the model failed: {exc}", "server_error", "model_error") from None
    _count(service, out)
    return JSONResponse({
        "id": cid, "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "finish_reason": out.gen.finish_reason, "logprobs": None,
                     "message": {"role": "assistant", "content": out.gen.text}}],
        "usage": {"prompt_tokens": out.gen.prompt_tokens,
                  "completion_tokens": out.tokens,
                  "total_tokens": out.gen.prompt_tokens + out.tokens},
        "reviewer": _reviewer_info(service, guidance, out),
    })


def _count(service: Service, out: Outcome) -> None:
    service.metrics.generated(out.tokens, out.seconds)
    if out.blocks:
        service.metrics.validated("passed" if not out.findings else "failed")
    else:
        service.metrics.validated("no_code")


async def _stream(service: Service, body: ChatRequest, guidance: Guidance | None, refine: int,
                  request: Request, cid: str, created: int, model: str) -> Response:
    gate = service.get_gate()
    if gate.full():
        raise service.busy()

    def chunk(delta: dict[str, Any], finish: str | None = None,
              extra: dict[str, Any] | None = None) -> str:
        data: dict[str, Any] = {
            "id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                         "logprobs": None}],
        }
        if extra:
            data.update(extra)
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    async def events() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        cancel = threading.Event()

        def on_delta(text: str) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, text)

        def work() -> Outcome:
            with service.model_lock:
                return _answer(service, body, guidance, refine, cancel, on_delta)

        entered = False
        try:
            try:
                gate.reserve()
            except QueueFull:  # taken since the check above
                err = {"error": {"message": "the review queue is full; retry later",
                                 "type": "server_error", "code": "queue_full"}}
                yield f"data: {json.dumps(err)}\n\n"
                return
            await gate.enter()
            entered = True
            yield chunk({"role": "assistant", "content": ""})
            task = asyncio.ensure_future(asyncio.to_thread(work))
            task.add_done_callback(lambda _t: loop.call_soon_threadsafe(queue.put_nowait, None))
            while True:
                piece = await queue.get()
                if piece is None:
                    break
                yield chunk({"content": piece})
            try:
                out = task.result()
            except (LLMError, Cancelled) as exc:
                err = {"error": {"message": f"the model failed: {exc}", "type": "server_error",
                                 "code": "model_error"}}
                yield f"data: {json.dumps(err)}\n\n"
                return
            if refine:  # the final answer, after validation
                text = out.gen.text
                for i in range(0, len(text), STREAM_PIECE):
                    yield chunk({"content": text[i:i + STREAM_PIECE]})
            _count(service, out)
            usage = {"prompt_tokens": out.gen.prompt_tokens, "completion_tokens": out.tokens,
                     "total_tokens": out.gen.prompt_tokens + out.tokens}
            yield chunk({}, out.gen.finish_reason,
                        {"usage": usage, "reviewer": _reviewer_info(service, guidance, out)})
            yield "data: [DONE]\n\n"
        finally:
            cancel.set()  # the client went away (or the answer is done): stop generating
            if entered:
                gate.leave()

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})
