"""`reviewer lsp` latency and memory, next to `reviewer check` as a process (issue 15).

* didChange -> publishDiagnostics over N edits (default 50) of a ~2,000-line django file
  (django/db/migrations/autodetector.py, 1,963 lines): each edit changes one line
  (incremental sync), the next is sent once the diagnostics of the previous arrived. The
  figures include the server's 150 ms debounce; "beyond the debounce" subtracts it.
* the same file through `reviewer check FILE --no-cache -q --format json` as a process
  (process start included), in the same run.
* the server's resident memory (VmRSS) after 1, 50, 100, 150 and 200 opened django files,
  then after closing them all and opening the same 200 again (does it stay flat?).
* the same latency and ``check`` figures for a ~2,500-line JavaScript file (commander's
  lib/command.js, 2,509 lines; the tree-sitter plug-in), when it is there.

The corpus comes from ../shared/eval/perf_corpus.sh (bench/.work/perf); ``--django`` points
elsewhere. The JavaScript file: ``mkdir -p bench/.work/npm && cd bench/.work/npm && npm pack
commander@12.1.0 && tar xzf commander-12.1.0.tgz`` (``--js`` points elsewhere; its folder
is made a git repository if it is not one). ``--files 0`` skips the memory run.
Usage: python bench/lsp_latency.py [--edits N] [--runs N] [--files N] [--django PATH]
[--js PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

HERE = Path(__file__).resolve().parent
DEFAULT_DJANGO = HERE / ".work" / "perf" / "src" / "django"
FILE = "django/db/migrations/autodetector.py"
DEFAULT_JS = HERE / ".work" / "npm" / "package" / "lib" / "command.js"
DEBOUNCE_MS = 150.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def start(root: Path) -> tuple[LanguageClient, dict[str, Any]]:
    config = ClientServerConfig(server_command=[sys.executable, "-m", "reviewer", "lsp"])
    client = await config.start()
    seen: dict[str, Any] = {"events": {}}
    original = client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def record(params: types.PublishDiagnosticsParams) -> None:
        seen["events"][(params.uri, params.version)] = time.perf_counter()
        original(params)

    client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record
    await client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="django")]))
    return client, seen


async def wait_for(seen: dict[str, Any], key: tuple[str, int], timeout: float = 60) -> float:
    end = time.perf_counter() + timeout
    while key not in seen["events"]:
        if time.perf_counter() > end:
            raise TimeoutError(f"no diagnostics for {key}")
        await asyncio.sleep(0.001)
    return float(seen["events"][key])


def open_item(client: LanguageClient, path: Path, language: str = "python") -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1,
                                             text=path.read_text(encoding="utf-8"))))
    return uri


async def latency(root: Path, edits: int, rel: str = FILE, language: str = "python"
                  ) -> tuple[list[float], int]:
    client, seen = await start(root)
    path = root / rel
    comment = "#" if language == "python" else "//"
    uri = open_item(client, path, language)
    await wait_for(seen, (uri, 1))
    n_diags = len(client.diagnostics.get(uri, []))
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for i in range(edits):
        line = 100 + 30 * i % (len(lines) - 200)
        col = len(lines[line])
        version = i + 2
        sent = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line, col),
                                  end=types.Position(line, col)),
                text=f"  {comment} edit {i}")]))
        got = await wait_for(seen, (uri, version))
        out.append((got - sent) * 1000)
    await client.shutdown_session()
    await client.stop()
    return out, n_diags


async def memory(root: Path, count: int) -> list[tuple[str, float]]:
    client, seen = await start(root)
    assert client._server is not None
    pid = client._server.pid
    files = sorted(p for p in (root / "django").rglob("*.py") if p.stat().st_size > 2000)[:count]
    marks = {1, count // 4, count // 2, 3 * count // 4, count}
    out = [("started", rss_mib(pid))]
    uris = []
    for n, path in enumerate(files, 1):
        uris.append(open_item(client, path))
        await wait_for(seen, (uris[-1], 1))
        if n in marks:
            out.append((f"{n} open", rss_mib(pid)))
    for uri in uris:
        client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
    seen["events"].clear()
    for path in files:
        uri = open_item(client, path)
        await wait_for(seen, (uri, 1))
    out.append((f"closed, {count} reopened", rss_mib(pid)))
    await client.shutdown_session()
    await client.stop()
    return out


def check_process(root: Path, runs: int, rel: str = FILE) -> list[float]:
    cmd = [sys.executable, "-m", "reviewer", "check", rel, "--no-cache", "--no-baseline",
           "-q", "--format", "json"]
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=root, capture_output=True, check=False)
        out.append((time.perf_counter() - t0) * 1000)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"reviewer check failed: {proc.stderr.decode()[-300:]}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edits", type=int, default=50)
    ap.add_argument("--runs", type=int, default=10, help="reviewer check runs")
    ap.add_argument("--files", type=int, default=200, help="files opened for the memory run")
    ap.add_argument("--django", type=Path, default=DEFAULT_DJANGO)
    ap.add_argument("--js", type=Path, default=DEFAULT_JS, help="a JavaScript file")
    args = ap.parse_args()
    root = args.django.resolve()
    if not (root / FILE).is_file():
        raise SystemExit(f"{root / FILE} not found: run ../shared/eval/perf_corpus.sh first")
    n_lines = len((root / FILE).read_text(encoding="utf-8").splitlines())
    lat, n_diags = asyncio.run(latency(root, args.edits))
    chk = check_process(root, args.runs)
    js = args.js.resolve()
    js_lat: list[float] = []
    js_chk: list[float] = []
    if js.is_file():
        js_root = js_repo(js)
        js_rel = js.relative_to(js_root).as_posix()
        js_lat, js_diags = asyncio.run(latency(js_root, args.edits, js_rel, "javascript"))
        js_chk = check_process(js_root, args.runs, js_rel)
    mem = asyncio.run(memory(root, args.files)) if args.files else []
    print(f"file: {FILE} ({n_lines} lines, {n_diags} diagnostics); cpus: {os.cpu_count()};"
          f" load average: {os.getloadavg()[0]:.1f}")
    print("| measurement | p50 (ms) | p95 (ms) |")
    print("|---|---:|---:|")
    print(f"| `reviewer lsp` didChange -> publishDiagnostics ({args.edits} edits) |"
          f" {statistics.median(lat):.0f} | {pct(lat, 0.95):.0f} |")
    print(f"| the same, beyond the {DEBOUNCE_MS:.0f} ms debounce |"
          f" {statistics.median(lat) - DEBOUNCE_MS:.0f} | {pct(lat, 0.95) - DEBOUNCE_MS:.0f} |")
    print(f"| `reviewer check FILE` as a process ({args.runs} runs) |"
          f" {statistics.median(chk):.0f} | {pct(chk, 0.95):.0f} |")
    if js_lat:
        n_js = len(js.read_text(encoding="utf-8").splitlines())
        print(f"| JavaScript ({js.name}, {n_js} lines, {js_diags} diagnostics):"
              f" didChange -> publishDiagnostics | {statistics.median(js_lat):.0f} |"
              f" {pct(js_lat, 0.95):.0f} |")
        print(f"| the same, beyond the debounce | {statistics.median(js_lat) - DEBOUNCE_MS:.0f}"
              f" | {pct(js_lat, 0.95) - DEBOUNCE_MS:.0f} |")
        print(f"| JavaScript: `reviewer check FILE` as a process |"
              f" {statistics.median(js_chk):.0f} | {pct(js_chk, 0.95):.0f} |")
    else:
        print(f"(no JavaScript figures: {js} not found)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if mem:
        print()
        print("| server memory | VmRSS (MiB) |")
        print("|---|---:|")
        for label, mib in mem:
            print(f"| {label} | {mib:.0f} |")
    return 0


def js_repo(path: Path) -> Path:
    """The package folder of ``path`` (above ``lib/``), made a git repository of its own
    when it is not one (so the enclosing checkout's configuration does not apply)."""
    root = path.parent.parent if path.parent.name == "lib" else path.parent
    if not (root / ".git").exists():
        subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root.resolve()

if __name__ == "__main__":
    raise SystemExit(main())
