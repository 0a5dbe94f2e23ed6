"""Model benchmark 2: fixes and explanations on findings from real projects.

Findings come from the perf corpora (bench/.work/perf/src/{requests,flask,click,rich,django},
fetched by bench/speed.py): each project's Python files in path order, at most
``--per-rule`` findings of each rule per project, so that no single rule dominates.
Every finding goes through the reviewer's model path (``explain_findings``: the prompt
style the model's size selects, ``--passes`` refinement passes with the validator's
reasons and the repository context slot, no cache). Reported per rule:

* the rules' own deterministic (libcst) fixes: how many findings have one, and how many of
  those pass the same validation ``reviewer fix`` applies (independently re-checked here);
* for the findings the model was asked to fix: validated at the first pass, and after
  refinement; every shown fix re-reviewed from scratch here (must be 100%);
* the findings with no local fix (reviewer.rules.base.Rule.has_local_fix): the model is not
  asked, and no fix is shown (must be 0);
* explanations: the model's shown, refused by reviewer.llm.judge, replaced by the
  reviewer's own.

Every shown model fix is written to ``--sample FILE`` as a diff, for the hand check
reported in docs/benchmarks.md.

Usage: python bench/llm_fixes.py [--model GGUF] [--style small|full] [--passes N]
       [--per-rule N] [--fixable-only] [--asked-only] [--model-fixes] [--projects a,b]
       [--rules RV401,...]
       [--max-tokens T]
       [--sample FILE] [--write] [--section NAME]

``--model-fixes`` asks even a model under ``model-fix-min-params`` (the embedded one) for
fixes, to measure the validator alone; without it such a model explains only.
``--asked-only`` keeps, of the selection, the findings the model would be asked to fix
(the same ones with or without the gate): the fix figures of the whole selection at a
third of the model time; the explanations of the other findings are not measured.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

from llm_common import ROOT, machine_line, write_section

from reviewer import hardware
from reviewer.autofix import validate as autofix_validate
from reviewer.config import Config
from reviewer.engine import _rules_by_language, review_source, selected_rules
from reviewer.findings import Finding, apply_edits, lines_outside_kept
from reviewer.llm.backend import resolve_model
from reviewer.llm.explain import explain_findings, prompt_style
from reviewer.llm.judge import is_fallback
from reviewer.llm.llama_cpp import LlamaCppBackend
from reviewer.llm.prompts import STYLES
from reviewer.rules import all_rules

CORPORA = ROOT / "bench" / ".work" / "perf" / "src"
PROJECTS = ("requests", "flask", "click", "rich", "django")
MAX_FILES = 5000  # per project: every file (collecting takes seconds)
SKIP_PARTS = frozenset({"tests", "test", "testing", "docs", "examples", ".git"})


def corpus_root() -> Path:
    """The perf corpora (this checkout's, else the main checkout's)."""
    if CORPORA.is_dir():
        return CORPORA
    main = Path("/work/main/bench/.work/perf/src")
    if main.is_dir():
        return main
    raise SystemExit("no perf corpora: run python bench/speed.py first (it fetches them)")


def collect(root: Path, per_rule: int, fixable_only: bool = False,
            only: frozenset[str] = frozenset()) -> list[Finding]:
    """At most ``per_rule`` findings of each rule in one project, files in path order
    (with ``fixable_only``, only of the rules that have a local fix; with ``only``, only
    of those rules)."""
    rules = [r for r in selected_rules(Config())
             if (not fixable_only or type(r).local_fix) and (not only or r.id in only)]
    by_lang = _rules_by_language(rules)
    taken: Counter[str] = Counter()
    out: list[Finding] = []
    files = sorted(p for p in root.rglob("*.py") if not SKIP_PARTS & set(p.parts))
    for path in files[:MAX_FILES]:
        rel = path.relative_to(root).as_posix()
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for f in review_source(rel, source, by_lang, "python").findings:
            if f.rule_id == "RV000" or taken[f.rule_id] >= per_rule:
                continue
            taken[f.rule_id] += 1
            out.append(f)
    return out


def asked_only(root: Path, findings: list[Finding], model: Path, style: str | None,
               rule_classes: dict) -> list[Finding]:  # type: ignore[type-arg]
    """The findings the model would be asked to fix (reviewer.llm.explain.Explainer.wants_fix,
    with the prompt style of ``model``): a shorter run that measures fixes, not explanations."""
    from reviewer.llm.explain import Explainer, _Job
    from reviewer.llm.prompts import find_target

    explainer = Explainer(LlamaCppBackend(model), rules=selected_rules(Config()), style=style)
    out = []
    for f in findings:
        source = (root / f.path).read_text(encoding="utf-8")
        job = _Job(f, rule_classes[f.rule_id], source)
        if explainer.wants_fix(job, find_target(source, f)):
            out.append(f)
    return out


def recheck(root: Path, f: Finding, fix_edits: tuple, rules: list) -> bool:  # type: ignore[type-arg]
    """Apply the edits and review the file from scratch: parses, the finding gone, nothing
    new (a rule's fix_leaves excepted), lines outside the edits byte-identical."""
    source = (root / f.path).read_text(encoding="utf-8")
    try:
        patched = apply_edits(source, fix_edits)
    except ValueError:
        return False
    by_lang = _rules_by_language(rules)
    before = review_source(f.path, source, by_lang, "python").findings
    after = review_source(f.path, patched, by_lang, "python").findings
    if any(x.rule_id == "RV000" for x in after):
        return False
    count = Counter((x.rule_id, x.symbol) for x in before)
    got = Counter((x.rule_id, x.symbol) for x in after)
    return autofix_validate(count, got, [f]) is None and lines_outside_kept(
        source, patched, fix_edits) is None


def diff_of(root: Path, f: Finding) -> str:
    assert f.model_fix is not None
    source = (root / f.path).read_text(encoding="utf-8")
    patched = apply_edits(source, f.model_fix.edits)
    return "".join(difflib.unified_diff(
        source.splitlines(keepends=True), patched.splitlines(keepends=True),
        f"a/{f.path}", f"b/{f.path}", n=2))


def pct(a: int, b: int) -> str:
    return f"{a}/{b} ({100.0 * a / b:.0f}%)" if b else "-"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="a GGUF file (default: the embedded SmolLM2-135M)")
    ap.add_argument("--passes", type=int, default=2, help="refinement passes after the first")
    ap.add_argument("--per-rule", type=int, default=3, help="findings per rule per project")
    ap.add_argument("--projects", default=",".join(PROJECTS))
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--style", choices=STYLES, help="prompt style (default: by model size)")
    ap.add_argument("--no-model", action="store_true", help="deterministic fixes only")
    ap.add_argument("--fixable-only", action="store_true",
                    help="only findings of rules that have a local fix (a bounded model run)")
    ap.add_argument("--model-fixes", action="store_true",
                    help="ask the model for fixes even under model-fix-min-params (the"
                         " validator alone decides what is shown)")
    ap.add_argument("--asked-only", action="store_true",
                    help="only the findings the model is asked to fix (those of the"
                         " selection; explanations of the others are not measured)")
    ap.add_argument("--rules", default="", help="only these rules (comma-separated ids)")
    ap.add_argument("--sample", type=Path, help="write every shown model fix here")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    ap.add_argument("--section", default="model-fixes",
                    help="the docs/benchmarks.md block to replace (default: model-fixes)")
    args = ap.parse_args()

    corpora = corpus_root()
    projects = [p for p in args.projects.split(",") if (corpora / p).is_dir()]
    rules = selected_rules(Config())
    rule_classes = all_rules()
    model = resolve_model(args.model or "", ROOT)
    settings = hardware.derive(hardware.detect())
    rows: dict[str, Counter[str]] = defaultdict(Counter)
    shown: list[tuple[Path, Finding, int | None]] = []
    wrong_no_local = 0
    gated = ""  # why the model was asked for no fix (the size gate), if it was not
    explained = Counter[str]()
    calls = 0
    seconds = 0.0
    start = time.perf_counter()
    total = 0

    def render(done: list[str]) -> str:
        """The report over the projects in ``done`` (printed after each one too)."""
        wall = time.perf_counter() - start

        style = args.style or prompt_style(LlamaCppBackend(model))
        no_local = [f"{r} ({rows[r]['findings'] - rows[r]['local']})" for r in sorted(rows)
                    if rows[r]["local"] < rows[r]["findings"]]
        lines = [
            "### Fixes and explanations on findings from real projects",
            "",
            f"Measured by `bench/llm_fixes.py --per-rule {args.per_rule} --passes {args.passes}"
            f"{' --fixable-only' if args.fixable_only else ''}"
            f"{' --model-fixes' if args.model_fixes else ''}"
            f"{' --asked-only' if args.asked_only else ''}"
            f"{' --rules ' + args.rules if args.rules else ''}"
            f"{' --model ' + model.name if args.model else ''}` on {machine_line()}.",
            f"Corpus: {total} findings of {len(rows)} rules from {', '.join(done)} (the perf"
            f" corpora; at most {args.per_rule} findings per rule per project, files in path"
            " order, tests and docs skipped).",
            "" if args.no_model else
            f"Model {model.name}, {style} prompt style; up to {1 + args.passes} answers per"
            f" finding; max_tokens {args.max_tokens}; no cache; {calls} model calls,"
            f" {seconds:.0f} s of model time, {wall:.0f} s wall.",
            "",
            "| rule | findings | rule fix (validated) | model asked | model first pass |"
            " model after refinement | shown model fixes re-validated |"
            " a validated fix shown, first pass | after refinement |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        sums: Counter[str] = Counter()
        for rule_id in sorted(rows):
            r = rows[rule_id]
            sums.update(r)
            kind = "" if not r["rule_fix"] else (" safe" if r["rule_fix_safe"] == r["rule_fix"]
                                                 else " unsafe")
            local = r["local"]  # the findings that have a local fix (Rule.has_local_fix)
            asked = str(r["asked"]) if local else "no local fix"
            if local < r["findings"] and local:
                asked += f" ({r['findings'] - local} with no local fix)"
            # the fix a user sees: the rule's own, else the model's
            sums["shown_first"] += r["rule_fix_ok"] + r["first"]
            sums["shown_refined"] += r["rule_fix_ok"] + r["refined"]
            first = pct(r["rule_fix_ok"] + r["first"], local) if local else "-"
            refined = pct(r["rule_fix_ok"] + r["refined"], local) if local else "-"
            lines.append(
                f"| {rule_id} | {r['findings']} | {pct(r['rule_fix_ok'], r['rule_fix'])}{kind} |"
                f" {asked} | {pct(r['first'], r['asked'])} | {pct(r['refined'], r['asked'])} |"
                f" {pct(r['shown_ok'], r['shown'])} | {first} | {refined} |"
            )
        lines.append(
            f"| all | {sums['findings']} | {pct(sums['rule_fix_ok'], sums['rule_fix'])} |"
            f" {sums['asked']} | {pct(sums['first'], sums['asked'])} |"
            f" {pct(sums['refined'], sums['asked'])} | {pct(sums['shown_ok'], sums['shown'])} |"
            f" {pct(sums['shown_first'], sums['local'])} |"
            f" {pct(sums['shown_refined'], sums['local'])} |"
        )
        lines += [
            "",
            "A validated fix shown: of the findings that have a local fix, those shown a"
            " fix that passed validation, the rule's own (the model then only explains) or"
            " else the model's.",
            f"Findings with no local fix (Rule.has_local_fix: the model is not asked; fixes"
            f" shown for them: {wrong_no_local}), by rule:"
            f" {', '.join(no_local) or 'none in this corpus'}.",
        ]
        if gated:
            lines.append(f"Model fixes gated: {gated}.")
        if not args.no_model:
            lines.append(
                f"Explanations: {explained['model']} from the model shown,"
                f" {explained['fallback']} replaced by the reviewer's own (marked),"
                f" {explained['rejected']} model answers refused by the checks."
            )
        return "\n".join(lines) + "\n"

    for name in projects:
        root = corpora / name
        findings = collect(root, args.per_rule, args.fixable_only,
                           frozenset(r for r in args.rules.split(",") if r))
        if args.asked_only:
            findings = asked_only(root, findings, model, args.style, rule_classes)
        total += len(findings)
        for f in findings:
            row = rows[f.rule_id]
            row["findings"] += 1
            row["local"] += rule_classes[f.rule_id].has_local_fix(f)
            if f.fix is not None:
                row["rule_fix"] += 1
                row["rule_fix_ok"] += recheck(root, f, f.fix.edits, rules)
                row["rule_fix_safe"] += f.fix.safe
        if args.no_model:
            continue
        cfg = replace(Config(), model=str(model), llm_backend="llama_cpp",
                      fix_passes=args.passes, llm_max_tokens=args.max_tokens,
                      max_explained=len(findings), llm_timeout=24 * 3600.0, cache=False,
                      context=False,
                      model_fix_min_params=0 if args.model_fixes
                      else Config().model_fix_min_params)
        out, report = explain_findings(
            findings, root=root, config=cfg,
            read=lambda rel, root=root: (root / rel).read_text(encoding="utf-8"),  # type: ignore[misc]
            settings=settings, style=args.style,
        )
        if report.fixes_gated:
            gated = report.fixes_gated
        calls += report.model_calls
        seconds += report.model_seconds
        print(f"{name}: {len(findings)} findings, {report.model_calls} model calls,"
              f" {report.model_seconds:.0f} s", file=sys.stderr, flush=True)
        for rule_id, at in report.fix_outcomes:
            row = rows[rule_id]
            row["asked"] += 1
            row["first"] += at == 0
            row["refined"] += at is not None
        for f in out:
            if f.explanation:
                explained["fallback" if is_fallback(f.explanation) else "model"] += 1
            if f.model_fix is not None:
                rows[f.rule_id]["shown"] += 1
                rows[f.rule_id]["shown_ok"] += recheck(root, f, f.model_fix.edits, rules)
                shown.append((root, f, report.validated_pass.get(
                    (f.path, f.span.line, f.rule_id))))
                if not rule_classes[f.rule_id].has_local_fix(f):
                    wrong_no_local += 1
        explained["rejected"] += report.explanations_rejected
        print(render(projects[:projects.index(name) + 1]), file=sys.stderr, flush=True)
    text = render(projects)
    print(text)
    if args.sample is not None:
        with args.sample.open("w", encoding="utf-8") as fh:
            for root, f, at in shown:
                when = "first pass" if at == 0 else f"pass {at}" if at else "pass ?"
                fh.write(f"## {root.name} {f.rule_id} {f.path}:{f.span.line} {f.message}"
                         f" ({when})\n")
                fh.write(diff_of(root, f) + "\n")
    if args.write:
        write_section(args.section, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
