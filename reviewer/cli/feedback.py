"""Verdicts on findings: ``reviewer feedback ...`` and the interactive ``reviewer review``.

``feedback accept|dismiss FINGERPRINT`` records what somebody said about a finding that
``check`` reported (any unique prefix of its fingerprint of at least 4 hex digits);
``feedback list`` shows the verdicts, ``feedback export``/``import`` move them between
team members as JSONL. ``review`` walks the findings of a run in the terminal. Everything
lands in the verdicts database (``feedback-db``, see :mod:`reviewer.feedback.store`).
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reviewer.cli.common import mode_options, root_and_config
from reviewer.cli.pipeline import llm_options, llm_overrides
from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.feedback.store import FeedbackStore, Judged, Recorded

# Corrections longer than this are certainly not what the user meant to pass.
MAX_CORRECTION_BYTES = 1_000_000


def open_store(root: Path, cfg: Config, create: bool) -> FeedbackStore:
    """The verdicts database of the repository at ``root``."""
    from reviewer.feedback.store import FeedbackStore, db_path

    path = db_path(root, cfg.feedback_db)
    if not create and not path.is_file():
        raise ReviewerError(f"no findings recorded yet ({path} does not exist): run "
                            "`reviewer check` first, it records what it reports")
    return FeedbackStore.open(path, create=create)


def describe(f: Recorded) -> str:
    """``RV101 mutable-default-argument at lib/util.py:4``."""
    from reviewer.fileio import show_path

    return f"{f.rule_id} {f.slug} at {show_path(f.path)}:{f.line}"


def _read_correction(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReviewerError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_CORRECTION_BYTES:
        raise ReviewerError(f"{path} is too large for a corrected fix "
                            f"({len(data)} bytes; at most {MAX_CORRECTION_BYTES})")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ReviewerError(f"{path} is not UTF-8 text") from None


# -- feedback accept / dismiss ---------------------------------------------------------------
def _verdict_command(kind: str) -> click.Command:
    past = "accepted" if kind == "accept" else "dismissed"

    @click.command(kind)
    @click.argument("fingerprint")
    @click.option("--reason", default="", help="Why (kept with the verdict).")
    @click.option("--author", default="",
                  help="Who says so (default: $REVIEWER_AUTHOR, git user.email, login).")
    @click.option("--explanation", default="", metavar="TEXT",
                  help="A better explanation of the finding (training data).")
    @click.option("--fix", "fix_file", type=click.Path(path_type=Path, dir_okay=False),
                  help="A file with the right fix: a unified diff or the corrected code.")
    @click.option("--config", "config_path", type=click.Path(path_type=Path),
                  help="Config file (default: pyproject.toml at the root).")
    def command(fingerprint: str, reason: str, author: str, explanation: str,
                fix_file: Path | None, config_path: Path | None) -> None:
        from reviewer.feedback.store import Verdict

        corrected_fix = _read_correction(fix_file)
        root, cfg = root_and_config(config_path)
        with open_store(root, cfg, create=False) as store:
            found = store.resolve(fingerprint)
            added = store.add_verdict(Verdict(
                fingerprint=found.fingerprint, verdict=kind, reason=reason.strip(),
                author=author.strip(), source="cli",
                corrected_explanation=explanation.strip(), corrected_fix=corrected_fix))
        state = past if added else f"already {past}"
        click.echo(f"{state} {found.fingerprint[:12]}: {describe(found)}")

    command.help = (f"Record that a finding is {'right' if kind == 'accept' else 'wrong'} "
                    f"({kind}).\n\nFINGERPRINT is a unique prefix (4+ hex digits) of the "
                    "fingerprint that `reviewer check --show-fingerprints` (or --format json) "
                    "and `reviewer review` show.")
    return command


# -- feedback list ---------------------------------------------------------------------------
def _list_line(j: Judged) -> str:
    v, f = j.verdict, j.finding
    where = describe(f) if f is not None else "(finding not recorded)"
    reason = f"  {json.dumps(v.reason, ensure_ascii=False)}" if v.reason else ""
    return (f"{v.fingerprint[:12]}  {v.verdict:<7}  {where}  {v.author or '?'}  "
            f"{v.source}  {v.created_at}{reason}")


@click.command("list")
@click.option("--rule", "rule_id", metavar="ID", help="Only verdicts on this rule (RV101).")
@click.option("--verdict", "kind", type=click.Choice(["accept", "dismiss"]),
              help="Only accepts or only dismissals.")
@click.option("--history", is_flag=True,
              help="Every verdict, not only each author's latest one per finding.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Config file (default: pyproject.toml at the root).")
def list_verdicts(rule_id: str | None, kind: str | None, history: bool, fmt: str,
                  config_path: Path | None) -> None:
    """List the verdicts (each author's latest one per finding unless --history)."""
    root, cfg = root_and_config(config_path)
    from reviewer.feedback.store import FeedbackStore, db_path

    path = db_path(root, cfg.feedback_db)
    judged: list[Judged] = []
    if path.is_file():
        with FeedbackStore.open(path, create=False) as store:
            judged = store.verdicts(rule_id=rule_id.upper() if rule_id else None,
                                    verdict=kind, latest=not history)
    if fmt == "json":
        records = [{"verdict": asdict(j.verdict),
                    "finding": asdict(j.finding) if j.finding else None} for j in judged]
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    for j in judged:
        click.echo(_list_line(j))
    n = len(judged)
    click.echo(f"{n} verdict{'s' if n != 1 else ''}.")


# -- feedback export / import ----------------------------------------------------------------
@click.command("export")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the JSONL here (default: stdout).")
@click.option("--latest", is_flag=True,
              help="Only each author's latest verdict per finding (default: all of them).")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Config file (default: pyproject.toml at the root).")
def export_verdicts(output: Path | None, latest: bool, config_path: Path | None) -> None:
    """Write the verdicts as JSONL (one verdict with its finding per line).

    A teammate merges the file with `reviewer feedback import`.
    """
    from reviewer.feedback.store import FeedbackStore, db_path
    from reviewer.fileio import atomic_write_text

    root, cfg = root_and_config(config_path)
    buffer = io.StringIO()
    n = 0
    path = db_path(root, cfg.feedback_db)
    if path.is_file():  # no database yet: nothing to export (and none is created)
        with FeedbackStore.open(path, create=False) as store:
            n = store.export_jsonl(buffer, latest=latest)
    if output is None:
        click.echo(buffer.getvalue(), nl=False)
        return
    try:
        atomic_write_text(output, buffer.getvalue())
    except OSError as exc:
        raise ReviewerError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"{n} verdict{'s' if n != 1 else ''} written to {output}", err=True)


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise ReviewerError(f"{path}: not UTF-8 text (expected JSONL from "
                            "`reviewer feedback export`)") from None
    except OSError as exc:
        raise ReviewerError(f"cannot read {path}: {exc.strerror or exc}") from None


@click.command("import")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(path_type=Path, dir_okay=False))
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Config file (default: pyproject.toml at the root).")
def import_verdicts(files: tuple[Path, ...], config_path: Path | None) -> None:
    """Merge verdicts exported by `reviewer feedback export` (idempotent).

    All FILES are checked first: one malformed line and nothing is imported.
    """
    contents = [(path, _read_lines(path)) for path in files]
    root, cfg = root_and_config(config_path)
    added = present = 0
    with open_store(root, cfg, create=True) as store, store.transaction():
        for path, lines in contents:
            a, p = store.import_jsonl(lines, where=str(path))
            added += a
            present += p
    click.echo(f"{added} verdict{'s' if added != 1 else ''} added, {present} already present.")


@click.group("feedback")
def feedback() -> None:
    """Verdicts on findings: accept, dismiss, list, export, import."""


for _command in (_verdict_command("accept"), _verdict_command("dismiss"), list_verdicts,
                 export_verdicts, import_verdicts):
    feedback.add_command(_command)


# -- review ----------------------------------------------------------------------------------
@click.command("review")
@mode_options
@llm_options
@click.option("--all-verdicts", is_flag=True,
              help="Also walk findings that already have a verdict.")
@click.option("--author", default="",
              help="Who gives the verdicts (default: $REVIEWER_AUTHOR, git user.email, login).")
def review_command(all_verdicts: bool, author: str, **opts: Any) -> None:
    """Walk the findings of a run in the terminal and give each a verdict.

    Takes what `check` takes (staged changes by default, --base, --all, PATHS, --explain).
    For each finding: [a]ccept, [d]ismiss (with a reason), [f]ix (apply its validated fix,
    re-validated, and accept), [s]kip or [q]uit. Findings that already have a verdict are
    listed and skipped unless --all-verdicts. Reads answers line by line from stdin, so it
    can be scripted; end of input quits. Like `check`, it leaves out what the team's
    verdicts hide (dismissed findings, learned suppressions) unless --all-verdicts.
    """
    from reviewer.cli.common import warn
    from reviewer.cli.pipeline import enrich, prepare, review
    from reviewer.feedback.session import Session, TerminalIO
    from reviewer.feedback.snapshot import record_run

    root, cfg, job, note = prepare(opts, **llm_overrides(opts))
    quiet = opts["quiet"]
    if note and not quiet:
        warn(note)
    result = review(job, cfg, quiet, use_baseline=not opts["no_baseline"])
    # As `check` reports them: without what the verdicts hide (unless --all-verdicts).
    enrich(result, job, cfg, quiet=quiet, use_baseline=not opts["no_baseline"],
           learned=not all_verdicts)
    hidden = (f"{result.hidden_by_verdicts} hidden by the team's verdicts; --all-verdicts "
              "walks them" if result.hidden_by_verdicts else "")
    if not result.findings:
        click.echo(f"Nothing to review: no findings in {result.files_reviewed} file"
                   f"{'s' if result.files_reviewed != 1 else ''}"
                   f"{f' ({hidden})' if hidden else ''}.")
        return
    if hidden:
        click.echo(f"{hidden}.")
    problem = record_run(root, cfg.feedback_db, result.findings, job.contents)
    if problem:
        raise ReviewerError(problem.replace("for `reviewer feedback`", "for review"))
    with open_store(root, cfg, create=True) as store:
        session = Session(root=root, cfg=cfg, job=job, result=result, store=store,
                          io=TerminalIO(color=_terminal()), author=author.strip(),
                          all_verdicts=all_verdicts)
        session.run()
    for line in session.closing_notes():
        warn(line)


def _terminal() -> bool:
    import sys

    return sys.stdout.isatty()


# What this module adds to the ``reviewer`` group.
COMMANDS: tuple[click.Command, ...] = (feedback, review_command)
