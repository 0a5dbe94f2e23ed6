"""Accuracy benchmark on pylint's and bandit's own labelled suites.

Builds the sets with ../shared/eval/build_dev_sets.sh (cached in bench/.work/eval), runs
``reviewer check --all --format json`` over corpus_sanitized/<source>, maps rule IDs to the
eval kinds (the mapping belongs to this benchmark, not to the product) and prints
score.py's table per source.

Usage: python bench/accuracy.py [--work DIR] [--source pylint|bandit] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED_EVAL = (ROOT / ".." / "shared" / "eval").resolve()

# rule id -> eval kind. RV203 (swallowed exception) is split by the handler's body below.
KIND = {
    "RV101": "mutable_default_arg",
    "RV102": "global_statement",
    "RV201": "bare_except",
    "RV202": "broad_except",
    "RV301": "too_many_statements",
    "RV302": "too_complex",
    "RV303": "too_many_arguments",
    "RV304": "too_many_nested_blocks",
    "RV305": "too_many_branches",
    "RV306": "too_many_returns",
    "RV401": "missing_docstring",
    "RV402": "missing_type_hint",
    "RV501": "print_call",
    "RV601": "eval_exec",
    "RV602": "subprocess_shell",
    "RV603": "sql_string_format",
    "RV604": "unsafe_deserialization",
    "RV605": "unsafe_yaml_load",
    "RV606": "hardcoded_secret",
    "RV607": "assert_used",
}


def build_sets(work: Path) -> Path:
    """Run the shared build script once; return the work folder."""
    if not (work / "expected" / "pylint.json").exists():
        subprocess.run(["bash", str(SHARED_EVAL / "build_dev_sets.sh"), str(work)], check=True)
    return work


def swallow_kind(corpus: Path, finding: dict) -> str:
    """except_pass or except_continue for an RV203 finding, from the handler body."""
    try:
        lines = (corpus / finding["path"]).read_text(errors="replace").splitlines()
    except OSError:
        return "except_pass"
    end = finding.get("end_line") or finding["line"]
    body = " ".join(lines[finding["line"] - 1:end + 1])
    return "except_continue" if "continue" in body else "except_pass"


def predictions(corpus: Path, reviewer: list[str]) -> list[dict]:
    """Run the reviewer over a corpus folder and map its findings to eval kinds."""
    env = {**os.environ, "PRE_COMMIT": ""}
    out = subprocess.run(
        [*reviewer, "check", "--all", "--format", "json", "--no-cache", "--no-baseline",
         "--fail-on", "high"],
        cwd=corpus, capture_output=True, text=True, env=env,
    )
    if out.returncode not in (0, 1):
        sys.exit(f"reviewer failed ({out.returncode}): {out.stderr.strip()}")
    doc = json.loads(out.stdout)
    preds = []
    for f in doc["findings"]:
        kind = KIND.get(f["rule_id"])
        if f["rule_id"] == "RV203":
            kind = swallow_kind(corpus, f)
        if kind:
            preds.append({"file": f["path"], "line": f["line"], "kind": kind})
    return preds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=HERE / ".work" / "eval")
    ap.add_argument("--source", choices=["pylint", "bandit"], action="append")
    a = ap.parse_args(argv)
    work = build_sets(a.work.resolve())
    reviewer = [sys.executable, "-m", "reviewer"]
    for source in a.source or ["pylint", "bandit"]:
        corpus = work / "corpus_sanitized" / source
        preds = predictions(corpus, reviewer)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            json.dump(preds, fh)
        print(f"== {source} ({len(preds)} predictions)", flush=True)
        subprocess.run(
            [sys.executable, str(SHARED_EVAL / "score.py"),
             str(work / "expected" / f"{source}.json"), fh.name],
            check=True,
        )
        os.unlink(fh.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
