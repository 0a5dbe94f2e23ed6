"""``reviewer fix``: apply the rules' deterministic fixes, validated, atomically.

For each file with fixable findings (``Finding.fix`` with ``fix.safe``; with ``unsafe``
also the rules' unsafe fixes and the model's), the fixes are applied in memory, then the
patched text is re-validated with the same rules: it must parse, the fixed findings must be
gone, no other finding may appear (a rule's ``fix_leaves`` excepted) and every line outside
the edits must be byte-identical. Only then is the
file replaced (temporary file + rename, encoding, BOM and line endings kept). A file that
fails validation, changed meanwhile, is a link, or whose reviewed content is not what is on
disk (staged changes differ from the working tree) is left untouched with a reason.

Nothing here prints; the CLI reports the :class:`FixReport`.
"""

from __future__ import annotations

import difflib
import io
import re
import tokenize
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reviewer.config import Config
from reviewer.engine import (
    Job,
    Result,
    Skipped,
    _per_file_ignores,
    read_source,
    review_source,
    selected_rules,
)
from reviewer.findings import Finding, Fix, TextEdit, apply_edits, lines_outside_kept
from reviewer.languages import detect
from reviewer.rules.base import Rule

Key = tuple[str, str]  # (rule id, enclosing symbol): how findings are counted across edits


@dataclass(frozen=True)
class FilePatch:
    """The validated new text of one file and the findings it fixes."""

    path: str
    before: str
    after: str
    encoding: str
    fixed: tuple[Finding, ...]

    def unified_diff(self) -> str:
        """The change as a unified diff (``a/`` and ``b/`` prefixes, like git)."""
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True), self.after.splitlines(keepends=True),
                f"a/{self.path}", f"b/{self.path}",
            )
        )


@dataclass
class FixReport:
    """What ``fix`` did or would do."""

    patches: list[FilePatch] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    remaining: list[Finding] = field(default_factory=list)  # findings still there afterwards


_NO_FIX = Fix("", ())


def fix_of(f: Finding, unsafe: bool = True) -> Fix | None:
    """The fix ``fix`` would apply: the rule's safe fix; else, with ``unsafe``, the model's
    validated fix, else the rule's unsafe one (the model's, when it validated, is the more
    specific: ``except OSError:`` rather than ``except Exception:``)."""
    if f.fix is not None and f.fix.safe:
        return f.fix
    if not unsafe:
        return None
    return f.model_fix or f.fix


def plan(job: Job, config: Config, result: Result, unsafe: bool = False) -> FixReport:
    """Validated patches for the fixable findings of ``result`` (nothing is written).

    Safe rule fixes always; with ``unsafe`` also the rules' unsafe fixes and the model's
    (never "safe"). Every kind is validated again here before it may be written.
    """
    report = FixReport()
    rules = selected_rules(config)
    by_path: dict[str, list[Finding]] = {}
    for f in result.findings:
        chosen = fix_of(f, unsafe)
        if chosen is not None and (chosen.safe or unsafe):
            by_path.setdefault(f.path, []).append(f)
    fixed_ids: set[int] = set()
    for rel, wanted in by_path.items():
        outcome = _plan_file(job, config, rules, rel, wanted, unsafe)
        if isinstance(outcome, str):
            report.rejected.append((rel, outcome))
            continue
        report.patches.append(outcome)
        fixed_ids.update(id(f) for f in outcome.fixed)
    report.remaining = [f for f in result.findings if id(f) not in fixed_ids]
    return report


def _plan_file(
    job: Job, config: Config, rules: list[Rule], rel: str, wanted: list[Finding],
    unsafe: bool = False,
) -> FilePatch | str:
    """A validated patch for one file, or why there is none."""
    got = _fixable_source(job, config, rel)
    if isinstance(got, str):
        return got
    text, data, recount = got[0], got[1], _Recount(rel, got[2], rules, config)
    before = recount(text)
    if before is None:
        return "does not parse; not modified"
    chosen, after_text = _choose(text, wanted, before, recount, unsafe)
    if not chosen:
        first = _apply(text, wanted[:1], unsafe) or text
        problem = validate(before, recount(first), wanted[:1]) or lines_outside_kept(
            text, first, _edits(wanted[:1], unsafe)
        )
        return f"the fix did not validate ({problem}); not modified"
    encoding = _encoding(data)
    try:
        after_text.encode(encoding)
    except UnicodeEncodeError:
        return f"the fixed text cannot be written as {encoding}; not modified"
    return FilePatch(rel, text, _match_newlines(text, after_text), encoding, tuple(chosen))


def plan_text(
    rel: str, text: str, language: str, config: Config, wanted: Sequence[Finding],
    fixes: bool = True,
) -> tuple[str, tuple[Finding, ...]] | str:
    """The validated fixed text of an in-memory buffer (an editor's) and the findings it
    fixes, or why there is none: the same validation as :func:`plan` (the result must parse,
    the fixed findings be gone, nothing new appear), only safe or model fixes in ``wanted``.
    With ``fixes`` False the versions are only counted: their reviews build no libcst fix.
    """
    rules = [r for r in selected_rules(config) if language in r.languages()]
    recount = _Recount(rel, language, rules, config, fixes)
    before = recount(text)
    if before is None:
        return "does not parse"
    # The caller chose what is wanted (safe rule fixes, or the model's): apply each one's
    # fix as `fix --unsafe-fixes` would (the model's when there is one).
    chosen, after_text = _choose(text, list(wanted), before, recount, unsafe=True)
    if not chosen:
        first = _apply(text, wanted[:1], unsafe=True) or text
        problem = validate(before, recount(first), wanted[:1])
        return f"the fix did not validate ({problem})"
    return after_text, tuple(chosen)


def _fixable_source(job: Job, config: Config, rel: str) -> tuple[str, bytes, str] | str:
    """(text, bytes, language) of a file that may be fixed, or why it may not."""
    if (job.root / rel).is_symlink():
        return "is a symbolic link; not modified"
    got = read_source(job.root, rel, config.max_file_size)
    if isinstance(got, Skipped):
        return f"cannot be read: {got.reason}"
    text, data = got
    reviewed = job.contents.get(rel)
    if reviewed is not None and reviewed != data:
        return "its staged content differs from the working tree; stage or stash first"
    lang = detect(rel, data[:256])
    if lang is None:
        return "no language plug-in for it"
    return text, data, lang.name


class _Recount:
    """Findings per (rule, symbol) of a version of one file; None when it does not parse."""

    def __init__(self, rel: str, lang: str, rules: list[Rule], config: Config,
                 fixes: bool = True) -> None:
        self.rel, self.lang, self.config, self.fixes = rel, lang, config, fixes
        self.by_lang = {lang: [r for r in rules if lang in r.languages()]}

    def __call__(self, source: str) -> Counter[Key] | None:
        found = review_source(self.rel, source, self.by_lang, self.lang,
                              fixes=self.fixes).findings
        found = _per_file_ignores(found, self.rel, self.config)
        if any(f.rule_id == "RV000" for f in found):
            return None
        return Counter((f.rule_id, f.symbol) for f in found)


def _choose(
    text: str, wanted: list[Finding], before: Counter[Key], recount: _Recount,
    unsafe: bool = False,
) -> tuple[list[Finding], str]:
    """Add the fixes one by one, keeping each that still validates with the ones before
    (the file then parses, the fixed findings are gone, nothing new appears, and every
    line outside the edits is byte-identical)."""
    chosen: list[Finding] = []
    after_text = text
    for f in sorted(wanted, key=lambda f: f.sort_key):
        trial = [*chosen, f]
        patched = _apply(text, trial, unsafe)
        if patched is None:
            continue  # overlaps a fix already chosen
        if validate(before, recount(patched), trial) is None and lines_outside_kept(
            text, patched, _edits(trial, unsafe)
        ) is None:
            chosen, after_text = trial, patched
    return chosen, after_text


def validate(
    before: Counter[Key], after: Counter[Key] | None, fixed: Sequence[Finding]
) -> str | None:
    """Why a patch is not acceptable, or None when it is.

    ``before``/``after``: findings per (rule, symbol) of the file before and after the patch
    (``after`` None: the patched file does not parse). The fixed findings must be gone and
    no finding may appear that was not there before.
    """
    if after is None:
        return "the patched file does not parse"
    from reviewer.rules import all_rules

    rules = all_rules()
    gone = Counter((f.rule_id, f.symbol) for f in fixed)
    allowed = before.copy()
    allowed.subtract(gone)
    for f in fixed:  # a rule's own fix may leave a finding of another rule in its place
        rule_cls = rules.get(f.rule_id)
        if rule_cls is not None and f.fix is not None and fix_of(f) is f.fix:
            for other in rule_cls.fix_leaves:
                allowed[(other, f.symbol)] += 1
    for key in sorted(set(after) | set(gone)):
        if after[key] > max(allowed[key], 0):
            rule, symbol = key
            what = "still reported" if gone[key] else "would appear"
            return f"{rule} {what}{' in ' + symbol if symbol else ''}"
    return None


def _edits(findings: Sequence[Finding], unsafe: bool) -> list[TextEdit]:
    return [e for f in findings for e in (fix_of(f, unsafe) or _NO_FIX).edits]


def _apply(text: str, findings: Sequence[Finding], unsafe: bool = False) -> str | None:
    edits = _edits(findings, unsafe)
    try:
        return apply_edits(text, edits)
    except ValueError:
        return None


def _encoding(data: bytes) -> str:
    try:
        return tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError:
        return "utf-8"


def _match_newlines(original: str, patched: str) -> str:
    """Keep CRLF line endings when the original used them throughout."""
    if "\r\n" in original and original.count("\n") == original.count("\r\n"):
        return re.sub(r"(?<!\r)\n", "\r\n", patched)
    return patched


def write(root: Path, patch: FilePatch) -> str | None:
    """Replace the file atomically; None on success, else why it was left untouched."""
    from reviewer.fileio import atomic_write_text

    path = root / patch.path
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot be read again: {exc.strerror or exc}"
    got = read_source(root, patch.path, len(data), data)
    if isinstance(got, Skipped) or got[0] != patch.before:
        return "changed while being fixed; not modified"
    try:
        atomic_write_text(path, patch.after, encoding=patch.encoding)
    except OSError as exc:
        return f"cannot be written: {exc.strerror or exc}"
    return None
