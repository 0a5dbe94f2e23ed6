"""A local OpenAI-compatible server (``/v1/chat/completions``) that gives one fixed answer.

Requests constrained by the taught-principles judge's schema (a ``violates`` property) get
the ``judge`` answer instead (default: a violation on line 2 of the function shown).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Names what the tests' flagged code names (items, cmd, path), as reviewer.llm.judge asks.
EXPLANATION = (
    "Callers of this code share what items, cmd and path hold: a surprise waiting to happen."
)
JUDGE_EXPLANATION = "os.path.join builds the path; use pathlib.Path and the / operator."
JUDGE_ANSWER = {"violates": True, "line": 2, "explanation": JUDGE_EXPLANATION}


@dataclass
class Model:
    """The server's URL (for --server-url) and the prompts it was sent."""

    url: str = ""
    prompts: list[object] = field(default_factory=list)


# A model fix for a bare ``except:`` that the validator accepts: still broad (a model's
# narrowing is refused, reviewer.llm.refusals), the comment saying why errors are caught.
BROAD_FIX = "except Exception:  # errors reading the file are ignored: it reads as empty\n"


@contextmanager
def serve_model(explanation: str = EXPLANATION, fixed_code: str | None = None,
                judge: dict[str, object] | None = None) -> Iterator[Model]:
    """Answer every completion with ``explanation`` and ``fixed_code`` (default: no fix),
    and every judge request with ``judge`` (default: JUDGE_ANSWER)."""
    model = Model()
    answer = json.dumps({"explanation": explanation, "fixed_code": fixed_code})
    judged = json.dumps(judge if judge is not None else JUDGE_ANSWER)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.loads(raw or b"null")
            model.prompts.append(body)
            content = judged if _is_judge(body) else answer
            data = json.dumps({"choices": [{"message": {"content": content}}],
                               "usage": {"prompt_tokens": 10, "completion_tokens": 10}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    model.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield model
    finally:
        server.shutdown()
        server.server_close()


def _is_judge(body: object) -> bool:
    """Whether a request asks for the judge's answer (its schema has ``violates``)."""
    if not isinstance(body, dict):
        return False
    fmt = body.get("response_format") or {}
    schema = fmt.get("json_schema", {}).get("schema") if "json_schema" in fmt else fmt.get("schema")
    return isinstance(schema, dict) and "violates" in schema.get("properties", {})
