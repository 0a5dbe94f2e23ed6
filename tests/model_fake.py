"""A local OpenAI-compatible server (``/v1/chat/completions``) that gives one fixed answer."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EXPLANATION = "Callers share one object: a surprise waiting to happen."


@dataclass
class Model:
    """The server's URL (for --server-url) and the prompts it was sent."""

    url: str = ""
    prompts: list[object] = field(default_factory=list)


@contextmanager
def serve_model(explanation: str = EXPLANATION, fixed_code: str | None = None) -> Iterator[Model]:
    """Answer every completion with ``explanation`` and ``fixed_code`` (default: no fix)."""
    model = Model()
    answer = json.dumps({"explanation": explanation, "fixed_code": fixed_code})

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            model.prompts.append(json.loads(raw or b"null"))
            data = json.dumps({"choices": [{"message": {"content": answer}}],
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
