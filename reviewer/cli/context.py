"""Commands for the repository context: ``index``, ``context FILE:LINE`` and ``style``.

Registered on the main group by :func:`register`. ChromaDB, sentence-transformers and torch
are imported only inside these commands.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reviewer.cli.common import config_option, find_root, load_config
from reviewer.errors import ReviewerError

# Seconds a second `reviewer index` waits for the first one to finish.
LOCK_WAIT = 600.0

if TYPE_CHECKING:
    from reviewer.config import Config


def _setup(config_path: Path | None, chroma_url: str | None, quiet: bool = False
           ) -> tuple[Path, Config]:
    """(root, config) for the current directory, with --chroma-url applied."""
    root, _ = find_root(Path.cwd())
    cfg = load_config(root, config_path, quiet=quiet)
    if chroma_url is not None:
        cfg = replace(cfg, chroma_url=chroma_url)
    return root, cfg


def _chroma_errors(exc: Exception) -> ReviewerError:
    text = " ".join(str(exc).split())[:200] or type(exc).__name__
    return ReviewerError(f"the index failed: {text}")


class _Bar:
    """A click progress bar on stderr, only on a terminal and not with -q."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: Any = None

    def start(self, total: int) -> None:
        if self.enabled and total > 0:
            self.bar = click.progressbar(length=total, label="Embedding chunks",
                                         file=sys.stderr, show_pos=True)
            self.bar.__enter__()

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


chroma_url_option = click.option(
    "--chroma-url", metavar="URL",
    help="Use a Chroma server (e.g. http://127.0.0.1:8000) instead of the local index.")


@click.command("index")
@click.option("--full", is_flag=True, help="Rebuild the whole index.")
@chroma_url_option
@config_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar, no summary.")
def index_command(full: bool, chroma_url: str | None, config_path: Path | None,
                  quiet: bool) -> None:
    """Index the repository for model prompts (incremental: only changed files).

    Code is split by syntax (functions, classes, module headers), docs by section and config
    files whole, and embedded on this machine. The index lives under .reviewer/index, or on
    a Chroma server with --chroma-url.
    """
    from reviewer.context import style as style_mod
    from reviewer.context.indexer import IndexSettings, refresh_index
    from reviewer.context.store import index_lock

    root, cfg = _setup(config_path, chroma_url, quiet)
    settings = IndexSettings.from_config(root, cfg)

    def waiting(pid: str) -> None:
        click.echo(f"reviewer: waiting for another `reviewer index` (pid {pid}) to finish",
                   err=True)

    bar = _Bar(not quiet)
    with index_lock(settings.index_dir, LOCK_WAIT, waiting):
        try:
            stats = refresh_index(root, cfg, full=full, progress=bar)
        except ReviewerError:
            raise
        except Exception as exc:  # chromadb's errors have no common base worth naming
            raise _chroma_errors(exc) from None
        finally:
            bar.close()
        profile = style_mod.refresh(root, cfg, stats.hashes)
    if not quiet:
        if stats.rebuilt:
            click.echo(f"Rebuilt the index ({stats.rebuilt}).")
        click.echo(stats.summary())
        if stats.skipped:
            click.echo(f"{len(stats.skipped)} files not indexed (binary, too large or not "
                       "UTF-8).")
        click.echo(f"Style profile: {style_mod.style_path(root)} "
                   f"({profile.get('python_files', 0)} Python files).")


def _parse_target(target: str) -> tuple[str, int]:
    path, sep, line = target.rpartition(":")
    if not sep or not path or not line.isdigit() or int(line) < 1:
        raise ReviewerError(f"expected FILE:LINE, got {target!r}")
    return path, int(line)


@click.command("context")
@click.argument("target", metavar="FILE:LINE")
@click.option("--budget", type=click.IntRange(min=0), help="Token budget (default: "
              "context-tokens from the config).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "prompt"]), default="text",
              show_default=True, help="prompt: the text a model prompt would get.")
@chroma_url_option
@config_option
def context_command(target: str, budget: int | None, fmt: str, chroma_url: str | None,
                    config_path: Path | None) -> None:
    """Show the repository context retrieved for the code at FILE:LINE, and why."""
    from reviewer.context.retrieve import Budget, render_context, retrieve, shared_index
    from reviewer.targets import relative_paths

    path_text, line = _parse_target(target)
    root, cfg = _setup(config_path, chroma_url)
    rel = relative_paths(root, [Path(path_text)])[0]
    source = _read_source(root / rel)
    if line > max(1, len(source.splitlines())):
        raise ReviewerError(f"{rel} has no line {line}")
    try:
        tokens = cfg.context_tokens if budget is None else budget
        items = retrieve(shared_index(root, cfg), rel, source, (line, line), Budget(tokens))
    except ReviewerError:
        raise
    except Exception as exc:
        raise _chroma_errors(exc) from None
    if fmt == "json":
        click.echo(json.dumps({"path": rel, "line": line,
                               "items": [it.as_dict() for it in items]}, indent=2))
    elif fmt == "prompt":
        click.echo(render_context(items), nl=False)
    else:
        _print_items(items)


def _read_source(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise ReviewerError(f"not a file: {path}") from None
    except UnicodeDecodeError:
        raise ReviewerError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise ReviewerError(f"cannot read {path}: {exc.strerror or exc}") from None


def _print_items(items: list[Any]) -> None:
    if not items:
        click.echo("Nothing retrieved.")
        return
    for it in items:
        cut = ", cut to fit" if it.truncated else ""
        click.echo(f"{it.score:.2f}  {it.kind:<10} {it.location}  {it.name}  "
                   f"({it.why}{cut})")


@click.command("style")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "prompt"]), default="text",
              show_default=True)
@click.option("--refresh/--no-refresh", default=True, show_default=True,
              help="Learn again from the files (else show the stored profile).")
@config_option
def style_command(fmt: str, refresh: bool, config_path: Path | None) -> None:
    """Show the coding conventions learned from the repository (.reviewer/style.json)."""
    from reviewer.context import style as style_mod

    root, cfg = _setup(config_path, None)
    profile = style_mod.refresh(root, cfg) if refresh else style_mod.load(root)
    if profile is None:
        raise ReviewerError("no style profile yet: run `reviewer style` or `reviewer index`")
    if fmt == "json":
        click.echo(json.dumps(profile, indent=2, sort_keys=True))
    elif fmt == "prompt":
        click.echo(style_mod.render_style(profile))
    else:
        click.echo(style_mod.describe(profile))


# What this module adds to the ``reviewer`` group.
COMMANDS: tuple[click.Command, ...] = (index_command, context_command, style_command)
