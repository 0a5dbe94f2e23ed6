"""Held-out security suite: semgrep-rules' annotated Python tests, scored per kind.

The suite is not in the repository (its licence forbids redistribution). Rebuild it by
copying the Python test files of semgrep/semgrep-rules (``python/lang/security/``,
``python/django/security/``, ``python/flask/security/``, ``python/sqlalchemy/security/``,
``python/jwt/security/``, ``python/boto3/security/``, ``python/requests/security/``; each
``foo.py`` next to its ``foo.yaml``) into one folder and pass it as ``--suite``. Which
files, and which of two same-named files (django's and flask's ``user-eval.py``...), is in
bench/heldout_security_files.txt: copy them flat, under their file names, since the halves
alternate by name (another layout or file set moves files between the halves). A suite
whose ``.py`` names differ from that list is scored all the same, with the difference
printed.

A test file marks lines with ``# ruleid: <id>`` (what follows must be flagged) and
``# ok: <id>`` (what follows must not be); a bare ``# ok`` belongs to the file's rule.
What follows an annotation is its *statement group*: the next lines up to a blank line or
the next annotation (semgrep matches the whole statement, which may start with the line
that binds the tainted value). Each semgrep rule id maps to one of our kinds (``KIND``,
the benchmark's table, not the product's); ids with no counterpart are skipped and
counted, and so are the statement groups of semgrep's deserialization audit rules that
only serialize (``pickle.dumps``): the reviewer reports loading data, not writing it.
A ``ruleid`` group is found when a rule of its kind reports a line in it (the finding's
own line or one of its related locations, e.g. where the SQL RV603 reports being built
is run); an ``ok`` group is a false alarm when one does.

The files are split in two by name order (alternate files): ``dev``, whose misses chose
the sinks and fixes, and ``held-out``; both halves are reported (docs/benchmarks.md says
which fixes, if any, a held-out file prompted).
Every file is reviewed with the default configuration through ``engine.review_source``.

Usage: python bench/heldout_security.py --suite DIR [--write] [--show KIND]
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from precision import write_docs as write_block  # noqa: E402

from reviewer import engine  # noqa: E402
from reviewer.config import Config  # noqa: E402

BEGIN, END = "<!-- heldout-security:begin -->", "<!-- heldout-security:end -->"
MANIFEST = HERE / "heldout_security_files.txt"

# our kind -> the rules that report it
RULES: dict[str, frozenset[str]] = {
    "code": frozenset({"RV601"}),
    "command": frozenset({"RV602"}),
    "sql": frozenset({"RV603"}),
    "deserialization": frozenset({"RV604", "RV605"}),
    "yaml": frozenset({"RV605"}),
    "secrets": frozenset({"RV606"}),
}
# semgrep rule id -> our kind
KIND: dict[str, str] = {
    # code
    "eval-detected": "code", "exec-detected": "code", "user-eval": "code",
    "exec-injection": "code", "user-exec": "code", "eval-injection": "code",
    # command execution
    "dangerous-subprocess-use": "command", "dangerous-system-call": "command",
    "dangerous-spawn-process": "command", "dangerous-os-exec": "command",
    "dangerous-asyncio-shell": "command", "dangerous-asyncio-create-exec": "command",
    "dangerous-asyncio-exec": "command", "subprocess-shell-true": "command",
    "command-injection-os-system": "command", "subprocess-injection": "command",
    "os-system-injection": "command",
    # SQL
    "formatted-sql-query": "sql", "sqlite3-sqli": "sql", "psycopg-sqli": "sql",
    "asyncpg-sqli": "sql", "aiopg-sqli": "sql", "pg8000-sqli": "sql",
    "sql-injection-db-cursor-execute": "sql", "sql-injection-using-raw": "sql",
    "sql-injection-using-extra-where": "sql", "sql-injection-using-rawsql": "sql",
    "sqlalchemy-execute-raw-query": "sql", "sqlalchemy-sql-injection": "sql",
    "avoid-sqlalchemy-text": "sql",
    # deserialization
    "avoid-pickle": "deserialization", "avoid-cPickle": "deserialization",
    "avoid-dill": "deserialization", "avoid-shelve": "deserialization",
    "avoid-jsonpickle": "deserialization", "avoid-insecure-deserialization": "deserialization",
    "marshal-usage": "deserialization",
    "avoid-pyyaml-load": "yaml",
    # hard-coded secrets
    "jwt-python-hardcoded-secret": "secrets", "hardcoded-token": "secrets",
    "hardcoded-password-default-argument": "secrets", "password-empty-string": "secrets",
    # (TLS verification off has no Python rule here: RV608 reads JavaScript and Go.)
}
_ANNOTATION = re.compile(r"^#\s*(ruleid|ok)\b\s*:?\s*([\w.,\-]*)")


@dataclass(frozen=True)
class Case:
    path: str
    line: int  # the annotation's line
    expect: bool  # True: ruleid, False: ok
    rule_id: str
    lines: range  # the statement group it covers


def cases(path: Path, rel: str) -> Iterable[Case]:
    """The annotated statement groups of one test file."""
    text = path.read_text(encoding="utf-8").splitlines()
    marks: list[tuple[int, bool, str]] = []
    for i, raw in enumerate(text, 1):
        m = _ANNOTATION.match(raw.strip())
        if m:
            marks.append((i, m.group(1) == "ruleid", m.group(2)))
    named = Counter(r for _, _, r in marks if r)
    default = named.most_common(1)[0][0] if named else path.stem
    starts = {i for i, _, _ in marks}
    for line, expect, ids in marks:
        end = line + 1
        while end <= len(text) and text[end - 1].strip() and end not in starts:
            end += 1
        for rid in (ids or default).split(","):
            yield Case(rel, line, expect, rid.strip(), range(line + 1, end))


def reported(path: Path, rel: str) -> dict[int, set[str]]:
    """line -> the rule ids the reviewer reports there (default configuration)."""
    ids = {r for kind in RULES.values() for r in kind}
    rules = [r for r in engine.selected_rules(Config()) if r.id in ids]
    source = path.read_text(encoding="utf-8")
    out: dict[int, set[str]] = {}
    for f in engine.review_source(rel, source, {"python": rules}, "python").findings:
        for span in (f.span, *f.related):  # related: e.g. where RV603's built SQL is run
            out.setdefault(span.line, set()).add(f.rule_id)
    return out


Halves = dict[str, dict[str, Counter[str]]]


def score(suite: Path, show: str | None) -> tuple[Halves, Counter[str], int, list[str]]:
    """Per half, per kind: tp/fn on ruleid groups, fa/tn on ok groups; skipped ids; the
    number of files; the files Python cannot parse (semgrep's parser is more lenient),
    which are left out."""
    files = sorted(p for p in suite.rglob("*.py") if not p.name.endswith(".fixed.py"))
    halves: Halves = {"dev": {}, "held-out": {}}
    skipped: Counter[str] = Counter()
    broken: list[str] = []
    for n, path in enumerate(files):
        half = "dev" if n % 2 == 0 else "held-out"
        rel = path.relative_to(suite).as_posix()
        text = path.read_text(encoding="utf-8").splitlines()
        try:
            ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError:
            broken.append(rel)
            continue
        found = reported(path, rel)
        for case in cases(path, rel):
            kind = KIND.get(case.rule_id)
            if kind is None:
                skipped[case.rule_id] += 1
                continue
            if kind == "deserialization" and _serializes_only(text, case.lines):
                skipped[f"{case.rule_id} (serializing: dumps/dump)"] += 1
                continue
            hit = any(found.get(i, set()) & RULES[kind] for i in case.lines)
            outcome = ("tp" if hit else "fn") if case.expect else ("fa" if hit else "tn")
            halves[half].setdefault(kind, Counter())[outcome] += 1
            if show == kind and outcome in ("fn", "fa"):
                print(f"{outcome.upper()} [{half}] {rel}:{case.line + 1} {case.rule_id}")
    return halves, skipped, len(files), broken


def manifest_difference(suite: Path) -> tuple[list[str], list[str]]:
    """(names the manifest lists that the suite lacks, names the suite has beyond it)."""
    listed = {
        line.split(" <- ", 1)[0].strip()
        for line in MANIFEST.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    have = {p.name for p in suite.rglob("*.py") if not p.name.endswith(".fixed.py")}
    return sorted(listed - have), sorted(have - listed)


def _serializes_only(text: list[str], lines: range) -> bool:
    """A group that only serializes (``pickle.dumps``, ``marshal.dumps``): semgrep's audit
    rules flag any use of the module, the reviewer reports loading untrusted data only."""
    code = " ".join(text[i - 1] for i in lines if 0 < i <= len(text))
    return bool(re.search(r"\.dumps?\(", code)) and not re.search(r"load|decode|open", code)


def _rate(a: int, b: int) -> str:
    return f"{a / (a + b):.2f}" if a + b else "-"


def rows(halves: Halves) -> list[str]:
    out = ["| kind | half | ruleid | found | recall | ok | flagged | false alarms |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for kind in RULES:
        for half in ("dev", "held-out", "all"):
            c: Counter[str] = Counter()
            for h in (("dev", "held-out") if half == "all" else (half,)):
                c.update(halves[h].get(kind, Counter()))
            if not c:
                continue
            out.append(f"| {kind} | {half} | {c['tp'] + c['fn']} | {c['tp']} | "
                       f"{_rate(c['tp'], c['fn'])} | {c['fa'] + c['tn']} | {c['fa']} | "
                       f"{_rate(c['fa'], c['tn'])} |")
    return out


def write_docs(text: str) -> None:
    write_block(text, BEGIN, END, "## Security rules on a held-out third-party suite")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", type=Path, required=True, help="folder of semgrep test files")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    ap.add_argument("--show", metavar="KIND", help="list the misses and false alarms of KIND")
    a = ap.parse_args(argv)
    if not a.suite.is_dir():
        print(f"heldout_security: no such folder: {a.suite}", file=sys.stderr)
        return 2
    missing, extra = manifest_difference(a.suite)
    if missing or extra:
        print(f"heldout_security: the suite differs from {MANIFEST.name}: missing "
              f"{', '.join(missing) or 'none'}; not listed {', '.join(extra) or 'none'}",
              file=sys.stderr)
    halves, skipped, nfiles, broken = score(a.suite, a.show)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"Measured {stamp} by `python bench/heldout_security.py --suite DIR` on {nfiles} "
           "Python rule tests of semgrep/semgrep-rules (not redistributed; the docstring of "
           "bench/heldout_security.py says how to rebuild the folder). A `ruleid` group is "
           "found when the rule of its kind reports a line in it; an `ok` group flagged is "
           "a false alarm. `dev`: the alternate files the sinks were tuned on; `held-out`: "
           "the others.", "", *rows(halves), ""]
    if broken:
        out += ["Left out, not valid Python (semgrep parses them): " + ", ".join(broken) + ".",
                ""]
    if skipped:
        out += ["Annotations of semgrep rules with no counterpart here (skipped): "
                + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())) + ".", ""]
    text = "\n".join(out)
    print(text)
    if a.write:
        write_docs(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
