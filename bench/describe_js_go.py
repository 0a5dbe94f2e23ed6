"""Speed of ``reviewer describe``'s facts on a JavaScript + Go change (issue 18).

Corpora on the machine, nothing downloaded: the Go standard library's ``net/http`` tree
(``--go``, default /usr/lib/go-1.19/src/net/http) and django's admin JavaScript (``--js``,
bench/.work/perf/src/django/django/contrib/admin/static, ``*.min.js`` left out), copied into a
fresh git repository under bench/.work/describe-js-go and committed. Then 40 Go files and
every JavaScript file are changed and staged: each gains an exported function, every fifth
gets a new parameter on its first exported (Go) or named (JS) function, so callers are
searched in the tree's files of that language.

Measured, median of N runs, in one run with the peer:

* ``facts``: ``reviewer.describe.facts.collect`` in-process, without the rules (the target of
  issue 18: under 1 s for a 50-file change);
* peer: ``git diff --cached --numstat -M`` (git alone).

Usage: python bench/describe_js_go.py [--repeat N] [--go DIR] [--js DIR] [--write]
``--write`` replaces the describe-js-go section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from describe import median  # bench/describe.py: wall and CPU medians

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GO = Path("/usr/lib/go-1.19/src/net/http")
JS = HERE / ".work" / "perf" / "src" / "django" / "django" / "contrib" / "admin" / "static"
WORK = HERE / ".work" / "describe-js-go"
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- describe-js-go:begin -->", "<!-- describe-js-go:end -->"
GO_FILES = 40
_GO_FUNC = re.compile(r"^func ([A-Z]\w*)\(", re.M)
_JS_FUNC = re.compile(r"\bfunction ([A-Za-z_]\w*)\(")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=b@example.com", "-c", "user.name=bench", *args],
                   cwd=repo, check=True, capture_output=True)


def setup(go: Path, js: Path) -> Path:
    for corpus in (go, js):
        if not corpus.is_dir():
            sys.exit(f"no corpus at {corpus}")
    repo = WORK / "repo"
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    shutil.copytree(go, repo / "http", ignore=shutil.ignore_patterns("testdata"))
    shutil.copytree(js, repo / "static", ignore=shutil.ignore_patterns("*.min.js", "vendor"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    gos = [p for p in sorted((repo / "http").rglob("*.go"))
           if not p.name.endswith("_test.go") and _GO_FUNC.search(p.read_text("utf-8"))]
    step = max(1, len(gos) // GO_FILES)
    for i, path in enumerate(gos[::step][:GO_FILES]):
        text = path.read_text("utf-8")
        if i % 5 == 0:
            text = _GO_FUNC.sub(lambda m: f"func {m.group(1)}(benchExtra int, ", text, count=1)
        path.write_text(text + f"\nfunc BenchAdded{i}(v int) int {{ return v }}\n", "utf-8")
    for i, path in enumerate(sorted((repo / "static").rglob("*.js"))):
        text = path.read_text("utf-8")
        if i % 5 == 0:
            text = _JS_FUNC.sub(lambda m: f"function {m.group(1)}(benchExtra, ", text, count=1)
        path.write_text(text + f"\nfunction benchAdded{i}(v) {{ return v; }}\n", "utf-8")
    git(repo, "add", "-A")
    return repo


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--go", type=Path, default=GO)
    ap.add_argument("--js", type=Path, default=JS)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    repo = setup(args.go, args.js)
    sys.path.insert(0, str(ROOT))
    from reviewer.config import load
    from reviewer.describe import changes, facts

    cfg = load(repo)
    stats = facts.collect(changes.staged(repo), cfg, findings=False)
    sigs = [s for s in stats.symbols if s.signature_changes]
    langs = {f.language for f in stats.files}
    rows = [
        ("facts (in-process, no rules)", median(
            lambda: facts.collect(changes.staged(repo), cfg, findings=False), args.repeat)),
        ("peer: `git diff --cached --numstat -M`", median(
            lambda: subprocess.run(["git", "diff", "--cached", "--numstat", "-M"], cwd=repo,
                                   check=True, capture_output=True), args.repeat)),
    ]
    tree = sum(1 for _ in repo.rglob("*.go")) + sum(1 for _ in repo.rglob("*.js"))
    out = [f"Change: {stats.size['files']} files ({', '.join(sorted(map(str, langs)))}) "
           f"staged (+{stats.size['added']} -{stats.size['deleted']} lines), "
           f"{len(stats.symbols)} definitions changed ({len(sigs)} signatures changed with "
           f"{sum(s.callers_total for s in sigs)} call sites found in the tree's {tree} "
           f"files). Median of {args.repeat} runs on {platform.machine()}, "
           f"{os.cpu_count()} cores (shared; load average {os.getloadavg()[0]:.1f} at the "
           f"end), Python {platform.python_version()}.",
           "", "| what | wall s | CPU s |", "|---|---:|---:|"]
    out += [f"| {name} | {wall:.3f} | {cpu:.3f} |" for name, (wall, cpu) in rows]
    table = "\n".join(out)
    print(table)
    if args.write:
        text = DOC.read_text("utf-8")
        block = f"{BEGIN}\n{table}\n{END}"
        if BEGIN in text:
            text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END):]
        else:
            anchor = "<!-- describe-speed:end -->"
            at = text.index(anchor) + len(anchor)
            text = (text[:at] + "\n\nJavaScript and Go: `python bench/describe_js_go.py "
                    "--write`.\n\n" + block + text[at:])
        DOC.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
