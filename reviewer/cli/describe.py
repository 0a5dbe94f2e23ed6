"""``reviewer describe``: what a change is and what it touches (facts first, model second)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from reviewer.cli.common import config_option, emit, find_root, load_config, warn
from reviewer.cli.pipeline import BACKENDS
from reviewer.errors import ReviewerError

DESCRIBE_FORMATS = ("text", "markdown", "json")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--staged", is_flag=True, help="Describe what is staged (the default).")
@click.option("--base", metavar="REF",
              help="Describe the changes since the merge base with REF (working tree).")
@click.option("--format", "fmt", type=click.Choice(DESCRIBE_FORMATS), default="text",
              show_default=True, help="Output format.")
@click.option("--no-findings", is_flag=True, help="Do not run the rules on the change.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to a file.")
@click.option("-q", "--quiet", is_flag=True, help="No warnings on stderr.")
@config_option
@click.option("--explain/--no-explain", default=None,
              help="Have the local model add a type, title, summary and risk areas, checked "
                   "against the facts (default: the explain setting).")
@click.option("--llm-timeout", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Time the model may take (default 60, 10 under pre-commit).")
@click.option("--backend", "llm_backend", type=click.Choice(BACKENDS),
              help="Model backend (default: auto, from the machine).")
@click.option("--model", metavar="PATH|NAME",
              help="GGUF file, MLX folder or served model name (default: embedded).")
@click.option("--server-url", metavar="URL",
              help="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1.")
def describe(paths: tuple[Path, ...], staged: bool, base: str | None, fmt: str,
             no_findings: bool, output: Path | None, quiet: bool, config_path: Path | None,
             **llm: Any) -> None:
    """Describe a change: files, definitions, signatures and their callers, dependencies,
    tests and findings, computed from git and the parsers; with --explain the local model
    adds a type, a title, a summary and risk areas, checked against those facts.

    PATHS narrow the change to those files and folders. Without a model, or when its answer
    fails validation, the facts alone are printed with a type chosen by rules.
    """
    from reviewer.describe import changes
    from reviewer.describe import describe as run
    from reviewer.targets import relative_paths

    if staged and base:
        raise ReviewerError("choose one of --staged and --base REF")
    root, is_git = find_root(Path.cwd())
    if not is_git:
        raise ReviewerError(f"describe needs a git repository (none found at {root})")
    cfg = load_config(root, config_path, quiet, **llm)
    spec = tuple(relative_paths(root, list(paths)))
    change = changes.since(root, base, spec) if base else changes.staged(root, spec)
    got = run(change, cfg, findings=not no_findings)
    if not quiet:
        for w in got.facts.warnings:
            warn(w)
        if got.description.rejected:
            warn(f"the model's description was not used ({got.description.rejected}); "
                 "the facts follow")
        if not got.facts.files:
            warn(f"nothing {change.label} to describe")
    text = got.render(fmt)
    emit(text if text.endswith("\n") else text + "\n", output)


COMMANDS: tuple[click.Command, ...] = (describe,)
