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

Next to each wall-clock figure, CPU time (load on a shared machine inflates the former,
not the latter): the server process's user+system CPU over the edits, per edit, and each
``reviewer check`` process's, per run.

The corpus comes from ../shared/eval/perf_corpus.sh (bench/.work/perf); ``--django`` points
elsewhere. The JavaScript file: ``mkdir -p bench/.work/npm && cd bench/.work/npm && npm pack
commander@12.1.0 && tar xzf commander-12.1.0.tgz`` (``--js`` points elsewhere; its folder
is made a git repository if it is not one; so is ``--django``'s). ``--files 0`` skips the
memory run. ``--write`` replaces the measured part of the "Language server" section of
docs/benchmarks.md (between its ``lsp:begin``/``lsp:end`` markers) with what is printed.
Usage: python bench/lsp_latency.py [--edits N] [--runs N] [--files N] [--django PATH]
[--js PATH] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import resource
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
DOC = HERE.parent / "docs" / "benchmarks.md"
BEGIN, END = "<!-- lsp:begin -->", "<!-- lsp:end -->"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_ms(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (ms)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def children_cpu_ms() -> float:
    """User + system CPU time of this process's waited-for children so far (ms)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


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
                  ) -> tuple[list[float], int, float]:
    """(ms from didChange to its diagnostics per edit, diagnostics, server CPU ms per
    edit)."""
    client, seen = await start(root)
    assert client._server is not None
    pid = client._server.pid
    path = root / rel
    comment = "#" if language == "python" else "//"
    uri = open_item(client, path, language)
    await wait_for(seen, (uri, 1))
    n_diags = len(client.diagnostics.get(uri, []))
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    cpu0 = cpu_ms(pid)
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
    cpu = (cpu_ms(pid) - cpu0) / edits
    await client.shutdown_session()
    await client.stop()
    return out, n_diags, cpu


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


def check_process(root: Path, runs: int, rel: str = FILE) -> tuple[list[float], float]:
    """(wall ms per run, median CPU ms per run) of ``reviewer check FILE`` as a process."""
    cmd = [sys.executable, "-m", "reviewer", "check", rel, "--no-cache", "--no-baseline",
           "-q", "--format", "json"]
    out, cpu = [], []
    for _ in range(runs):
        c0 = children_cpu_ms()
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=root, capture_output=True, check=False)
        out.append((time.perf_counter() - t0) * 1000)
        cpu.append(children_cpu_ms() - c0)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"reviewer check failed: {proc.stderr.decode()[-300:]}")
    return out, statistics.median(cpu)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edits", type=int, default=50)
    ap.add_argument("--runs", type=int, default=10, help="reviewer check runs")
    ap.add_argument("--files", type=int, default=200, help="files opened for the memory run")
    ap.add_argument("--django", type=Path, default=DEFAULT_DJANGO)
    ap.add_argument("--js", type=Path, default=DEFAULT_JS, help="a JavaScript file")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    root = args.django.resolve()
    if not (root / FILE).is_file():
        raise SystemExit(f"{root / FILE} not found: run ../shared/eval/perf_corpus.sh first")
    if not (root / ".git").exists():  # else the enclosing checkout's configuration applies
        subprocess.run(["git", "init", "-q", str(root)], check=True)
    load_before = os.getloadavg()[0]
    n_lines = len((root / FILE).read_text(encoding="utf-8").splitlines())
    lat, n_diags, lat_cpu = asyncio.run(latency(root, args.edits))
    chk, chk_cpu = check_process(root, args.runs)
    rows = [
        (f"Python: `reviewer lsp` didChange -> publishDiagnostics ({args.edits} edits)",
         lat, lat_cpu, DEBOUNCE_MS),
        (f"Python: `reviewer check FILE` as a process ({args.runs} runs)", chk, chk_cpu, 0.0),
    ]
    js = args.js.resolve()
    js_note = f"(no JavaScript figures: {js} not found)"
    if js.is_file():
        js_root = js_repo(js)
        js_rel = js.relative_to(js_root).as_posix()
        js_lat, js_diags, js_cpu = asyncio.run(latency(js_root, args.edits, js_rel,
                                                       "javascript"))
        js_chk, js_chk_cpu = check_process(js_root, args.runs, js_rel)
        n_js = len(js.read_text(encoding="utf-8").splitlines())
        js_note = f"JavaScript: {js.name} ({n_js} lines, {js_diags} diagnostics)"
        rows += [
            (f"JavaScript: `reviewer lsp` didChange -> publishDiagnostics ({args.edits} edits)",
             js_lat, js_cpu, DEBOUNCE_MS),
            (f"JavaScript: `reviewer check FILE` as a process ({args.runs} runs)", js_chk,
             js_chk_cpu, 0.0),
        ]
    mem = asyncio.run(memory(root, args.files)) if args.files else []
    lines = [
        f"Measured {datetime.date.today().isoformat()} with `python bench/lsp_latency.py"
        f"{''.join(' ' + a for a in sys.argv[1:] if a != '--write')}`: Python: {FILE}"
        f" ({n_lines} lines,"
        f" {n_diags} diagnostics); {js_note}; {os.cpu_count()} CPUs, load average"
        f" {load_before:.1f} before and {os.getloadavg()[0]:.1f} after.",
        "",
        "| measurement | p50 (ms) | p95 (ms) | beyond the debounce: p50 / p95 (ms) |"
        " CPU (ms) |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, values, cpu, debounce in rows:
        beyond = (f"{statistics.median(values) - debounce:.0f} / {pct(values, 0.95) - debounce:.0f}"
                  if debounce else "-")
        lines.append(f"| {label} | {statistics.median(values):.0f} | {pct(values, 0.95):.0f} |"
                     f" {beyond} | {cpu:.0f} |")
    lines.append("")
    lines.append("CPU: the server's user+system time over the edits, per edit; the median of"
                 " the `check` processes'.")
    if mem:
        lines += ["", "| server memory | VmRSS (MiB) |", "|---|---:|"]
        lines += [f"| {label} | {mib:.0f} |" for label, mib in mem]
    section = "\n".join(lines) + "\n"
    print(section, end="")
    if args.write:
        write_doc(section)
    return 0


def write_doc(section: str) -> None:
    """Replace the text between the lsp markers of docs/benchmarks.md."""
    text = DOC.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{DOC} has no {BEGIN} ... {END} markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(head + BEGIN + "\n" + section + END + tail, encoding="utf-8")
    print(f"updated {DOC}")


def js_repo(path: Path) -> Path:
    """The package folder of ``path`` (above ``lib/``), made a git repository of its own
    when it is not one (so the enclosing checkout's configuration does not apply)."""
    root = path.parent.parent if path.parent.name == "lib" else path.parent
    if not (root / ".git").exists():
        subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root.resolve()

if __name__ == "__main__":
    raise SystemExit(main())
