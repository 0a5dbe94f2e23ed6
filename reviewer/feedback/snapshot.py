"""Turn a reported finding into the record the verdicts store keeps (``Recorded``).

The record carries what later stages need without the file at hand: the flagged lines
(embedded for learned suppressions), the enclosing function trimmed to a budget (few-shot
examples and training data), the model's explanation and the fix as a unified diff.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from reviewer.feedback.sourcetext import decode, joined
from reviewer.feedback.store import Recorded, now_iso
from reviewer.findings import Finding, Fix, apply_edits, split_lines

MAX_CODE_LINES = 12
MAX_FUNCTION_LINES = 60
WINDOW = 5
CONTEXT = 2  # lines of context in a recorded fix's diff


def flagged_code(finding: Finding, lines: list[str]) -> str:
    """The flagged lines (at most MAX_CODE_LINES), dedented (as ``textwrap.dedent``);
    ``lines`` may keep their line endings."""
    first = max(1, finding.span.line)
    last = min(len(lines), max(first, finding.span.last_line), first + MAX_CODE_LINES - 1)
    if last == first:  # most findings: one line, no dedent to compute
        return lines[first - 1].strip() if first <= len(lines) else ""
    return _dedent([ln.rstrip("\r\n") for ln in lines[first - 1:last]]).strip("\n")


def _dedent(block: list[str]) -> str:
    """``textwrap.dedent("\n".join(block))`` without its regular expressions (a recorded
    finding costs its own few lines, and this runs once per finding)."""
    if len(block) == 1:
        line = block[0]
        return line.lstrip() if line.strip() else ""
    margins = [ln[:len(ln) - len(ln.lstrip())] for ln in block if ln.strip()]
    if not margins:
        return "\n".join("" for _ in block)
    first, last = min(margins), max(margins)  # their common prefix is everyone's
    cut = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), len(first))
    return "\n".join(ln[cut:] if ln.strip() else "" for ln in block)


def function_lines(finding: Finding, count: int) -> tuple[int, int]:
    """The lines :func:`enclosing_function` takes (``count``: the file's number of lines):
    the innermost function containing the finding (as the engine's parse found it, see
    ``Finding.enclosing``) or a window around its line, trimmed to MAX_FUNCTION_LINES."""
    line = finding.span.line
    if finding.enclosing is not None:
        start, end = finding.enclosing
    else:
        start, end = max(1, line - WINDOW), min(count, line + WINDOW)
    return start, min(end, start + MAX_FUNCTION_LINES - 1)


def enclosing_function(finding: Finding, lines: list[str]) -> str:
    """The text of :func:`function_lines`. ``lines`` keep their line endings (the text is
    joined as it is, endings made LF)."""
    return joined(lines, *function_lines(finding, len(lines)))


_HUNK = re.compile(r"^@@ -(\d+)((?:,\d+)?) \+(\d+)((?:,\d+)?) @@", re.MULTILINE)


def unified_fix(fix: Fix | None, path: str, lines: list[str]) -> str:
    """The fix as a unified diff of the file, "" when there is none or it does not apply.

    Only the lines the edits touch (and the diff's context) are looked at, so the cost is
    the fix's size, not the file's: ``lines`` are the file's lines with their endings.
    """
    if fix is None or not fix.edits:
        return ""
    first = min(e.line for e in fix.edits)
    last = max(e.end_line for e in fix.edits)
    if first < 1 or last > len(lines) + 1:
        return ""
    lo = max(1, first - CONTEXT)
    hi = min(len(lines), last + CONTEXT)
    window = "".join(lines[lo - 1:hi])
    shift = lo - 1
    edits = tuple(replace(e, line=e.line - shift, end_line=e.end_line - shift)
                  for e in fix.edits)
    try:
        fixed = apply_edits(window, edits)
    except ValueError:
        return ""
    import difflib  # here: only findings with a fix need it

    diff = "".join(difflib.unified_diff(
        window.splitlines(keepends=True), fixed.splitlines(keepends=True),
        fromfile=f"a/{path}", tofile=f"b/{path}", n=CONTEXT))

    def moved(m: re.Match[str]) -> str:
        return (f"@@ -{int(m.group(1)) + shift}{m.group(2)}"
                f" +{int(m.group(3)) + shift}{m.group(4)} @@")

    return _HUNK.sub(moved, diff) if shift else diff


def snapshots(findings: Iterable[Finding], contents: Mapping[str, str]) -> list[Recorded]:
    """Records for ``findings`` (those with a fingerprint); ``contents`` maps path -> text."""
    return [Recorded(*row) for row in snapshot_rows(findings, contents)]


def snapshot_rows(findings: Iterable[Finding], contents: Mapping[str, str],
                  lazy: bool = False) -> list[tuple[Any, ...]]:
    """:func:`snapshots` as rows in ``Recorded``'s field order (``FeedbackStore.record_rows``).

    Each file is split into lines once (endings kept); each finding then costs only its
    own lines; findings of one function share its text. ``lazy``: the function's lines
    only, its text left "" (filled in when a verdict is given; what ``check`` records).
    The common case (one flagged line) is inlined: this runs for every finding of a cold
    run.
    """
    split: dict[str, list[str]] = {}
    functions: dict[tuple[str, tuple[int, int]], str] = {}  # findings of one function share
    seen = now_iso()
    out: list[tuple[Any, ...]] = []
    append = out.append
    for f in findings:
        if not f.fingerprint:
            continue
        path = f.path
        lines = split.get(path)
        if lines is None:
            lines = split[path] = split_lines(contents.get(path, ""), keepends=True)
        span = f.span
        line = span.line
        if (span.end_line is None or span.end_line == line) and 0 < line <= len(lines):
            code = lines[line - 1].strip()
        else:
            code = flagged_code(f, lines)
        if f.enclosing is not None:  # function_lines, inlined: once per finding
            start, end = f.enclosing
            end = min(end, start + MAX_FUNCTION_LINES - 1)
        else:  # a window around the line (function_lines, inlined: the common case)
            start = line - WINDOW if line > WINDOW else 1
            end = min(len(lines), line + WINDOW, start + MAX_FUNCTION_LINES - 1)
        function = ""
        if not lazy:
            key = (path, (start, end))
            known = functions.get(key)
            function = known if known is not None else joined(lines, start, end)
            functions[key] = function
        fix = f.model_fix or f.fix
        append((
            f.fingerprint, f.rule_id, f.slug, f.message, path, line, f.symbol or "",
            f.severity.label, code, function, f.explanation or "",
            unified_fix(fix, path, lines) if fix is not None else "", seen, start, end,
        ))
    return out


# How long ``check`` waits for another process's write lock on the verdicts database: a
# busy database costs the review a warning line, never time.
RECORD_WAIT_S = 0.2


def changed(findings: Sequence[Finding], known: Mapping[str, tuple[Any, ...]]) -> list[Finding]:
    """The findings whose snapshot is not recorded as it would be written now: new ones,
    moved ones, and ones with a model explanation or fix the record lacks."""
    if not known:  # a first run: every finding is new
        return [f for f in findings if f.fingerprint]
    out = []
    for f in findings:
        if not f.fingerprint:
            continue
        state = known.get(f.fingerprint)
        if state is None:
            out.append(f)
            continue
        path, line, message, severity, explanation, has_fix = state
        moved = (path, line, message, severity) != (f.path, f.span.line, f.message,
                                                     f.severity.label)
        explained = bool(f.explanation) and f.explanation != explanation
        if moved or explained or (f.model_fix is not None and not has_fix):
            out.append(f)
    return out


def run_digest(findings: Sequence[Finding]) -> str:
    """What decides the records of a run's findings, hashed (the same digest: nothing to
    write)."""
    import hashlib

    text = "\x00".join(
        f"{f.fingerprint}\x01{f.path}\x01{f.span.line}\x01{f.message}\x01{int(f.severity)}"
        f"\x01{f.explanation}\x01{f.model_fix is not None}" for f in findings)
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16).hexdigest()


def record_run(root: Path, db_setting: str, findings: Sequence[Finding],
               contents: Mapping[str, bytes]) -> str | None:
    """Remember the findings a run reported; returns a warning line instead of raising.

    Only findings whose record would change are snapshotted (an unchanged re-run writes
    nothing), each from the lines the engine already located (no second parse). A locked,
    unwritable or corrupt database costs one warning line and at most RECORD_WAIT_S.
    ``contents`` holds the reviewed text of files that are not read from disk (staged
    blobs); other files are read from the working tree.
    """
    if not findings:
        return None
    import gc

    # Thousands of rows of plain tuples and strings, no cycles: the cyclic collector would
    # only walk every live finding again and again (a third of the cost on a cold run).
    paused = gc.isenabled()
    gc.disable()
    try:
        return _record(root, db_setting, findings, contents)
    finally:
        if paused:
            gc.enable()


def _record(root: Path, db_setting: str, findings: Sequence[Finding],
            contents: Mapping[str, bytes]) -> str | None:
    import sqlite3

    from reviewer.errors import ReviewerError
    from reviewer.feedback.store import FeedbackStore, db_path

    digest = run_digest(findings)
    try:
        with FeedbackStore.open(db_path(root, db_setting), wait=RECORD_WAIT_S) as store:
            if store.meta("last_run") == digest:  # the same findings as the last run
                return None
            todo = changed(findings, store.recorded_state(f.fingerprint for f in findings))
            with store.transaction():  # one commit for the run
                if todo:
                    store.record_rows(snapshot_rows(todo, _texts(root, todo, contents),
                                                    lazy=True), no_nulls=True)
                    store.set_meta("root", str(root))  # where fill_function reads the files
                store.set_meta("last_run", digest)
    except (ReviewerError, OSError, sqlite3.Error, ValueError) as exc:
        return f"findings not recorded for `reviewer feedback`: {exc}"
    return None


def _texts(root: Path, findings: Sequence[Finding], contents: Mapping[str, bytes]
           ) -> dict[str, str]:
    """The reviewed text of each file with findings (staged blobs from ``contents``)."""
    texts: dict[str, str] = {}
    for path in dict.fromkeys(f.path for f in findings):
        data = contents.get(path)
        if data is None:
            try:
                data = (root / path).read_bytes()
            except OSError:
                data = b""
        texts[path] = decode(path, data)
    return texts
