"""Precision on real code: the rules' findings on projects nobody tuned them to, judged by hand.

The corpora are the perf corpora of ../shared/eval/perf_corpus.sh (pinned sdists of requests,
flask, click, rich and django, built into bench/.work/perf when missing) and a few projects
installed in the .venv (pip with its vendored libraries, jinja2). No corpus code is copied
into the repository: bench/precision_labels.jsonl refers to each judged finding by project,
path, rule and the reviewer's line-independent fingerprint (the line and the code line are
kept for the reader), with the label (``real``, ``false`` or ``debatable``), a one-line
reason and the judging round.

Every file is reviewed through the product's own per-file path (``engine.review_source``:
rules, inline suppressions, fingerprints) with the default configuration, with the corpus
root as the repository (facts from the files a module imports, reviewer/rules/_project.py).
The labels are the "before" judgement; the run is the "after": a labelled finding that no
longer comes back was fixed (``false``) or lost (``real``, a regression); a labelled false
alarm that still comes back is listed. Precision is real / (real + false); debatable findings
count in neither.

Usage: python bench/precision.py [--work DIR] [--before KEYS] [--write]
                                [--unjudged RULE [--sample N]] [--keys-out KEYS]
``--unjudged RULE``: print a sample of that rule's findings that have no label yet, with
their code, for judging (append the verdicts to the labels file).
``--keys-out KEYS``: write what this version reports (run it with PYTHONPATH pointing at an
older checkout to record that version); ``--before KEYS`` then gives the "before" column.
``--write``: update the precision section of docs/benchmarks.md.
Exit status 1 when a judged real finding is lost.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import sysconfig
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from reviewer import engine  # noqa: E402
from reviewer.config import Config  # noqa: E402
from reviewer.findings import Finding  # noqa: E402
from reviewer.rules._project import project as project_root  # noqa: E402

SHARED_EVAL = (ROOT / ".." / "shared" / "eval").resolve()
LABELS = HERE / "precision_labels.jsonl"
DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- precision:begin -->", "<!-- precision:end -->"
# The rules whose findings are judgement calls (the others count things: size, docs, hints).
JUDGED = ("RV101", "RV102", "RV103", "RV201", "RV202", "RV203", "RV501",
          "RV601", "RV602", "RV603", "RV604", "RV605", "RV606", "RV607")
# perf corpus -> the library folders reviewed inside its sdist.
PERF = {"requests": "src", "flask": "src", "click": "src", "rich": "rich", "django": "django"}
# installed projects reviewed from site-packages (top-level package folders).
INSTALLED = ("pip", "jinja2", "fsspec", "filelock", "networkx", "sympy", "mpmath")


@dataclass(frozen=True)
class Corpus:
    name: str  # the project, with its version
    root: Path  # paths are relative to this
    folder: str  # the folder under root that is reviewed


def perf_corpora(work: Path) -> list[Corpus]:
    """The perf corpora (built by perf_corpus.sh when missing)."""
    perf = work / "perf"
    if not all((perf / "src" / n).is_dir() for n in PERF):
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
               f"{os.environ.get('PATH', '')}"}
        subprocess.run(["bash", str(SHARED_EVAL / "perf_corpus.sh"), str(perf)], check=True,
                       env=env)
    versions = {p.name.rsplit("-", 1)[0].lower(): p.name.rsplit("-", 1)[1].removesuffix(".tar.gz")
                for p in (perf / "sdists").glob("*.tar.gz")}
    return [Corpus(f"{n}-{versions.get(n, '?')}", perf / "src" / n, folder)
            for n, folder in PERF.items()]


def installed_corpora() -> list[Corpus]:
    """Projects installed in the .venv (its site-packages), when present."""
    venv = ROOT / ".venv"
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    site = venv / "lib" / version / "site-packages"
    if not site.is_dir():
        site = Path(sysconfig.get_paths()["purelib"])
    out = []
    for name in INSTALLED:
        if not (site / name).is_dir():
            continue
        dist = sorted(site.glob(f"{name}-*.dist-info"))
        ver = dist[0].name.removesuffix(".dist-info").split("-", 1)[1] if dist else "?"
        out.append(Corpus(f"{name}-{ver}", site, name))
    return out


def review(corpus: Corpus) -> Iterator[Finding]:
    """Every finding of the judged rules in the corpus, as the product reports them."""
    rules = [r for r in engine.selected_rules(Config()) if r.id in JUDGED]
    by_lang = {"python": rules}
    for path in sorted((corpus.root / corpus.folder).rglob("*.py")):
        rel = path.relative_to(corpus.root).as_posix()
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        with project_root(corpus.root):  # the repository's other files, for imported facts
            yield from engine.review_source(rel, source, by_lang, "python").findings


def project(corpus: Corpus) -> str:
    return corpus.name.rsplit("-", 1)[0]


def load_labels() -> list[dict[str, object]]:
    if not LABELS.exists():
        return []
    return [json.loads(line) for line in LABELS.read_text().splitlines() if line.strip()]


def key(proj: str, path: str, rule: str, fp: str) -> tuple[str, str, str, str]:
    return (proj, path, rule, fp)


def code_line(corpus: Corpus, f: Finding) -> str:
    lines = (corpus.root / f.path).read_text(encoding="utf-8").splitlines()
    return lines[f.span.line - 1].strip() if 0 < f.span.line <= len(lines) else ""


def show_unjudged(found: dict[tuple[str, str, str, str], tuple[Corpus, Finding]],
                  labelled: set[tuple[str, str, str, str]], rule: str, n: int,
                  seed: int) -> None:
    """Print a sample of unlabelled findings of ``rule`` with context and a label stub."""
    todo = sorted(k for k in found if k[2] == rule and k not in labelled)
    random.Random(seed).shuffle(todo)
    for k in todo[:n]:
        corpus, f = found[k]
        lines = (corpus.root / f.path).read_text(encoding="utf-8").splitlines()
        lo, hi = max(0, f.span.line - 4), min(len(lines), f.span.line + 7)
        print(f"==== {corpus.name} {f.path}:{f.span.line} {f.rule_id} ({f.symbol})")
        for i in range(lo, hi):
            mark = ">>" if i + 1 == f.span.line else "  "
            print(f"{mark}{i + 1:5} {lines[i]}")
        stub = {"project": k[0], "path": f.path, "line": f.span.line, "rule": f.rule_id,
                "code": code_line(corpus, f), "fingerprint": f.fingerprint,
                "label": "?", "reason": ""}
        print("LABEL " + json.dumps(stub))
    print(f"# {len(todo)} unjudged {rule} findings, {min(n, len(todo))} shown", file=sys.stderr)


Key = tuple[str, str, str, str]


def table(labels: list[dict[str, object]], present: set[Key], before: set[Key] | None
          ) -> tuple[list[str], list[str], list[str]]:
    """The before/after table rows, the false alarms still reported, the real ones lost.

    ``before``: the findings an earlier version reported (``--before``); without it every
    labelled finding counts as reported before (the labels were judged on reported ones).
    """
    rows = ["| rule | judged | real | false | debatable | precision before | "
            "false still reported | real lost | precision after |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    back, lost = [], []
    per: dict[str, Counter[str]] = {}
    for lab in labels:
        k = key(str(lab["project"]), str(lab["path"]), str(lab["rule"]),
                str(lab["fingerprint"]))
        label = str(lab["label"])
        c = per.setdefault(str(lab["rule"]), Counter())
        c[label] += 1
        if before is None or k in before:
            c["was_" + label] += 1
        if k in present:
            c["now_" + label] += 1
        where = f"{lab['project']} {lab['path']}:{lab['line']} {lab['rule']}: {lab['code']}"
        if label == "false" and k in present:
            back.append(where)
        if label == "real" and k not in present:
            lost.append(where)
    total: Counter[str] = Counter()
    for rule in sorted(per):
        c = per[rule]
        total.update(c)
        rows.append(_row(rule, c))
    rows.append(_row("all", total))
    return rows, back, lost


def _row(name: str, c: Counter[str]) -> str:
    judged = c["real"] + c["false"] + c["debatable"]

    def prec(real: int, false: int) -> str:
        return f"{real / (real + false):.2f}" if real + false else "-"

    return (f"| {name} | {judged} | {c['real']} | {c['false']} | {c['debatable']} | "
            f"{prec(c['was_real'], c['was_false'])} | {c['now_false']} | "
            f"{c['real'] - c['now_real']} | {prec(c['now_real'], c['now_false'])} |")


def write_docs(text: str, begin: str = BEGIN, end: str = END, heading: str = "") -> None:
    """Replace the ``begin``..``end`` block of docs/benchmarks.md with ``text``, or add it at
    the end (under ``heading`` when one is given)."""
    doc = DOCS.read_text()
    if begin in doc and end in doc:
        head, rest = doc.split(begin, 1)
        doc = head + begin + "\n" + text + end + rest.split(end, 1)[1]
    else:
        title = f"{heading}\n\n" if heading else ""
        doc = doc.rstrip("\n") + "\n\n" + title + begin + "\n" + text + end + "\n"
    DOCS.write_text(doc)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=HERE / ".work")
    ap.add_argument("--unjudged", metavar="RULE", help="show unlabelled findings of RULE")
    ap.add_argument("--sample", type=int, default=20)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    ap.add_argument("--keys-out", type=Path, help="write the reported findings' keys (JSON)")
    ap.add_argument("--before", type=Path,
                    help="keys an earlier version reported (from --keys-out)")
    a = ap.parse_args(argv)
    corpora = perf_corpora(a.work) + installed_corpora()
    found: dict[tuple[str, str, str, str], tuple[Corpus, Finding]] = {}
    counts: Counter[str] = Counter()
    # A finding that groups several places (RV501's prints of one function) stands for
    # the labels of each of them.
    grouped: set[tuple[str, str, str, int]] = set()
    for corpus in corpora:
        for f in review(corpus):
            found[key(project(corpus), f.path, f.rule_id, f.fingerprint)] = (corpus, f)
            counts[f.rule_id] += 1
            grouped.update((project(corpus), f.path, f.rule_id, s.line) for s in f.related)
    labels = load_labels()
    labelled = {key(str(x["project"]), str(x["path"]), str(x["rule"]), str(x["fingerprint"]))
                for x in labels}
    if a.unjudged:
        show_unjudged(found, labelled, a.unjudged.upper(), a.sample, a.seed)
        return 0
    if a.keys_out:
        a.keys_out.write_text(json.dumps(sorted(found)))
        return 0
    before: set[Key] | None = None
    if a.before:
        before = {(k[0], k[1], k[2], k[3]) for k in json.loads(a.before.read_text())}
    present = set(found) | {
        key(str(x["project"]), str(x["path"]), str(x["rule"]), str(x["fingerprint"]))
        for x in labels
        if (str(x["project"]), str(x["path"]), str(x["rule"]), int(str(x["line"]))) in grouped
    }
    rows, back, lost = table(labels, present, before)
    names = ", ".join(c.name for c in corpora)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"Measured {stamp} by `python bench/precision.py"
           + (" --before KEYS" if before is not None else "") + "`.", "",
           f"Corpora: {names}.", "",
           "Findings per rule now: " + ", ".join(f"{r} {counts[r]}" for r in sorted(counts))
           + ".", "", *rows, ""]
    rounds = sorted({int(str(x.get("round", 1))) for x in labels})
    if len(rounds) > 1:
        out += ["Per judging round (a later round was sampled from what the rules reported "
                "after the fixes of the rounds before it, so it is held out from those "
                "fixes):", ""]
        for r in rounds:
            subset = [x for x in labels if int(str(x.get("round", 1))) == r]
            out += [f"Round {r}:", "", *table(subset, present, before)[0], ""]
    if back:
        out += ["Judged false alarms still reported:", "", *(f"- {w}" for w in back), ""]
    if lost:
        out += ["Judged real findings lost:", "", *(f"- {w}" for w in lost), ""]
    text = "\n".join(out)
    print(text)
    if a.write:
        write_docs(text + "\n")
    return 1 if lost else 0


if __name__ == "__main__":
    raise SystemExit(main())
