"""``reviewer fix``: apply the rules' deterministic fixes (and, asked, the model's)."""

from __future__ import annotations

from typing import Any

import click

from reviewer.cli.common import mode_options, warn
from reviewer.cli.pipeline import explain_result, llm_options, llm_overrides, prepare, review
from reviewer.errors import EXIT_CLEAN, EXIT_FINDINGS


@click.command()
@mode_options
@llm_options
@click.option("--diff", "show_diff", is_flag=True,
              help="Only print the changes as a unified diff; write nothing.")
@click.option("--unsafe-fixes", is_flag=True,
              help="Also apply fixes proposed by the local model (validated, never 'safe').")
def fix(show_diff: bool, unsafe_fixes: bool, **opts: Any) -> None:
    """Apply the rules' deterministic fixes to the findings `check` would report.

    With --unsafe-fixes, the local model is asked for fixes too (see `check --explain`);
    they are applied only when they validate. Each patched file must parse, lose the fixed
    findings and gain no new one, or it is left untouched with a warning. Files are replaced
    atomically. Exit 1 when findings at or above the failure threshold remain (with --diff:
    when there is anything to change).
    """
    from dataclasses import replace as _replace

    from reviewer import autofix
    from reviewer.targets import show_path

    root, cfg, job, note = prepare(opts, **llm_overrides(opts))
    quiet = opts["quiet"]
    if note and not quiet:
        warn(note)
    result = review(job, cfg, quiet, use_baseline=not opts["no_baseline"])
    if unsafe_fixes:
        explain_result(result, job, _replace(cfg, explain=True), quiet=quiet, want_fix=True)
    report = autofix.plan(job, cfg, result, unsafe=unsafe_fixes)
    for rel, why in report.rejected:
        warn(f"{show_path(rel)}: {why}")
    if show_diff:
        click.echo("".join(p.unified_diff() for p in report.patches), nl=False)
        raise SystemExit(EXIT_FINDINGS if report.patches else EXIT_CLEAN)
    fixed = 0
    for patch in report.patches:
        problem = autofix.write(root, patch)
        if problem is not None:
            warn(f"{show_path(patch.path)}: {problem}")
            report.remaining.extend(patch.fixed)
            continue
        fixed += len(patch.fixed)
        if not quiet:
            ids = ", ".join(sorted({f.rule_id for f in patch.fixed}))
            click.echo(f"{show_path(patch.path)}: fixed {len(patch.fixed)} ({ids})")
    if not quiet:
        left = len(report.remaining)
        click.echo(f"{fixed} fixed, {left} remaining.")
        if fixed and job.changes is not None and opts["base"] is None:
            warn("the fixed files are not staged: review the changes and `git add` them")
    failing = any(f.severity >= cfg.fail_on for f in report.remaining)
    raise SystemExit(EXIT_FINDINGS if failing else EXIT_CLEAN)

