"""Token by token in front of an upstream model server, and a disconnect that stops the
generation in flight.

The upstream is a real HTTP server on 127.0.0.1 that streams its answer as OpenAI
server-sent events, one token every few hundredths of a second, and records what it sent
and whether its client hung up; ``reviewer serve --server-url`` runs in front of it as a
real subprocess.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from serve_proc import Server, serve

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("httpx") is None,
    reason="the serve extra or httpx is not installed",
)


@dataclass
class Upstream:
    url: str = ""
    tokens: list[str] = field(default_factory=list)  # what each answer streams
    delay: float = 0.05  # seconds between tokens
    sent: list[float] = field(default_factory=list)  # when each token of the last went out
    hung_up: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


@contextmanager
def upstream(tokens: list[str], delay: float = 0.05) -> Iterator[Upstream]:
    up = Upstream(tokens=tokens, delay=delay)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            up.sent.clear()
            up.done.clear()
            try:
                for tok in up.tokens:
                    event = {"choices": [{"index": 0, "delta": {"content": tok}}]}
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                    up.sent.append(time.monotonic())
                    time.sleep(up.delay)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                up.hung_up.set()
            finally:
                up.done.set()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    up.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield up
    finally:
        server.shutdown()
        server.server_close()


def chat_stream(server: Server, body: dict[str, object]) -> list[tuple[float, str]]:
    """(arrival time, content) of every content chunk of a streamed chat completion."""
    import httpx

    got: list[tuple[float, str]] = []
    with httpx.Client(timeout=60) as http, http.stream(
            "POST", server.url + "/v1/chat/completions", json={**body, "stream": True}) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            event = json.loads(line[6:])
            assert "error" not in event, event
            piece = event["choices"][0]["delta"].get("content")
            if piece:
                got.append((time.monotonic(), piece))
    return got


def test_chat_streams_token_by_token_from_an_upstream_server(tmp_path: Path) -> None:
    words = [f"w{i} " for i in range(20)]
    with upstream(words, delay=0.1) as up, \
            serve(tmp_path, "--backend", "openai", "--server-url", up.url) as server:
        question = {"messages": [{"role": "user", "content": "Count."}],
                    "reviewer": {"principles": False}}
        got = chat_stream(server, question)
        assert "".join(p for _, p in got) == "".join(words)
        assert len(got) >= 10  # pieces, not one block
        assert got[0][0] < up.sent[-1]  # the first piece came before the last was generated
        # A stop sequence split across pieces: cut there, and the upstream is hung up on.
        up.tokens = ["one ", "two ", "EN", "D three ", *(f"x{i} " for i in range(40))]
        got = chat_stream(server, {**question, "stop": ["END"]})
        assert "".join(p for _, p in got) == "one two "
        assert up.hung_up.wait(10) and len(up.sent) < len(up.tokens)


def metric(server: Server, name: str) -> float:
    text = server.request("GET", "/metrics")[2]
    line = next(x for x in text.splitlines() if x.startswith(name + " "))
    return float(line.split()[1])


def test_a_review_client_that_hangs_up_stops_the_generation(tmp_path: Path) -> None:
    answer = '{"explanation": "' + "slow " * 300
    tokens = [answer[i:i + 5] for i in range(0, len(answer), 5)]  # 15 s at 0.05 s a token
    with upstream(tokens) as up, \
            serve(tmp_path, "--backend", "openai", "--server-url", up.url) as server:
        host, port = server.url.removeprefix("http://").split(":")
        request = {"request_id": "gone", "explain": True, "max_explained": 1,
                   "select": ["RV101"], "files": [{"path": "m.py",
                                                    "content": "def f(x=[]):\n    return x\n"}]}
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("POST", "/v1/review", body=json.dumps(request),
                     headers={"Content-Type": "application/json"})
        deadline = time.monotonic() + 30
        while len(up.sent) < 5 and time.monotonic() < deadline:  # generating
            time.sleep(0.05)
        assert len(up.sent) >= 5
        conn.close()  # the client goes away mid-generation
        assert up.done.wait(10)  # long before the 15 s the whole answer takes
        assert up.hung_up.is_set() and len(up.sent) < len(tokens) // 2
        deadline = time.monotonic() + 10
        while not metric(server, "reviewer_generations_cancelled_total") and \
                time.monotonic() < deadline:
            time.sleep(0.1)
        assert metric(server, "reviewer_generations_cancelled_total") == 1
        assert 0 < metric(server, "reviewer_cancelled_tokens_total") < len(tokens) // 2
        # The model is free again for the next request.
        status, _, body = server.request("POST", "/v1/review", {**request, "explain": False})
        assert status == 200, body
