"""Speed of ``reviewer describe``'s facts on a 50-file change of django/ (issue 18).

The django/ package of the perf corpus (bench/.work/perf/src/django, from
../shared/eval/perf_corpus.sh) is copied into a fresh git repository under bench/.work/describe
and committed; then 49 of its modules are changed and staged (50 files with the module the
moves go to): each gains a public function,
every fifth gets a new parameter on its first public function (so callers are searched in the
whole tree) and every seventh loses its last top-level function to another module (a move).

Measured, median of N runs, in one run with the peers:

* ``facts``: ``reviewer.describe.facts.collect`` in-process, without the rules (the target:
  under 1 s);
* ``facts+findings``: the same with ``check``'s rules on the changed lines, warm cache;
* ``describe --no-findings`` as a subprocess (process start included);
* peers: ``git diff --cached --numstat -M`` (the floor: git alone) and
  ``reviewer check --staged --format json`` on the same change (subprocess).

Usage: python bench/describe.py [--repeat N] [--corpus DJANGO_PACKAGE_DIR] [--write]
``--write`` replaces the describe section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = HERE / ".work" / "perf" / "src" / "django" / "django"
WORK = HERE / ".work" / "describe"
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- describe-speed:begin -->", "<!-- describe-speed:end -->"
FILES = 49  # plus the module receiving the moved functions: a 50-file change


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def setup(corpus: Path) -> Path:
    if not corpus.is_dir():
        sys.exit(f"no corpus at {corpus} (run ../shared/eval/perf_corpus.sh bench/.work/perf)")
    repo = WORK / "repo"
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    shutil.copytree(corpus, repo / "django")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.email=b@example.com", "-c", "user.name=bench", "add", "-A")
    git(repo, "-c", "user.email=b@example.com", "-c", "user.name=bench", "commit", "-qm", "base")
    change(repo)
    return repo


def _top_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    return [n for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]


def change(repo: Path) -> None:
    """Change and stage 50 modules (deterministic)."""
    candidates = []
    for path in sorted((repo / "django").rglob("*.py")):
        text = path.read_text("utf-8")
        tree = ast.parse(text)
        if len(_top_functions(tree)) >= 2:
            candidates.append((path, text, tree))
    step = max(1, len(candidates) // FILES)
    chosen = candidates[::step][:FILES]
    sink = repo / "django" / "utils" / "moved_here.py"
    moved = ["# Functions moved here by the benchmark.\n"]
    for i, (path, text, tree) in enumerate(chosen):
        lines = text.splitlines(keepends=True)
        funcs = _top_functions(tree)
        if i % 7 == 0:
            last = funcs[-1]
            start = min([last.lineno, *(d.lineno for d in last.decorator_list)]) - 1
            block = lines[start:last.end_lineno]
            moved.append("\n\n" + "".join(block))
            del lines[start:last.end_lineno]
        if i % 5 == 0:
            first = funcs[0]
            head = lines[first.lineno - 1]
            if "):" in head:
                lines[first.lineno - 1] = head.replace("):", ", bench_extra=None):", 1)
        lines.append(f"\n\ndef bench_added_{i}(value):\n    return value\n")
        path.write_text("".join(lines), "utf-8")
    sink.write_text("".join(moved), "utf-8")
    git(repo, "add", "-A")


def _cpu() -> float:
    """CPU seconds of this process and its finished children (git, subprocesses)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def median(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds of ``fn``."""
    walls, cpus = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), _cpu()
        fn()
        walls.append(time.perf_counter() - t)
        cpus.append(_cpu() - c)
    return statistics.median(walls), statistics.median(cpus)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    repo = setup(args.corpus)
    sys.path.insert(0, str(ROOT))
    from reviewer.config import load
    from reviewer.describe import changes, facts

    cfg = load(repo)
    stats = facts.collect(changes.staged(repo), cfg, findings=False)
    size = stats.size
    moved = sum(s.change == "moved" for s in stats.symbols)
    sigs = [s for s in stats.symbols if s.signature_changes]
    callers = sum(s.callers_total for s in sigs)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def sub(*cmd: str) -> Callable[[], object]:
        return lambda: subprocess.run(cmd, cwd=repo, env=env, check=False, capture_output=True)

    reviewer = [sys.executable, "-m", "reviewer"]
    facts.collect(changes.staged(repo), cfg, findings=True)  # fills the check cache
    rows = [
        ("facts (in-process, no rules)", median(
            lambda: facts.collect(changes.staged(repo), cfg, findings=False), args.repeat)),
        ("facts + findings (in-process, warm cache)", median(
            lambda: facts.collect(changes.staged(repo), cfg, findings=True), args.repeat)),
        ("`reviewer describe --no-findings --format json` (subprocess)", median(
            sub(*reviewer, "describe", "--no-findings", "--format", "json"), args.repeat)),
        ("`reviewer describe --format json` (subprocess, warm cache)", median(
            sub(*reviewer, "describe", "--format", "json"), args.repeat)),
        ("peer: `git diff --cached --numstat -M`", median(
            sub("git", "diff", "--cached", "--numstat", "-M"), args.repeat)),
        ("peer: `reviewer check --staged --format json` (subprocess, warm cache)", median(
            sub(*reviewer, "check", "--staged", "--format", "json"), args.repeat)),
    ]
    out = [f"Change: {size['files']} files of django/ staged (+{size['added']} "
           f"-{size['deleted']} lines), {len(stats.symbols)} definitions changed "
           f"({moved} moved, {len(sigs)} signatures changed with {callers} call sites found "
           f"in the tree's {sum(1 for _ in (repo / 'django').rglob('*.py'))} modules). "
           f"Median of {args.repeat} runs on {platform.machine()}, {os.cpu_count()} cores "
           f"(shared; load average {os.getloadavg()[0]:.1f} at the end), Python "
           + platform.python_version() + ". CPU: user + system seconds of the process and "
           "its children (git), less sensitive than wall time to other work on the machine.",
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
            text += ("\n## Describe: facts of a 50-file change\n\n"
                     "`python bench/describe.py --write` (issue 18; target: facts under 1 s).\n\n"
                     + block + "\n")
        DOC.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
