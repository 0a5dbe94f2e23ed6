"""``reviewer models``: list, recommend, add, verify and remove local models.

The work is done by :mod:`reviewer.models`; this module parses options and prints. A failed
``add``, ``verify`` or ``remove`` is one error line and exit code 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reviewer.cli.common import config_option, root_and_config, warn
from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.hardware import MachineProfile
    from reviewer.models.fetch import Progress
    from reviewer.models.registry import Entry

EXIT_FAILED = 1
format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]),
                             default="text", show_default=True)


def _size(n: int) -> str:
    if n >= 1e9:
        return f"{n / 1e9:.1f} GB"
    return f"{n / 1e6:.0f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


@click.group()
def models() -> None:
    """Find, recommend, add and verify local models."""


def entry_row(e: Entry, profile: MachineProfile) -> dict[str, Any]:
    """One model of `models list`, with the backend that reads it and whether it fits."""
    from reviewer.models.fit import backend_for, fits

    row = e.to_dict()
    if e.info is None:
        row.update(backend="", backend_why=e.error, fits="", fits_why="")
        return row
    backend, why = backend_for(e.info, profile.apple_silicon)
    fit, fit_why = fits(e.info.size_bytes, profile)
    row.update(backend=backend, backend_why=why, fits=fit, fits_why=fit_why)
    return row


def _list_text(rows: list[dict[str, Any]], searched: list[str]) -> str:
    from reviewer.models.detect import params_label

    if not rows:
        return "no models found (searched: " + ", ".join(searched) + ")\n"
    head = ("name", "format", "size", "params", "quant", "backend", "fits")
    table = [head]
    errors = []
    for r in rows:
        info = r["info"]
        if info is None:
            table.append((r["name"], "?", "", "", "", "--", "--"))
            errors.append(f"  {r['name']}: {r['error']}")
            continue
        table.append((r["name"], info["format"], _size(info["size_bytes"]),
                      params_label(info["parameters"]),
                      info["quantization"], r["backend"] or "--", r["fits"]))
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in table]
    if errors:
        lines += ["", "unreadable:", *errors]
    hf = [r for r in rows if r["info"] and not r["backend"]]
    if hf:
        lines += ["", f"{hf[0]['name']}: {hf[0]['backend_why']}"]
    return "\n".join(lines) + "\n"


@models.command("list")
@format_option
def list_models(fmt: str) -> None:
    """Every model found here: the reviewer's own folders, the embedded one, and (read-only)
    the Hugging Face cache, LM Studio and Ollama."""
    from reviewer import hardware
    from reviewer.models.registry import Locations, discover

    loc = Locations.from_env()
    profile = hardware.detect()
    rows = [entry_row(e, profile) for e in discover(loc)]
    searched = [str(p) for p in (*loc.own, *loc.hf_cache, *loc.lmstudio, *loc.ollama)]
    if fmt == "json":
        click.echo(json.dumps({"models": rows, "searched": searched}, indent=2))
    else:
        click.echo(_list_text(rows, searched), nl=False)


@models.command()
@format_option
def recommend(fmt: str) -> None:
    """What to run on this machine for explanations, fixes and training, and why."""
    from reviewer import hardware
    from reviewer.models.catalogue import recommend as picks_for
    from reviewer.models.catalogue import tier

    profile = hardware.detect()
    picks = picks_for(profile)
    if fmt == "json":
        click.echo(json.dumps({"tier": tier(profile),
                               "picks": [p.to_dict() for p in picks]}, indent=2))
        return
    click.echo(format_recommendations(tier(profile), picks), nl=False)


def format_recommendations(tier_name: str, picks: list[Any]) -> str:
    labels = {"explain": "explanations only", "fix": "fixes", "train": "training"}
    lines = [f"This machine: {tier_name}", ""]
    for p in picks:
        m = p.model
        lines.append(f"{labels[p.role]}: {m.name} ({m.format}, {m.params_b:g}B {m.quant},"
                     f" {'' if m.exact_size else '~'}{_size(m.size_bytes)})")
        lines.append(f"  why:      {p.why}")
        lines.append(f"  prompt:   {m.template} chat template, {m.prompt_style} prompt style")
        sha = m.sha256 or ("(a folder: each file is hashed when added)" if m.format == "mlx"
                           else "not recorded in the catalogue: pass --sha256 to check it")
        lines.append(f"  sha256:   {sha}")
        lines.append(f"  get it:   {p.command}")
        if p.command.startswith("reviewer models add ") and m.format == "gguf":
            lines.append(f"            (from your `model-mirror`; or name a local copy or URL"
                         f" of {m.file})")
        lines.append(f"  from:     {m.published}")
        lines.append("")
    lines.append("Expected tokens/s: an estimate from memory bandwidth (docs/models.md).")
    return "\n".join(lines) + "\n"


@contextmanager
def _bar(label: str) -> Iterator[Progress]:
    """A progress bar on stderr (nothing when stderr is not a terminal)."""
    bars: list[Any] = []
    shown = [0]
    tty = sys.stderr.isatty()

    def update(done: int, total: int) -> None:
        if not tty:
            return
        if not bars:
            bar: Any = click.progressbar(length=total or None, label=label, file=sys.stderr)
            bar.__enter__()
            bars.append(bar)
        bars[0].update(done - shown[0])
        shown[0] = done

    try:
        yield update
    finally:
        for bar in bars:
            bar.__exit__(None, None, None)


@models.command()
@click.argument("source")
@click.option("--name", help="The name to use it by (default: the catalogue's or the file's).")
@click.option("--sha256", "sha256", metavar="HEX",
              help="Expected sha256 (default: the catalogue's, when it knows the file).")
@click.option("--link", is_flag=True, help="Link a local file or folder instead of copying it.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds without data before a download gives up (it can be resumed).")
@config_option
def add(source: str, name: str | None, sha256: str | None, link: bool, timeout: float,
        config_path: Path | None) -> None:
    """Add a model from a local file or folder, an http(s):// URL, or a catalogue name
    fetched from `model-mirror`. Downloads resume; the sha256 is checked before the file
    is moved into the model folder."""
    from reviewer.models.fetch import AddError
    from reviewer.models.fetch import add as add_model
    from reviewer.models.registry import Locations

    _, cfg = root_and_config(config_path)
    loc = Locations.from_env()
    try:
        with _bar("downloading") as progress, _bar("checking sha256") as hashing:
            done = add_model(source, loc, name=name, sha256=sha256, link=link,
                             mirror=cfg.model_mirror, timeout=timeout, progress=progress,
                             hash_progress=hashing)
    except AddError as exc:
        raise ReviewerError(str(exc), EXIT_FAILED) from None
    if done.checked:
        how = f"sha256 matches the {'catalogue' if done.checked == 'catalogue' else '--sha256'}"
    elif done.sha256:
        how = f"sha256 {done.sha256} recorded"
        warn(f"no sha256 to check {done.path.name} against (pass --sha256); recorded for"
             " `reviewer models verify`")
    else:
        how = "each file's sha256 recorded"
    resumed = f", resumed at byte {done.resumed_from}" if done.resumed_from else ""
    click.echo(f"added {done.name}: {done.path} ({how}{resumed})")
    click.echo(f'use it: [tool.reviewer] model = "{done.name}"  (or --model {done.name})')


@models.command()
@click.argument("name", required=False)
@format_option
def verify(name: str | None, fmt: str) -> None:
    """Re-check a model (default: every model in the reviewer's own folders and the
    embedded one): the sha256 recorded by `add` or the catalogue's, and that it reads."""
    from reviewer.models.fetch import verify_entry
    from reviewer.models.registry import Locations, NotFound, discover, resolve

    loc = Locations.from_env()
    entries = discover(loc)
    if name:
        try:
            chosen = [resolve(name, entries)]
        except NotFound as exc:
            raise ReviewerError(str(exc), EXIT_FAILED) from None
    else:
        chosen = [e for e in entries if e.source in ("reviewer", "embedded")]
    verdicts = [verify_entry(e, loc) for e in chosen]
    if fmt == "json":
        click.echo(json.dumps([v.__dict__ for v in verdicts], indent=2))
    else:
        for v in verdicts:
            click.echo(f"{'ok ' if v.ok else '-- '}{v.name}: {v.detail}")
        if not verdicts:
            click.echo("no models in the reviewer's folders")
    if not all(v.ok for v in verdicts):
        raise SystemExit(EXIT_FAILED)


@models.command()
@click.argument("name")
def remove(name: str) -> None:
    """Delete a model that `reviewer models add` put in the model folder (nothing else)."""
    from reviewer.models.fetch import AddError
    from reviewer.models.fetch import remove as remove_model
    from reviewer.models.registry import Locations

    try:
        path = remove_model(name, Locations.from_env())
    except AddError as exc:
        raise ReviewerError(str(exc), EXIT_FAILED) from None
    click.echo(f"removed {name}: {path}")


# What this module adds to the ``reviewer`` group.
COMMANDS: tuple[click.Command, ...] = (models,)
