"""Prompts for one finding, built from the template files in ``reviewer/templates``.

A prompt holds the principle and the rule's rationale (system message), few-shot turns, and
the code the model may rewrite: the flagged statements (with their enclosing function as
context), or a window of lines around the finding when the function does not fit the token
budget measured with the model's tokenizer. Repository context has its slot in the template.

Two prompt styles, chosen per model by :mod:`reviewer.llm.explain`:

* ``full`` (``explain_fix.txt``): principle, rationale, the rule's own INVALID examples
  with their fixed code as few-shot turns, the enclosing function as context. For models
  that can reason about a function (1B parameters and up).
* ``small`` (``explain_fix_small.txt``): the rule in one line and only the flagged lines;
  the few-shot turns show the exact line-level transformation
  (``reviewer/templates/fix_examples.toml``, the examples most similar to the flagged code
  last), because a model of a few hundred million parameters copies a shown edit well and
  reasons about a function poorly. The answer has the same shape in both styles.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from string import Template as StringTemplate
from typing import TYPE_CHECKING

from reviewer.findings import Finding
from reviewer.llm.backend import Message
from reviewer.rules._functions import first_paragraph
from reviewer.rules.base import Invalid, OptionValue, Rule, Valid

if TYPE_CHECKING:
    from reviewer.languages import Language

TEMPLATE = "explain_fix"
SMALL_TEMPLATE = "explain_fix_small"
STYLES = ("full", "small")
EXAMPLES_FILE = "fix_examples.toml"
MAX_EXAMPLES = 2
# Few-shot turns in the small style (line-level examples are short).
SMALL_EXAMPLES = 3
# Lines of the function shown before the lines to rewrite, in the small style.
LEAD_LINES = 3
# Lines kept around the finding when the enclosing function is too big.
MIN_WINDOW = 2
# A finding spanning more lines than this is rewritten as its whole function.
MAX_TARGET_LINES = 12
# Lines of the module outline shown for a finding on a module's first line (its docstring).
OUTLINE_LINES = 40
# Of a class in the outline, its first methods; of a top-level block, its first statements.
OUTLINE_MEMBERS = 8
OUTLINE_BLOCK = 3
# Imports kept in an outline that would be longer than OUTLINE_LINES.
OUTLINE_IMPORTS = 8
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


def template_for(style: str) -> str:
    """The template file name for a prompt style."""
    return SMALL_TEMPLATE if style == "small" else TEMPLATE


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
    kind: str  # "function", "statement", "lines" or "outline" (not the file's own lines)


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
    if fn is None and line == 1 and finding.span.col <= 1 and len(tree.body) > 1:
        # A finding about the module as a whole (its docstring): its first line alone
        # says nothing of what the module holds; its outline does.
        return Target(region, Region(1, len(lines), "", module_outline(tree, lines),
                                     "outline"))
    if fn is None or (fn[0], fn[1]) == (start, end):
        return Target(region)
    return Target(region, region_of_lines(lines, fn[0], fn[1], "function"))


def module_outline(tree: ast.Module, lines: list[str], limit: int = OUTLINE_LINES) -> str:
    """What a module holds, in at most ``limit`` lines: its top-level statements' first
    lines (a long literal with its first entries, a block with its first statements), each
    definition with the first line of its docstring and ``...`` for its body, a class with
    its methods' first lines too."""
    parts = [_outline_lines(node, lines) for node in tree.body]
    if sum(map(len, parts)) > limit:
        # Imports say least of what the module holds: past the first few, one "...".
        imports = [i for i, node in enumerate(tree.body)
                   if isinstance(node, (ast.Import, ast.ImportFrom))][OUTLINE_IMPORTS:]
        for i in imports:
            parts[i] = []
        if imports:
            parts[imports[0]] = ["..."]
    out = [line for part in parts for line in part]
    return "\n".join(out[:limit]) + "\n"


def _outline_lines(node: ast.stmt, lines: list[str]) -> list[str]:
    """One top-level statement in the module's outline."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        out = _definition_head(node, lines, 3)
        if isinstance(node, ast.ClassDef):
            members = [n for n in node.body
                       if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                       and not _private(n.name)]
            for member in members[:OUTLINE_MEMBERS]:
                out.extend(_definition_head(member, lines, 1))
        out.append(_indent_of(node, lines) + "    ...")
        return out
    first = _line(lines, node.lineno)[:100]
    body = getattr(node, "body", None)
    if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
        # A block (if/with/try/for) at the top: what it runs says what the module does.
        inner = [_line(lines, n.lineno)[:100] for n in body[:OUTLINE_BLOCK]]
        more = [_indent_of(body[0], lines) + "..."] if len(body) > OUTLINE_BLOCK else []
        return [first, *inner, *more]
    last = node.end_lineno or node.lineno
    if last > node.lineno:
        # A statement over several lines (a table of values): its first entries.
        shown = [_line(lines, n)[:100] for n in range(node.lineno + 1,
                                                        min(last, node.lineno + 3))]
        return [first, *shown, "    ..."] if last > node.lineno + 3 else [first, *shown,
                                                                             _line(lines, last)]
    return [first]


def _definition_head(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
                     lines: list[str], most: int) -> list[str]:
    """A definition's first ``most`` header lines and its docstring's first sentence."""
    head = lines[node.lineno - 1: node.body[0].lineno - 1] if node.body else []
    header = [ln.rstrip() for ln in head if ln.strip()] or [_line(lines, node.lineno)]
    doc = ast.get_docstring(node)
    summary = [f'{_indent_of(node, lines)}    """{_summary(doc)}"""'] if doc else []
    return [*header[:most], *summary]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _line(lines: list[str], number: int) -> str:
    return lines[number - 1].rstrip() if 0 < number <= len(lines) else ""


def _indent_of(node: ast.stmt, lines: list[str]) -> str:
    text = _line(lines, node.lineno)
    return text[: len(text) - len(text.lstrip())]


def _summary(doc: str, limit: int = 80) -> str:
    """A docstring's first sentence, cut at a word (with "...") if longer than ``limit``."""
    sentence = re.split(r"(?<=[.!?])\s", first_paragraph(doc), maxsplit=1)[0]
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0] + " ..."


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


def rule_examples(rule_cls: type[Rule], limit: int = MAX_EXAMPLES,
                  language: str | None = None) -> tuple[Example, ...]:
    """Few-shot turns from the rule's own examples (computed once per rule and language).

    ``language``: the examples written in that language (a JavaScript finding of RV302
    gets RV302's JavaScript examples); None: the rule's own language.
    """
    if language is None or language == rule_cls.language:
        key = (f"{rule_cls.__module__}.{rule_cls.__qualname__}", limit)
        if key not in _EXAMPLES:
            _EXAMPLES[key] = _rule_examples(rule_cls, limit)
        return _EXAMPLES[key]
    lkey = (f"{rule_cls.__module__}.{rule_cls.__qualname__}:{language}", limit)
    if lkey not in _EXAMPLES:
        _EXAMPLES[lkey] = _rule_examples(rule_cls, limit, language)
    return _EXAMPLES[lkey]


def language_of(path: str) -> str:
    """The language plug-in name for a file name ('python' when none claims it)."""
    from reviewer.languages import detect

    lang = detect(path, b"")
    return lang.name if lang is not None else "python"


# How prompts name a language, and its code fence.
LANGUAGE_NAMES = {"python": ("Python", "python"), "javascript": ("JavaScript", "javascript"),
                  "typescript": ("TypeScript", "typescript"), "go": ("Go", "go")}


def localize(text: str, language: str) -> str:
    """A rendered prompt section for ``language`` (the templates are written for Python)."""
    if language == "python" or language not in LANGUAGE_NAMES:
        return text
    name, fence = LANGUAGE_NAMES[language]
    return text.replace("Python code", f"{name} code").replace("```python", f"```{fence}")


def _rule_examples(rule_cls: type[Rule], limit: int,
                   language: str | None = None) -> tuple[Example, ...]:
    """Few-shot turns from the rule's own examples, shortest first.

    An INVALID example with ``fixed`` code is a ready pair. Otherwise the most similar VALID
    example serves as its fixed form, but only when that pair passes the same checks as a
    model's fix would (the rule no longer fires, the code's names are kept).
    """
    from reviewer.languages import languages

    lang = languages().get(language or rule_cls.language)
    if lang is None:
        return ()
    if language is None:
        valid = [v if isinstance(v, Valid) else Valid(v) for v in rule_cls.VALID]
        invalid = list(rule_cls.INVALID)
    else:
        all_valid, all_invalid = rule_cls.examples()
        valid = [v for v in all_valid if language_of(v.path) == language]
        invalid = [i for i in all_invalid if language_of(i.path) == language]
    pairs: list[tuple[int, Example]] = []
    for inv in invalid:
        code = textwrap.dedent(inv.code)
        found = _run(lang, rule_cls, code, inv.path, inv.options)
        if not found:
            continue
        fixed = textwrap.dedent(inv.fixed) if inv.fixed else _paired_valid(
            lang, rule_cls, inv, code, valid
        )
        if fixed is None:
            continue
        # The example's own finding, which names the example's code: copied word for word
        # it fits no other code (reviewer.llm.judge refuses copies and ungrounded text).
        explanation = example_explanation(found[0].message, code)
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

    from reviewer.llm.names import dropped_names

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


def example_explanation(message: str, code: str) -> str:
    """A few-shot explanation from an example's finding: its message, and the example's own
    names when the message names none, so that copied word for word it fits no other code
    (reviewer.llm.judge refuses ungrounded text and copies of prompt examples)."""
    from reviewer.llm.judge import Facts, judge

    text = as_sentence(message)
    names = sorted(Facts(code, "").names(), key=lambda n: (-len(n), n))[:3]
    if names and judge(text, Facts(code, "")) is not None:
        text += f" Here it concerns {', '.join(names)}."
    return text


def as_sentence(text: str) -> str:
    """``text`` ending on a full stop (a finding's message, used as an example's answer)."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _first_sentences(text: str, n: int) -> str:
    flat = " ".join(text.split())
    parts = re.split(r"(?<=[.!?])\s+", flat)
    return " ".join(parts[:n]).strip()


def good_example(rule_cls: type[Rule], language: str | None = None) -> str:
    """The shortest VALID example (in ``language``), shown as code that follows the rule."""
    if language is None or language == rule_cls.language:
        codes = [v if isinstance(v, str) else v.code for v in rule_cls.VALID]
    else:
        codes = [v.code for v in rule_cls.examples()[0] if language_of(v.path) == language]
    if not codes:
        return ""
    code = textwrap.dedent(min(codes, key=len)).strip("\n")
    return f"Code that follows the rule:\n```python\n{code}\n```"


# -- quotes --------------------------------------------------------------------------------
def swap_quotes(code: str, to: str = "'") -> str:
    """``code`` with its one-line string literals delimited by ``to`` (``'`` or ``"``)
    instead of the other quote, where the string holds neither quote character.

    The small style shows code with single quotes: inside a JSON string a double quote must be
    escaped, and a small model that copies ``f"...`` writes a bare ``"``, which ends its
    ``fixed_code`` right there. The answer is turned back with ``swap_quotes(fix, '"')``.
    Code that cannot be tokenized keeps the literals read before the error.
    """
    import io
    import tokenize

    other = '"' if to == "'" else "'"
    lines = code.splitlines(keepends=True)
    spans: list[tuple[int, int, int, int]] = []  # (row, col, end_row, end_col) of literals
    opened: list[tuple[int, int]] = []  # f-string starts (Python 3.12+)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            name = tokenize.tok_name.get(tok.type, "")
            if tok.type == tokenize.STRING:
                spans.append((*tok.start, *tok.end))
            elif name == "FSTRING_START":
                opened.append(tok.start)
            elif name == "FSTRING_END" and opened:
                spans.append((*opened.pop(), *tok.end))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    out = lines[:]
    for row, col, end_row, end_col in sorted(spans, reverse=True):
        if row != end_row:
            continue
        line = out[row - 1]
        text = line[col:end_col]
        prefix = len(text) - len(text.lstrip("bBrRuUfF"))
        body = text[prefix:]
        if len(body) < 2 or body[0] != other or body[-1] != other or body.startswith(other * 3):
            continue
        inner = body[1:-1]
        if "'" in inner or '"' in inner:
            continue
        out[row - 1] = line[:col] + text[:prefix] + to + inner + to + line[end_col:]
    return "".join(out)


# -- line-level few-shot examples ----------------------------------------------------------
@dataclass(frozen=True)
class LineExample:
    """A few-shot turn at the size of a small-model answer: the flagged lines of an example
    (``code``, dedented), the lines that replace them (``fixed``) and why."""

    location: str
    message: str
    code: str
    fixed: str
    explanation: str
    lead: str = ""  # the lines just before ``code`` in its function (see lead_code)
    # A module's outline, for a finding about the whole module (its docstring) of a rule
    # that shows it (Rule.shows_context): the example's question then looks like the real one.
    outline: str = ""

    def answer(self, code: Callable[[str], str] = str) -> str:
        """The JSON answer a good model gives for this example (``code`` rewrites the fixed
        code as it is shown: see :func:`swap_quotes`)."""
        return json.dumps(
            {"explanation": self.explanation, "fixed_code": code(self.fixed).rstrip("\n")}
        )


@lru_cache(maxsize=1)
def example_pool() -> tuple[Mapping[str, tuple[Mapping[str, object], ...]], str]:
    """The entries of ``reviewer/templates/fix_examples.toml`` by rule id, and the file's
    hash (part of the answer cache key: editing an example invalidates cached answers)."""
    from importlib.resources import files

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

    text = (files("reviewer") / "templates" / EXAMPLES_FILE).read_text(encoding="utf-8")
    data = tomllib.loads(text)
    pool = {
        rule_id: tuple(e for e in entries if isinstance(e, dict))
        for rule_id, entries in data.items() if isinstance(entries, list)
    }
    return pool, hashlib.sha256(text.encode()).hexdigest()[:12]


_LINE_EXAMPLES: dict[str, tuple[LineExample, ...]] = {}


def line_examples(rule_cls: type[Rule]) -> tuple[LineExample, ...]:
    """Line-level few-shot turns for a rule (computed once per rule): the entries of
    ``fix_examples.toml``, then the rule's INVALID examples that carry ``fixed`` code.
    A pair is used only when it derives cleanly: the rule flags ``code``, no longer flags
    ``fixed``, and the two differ only in the flagged lines."""
    key = f"{rule_cls.__module__}.{rule_cls.__qualname__}"
    if key not in _LINE_EXAMPLES:
        _LINE_EXAMPLES[key] = _line_examples(rule_cls)
    return _LINE_EXAMPLES[key]


def _line_examples(rule_cls: type[Rule]) -> tuple[LineExample, ...]:
    from reviewer.languages import languages

    lang = languages().get(rule_cls.language)
    if lang is None:
        return ()
    out: list[LineExample] = []
    for entry in example_pool()[0].get(rule_cls.id, ()):
        code, fixed, why = entry.get("code"), entry.get("fixed"), entry.get("explanation")
        line = entry.get("line")
        if not (isinstance(code, str) and isinstance(fixed, str) and isinstance(why, str)):
            continue
        ex = derive_line_example(
            lang, rule_cls, code.lstrip("\n"), fixed.lstrip("\n"), why,
            line=line if isinstance(line, int) else None,
        )
        if ex is not None:
            out.append(ex)
    # The rules' own pairs explain with their finding's message (it names the example's
    # code), never with the rule's rationale, which fits every finding word for word.
    why = ""
    for inv in rule_cls.INVALID:
        if inv.fixed:
            ex = derive_line_example(
                lang, rule_cls, textwrap.dedent(inv.code), textwrap.dedent(inv.fixed), why,
                path=inv.path, options=inv.options, line=inv.line,
            )
            if ex is not None:
                out.append(ex)
    return tuple(out)


def derive_line_example(
    lang: Language, rule_cls: type[Rule], code: str, fixed: str, explanation: str, *,
    path: str = "example.py", options: Mapping[str, OptionValue] | None = None,
    line: int | None = None,
) -> LineExample | None:
    """The line-level example for a (code, fixed) pair, or None when it does not derive."""
    found = _run(lang, rule_cls, code, path, options)
    if line is not None:
        found = [f for f in found if f.span.line == line]
    if not found or _run(lang, rule_cls, fixed, path, options):
        return None
    finding = found[0]
    target = find_target(code, finding)
    region = target.region
    if region.kind == "function":
        return None
    replacement = splice_replacement(code, fixed, region)
    if replacement is None or not replacement.strip() or replacement == region.code:
        return None  # (an answer cannot delete lines: empty fixed_code means no fix)
    outline = ""
    if rule_cls.shows_context and target.context is not None and target.context.kind == "outline":
        outline = target.context.code
    return LineExample(f"{path}:{finding.span.line}", finding.message, region.code,
                       replacement,
                       explanation or example_explanation(finding.message, region.code),
                       lead_code(code, target), outline)


def lead_code(source: str, target: Target, limit: int = LEAD_LINES) -> str:
    """For an ``except`` clause, up to ``limit`` lines of the enclosing function just before
    it (dedented), shown in the small style: what a handler should catch depends on the
    ``try`` body (``int(text)`` raises ValueError). Other lines stand alone; a small model
    shown more code copies names from it into the fix."""
    if target.context is None or not _EXCEPT.match(target.region.code):
        return ""
    lines = source.splitlines(keepends=True)
    start = max(target.context.start, target.region.start - limit)
    lead = lines[start - 1 : target.region.start - 1]
    # Not the def line (nor decorators): a small model copies its parameters into the fix.
    while lead and (not lead[0].strip() or _HEADER.match(lead[0])):
        lead = lead[1:]
    return textwrap.dedent("".join(lead)) if lead else ""


_HEADER = re.compile(r"^\s*(?:@|def\s|async\s+def\s|class\s)")
_EXCEPT = re.compile(r"^except\b")


def splice_replacement(source: str, fixed_source: str, region: Region) -> str | None:
    """The lines that replace ``region`` of ``source`` to give ``fixed_source``, dedented by
    the region's indent; None when the two differ outside the region."""
    old = source.splitlines(keepends=True)
    new = fixed_source.splitlines(keepends=True)
    head, tail = old[: region.start - 1], old[region.end :]
    if len(new) < len(head) + len(tail) or new[: len(head)] != head:
        return None
    if tail and new[len(new) - len(tail) :] != tail:
        return None
    body = new[len(head) : len(new) - len(tail)]
    if any(ln.strip() and not ln.startswith(region.indent) for ln in body):
        return None
    return "".join(ln[len(region.indent) :] if ln.strip() else ln for ln in body)


def pick_examples(
    examples: Sequence[LineExample], code: str, limit: int, lead: str = ""
) -> list[LineExample]:
    """The ``limit`` examples most similar to ``code`` (and the ``lead`` lines before it),
    the most similar last: a small model follows the turn nearest its question most."""
    import difflib

    scored = [
        (difflib.SequenceMatcher(None, ex.lead + ex.code, lead + code).ratio(), -i, ex)
        for i, ex in enumerate(examples)
    ]
    best = sorted(scored, key=lambda t: (t[0], t[1]))[-limit:] if limit > 0 else []
    return [ex for _, _, ex in best]


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
        style: str = "full",
    ) -> None:
        if style not in STYLES:
            raise ValueError(f"unknown prompt style {style!r}")
        self.count_tokens = count_tokens
        self.context_size = context_size
        self.max_tokens = max_tokens
        self.style = style
        self.template = template or load_template(template_for(style))

    def system(self, rule_cls: type[Rule], language: str | None = None) -> str:
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
            good_example=good_example(rule_cls, language),
        )

    def user(
        self, location: str, message: str, code: str, context: str = "",
        repository_context: str = "", lead: str = "", context_kind: str = "function",
    ) -> str:
        around = before = ""
        section = "outline" if context_kind == "outline" else "context"
        if section not in self.template.sections:
            section = "context"
        if context and section in self.template.sections:
            around = self.template.render(section, context=context.rstrip("\n"))
        if lead and "lead" in self.template.sections:
            before = self.template.render("lead", lead=lead.rstrip("\n"))
        return self.template.render(
            "user", location=location, message=message, code=code.rstrip("\n"),
            function_context=around, repository_context=repository_context, lead_code=before,
        )

    def shots(self, rule_cls: type[Rule], code: str, lead: str = "",
              language: str | None = None) -> list[tuple[str, str]]:
        """Few-shot (user, assistant) turns for a finding whose flagged code is ``code``
        (after the lines ``lead``).

        The small style shows line-level examples (the most similar to ``code`` last) when
        the rule has any; otherwise, and in the full style, the rule's own examples.
        """
        if self.style == "small" and language in (None, rule_cls.language):
            picked = pick_examples(line_examples(rule_cls), code, SMALL_EXAMPLES, lead)
            if picked:
                return [(self.user(ex.location, ex.message, swap_quotes(ex.code),
                                   swap_quotes(ex.outline), lead=swap_quotes(ex.lead),
                                   context_kind="outline"), ex.answer(swap_quotes))
                        for ex in picked]
        return [(self.user(ex.location, ex.message, ex.code), ex.answer)
                for ex in rule_examples(rule_cls, language=language)]

    def base_messages(
        self, rule_cls: type[Rule], finding: Finding, target: Target, repo_context: str = "",
        shots: Sequence[tuple[str, str]] | None = None, lead: str = "",
    ) -> list[Message]:
        language = language_of(finding.path)
        messages: list[Message] = [
            {"role": "system", "content": localize(self.system(rule_cls, language), language)}]
        if shots is None:
            shots = self.shots(rule_cls, target.region.code, language=language)
        for question, answer in shots:
            messages.append({"role": "user", "content": localize(question, language)})
            messages.append({"role": "assistant", "content": answer})
        location = f"{finding.path}:{finding.span.line}"
        # The small style shows only the lines to rewrite: a tiny model given the whole
        # function tends to rewrite (or describe) the function instead.
        context = target.context.code if target.context is not None else ""
        kind = target.context.kind if target.context is not None else "function"
        code = target.region.code
        if self.style == "small":
            code, lead = swap_quotes(code), swap_quotes(lead)
            context = swap_quotes(context) if rule_cls.shows_context else ""
        messages.append({
            "role": "user",
            "content": localize(
                self.user(location, finding.message, code, context, repo_context, lead, kind),
                language),
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
        lead = ""
        if self.style == "small":
            lead = lead_code(source, target)
            if not rule_cls.shows_context:  # the function is not shown: room for the region
                target = Target(target.region)
        shots = self.shots(rule_cls, target.region.code, lead, language_of(finding.path))
        overhead = sum(
            self.count_tokens(m["content"]) + 8
            for m in self.base_messages(rule_cls, finding, empty, repo_context, shots, lead)
        )
        budget = min(MAX_CODE_TOKENS, self.context_size - self.max_tokens - overhead - 16)
        fitted = self.fit(source, finding, target, budget)
        if fitted.region != target.region:
            lead = ""  # the region was cut to a window: the lines before it are in it
        messages = tuple(
            self.base_messages(rule_cls, finding, fitted, repo_context, shots, lead)
        )
        return Prompt(messages, fitted.region, self.template.id)

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
