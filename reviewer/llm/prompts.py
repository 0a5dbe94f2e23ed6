"""Prompts for one finding, built from the template files in ``reviewer/templates``.

A prompt holds the principle and the rule's rationale (system message), the rule's own
INVALID examples with their fixed code as few-shot turns, and the code the model may
rewrite: the enclosing function, or a window of lines around the finding when the function
does not fit the token budget measured with the model's tokenizer. Repository context has
its slot in the template (empty until the context index provides it).
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from string import Template as StringTemplate
from typing import TYPE_CHECKING

from reviewer.findings import Finding
from reviewer.llm.backend import Message
from reviewer.rules.base import Invalid, OptionValue, Rule, Valid

if TYPE_CHECKING:
    from reviewer.languages import Language

TEMPLATE = "explain_fix"
MAX_EXAMPLES = 2
# Lines kept around the finding when the enclosing function is too big.
MIN_WINDOW = 2
# A finding spanning more lines than this is rewritten as its whole function.
MAX_TARGET_LINES = 12
# Never give the model more code than this many tokens, whatever the context size.
MAX_CODE_TOKENS = 1536
# Sentences of the rule's rationale in the prompt (small models lose the thread on more).
RATIONALE_SENTENCES = 4


# -- templates -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Template:
    """A prompt template file: ``# key: value`` header lines, then ``## section`` blocks."""

    name: str
    version: str
    sections: Mapping[str, str]
    digest: str  # hash of the file: editing a template invalidates cached answers

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    def render(self, section: str, **values: str) -> str:
        """A section with ``$name`` placeholders filled in; blank runs collapsed."""
        text = StringTemplate(self.sections[section]).substitute(values)
        return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def parse_template(text: str) -> Template:
    """Parse a template file (see reviewer/templates/explain_fix.txt)."""
    meta: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        elif current is not None:
            current.append(line)
        elif line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep and key.strip() in ("template", "version"):
                meta[key.strip()] = value.strip()
    if "template" not in meta or "version" not in meta:
        raise ValueError("a template needs '# template:' and '# version:' header lines")
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return Template(
        meta["template"], meta["version"],
        {k: "\n".join(v).strip("\n") for k, v in sections.items()}, digest,
    )


@lru_cache(maxsize=8)
def load_template(name: str = TEMPLATE) -> Template:
    """A template shipped in the package (``reviewer/templates/<name>.txt``)."""
    from importlib.resources import files

    text = (files("reviewer") / "templates" / f"{name}.txt").read_text(encoding="utf-8")
    return parse_template(text)


# -- the code the model sees ---------------------------------------------------------------
@dataclass(frozen=True)
class Region:
    """Whole lines ``start..end`` (1-based, inclusive) of a file."""

    start: int
    end: int
    indent: str  # removed from every line for the prompt, added back to the answer
    code: str  # dedented, ending with a newline
    kind: str  # "function", "statement" or "lines"


@dataclass(frozen=True)
class Target:
    """What the model rewrites (``region``) and the code shown around it (``context``)."""

    region: Region
    context: Region | None = None  # the enclosing function, when it is not the region


def region_of_lines(lines: list[str], start: int, end: int, kind: str) -> Region:
    """The region covering ``lines[start-1:end]``."""
    chunk = "".join(ln if ln.endswith("\n") else ln + "\n" for ln in lines[start - 1 : end])
    code = textwrap.dedent(chunk)
    first = next((ln for ln in chunk.splitlines() if ln.strip()), "")
    indent = ""
    if code != chunk:
        dedented_first = next((ln for ln in code.splitlines() if ln.strip()), "")
        indent = first[: len(first) - len(dedented_first)]
    return Region(start, end, indent, code, kind)


def find_target(source: str, finding: Finding) -> Target:
    """The lines to rewrite for a finding, and its enclosing function as context.

    A finding on a few lines is rewritten on those lines, widened to whole statements
    (a compound statement only by its header); a finding spanning more than
    MAX_TARGET_LINES lines (a function too long or too complex) is rewritten as a whole.
    """
    lines = source.splitlines(keepends=True)
    line = max(1, min(finding.span.line, len(lines)))
    last = max(line, min(finding.span.last_line, len(lines)))
    tree = _parse(source, finding.path)
    if tree is None:
        return Target(region_of_lines(lines, line, last, "lines"))
    fn = _enclosing_function(tree, line, last)
    if last - line + 1 > MAX_TARGET_LINES:
        if fn is not None:
            return Target(region_of_lines(lines, fn[0], fn[1], "function"))
        return Target(region_of_lines(lines, line, last, "lines"))
    start, end = _whole_statements(tree, line, last)
    region = region_of_lines(lines, start, end, "lines")
    if fn is None or (fn[0], fn[1]) == (start, end):
        return Target(region)
    return Target(region, region_of_lines(lines, fn[0], fn[1], "function"))


def _parse(source: str, path: str) -> ast.Module | None:
    if not (path.endswith((".py", ".pyi", ".pyw")) or source.startswith("#!")):
        return None
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return None


def _enclosing_function(tree: ast.Module, line: int, last: int) -> tuple[int, int] | None:
    best: tuple[int, int] | None = None
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        end = node.end_lineno or node.lineno
        if start <= line and last <= end and (best is None or end - start < best[1] - best[0]):
            best = (start, end)
    return best


def _whole_statements(tree: ast.Module, line: int, last: int) -> tuple[int, int]:
    """[line, last] widened so that it cuts no simple statement or compound header."""
    start, end = line, last
    changed = True
    while changed:
        changed = False
        for node in ast.walk(tree):
            if not isinstance(node, ast.stmt) or node.end_lineno is None:
                continue
            lo, hi = node.lineno, node.end_lineno
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                hi = max(lo, body[0].lineno - 1)  # a compound statement: its header only
            if isinstance(node, ast.ExceptHandler):
                continue
            if lo <= end and hi >= start and (lo < start or hi > end):
                start, end = min(start, lo), max(end, hi)
                changed = True
    return start, end


# -- few-shot examples ---------------------------------------------------------------------
@dataclass(frozen=True)
class Example:
    """One of the rule's INVALID examples: the finding it gives and the fixed code."""

    location: str
    message: str
    code: str
    answer: str  # the JSON answer a good model gives


_EXAMPLES: dict[tuple[str, int], tuple[Example, ...]] = {}


def rule_examples(rule_cls: type[Rule], limit: int = MAX_EXAMPLES) -> tuple[Example, ...]:
    """Few-shot turns from the rule's own examples (computed once per rule)."""
    key = (f"{rule_cls.__module__}.{rule_cls.__qualname__}", limit)
    if key not in _EXAMPLES:
        _EXAMPLES[key] = _rule_examples(rule_cls, limit)
    return _EXAMPLES[key]


def _rule_examples(rule_cls: type[Rule], limit: int) -> tuple[Example, ...]:
    """Few-shot turns from the rule's own examples, shortest first.

    An INVALID example with ``fixed`` code is a ready pair. Otherwise the most similar VALID
    example serves as its fixed form, but only when that pair passes the same checks as a
    model's fix would (the rule no longer fires, the code's names are kept).
    """
    from reviewer.languages import languages

    lang = languages().get(rule_cls.language)
    if lang is None:
        return ()
    explanation = _first_sentences(rule_cls.rationale(), 2)[:300] or rule_cls.message
    valid = [v if isinstance(v, Valid) else Valid(v) for v in rule_cls.VALID]
    pairs: list[tuple[int, Example]] = []
    for inv in rule_cls.INVALID:
        code = textwrap.dedent(inv.code)
        found = _run(lang, rule_cls, code, inv.path, inv.options)
        if not found:
            continue
        fixed = textwrap.dedent(inv.fixed) if inv.fixed else _paired_valid(
            lang, rule_cls, inv, code, valid
        )
        if fixed is None:
            continue
        answer = json.dumps({"explanation": explanation, "fixed_code": fixed})
        example = Example(f"{inv.path}:{found[0].span.line}", found[0].message, code, answer)
        # Prefer real fixed examples, then the shortest.
        pairs.append((len(code) + (0 if inv.fixed else 10_000), example))
    return tuple(e for _, e in sorted(pairs, key=lambda p: p[0])[:limit])


PAIR_SIMILARITY = 0.6


def _run(
    lang: Language, rule_cls: type[Rule], code: str, path: str,
    options: Mapping[str, OptionValue] | None,
) -> list[Finding]:
    try:
        rule = rule_cls(options)
        return [f for f in lang.review(path, code, [rule]) if f.rule_id == rule_cls.id]
    except (ValueError, SyntaxError):
        return []


def _paired_valid(
    lang: Language, rule_cls: type[Rule], inv: Invalid, code: str, valid: list[Valid]
) -> str | None:
    import difflib

    from reviewer.llm.validate import dropped_names

    best: tuple[float, str] | None = None
    for v in valid:
        if v.options != inv.options:
            continue
        cand = textwrap.dedent(v.code)
        ratio = difflib.SequenceMatcher(None, code, cand).ratio()
        if ratio >= PAIR_SIMILARITY and (best is None or ratio > best[0]):
            best = (ratio, cand)
    if best is None or best[1] == code:
        return None
    fixed = best[1]
    if _run(lang, rule_cls, fixed, inv.path, inv.options) or dropped_names(
        code, fixed, strict=True
    ):
        return None
    return fixed


def _first_sentences(text: str, n: int) -> str:
    flat = " ".join(text.split())
    parts = re.split(r"(?<=[.!?])\s+", flat)
    return " ".join(parts[:n]).strip()


def good_example(rule_cls: type[Rule]) -> str:
    """The shortest VALID example, shown as code that follows the rule."""
    codes = [v if isinstance(v, str) else v.code for v in rule_cls.VALID]
    if not codes:
        return ""
    code = textwrap.dedent(min(codes, key=len)).strip("\n")
    return f"Code that follows the rule:\n```python\n{code}\n```"


# -- the prompt ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Prompt:
    """The messages for one finding and the region the answer's code replaces."""

    messages: tuple[Message, ...]
    region: Region
    template_id: str


class PromptBuilder:
    """Builds prompts within a token budget measured by ``count_tokens``."""

    def __init__(
        self,
        count_tokens: Callable[[str], int],
        *,
        context_size: int = 4096,
        max_tokens: int = 384,
        template: Template | None = None,
    ) -> None:
        self.count_tokens = count_tokens
        self.context_size = context_size
        self.max_tokens = max_tokens
        self.template = template or load_template()

    def system(self, rule_cls: type[Rule]) -> str:
        from reviewer.principles import catalogue

        principle = catalogue().get(rule_cls.principle)
        title = principle.title if principle else rule_cls.principle
        statement = " ".join(principle.statement.split()) if principle else ""
        if statement.startswith(title):
            title, statement = "", statement
        return self.template.render(
            "system",
            principle=f"{title}. {statement}" if title else statement,
            rule_id=rule_cls.id,
            slug=rule_cls.slug,
            summary=rule_cls.summary(),
            rationale=_first_sentences(rule_cls.rationale(), RATIONALE_SENTENCES),
            good_example=good_example(rule_cls),
        )

    def user(
        self, location: str, message: str, code: str, context: str = "",
        repository_context: str = "",
    ) -> str:
        around = ""
        if context:
            around = self.template.render("context", context=context.rstrip("\n"))
        return self.template.render(
            "user", location=location, message=message, code=code.rstrip("\n"),
            function_context=around, repository_context=repository_context,
        )

    def base_messages(
        self, rule_cls: type[Rule], finding: Finding, target: Target, repo_context: str = ""
    ) -> list[Message]:
        messages: list[Message] = [{"role": "system", "content": self.system(rule_cls)}]
        for ex in rule_examples(rule_cls):
            messages.append({"role": "user", "content": self.user(ex.location, ex.message,
                                                                  ex.code)})
            messages.append({"role": "assistant", "content": ex.answer})
        location = f"{finding.path}:{finding.span.line}"
        context = target.context.code if target.context is not None else ""
        messages.append({
            "role": "user",
            "content": self.user(location, finding.message, target.region.code, context,
                                 repo_context),
        })
        return messages

    def retry_message(self, complaint: str) -> Message:
        return {"role": "user", "content": self.template.render("retry", complaint=complaint)}

    def build(
        self, rule_cls: type[Rule], finding: Finding, source: str, target: Target,
        repo_context: str = "",
    ) -> Prompt:
        """The prompt, with the code trimmed to a window around the finding if needed."""
        empty = Target(region_of_lines([""], 1, 1, "lines"))
        overhead = sum(
            self.count_tokens(m["content"]) + 8
            for m in self.base_messages(rule_cls, finding, empty, repo_context)
        )
        budget = min(MAX_CODE_TOKENS, self.context_size - self.max_tokens - overhead - 16)
        target = self.fit(source, finding, target, budget)
        messages = tuple(self.base_messages(rule_cls, finding, target, repo_context))
        return Prompt(messages, target.region, self.template.id)

    def fit(self, source: str, finding: Finding, target: Target, budget: int) -> Target:
        """``target`` if it fits ``budget`` tokens, else with a window of code that does."""
        if budget <= 0:
            raise ValueError("the prompt leaves no room for code in the context window")
        region, context = target.region, target.context
        used = self.count_tokens(region.code)
        if context is None:
            if used <= budget:
                return target
            return Target(self._window(source, finding, region, budget))
        if used + self.count_tokens(context.code) <= budget:
            return target
        if used > budget:
            return Target(self._window(source, finding, region, budget))
        # Keep the lines to rewrite; show as much of the function around them as fits.
        window = self._window(source, finding, context, budget - used, keep=region)
        return Target(region, window if (window.start, window.end) != (region.start,
                                                                       region.end) else None)

    def _window(
        self, source: str, finding: Finding, region: Region, budget: int,
        keep: Region | None = None,
    ) -> Region:
        """The largest window of ``region`` around the finding that fits ``budget``."""
        lines = source.splitlines(keepends=True)
        line = keep.start if keep else max(region.start, finding.span.line)
        last = keep.end if keep else min(region.end, max(finding.span.last_line, line))
        lo, hi = MIN_WINDOW, max(region.end - region.start, MIN_WINDOW)
        best: Region | None = None
        while lo <= hi:  # binary search on the window's half-width
            mid = (lo + hi) // 2
            cand = region_of_lines(
                lines, max(region.start, line - mid), min(region.end, last + mid), "lines"
            )
            if self.count_tokens(cand.code) <= budget:
                best, lo = cand, mid + 1
            else:
                hi = mid - 1
        if best is None:
            best = region_of_lines(lines, line, last, "lines")
            if keep is None and self.count_tokens(best.code) > budget:
                raise ValueError("the flagged code alone does not fit the context window")
        return best
