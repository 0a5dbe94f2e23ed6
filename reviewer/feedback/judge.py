"""The local model judges changed functions against the team's taught principles.

For each function the change touched (the diff filter decides, as for whole-function rule
findings) and each taught principle that covers the file and is selected, the model gets a
prompt from ``reviewer/templates/judge_principle.txt``: the principle, then its own
examples and the team's accepted and dismissed findings of that principle (from the
verdicts store) as few-shot turns, then the function with numbered lines. It answers JSON
(:data:`JUDGE_SCHEMA`): ``{"violates": bool, "line": int, "explanation": str}``.

A violation becomes a :class:`~reviewer.findings.Finding` with the principle's ID, slug,
text (message) and severity, reported on the line the model names (inside the function;
the def line when it names none) with the function as its ``scope``. Its fingerprint comes
from the principle, the path, the def line and the function's name, never from model
output, so verdicts, baselines and PR comments stay attached across runs.

Inline suppressions (``# reviewer: ignore[T001]`` on the def line or the flagged line,
``ignore-file``), ``per-file-ignores`` and the baseline apply; pairs they would hide are
not even sent to the model. Answers are cached like explanations. Nothing here can fail a
review: model problems become at most a few warning lines in the :class:`JudgeReport`.
"""

from __future__ import annotations

import ast
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewer.feedback.taught import Principle
from reviewer.findings import Finding, Severity, Span, fingerprint, split_lines
from reviewer.llm.answer import MAX_EXPLANATION, BadAnswer, load_object, tidy_explanation
from reviewer.llm.backend import (
    Backend,
    GenParams,
    LLMError,
    Message,
    ModelTimeout,
    ModelUnavailable,
)
from reviewer.llm.cache import AnswerCache, cache_key

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.engine import Job, Result
    from reviewer.hardware import Settings
    from reviewer.llm.prompts import Template
    from reviewer.suppressions import Suppression

TEMPLATE = "judge_principle"
JUDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "violates": {"type": "boolean"},
        "line": {"type": "integer"},
        # Bounded so a small model that starts repeating itself must close the string.
        "explanation": {"type": "string", "maxLength": MAX_EXPLANATION},
    },
    "required": ["violates", "line", "explanation"],
    "additionalProperties": False,
}
MAX_TOKENS = 192  # an answer is a flag, a number and two sentences
MAX_FUNCTION_LINES = 120
MAX_SHOT_LINES = 40
SHOTS_EACH = 2  # accepted and dismissed findings of a principle in one prompt
PRE_COMMIT_MAX_JUDGED = 3
DISMISSED_DEFAULT = "The team judged that this code follows the principle."
MAX_EXAMPLES = 2  # of each kind, from the principle's own examples
SourceReader = Callable[[str], "str | None"]


# -- what the model is asked about ---------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    """One function to judge."""

    path: str
    symbol: str  # dotted name, "Class.method"
    start: int  # first line (its first decorator)
    def_line: int  # the ``def`` line
    end: int
    lines: tuple[str, ...]  # the function's source lines (start..end)

    def line_text(self, line: int) -> str:
        return self.lines[line - self.start] if self.start <= line <= self.end else ""


def functions(path: str, source: str) -> list[Unit]:
    """Every function and method that is not nested in another function."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    lines = split_lines(source)
    out: list[Unit] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                end = child.end_lineno or child.lineno
                out.append(Unit(path, prefix + child.name, start, child.lineno, end,
                                tuple(lines[start - 1:end])))
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif not isinstance(child, ast.Lambda):
                visit(child, prefix)

    visit(tree, "")
    return sorted(out, key=lambda u: u.start)


def numbered(lines: Sequence[str], limit: int = MAX_FUNCTION_LINES) -> str:
    """Lines numbered from 1 (``  3| code``), at most ``limit`` of them."""
    shown = [f"{n:>3}| {text}" for n, text in enumerate(lines[:limit], 1)]
    if len(lines) > limit:
        shown.append(f"...| ({len(lines) - limit} more lines)")
    return "\n".join(shown)


# -- the answer ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Ruling:
    """What the model said about one function and one principle."""

    violates: bool
    line: int  # 1-based within the function shown; 0: none named
    explanation: str

    def as_json(self) -> str:
        return json.dumps({"violates": self.violates, "line": self.line,
                           "explanation": self.explanation})


def parse_ruling(text: str) -> Ruling:
    """Parse the model's answer; raise BadAnswer unless it has the schema's shape."""
    data = load_object(text)
    violates, line, explanation = data.get("violates"), data.get("line"), data.get("explanation")
    if not isinstance(violates, bool):
        raise BadAnswer("'violates' is missing or not a boolean")
    if isinstance(line, bool) or not isinstance(line, (int, float)):
        line = 0
    if not isinstance(explanation, str):
        raise BadAnswer("'explanation' is missing or not a string")
    return Ruling(violates, max(0, int(line)), tidy_explanation(explanation))


# -- few-shot examples from the verdicts store ---------------------------------------------
@dataclass(frozen=True)
class Shot:
    """A function the team judged, with the answer the model should have given."""

    path: str
    symbol: str
    code: tuple[str, ...]
    ruling: Ruling


def _shot_line(function: list[str], code: str) -> int:
    first = next((ln.strip() for ln in code.splitlines() if ln.strip()), "")
    for n, text in enumerate(function, 1):
        if first and text.strip() == first:
            return n
    return 1


def team_shots(db: Path, principle: Principle) -> list[Shot]:
    """The latest accepted and dismissed findings of ``principle`` (at most SHOTS_EACH of
    each), alternating, dismissed first. Empty when there is no store or it cannot be read."""
    import sqlite3

    from reviewer.errors import ReviewerError
    from reviewer.feedback.store import FeedbackStore

    if not db.is_file():
        return []
    try:
        with FeedbackStore.open(db, create=False) as store:
            judged = store.verdicts(rule_id=principle.id, latest=True)
    except (ReviewerError, sqlite3.Error, OSError):
        return []
    picked: dict[str, list[Shot]] = {"accept": [], "dismiss": []}
    seen: set[str] = set()
    for item in reversed(judged):  # newest first
        f, v = item.finding, item.verdict
        if f is None or not f.function.strip() or f.fingerprint in seen:
            continue
        seen.add(f.fingerprint)
        if len(picked[v.verdict]) >= SHOTS_EACH:
            continue
        lines = f.function.splitlines()[:MAX_SHOT_LINES]
        if v.verdict == "accept":
            why = v.corrected_explanation or f.explanation or principle.text
            ruling = Ruling(True, _shot_line(lines, f.code), tidy_explanation(why))
        else:
            ruling = Ruling(False, 0, tidy_explanation(v.reason or DISMISSED_DEFAULT))
        picked[v.verdict].append(Shot(f.path, f.symbol or "?", tuple(lines), ruling))
    out: list[Shot] = []
    for dismissed, accepted in zip_longest(picked["dismiss"], picked["accept"]):
        out.extend(s for s in (dismissed, accepted) if s is not None)
    return out


# -- prompts -------------------------------------------------------------------------------
def load_judge_template() -> Template:
    """The judge's prompt template (reviewer/templates/judge_principle.txt)."""
    from reviewer.llm.prompts import load_template

    return load_template(TEMPLATE)


def _example_line(lines: Sequence[str]) -> int:
    """The line of an example that most likely shows the problem: the first that is not
    blank, an import, a ``def``/``class`` line, a decorator, a comment or a docstring."""
    skip = ("import ", "from ", "def ", "async def ", "class ", "@", "#", '"""', "'''")
    for n, text in enumerate(lines, 1):
        stripped = text.strip()
        if stripped and not stripped.startswith(skip):
            return n
    return 1


def example_shots(p: Principle) -> list[Shot]:
    """The principle's own examples as few-shot turns (good, bad, good, bad...)."""
    follows = f"This code follows the principle ({p.text})."
    good = [Shot("", "", tuple(c.strip("\n").splitlines()), Ruling(False, 0, follows))
            for c in p.examples_good[:MAX_EXAMPLES]]
    bad = []
    for c in p.examples_bad[:MAX_EXAMPLES]:
        lines = tuple(c.strip("\n").splitlines())
        n = _example_line(lines)
        why = f"Line {n}, `{lines[n - 1].strip()}`, breaks the principle: {p.text}."
        bad.append(Shot("", "", lines, Ruling(True, n, why)))
    out: list[Shot] = []
    for g, b in zip_longest(good, bad):
        out.extend(s for s in (g, b) if s is not None)
    return out


def user_message(template: Template, item: Shot | Unit,
                 limit: int = MAX_FUNCTION_LINES) -> Message:
    """The question about one function (or about one of the principle's examples)."""
    what = f"Function `{item.symbol}` in {item.path}" if item.path else "Example code"
    lines = item.code if isinstance(item, Shot) else item.lines
    code = numbered(lines, limit)
    return {"role": "user", "content": template.render("user", what=what, code=code)}


def build_messages(template: Template, p: Principle, unit: Unit, shots: Sequence[Shot],
                   *, examples: bool = True, limit: int = MAX_FUNCTION_LINES) -> list[Message]:
    """System message, the principle's examples and the team's verdicts as few-shot turns,
    then the question about ``unit``."""
    messages: list[Message] = [
        {"role": "system", "content": template.render("system", principle=p.text)}]
    for s in [*(example_shots(p) if examples else []), *shots]:
        messages.append(user_message(template, s))
        messages.append({"role": "assistant", "content": s.ruling.as_json()})
    messages.append(user_message(template, unit, limit))
    return messages


# -- the report ----------------------------------------------------------------------------
@dataclass
class JudgeReport:
    """What the judge did in one run."""

    principles: int = 0
    eligible: int = 0  # (function, principle) pairs to judge
    judged: int = 0
    violations: int = 0
    model_calls: int = 0
    cache_hits: int = 0
    skipped_known: int = 0  # pairs hidden anyway (suppression, per-file ignore, baseline)
    hidden_by_baseline: int = 0
    suppressed: int = 0
    over_budget: int = 0
    too_long: int = 0
    bad_answers: int = 0
    errors: int = 0
    not_reached: int = 0
    failure: str | None = None
    max_judged: int = 0
    model_seconds: float = 0.0
    rulings: list[tuple[str, str, Ruling]] = field(default_factory=list)  # (id, symbol, r)

    def warnings(self) -> list[str]:
        """At most a few lines: what was not judged and why."""
        out = []
        over = (f" ({self.over_budget} more over max-judged {self.max_judged})"
                if self.over_budget else "")
        if self.failure:
            n = self.not_reached
            out.append(f"taught principles not judged for {n} function{'s' if n != 1 else ''}:"
                       f" {self.failure}{over}")
        elif self.over_budget:
            out.append(f"the model judged {self.eligible - self.over_budget} of"
                       f" {self.eligible} function/principle pairs (max-judged"
                       f" {self.max_judged})")
        bad = self.bad_answers + self.errors
        if bad:
            out.append(f"the model gave {bad} unusable answer{'s' if bad != 1 else ''} on"
                       " taught principles; those functions were not judged")
        return out


# -- the judge -----------------------------------------------------------------------------
class Judge:
    """Asks one backend about (function, principle) pairs, with a cache and a deadline."""

    def __init__(self, backend: Backend, *, cache: AnswerCache | None = None,
                 context_size: int = 4096, params: GenParams | None = None,
                 deadline: float | None = None, template: Template | None = None) -> None:
        self.backend = backend
        self.cache = cache or AnswerCache(None)
        self.context_size = context_size
        self.params = params or GenParams(max_tokens=MAX_TOKENS)
        self.deadline = deadline
        self.template = template or load_judge_template()
        self.report = JudgeReport()

    def _fits(self, messages: Sequence[Message]) -> bool:
        budget = self.context_size - self.params.max_tokens - 64
        used = sum(self.backend.count_tokens(m["content"]) + 4 for m in messages)
        return used <= budget

    def messages(self, p: Principle, unit: Unit, shots: Sequence[Shot]) -> list[Message] | None:
        """The prompt, trimmed to the context: fewer shots, no examples, fewer lines."""
        kept = list(shots)
        while True:
            messages = build_messages(self.template, p, unit, kept)
            if self._fits(messages):
                return messages
            if not kept:
                break
            kept.pop()
        limit = MAX_FUNCTION_LINES
        while limit >= 10:
            messages = build_messages(self.template, p, unit, [], examples=False, limit=limit)
            if self._fits(messages):
                return messages
            limit //= 2
        return None

    def ask(self, p: Principle, unit: Unit, shots: Sequence[Shot]) -> Ruling | None:
        """The model's ruling (None: the function does not fit the context).

        Raises ModelUnavailable / ModelTimeout (stop the run), BadAnswer and LLMError.
        """
        messages = self.messages(p, unit, shots)
        if messages is None:
            self.report.too_long += 1
            return None
        key = cache_key("judge", self.backend.identity(), self.params.key(), self.template.id,
                        self.template.digest, JUDGE_SCHEMA, [dict(m) for m in messages])
        hit = self.cache.get(key)
        if hit is not None:
            self.report.cache_hits += 1
            return parse_ruling(hit[0])
        timeout = None
        if self.deadline is not None:
            timeout = self.deadline - time.perf_counter()
            if timeout <= 0:
                raise ModelTimeout("the time for the model (--llm-timeout) ran out")
        self.report.model_calls += 1
        done = self.backend.complete(messages, json_schema=JUDGE_SCHEMA, params=self.params,
                                     timeout=timeout)
        self.report.model_seconds += done.seconds
        ruling = parse_ruling(done.text)
        self.cache.put(key, done.text, {"template": self.template.id})
        return ruling


_QUOTED = re.compile(r"`([^`\n]{3,80})`")


def flagged_line(unit: Unit, ruling: Ruling) -> int:
    """The file line a ruling points at: the line it names, moved to the nearest line that
    holds the code its explanation quotes (small models miscount by a line or two); the
    def line when it names none."""
    if not 1 <= ruling.line <= len(unit.lines):
        return unit.def_line
    named = unit.start + ruling.line - 1
    name = unit.symbol.rsplit(".", 1)[-1]
    quoted = [q.strip() for q in _QUOTED.findall(ruling.explanation) if q.strip() != name]
    if not quoted:
        return named
    holding = [unit.start + i for i, text in enumerate(unit.lines)
               if any(q in text for q in quoted)]
    if not holding or named in holding:
        return named
    return min(holding, key=lambda n: (abs(n - named), n))


def finding_for(p: Principle, unit: Unit, ruling: Ruling | None) -> Finding:
    """The finding a violation becomes (``ruling`` None: the skeleton, on the def line)."""
    line = unit.def_line if ruling is None else flagged_line(unit, ruling)
    text = unit.line_text(line)
    col = len(text) - len(text.lstrip()) + 1
    span = Span(line, col, line, max(col + 1, len(text.rstrip()) + 1))
    explanation = ruling.explanation if ruling is not None and ruling.explanation else None
    return Finding(
        rule_id=p.id, slug=p.slug, message=p.text, path=unit.path, span=span,
        severity=p.severity, scope=(unit.start, unit.end), symbol=unit.symbol,
        enclosing=(unit.start, unit.end),
        fingerprint=fingerprint(p.id, unit.path, unit.line_text(unit.def_line), unit.symbol, 0),
        explanation=explanation,
    )


# -- choosing what to judge ----------------------------------------------------------------
@dataclass(frozen=True)
class Pair:
    """One question for the model: does ``unit`` break ``principle``?"""

    principle: Principle
    unit: Unit


class Hider:
    """Whether a taught finding is hidden by a suppression comment, a per-file ignore or
    the baseline (checked before asking the model and again on the flagged line)."""

    def __init__(self, config: Config, baseline: Iterable[str] = ()) -> None:
        self.config = config
        self.baseline = set(baseline)
        self._sups: dict[str, list[Suppression]] = {}

    def suppressed(self, f: Finding, source: str) -> bool:
        from reviewer.suppressions import parse

        if f.path not in self._sups:
            self._sups[f.path] = parse(source, f.path)
        return any(s.covers(f) for s in self._sups[f.path])

    def ignored(self, f: Finding) -> bool:
        from reviewer.engine import is_excluded
        from reviewer.suppressions import code_matches

        return any(
            code_matches(code, f.rule_id, f.slug)
            for pattern, codes in self.config.per_file_ignores.items()
            if is_excluded(f.path, [pattern]) for code in codes
        )


def changed_units(job: Job, config: Config, read: SourceReader,
                  skipped: Iterable[str] = ()) -> tuple[list[Unit], dict[str, str]]:
    """The functions the review's diff filter keeps, and the sources they come from."""
    from reviewer.diff import filter_findings
    from reviewer.engine import is_excluded
    from reviewer.languages import detect

    gone = set(skipped)
    units: list[Unit] = []
    sources: dict[str, str] = {}
    mode = job.diff_filter or config.diff_filter
    for rel in job.files:
        if rel in gone or (config.exclude and is_excluded(rel, config.exclude)):
            continue
        source = read(rel)
        if source is None:
            continue
        lang = detect(rel, source[:256].encode("utf-8", "replace"))
        if lang is None or lang.name != "python":
            continue
        found = functions(rel, source)
        if job.changes is not None:
            probes = [Finding("T000", "", "-", rel, Span(u.def_line), Severity.LOW,
                              scope=(u.start, u.end)) for u in found]
            kept = {f.scope for f in filter_findings(probes, job.changes, mode,
                                                      config.context_lines)}
            found = [u for u in found if (u.start, u.end) in kept]
        if found:
            sources[rel] = source
            units.extend(found)
    return units, sources


def max_judged(config: Config) -> int:
    """(function, principle) pairs the model may judge in one run: the configured number,
    except that the default becomes 3 under pre-commit."""
    from reviewer.config import Config as _Config

    if os.environ.get("PRE_COMMIT") == "1" and config.max_judged == _Config.max_judged:
        return min(config.max_judged, PRE_COMMIT_MAX_JUDGED)
    return config.max_judged


def judge_review(
    principles: Sequence[Principle],
    units: Sequence[Unit],
    sources: Mapping[str, str],
    *,
    root: Path,
    config: Config,
    backend: Backend | None = None,
    settings: Settings | None = None,
    hider: Hider | None = None,
) -> tuple[list[Finding], JudgeReport]:
    """Judge ``units`` against ``principles``; returns the violations (never raises for
    model problems: they end up in the report)."""
    from reviewer.feedback.store import db_path
    from reviewer.llm.backend import timeout_for
    from reviewer.llm.factory import make_backend

    report = JudgeReport(principles=len(principles), max_judged=max_judged(config))
    hider = hider or Hider(config)
    pairs = []
    for p in principles:
        for u in units:
            if not p.applies_to(u.path):
                continue
            skeleton = finding_for(p, u, None)
            if (hider.ignored(skeleton) or skeleton.fingerprint in hider.baseline
                    or hider.suppressed(skeleton, sources[u.path])):
                report.skipped_known += 1
                continue
            pairs.append(Pair(p, u))
    pairs.sort(key=lambda pr: (pr.unit.path, pr.unit.start, pr.principle.id))
    report.eligible = len(pairs)
    if len(pairs) > report.max_judged:
        report.over_budget = len(pairs) - report.max_judged
        pairs = pairs[:report.max_judged]
    if not pairs:
        return [], report
    start = time.perf_counter()
    own = backend is None
    try:
        if backend is None:
            backend = make_backend(config, root, settings)
    except ModelUnavailable as exc:
        report.failure, report.not_reached = str(exc), len({pr.unit for pr in pairs})
        return [], report
    if backend is None:  # llm-backend = "none"
        return [], report
    cache = (AnswerCache.in_dir(root / config.cache_dir) if config.cache else AnswerCache(None))
    context = getattr(backend, "context_size", None)
    if context is None:
        context = settings.context_size if settings is not None else 4096
    judge = Judge(backend, cache=cache, context_size=int(context),
                  params=GenParams(max_tokens=min(MAX_TOKENS, config.llm_max_tokens)),
                  deadline=start + timeout_for(config))
    judge.report = report
    db = db_path(root, config.feedback_db)
    shots = {p.id: team_shots(db, p) for p in principles}
    out: list[Finding] = []
    try:
        for n, pair in enumerate(pairs):
            try:
                ruling = judge.ask(pair.principle, pair.unit, shots[pair.principle.id])
            except (ModelUnavailable, ModelTimeout) as exc:
                why = str(exc)
                if isinstance(exc, ModelTimeout) and "--llm-timeout" not in why:
                    why += " (--llm-timeout)"
                report.failure = why
                report.not_reached = len({pr.unit for pr in pairs[n:]})
                break
            except BadAnswer:
                report.bad_answers += 1
                continue
            except LLMError:
                report.errors += 1
                continue
            if ruling is None:
                continue
            report.judged += 1
            report.rulings.append((pair.principle.id, pair.unit.symbol, ruling))
            if not ruling.violates:
                continue
            f = finding_for(pair.principle, pair.unit, ruling)
            if hider.suppressed(f, sources[f.path]):
                report.suppressed += 1
                continue
            report.violations += 1
            out.append(f)
    finally:
        cache.close()
        if own:
            backend.close()
    return out, report


def judge_result(
    result: Result, job: Job, config: Config, principles: Sequence[Principle],
    read: SourceReader, *, use_baseline: bool = True, backend: Backend | None = None,
) -> JudgeReport:
    """Add the violations of taught principles to ``result.findings`` (and the report's
    warnings to ``result.warnings``); the rest of the result is left as it was."""
    from reviewer.baseline import load_baseline

    units, sources = changed_units(job, config, read, (s.path for s in result.skipped))
    known = load_baseline(job.root / config.baseline) if use_baseline else set()
    hider = Hider(config, known)
    found, report = judge_review(principles, units, sources, root=job.root, config=config,
                                 backend=backend, hider=hider)
    if found:
        result.findings = sorted([*result.findings, *found], key=lambda f: f.sort_key)
    result.warnings.extend(report.warnings())
    return report
