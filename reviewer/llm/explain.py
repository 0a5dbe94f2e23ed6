"""The loop that asks the model about findings: explain, propose a fix, validate, retry.

For each finding (most severe first, at most ``max_explained`` per run) the model gets a
prompt built from the templates and answers JSON. A proposed fix is applied in memory and
checked by :class:`~reviewer.llm.validate.FileValidator`; when it fails, the complaint goes
back to the model, up to ``fix_passes`` more times. A fix that never validates is dropped;
the explanation stays. Answers are cached, so a repeated run makes no model call.

Nothing here can make a review fail: every model problem becomes one warning line in the
:class:`ExplainReport`, and the findings come back unchanged where the model could not help.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewer.findings import Finding, Fix
from reviewer.llm.answer import BadAnswer, answer_schema, code_bound, code_prefix, parse_answer
from reviewer.llm.backend import (
    DEFAULT_PARAMS,
    Backend,
    GenParams,
    LLMError,
    Message,
    ModelTimeout,
    ModelUnavailable,
    budget_for,
    timeout_for,
)
from reviewer.llm.cache import AnswerCache, cache_key
from reviewer.llm.factory import make_backend
from reviewer.llm.judge import Facts, judge, rule_explanation
from reviewer.llm.prompts import (
    STYLES,
    PromptBuilder,
    Region,
    Target,
    example_pool,
    find_target,
    line_examples,
    load_template,
    region_of_lines,
    rule_examples,
    swap_quotes,
    template_for,
)
from reviewer.llm.validate import FileValidator, region_fix

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.hardware import Settings
    from reviewer.rules.base import Rule

SourceReader = Callable[[str], "str | None"]
RETRY_TEMPERATURE = 0.7
# A model file smaller than this (a GGUF, or an MLX folder's weights) gets the small prompt
# style. Measured on the demo's seeded findings (docs/benchmarks.md): SmolLM2-135M Q4 (98 MB)
# validates 0 fixes with the full style and 4 with the small one; Qwen2.5-Coder-1.5B Q4_K_M
# (1.1 GB) 4 with the full style, 6 with the small one, in half the time. Bigger models
# (3B Q4 is about 2 GB) keep the full style.
SMALL_MODEL_BYTES = 1_500_000_000
# Models with fewer parameters than this get explanations only, no model fixes (the
# ``model-fix-min-params`` setting; 0 turns the gate off, as ``--model-fixes`` does). On 97
# findings of real projects (docs/benchmarks.md) SmolLM2-135M had 7 fixes validated and 1
# right; Qwen2.5-Coder-1.5B 12 and 6. A GGUF says its parameter count; without one the
# count is estimated from the file size at 4 bits a parameter (the common quantization).
MODEL_FIX_MIN_PARAMS = 1_000_000_000
BYTES_PER_PARAM_GUESS = 0.5


def model_bytes(backend: Backend) -> int | None:
    """Size of the backend's model on disk (None when it has no local file: a server)."""
    path = getattr(backend, "model_path", None)
    if not isinstance(path, Path):
        return None
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.glob("*.safetensors"))
        return path.stat().st_size
    except OSError:
        return None


def prompt_style(backend: Backend) -> str:
    """The prompt style for a backend's model: "small" for a local model under
    SMALL_MODEL_BYTES, else "full" (a server's model is assumed capable). A model with an
    adapter loaded gets "full": adapters are trained on the full style's prompts
    (reviewer.feedback.training builds them with the default PromptBuilder)."""
    if getattr(backend, "lora_path", None) is not None or getattr(backend, "adapter", None):
        return "full"
    size = model_bytes(backend)
    return "small" if size is not None and size < SMALL_MODEL_BYTES else "full"


def model_parameters(backend: Backend) -> int | None:
    """The parameter count of the backend's local model: from the GGUF header (or an MLX
    folder's safetensors), else estimated from the file size; None for a server's model."""
    size = model_bytes(backend)
    if size is None:
        return None
    path = getattr(backend, "model_path", None)
    if isinstance(path, Path):
        from reviewer.models.detect import ModelFormatError, detect

        try:
            params = detect(path).parameters
        except (ModelFormatError, OSError):
            params = 0
        if params:
            return params
    return int(size / BYTES_PER_PARAM_GUESS)


def fix_gate(backend: Backend, min_params: int) -> str | None:
    """Why the backend's model is not asked for fixes (one phrase), or None when it is:
    a local model with fewer than ``min_params`` parameters (0: no gate) writes wrong fixes
    more often than right ones, so it explains only."""
    if min_params <= 0:
        return None
    params = model_parameters(backend)
    if params is None or params >= min_params:
        return None
    from reviewer.models.detect import params_label

    path = getattr(backend, "model_path", None)
    name = path.name if isinstance(path, Path) else "the model"
    return (
        f"{name} has {params_label(params)} parameters, under model-fix-min-params"
        f" ({params_label(min_params)}): explanations only, no model fixes"
        " (--model-fixes to force them)"
    )


@dataclass
class ExplainReport:
    """What the model did in one run (for warnings, ``--verbose`` output and benchmarks)."""

    eligible: int = 0
    explained: int = 0
    fixes_asked: int = 0  # findings the model was asked to fix (see Explainer.wants_fix)
    fixes_proposed: int = 0  # answers that carried fixed code (every pass counts)
    fixes_validated: int = 0
    fixes_dropped: int = 0  # findings whose proposed fixes never validated
    model_calls: int = 0
    cache_hits: int = 0
    over_budget: int = 0
    bad_answers: int = 0
    errors: int = 0
    not_reached: int = 0  # findings left when the model failed or the time ran out
    failure: str | None = None  # why the model stopped (one line)
    # (rule id, the pass whose fix validated: 0 = the first answer; None = no fix) for
    # every finding the model was asked to fix.
    fix_outcomes: list[tuple[str, int | None]] = field(default_factory=list)
    # The same pass by (path, line, rule id) of each validated fix (for a hand check).
    validated_pass: dict[tuple[str, int, str], int] = field(default_factory=dict)
    explanations_rejected: int = 0  # model explanations refused by reviewer.llm.judge
    explanations_fallback: int = 0  # findings given the reviewer's own explanation
    model_seconds: float = 0.0
    first_token_s: list[float] = field(default_factory=list)
    completion_tokens: int = 0
    max_explained: int = 0
    context_skipped: str | None = None  # why repository context was left out (one line)
    fixes_gated: str | None = None  # why the model was asked for no fix (see fix_gate)

    def warnings(self) -> list[str]:
        """At most a few lines saying what was skipped and why."""
        out = []
        if self.failure:
            # One line for the whole skip: findings beyond --max-explained are folded in, so
            # a model that gave up never costs the user a second warning line.
            n = self.not_reached
            budget = (
                f" ({self.over_budget} more over --max-explained {self.max_explained})"
                if self.over_budget else ""
            )
            out.append(
                f"model explanations skipped for {n} finding{'s' if n != 1 else ''}:"
                f" {self.failure}{budget}"
            )
        if self.bad_answers or self.errors:
            n = self.bad_answers + self.errors
            out.append(
                f"the model gave {n} unusable answer{'s' if n != 1 else ''};"
                " those findings have no explanation"
            )
        if self.context_skipped:
            out.append(self.context_skipped)
        if self.fixes_gated and self.explained:
            out.append(self.fixes_gated)
        if self.over_budget and not self.failure:
            out.append(
                f"model explained {self.eligible - self.over_budget} of {self.eligible}"
                f" findings (--max-explained {self.max_explained})"
            )
        return out


@dataclass
class _Job:
    finding: Finding
    rule: type[Rule]
    source: str


class Explainer:
    """Explains findings with one backend, one cache and one deadline."""

    def __init__(
        self,
        backend: Backend,
        *,
        rules: Sequence[Rule],
        cache: AnswerCache | None = None,
        context_size: int = 4096,
        params: GenParams = DEFAULT_PARAMS,
        fix_passes: int = 2,
        deadline: float | None = None,
        repo_context: Callable[[Finding, str], str] | None = None,
        style: str | None = None,
        min_fix_params: int = 0,
    ) -> None:
        if style is not None and style not in STYLES:
            raise ValueError(f"unknown prompt style {style!r}")
        self.backend = backend
        # "small" or "full" (see reviewer.llm.prompts); by default from the model's size.
        self.style = style or prompt_style(backend)
        self.rules = list(rules)
        self.cache = cache or AnswerCache(None)
        self.context_size = context_size
        self.params = params
        self.fix_passes = fix_passes
        self.deadline = deadline
        # (finding, source) -> text for the prompt's repository-context slot.
        self.repo_context = repo_context
        self.template = load_template(template_for(self.style))
        self.builder = PromptBuilder(
            backend.count_tokens, context_size=context_size, max_tokens=params.max_tokens,
            template=self.template, style=self.style,
        )
        self.report = ExplainReport()
        # Too small a model to write fixes (see fix_gate): explanations only.
        self.report.fixes_gated = fix_gate(backend, min_fix_params)
        self._validators: dict[str, FileValidator] = {}
        self._examples_added: dict[str, frozenset[str]] = {}

    def _validator(self, path: str, source: str) -> FileValidator:
        v = self._validators.get(path)
        if v is None or v.source != source:
            from reviewer.languages import detect

            lang = detect(path, source[:256].encode("utf-8", "replace"))
            v = FileValidator(path, source, self.rules, lang.name if lang else "python")
            self._validators[path] = v
        return v

    def _base_key(self, job: _Job, target: Target, repo_context: str, want_fix: bool) -> str:
        f = job.finding
        ctx = target.context
        return cache_key(
            "explain", self.backend.identity(), self.params.key(), self.template.id,
            self.template.digest, self.style, example_pool()[1], self.context_size,
            want_fix, f.rule_id, f.message, f.path,
            f.span.line, target.region.start, target.region.end, target.region.code,
            None if ctx is None else [ctx.start, ctx.end, ctx.code], repo_context,
            # the rule's own start of the answer changes what the model may write
            *([prefix] if (prefix := job.rule.answer_prefix(f)) else []),
        )

    def wants_fix(self, job: _Job, target: Target) -> bool:
        """Whether the model is asked for a fix: not when the finding has the rule's own fix
        (that one is shown; measured on real code, a model's rewrite of those findings
        validated far less often than the rule's: Qwen2.5-Coder-1.5B, RV607 0 of 15 against
        the rule's 13 of 13), unless the fix is unsafe and the rule says a model can better
        it (``Rule.model_betters_fix``), nor when no local edit can be right. The training
        data teaches the same (reviewer.feedback.training.asks_fix).

        In the small style, only where a line-level example shows the edit (the rule has
        entries in fix_examples.toml) and the code to rewrite is not a whole function: a
        small model copies a shown edit well, but asked to restructure a function or to
        invent a kind of fix it has not seen, it echoes the code or writes prose. Those
        findings get an explanation only (a shorter answer, too).
        """
        fix = job.finding.fix
        if fix is not None and (fix.safe or not job.rule.model_betters_fix):
            return False
        if not job.rule.has_local_fix(job.finding):
            return False  # no edit of the flagged lines can be right: none is shown
        if self.style != "small":
            return True
        return target.region.kind != "function" and bool(line_examples(job.rule))

    def _ask(
        self, job: _Job, target: Target, repo_context: str, history: list[tuple[str, str]],
        base_key: str, want_fix: bool = True, follow_up: Sequence[Message] = (),
    ) -> tuple[str, Region, bool]:
        """(answer text, region it refers to, from cache?). Raises LLMError."""
        key = _turn_key(base_key, history, follow_up)
        hit = self.cache.get(key)
        if hit is not None:
            text, meta = hit
            self.report.cache_hits += 1
            region = target.region
            got = meta.get("region")
            if isinstance(got, list) and len(got) == 3:
                lines = job.source.splitlines(keepends=True)
                region = region_of_lines(lines, int(got[0]), int(got[1]), str(got[2]))
            return text, region, True
        timeout = None
        if self.deadline is not None:
            timeout = self.deadline - time.perf_counter()
            if timeout <= 0:
                raise ModelTimeout("the time for the model (--llm-timeout) ran out")
        try:
            prompt = self.builder.build(job.rule, job.finding, job.source, target, repo_context)
        except ValueError as exc:
            raise LLMError(str(exc)) from None
        messages: list[Message] = list(prompt.messages)
        for answer, complaint in history:
            messages.append({"role": "assistant", "content": answer})
            messages.append(self.builder.retry_message(complaint))
        messages.extend(follow_up)
        self.report.model_calls += 1
        code = prompt.region.code
        schema = answer_schema(
            job.rule.answer_prefix(job.finding) or code_prefix(code), fix=want_fix,
            max_code=code_bound(code) if self.style == "small" else None,
        )
        done = self.backend.complete(
            messages, json_schema=schema, params=self.pass_params(len(history)),
            timeout=timeout,
        )
        self.report.model_seconds += done.seconds
        self.report.completion_tokens += done.completion_tokens
        if done.first_token_s is not None:
            self.report.first_token_s.append(done.first_token_s)
        return done.text, prompt.region, False

    def _example_lines(self, rule: type[Rule]) -> frozenset[str]:
        """The prose lines (docstrings, comments) the rule's few-shot examples add (their
        fixed code's lines that the example's code lacks), stripped: a fix that writes one
        into other code copied the example (a docstring about ISO dates on a module of
        version numbers)."""
        key = f"{rule.__module__}.{rule.__qualname__}"
        got = self._examples_added.get(key)
        if got is None:
            pairs = [(ex.code, ex.fixed) for ex in line_examples(rule)]
            for example in rule_examples(rule):
                try:
                    pairs.append((example.code, parse_answer(example.answer).fixed_code or ""))
                except BadAnswer:
                    continue
            added: set[str] = set()
            for code, fixed in pairs:
                added |= ({ln.strip() for ln in fixed.splitlines()}
                          - {ln.strip() for ln in code.splitlines()})
            got = self._examples_added[key] = frozenset(
                a for a in added if len(a) >= 12 and any(m in a for m in _PROSE))
        return got

    def pass_params(self, n: int) -> GenParams:
        """Greedy decoding first; later passes sample (seeded, so still reproducible),
        because a greedy model shown its rejected answer tends to repeat it."""
        if n == 0:
            return self.params
        return replace(self.params, temperature=RETRY_TEMPERATURE, seed=self.params.seed + n)

    def as_written(self, fixed_code: str, region: Region) -> str:
        """The model's code with the region's own quotes: the small style shows code with
        single-quoted strings (see reviewer.llm.prompts.swap_quotes); where that changed the
        region, the answer's strings go back to double quotes."""
        if self.style == "small" and swap_quotes(region.code) != region.code:
            return swap_quotes(fixed_code, '"')
        return fixed_code

    def _store(self, base_key: str, history: list[tuple[str, str]], text: str,
               region: Region, follow_up: Sequence[Message] = ()) -> None:
        self.cache.put(
            _turn_key(base_key, history, follow_up), text,
            {"region": [region.start, region.end, region.kind]},
        )

    def explain_one(self, job: _Job, want_fix: bool = True, repo_context: str = "") -> Finding:
        """The finding with the model's explanation and a validated fix (when one was found).

        Raises ModelUnavailable / ModelTimeout (stop the run) and LLMError (this finding).
        """
        f = job.finding
        target = find_target(job.source, f)
        want_fix = want_fix and self.report.fixes_gated is None and self.wants_fix(job, target)
        self.report.fixes_asked += want_fix
        base_key = self._base_key(job, target, repo_context, want_fix)
        history: list[tuple[str, str]] = []
        facts = self.facts(job, target)
        explanation: str | None = None
        why_not: str | None = None  # why the last model explanation was refused
        fix: Fix | None = None
        proposed = False
        answered = False
        last_text = ""
        tried: set[str] = set()
        validated_at: int | None = None
        for n_pass in range(1 + max(0, self.fix_passes)):
            text, region, cached = self._ask(
                job, target, repo_context, history, base_key, want_fix
            )
            if not cached:  # an unusable answer too: a re-run must not ask again
                self._store(base_key, history, text, region)
            try:
                answer = parse_answer(text)
            except BadAnswer:
                if explanation is None and not answered:
                    self.report.bad_answers += 1
                break
            answered, last_text = True, text
            if explanation is None and answer.explanation:
                why_not = judge(answer.explanation, facts)
                if why_not is None:
                    explanation = answer.explanation
                else:
                    self.report.explanations_rejected += 1
            if not want_fix or answer.fixed_code is None:
                break
            fixed_code = self.as_written(answer.fixed_code, region)
            if fixed_code in tried:
                break  # the model repeats a rejected fix: more passes will not help
            tried.add(fixed_code)
            proposed = True
            self.report.fixes_proposed += 1
            built = job.rule.fix_from_answer(job.source, f, fixed_code)
            if built is None and job.rule.places_answer:
                # No text the rule can place: ask again when that can help, else no fix.
                unplaced = job.rule.unplaced_reason(job.source, f, fixed_code)
                if unplaced is None:
                    break
                history.append((text, unplaced))
                continue
            candidate = built or region_fix(region, fixed_code, job.source, f.rule_id)
            # The code a rule-built fix keeps is the rule's business: no check that it
            # dropped names of the region (an inserted docstring replaces nothing).
            complaint = copied_example(candidate, job.source, self._example_lines(job.rule))
            if complaint is None:
                complaint = self._validator(f.path, job.source).check(
                    f, candidate, None if built else region.code)
            if complaint is None:
                fix, validated_at = candidate, n_pass
                self.report.fixes_validated += 1
                break
            history.append((text, complaint))
        if proposed and fix is None:
            self.report.fixes_dropped += 1
        if want_fix:
            self.report.fix_outcomes.append((f.rule_id, validated_at))
            if validated_at is not None:
                self.report.validated_pass[(f.path, f.span.line, f.rule_id)] = validated_at
        if explanation is None and answered:
            explanation = self._explain_again(
                job, target, repo_context, base_key, facts, why_not, last_text
            )
        if explanation is None and fix is None and not answered:
            return f
        if explanation is None:
            explanation = rule_explanation(
                f.message, job.rule.rationale(), f.symbol, job.rule.summary()
            )
            self.report.explanations_fallback += 1
        self.report.explained += 1
        return f.with_(explanation=explanation, model_fix=fix)

    def facts(self, job: _Job, target: Target) -> Facts:
        """What the explanation for ``job`` is checked against (see reviewer.llm.judge)."""
        rule = job.rule
        copies = [rule.rationale(), rule.message, rule.summary()]
        copies += [e.explanation for e in line_examples(rule)]
        for example in rule_examples(rule):
            try:
                copies.append(parse_answer(example.answer).explanation)
            except BadAnswer:
                continue
        return Facts(target.region.code, job.finding.message, job.finding.symbol,
                     tuple(c for c in copies if c))

    def _explain_again(
        self, job: _Job, target: Target, repo_context: str, base_key: str, facts: Facts,
        why_not: str | None, last_text: str,
    ) -> str | None:
        """One more question, for the explanation only, with the reason the last one was
        refused; None when the answer fails :func:`~reviewer.llm.judge.judge` too."""
        follow_up: list[Message] = [
            {"role": "assistant", "content": last_text},
            {"role": "user", "content": (
                f"Your explanation was rejected: {why_not or 'it was empty'}."
                " Answer again with the same JSON object, fixed_code null."
            )},
        ]
        key = cache_key(base_key, "explain-again")
        text, region, cached = self._ask(
            job, target, repo_context, [], key, want_fix=False, follow_up=follow_up
        )
        if not cached:
            self._store(key, [], text, region, follow_up)
        try:
            again = parse_answer(text).explanation
        except BadAnswer:
            return None
        if again and judge(again, facts) is None:
            return again
        self.report.explanations_rejected += 1
        return None

    def explain_all(
        self, findings: Sequence[Finding], read: SourceReader, *, budget: int,
        want_fix: bool = True,
    ) -> list[Finding]:
        """Explain up to ``budget`` findings (most severe first); return all findings."""
        from reviewer.rules import all_rules

        rules = all_rules()
        order = sorted(range(len(findings)), key=lambda i: -int(findings[i].severity))
        jobs: list[tuple[int, _Job]] = []
        sources: dict[str, str | None] = {}
        for i in order:
            f = findings[i]
            rule = rules.get(f.rule_id)
            if rule is None or f.rule_id == "RV000":
                continue
            if f.path not in sources:
                sources[f.path] = read(f.path)
            source = sources[f.path]
            if source is None:
                continue
            jobs.append((i, _Job(f, rule, source)))
        self.report.eligible = len(jobs)
        self.report.max_explained = budget
        if len(jobs) > budget:
            self.report.over_budget = len(jobs) - budget
            jobs = jobs[:budget]
        out = list(findings)
        for n, (i, job) in enumerate(jobs):
            try:
                context = self.repo_context(job.finding, job.source) \
                    if self.repo_context is not None else ""
                out[i] = self.explain_one(job, want_fix, context)
            except (ModelUnavailable, ModelTimeout) as exc:
                why = str(exc)
                if isinstance(exc, ModelTimeout) and "--llm-timeout" not in why:
                    why += " (--llm-timeout)"
                self.report.failure = why
                self.report.not_reached = len(jobs) - n
                break
            except LLMError:
                self.report.errors += 1
        return out


# Marks of a line that holds prose (a docstring or a comment): code the examples add
# (``except Exception:``) is fine to write again, their words about other code are not.
_PROSE = ('"""', "'''", "#")


def copied_example(fix: Fix, source: str, example_lines: frozenset[str]) -> str | None:
    """The complaint for a fix that writes a line of a few-shot example's fix that the
    reviewed file does not already have, or a run of :data:`COPIED_WORDS` of its words
    ("Run the setup script with the command-line arguments: ...", after the example's
    "Run the order queue with the command-line arguments: ..."), or None."""
    if not example_lines:
        return None
    have = {ln.strip() for ln in source.splitlines()}
    runs = {run: line for line in example_lines for run in _word_runs(line)}
    known: set[tuple[str, ...]] | None = None  # the runs the file itself has
    for edit in fix.edits:
        for line in edit.text.splitlines():
            text = line.strip()
            if text in have:
                continue
            if text in example_lines:
                return (f"the fix copies `{text[:60]}` from an example; write it for this"
                        " code, naming what it does")
            shared = [r for r in _word_runs(text) if r in runs]
            if not shared:
                continue
            if known is None:
                known = {r for ln in have for r in _word_runs(ln)}
            copied = next((r for r in shared if r not in known), None)
            if copied is not None:
                return (f"the fix copies `{' '.join(copied)}` from an example"
                        f" (`{runs[copied][:60]}`); write it for this code, naming what it does")
    return None


COPIED_WORDS = 5  # consecutive words of an example's prose line that make a copy
_RUN_WORD = re.compile(r"[A-Za-z0-9_]+")


def _word_runs(line: str) -> list[tuple[str, ...]]:
    """Every run of :data:`COPIED_WORDS` words of ``line``, lowercased, in order."""
    words = [w.lower() for w in _RUN_WORD.findall(line)]
    return [tuple(words[i:i + COPIED_WORDS]) for i in range(len(words) - COPIED_WORDS + 1)]


def _turn_key(
    base_key: str, history: list[tuple[str, str]], follow_up: Sequence[Message] = ()
) -> str:
    """The cache key of one model turn."""
    if not follow_up:
        return cache_key(base_key, history)
    return cache_key(base_key, history, [dict(m) for m in follow_up])


def _repo_context(root: Path, config: Config, changed: Sequence[str]) -> Any:
    """The repository-context provider when ``context`` is on (see reviewer.context).

    Outside pre-commit it brings ``changed`` (the reviewed files) up to date in the index
    before the first prompt; under pre-commit it uses the index as it is (loading the
    embedding model would cost seconds in a hook).
    """
    if not config.context:
        return None
    import os

    from reviewer.context.provider import PromptContext

    return PromptContext(
        root, config, fast=bool(os.environ.get("PRE_COMMIT")), changed=changed
    )


def explain_findings(
    findings: Sequence[Finding],
    *,
    root: Path,
    config: Config,
    read: SourceReader,
    backend: Backend | None = None,
    settings: Settings | None = None,
    want_fix: bool = True,
    budget: int | None = None,
    changed: Sequence[str] = (),
    style: str | None = None,
) -> tuple[list[Finding], ExplainReport]:
    """Explain ``findings`` with the configured model; never raises for model problems.

    ``read(path)`` returns the text the findings refer to (None: skip that file);
    ``changed``: the reviewed files, refreshed in the repository index when context is on;
    ``style``: the prompt style ("small" or "full"; default: from the model's size).
    """
    from reviewer import hardware
    from reviewer.engine import selected_rules

    report = ExplainReport()
    if not findings:
        return list(findings), report
    start = time.perf_counter()
    if settings is None:
        settings = hardware.derive(hardware.detect())
    own = backend is None
    try:
        if backend is None:
            backend = make_backend(config, root, settings)
    except ModelUnavailable as exc:
        report.failure, report.not_reached = str(exc), min(len(findings), config.max_explained)
        return list(findings), report
    if backend is None:  # llm-backend = "none"
        return list(findings), report
    cache_dir = root / config.cache_dir if config.cache else None
    cache = AnswerCache.in_dir(cache_dir) if cache_dir is not None else AnswerCache(None)
    context = getattr(backend, "context_size", settings.context_size)
    explainer = Explainer(
        backend,
        rules=selected_rules(config),
        cache=cache,
        context_size=int(context),
        params=GenParams(max_tokens=config.llm_max_tokens),
        fix_passes=config.fix_passes,
        deadline=start + timeout_for(config),
        repo_context=_repo_context(root, config, changed),
        style=style,
        min_fix_params=config.model_fix_min_params,
    )
    try:
        out = explainer.explain_all(
            findings, read, budget=budget_for(config) if budget is None else budget,
            want_fix=want_fix,
        )
    finally:
        cache.close()
        if own:
            backend.close()
    warning = getattr(explainer.repo_context, "warning", None)
    if warning is not None:
        explainer.report.context_skipped = warning()
    return out, explainer.report


def describe_report(report: ExplainReport) -> dict[str, Any]:
    """The report as plain data (for JSON output and benchmarks)."""
    from dataclasses import asdict

    return asdict(report)
