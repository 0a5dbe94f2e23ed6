"""The hover text of a finding: the rule's summary, rationale, principle and an example."""

from __future__ import annotations

import textwrap

from reviewer.findings import Finding


def describe(f: Finding) -> str:
    """Markdown for one finding (rule documentation; the model's explanation when known)."""
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
    if cls.INVALID:
        example = cls.INVALID[0]
        lang = cls.language
        parts.append("Flagged:\n\n" + fenced(textwrap.dedent(example.code).strip(), lang))
        if example.fixed is not None:
            parts.append("Fixed:\n\n" + fenced(textwrap.dedent(example.fixed).strip(), lang))
    if f.explanation:
        parts.append(f"**The model:** {f.explanation}")
    parts.append(f"[Documentation]({rule_help_uri(cls.id)})")
    return "\n\n".join(parts)
