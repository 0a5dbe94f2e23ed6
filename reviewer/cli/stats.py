"""``reviewer stats``: what the team's verdicts say about each rule.

Learned suppressions themselves run inside ``reviewer check``
(:mod:`reviewer.feedback.learned`); this module is the command that shows where the
reviewer is right and wrong: acceptance rate per rule, the trend per week, the most
dismissed rules, as a table, JSON, or a chart (self-contained HTML page or PNG).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reviewer.cli.common import find_root, load_config
from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.feedback.stats import Stats

CHART_SUFFIXES = (".html", ".htm", ".png")


@click.command()
@click.option("--since", metavar="DATE", help="Only verdicts given on or after DATE (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--chart", type=click.Path(path_type=Path), metavar="FILE",
              help="Also write a chart: FILE.html (self-contained page) or FILE.png.")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Config file (default: pyproject.toml at the root).")
def stats(since: str | None, fmt: str, chart: Path | None, config_path: Path | None) -> None:
    """Acceptance rate per rule (accepted / judged: the precision the team experiences),
    the trend per week and the most dismissed rules, from the verdicts database."""
    from reviewer.feedback import stats as stats_mod
    from reviewer.feedback.store import FeedbackStore, db_path

    if chart is not None and chart.suffix.lower() not in CHART_SUFFIXES:
        raise ReviewerError(f"--chart {chart}: the file name must end in .html or .png")
    start = stats_mod.parse_since(since) if since else ""
    root, _ = find_root(Path.cwd())
    cfg = load_config(root, config_path, quiet=True)
    path = db_path(root, cfg.feedback_db)
    if not path.is_file():
        _empty(fmt, start)
        return
    with FeedbackStore.open(path, create=False) as store:
        result = stats_mod.compute(store, start)
    if not result.judged:
        _empty(fmt, start)
        return
    if fmt == "json":
        click.echo(json.dumps(stats_mod.to_dict(result), indent=2))
    else:
        click.echo(stats_mod.table(result), nl=False)
    if chart is not None:
        _write_chart(chart, result)
        click.echo(f"chart written to {chart}", err=fmt == "json")


def _empty(fmt: str, since: str) -> None:
    from reviewer.feedback import stats as stats_mod

    if fmt == "json":
        empty = stats_mod.Stats(since=since, first="", last="", authors=0, rules=(), weeks=())
        click.echo(json.dumps(stats_mod.to_dict(empty), indent=2))
        return
    when = f" since {since[:10]}" if since else ""
    click.echo(stats_mod.EMPTY.replace("No verdicts yet", f"No verdicts{when}", 1)
               if when else stats_mod.EMPTY)


def _write_chart(target: Path, result: Stats) -> None:
    """Write the chart atomically (a PNG's bytes pass through latin-1 unchanged)."""
    from reviewer.feedback.chart import html_page, png_chart
    from reviewer.fileio import atomic_write_text

    try:
        if target.suffix.lower() == ".png":
            atomic_write_text(target, png_chart(result).decode("latin-1"), encoding="latin-1")
        else:
            atomic_write_text(target, html_page(result))
    except OSError as exc:
        raise ReviewerError(f"cannot write {target}: {exc.strerror or exc}") from None


# What this module adds to the ``reviewer`` group.
COMMANDS: tuple[click.Command, ...] = (stats,)
