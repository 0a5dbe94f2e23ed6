"""The thin click layer: options -> Config -> engine -> reporter -> exit code.

Every user-facing error is one line on stderr (``reviewer: error: ...``) with exit code 2;
an unexpected crash is one line with exit code 3 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from reviewer import __version__
from reviewer.cli_llm import explain_result, llm_options, llm_overrides, run_backend
from reviewer.cli_teach import judge_result
from reviewer.config import DIFF_FILTERS, Config
from reviewer.errors import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    EXIT_USAGE,
    ReviewerError,
)

SEVERITIES = ("info", "low", "medium", "high")
FORMATS = ("text", "json", "sarif", "github")


def warn(message: str) -> None:
    """One warning line on stderr."""
    click.echo(f"reviewer: warning: {' '.join(message.splitlines())}", err=True)


def error(message: str) -> None:
    """One error line on stderr."""
    click.echo(f"reviewer: error: {' '.join(message.splitlines())}", err=True)


def _split(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(v.strip() for item in values for v in item.split(",") if v.strip())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reviewer")
@click.option("--debug", is_flag=True, hidden=True, help="Show tracebacks for internal errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Review code against engineering principles, on your own machine."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


# -- shared helpers -----------------------------------------------------------------------
F = TypeVar("F", bound=Callable[..., Any])


def find_root(start: Path) -> tuple[Path, bool]:
    """The repository root (git top level) and whether it is a git repository."""
    from reviewer.targets import find_root as _find_root

    return _find_root(start)


def load_config(
    root: Path, config_path: Path | None, quiet: bool = False, **overrides: Any
) -> Config:
    """Config from pyproject.toml plus command-line overrides; warnings printed once."""
    from reviewer import config as config_mod

    cfg = config_mod.load(root, config_path)
    if not quiet:
        for w in cfg.warnings:
            warn(w)
    changes = {k: v for k, v in overrides.items() if v not in (None, ())}
    return replace(cfg, **changes) if changes else cfg


def mode_options(func: F) -> F:
    """The options shared by ``check`` and ``fix``: what to review and with which rules."""
    decorators = [
        click.argument("paths", nargs=-1, type=click.Path(path_type=Path)),
        click.option("--staged", is_flag=True,
                     help="Review what is staged (the default without paths)."),
        click.option("--base", metavar="REF",
                     help="Review changes since the merge base with REF (working tree)."),
        click.option("--all", "all_files", is_flag=True, help="Review the whole tree."),
        click.option("--diff-filter", type=click.Choice(DIFF_FILTERS),
                     help="Which findings of changed files to keep (default: added)."),
        click.option("--fail-on", type=click.Choice(SEVERITIES),
                     help="Lowest severity that fails."),
        click.option("--select", multiple=True, help="Rules to enable (IDs, prefixes, slugs)."),
        click.option("--ignore", multiple=True, help="Rules to disable."),
        click.option("--config", "config_path", type=click.Path(path_type=Path),
                     help="Config file (default: pyproject.toml at the root)."),
        click.option("--no-cache", is_flag=True, help="Do not read or write the result cache."),
        click.option("--no-baseline", is_flag=True, help="Report baselined findings too."),
        click.option("-j", "--jobs", type=click.IntRange(min=0),
                     help="Worker processes (0: all cores)."),
        click.option("-q", "--quiet", is_flag=True,
                     help="Only findings: no summary, notes or warnings."),
    ]
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


def prepare(
    opts: dict[str, Any], **overrides: Any
) -> tuple[Path, Config, Any, str | None]:
    """Root, settings and Job for the mode options of ``check``/``fix``; plus a note."""
    from reviewer.findings import Severity
    from reviewer.targets import Mode, build_job

    root, is_git = find_root(Path.cwd())
    cfg = load_config(
        root, opts["config_path"], opts["quiet"],
        select=_split(opts["select"]), ignore=_split(opts["ignore"]),
        fail_on=Severity.parse(opts["fail_on"]) if opts["fail_on"] else None,
        cache=False if opts["no_cache"] else None,
        jobs=opts["jobs"],
        **overrides,
    )
    mode = Mode(opts["staged"], opts["base"], opts["all_files"], tuple(opts["paths"]))
    job, note = build_job(root, is_git, mode)
    job.diff_filter = opts["diff_filter"]
    return root, cfg, job, note


def review(job: Any, cfg: Config, quiet: bool, use_baseline: bool) -> Any:
    """Run the engine (with a progress bar for long reviews on a terminal)."""
    from reviewer import engine

    progress = None
    if not quiet and len(job.files) > PROGRESS_MIN_FILES and sys.stderr.isatty():
        progress = ProgressBar()
    try:
        result = engine.run(job, cfg, progress=progress, use_baseline=use_baseline)
    finally:
        if progress is not None:
            progress.close()
    _settle_unused(result, job, cfg)
    if not quiet:
        from reviewer.targets import show_path

        for s in result.skipped:
            warn(f"{show_path(s.path)}: {s.reason}")
        for w in result.warnings:
            warn(w)
    return result


def enrich(result: Any, job: Any, cfg: Config, *, quiet: bool, use_baseline: bool,
           learned: bool = True) -> bool:
    """What follows the rules, on one model: findings on taught principles, the team's
    verdicts (dismissed findings hidden, similar ones quieter; unless ``learned`` is
    False), then the model's explanations and validated fixes. Returns whether the
    verdicts database could not be read (a warning line said so already)."""
    from reviewer.feedback.learned import apply_learned

    unreadable = False
    with run_backend(job.root, cfg) as backend:
        judge_result(result, job, cfg, quiet=quiet, use_baseline=use_baseline, backend=backend)
        if learned:
            for skipped in apply_learned(result, job.root, cfg, job.contents):
                unreadable = True
                if not quiet:
                    warn(skipped)
        explain_result(result, job, cfg, quiet=quiet, backend=backend)
    return unreadable


def _settle_unused(result: Any, job: Any, cfg: Config) -> None:
    """Keep the unused suppressions worth reporting (none unless asked for)."""
    if not cfg.report_unused_suppressions:
        result.unused_suppressions = []
        return
    from reviewer.diff import line_kept
    from reviewer.engine import is_excluded, known_selector, selected_rules
    from reviewer.suppressions import code_matches, relevant_unused

    rules = selected_rules(cfg)

    def enabled(code: str, path: str) -> bool:
        ignored = [i for pat, ids in cfg.per_file_ignores.items()
                   if is_excluded(path, [pat]) for i in ids]
        return any(
            code_matches(code, r.id, r.slug)
            and not any(code_matches(i, r.id, r.slug) for i in ignored)
            for r in rules
        )

    from reviewer.feedback.taught import taught_rules

    # Taught principles are judged only with the model: their codes are never "unused".
    taught = {c for p in taught_rules(job.root, cfg) for c in (p.id.lower(), p.slug)}

    def known(code: str) -> bool:
        return known_selector(code) or code.lower() in taught

    unused = relevant_unused(result.unused_suppressions, enabled, known)
    if job.changes is not None:
        mode = job.diff_filter or cfg.diff_filter
        unused = [u for u in unused
                  if line_kept(u.path, u.line, job.changes, mode, cfg.context_lines)]
    result.unused_suppressions = unused


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    from reviewer.fileio import atomic_write_text

    for folder in output.parents:
        if folder.exists():
            if not folder.is_dir():
                raise ReviewerError(f"cannot write {output}: {folder} is not a folder")
            break
    try:
        atomic_write_text(output, text, errors="surrogateescape")
    except OSError as exc:
        raise ReviewerError(f"cannot write {output}: {exc.strerror or exc}") from None


# -- check ---------------------------------------------------------------------------------
PROGRESS_MIN_FILES = 200


@cli.command()
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
    result = review(job, cfg, quiet, use_baseline=not opts["no_baseline"])
    unreadable = enrich(result, job, cfg, quiet=quiet, use_baseline=not opts["no_baseline"])
    if cfg.record_findings and result.findings:
        from reviewer.feedback.snapshot import record_run

        problem = record_run(root, cfg.feedback_db, result.findings, job.contents)
        if problem and not quiet and not unreadable:  # one line per broken database
            warn(problem)
    terminal = output is None and sys.stdout.isatty()
    rctx = ReportContext(
        root=root, config=cfg, color=terminal, code_frame=terminal, contents=job.contents,
        show_fingerprints=show_fingerprints,
    )
    text = get_reporter(fmt)(result, rctx)
    if quiet and fmt == "text":
        text = _drop_summary(text)
    _emit(text, output)
    raise SystemExit(result.exit_code(cfg))


def _drop_summary(text: str) -> str:
    lines = text.splitlines()
    if lines and lines[-1][:1].isdigit() and " finding" in lines[-1]:
        lines.pop()
    return "".join(ln + "\n" for ln in lines)


class ProgressBar:
    """A click progress bar on stderr driven by (done, total) callbacks."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="reviewing", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        """Finish the bar (a no-op when it never started)."""
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


# -- rules ---------------------------------------------------------------------------------
@cli.group(invoke_without_command=True)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text"
)
@click.pass_context
def rules(ctx: click.Context, fmt: str) -> None:
    """List the rules with their metadata (`reviewer rules test` runs their examples)."""
    if ctx.invoked_subcommand is not None:
        return
    import json

    from reviewer.rules import all_rules

    if fmt == "markdown":  # docs/rules.md
        from reviewer.report.rules_doc import render_rules_markdown

        click.echo(render_rules_markdown(), nl=False)
        return
    from reviewer.cli_teach import taught_listing

    metas = [cls.metadata() for cls in all_rules().values()]
    if fmt == "json":
        click.echo(json.dumps(metas + taught_listing("json"), indent=2))
        return
    for m in metas:
        counter = ", ".join(f"{k} {v}" for k, v in m["counterparts"].items())
        fix = " [fix]" if m["fixable"] else ""
        click.echo(f"{m['id']}  {m['slug']:<32} {m['severity']:<6} {m['summary']}{fix}")
        also = f"; also: {counter}" if counter else ""
        click.echo(f"       principle: {m['principle']}{also}")
    for line in taught_listing("text"):
        click.echo(line)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def principles(fmt: str) -> None:
    """List the principle catalogue and the rules that enforce each principle."""
    import json

    from reviewer.principles import catalogue, checks_by_principle, describe, format_text

    checks = checks_by_principle()
    entries = [describe(p, checks.get(p.id, ())) for p in catalogue().values()]
    text = json.dumps(entries, indent=2) + "\n" if fmt == "json" else format_text(entries)
    click.echo(text, nl=False)


@rules.command("test")
@click.option("-v", "--verbose", is_flag=True, help="List every example.")
def rules_test(verbose: bool) -> None:
    """Run every rule's embedded VALID and INVALID examples."""
    from reviewer.rules import all_rules
    from reviewer.rules.testing import run_examples

    failed = total = 0
    for cls in all_rules().values():
        for res in run_examples(cls):
            total += 1
            if not res.ok:
                failed += 1
                click.echo(f"FAIL {res.rule_id} {res.kind}[{res.index}]: {res.detail}")
            elif verbose:
                click.echo(f"ok   {res.rule_id} {res.kind}[{res.index}]")
    click.echo(f"{total - failed} passed, {failed} failed")
    raise SystemExit(1 if failed else 0)


# -- baseline ------------------------------------------------------------------------------
@cli.command()
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
    result = review(job, cfg, quiet, use_baseline=False)
    target = output if output is not None else root / cfg.baseline
    try:
        n = write_baseline(target, result.findings)
    except OSError as exc:
        raise ReviewerError(f"cannot write the baseline {target}: {exc.strerror or exc}") from None
    if not quiet:
        click.echo(f"baseline written to {target}: {n} finding{'s' if n != 1 else ''}")


# -- fix -----------------------------------------------------------------------------------
@cli.command()
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


from reviewer.cli_github import register as _register_github  # noqa: E402

_register_github(cli)

from reviewer.cli_llm import register as _register_llm  # noqa: E402

_register_llm(cli)

from reviewer.cli_context import register as _register_context  # noqa: E402

_register_context(cli)

from reviewer.cli_feedback import register as _register_feedback  # noqa: E402

_register_feedback(cli)

from reviewer.cli_learn import register as _register_learn  # noqa: E402

_register_learn(cli)

from reviewer.cli_teach import register as _register_teach  # noqa: E402

_register_teach(cli)

from reviewer.cli_train import register as _register_train  # noqa: E402

_register_train(cli)

from reviewer.cli_serve import register as _register_serve  # noqa: E402

_register_serve(cli)


# -- entry point ---------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (never raises, never shows a traceback).

    Exit codes: 0 clean, 1 findings at or above the failure threshold, 2 usage or
    configuration error, 3 internal error (130 when interrupted).
    """
    args = list(argv) if argv is not None else sys.argv[1:]
    for stream in (sys.stdout, sys.stderr):  # odd file names must not crash the output
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        code = cli.main(args=args, prog_name="reviewer", standalone_mode=False)
    # The CLI's single exit point: every way a command can end becomes an exit code.
    except (Exception, SystemExit, KeyboardInterrupt) as exc:  # reviewer: ignore[RV202]
        return _exit_code(exc, debug="--debug" in args)
    return code if isinstance(code, int) else 0


def _exit_code(exc: BaseException, debug: bool) -> int:
    """Turn how a command ended into an exit code, with at most one line on stderr."""
    for kind, handle in _ENDINGS:
        if isinstance(exc, kind):
            return handle(exc)
    if debug:
        traceback.print_exception(exc)
    detail = " ".join(str(exc).split())
    click.echo(
        f"reviewer: internal error: {type(exc).__name__}: {detail} (rerun with --debug"
        " for the traceback; please report it)",
        err=True,
    )
    return EXIT_INTERNAL


def _ended(exc: SystemExit) -> int:
    return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)


def _user_error(exc: ReviewerError) -> int:
    error(str(exc))
    return exc.exit_code


def _interrupted(_: BaseException) -> int:
    click.echo("reviewer: interrupted", err=True)
    return 130


def _click_error(exc: click.ClickException) -> int:
    hint = ""
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        hint = f" (see `{exc.ctx.command_path} --help`)"
    error(exc.format_message() + hint)
    return EXIT_USAGE if exc.exit_code == 2 else exc.exit_code


def _broken_pipe(_: BaseException) -> int:
    """The reader went away (`reviewer check | head`): stop quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 1


_ENDINGS: list[tuple[type[BaseException], Callable[[Any], int]]] = [
    (SystemExit, _ended),
    (ReviewerError, _user_error),
    (click.exceptions.Abort, _interrupted),
    (KeyboardInterrupt, _interrupted),
    (click.exceptions.Exit, lambda exc: int(exc.exit_code)),
    (click.ClickException, _click_error),
    (BrokenPipeError, _broken_pipe),
]
