"""Shared pieces of the model benchmarks (bench/llm_overhead.py, bench/llm_fixes.py).

The seeded findings are those of the bundled demo project (examples/base plus the staged
change in examples/change), reviewed whole: a fixed set that every run sees the same way.
"""

from __future__ import annotations

import contextlib
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work" / "llm"
DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "## Model"

sys.path.insert(0, str(ROOT))

from reviewer.config import Config  # noqa: E402
from reviewer.config import load as load_config  # noqa: E402
from reviewer.engine import Job, run  # noqa: E402
from reviewer.findings import Finding  # noqa: E402


def demo_project(work: Path = WORK) -> Path:
    """A fresh copy of the demo repository under ``work``."""
    dest = work / "demo"
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, str(ROOT / "examples" / "make_demo.py"), str(dest)],
        check=True, capture_output=True,
    )
    return dest


def seeded_findings(root: Path) -> tuple[list[Finding], Config]:
    """Every finding of the demo project's Python files, most severe first."""
    cfg = replace(load_config(root), cache=False)
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py")
                   if ".git" not in p.parts)
    result = run(Job(root, files), cfg, use_baseline=False)
    findings = [f for f in result.findings if f.rule_id != "RV000"]
    return sorted(findings, key=lambda f: (-int(f.severity), f.sort_key)), cfg


def machine_line() -> str:
    """One line naming the machine and its load (figures depend on both)."""
    try:
        load = os.getloadavg()[0]
        load_s = f", load average {load:.1f} at the start"
    except OSError:
        load_s = ""
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs{load_s};"
        f" Python {platform.python_version()}; {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def llama_server(model: Path, context: int, threads: int) -> Iterator[str]:
    """A real ``python -m llama_cpp.server`` on 127.0.0.1; yields its /v1 URL."""
    port = free_port()
    log = WORK / "server.log"
    WORK.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host",
             "127.0.0.1", "--port", str(port), "--n_ctx", str(context), "--n_threads",
             str(threads)],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited; see {log}")
            try:
                with urllib.request.urlopen(url + "/models", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("llama_cpp.server did not start") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def write_section(name: str, body: str) -> None:
    """Replace (or add) the ``<!-- name:begin -->..<!-- name:end -->`` block of
    docs/benchmarks.md, under the "## Model" heading."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{body.rstrip()}\n{end}\n"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + block + ("\n" + tail if tail else "")
    elif HEADING in text:  # at the end of the Model section
        at = text.index(HEADING) + len(HEADING)
        nxt = text.find("\n## ", at)
        nxt = len(text) if nxt < 0 else nxt + 1
        text = text[:nxt].rstrip("\n") + "\n\n" + block + ("\n" + text[nxt:] if nxt < len(text)
                                                              else "")
    else:
        text = text.rstrip("\n") + f"\n\n{HEADING}\n\n" + block
    DOC.write_text(text, encoding="utf-8")
