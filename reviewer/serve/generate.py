"""One generation for the chat endpoint: token by token where the backend allows it, with
``stop`` sequences, a JSON-schema constraint, and cancellation between tokens.

The in-process llama.cpp backend streams through ``create_chat_completion`` (its own stop
handling and the reviewer's grammar for the schema). Other backends (MLX, an upstream
OpenAI-compatible server) answer through :meth:`Backend.complete`; the answer then arrives
as one piece and ``stop`` is applied to it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reviewer.llm.backend import Backend, GenParams, JsonSchema, LLMError, Message


class Cancelled(Exception):
    """The client went away; generation stopped."""


@dataclass(frozen=True)
class GenRequest:
    """What to generate."""

    messages: Sequence[Message]
    max_tokens: int = 512
    temperature: float = 0.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    schema: JsonSchema | None = None


@dataclass
class Generation:
    """What came out."""

    text: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    finish_reason: str = "stop"  # "stop" or "length"
    deltas: list[str] = field(default_factory=list)


def _cut(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """``text`` up to the first stop sequence, and whether one was found."""
    cuts = [text.find(s) for s in stop if s and s in text]
    return (text[: min(cuts)], True) if cuts else (text, False)


def generate(
    backend: Backend,
    req: GenRequest,
    cancel: threading.Event,
    on_delta: Callable[[str], None] | None = None,
) -> Generation:
    """Generate an answer; ``on_delta`` gets each piece as it comes (from this thread).

    Raises Cancelled when ``cancel`` is set, LLMError for model problems.
    """
    start = time.perf_counter()
    llm_of = getattr(backend, "llm", None)
    if backend.name == "llama_cpp" and callable(llm_of):
        out = _llama(backend, llm_of(), req, cancel, on_delta)
    else:
        done = backend.complete(
            req.messages, json_schema=req.schema,
            params=GenParams(max_tokens=req.max_tokens, temperature=req.temperature,
                             seed=req.seed),
        )
        if cancel.is_set():
            raise Cancelled
        text, stopped = _cut(done.text, req.stop)
        out = Generation(text, done.prompt_tokens, done.completion_tokens)
        out.finish_reason = "length" if not stopped and \
            done.completion_tokens >= req.max_tokens else "stop"
        if on_delta is not None and text:
            on_delta(text)
    out.seconds = time.perf_counter() - start
    return out


def _llama(
    backend: Any, llm: Any, req: GenRequest, cancel: threading.Event,
    on_delta: Callable[[str], None] | None,
) -> Generation:
    grammar = backend.grammar(req.schema) if req.schema is not None else None
    out = Generation()
    parts: list[str] = []
    try:
        stream = llm.create_chat_completion(
            messages=[dict(m) for m in req.messages], max_tokens=req.max_tokens,
            temperature=req.temperature, seed=req.seed, stop=list(req.stop) or None,
            grammar=grammar, stream=True,
        )
        for chunk in stream:
            if cancel.is_set():
                raise Cancelled
            choice = chunk["choices"][0]
            delta = choice.get("delta", {}).get("content")
            if delta:
                parts.append(delta)
                out.completion_tokens += 1
                if on_delta is not None:
                    on_delta(delta)
            if choice.get("finish_reason"):
                out.finish_reason = str(choice["finish_reason"])
    except (ValueError, RuntimeError) as exc:  # context overflow, decode failure
        raise LLMError(f"generation failed: {exc}") from None
    out.text = "".join(parts)
    try:
        out.prompt_tokens = max(0, int(llm.n_tokens) - out.completion_tokens)
    except (AttributeError, TypeError, ValueError):
        out.prompt_tokens = 0
    return out
