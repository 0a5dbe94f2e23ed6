"""An OpenAI-compatible HTTP server: llama.cpp server, Ollama, vLLM, LM Studio, LocalAI.

Plain ``urllib`` (no client library): POST ``{base}/chat/completions`` with streaming, so the
time to the first token is measured and the run's deadline is checked between chunks. The
answer is constrained with ``response_format`` ``json_schema`` (the OpenAI form); a server
that rejects that form gets a GBNF ``grammar`` (llama.cpp's servers), else
``{"type": "json_object", "schema": ...}``, for the rest of the run.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

from reviewer.llm.answer import without_patterns
from reviewer.llm.backend import (
    DEFAULT_PARAMS,
    NO_HOOKS,
    CompletesByStreaming,
    Completion,
    GenParams,
    Hooks,
    JsonSchema,
    LLMError,
    Message,
    ModelTimeout,
    ModelUnavailable,
    estimate_tokens,
)

# Seconds to wait for a connection when no run deadline is tighter.
CONNECT_TIMEOUT = 10.0


def base_url(url: str) -> str:
    """``http://host:port/v1`` from what a user may write (with or without ``/v1``)."""
    url = url.rstrip("/")
    for suffix in ("/chat/completions", "/completions"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    return url if url.endswith("/v1") else url + "/v1"


# After a server refused OpenAI's "json_schema": llama.cpp's servers (llama-server,
# llama-cpp-python's) take a GBNF "grammar" (the reviewer's own, strict about JSON strings:
# their schema converters are not); others may know the older "json_object" form.
FALLBACKS = ("grammar", "json_object")


class OpenAICompatBackend(CompletesByStreaming):
    """A model behind an OpenAI-compatible ``/v1/chat/completions`` endpoint."""

    name = "openai"

    def __init__(self, url: str, model: str = "", api_key: str | None = None) -> None:
        self.url = base_url(url)
        self.model = model
        self.api_key = api_key if api_key is not None else os.environ.get("REVIEWER_API_KEY", "")
        # "json_schema" (OpenAI's form) until the server refuses it, then the first of
        # FALLBACKS it takes.
        self.flavour = "json_schema"
        self._served: str | None = None

    def identity(self) -> str:
        return f"openai:{self.url}:{self.model or 'default'}"

    # -- HTTP ------------------------------------------------------------------------------
    def _request(self, path: str, body: dict[str, Any] | None, timeout: float) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method="POST" if data else "GET")
        req.add_header("Content-Type", "application/json")
        req.add_header("Accept", "application/json, text/event-stream")
        if self.api_key:
            req.add_header("Authorization", f"Bearer {self.api_key}")
        try:
            return urllib.request.urlopen(req, timeout=timeout)
        except urllib.error.HTTPError as exc:
            detail = _error_detail(exc)
            if exc.code in (401, 403):
                raise ModelUnavailable(f"server {self.url} refused access: {detail}") from None
            raise _HTTPStatus(exc.code, detail) from None
        except TimeoutError:
            raise ModelTimeout(f"server {self.url} did not answer within {timeout:.0f}s") from None
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ModelUnavailable(f"server {self.url} is not reachable ({reason})") from None

    def models(self, timeout: float = 5.0) -> list[str]:
        """The model ids the server lists (``GET /v1/models``)."""
        try:
            with self._request("/models", None, timeout) as resp:
                data = json.load(resp)
        except _HTTPStatus as exc:
            raise LLMError(f"server {self.url}: GET /models failed: {exc}") from None
        except ValueError:
            raise LLMError(f"server {self.url}: /models is not JSON") from None
        items = data.get("data", []) if isinstance(data, dict) else []
        return [str(m.get("id")) for m in items if isinstance(m, dict) and m.get("id")]

    # -- the Backend protocol --------------------------------------------------------------
    def stream(
        self,
        messages: Sequence[Message],
        *,
        json_schema: JsonSchema | None = None,
        params: GenParams = DEFAULT_PARAMS,
        timeout: float | None = None,
        hooks: Hooks = NO_HOOKS,
    ) -> Completion:
        """The answer, streamed from the server: each piece goes to ``hooks.on_text`` as it
        arrives; when ``hooks.cancelled()`` the connection is closed (the server stops
        generating) and the partial answer returns."""
        start = time.perf_counter()
        body: dict[str, Any] = {
            "messages": [dict(m) for m in messages],
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "seed": params.seed,
            "stream": True,
        }
        if self.model:
            body["model"] = self.model
        if json_schema is not None:
            self._constrain(body, json_schema)
        try:
            resp = self._request("/chat/completions", body, timeout or CONNECT_TIMEOUT)
        except _HTTPStatus as exc:
            if json_schema is None or self.flavour != "json_schema":
                raise LLMError(f"server {self.url}: {exc}") from None
            # Servers that predate "json_schema" reject it (llama-cpp-python's with a 500):
            # try the llama.cpp family's "grammar" (the reviewer's own GBNF), then the older
            # "json_object" form, once each, and keep the first that works.
            resp = None
            for flavour in FALLBACKS:
                self.flavour = flavour
                if not self._constrain(body, json_schema):
                    continue
                try:
                    resp = self._request("/chat/completions", body, timeout or CONNECT_TIMEOUT)
                    break
                except _HTTPStatus:
                    continue
            if resp is None:
                self.flavour = "json_schema"
                raise LLMError(f"server {self.url}: {exc}") from None
        deadline = start + timeout if timeout is not None else None
        parts: list[str] = []
        first: float | None = None
        usage: dict[str, Any] = {}
        n = 0
        cancelled = False
        try:
            with resp:  # leaving it closes the connection: a cancelled answer stops there
                for event in _sse_events(resp):
                    if hooks.cancelled():
                        cancelled = True
                        break
                    if deadline is not None and time.perf_counter() > deadline:
                        raise ModelTimeout(f"no complete answer within {timeout:.0f}s")
                    if isinstance(event.get("usage"), dict):
                        usage = event["usage"]
                    for choice in event.get("choices") or []:
                        delta = choice.get("delta") or {}
                        text = delta.get("content") or choice.get("text") or ""
                        if not text and isinstance(choice.get("message"), dict):
                            text = choice["message"].get("content") or ""
                        if text:
                            if first is None:
                                first = time.perf_counter() - start
                            parts.append(text)
                            n += 1
                            if hooks.on_text is not None:
                                hooks.on_text(text)
        except TimeoutError:
            raise ModelTimeout(f"server {self.url} stopped answering") from None
        except (OSError, ValueError) as exc:
            raise LLMError(f"server {self.url}: broken answer stream ({exc})") from None
        return Completion(
            "".join(parts),
            int(usage.get("prompt_tokens", 0) or 0),
            int(usage.get("completion_tokens", n) or n),
            time.perf_counter() - start,
            first,
            cancelled,
        )

    def _constrain(self, body: dict[str, Any], schema: JsonSchema) -> bool:
        """Put the answer's constraint in ``body`` in the current flavour; False when this
        flavour cannot express ``schema``."""
        body.pop("response_format", None)
        body.pop("grammar", None)
        if self.flavour == "grammar":
            from reviewer.llm.grammar import Unsupported, compile_schema

            try:
                body["grammar"] = compile_schema(schema)
            except Unsupported:
                return False
            return True
        body["response_format"] = self._response_format(schema)
        return True

    def _response_format(self, schema: JsonSchema) -> dict[str, Any]:
        # Servers translate "pattern" into grammars inconsistently; the validator checks
        # the code anyway, so only the JSON shape is constrained here.
        plain = without_patterns(schema)
        if self.flavour == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": plain, "strict": True},
            }
        return {"type": "json_object", "schema": plain}

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def close(self) -> None:
        return None


class _HTTPStatus(Exception):
    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"HTTP {code}: {detail}")
        self.code = code


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        body = exc.read(2000).decode("utf-8", "replace")
    except OSError:
        body = ""
    try:
        data = json.loads(body)
        err = data.get("error", data) if isinstance(data, dict) else data
        msg = err.get("message") if isinstance(err, dict) else None
        if msg:
            return str(msg).splitlines()[0][:200]
    except ValueError:
        pass
    return (body.strip().splitlines() or [exc.reason or ""])[0][:200]


def _sse_events(resp: Any) -> Iterator[dict[str, Any]]:
    """JSON events of a server-sent-events stream, or the one JSON body of a plain answer."""
    ctype = resp.headers.get("Content-Type", "")
    if "text/event-stream" not in ctype:
        data = json.loads(resp.read().decode("utf-8"))
        if isinstance(data, dict):
            yield data
        return
    for raw in resp:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        event = json.loads(payload)
        if isinstance(event, dict):
            if "error" in event:
                err = event["error"]
                msg = err.get("message") if isinstance(err, dict) else err
                raise ValueError(str(msg))
            yield event
