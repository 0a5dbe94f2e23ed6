"""Accuracy on ESLint's and gosec's own labelled tests (../shared/eval/js_go/).

Runs ``reviewer check --format json`` over ``corpus/eslint`` and ``corpus_sanitized/gosec``,
maps rule IDs to the eval kinds (the mapping belongs to this benchmark, not to the product)
and prints ``score_js_go.py``'s table per source, never pooled.

What the benchmark translates (none of it changes the product): ESLint's per-case
threshold (``scope[].threshold``: the case's ``max`` for complexity, max-params, max-depth,
max-statements) becomes the matching reviewer option, and the files sharing one configuration
are reviewed together with a generated ``--config``; likewise no-console's ``allow``
(``allowed_console_methods``), no-implicit-globals' ``lexicalBindings``, max-params'
``countVoidThis``/``countThis: "always"`` (``count_void_this``), max-statements'
``ignoreTopLevelFunctions`` (``ignore_top_level_functions``) and no-empty's
``allowEmptyCatch`` (RV203 not run on those cases). Everything else runs with the
reviewer's defaults.

Usage: python bench/accuracy.py --source eslint|gosec [--show KIND]
   or: python bench/accuracy_js_go.py [--source eslint|gosec] [--show KIND] [--parity]
   or: python bench/accuracy_js_go.py --write   (both sources, both modes, into
       docs/benchmarks.md between the accuracy-js-go markers)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EVAL = (ROOT / ".." / "shared" / "eval" / "js_go").resolve()

# rule id -> eval kind
KIND = {
    "RV104": "global_statement",
    "RV105": "param_reassign",
    "RV203": "empty_catch",
    "RV204": "throw_literal",
    "RV205": "unchecked_error",
    "RV301": "too_many_statements",
    "RV302": "too_complex",
    "RV303": "too_many_arguments",
    "RV304": "too_many_nested_blocks",
    "RV501": "print_call",
    "RV601": "eval_exec",
    "RV602": "subprocess_shell",
    "RV603": "sql_string_format",
    "RV606": "hardcoded_secret",
    "RV609": "weak_crypto",
}
# eval kind -> (rule, option) its ESLint threshold sets
THRESHOLD_OPTION = {
    "too_complex": ("RV302", "max_complexity"),
    "too_many_arguments": ("RV303", "max_arguments"),
    "too_many_nested_blocks": ("RV304", "max_nested_blocks"),
    "too_many_statements": ("RV301", "max_statements"),
}


def run_reviewer(cwd: Path, paths: list[str], config: Path | None) -> list[dict]:
    """The reviewer's JSON findings for ``paths`` under ``cwd``."""
    env = {**os.environ, "PRE_COMMIT": "", "GIT_CEILING_DIRECTORIES": str(cwd.parent)}
    cmd = [sys.executable, "-m", "reviewer", "check", "--format", "json", "--no-cache",
           "--no-baseline", "--fail-on", "high", "--diff-filter", "none"]
    if config is not None:
        cmd += ["--config", str(config)]
    cmd += ["--", *paths]
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    if out.returncode not in (0, 1):
        sys.exit(f"reviewer failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
    findings: list[dict] = json.loads(out.stdout)["findings"]
    return findings


def predictions(findings: list[dict]) -> list[dict]:
    """Eval predictions ({file, line, kind}) from reviewer findings."""
    out = []
    for f in findings:
        kind = KIND.get(f["rule_id"])
        if kind:
            out.append({"file": f["path"], "line": f["line"], "kind": kind})
    return out


def case_options(entry: dict, strict: bool) -> tuple[tuple[str, str, object], ...]:
    """The reviewer options equivalent to one ESLint case's configuration."""
    kind = entry["kinds"][0]
    out: list[tuple[str, str, object]] = []
    if kind in THRESHOLD_OPTION and entry.get("threshold") is not None:
        rule, option = THRESHOLD_OPTION[kind]
        out.append((rule, option, int(entry["threshold"])))
    opts = entry.get("options") or []
    first = opts[0] if opts and isinstance(opts[0], dict) else {}
    if entry["codes"] == ["no-console"] and first.get("allow"):
        out.append(("RV501", "allowed_console_methods", tuple(first["allow"])))
    if entry["codes"] == ["no-implicit-globals"] and first.get("lexicalBindings"):
        out.append(("RV104", "lexical_bindings", True))
    if entry["codes"] == ["max-params"] and (
            first.get("countVoidThis") or first.get("countThis") == "always"):
        out.append(("RV303", "count_void_this", True))
    last = opts[-1] if opts and isinstance(opts[-1], dict) else {}
    if entry["codes"] == ["max-statements"] and last.get("ignoreTopLevelFunctions"):
        out.append(("RV301", "ignore_top_level_functions", True))
    if entry["codes"] == ["no-empty"] and first.get("allowEmptyCatch"):
        out.append(("*", "ignore", ("RV203",)))
    if strict and kind == "eval_exec":
        out.append(("RV601", "strict", True))
    return tuple(out)


def config_toml(key: tuple[tuple[str, str, object], ...]) -> str:
    """A --config file setting these rule options."""
    lines: list[str] = []
    top = [(o, v) for r, o, v in key if r == "*"]
    if top:
        lines.append("[tool.reviewer]")
        lines += [f"{o} = {json.dumps(list(v) if isinstance(v, tuple) else v)}" for o, v in top]
    for rule in sorted({r for r, _, _ in key if r != "*"}):
        lines.append(f"[tool.reviewer.rule-options.{rule}]")
        lines += [f"{o} = {json.dumps(list(v) if isinstance(v, tuple) else v)}"
                  for r, o, v in key if r == rule]
    return "\n".join(lines) + "\n"


def eslint_predictions(strict: bool = False) -> list[dict]:
    """Review every ESLint case, each group of cases under its own configuration."""
    expected = json.loads((EVAL / "expected" / "eslint.json").read_text())
    groups: dict[tuple[tuple[str, str, object], ...], list[str]] = defaultdict(list)
    for entry in expected["scope"]:
        groups[case_options(entry, strict)].append(entry["file"])
    corpus = EVAL / "corpus" / "eslint"
    preds: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, (key, files) in enumerate(sorted(groups.items(), key=lambda kv: str(kv[0]))):
            cfg = None
            if key:
                cfg = Path(tmp) / f"group-{n}.toml"
                cfg.write_text(config_toml(key))
            preds += predictions(run_reviewer(corpus, sorted(files), cfg))
    return preds


def g104_whitelist(config: str) -> tuple[str, ...]:
    """The calls a gosec G104 configuration allows to drop the error of, as dotted names:
    ``gosec.Config{"G104": map[string]interface{}{"ioutil": []interface{}{"WriteFile"}}}``
    gives ``("ioutil.WriteFile",)``."""
    m = re.search(r'"G104"\s*:\s*map\[string\]interface\{\}\{(.*)\}\s*\}\s*$', config)
    if not m:
        return ()
    out: list[str] = []
    for pkg, names in re.findall(r'"([\w./]+)"\s*:\s*\[\]interface\{\}\{([^}]*)\}', m.group(1)):
        out += [f"{pkg}.{n}" for n in re.findall(r'"(\w+)"', names)]
    return tuple(out)


def gosec_predictions(strict: bool = False) -> list[dict]:
    """Review the comment-blanked gosec samples.

    gosec's G104 reports errors assigned to ``_`` only in audit mode: samples run with
    ``gosec.NewConfig()`` get RV205's ``blank_assignments = false``, audit samples the
    default (true); a G104 whitelist in the sample's config becomes RV205's
    ``ignored_calls``. ``strict``: RV602/RV603 report constant input too.
    """
    expected = json.loads((EVAL / "expected" / "gosec.json").read_text())
    corpus = EVAL / "corpus_sanitized" / "gosec"
    groups: dict[tuple[bool, tuple[str, ...]], list[str]] = defaultdict(list)
    for entry in expected["scope"]:
        config = str(entry.get("config", ""))
        audit = "audit" in config.lower()
        members = entry.get("members") or [entry["file"]]
        groups[(audit, g104_whitelist(config))] += members
    preds: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, ((audit, ignored), files) in enumerate(sorted(groups.items())):
            cfg = Path(tmp) / f"gosec-{n}.toml"
            lines = ["[tool.reviewer.rule-options.RV205]",
                     f"blank_assignments = {'true' if audit else 'false'}"]
            if ignored:
                lines.append(f"ignored_calls = {json.dumps(list(ignored))}")
            if strict:
                lines += ["[tool.reviewer.rule-options.RV602]", "strict = true",
                          "[tool.reviewer.rule-options.RV603]", "strict = true"]
            cfg.write_text("\n".join(lines) + "\n")
            preds += predictions(run_reviewer(corpus, sorted(files), cfg))
    return preds


def score(source: str, preds: list[dict], extra: list[str], quiet: bool = False) -> list[dict]:
    """Print score_js_go.py's table for one source (unless ``quiet``); return its rows."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(preds, fh)
    table = fh.name + ".table"
    try:
        subprocess.run(
            [sys.executable, str(EVAL / "score_js_go.py"),
             str(EVAL / "expected" / f"{source}.json"), fh.name, *extra, "--json", table],
            check=True, stdout=subprocess.DEVNULL if quiet else None,
        )
        rows: list[dict] = json.loads(Path(table).read_text())
    finally:
        os.unlink(fh.name)
        if os.path.exists(table):
            os.unlink(table)
    return rows


def _rate(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _rule_of(kind: str, language: str) -> str:
    """The rule that reports ``kind`` in ``language``, "(none)" when there is none yet."""
    from reviewer.rules import rules_for

    have = rules_for(language)
    return next((r for r, k in KIND.items() if k == kind and r in have), "(none)")


def docs_block(extra: list[str]) -> str:
    """The accuracy-js-go section of docs/benchmarks.md: default settings and parity mode."""
    out: list[str] = ["ESLint, default settings (mode `line`, tolerance 1):", "",
                      "| kind | rule | TP | FP | FN | precision | recall |",
                      "|---|---|---|---|---|---|---|"]
    for r in score("eslint", eslint_predictions(), extra, quiet=True):
        out.append(f"| {r['kind']} | {_rule_of(r['kind'], 'javascript')} | {r['tp']} |"
                   f" {r['fp']} | {r['fn']} | {_rate(r['precision'])} | {_rate(r['recall'])} |")
    parity = {r["kind"]: r for r in score("eslint", eslint_predictions(True), extra, True)}
    e = parity["eval_exec"]
    out += ["", "ESLint, parity mode (`--parity`: RV601 `strict = true`, constant code reported"
            " too):", f"eval_exec {e['tp']} TP / {e['fp']} FP / {e['fn']} FN, precision"
            f" {_rate(e['precision'])}, recall {_rate(e['recall'])}.", "",
            "gosec, default settings (mode `file_count`; `--presence` in brackets where it"
            " differs):", "",
            "| kind | rule | TP | FP | FN | precision | recall |",
            "|---|---|---|---|---|---|---|"]
    preds = gosec_predictions()
    presence = {r["kind"]: r for r in score("gosec", preds, ["--presence", *extra], True)}

    def cell(r: dict, key: str, fmt: bool = False) -> str:
        a, b = r[key], presence[r["kind"]][key]
        text = _rate(a) if fmt else str(a)
        other = _rate(b) if fmt else str(b)
        return text if text == other else f"{text} ({other})"

    for r in score("gosec", preds, extra, quiet=True):
        out.append(f"| {r['kind']} | {_rule_of(r['kind'], 'go')} | {cell(r, 'tp')} |"
                   f" {cell(r, 'fp')} | {cell(r, 'fn')} | {cell(r, 'precision', True)} |"
                   f" {cell(r, 'recall', True)} |")
    strict = {r["kind"]: r for r in score("gosec", gosec_predictions(True), extra, True)}
    parts = [f"{k} {strict[k]['tp']}/{strict[k]['fp']}/{strict[k]['fn']}"
             f" ({_rate(strict[k]['precision'])}/{_rate(strict[k]['recall'])})"
             for k in ("sql_string_format", "subprocess_shell")]
    out += ["", f"gosec, parity mode (RV602/RV603 `strict`): {parts[0]},", f"{parts[1]}."]
    return "\n".join(out) + "\n"


def show_misses(source: str, preds: list[dict], kinds: set[str]) -> None:
    """List false positives and negatives per file (file level, kinds in ``kinds``)."""
    expected = json.loads((EVAL / "expected" / f"{source}.json").read_text())
    want: dict[tuple[str, str], int] = defaultdict(int)
    for case in expected["cases"]:
        want[(case["file"].split("/file_")[0] if source == "gosec" else case["file"],
              case["kind"])] += case.get("count", 1)
    got: dict[tuple[str, str], int] = defaultdict(int)
    scored = {(e["file"].rstrip("/"), k) for e in expected["scope"] for k in e["kinds"]}
    for p in preds:
        f = p["file"].split("/file_")[0] if source == "gosec" else p["file"]
        got[(f, p["kind"])] += 1
    for key in sorted(set(want) | set(got)):
        if key[1] not in kinds and "all" not in kinds:
            continue
        if key not in scored and key not in want:
            continue
        if want[key] != got[key]:
            print(f"  {key[1]:<24} {key[0]}: expected {want[key]}, predicted {got[key]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--source", choices=["eslint", "gosec"], action="append")
    ap.add_argument("--show", action="append", default=[], metavar="KIND")
    ap.add_argument("--exclude-config-dependent", action="store_true",
                    help="score_js_go.py's flag: drop the cases whose verdict hangs on"
                         " options, globals or sourceType")
    ap.add_argument("--parity", action="store_true",
                    help="RV601 in strict mode (constant code reported too, as ESLint does)")
    ap.add_argument("--write", action="store_true",
                    help="update the accuracy-js-go section of docs/benchmarks.md (both"
                         " sources, default settings and parity mode)")
    a = ap.parse_args(argv)
    if not EVAL.is_dir():
        sys.exit(f"no evaluation sets at {EVAL}")
    extra = ["--exclude-config-dependent"] if a.exclude_config_dependent else []
    if a.write:
        from precision import write_docs

        block = docs_block(extra)
        print(block, end="")
        write_docs(block, "<!-- accuracy-js-go:begin -->", "<!-- accuracy-js-go:end -->",
                   "### Accuracy on ESLint's and gosec's own tests")
        return 0
    for source in a.source or ["eslint", "gosec"]:
        preds = (eslint_predictions(a.parity) if source == "eslint"
                 else gosec_predictions(a.parity))
        mode = "parity mode" if a.parity else "default settings"
        print(f"== {source} ({len(preds)} predictions, {mode} + the cases' options)",
              flush=True)
        score(source, preds, extra)
        if source == "gosec":
            print("-- gosec, --presence (one verdict per sample)")
            score(source, preds, ["--presence", *extra])
        if a.show:
            show_misses(source, preds, set(a.show))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
