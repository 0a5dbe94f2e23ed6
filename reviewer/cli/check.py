"""``reviewer check`` (review and report) and ``reviewer baseline`` (accept today's findings)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reviewer.cli.common import FORMATS, emit, find_root, load_config, mode_options, warn
from reviewer.cli.pipeline import enrich, llm_options, llm_overrides, prepare, review
from reviewer.cli.replay import Replay, load_replay, replay_key, save_replay
from reviewer.config import Config
from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.feedback.taught import Principle


@click.command()
@mode_options
@llm_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the report here.")
@click.option("--show-unused-suppressions", is_flag=True, default=None,
              help="Report suppression comments that hide nothing (they fail like findings).")
@click.option("--show-fingerprints", is_flag=True,
              help="Text format: each finding's fingerprint (for `reviewer feedback`).")
@click.option("--taught/--no-taught", default=None,
              help="With --explain, judge changed functions against the taught principles"
                   " (`reviewer teach`; default on).")
def check(fmt: str, output: Path | None, show_unused_suppressions: bool | None,
          show_fingerprints: bool, taught: bool | None, **opts: Any) -> None:
    """Review staged changes, a branch (--base), the whole tree (--all) or PATHS.

    Never modifies a reviewed file (see `reviewer fix`).
    """
    from reviewer.report import ReportContext, get_reporter

    root, cfg, job, note = prepare(
        opts, report_unused_suppressions=show_unused_suppressions, taught=taught,
        **llm_overrides(opts)
    )
    quiet = opts["quiet"]
    if note and not quiet:
        warn(note)
    terminal = output is None and sys.stdout.isatty()
    use_baseline = not opts["no_baseline"]
    # An unchanged tree with unchanged settings prints the last report again (cli/replay.py).
    options = (fmt, terminal, show_fingerprints, quiet, use_baseline)
    run_key = replay_key(job, cfg, options)
    stored = load_replay(job, cfg, run_key) if run_key is not None else None
    if stored is not None:
        emit(stored.text, output)
        _done(cfg)
        raise SystemExit(stored.exit_code)
    result = review(job, cfg, quiet, use_baseline=use_baseline, fixes=False)
    unreadable = enrich(result, job, cfg, quiet=quiet, use_baseline=use_baseline)
    problem = None
    if cfg.record_findings and result.findings:
        from reviewer.feedback.snapshot import record_run

        problem = record_run(root, cfg.feedback_db, result.findings, job.contents)
        if problem and not quiet and not unreadable:  # one line per broken database
            warn(problem)
    rctx = ReportContext(
        root=root, config=cfg, color=terminal, code_frame=terminal, contents=job.contents,
        show_fingerprints=show_fingerprints, taught=_taught(root, cfg) if fmt == "sarif" else (),
    )
    text = get_reporter(fmt)(result, rctx)
    if quiet and fmt == "text":
        text = _drop_summary(text)
    emit(text, output)
    if not (result.warnings or result.skipped or unreadable or problem):
        run_key = replay_key(job, cfg, options)  # the files and the database as they are now
        if run_key is not None:
            save_replay(job, cfg, run_key, Replay(text, result.exit_code(cfg),
                                                  tuple(sorted(result.depends.items()))))
    _done(cfg)
    raise SystemExit(result.exit_code(cfg))


def _taught(root: Path, cfg: Config) -> tuple[Principle, ...]:
    """The taught principles, for SARIF's rule list (imported only then)."""
    from reviewer.feedback.taught import taught_rules

    return taught_rules(root, cfg)


def _done(cfg: Config) -> None:
    """Everything is written and closed: the process may end without the interpreter's
    teardown (reviewer.cli.run), unless a model ran (its library may own threads)."""
    if not cfg.explain:
        from reviewer import cli

        cli.QUICK_EXIT[0] = True


def _drop_summary(text: str) -> str:
    lines = text.splitlines()
    if lines and lines[-1][:1].isdigit() and " finding" in lines[-1]:
        lines.pop()
    return "".join(ln + "\n" for ln in lines)



@click.command()
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Baseline file (default: the configured one, .reviewer/baseline.json).")
@click.option("-q", "--quiet", is_flag=True, help="No warnings, no summary.")
def baseline(config_path: Path | None, output: Path | None, quiet: bool) -> None:
    """Record every current finding of the whole tree as accepted debt.

    `check` then reports only findings whose fingerprint is not in the baseline. The
    fingerprints ignore line numbers, so edits above a recorded finding keep it hidden.
    """
    from reviewer.baseline import write_baseline
    from reviewer.targets import Mode, build_job

    root, is_git = find_root(Path.cwd())
    cfg = load_config(root, config_path, quiet)
    job, _ = build_job(root, is_git, Mode(all_files=True))
    result = review(job, cfg, quiet, use_baseline=False, fixes=False)
    target = output if output is not None else root / cfg.baseline
    try:
        n = write_baseline(target, result.findings)
    except OSError as exc:
        raise ReviewerError(f"cannot write the baseline {target}: {exc.strerror or exc}") from None
    if not quiet:
        click.echo(f"baseline written to {target}: {n} finding{'s' if n != 1 else ''}")


