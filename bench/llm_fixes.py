"""Model benchmark 2: validated fixes on a fixed set of seeded findings.

Every finding of the demo project (examples/base plus the change in examples/change,
reviewed whole) goes through the reviewer's model path with the configured number of
validation passes and no cache. Reported:

* share of emitted fixes that pass validation, checked again here independently: the fix
  is applied in memory and the file reviewed from scratch (must be 100%);
* share of findings that get a validated fix (of those without a deterministic fix);
* answers with code that the validator refused, by reason;
* mean model time and model calls per finding.

The prompt style follows the model's size as in the reviewer ("small" under 1.5 GB: the
embedded model and 1.5B models at Q4; "full" above); ``--style`` forces one.

Usage: python bench/llm_fixes.py [--model GGUF] [--style small|full] [--passes N]
       [--max-tokens T] [--write] [--section NAME]
"""

from __future__ import annotations

import argparse
import difflib
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from llm_common import demo_project, machine_line, seeded_findings, write_section

from reviewer import hardware
from reviewer.engine import _rules_by_language, review_source, selected_rules
from reviewer.findings import Finding, apply_edits
from reviewer.llm import validate
from reviewer.llm.backend import resolve_model
from reviewer.llm.explain import explain_findings, prompt_style
from reviewer.llm.llama_cpp import LlamaCppBackend
from reviewer.llm.prompts import STYLES


def independent_check(root: Path, f: Finding, rules: list) -> bool:  # type: ignore[type-arg]
    """Apply the fix and review the file from scratch: parses, rule gone there, nothing new."""
    assert f.model_fix is not None
    source = (root / f.path).read_text(encoding="utf-8")
    patched = apply_edits(source, f.model_fix.edits)
    by_lang = _rules_by_language(rules)
    before = review_source(f.path, source, by_lang, "python").findings
    after = review_source(f.path, patched, by_lang, "python").findings
    if any(x.rule_id == "RV000" for x in after):
        return False
    count = Counter((x.rule_id, x.symbol) for x in before)
    count[(f.rule_id, f.symbol)] -= 1
    got = Counter((x.rule_id, x.symbol) for x in after)
    return all(got[k] <= count[k] for k in got)


def added_line(root: Path, f: Finding) -> str:
    """The first line of the fixed file that the original does not have at that place."""
    assert f.model_fix is not None
    source = (root / f.path).read_text(encoding="utf-8")
    patched = apply_edits(source, f.model_fix.edits)
    for line in difflib.unified_diff(source.splitlines(), patched.splitlines(), lineterm=""):
        if line.startswith("+") and not line.startswith("+++"):
            return line[1:].strip()
    return ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="a GGUF file (default: the embedded SmolLM2-135M)")
    ap.add_argument("--passes", type=int, default=2, help="validation passes after the first")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--style", choices=STYLES, help="prompt style (default: by model size)")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    ap.add_argument("--section", default="model-fixes",
                    help="the docs/benchmarks.md block to replace (default: model-fixes)")
    args = ap.parse_args()

    root = demo_project()
    findings, cfg = seeded_findings(root)
    model = resolve_model(args.model or "", root)
    cfg = replace(cfg, model=str(model), llm_backend="llama_cpp", fix_passes=args.passes,
                  llm_max_tokens=args.max_tokens, max_explained=len(findings),
                  llm_timeout=24 * 3600.0, cache=False)
    reasons: Counter[str] = Counter()
    original = validate.FileValidator.check

    def counting(self: validate.FileValidator, finding: Finding, fix: object,
                 code: str | None = None) -> str | None:
        why = original(self, finding, fix, code)  # type: ignore[arg-type]
        if why is not None:
            reasons[why.split(";")[0].split(":")[0].split(" (")[0]] += 1
        return why

    validate.FileValidator.check = counting  # type: ignore[method-assign]
    start = time.perf_counter()
    out, report = explain_findings(
        findings, root=root, config=cfg,
        read=lambda rel: (root / rel).read_text(encoding="utf-8"),
        settings=hardware.derive(hardware.detect()), style=args.style,
    )
    style = args.style or prompt_style(LlamaCppBackend(model))
    wall = time.perf_counter() - start
    validate.FileValidator.check = original  # type: ignore[method-assign]

    rules = selected_rules(cfg)
    emitted = [f for f in out if f.model_fix is not None]
    passing = sum(independent_check(root, f, rules) for f in emitted)
    fixable = [f for f in out if f.fix is None]
    n = len(findings)
    lines = [
        "### Validated fixes on seeded findings",
        "",
        f"Measured by `bench/llm_fixes.py` on {machine_line()}.",
        f"Model {model.name}, {style} prompt style; {n} seeded findings of the demo project"
        f" ({len(fixable)} without a deterministic fix); up to {1 + args.passes} answers per"
        f" finding (the validator's complaint goes back each time); max_tokens"
        f" {args.max_tokens}; no cache.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| findings explained | {report.explained} of {n} |",
        f"| findings the model was asked to fix | {report.fixes_asked} |",
        f"| answers with code (all passes) | {report.fixes_proposed} |",
        f"| fixes emitted (validated) | {len(emitted)} |",
        f"| emitted fixes passing an independent re-review (must be 100%) |"
        f" {passing} of {len(emitted)}"
        f" ({100.0 * passing / len(emitted) if emitted else 100.0:.0f}%) |",
        f"| findings with a validated fix | {len(emitted)} of {len(fixable)}"
        f" ({100.0 * len(emitted) / len(fixable) if fixable else 0.0:.0f}%) |",
        f"| fixes validated / fixes asked for | {len(emitted)} of {report.fixes_asked} |",
        f"| model calls per finding (mean) | {report.model_calls / n:.2f} |",
        f"| model time per finding (mean) | {report.model_seconds / n:.2f} s |",
        f"| wall time, all findings | {wall:.1f} s |",
        f"| unusable answers / failure | {report.bad_answers} / {report.failure or 'none'} |",
        "",
        "Why proposed fixes were refused (count of answers):",
        "",
    ]
    for why, count in reasons.most_common():
        lines.append(f"- {count} x {why}")
    if emitted:
        lines += ["", "Validated fixes (the first line each one adds):", ""]
        for f in emitted:
            lines.append(f"- {f.rule_id} {f.path}:{f.span.line}: `{added_line(root, f)}`")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        write_section(args.section, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
