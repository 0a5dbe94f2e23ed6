"""The principle guidance of the chat endpoint: the system prompt (principles, taught
principles, repository context, style), the rules run on the answer's code blocks, and the
principle score of ``/v1/code/validate-principles``.

Score: of the catalogue principles that the selected rules check for the snippet's
language, the share with no violation, ``round(100 * (checked - violated) / checked)``
(100 when nothing is checked). RV000 (the code does not parse) counts as violating every
checked principle, so code that does not parse scores 0.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewer.findings import Finding, Span

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.rules.base import Rule

# ```lang\n code ``` (an unterminated last fence counts: a model may stop inside one).
_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
LANGUAGE_ALIASES = {"": "python", "py": "python", "python": "python", "python3": "python"}
SNIPPET_PATH = {"python": "snippet.py"}


class UnknownLanguage(ValueError):
    """A language no plug-in reviews."""


def language_name(given: str | None, path: str = "") -> str:
    """The plug-in name for a language given by a client (or from a path); raises
    UnknownLanguage."""
    from reviewer.languages import detect, languages

    if given:
        name = LANGUAGE_ALIASES.get(given.lower(), given.lower())
        if name not in languages():
            raise UnknownLanguage(f"unknown language {given!r} (known: "
                                  f"{', '.join(sorted(languages()))})")
        return name
    lang = detect(path, b"") if path else None
    if lang is None:
        raise UnknownLanguage("no reviewed language has this file's extension; give"
                              " 'language'")
    return lang.name


@dataclass(frozen=True)
class Block:
    """One fenced code block of a chat message."""

    language: str  # the plug-in name, or "" for a language the rules do not cover
    code: str


def code_blocks(text: str) -> list[Block]:
    """The fenced code blocks of ``text`` (blocks in unreviewed languages have language "")."""
    from reviewer.languages import languages

    out = []
    for m in _FENCE.finditer(text):
        tag = m.group(1).lower()
        name = LANGUAGE_ALIASES.get(tag, tag)
        out.append(Block(name if name in languages() else "", m.group(2)))
    return out


def review_snippet(code: str, language: str, rules: Sequence[Rule]) -> list[Finding]:
    """The rules' findings on one snippet (reviewed as a file of that language)."""
    from reviewer.engine import _rules_by_language, review_source

    path = SNIPPET_PATH.get(language, f"snippet.{language}")
    return review_source(path, code, _rules_by_language(rules), language).findings


def principle_of(rule_id: str) -> str:
    """The catalogue principle a rule enforces ("" for taught or unknown rules)."""
    from reviewer.rules import all_rules

    rule = all_rules().get(rule_id)
    return rule.principle if rule is not None else ""


def checked_principles(rules: Sequence[Rule], language: str) -> list[str]:
    """The principles the selected rules of ``language`` check, in id order."""
    return sorted({r.principle for r in rules if r.language == language and r.id != "RV000"})


def score(findings: Sequence[Finding], checked: Sequence[str]) -> int:
    """The principle score (module docstring)."""
    if not checked:
        return 100
    if any(f.rule_id == "RV000" for f in findings):
        return 0
    violated = {principle_of(f.rule_id) for f in findings} & set(checked)
    return round(100 * (len(checked) - len(violated)) / len(checked))


def violation(f: Finding) -> dict[str, Any]:
    """A finding as a validate-principles violation."""
    return {"rule": f.rule_id, "slug": f.slug, "principle": principle_of(f.rule_id),
            "line": f.span.line, "col": f.span.col, "severity": f.severity.label,
            "message": f.message}


def suggestions(findings: Sequence[Finding]) -> list[str]:
    """One line per rule that fired: what to change (its fix, or its message)."""
    out: dict[str, str] = {}
    for f in findings:
        if f.rule_id not in out:
            hint = f.fix.description if f.fix is not None else f.message
            out[f.rule_id] = f"{f.rule_id} (line {f.span.line}): {hint}"
    return list(out.values())


def complaint(findings: Sequence[Finding]) -> str:
    """The findings as the refinement message for the model."""
    lines = [f"- line {f.span.line}: {f.rule_id} {f.message}" for f in findings[:8]]
    return ("The reviewer's rules found these problems in your code:\n" + "\n".join(lines)
            + "\nRevise the answer so that its code fixes them; keep everything else.")


@dataclass
class Guidance:
    """The system prompt added for one chat request and what went into it."""

    text: str
    principles: list[str] = field(default_factory=list)
    taught: list[str] = field(default_factory=list)
    context: bool = False
    style: bool = False


def system_prompt(
    root: Path, config: Config, request_code: str, *, with_context: bool = True
) -> Guidance:
    """The principles (catalogue first those the request's code breaks, most severe
    first, then the rest),
    the taught principles, the repository context for the request's code and the style
    profile, as one system message."""
    from reviewer.principles import catalogue

    cat = catalogue()
    first: list[str] = []
    if request_code:
        from reviewer.engine import selected_rules

        for block in code_blocks(request_code) or [Block("python", request_code)]:
            if block.language:
                found = review_snippet(block.code, block.language, selected_rules(config))
                for f in sorted(found, key=lambda f: (-int(f.severity), f.span.line)):
                    pid = principle_of(f.rule_id)
                    if pid and pid not in first:
                        first.append(pid)
    order = first + [pid for pid in sorted(cat) if pid not in first]
    lines = ["You are a code assistant for a team that follows these engineering principles."
             " Write code that follows them.", "", "Principles:"]
    lines += [f"- {cat[pid].title}: {cat[pid].statement}" for pid in order if pid in cat]
    g = Guidance("", principles=[pid for pid in order if pid in cat])
    taught = _taught(root, config)
    if taught:
        lines += ["", "The team's own principles:"]
        lines += [f"- {p.text}" for p in taught]
        g.taught = [p.id for p in taught]
    style = _style(root)
    if style:
        lines += ["", "The repository's conventions:", style]
        g.style = True
    context = _context(root, config, request_code) if with_context else ""
    if context:
        lines += ["", "Related code from the repository:", context]
        g.context = True
    g.text = "\n".join(lines)
    return g


def _taught(root: Path, config: Config) -> list[Any]:
    from reviewer.feedback.taught import taught_rules

    return list(taught_rules(root, config))


def _style(root: Path) -> str:
    from reviewer.context.style import load, render_style

    try:
        return render_style(load(root))
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def _context(root: Path, config: Config, code: str) -> str:
    """Repository context retrieved for the request's code ("" when context is off)."""
    if not config.context or not code.strip():
        return ""
    from reviewer.context.provider import PromptContext
    from reviewer.findings import Severity

    provider = PromptContext(root, config, fast=True)
    probe = Finding("", "", "", "request.py", Span(1, 1, code.count("\n") + 1),
                    Severity.LOW)
    try:
        text = provider(probe, code)
    except Exception:  # reviewer: ignore[RV202] retrieval never stops an answer
        return ""
    return text.strip()
