"""One generation for the chat endpoint: token by token where the backend allows it, with
``stop`` sequences, a JSON-schema constraint, and cancellation between tokens.

The in-process llama.cpp backend streams through ``create_chat_completion`` (its own stop
handling and the reviewer's grammar for the schema). The other streaming backends
(:class:`reviewer.llm.backend.Streaming`: an upstream OpenAI-compatible server, MLX) hand
each piece over as it is generated; ``stop`` is applied here as the text grows (a piece that
could begin a stop sequence is held back until it cannot), the generation is stopped at the
first stop sequence or when the client goes away. A backend without streaming answers
through :meth:`Backend.complete`: the answer then arrives as one piece and ``stop`` is
applied to it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reviewer.llm.backend import (
    Backend,
    GenParams,
    Hooks,
    JsonSchema,
    LLMError,
    Message,
    streams,
)


class Cancelled(Exception):
    """The client went away; generation stopped after ``tokens`` tokens."""

    def __init__(self, tokens: int = 0) -> None:
        super().__init__(f"the client disconnected (after {tokens} tokens)")
        self.tokens = tokens


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
    elif streams(backend):
        out = _streamed(backend, req, cancel, on_delta)
    else:
        done = backend.complete(
            req.messages, json_schema=req.schema,
            params=GenParams(max_tokens=req.max_tokens, temperature=req.temperature,
                             seed=req.seed),
        )
        if cancel.is_set():
            raise Cancelled(done.completion_tokens)
        text, stopped = _cut(done.text, req.stop)
        out = Generation(text, done.prompt_tokens, done.completion_tokens)
        out.finish_reason = "length" if not stopped and \
            done.completion_tokens >= req.max_tokens else "stop"
        if on_delta is not None and text:
            on_delta(text)
    out.seconds = time.perf_counter() - start
    return out


class StopFilter:
    """Pieces of text in, pieces out up to the first stop sequence: what could still begin
    one is held back until the next piece says; ``stopped`` once one was seen."""

    def __init__(self, stop: Sequence[str], emit: Callable[[str], None] | None) -> None:
        self.stop = tuple(s for s in stop if s)
        self.emit = emit
        self.text = ""  # everything received
        self.sent = 0  # characters of ``text`` emitted
        self.stopped = False

    def feed(self, piece: str) -> None:
        if self.stopped:
            return
        self.text += piece
        cut, found = _cut(self.text, self.stop)
        if found:
            self.stopped = True
            self._send(len(cut))
            self.text = cut
            return
        hold = max((len(s) - 1 for s in self.stop), default=0)
        safe = len(self.text)
        for k in range(min(hold, len(self.text)), 0, -1):  # the longest tail a stop begins
            tail = self.text[-k:]
            if any(s.startswith(tail) for s in self.stop):
                safe = len(self.text) - k
                break
        self._send(safe)

    def flush(self) -> None:
        self._send(len(self.text))

    def _send(self, upto: int) -> None:
        if upto > self.sent and self.emit is not None:
            self.emit(self.text[self.sent:upto])
        self.sent = max(self.sent, upto)


def _streamed(backend: Any, req: GenRequest, cancel: threading.Event,
              on_delta: Callable[[str], None] | None) -> Generation:
    """A streaming backend's answer, piece by piece, cut at the first stop sequence."""
    pieces = StopFilter(req.stop, on_delta)
    params = GenParams(max_tokens=req.max_tokens, temperature=req.temperature, seed=req.seed)
    hooks = Hooks(on_text=pieces.feed, cancelled=lambda: cancel.is_set() or pieces.stopped)
    done = backend.stream(req.messages, json_schema=req.schema, params=params, hooks=hooks)
    if cancel.is_set():
        raise Cancelled(done.completion_tokens)
    if not pieces.text and done.text:  # a backend that gave no pieces: one at the end
        pieces.feed(done.text)
    pieces.flush()
    out = Generation(pieces.text, done.prompt_tokens, done.completion_tokens)
    out.finish_reason = "length" if not pieces.stopped and \
        done.completion_tokens >= req.max_tokens else "stop"
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
                raise Cancelled(out.completion_tokens)
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
