"""Turn a reported finding into the record the verdicts store keeps (``Recorded``).

The record carries what later stages need without the file at hand: the flagged lines
(embedded for learned suppressions), the enclosing function trimmed to a budget (few-shot
examples and training data), the model's explanation and the fix as a unified diff.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from reviewer.feedback.store import Recorded, now_iso
from reviewer.findings import Finding, Fix, apply_edits, split_lines

MAX_CODE_LINES = 12
MAX_FUNCTION_LINES = 60
WINDOW = 5


def flagged_code(finding: Finding, lines: list[str]) -> str:
    """The flagged lines (at most MAX_CODE_LINES), dedented."""
    import textwrap

    first = max(1, finding.span.line)
    last = min(len(lines), max(first, finding.span.last_line), first + MAX_CODE_LINES - 1)
    return textwrap.dedent("\n".join(lines[first - 1:last])).strip("\n")


def enclosing_function(line: int, tree: ast.AST | None, lines: list[str]) -> str:
    """The innermost function containing ``line`` (or a window around it), trimmed."""
    best: tuple[int, int] | None = None
    if tree is not None:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                end = node.end_lineno or node.lineno
                if start <= line <= end and (best is None or start >= best[0]):
                    best = (start, end)
    if best is None:
        best = (max(1, line - WINDOW), min(len(lines), line + WINDOW))
    start, end = best
    end = min(end, start + MAX_FUNCTION_LINES - 1)
    return "\n".join(lines[start - 1:end])


def unified_fix(fix: Fix | None, path: str, source: str) -> str:
    """The fix as a unified diff of the file, "" when there is none or it does not apply."""
    if fix is None:
        return ""
    try:
        fixed = apply_edits(source, fix.edits)
    except ValueError:
        return ""
    return "".join(difflib.unified_diff(
        source.splitlines(keepends=True), fixed.splitlines(keepends=True),
        fromfile=f"a/{path}", tofile=f"b/{path}", n=2))


def snapshots(findings: Iterable[Finding], contents: Mapping[str, str]) -> list[Recorded]:
    """Records for ``findings`` (those with a fingerprint); ``contents`` maps path -> text."""
    parsed: dict[str, tuple[ast.AST | None, list[str]]] = {}
    seen = now_iso()
    out = []
    for f in findings:
        if not f.fingerprint:
            continue
        source = contents.get(f.path, "")
        if f.path not in parsed:
            try:
                tree: ast.AST | None = ast.parse(source) if f.path.endswith(".py") else None
            except (SyntaxError, ValueError):
                tree = None
            parsed[f.path] = (tree, split_lines(source))
        tree, lines = parsed[f.path]
        fix = f.model_fix or f.fix
        out.append(Recorded(
            fingerprint=f.fingerprint, rule_id=f.rule_id, slug=f.slug, message=f.message,
            path=f.path, line=f.span.line, symbol=f.symbol, severity=f.severity.label,
            code=flagged_code(f, lines), function=enclosing_function(f.span.line, tree, lines),
            explanation=f.explanation or "", fix_diff=unified_fix(fix, f.path, source),
            seen_at=seen,
        ))
    return out


def record_run(root: Path, db_setting: str, findings: Sequence[Finding],
               contents: Mapping[str, bytes]) -> str | None:
    """Remember the findings a run reported; returns a warning line instead of raising.

    ``contents`` holds the reviewed text of files that are not read from disk (staged
    blobs); other files are read from the working tree.
    """
    import sqlite3

    from reviewer.errors import ReviewerError
    from reviewer.feedback.store import FeedbackStore, db_path

    if not findings:
        return None
    texts: dict[str, str] = {}
    for path in {f.path for f in findings}:
        data = contents.get(path)
        if data is None:
            try:
                data = (root / path).read_bytes()
            except OSError:
                data = b""
        texts[path] = _decode(path, data)
    try:
        with FeedbackStore.open(db_path(root, db_setting)) as store:
            store.record(snapshots(findings, texts))
    except (ReviewerError, OSError, sqlite3.Error, ValueError) as exc:
        return f"findings not recorded for `reviewer feedback`: {exc}"
    return None


def _decode(path: str, data: bytes) -> str:
    """The text of a reviewed file (its coding cookie honoured; undecodable bytes replaced)."""
    encoding = "utf-8"
    if path.endswith(".py"):
        import io
        import tokenize

        try:
            encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
        except SyntaxError:
            encoding = "utf-8"
    try:
        return data.decode(encoding, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")
