"""Load on ``reviewer serve``: concurrent ``/v1/review`` requests on loopback.

The server is a real ``reviewer serve`` subprocess whose model is a stub OpenAI-compatible
server on 127.0.0.1 answering every completion with one fixed JSON answer after
``--model-ms`` (default 20 ms), so the figures are the service's own cost and its queueing,
not a model's speed. Every request reviews its own file (two findings, both explained, one
model call each; no answer cache), so no answer is served twice.

1. **Within the queue**: ``--total`` requests (default 200), ``--clients`` (default 50) at
   once, queue depth above the client count: every request must get 200, none lost, none
   answered twice (request ids), and the stub must see exactly two calls per request.
2. **At the queue limit**: the same load against a server with ``--queue-depth`` 8: a
   request that finds the queue full gets 503 with ``Retry-After``; the client retries
   after 50 ms until it is answered. Again every request answered exactly once.
3. **Locally**: the same reviews run in this process, one after the other (the engine and
   ``explain_findings`` against the same stub), the laptop path without a server.

Latency p50/p95 per request (queueing included) for each. Usage:
python bench/serve_load.py [--total N] [--clients C] [--model-ms MS]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANSWER = json.dumps({"explanation": "Callers share one object.", "fixed_code": None})


def source(n: int) -> str:
    return (f"def load_{n}(path, seen=[]):\n    try:\n        return open(path).read()\n"
            f"    except:\n        return {n}\n")


@contextmanager
def stub_model(delay: float) -> Iterator[tuple[str, list[int]]]:
    calls = [0]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                calls[0] += 1
            time.sleep(delay)
            data = json.dumps({"choices": [{"message": {"content": ANSWER}}],
                               "usage": {"prompt_tokens": 10, "completion_tokens": 10}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", calls
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def reviewer_serve(model_url: str, queue_depth: int) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "pyproject.toml").write_text("[tool.reviewer]\ncache = false\n")
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "reviewer", "serve", "--port", str(port), "--backend",
             "openai", "--server-url", model_url, "--queue-depth", str(queue_depth)],
            cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(url + "/health", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=20)


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)
    refused: int = 0
    retry_after: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def one(url: str, n: int, tally: Tally) -> None:
    rid = f"req-{n}"
    body = json.dumps({"request_id": rid, "explain": True, "fix_passes": 0,
                       "select": ["RV101", "RV201"],
                       "files": [{"path": f"mod_{n}.py", "content": source(n)}]}).encode()
    start = time.perf_counter()
    while True:
        req = urllib.request.Request(url + "/v1/review", data=body,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=600) as resp:
                got = json.load(resp)
            break
        except urllib.error.HTTPError as exc:
            if exc.code != 503:
                with tally.lock:
                    tally.errors.append(f"{rid}: HTTP {exc.code}")
                return
            with tally.lock:
                tally.refused += 1
                tally.retry_after.add(exc.headers.get("Retry-After", ""))
            time.sleep(0.05)
    took = time.perf_counter() - start
    explained = sum(1 for f in got["findings"] if f["explanation"])
    with tally.lock:
        tally.latencies.append(took)
        tally.answered.append(got["request_id"])
        if explained != 2:
            tally.errors.append(f"{rid}: {explained} explained")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load(url: str, total: int, clients: int) -> tuple[Tally, float]:
    tally = Tally()
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda n: one(url, n, tally), range(total)))
    return tally, time.perf_counter() - start


def local(model_url: str, total: int) -> list[float]:
    sys.path.insert(0, str(ROOT))
    from dataclasses import replace

    from reviewer.config import Config
    from reviewer.engine import Job, run
    from reviewer.llm.explain import explain_findings

    cfg = replace(Config(), llm_backend="openai", server_url=model_url, cache=False,
                  fix_passes=0, select=("RV101", "RV201"), explain=True)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for n in range(total):
            start = time.perf_counter()
            text = source(n)
            rel = f"mod_{n}.py"
            result = run(Job(root, [rel], contents={rel: text.encode()}), cfg)
            explain_findings(result.findings, root=root, config=cfg,
                             read=lambda _p, text=text: text)
            out.append(time.perf_counter() - start)
    return out


def report(name: str, tally: Tally, wall: float, total: int, calls: int) -> None:
    dupes = len(tally.answered) - len(set(tally.answered))
    lost = total - len(set(tally.answered))
    print(f"| {name} | {len(tally.answered)}/{total} | {lost} | {dupes} | {tally.refused}"
          f" ({', '.join(sorted(tally.retry_after)) or '-'}) | {calls} |"
          f" {pct(tally.latencies, 0.5) * 1000:.0f} | {pct(tally.latencies, 0.95) * 1000:.0f}"
          f" | {total / wall:.1f} |")
    for e in tally.errors[:5]:
        print(f"  error: {e}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--total", type=int, default=200)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--model-ms", type=float, default=20.0)
    args = ap.parse_args()
    print(f"{args.total} /v1/review requests, {args.clients} clients at once, stub model"
          f" {args.model_ms:.0f} ms per answer, {os.cpu_count()} cores\n")
    print("| run | answered | lost | duplicated | 503 (Retry-After) | model calls |"
          " p50 ms | p95 ms | requests/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    with stub_model(args.model_ms / 1000) as (model_url, calls):
        for name, depth in (("serve, queue depth 64", 64), ("serve, queue depth 8", 8)):
            before = calls[0]
            with reviewer_serve(model_url, depth) as url:
                tally, wall = load(url, args.total, args.clients)
            report(name, tally, wall, args.total, calls[0] - before)
        before = calls[0]
        start = time.perf_counter()
        lat = local(model_url, args.total)
        wall = time.perf_counter() - start
        print(f"| local, one after another | {len(lat)}/{args.total} | 0 | 0 | - |"
              f" {calls[0] - before} | {pct(lat, 0.5) * 1000:.0f} | {pct(lat, 0.95) * 1000:.0f}"
              f" | {args.total / wall:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
