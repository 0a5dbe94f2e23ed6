"""What every command shares: one-line messages, the repository root, the configuration
with command-line overrides, and the options that choose what to review.

Imports no command module (the commands import this one).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from reviewer.config import DIFF_FILTERS, Config
from reviewer.errors import ReviewerError

SEVERITIES = ("info", "low", "medium", "high")
FORMATS = ("text", "json", "sarif", "github")
F = TypeVar("F", bound=Callable[..., Any])


def warn(message: str) -> None:
    """One warning line on stderr."""
    click.echo(f"reviewer: warning: {' '.join(message.splitlines())}", err=True)


def error(message: str) -> None:
    """One error line on stderr."""
    click.echo(f"reviewer: error: {' '.join(message.splitlines())}", err=True)


def split_values(values: Sequence[str]) -> tuple[str, ...]:
    """``--select A,B --select C`` -> ("A", "B", "C")."""
    return tuple(v.strip() for item in values for v in item.split(",") if v.strip())


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


def root_and_config(config_path: Path | None, quiet: bool = True) -> tuple[Path, Config]:
    """The repository of the current directory and its configuration."""
    root, _ = find_root(Path.cwd())
    return root, load_config(root, config_path, quiet=quiet)


config_option = click.option("--config", "config_path", type=click.Path(path_type=Path),
                             help="Config file (default: pyproject.toml at the root).")


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


api_url_option = click.option(
    "--api-url", envvar="GITHUB_API_URL", default="https://api.github.com", show_default=True,
    help="API root (GitHub Enterprise: https://HOST/api/v3).")


def webhook_options(func: F) -> F:
    """The options of the webhook receiver, shared by ``github serve`` and ``serve
    --github-webhook`` (one receiver, :mod:`reviewer.cli.webhooks`): how to reach GitHub
    and how to publish."""
    decorators = [
        click.option("--secret-env", default="REVIEWER_WEBHOOK_SECRET", show_default=True,
                     metavar="NAME", help="Environment variable holding the webhook secret."),
        click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Reviews running at once (never two for one PR)."),
        api_url_option,
        click.option("--max-comments", type=click.IntRange(min=0), default=5,
                     show_default=True,
                     help="At most this many inline comments on a PR; the rest are summarized."),
        click.option("--check-run/--no-check-run", default=True, show_default=True,
                     help="Create check runs with annotations (app tokens only)."),
        click.option("--no-throttle", is_flag=True,
                     help="No pauses between API requests (for local test servers only)."),
    ]
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


def emit(text: str, output: Path | None) -> None:
    """Print ``text``, or write it atomically to ``output``."""
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
