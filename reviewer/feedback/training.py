"""Training data for the local model: ChatML JSONL from what the team accepted.

``reviewer export-training`` writes ``train.jsonl`` and ``valid.jsonl`` (a seeded 90/10
split), one ``{"messages": [system, user, assistant], "meta": {...}}`` object per line:

- the **system** and **user** messages are the ones the reviewer sends at inference
  (:class:`reviewer.llm.prompts.PromptBuilder` builds them: the principle and rule, then the
  finding, the code to rewrite and its enclosing function); the rule's few-shot turns are left
  out (they are the catalogue examples, which are records of their own), unless asked for;
- the **assistant** message is the JSON answer the answer schema expects
  (``{"explanation": ..., "fixed_code": ...}``, see :mod:`reviewer.llm.answer`).

Sources, in order of precedence when two records have the same prompt:

1. accepted findings with a person's correction (``corrected_explanation`` /
   ``corrected_fix`` win over the model's);
2. accepted findings with the model's explanation and validated fix;
3. the rule catalogue: every INVALID example with ``fixed=`` code, explained by the rule's
   own documentation.

A finding is stored with its enclosing function only, so the function (dedented) stands in
for the file: the finding is located in it from the fix's diff (or its flagged lines), the
rule is re-run on it to get the finding's exact span, and the fix is applied to it.

``meta`` carries what ``reviewer eval`` needs to re-run a record through the real explainer
and validator (rule, path, message, the code and the reference answer); mlx-lm ignores it.
"""

from __future__ import annotations

import ast
import hashlib
import json
import random
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewer.errors import ReviewerError
from reviewer.feedback.store import Judged, Recorded
from reviewer.findings import Finding, Span
from reviewer.llm.backend import Message, estimate_tokens
from reviewer.llm.prompts import PromptBuilder, Region, Target, find_target
from reviewer.rules.base import Rule

VALID_SHARE = 0.1
DEFAULT_SEED = 0
# Explanations shorter than this (characters) teach nothing.
DEFAULT_MIN_CHARS = 20
CATALOGUE_SENTENCES = 2


@dataclass(frozen=True)
class Record:
    """One training example: the conversation and what eval needs to replay it."""

    messages: tuple[Message, ...]
    origin: str  # "corrected" | "accepted" | "catalogue"
    rule_id: str
    path: str
    message: str
    source: str  # the code standing in for the file
    line: int
    explanation: str
    fixed_code: str | None  # the region's reference fix
    style: str = "full"  # the prompt style the messages were built in

    def key(self) -> str:
        """Identity for duplicates: the prompt (system and user messages)."""
        text = "\0".join(m["content"] for m in self.messages[:-1])
        return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "messages": [dict(m) for m in self.messages],
            "meta": {
                "origin": self.origin, "rule_id": self.rule_id, "path": self.path,
                "message": self.message, "source": self.source, "line": self.line,
                "explanation": self.explanation, "fixed_code": self.fixed_code,
                "style": self.style,
            },
        }


@dataclass
class ExportReport:
    """What the export kept and dropped, and why."""

    candidates: dict[str, int] = field(default_factory=dict)  # by origin
    short: int = 0
    broken: int = 0
    duplicate: int = 0
    unknown_rule: int = 0
    train: int = 0
    valid: int = 0

    def lines(self) -> list[str]:
        found = ", ".join(f"{n} {k}" for k, n in sorted(self.candidates.items())) or "none"
        return [
            f"candidates: {found}",
            f"dropped: {self.short} short, {self.broken} broken, {self.duplicate} duplicate, "
            f"{self.unknown_rule} of unknown rules",
            f"written: {self.train} train, {self.valid} valid",
        ]


class Skip(Exception):
    """A record left out; ``kind`` is the counter it goes to (short, broken, unknown_rule)."""

    def __init__(self, kind: str, why: str) -> None:
        super().__init__(why)
        self.kind = kind


# -- building records ----------------------------------------------------------------------
class Exporter:
    """Turns verdicts and catalogue examples into :class:`Record` objects."""

    def __init__(self, rules: dict[str, type[Rule]], *, min_chars: int = DEFAULT_MIN_CHARS,
                 few_shot: bool = False, style: str = "full") -> None:
        self.rules = rules
        self.min_chars = min_chars
        self.few_shot = few_shot
        self.style = style  # the prompt style the model gets at review time ("full"/"small")
        self.builder = PromptBuilder(estimate_tokens, style=style)

    def from_verdict(self, judged: Judged) -> Record:
        """A record for an accepted finding (its corrections winning). Raises Skip."""
        f, v = judged.finding, judged.verdict
        if f is None:
            raise Skip("broken", "the finding was never recorded")
        rule = self.rules.get(f.rule_id)
        if rule is None:
            raise Skip("unknown_rule", f"no rule {f.rule_id}")
        explanation = " ".join((v.corrected_explanation or f.explanation).split())
        self._check_explanation(explanation)
        source, start = locate(f)
        finding = finding_at(rule, f.path, source, f.line, f.message)
        fixed_source = _fixed_source(f, v.corrected_fix, start)
        origin = "corrected" if v.corrected_explanation or v.corrected_fix else "accepted"
        return self._record(rule, finding, source, fixed_source, explanation, origin,
                            corrected_code=_plain_code(v.corrected_fix))

    def from_catalogue(self, rule: type[Rule]) -> list[Record]:
        """Records for the rule's INVALID examples that carry ``fixed=`` code, and for its
        fix examples (``reviewer/templates/fix_examples.toml``: code, fixed, explanation)."""
        from reviewer.llm.prompts import _first_sentences, example_pool

        docs = _first_sentences(rule.rationale(), CATALOGUE_SENTENCES)
        out = []
        for entry in example_pool()[0].get(rule.id, ()):
            source = textwrap.dedent(str(entry.get("code", ""))).strip("\n") + "\n"
            found = _run(rule, "example.py", source)
            line = entry.get("line")
            pick = int(line) - 1 if isinstance(line, int) else 0
            if not 0 <= pick < len(found) or not entry.get("fixed"):
                continue
            fixed = textwrap.dedent(str(entry["fixed"])).strip("\n") + "\n"
            explanation = " ".join(str(entry.get("explanation", "")).split())
            try:
                self._check_explanation(explanation)
                out.append(self._record(rule, found[pick], source, fixed, explanation,
                                        "catalogue"))
            except Skip:
                continue
        for inv in rule.INVALID:
            if not inv.fixed or inv.options:
                continue
            source = textwrap.dedent(inv.code)
            found = _run(rule, inv.path, source)
            if not found:
                continue
            explanation = " ".join(f"{found[0].message.rstrip('.')}. {docs}".split())
            try:
                self._check_explanation(explanation)
                out.append(self._record(rule, found[0], source, textwrap.dedent(inv.fixed),
                                        explanation, "catalogue"))
            except Skip:
                continue
        return out

    def _answer_code(self, rule: type[Rule], finding: Finding, region: Region,
                     fixed: str | None) -> str | None:
        if fixed is None or not asks_fix(self.style, rule, finding, region):
            return None
        return _shown(self.style, region, fixed)

    def _check_explanation(self, explanation: str) -> None:
        if not explanation:
            raise Skip("broken", "no explanation")
        if len(explanation) < self.min_chars:
            raise Skip("short", "explanation too short")

    def _record(self, rule: type[Rule], finding: Finding, source: str,
                fixed_source: str | None, explanation: str, origin: str,
                corrected_code: str | None = None) -> Record:
        target = find_target(source, finding)
        try:
            prompt = self.builder.build(rule, finding, source, target)
        except ValueError as exc:
            raise Skip("broken", str(exc)) from None
        region = prompt.region
        fixed: str | None = None
        if corrected_code is not None:
            fixed = corrected_code
            whole = _whole(source)
            if region.kind != "function" and _rewrites_whole(corrected_code, whole):
                region = whole
                prompt = self.builder.build(rule, finding, source, Target(region))
        elif fixed_source is not None:
            fixed = region_replacement(source, fixed_source, region)
            if fixed is None:  # the fix reaches outside the region: rewrite the whole code
                region = _whole(source)
                target = Target(region)
                prompt = self.builder.build(rule, finding, source, target)
                fixed = region_replacement(source, fixed_source, region)
                if fixed is None:
                    raise Skip("broken", "the fix changes code before the function")
        if fixed is not None:
            fixed = fixed if fixed.endswith("\n") else fixed + "\n"
            if not _parses(_replace(source, region, fixed)):
                raise Skip("broken", "the fix does not parse")
        messages = list(prompt.messages)
        if not self.few_shot:
            messages = [messages[0], messages[-1]]
        answer = json.dumps({"explanation": explanation,
                             "fixed_code": self._answer_code(rule, finding, region, fixed)})
        messages.append({"role": "assistant", "content": answer})
        return Record(tuple(messages), origin, rule.id, finding.path, finding.message, source,
                      finding.span.line, explanation, fixed, self.style)


def asks_fix(style: str, rule: type[Rule], finding: Finding, region: Region) -> bool:
    """Whether the reviewer asks the model for a fix of this finding (the answer schema then
    allows ``fixed_code``; else it must be null). Mirrors ``Explainer.wants_fix``: never for
    a finding with the rule's own fix nor for a rule with no local fix (where the reviewer
    asks all the same, ``Rule.model_betters_fix``, an adapter taught null leaves the rule's
    fix shown); in the small style only where a line-level example shows the edit and the
    code to rewrite is not a whole function."""
    from reviewer.llm.prompts import line_examples

    if finding.fix is not None or not rule.has_local_fix(finding):
        return False
    if style != "small":
        return True
    return region.kind != "function" and bool(line_examples(rule))


def finding_at(rule: type[Rule], path: str, source: str, line: int, message: str) -> Finding:
    """The rule's own finding at ``line`` of ``source`` (its exact span), or one made up
    from the record when the rule does not fire on the code alone."""
    found = [f for f in _run(rule, path, source) if f.span.line <= line <= f.span.last_line]
    if found:
        return found[0]
    return Finding(rule.id, rule.slug, message, path, Span(line), rule.severity)


def _shown(style: str, region: Region, fixed: str) -> str:
    """The fix as the model writes it: the small style shows code with single-quoted
    strings (``swap_quotes``), so where that changed the region, the answer uses them too."""
    from reviewer.llm.prompts import swap_quotes

    if style == "small" and swap_quotes(region.code) != region.code:
        return swap_quotes(fixed)
    return fixed


def _run(rule: type[Rule], path: str, source: str) -> list[Finding]:
    from reviewer.languages import languages

    lang = languages().get(rule.language)
    if lang is None:
        return []
    try:
        return [f for f in lang.review(path, source, [rule(None)]) if f.rule_id == rule.id]
    except (ValueError, SyntaxError):
        return []


# -- locating a recorded finding in its function -------------------------------------------
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class Hunk:
    """One hunk of a unified diff: where it starts in the old file, old and new lines."""

    old_start: int
    old: tuple[str, ...]
    new: tuple[str, ...]


def parse_diff(diff: str) -> list[Hunk]:
    """The hunks of a unified diff (file headers skipped). Raises ValueError when malformed."""
    hunks: list[Hunk] = []
    current: tuple[int, list[str], list[str]] | None = None
    for raw in diff.splitlines():
        m = _HUNK.match(raw)
        if m:
            if current is not None:
                hunks.append(Hunk(current[0], tuple(current[1]), tuple(current[2])))
            current = (int(m.group(1)), [], [])
            continue
        if current is None:
            continue  # file headers
        if raw.startswith("\\"):
            continue  # "\ No newline at end of file"
        tag, text = raw[:1], raw[1:]
        if tag in (" ", ""):
            current[1].append(text)
            current[2].append(text)
        elif tag == "-":
            current[1].append(text)
        elif tag == "+":
            current[2].append(text)
        else:
            raise ValueError(f"not a diff line: {raw[:40]!r}")
    if current is not None:
        hunks.append(Hunk(current[0], tuple(current[1]), tuple(current[2])))
    if not hunks:
        raise ValueError("no hunk in the diff")
    return hunks


def _find_block(lines: Sequence[str], block: Sequence[str]) -> int | None:
    """Index of ``block`` in ``lines`` (whitespace at line ends ignored), or None."""
    norm = [ln.rstrip() for ln in lines]
    want = [ln.rstrip() for ln in block]
    if not want:
        return None
    for i in range(len(norm) - len(want) + 1):
        if norm[i:i + len(want)] == want:
            return i
    return None


def _function_start(f: Recorded, lines: list[str]) -> int:
    """The file line the recorded function text starts at. Raises Skip."""
    if f.fix_diff.strip():
        try:
            hunk = parse_diff(f.fix_diff)[0]
        except ValueError as exc:
            raise Skip("broken", str(exc)) from None
        for front, back in _trims(hunk):
            at = _find_block(lines, hunk.old[front:len(hunk.old) - back])
            if at is not None:
                return hunk.old_start + front - at
    first = next((ln.strip() for ln in f.code.splitlines() if ln.strip()), "")
    starts = [f.line - i for i, ln in enumerate(lines) if first and ln.strip() == first]
    starts = [s for s in starts if s >= 1]
    if not starts:
        raise Skip("broken", "the flagged code is not in the recorded function")
    return starts[0]


def _context(hunk: Hunk) -> tuple[int, int]:
    """How many lines of context the hunk has before and after its change."""
    n = min(len(hunk.old), len(hunk.new))
    front = next((i for i in range(n) if hunk.old[i] != hunk.new[i]), n)
    back = next((i for i in range(n - front)
                 if hunk.old[len(hunk.old) - 1 - i] != hunk.new[len(hunk.new) - 1 - i]),
                n - front)
    return front, back


def _trims(hunk: Hunk) -> list[tuple[int, int]]:
    """Ways to drop context lines from the hunk's ends (the diff's context may reach past
    the recorded function), fewest dropped first."""
    front, back = _context(hunk)
    pairs = [(a, b) for a in range(front + 1) for b in range(back + 1)]
    return sorted(pairs, key=lambda p: p[0] + p[1])


def _clip(hunk: Hunk, at: int, size: int) -> Hunk:
    """The hunk without the context lines that fall outside ``0..size`` of the function."""
    front, back = _context(hunk)
    cut_front = min(front, max(0, -at))
    over = at + len(hunk.old) - size
    cut_back = min(back, max(0, over))
    return Hunk(hunk.old_start + cut_front, hunk.old[cut_front:len(hunk.old) - cut_back],
                hunk.new[cut_front:len(hunk.new) - cut_back])


def locate(f: Recorded) -> tuple[str, int]:
    """(the code standing in for the file, the file line it starts at).

    The code is the recorded function, dedented, after blank lines that keep the file's line
    numbers (so the prompt names the same ``path:line`` as at review time). Raises Skip when
    the finding cannot be placed in its function.
    """
    text = f.function or f.code
    lines = text.splitlines()
    start = _function_start(f, lines)
    if start < 1 or not start <= f.line < start + len(lines):
        raise Skip("broken", "the finding's line is outside the recorded function")
    return "\n" * (start - 1) + textwrap.dedent(text).rstrip("\n") + "\n", start


def _fixed_source(f: Recorded, corrected: str, start: int) -> str | None:
    """The code of :func:`locate` with the fix applied (a corrected diff winning); None when
    there is no fix."""
    diff = corrected if _is_diff(corrected) else ("" if corrected.strip() else f.fix_diff)
    if not diff.strip():
        return None
    lines = (f.function or f.code).splitlines()
    try:
        hunks = parse_diff(diff)
    except ValueError as exc:
        raise Skip("broken", str(exc)) from None
    out = list(lines)
    for hunk in sorted(hunks, key=lambda h: -h.old_start):
        hunk = _clip(hunk, hunk.old_start - start, len(out))
        at = hunk.old_start - start
        if at < 0 or out[at:at + len(hunk.old)] != list(hunk.old):
            found = _find_block(out, hunk.old)
            if found is None:
                raise Skip("broken", "the fix does not apply to the recorded function")
            at = found
        out[at:at + len(hunk.old)] = list(hunk.new)
    body = _dedent_by("\n".join(out) + "\n", _common_indent(lines))
    return "\n" * (start - 1) + body


def _is_diff(text: str) -> bool:
    return bool(re.search(r"^@@ -\d", text, re.MULTILINE))


def _plain_code(corrected: str) -> str | None:
    """A corrected fix given as code (not a diff): the replacement of the code to rewrite."""
    if not corrected.strip() or _is_diff(corrected):
        return None
    return textwrap.dedent(corrected).strip("\n") + "\n"


def _common_indent(lines: Sequence[str]) -> str:
    text = "\n".join(lines)
    dedented = textwrap.dedent(text)
    first = next((ln for ln in lines if ln.strip()), "")
    first_d = next((ln for ln in dedented.splitlines() if ln.strip()), "")
    return first[: len(first) - len(first_d)]


def _dedent_by(text: str, indent: str) -> str:
    if not indent:
        return text
    return "".join(ln[len(indent):] if ln.startswith(indent) else ln.lstrip(" \t")
                   for ln in text.splitlines(keepends=True))


# -- the region's fixed code ---------------------------------------------------------------
def region_replacement(source: str, fixed_source: str, region: Region) -> str | None:
    """The text replacing ``region`` of ``source`` to give ``fixed_source`` (dedented by the
    region's indent), or None when the change reaches outside the region."""
    old = source.splitlines(keepends=True)
    new = fixed_source.splitlines(keepends=True)
    head, tail = old[:region.start - 1], old[region.end:]
    if new[:len(head)] != head or (tail and new[len(new) - len(tail):] != tail):
        return None
    if len(new) < len(head) + len(tail):
        return None
    body = "".join(new[len(head):len(new) - len(tail)])
    if body == region.code and not region.indent:
        return None
    return _dedent_by(body, region.indent)


def _rewrites_whole(code: str, whole: Region) -> bool:
    """Whether a corrected fix given as code is the whole function rather than the code to
    rewrite: it starts like the function and is nearly as long."""
    first = next((ln.strip() for ln in code.splitlines() if ln.strip()), "")
    head = next((ln.strip() for ln in whole.code.splitlines() if ln.strip()), "")
    name = re.match(r"(?:async\s+)?def\s+\w+|@\S+", head)
    return (name is not None and first.startswith(name.group())
            and len(code.splitlines()) >= len(whole.code.splitlines()) - 1)


def _whole(source: str) -> Region:
    from reviewer.llm.prompts import region_of_lines

    lines = source.splitlines(keepends=True)
    first = next((i for i, ln in enumerate(lines, 1) if ln.strip()), 1)
    return region_of_lines(lines, first, len(lines), "function")


def _replace(source: str, region: Region, fixed: str) -> str:
    lines = source.splitlines(keepends=True)
    body = "".join(region.indent + ln if ln.strip() else ln
                   for ln in fixed.splitlines(keepends=True))
    return "".join(lines[:region.start - 1]) + body + "".join(lines[region.end:])


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return False
    return True


# -- the export ----------------------------------------------------------------------------
def collect(judged: Iterable[Judged], rules: dict[str, type[Rule]], *,
            min_chars: int = DEFAULT_MIN_CHARS, catalogue: bool = True,
            few_shot: bool = False, style: str = "full") -> tuple[list[Record], ExportReport]:
    """Every usable record, corrected ones first, duplicates dropped (first kept)."""
    report = ExportReport()
    exporter = Exporter(rules, min_chars=min_chars, few_shot=few_shot, style=style)
    built: list[Record] = []
    for j in judged:
        origin = "corrected" if (j.verdict.corrected_explanation
                                 or j.verdict.corrected_fix) else "accepted"
        report.candidates[origin] = report.candidates.get(origin, 0) + 1
        try:
            built.append(exporter.from_verdict(j))
        except Skip as skip:
            setattr(report, skip.kind, getattr(report, skip.kind) + 1)
    if catalogue:
        for rule in rules.values():
            records = exporter.from_catalogue(rule)
            report.candidates["catalogue"] = report.candidates.get("catalogue", 0) + len(records)
            built.extend(records)
    rank = {"corrected": 0, "accepted": 1, "catalogue": 2}
    built.sort(key=lambda r: rank[r.origin])  # stable: the store's order within an origin
    seen: set[str] = set()
    kept: list[Record] = []
    for r in built:
        k = r.key()
        if k in seen:
            report.duplicate += 1
            continue
        seen.add(k)
        kept.append(r)
    return kept, report


def split(records: Sequence[Record], seed: int = DEFAULT_SEED,
          valid_share: float = VALID_SHARE) -> tuple[list[Record], list[Record]]:
    """A seeded train/validation split, independent of the records' input order.

    At least one validation record once there are two records (mlx-lm needs one).
    """
    ordered = sorted(records, key=lambda r: r.key())
    random.Random(seed).shuffle(ordered)
    n_valid = 0 if len(ordered) < 2 else max(1, round(len(ordered) * valid_share))
    return ordered[n_valid:], ordered[:n_valid]


def write_split(out: Path, train: Sequence[Record], valid: Sequence[Record]) -> None:
    """Write ``train.jsonl`` and ``valid.jsonl`` atomically."""
    from reviewer.fileio import atomic_write_text

    try:
        for name, part in (("train.jsonl", train), ("valid.jsonl", valid)):
            text = "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in part)
            atomic_write_text(out / name, text)
    except OSError as exc:
        raise ReviewerError(f"cannot write training data to {out}: "
                            f"{exc.strerror or exc}") from None


def read_split(data: Path, name: str) -> list[dict[str, Any]]:
    """The records of ``data/name.jsonl``. Raises ReviewerError (one line) when unusable."""
    path = data / f"{name}.jsonl"
    if not path.is_file():
        raise ReviewerError(f"no {name}.jsonl in {data} (run `reviewer export-training`)")
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("messages"), list):
                raise ValueError("no messages")
        except ValueError as exc:
            raise ReviewerError(f"{path}:{number}: not a ChatML record ({exc})") from None
        out.append(record)
    return out
