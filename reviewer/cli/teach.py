"""``reviewer teach``: the team's own principles, judged by the local model.

``reviewer teach "Prefer pathlib over os.path"`` (short for ``teach add TEXT``) records a
principle in the taught file; ``teach list`` (or ``teach --list``) shows them and
``teach remove T001`` drops one. :func:`judge_result` is what ``check`` calls after the
review: with the model in use it adds the violations of taught principles to the result.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reviewer.cli.common import SEVERITIES, config_option, root_and_config
from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.feedback.taught import Catalogue, Principle

MAX_EXAMPLE = 20_000


# -- check: judging changed functions -------------------------------------------------------


# -- the commands -----------------------------------------------------------------------------
class _TeachGroup(click.Group):
    """``teach TEXT`` means ``teach add TEXT``; ``teach`` and ``teach --list`` mean
    ``teach list`` (as ``git remote`` lists)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] == "--list":
            args = ["list", *args[1:]]
        elif args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["add", *args]
        return super().parse_args(ctx, args)


def _open(config_path: Path | None) -> tuple[Path, Catalogue]:
    from reviewer.feedback import taught

    root, cfg = root_and_config(config_path)
    path = taught.taught_path(root, cfg)
    return path, taught.load(path)


def _example(value: str) -> str:
    """An example given as a file name (read) or as the code itself."""
    candidate = Path(value)
    try:
        is_file = "\n" not in value and len(value) < 4096 and candidate.is_file()
    except OSError:
        is_file = False
    if is_file:
        try:
            text = candidate.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ReviewerError(f"cannot read example {value}: {exc}") from None
    else:
        text = value
    text = text.strip("\n")
    if not text.strip():
        raise ReviewerError("an example is empty")
    if len(text) > MAX_EXAMPLE:
        raise ReviewerError(f"an example is longer than {MAX_EXAMPLE} characters")
    return text + "\n"


@click.group(cls=_TeachGroup)
def teach() -> None:
    """Teach the reviewer the team's own principles, in plain language.

    `reviewer teach "Prefer pathlib over os.path"` records one (short for `teach add`);
    `reviewer teach list` (or just `reviewer teach`) shows them; `reviewer teach remove
    T001` drops one. With the model in use (`check --explain`), it judges every changed
    function against them.
    """


@teach.command("add")
@click.argument("text")
@click.option("--severity", type=click.Choice(SEVERITIES), default="low", show_default=True,
              help="Severity of its findings.")
@click.option("--example-bad", "bad", multiple=True, metavar="FILE|CODE",
              help="Code that breaks the principle (a file, or the code itself; repeatable).")
@click.option("--example-good", "good", multiple=True, metavar="FILE|CODE",
              help="Code that follows the principle (a file, or the code itself; repeatable).")
@click.option("--path", "paths", multiple=True, metavar="GLOB",
              help="Only files matching GLOB (gitignore-like, as `exclude`; repeatable).")
@config_option
def teach_add(text: str, severity: str, bad: Sequence[str], good: Sequence[str],
              paths: Sequence[str], config_path: Path | None) -> None:
    """Record a principle TEXT under the next free ID (T001, T002...)."""
    from reviewer.feedback import taught
    from reviewer.feedback.store import default_author, now_iso
    from reviewer.findings import Severity
    from reviewer.rules import all_rules

    text = " ".join(text.split())
    if not text:
        raise ReviewerError("the principle is empty: say what the team wants, e.g."
                            " `reviewer teach \"Prefer pathlib over os.path\"`")
    if len(text) > taught.MAX_TEXT:
        raise ReviewerError(f"the principle is longer than {taught.MAX_TEXT} characters:"
                            " say it in a sentence and give examples with --example-bad")
    globs = tuple(g.strip() for g in paths)
    if any(not g for g in globs):
        raise ReviewerError("--path needs a glob, e.g. --path 'src/**'")
    path, catalogue = _open(config_path)
    if any(p.text.lower() == text.lower() for p in catalogue.principles):
        same = next(p for p in catalogue.principles if p.text.lower() == text.lower())
        raise ReviewerError(f"already taught as {same.id} ({same.slug})")
    taken = [p.slug for p in catalogue.principles] + [c.slug for c in all_rules().values()]
    principle = taught.Principle(
        id="T000", slug=taught.make_slug(text, taken), text=text,
        severity=Severity.parse(severity), paths=globs,
        examples_bad=tuple(_example(v) for v in bad),
        examples_good=tuple(_example(v) for v in good),
        author=default_author(), created=now_iso(),
    )
    catalogue = catalogue.add(principle)
    taught.save(catalogue, path)
    new = catalogue.principles[-1]
    click.echo(f"{new.id} {new.slug}: taught ({_show(path)}; commit it to share it)")


@teach.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@config_option
def teach_list(fmt: str, config_path: Path | None) -> None:
    """Show the taught principles."""
    path, catalogue = _open(config_path)
    if fmt == "json":
        click.echo(json.dumps([p.metadata() for p in catalogue.principles], indent=2))
        return
    if not catalogue.principles:
        click.echo(f"no taught principles yet ({_show(path)}); add one with"
                   " `reviewer teach \"TEXT\"`")
        return
    width = max(32, *(len(p.slug) for p in catalogue.principles))
    for p in catalogue.principles:
        click.echo(_line(p, width))


def _line(p: Principle, width: int) -> str:
    extras = []
    if p.paths:
        extras.append(f"paths: {', '.join(p.paths)}")
    n = len(p.examples_bad) + len(p.examples_good)
    if n:
        extras.append(f"{n} example{'s' if n != 1 else ''}")
    tail = f" ({'; '.join(extras)})" if extras else ""
    return f"{p.id}  {p.slug:<{width}} {p.severity.label:<6} {p.text}{tail}"


@teach.command("remove")
@click.argument("principle_id", metavar="ID")
@config_option
def teach_remove(principle_id: str, config_path: Path | None) -> None:
    """Drop the principle ID (its ID is never given to another one)."""
    from reviewer.feedback import taught

    path, catalogue = _open(config_path)
    catalogue, gone = catalogue.remove(principle_id)
    taught.save(catalogue, path)
    click.echo(f"{gone.id} {gone.slug}: removed")


def _show(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# What this module adds to the ``reviewer`` group.
COMMANDS: tuple[click.Command, ...] = (teach,)
