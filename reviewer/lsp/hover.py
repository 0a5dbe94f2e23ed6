"""The hover text of a finding: the rule's summary, rationale, principle and an example."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from reviewer.findings import Finding

if TYPE_CHECKING:
    from reviewer.rules.base import Invalid, Rule


def describe(f: Finding, language: str | None = None) -> str:
    """Markdown for one finding (rule documentation; the model's explanation when known).

    ``language``: the buffer's plug-in; the example shown is one of that language's (the
    JavaScript implementation's for a JavaScript buffer), fenced as that language.
    """
    from reviewer.principles import catalogue
    from reviewer.report.rules_doc import fenced, rule_help_uri
    from reviewer.rules import all_rules

    cls = all_rules().get(f.rule_id)
    if cls is None:
        return f"**{f.rule_id}** {f.message}"
    parts = [f"**{cls.id} {cls.slug}** ({cls.severity.label}): {cls.summary()}"]
    if cls.rationale():
        parts.append(cls.rationale())
    principle = catalogue().get(cls.principle)
    if principle is not None:
        parts.append(f"*Principle: {principle.title}.* {principle.statement}")
    example, lang = _example(cls, language or cls.language)
    if example is not None:
        parts.append("Flagged:\n\n" + fenced(textwrap.dedent(example.code).strip(), lang))
        if example.fixed is not None:
            parts.append("Fixed:\n\n" + fenced(textwrap.dedent(example.fixed).strip(), lang))
    if f.explanation:
        parts.append(f"**The model:** {f.explanation}")
    parts.append(f"[Documentation]({rule_help_uri(cls.id)})")
    return "\n\n".join(parts)


def _example(cls: type[Rule], language: str) -> tuple[Invalid | None, str]:
    """The first flagged example of ``cls`` for ``language`` (the implementation's for a
    language the rule's class does not check itself; one written for that language's files
    first, as a JavaScript implementation also serves TypeScript) and its fence language."""
    from reviewer.rules.base import EXAMPLE_PATHS

    cls.languages()  # attaches the implementations
    impl = cls.implementations.get(language)
    examples = list(impl.INVALID if impl is not None else cls.INVALID)
    if not examples:
        return None, language
    suffix = EXAMPLE_PATHS.get(language, "example.py").rsplit(".", 1)[-1]
    own = [e for e in examples if e.path.rsplit(".", 1)[-1] == suffix]
    return (own or examples)[0], language
