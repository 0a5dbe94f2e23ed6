"""Speed on JavaScript/TypeScript and Go, with ESLint and ``go vet`` in the same run.

Scenarios (issue 14):

* cold ``check`` (no cache, all cores) on JavaScript from npm packages (``npm pack``
  rxjs 7.8.1, lodash 4.17.21, date-fns 2.30.0 into bench/.work/npm), and ESLint 9 (npm,
  bench/.work/eslint) with the equivalent core rules on the same .js/.mjs/.cjs files,
  cold (no ``--cache``), ``--concurrency auto``. TypeScript files (ESLint core cannot
  parse them) are timed for the reviewer alone. Target: >= 3x faster than ESLint.
* a 5-file staged JavaScript change (five of rxjs's CommonJS operator modules) in a
  real git repository, ``reviewer check --staged``
  as a subprocess (process start included): target < 0.3 s; and the unchanged re-run of a
  cold run with the cache: target < 0.3 s.
* Go: the reviewer on Debian's golang sources (/usr/lib/go/src: encoding/, net/http/,
  testdata left out) and ``go vet`` on the same packages (fresh GOCACHE: cold).

Every figure is the median of ``--repeat`` runs (perf_counter around a subprocess), with
the mean CPU seconds (user + system, children included) in brackets.
Usage: python bench/speed_js_go.py [--repeat N] [--write]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
NPM = WORK / "npm"
ESLINT = WORK / "eslint" / "node_modules" / ".bin" / "eslint"
PACKAGES = ("rxjs@7.8.1", "lodash@4.17.21", "date-fns@2.30.0")
GOROOT_SRC = Path("/usr/lib/go/src")
GO_PACKAGES = ("encoding", "net/http")
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- speed-js-go:begin -->", "<!-- speed-js-go:end -->"
JS_EXT = (".js", ".mjs", ".cjs")
TS_EXT = (".ts", ".mts", ".cts")
MAX_SIZE = 1_000_000  # the reviewer's default max_file_size: larger files are skipped

ESLINT_CONFIG = """\
export default [{
  files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
  linterOptions: { reportUnusedDisableDirectives: "off" },
  rules: {
    complexity: ["warn", 10], "max-params": ["warn", 5], "max-depth": ["warn", 5],
    "max-statements": ["warn", 50], "no-eval": "warn", "no-implied-eval": "warn",
    "no-new-func": "warn", "no-console": "warn", "no-empty": "warn",
    "no-throw-literal": "warn", "no-implicit-globals": "warn", "no-global-assign": "warn",
  },
}];
"""
JS_RULES = "RV104,RV203,RV204,RV301,RV302,RV303,RV304,RV306,RV501,RV601,RV602,RV603,RV606"


# CPU seconds (user + system) of the commands run by sh(), children included: the wall
# times of a loaded shared machine mostly measure the wait for a core.
CPU = [0.0]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sh(cmd: list[str], cwd: Path, env: dict[str, str] | None = None,
       ok: tuple[int, ...] = (0, 1)) -> float:
    """Seconds one command takes (its CPU seconds are added to ``CPU``); exits when it fails."""
    start, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    took = time.perf_counter() - start
    CPU[0] += _children_cpu() - cpu
    if proc.returncode not in ok:
        sys.exit(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.strip()[-1500:]}")
    return took


def median(f: object, n: int) -> float:
    """The median wall time of ``n`` runs; their mean CPU time is left in ``CPU_LAST``."""
    CPU[0] = 0.0
    result = statistics.median(f() for _ in range(n))  # type: ignore[operator]
    CPU_LAST[0] = CPU[0] / n
    return result


CPU_LAST = [0.0]


def cpu() -> str:
    """`` (CPU 1.23 s)`` for the last :func:`median`."""
    return f" (CPU {CPU_LAST[0]:.2f} s)"


def fetch_npm() -> Path:
    """The unpacked npm packages (``npm pack`` once)."""
    NPM.mkdir(parents=True, exist_ok=True)
    for spec in PACKAGES:
        name = spec.replace("@", "-", 1) if not spec.startswith("@") else spec
        folder = NPM / name
        if folder.is_dir():
            continue
        subprocess.run(["npm", "pack", spec], cwd=NPM, check=True, capture_output=True)
        folder.mkdir()
        subprocess.run(["tar", "xzf", str(NPM / f"{name}.tgz"), "-C", str(folder)], check=True)
    if not ESLINT.exists():
        (WORK / "eslint").mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "eslint@9"],
                       cwd=WORK / "eslint", check=True, capture_output=True)
    return NPM


def files_under(root: Path, ext: tuple[str, ...]) -> list[str]:
    out = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name.endswith(ext) and p.stat().st_size <= MAX_SIZE \
                and "testdata" not in p.parts and "node_modules" not in p.parts:
            out.append(str(p.relative_to(root)))
    return out


def reviewer_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "reviewer", "check", "--format", "json", "--no-baseline",
            "--fail-on", "high", "--diff-filter", "none", *args]


def env_for(root: Path) -> dict[str, str]:
    return {**os.environ, "PRE_COMMIT": "", "GIT_CEILING_DIRECTORIES": str(root.parent)}


def js_scenarios(repeat: int, rows: list[tuple[str, str, str]]) -> None:
    src = fetch_npm()
    tree = WORK / "speed-js" / "tree"
    if tree.exists():
        shutil.rmtree(tree)
    tree.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, tree, ignore=shutil.ignore_patterns("*.tgz"))
    js = files_under(tree, JS_EXT)
    ts = files_under(tree, TS_EXT)
    lines = sum(len((tree / f).read_bytes().splitlines()) for f in js)
    env = env_for(tree)
    (tree / "eslint.config.mjs").write_text(ESLINT_CONFIG)
    chunks = [js[i:i + 2000] for i in range(0, len(js), 2000)]

    def eslint() -> float:
        return sum(sh([str(ESLINT), "--no-config-lookup", "-c", "eslint.config.mjs",
                       "--concurrency", "auto", "--no-warn-ignored", "-f", "json", *c],
                      tree, env, ok=(0, 1)) for c in chunks)

    def rv_js() -> float:
        return sum(sh(reviewer_cmd("--no-cache", "--select", JS_RULES, "--", *c), tree, env)
                   for c in chunks)

    def rv_ts() -> float:
        return sh(reviewer_cmd("--no-cache", "--", *ts), tree, env)

    t_es = median(eslint, repeat)
    c_es = CPU_LAST[0]
    t_rv = median(rv_js, repeat)
    c_rv = CPU_LAST[0]
    rows.append((f"JS cold, {len(js)} files ({lines} lines), all cores",
                 f"reviewer {t_rv:.2f} s{cpu()}, ESLint {t_es:.2f} s (CPU {c_es:.2f} s)",
                 f"{t_es / t_rv:.1f}x faster wall, {c_es / c_rv:.1f}x CPU (target >= 3x)"))
    t_ts = median(rv_ts, repeat)
    rows.append((f"TS cold, {len(ts)} files (reviewer only)", f"reviewer {t_ts:.2f} s{cpu()}",
                 ""))

    # Unchanged re-run: a cached run over the JS files of one package.
    one = [f for f in js if f.startswith("lodash")]
    sh(reviewer_cmd("--", *one), tree, env)
    t_warm = median(lambda: sh(reviewer_cmd("--", *one), tree, env), repeat)
    rows.append((f"unchanged re-run, {len(one)} files, cache", f"reviewer {t_warm:.2f} s{cpu()}",
                 "target < 0.3 s"))

    # A 5-file staged change in a real git repository.
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        repo = Path(tmp)
        git = ["git", "-c", "user.name=b", "-c", "user.email=b@b"]
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
        # Five ordinary modules (rxjs's CommonJS operators), not its bundles.
        picked = [f for f in js if "/dist/cjs/internal/operators/" in f][:5]
        for i in range(len(picked)):
            (repo / f"f{i}.js").write_text("// base\n")
        subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
        subprocess.run([*git, "commit", "-qm", "base"], cwd=repo, check=True)
        for i, f in enumerate(picked):
            (repo / f"f{i}.js").write_bytes((tree / f).read_bytes())
        subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
        cmd = [sys.executable, "-m", "reviewer", "check", "--staged", "--no-cache",
               "--format", "json"]
        t_staged = median(lambda: sh(cmd, repo, {**os.environ, "PRE_COMMIT": ""}), repeat)
    rows.append(("5-file staged JS change, process start included",
                 f"reviewer {t_staged:.2f} s{cpu()}",
                 "target < 0.3 s"))


def go_scenarios(repeat: int, rows: list[tuple[str, str, str]]) -> None:
    if not GOROOT_SRC.is_dir() or shutil.which("go") is None:
        rows.append(("Go", "skipped: no golang at /usr/lib/go", ""))
        return
    tree = WORK / "speed-go" / "tree"
    if tree.exists():
        shutil.rmtree(tree)
    for pkg in GO_PACKAGES:
        shutil.copytree(GOROOT_SRC / pkg, tree / pkg,
                        ignore=shutil.ignore_patterns("testdata"))
    files = files_under(tree, (".go",))
    lines = sum(len((tree / f).read_bytes().splitlines()) for f in files)
    env = env_for(tree)

    def vet() -> float:
        with tempfile.TemporaryDirectory() as cache:
            return sh(["go", "vet", *(f"{p}/..." for p in GO_PACKAGES)], GOROOT_SRC,
                      {**os.environ, "GOCACHE": cache, "GOFLAGS": ""}, ok=(0, 1))

    t_rv = median(lambda: sh(reviewer_cmd("--no-cache", "--", *files), tree, env), repeat)
    c_rv = cpu()
    t_vet = median(vet, repeat)
    rows.append((f"Go cold, {len(files)} files ({lines} lines) of encoding/, net/http/",
                 f"reviewer {t_rv:.2f} s{c_rv}, go vet {t_vet:.2f} s{cpu()}",
                 f"{t_vet / t_rv:.1f}x (go vet type-checks)"))


def table(rows: list[tuple[str, str, str]]) -> str:
    out = ["| scenario | time (median) | versus |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args(argv)
    rows: list[tuple[str, str, str]] = []
    js_scenarios(a.repeat, rows)
    go_scenarios(a.repeat, rows)
    text = table(rows)
    print(text)
    if a.write:
        doc = DOC.read_text(encoding="utf-8")
        block = f"{BEGIN}\n{text}\n{END}"
        if BEGIN in doc:
            head, rest = doc.split(BEGIN, 1)
            doc = head + block + rest.split(END, 1)[1]
        else:
            doc = doc.rstrip("\n") + "\n\n## JavaScript, TypeScript and Go\n\n" + block + "\n"
        DOC.write_text(doc, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
