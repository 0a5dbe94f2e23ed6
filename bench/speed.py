"""Speed benchmark: reviewer side by side with ruff, bandit and pylint on the same files.

Scenarios (issue 2):

* ``check --all`` on the django/ package (about 159k lines), cold cache, all cores;
  ruff restricted to the rules equivalent to reviewer's, ``bandit -r`` and pylint with the
  equivalent checks on the same tree. Targets: reviewer <= 3x ruff, >= 5x faster than bandit.
  ``--all`` also reviews the package's JavaScript files, which ruff does not read; the
  like-for-like row gives reviewer and ruff the same list of Python files (``check PATHS``,
  ``ruff check PATHS``), and the floor (read + ``ast.parse`` of those files) is measured in
  the same run.
* the same run again with nothing changed (content-hash cache): target < 0.3 s (issue 10).
* a pre-commit-sized change, 5 staged files from flask in a real git repository,
  ``reviewer check --staged`` as a subprocess (process start included): target < 0.25 s (issue 10).

Every figure is the median of N runs (perf_counter around a subprocess; at least 11 for the
sub-second scenarios). The corpora come
from ../shared/eval/perf_corpus.sh (run into bench/.work/perf when missing); the trees the
tools run on are copies under bench/.work/speed, so nothing outside the work folder changes.

Usage: python bench/speed.py [--repeat N] [--peers ruff,bandit,pylint] [--write] [--quick]
``--write`` replaces the speed section of docs/benchmarks.md with the table printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED_EVAL = (ROOT / ".." / "shared" / "eval").resolve()
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- speed:begin -->", "<!-- speed:end -->"

# reviewer rule -> the equivalent checks of each peer ("" where the peer has none).
# ruff's PLR1702 is a preview rule in ruff 0.17, so ruff runs with --preview.
EQUIVALENTS: dict[str, dict[str, str]] = {
    "RV101": {"ruff": "B006", "pylint": "dangerous-default-value", "bandit": ""},
    "RV102": {"ruff": "PLW0603", "pylint": "global-statement", "bandit": ""},
    "RV103": {"ruff": "", "pylint": "", "bandit": ""},
    "RV201": {"ruff": "E722", "pylint": "bare-except", "bandit": ""},
    "RV202": {"ruff": "BLE001", "pylint": "broad-exception-caught", "bandit": ""},
    "RV203": {"ruff": "S110,S112", "pylint": "", "bandit": "B110,B112"},
    "RV301": {"ruff": "PLR0915", "pylint": "too-many-statements", "bandit": ""},
    "RV302": {"ruff": "C901", "pylint": "too-complex", "bandit": ""},
    "RV303": {"ruff": "PLR0913", "pylint": "too-many-arguments", "bandit": ""},
    "RV304": {"ruff": "PLR1702", "pylint": "too-many-nested-blocks", "bandit": ""},
    "RV305": {"ruff": "PLR0912", "pylint": "too-many-branches", "bandit": ""},
    "RV306": {"ruff": "PLR0911", "pylint": "too-many-return-statements", "bandit": ""},
    "RV401": {
        "ruff": "D100,D101,D102,D103",
        "pylint": "missing-module-docstring,missing-class-docstring,missing-function-docstring",
        "bandit": "",
    },
    "RV402": {"ruff": "ANN001,ANN201", "pylint": "", "bandit": ""},
    "RV501": {"ruff": "T201", "pylint": "bad-builtin", "bandit": ""},
    "RV601": {"ruff": "S307,S102", "pylint": "eval-used,exec-used", "bandit": "B307,B102"},
    "RV602": {"ruff": "S602,S604,S605", "pylint": "", "bandit": "B602,B604,B605"},
    "RV603": {"ruff": "S608", "pylint": "", "bandit": "B608"},
    "RV604": {"ruff": "S301,S302", "pylint": "", "bandit": "B301,B302"},
    "RV605": {"ruff": "S506", "pylint": "", "bandit": "B506"},
    "RV606": {"ruff": "S105,S106,S107", "pylint": "", "bandit": "B105,B106,B107"},
    "RV607": {"ruff": "S101", "pylint": "", "bandit": "B101"},
}


def codes(peer: str) -> list[str]:
    """Every equivalent check of one peer, in rule order."""
    out: list[str] = []
    for eq in EQUIVALENTS.values():
        out.extend(c for c in eq[peer].split(",") if c and c not in out)
    return out


# -- measuring -------------------------------------------------------------------------------
@dataclass
class Timing:
    """The wall times of repeated runs of one command."""

    label: str
    runs: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + system seconds, children included
    output_lines: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    def spread(self) -> str:
        if len(self.runs) < 2:
            return "1 run"
        return f"{min(self.runs):.2f}-{max(self.runs):.2f} ({len(self.runs)} runs)"


def run_timed(
    cmd: Sequence[str], cwd: Path, out: Path, ok: Sequence[int] = (0, 1)
) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``cmd`` with stdout to ``out``.

    CPU is user + system time of the process and every child it waited for (worker
    processes included): less sensitive than wall time to other load on the machine.
    Exits on an unexpected exit code.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with out.open("wb") as fh:
        start = time.perf_counter()
        proc = subprocess.run(
            list(cmd), cwd=cwd, stdout=fh, stderr=subprocess.PIPE, env=tool_env(), check=False
        )
        elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in ok:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        sys.exit(f"{cmd[0]} exited {proc.returncode}: {err[-1] if err else ''}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def measure(
    label: str,
    cmd: Sequence[str],
    cwd: Path,
    repeat: int,
    before: Callable[[int], None] | None = None,
    ok: Sequence[int] = (0, 1),
) -> Timing:
    """Run ``cmd`` ``repeat`` times (``before(i)`` untimed first) and collect the times."""
    timing = Timing(label)
    out = cwd.parent / f".out-{label.split()[0]}.txt"
    for i in range(repeat):
        if before is not None:
            before(i)
        wall, cpu = run_timed(cmd, cwd, out, ok)
        timing.runs.append(wall)
        timing.cpu.append(cpu)
    timing.output_lines = sum(1 for _ in out.open("rb"))
    out.unlink()
    print(f"  {label:<44} median {timing.median:7.3f} s  {timing.spread()}"
          f"  CPU {timing.cpu_median:.2f} s", flush=True)
    return timing


def tool_env() -> dict[str, str]:
    """The environment every tool runs in: no colour, not inside pre-commit, bytecode
    cached as in a normal installation."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PRE_COMMIT") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(NO_COLOR="1", LC_ALL="C.UTF-8")
    return env


def compile_bytecode() -> None:
    """Byte-compile the reviewer package, as ``pip install`` does for every package (an
    editable checkout may have none, e.g. under PYTHONDONTWRITEBYTECODE)."""
    import reviewer

    package = Path(reviewer.__file__).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True,
                   stdout=subprocess.DEVNULL)


def tool(name: str) -> str:
    """A console script next to this interpreter (the project venv), else on PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        sys.exit(f"{name} is not installed (pip install -e '.[dev]')")
    return found


def version(name: str) -> str:
    """The first line of ``name --version``."""
    proc = subprocess.run([tool(name), "--version"], capture_output=True, text=True, check=False)
    return (proc.stdout or proc.stderr).strip().splitlines()[0]


# -- corpora and work trees ------------------------------------------------------------------
def ensure_corpora(perf: Path) -> Path:
    """The perf corpora folder (``perf/src/<name>``), built by perf_corpus.sh when missing."""
    if not (perf / "src" / "django" / "django").is_dir() or not (perf / "src" / "flask").is_dir():
        print(f"building the perf corpora in {perf} (perf_corpus.sh)", flush=True)
        # The script calls `pip download`: put this interpreter's pip first on PATH.
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
               f"{os.environ.get('PATH', '')}"}
        subprocess.run(["bash", str(SHARED_EVAL / "perf_corpus.sh"), str(perf)], check=True,
                       env=env)
    return perf / "src"


def git(cwd: Path, *args: str) -> None:
    """Run git quietly in ``cwd`` with a fixed identity."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=cwd, env=env,
                   check=True, capture_output=True)


def git_tree(dest: Path, copies: dict[str, Path]) -> Path:
    """A git repository at ``dest`` (one commit) holding copies of folders; reused if present.

    ``copies`` maps a name inside ``dest`` ("" for ``dest`` itself) to the folder to copy.
    """
    if (dest / ".bench-ready").exists():
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    for name, src in copies.items():
        shutil.copytree(src, dest / name if name else dest, symlinks=True)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "corpus")
    with (dest / ".git" / "info" / "exclude").open("a") as fh:
        fh.write(".bench-ready\n.reviewer/\n.ruff_cache/\n")
    (dest / ".bench-ready").write_text("")
    return dest


def count_lines(folder: Path) -> tuple[int, int]:
    """(Python files, lines) under ``folder``."""
    files = lines = 0
    for path in folder.rglob("*.py"):
        files += 1
        with path.open("rb") as fh:
            lines += sum(1 for _ in fh)
    return files, lines


# -- scenarios -------------------------------------------------------------------------------
@dataclass
class Report:
    """Everything the table needs."""

    machine: dict[str, str]
    corpus: str
    cold: dict[str, Timing] = field(default_factory=dict)
    # The same files for reviewer and ruff: the package's Python files only.
    python_only: dict[str, Timing] = field(default_factory=dict)
    python_files: int = 0
    other_files: int = 0  # files of the package reviewer reviews and ruff does not (JS)
    warm: dict[str, Timing] = field(default_factory=dict)
    staged: Timing | None = None
    staged_note: str = ""
    floor: float | None = None
    floor_cpu: float | None = None
    cpu: dict[str, float] = field(default_factory=dict)
    # The growth check: (functions, Timing) of the N and 4N generated trees.
    scaling: list[tuple[int, Timing]] = field(default_factory=list)
    record_share: float | None = None  # recording's share of the cold run's CPU (in-process)


def peer_commands(target: str) -> dict[str, list[str]]:
    """The peers' command lines on folder ``target`` (relative to the tree root)."""
    jobs = str(os.cpu_count() or 1)
    return {
        "ruff": [tool("ruff"), "check", "--isolated", "--no-cache", "--preview",
                 "--output-format", "concise", "--exit-zero", "--select",
                 ",".join(codes("ruff")), target],
        "bandit": [tool("bandit"), "-r", "-q", target],
        "bandit-equivalent": [tool("bandit"), "-r", "-q", "-t", ",".join(codes("bandit")),
                              target],
        "pylint": [tool("pylint"), f"-j{jobs}", "--disable=all",
                   "--load-plugins=pylint.extensions.mccabe,pylint.extensions.bad_builtin",
                   "--bad-functions=print", "--enable=" + ",".join(codes("pylint")),
                   "--score=n", "--exit-zero", target],
    }


def cold_and_warm(tree: Path, report: Report, repeat: int, peers: list[str]) -> None:
    """``check --all`` cold and warm on the django package, and the peers on the same tree."""
    reviewer = [tool("reviewer"), "check", "--all", "--format", "json"]
    cache = tree / ".reviewer"

    def clear_cache(_i: int) -> None:
        shutil.rmtree(cache, ignore_errors=True)

    print(f"cold cache, {report.corpus}", flush=True)
    report.cold["reviewer"] = measure("reviewer check --all (cold)", reviewer, tree, repeat,
                                      before=clear_cache)
    commands = peer_commands("django")
    slow = max(1, min(repeat, 3))  # bandit and pylint take minutes; fewer runs suffice
    for peer in peers:
        if peer == "ruff":
            report.cold["ruff"] = measure("ruff check (equivalent rules)", commands["ruff"],
                                          tree, repeat)
        elif peer == "bandit":
            report.cold["bandit"] = measure("bandit -r (all tests)", commands["bandit"], tree,
                                            slow)
            report.cold["bandit-equivalent"] = measure(
                "bandit -r -t (equivalent tests)", commands["bandit-equivalent"], tree, 1)
        elif peer == "pylint":
            report.cold["pylint"] = measure("pylint (equivalent checks)", commands["pylint"],
                                            tree, 1, ok=range(0, 64))
    python_only(tree, report, repeat, "ruff" in peers)
    print("warm cache (nothing changed)", flush=True)
    run_timed(reviewer, tree, tree.parent / ".out-prime.txt")  # make sure the cache exists
    report.warm["reviewer"] = measure("reviewer check --all (warm)", reviewer, tree,
                                      quick_runs(repeat))
    if "ruff" in peers:
        ruff_cached = [c for c in commands["ruff"] if c != "--no-cache"]
        run_timed(ruff_cached, tree, tree.parent / ".out-prime.txt")
        report.warm["ruff"] = measure("ruff check (its own cache)", ruff_cached, tree,
                                      quick_runs(repeat))
    (tree.parent / ".out-prime.txt").unlink(missing_ok=True)


def quick_runs(repeat: int) -> int:
    """Runs of a sub-second scenario: at least 11, so that the median is not one of a
    handful of runs on a machine whose CPU time varies by a third from run to run."""
    return max(repeat, 11)


def python_files(tree: Path) -> list[str]:
    """The Python files of the django package, relative to ``tree``, sorted."""
    return sorted(p.relative_to(tree).as_posix() for p in (tree / "django").rglob("*.py"))


def python_only(tree: Path, report: Report, repeat: int, with_ruff: bool) -> None:
    """Cold reviewer and ruff given the same explicit list of Python files (``--all`` also
    reviews the package's JavaScript, which ruff does not read)."""
    files = python_files(tree)
    report.python_files = len(files)
    report.other_files = sum(
        1 for p in (tree / "django").rglob("*") if p.suffix in (".js", ".mjs", ".cjs", ".ts"))
    cache = tree / ".reviewer"

    def clear_cache(_i: int) -> None:
        shutil.rmtree(cache, ignore_errors=True)

    print(f"cold cache, the same {len(files)} Python files for both", flush=True)
    report.python_only["reviewer"] = measure(
        "reviewer check PATHS (cold, Python only)",
        [tool("reviewer"), "check", "--format", "json", *files], tree, repeat,
        before=clear_cache)
    if with_ruff:
        ruff = [c for c in peer_commands("django")["ruff"] if c != "django"]
        report.python_only["ruff"] = measure("ruff check PATHS (Python only)", [*ruff, *files],
                                             tree, repeat)


def parse_floor(package: Path) -> tuple[float, float]:
    """Seconds to read and ``ast.parse`` every file with one process per core (no startup),
    and the CPU seconds of the whole process (interpreter start included)."""
    code = (
        "import ast,os,sys,time,warnings\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "import multiprocessing as mp\n"
        "def parse(paths):\n"
        "    warnings.simplefilter('ignore')\n"
        "    for p in paths:\n"
        "        with open(p,'rb') as fh: ast.parse(fh.read())\n"
        "    return len(paths)\n"
        "if __name__=='__main__':\n"
        "    files=sorted(str(p) for p in __import__('pathlib').Path(sys.argv[1]).rglob('*.py'))\n"
        "    n=os.cpu_count() or 1\n"
        "    t=time.perf_counter()\n"
        "    with ProcessPoolExecutor(n, mp_context=mp.get_context('fork')) as ex:\n"
        "        list(ex.map(parse,[files[i::n*8] for i in range(n*8)]))\n"
        "    print(time.perf_counter()-t)\n"
    )
    runs, cpu = [], []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run([sys.executable, "-c", code, str(package)], capture_output=True,
                             text=True, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        runs.append(float(out.stdout))
        cpu.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return statistics.median(runs), statistics.median(cpu)


def breakdown(package: Path) -> dict[str, float]:
    """CPU seconds of each stage and each rule over every file, in this one process.

    The same steps as a worker of ``check`` (read, parse, index, each rule without its
    libcst fixes, suppressions and fingerprints), timed separately with the cyclic GC off
    as in the workers.
    """
    import ast
    import gc
    import warnings

    from reviewer import engine
    from reviewer.config import Config
    from reviewer.findings import Finding
    from reviewer.languages.python import PyContext
    from reviewer.suppressions import apply_inline

    rules = [r for r in engine.selected_rules(Config()) if r.language == "python"]
    times: dict[str, float] = {"read": 0.0, "parse": 0.0, "index": 0.0}
    times.update({r.id: 0.0 for r in rules})
    times["suppressions + fingerprints"] = 0.0
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for path in sorted(package.rglob("*.py")):
            rel = path.relative_to(package.parent).as_posix()
            t0 = time.process_time()
            source = path.read_bytes().decode("utf-8")
            t1 = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(source, filename=rel)
            t2 = time.process_time()
            ctx = PyContext(rel, source, tree, want_fixes=False)  # as check runs
            t3 = time.process_time()
            times["read"] += t1 - t0
            times["parse"] += t2 - t1
            times["index"] += t3 - t2
            found: list[Finding] = []
            for rule in rules:
                t = time.process_time()
                found.extend(rule.check(ctx))
                times[rule.id] += time.process_time() - t
            t = time.process_time()
            kept, _unused = apply_inline(found, source, rel)
            engine.add_fingerprints(kept, source)
            times["suppressions + fingerprints"] += time.process_time() - t
    finally:
        if was_enabled:
            gc.enable()
    return times


def render_breakdown(times: dict[str, float]) -> str:
    """The CPU breakdown as a Markdown table, rules sorted by cost."""
    total = sum(times.values())
    stages = ["read", "parse", "index"]
    rules = sorted((k for k in times if k.startswith("RV")), key=lambda k: -times[k])
    rows = [*stages, "rules (all)", *rules, "suppressions + fingerprints"]
    rule_total = sum(times[k] for k in rules)
    lines = ["| stage | CPU s | share |", "|---|---:|---:|"]
    for row in rows:
        t = rule_total if row == "rules (all)" else times[row]
        name = f"&nbsp;&nbsp;{row}" if row.startswith("RV") else row
        lines.append(f"| {name} | {t:.3f} | {100 * t / total:.0f}% |")
    lines.append(f"| **total** | {total:.3f} | |")
    return "\n".join(lines) + "\n"


STAGED_FILES = 5
CHANGE = '''

def _bench_change_{n}(items=[], *, verbose=False):
    """A change as a developer might stage it (iteration {n})."""
    if verbose:
        print("adding", {n})
    items.append({n})
    return items
'''


def staged(repo: Path, report: Report, repeat: int) -> None:
    """``reviewer check --staged`` on 5 changed flask modules in a real git repository."""
    modules = sorted(
        (p for p in (repo / "src" / "flask").rglob("*.py")), key=lambda p: -p.stat().st_size
    )[:STAGED_FILES]
    rels = [p.relative_to(repo).as_posix() for p in modules]
    originals = {rel: (repo / rel).read_text() for rel in rels}
    reviewer = [tool("reviewer"), "check", "--staged"]
    lines = sum(text.count("\n") for text in originals.values())

    def change(i: int) -> None:
        for rel, text in originals.items():
            (repo / rel).write_text(text + CHANGE.format(n=i))
        git(repo, "add", "--", *rels)

    run_timed([tool("reviewer"), "check", "--all", "-q"], repo, repo.parent / ".out-prime.txt")
    (repo.parent / ".out-prime.txt").unlink(missing_ok=True)
    print(f"pre-commit: {STAGED_FILES} staged flask files ({lines} lines)", flush=True)
    try:
        report.staged = measure("reviewer check --staged", reviewer, repo,
                                quick_runs(repeat), before=change)
    finally:
        for rel, text in originals.items():
            (repo / rel).write_text(text)
        git(repo, "add", "--", *rels)
    report.staged_note = f"{STAGED_FILES} files, {lines} lines: " + ", ".join(
        r.removeprefix("src/") for r in rels)


# -- growth -----------------------------------------------------------------------------------
SCALING_FUNC = '''
def handler_{i}(item, seen=[]):
    try:
        seen.append(int(item))
    except:
        print("bad item", item)
    return seen
'''


def scaling_tree(dest: Path, funcs: int, per_file: int = 200) -> Path:
    """A git repository of generated code full of findings (as ../shared/tools/
    scaling_check.py builds it): ``funcs`` functions, four findings each."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    git(dest, "init", "-q")
    for f in range(0, funcs, per_file):
        body = "".join(SCALING_FUNC.format(i=i) for i in range(f, min(funcs, f + per_file)))
        (dest / f"mod_{f // per_file:04d}.py").write_text(body)
    git(dest, "add", "-A")
    return dest


def scaling(work: Path, report: Report, repeat: int, n: int = 1000) -> None:
    """Cold ``check --all --format json`` (findings recorded) on N and 4N functions, in this
    one benchmark run: linear cost gives a ratio near 4."""
    print(f"growth: {n} and {4 * n} generated functions", flush=True)
    for funcs in (n, 4 * n):
        tree = scaling_tree(work / f"scaling-{funcs}", funcs)
        cmd = [tool("reviewer"), "check", "--all", "--format", "json"]

        def clear(_i: int, tree: Path = tree) -> None:
            shutil.rmtree(tree / ".reviewer", ignore_errors=True)

        timing = measure(f"check --all, {funcs} functions", cmd, tree, repeat, before=clear)
        report.scaling.append((funcs, timing))


RECORD_REPEAT = 5  # recording's cost varies by a third from one try to the next: the median


def record_share(package: Path) -> float:
    """Recording's share of a cold check's CPU time, in this one process (serial, no cache):
    the findings of ``package`` reviewed, then recorded into a fresh verdicts database
    (RECORD_REPEAT times, the median taken)."""
    import tempfile
    from dataclasses import replace

    from reviewer.config import Config
    from reviewer.engine import Job, run
    from reviewer.feedback.snapshot import record_run

    root = package.parent
    files = sorted(p.relative_to(root).as_posix() for p in package.rglob("*.py"))
    cfg = replace(Config(), cache=False, jobs=1)
    t0 = time.process_time()
    result = run(Job(root, files), cfg, use_baseline=False, fixes=False)  # as check runs it
    check = time.process_time() - t0
    costs = []
    for _ in range(RECORD_REPEAT):  # each into a fresh database: a first run every time
        with tempfile.TemporaryDirectory() as d:
            t1 = time.process_time()
            problem = record_run(root, str(Path(d) / "feedback.db"), result.findings, {})
            costs.append(time.process_time() - t1)
        if problem:
            sys.exit(problem)
    cost = statistics.median(costs)
    return cost / (check + cost)


# -- machine ---------------------------------------------------------------------------------
def machine_info() -> dict[str, str]:
    """CPU, cores, memory, OS, Python and tool versions, and the load when measured."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "reviewer": version("reviewer"),
        "ruff": version("ruff"),
        "bandit": version("bandit"),
        "pylint": version("pylint"),
        "load before": load,
    }


# -- the table -------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def load_warning(machine: dict[str, str]) -> list[str]:
    """A note when other work shared the machine: a 1-minute load average above half the
    cores before the benchmark started (afterwards it mostly shows the benchmark itself)."""
    cores = os.cpu_count() or 1
    load = float(machine.get("load before", "0").split()[0])
    if load <= cores / 2:
        return []
    return [
        f"**Measured under load**: the 1-minute load average was {load:.1f} on {cores} "
        "cores before the run (other work was running), so wall times are inflated and "
        "reviewer loses part of its parallel speed-up; the CPU column is the steadier "
        "comparison.",
        "",
    ]


def render(report: Report) -> str:
    """The speed section of docs/benchmarks.md (Markdown)."""
    cold, warm = report.cold, report.warm
    rev = cold["reviewer"].median
    lines = [
        f"Measured {report.machine['date']} by `python bench/speed.py` on "
        f"{report.corpus}.",
        "",
        *load_warning(report.machine),
        "| scenario | tool | median wall (s) | range | median CPU (s) | output lines |",
        "|---|---|---:|---|---:|---:|",
    ]
    rows = [("`check --all`, cold", t) for t in cold.values()]
    rows += [("nothing changed", t) for t in warm.values()]
    if report.staged:
        rows.append(("pre-commit, 5 staged flask files", report.staged))
    for scenario, t in rows:
        lines.append(f"| {scenario} | {t.label} | {t.median:.3f} | {t.spread()} "
                     f"| {t.cpu_median:.2f} | {t.output_lines} |")
        if scenario.startswith("`check --all`") and t is list(cold.values())[-1]:
            for same in report.python_only.values():
                lines.append(f"| same {report.python_files} Python files, cold | {same.label} "
                             f"| {same.median:.3f} | {same.spread()} | {same.cpu_median:.2f} "
                             f"| {same.output_lines} |")
    if report.floor is not None:
        lines.append(f"| floor | read + `ast.parse` of the same Python files only, "
                     f"{os.cpu_count()} processes, no start-up | {report.floor:.3f} "
                     f"| 3 runs | {report.floor_cpu or 0:.2f} | |")
    rev_cpu = cold["reviewer"].cpu_median
    lines += ["", "| target (issues 2, 10) | measured (wall) | | CPU ratio |", "|---|---|---|---|"]
    if "ruff" in cold:
        r = rev / cold["ruff"].median
        lines.append(f"| cold `check --all` <= 3x ruff (reviewer also reviews "
                     f"{report.other_files} JS files) | reviewer/ruff = {r:.1f}x "
                     f"| {verdict(r <= 3)} | {rev_cpu / cold['ruff'].cpu_median:.1f}x |")
    same = report.python_only
    if "ruff" in same and "reviewer" in same:
        r = same["reviewer"].median / same["ruff"].median
        c = same["reviewer"].cpu_median / same["ruff"].cpu_median
        lines.append(f"| the same {report.python_files} Python files <= 3x ruff "
                     f"| reviewer/ruff = {r:.1f}x | {verdict(r <= 3)} | {c:.1f}x |")
        if report.floor is not None and report.floor_cpu:
            lines.append(f"| floor (read + `ast.parse` only) vs ruff, same files "
                         f"| floor/ruff = {report.floor / same['ruff'].median:.1f}x; "
                         f"reviewer/floor = {same['reviewer'].median / report.floor:.1f}x "
                         f"| | floor/ruff {report.floor_cpu / same['ruff'].cpu_median:.1f}x; "
                         f"reviewer/floor {same['reviewer'].cpu_median / report.floor_cpu:.1f}x |")
    if "bandit" in cold:
        b = cold["bandit"].median / rev
        lines.append(f"| >= 5x faster than bandit | bandit/reviewer = {b:.1f}x "
                     f"| {verdict(b >= 5)} | {cold['bandit'].cpu_median / rev_cpu:.1f}x |")
    if "pylint" in cold:
        lines.append(f"| pylint (no target) | pylint/reviewer = "
                     f"{cold['pylint'].median / rev:.1f}x | "
                     f"| {cold['pylint'].cpu_median / rev_cpu:.1f}x |")
    if "reviewer" in warm:
        w = warm["reviewer"].median
        lines.append(f"| nothing changed < 0.3 s | {w:.3f} s | {verdict(w < 0.3)} | |")
    if report.staged:
        s = report.staged.median
        lines.append(f"| 5 staged files < 0.25 s | {s:.3f} s | {verdict(s < 0.25)} | |")
    if report.staged_note:
        lines += ["", f"Staged files: {report.staged_note}."]
    if report.scaling:
        (f1, t1), (f4, t4) = report.scaling
        ratio, cpu_ratio = t4.median / t1.median, t4.cpu_median / t1.cpu_median
        lines += ["", "Growth (generated code as `../shared/tools/scaling_check.py` builds it, "
                  "cold `check --all --format json`, findings recorded; one benchmark run):",
                  "", "| generated functions | median wall (s) | median CPU (s) |",
                  "|---:|---:|---:|",
                  f"| {f1:,} | {t1.median:.3f} | {t1.cpu_median:.2f} |",
                  f"| {f4:,} | {t4.median:.3f} | {t4.cpu_median:.2f} |",
                  "", f"4x the work: {ratio:.2f}x the wall time, {cpu_ratio:.2f}x the CPU "
                  f"(linear ~4, bar 6): {verdict(ratio <= 6)}."]
    if report.record_share is not None:
        lines += ["", f"Recording the findings for `reviewer feedback` (cold, every finding of "
                  f"the package new): {100 * report.record_share:.1f}% of the check's CPU "
                  f"in one process, the median of {RECORD_REPEAT} recordings (target <= 5%): "
                  f"{verdict(report.record_share <= 0.05)}."]
    if report.cpu:
        lines += ["", "Where the CPU time goes (one process, every file of the package, "
                  "CPU time, cyclic GC off as in the workers, no libcst fixes as in `check`):",
                  "", render_breakdown(report.cpu)]
    lines += ["", "Machine:", ""]
    lines += [f"- {k}: {v}" for k, v in report.machine.items()]
    lines += ["", "Equivalent checks the peers ran with:", "", render_equivalents()]
    return "\n".join(lines)


def render_equivalents() -> str:
    """The rule mapping the peers run with, as a Markdown table."""
    lines = ["| reviewer | ruff | pylint | bandit |", "|---|---|---|---|"]
    for rid, eq in EQUIVALENTS.items():
        cells = [eq[p].replace(",", ", ") or "-" for p in ("ruff", "pylint", "bandit")]
        lines.append(f"| {rid} | {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


def write_doc(section: str) -> None:
    """Replace the text between the speed markers in docs/benchmarks.md (create it if new)."""
    if DOC.exists():
        text = DOC.read_text()
    else:
        text = ("# Benchmarks\n\n## Speed\n\n" + BEGIN + "\n" + END +
                "\n\n## Accuracy\n\n(filled in by bench/accuracy.py)\n")
    if BEGIN not in text or END not in text:
        sys.exit(f"{DOC} has no {BEGIN} ... {END} markers; add them where the table goes")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(head + BEGIN + "\n" + section + END + tail)
    print(f"updated {DOC.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs per measurement (median)")
    ap.add_argument("--peers", default="ruff,bandit,pylint",
                    help="comma-separated peers to run (ruff, bandit, pylint; '' for none)")
    ap.add_argument("--work", type=Path, default=HERE / ".work")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    ap.add_argument("--quick", action="store_true", help="3 runs, ruff only (for development)")
    a = ap.parse_args(argv)
    peers = [p for p in a.peers.split(",") if p]
    repeat = a.repeat
    if a.quick:
        repeat, peers = 3, ["ruff"]
    if unknown := set(peers) - {"ruff", "bandit", "pylint"}:
        sys.exit(f"unknown peer(s): {', '.join(sorted(unknown))}")
    work = a.work.resolve()
    src = ensure_corpora(work / "perf")
    compile_bytecode()
    speed = work / "speed"
    speed.mkdir(parents=True, exist_ok=True)
    django = git_tree(speed / "django-tree", {"django": src / "django" / "django"})
    flask = git_tree(speed / "flask-repo", {"": src / "flask"})
    files, lines = count_lines(django / "django")

    report = Report(machine_info(), f"django/ ({files} Python files, {lines:,} lines)")
    cold_and_warm(django, report, repeat, peers)
    staged(flask, report, repeat)
    scaling(speed, report, max(1, min(repeat, 3)))
    report.floor, report.floor_cpu = parse_floor(django / "django")
    report.record_share = record_share(django / "django")
    report.cpu = breakdown(django / "django")
    report.machine["load after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    section = render(report)
    print()
    print(section)
    if a.write:
        write_doc(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
