"""The thin click layer: options -> Config -> engine -> reporter -> exit code.

Every user-facing error is one line on stderr (``reviewer: error: ...``) with exit code 2;
an unexpected crash is one line with exit code 3 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from reviewer import __version__
from reviewer.config import DIFF_FILTERS, Config
from reviewer.errors import EXIT_INTERNAL, EXIT_USAGE, ReviewerError

SEVERITIES = ("info", "low", "medium", "high")
FORMATS = ("text", "json", "sarif", "github")


def warn(message: str) -> None:
    """One warning line on stderr."""
    click.echo(f"reviewer: warning: {message}", err=True)


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
def find_root(start: Path) -> tuple[Path, bool]:
    """The repository root (git top level) and whether it is a git repository."""
    from reviewer.diff import repo_root

    root = repo_root(start)
    if root is not None:
        return root.resolve(), True
    return start.resolve(), False


def load_config(root: Path, config_path: Path | None, **overrides: Any) -> Config:
    """Config from pyproject.toml plus command-line overrides; warnings printed once."""
    from reviewer import config as config_mod

    cfg = config_mod.load(root, config_path)
    for w in cfg.warnings:
        warn(w)
    changes = {k: v for k, v in overrides.items() if v not in (None, ())}
    return replace(cfg, **changes) if changes else cfg


def _relative(root: Path, paths: Sequence[Path]) -> list[str]:
    out = []
    for p in paths:
        if not p.exists() and not p.is_symlink():
            raise ReviewerError(f"path does not exist: {p}")
        absolute = Path(os.path.abspath(p))
        try:
            out.append(absolute.relative_to(root).as_posix() or ".")
        except ValueError:
            raise ReviewerError(f"path is outside the repository {root}: {p}") from None
    return out


def _expand(root: Path, rels: list[str], is_git: bool) -> list[str]:
    from reviewer.diff import tracked_files, walk_files

    files: list[str] = []
    dirs: list[str] = []
    for rel in rels:
        (dirs if (root / rel).is_dir() and not (root / rel).is_symlink() else files).append(rel)
    if dirs:
        under = ["." if d == "." else d for d in dirs]
        files.extend(tracked_files(root, under) if is_git else walk_files(root, under))
    return sorted(set(files))


def build_job(
    root: Path,
    is_git: bool,
    paths: Sequence[Path],
    staged: bool,
    base: str | None,
    all_files: bool,
) -> tuple[Any, str | None]:
    """Choose what to review. Returns (Job, a note for the user or None)."""
    from reviewer import diff
    from reviewer.engine import Job

    modes = sum(bool(x) for x in (staged, base, all_files))
    if modes > 1:
        raise ReviewerError("choose one of --staged, --base REF and --all")
    if all_files and paths:
        raise ReviewerError("--all reviews the whole tree; do not also give paths")
    rels = _relative(root, paths) if paths else []
    in_pre_commit = os.environ.get("PRE_COMMIT") == "1"
    from_ref = os.environ.get("PRE_COMMIT_FROM_REF") if in_pre_commit else None

    if all_files:
        return Job(root, _expand(root, ["."], is_git)), None
    if not staged and not base and from_ref:
        base = from_ref  # pre-push: review what is being pushed
    if not staged and not base and not rels:
        staged = True  # the default mode
    if (staged or base) and not is_git:
        flag = "--staged" if staged else "--base"
        raise ReviewerError(f"{flag} needs a git repository (none found at {root})")
    if not staged and not base and not in_pre_commit:
        return Job(root, _expand(root, rels, is_git)), None

    if base:
        files, changes = diff.base_changes(root, base)
    else:
        files, changes = diff.staged_changes(root)
    contents: dict[str, bytes] = {}
    if staged and not in_pre_commit:
        for rel in diff.unstaged_files(root, files):
            contents[rel] = diff.index_content(root, rel)
    if rels:
        wanted = set(_expand(root, rels, is_git))
        files = [f for f in files if f in wanted]
        # Files named explicitly but not part of the diff (pre-commit --all-files):
        # review them whole.
        for rel in sorted(wanted - set(files)):
            files.append(rel)
            changes[rel] = None
    note = None
    if not files:
        what = "staged" if staged else f"changed since {base}"
        note = f"nothing {what} to review (use --all for the whole tree)"
    return Job(root, files, changes=changes, contents=contents), note


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    from reviewer.fileio import atomic_write_text

    try:
        atomic_write_text(output, text)
    except OSError as exc:
        raise ReviewerError(f"cannot write {output}: {exc.strerror or exc}") from None


# -- check ---------------------------------------------------------------------------------
@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--staged", is_flag=True, help="Review what is staged (default without paths).")
@click.option("--base", metavar="REF", help="Review changes since the merge base with REF.")
@click.option("--all", "all_files", is_flag=True, help="Review the whole tree.")
@click.option(
    "--diff-filter", type=click.Choice(DIFF_FILTERS),
    help="Which findings of changed files to keep (default: added).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the report here.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), help="Lowest severity that fails.")
@click.option("--select", multiple=True, help="Rules to enable (IDs, prefixes, slugs).")
@click.option("--ignore", multiple=True, help="Rules to disable.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the result cache.")
@click.option("--no-baseline", is_flag=True, help="Report baselined findings too.")
@click.option("--show-unused-suppressions", is_flag=True, default=None,
              help="Report suppression comments that hide nothing.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), help="Worker processes (0: all cores).")
@click.option("-q", "--quiet", is_flag=True, help="Only findings, no summary or warnings.")
def check(
    paths: tuple[Path, ...],
    staged: bool,
    base: str | None,
    all_files: bool,
    diff_filter: str | None,
    fmt: str,
    output: Path | None,
    fail_on: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_path: Path | None,
    no_cache: bool,
    no_baseline: bool,
    show_unused_suppressions: bool | None,
    jobs: int | None,
    quiet: bool,
) -> None:
    """Review staged changes, a branch (--base), the whole tree (--all) or PATHS."""
    from reviewer import engine
    from reviewer.findings import Severity
    from reviewer.report import ReportContext, get_reporter

    root, is_git = find_root(Path.cwd())
    cfg = load_config(
        root, config_path,
        select=_split(select), ignore=_split(ignore),
        fail_on=Severity.parse(fail_on) if fail_on else None,
        cache=False if no_cache else None,
        jobs=jobs,
        report_unused_suppressions=show_unused_suppressions,
    )
    job, note = build_job(root, is_git, paths, staged, base, all_files)
    job.diff_filter = diff_filter
    if note and not quiet:
        warn(note)
    progress = _progress_bar() if sys.stderr.isatty() and not quiet and len(job.files) > 200 else None
    try:
        result = engine.run(job, cfg, progress=progress, use_baseline=not no_baseline)
    finally:
        if progress is not None:
            progress.close()
    if not cfg.report_unused_suppressions:
        result.unused_suppressions = []
    if not quiet:
        for s in result.skipped:
            warn(f"{s.path}: {s.reason}")
        for w in result.warnings:
            warn(w)
    terminal = output is None and sys.stdout.isatty()
    rctx = ReportContext(root=root, config=cfg, color=terminal, code_frame=terminal)
    text = get_reporter(fmt)(result, rctx)
    if quiet and fmt == "text":
        text = "".join(ln + "\n" for ln in text.splitlines()[:-1])
    _emit(text, output)
    raise SystemExit(result.exit_code(cfg))


class _progress_bar:  # noqa: N801 - used like a function
    """A click progress bar driven by (done, total) callbacks."""

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
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


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
    metas = [cls.metadata() for cls in all_rules().values()]
    if fmt == "json":
        click.echo(json.dumps(metas, indent=2))
        return
    for m in metas:
        counter = ", ".join(f"{k} {v}" for k, v in m["counterparts"].items())
        fix = " [fix]" if m["fixable"] else ""
        click.echo(f"{m['id']}  {m['slug']:<32} {m['severity']:<6} {m['summary']}{fix}")
        also = f"; also: {counter}" if counter else ""
        click.echo(f"       principle: {m['principle']}{also}")


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
def baseline(config_path: Path | None, output: Path | None) -> None:
    """Record every current finding of the whole tree as accepted debt."""
    from reviewer import engine
    from reviewer.baseline import write_baseline

    root, is_git = find_root(Path.cwd())
    cfg = load_config(root, config_path)
    job, _ = build_job(root, is_git, [], False, None, True)
    result = engine.run(job, cfg, use_baseline=False)
    target = output if output is not None else root / cfg.baseline
    n = write_baseline(target, result.findings)
    click.echo(f"baseline written to {target}: {n} finding{'s' if n != 1 else ''}")


# -- entry point ---------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (never raises, never shows a traceback)."""
    args = list(argv) if argv is not None else sys.argv[1:]
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="reviewer", standalone_mode=False)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except ReviewerError as exc:
        click.echo(f"reviewer: error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("reviewer: interrupted", err=True)
        return 130
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE if exc.exit_code == 2 else exc.exit_code
    except KeyboardInterrupt:
        click.echo("reviewer: interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # the one catch-all: an internal error, not the user's
        if debug:
            traceback.print_exc()
        click.echo(
            f"reviewer: internal error: {type(exc).__name__}: {exc} (rerun with --debug for"
            " the traceback; please report it)",
            err=True,
        )
        return EXIT_INTERNAL
    return 0
