"""Rule documentation generated from the rules themselves (docstring, metadata, examples).

The same VALID/INVALID examples that test a rule document it, Fixit-style: docs/rules.md
is :func:`render_rules_markdown` output (a test keeps it up to date), and the SARIF
reporter embeds :func:`rule_help_markdown` / :func:`rule_help_text` as each rule's help.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewer.rules.base import Invalid, Rule, Valid

# Where the documentation lives; SARIF ``helpUri`` points at docs/rules.md#rvNNN.
HOMEPAGE = "https://github.com/reviewer-dev/reviewer"
RULES_DOC_URL = f"{HOMEPAGE}/blob/main/docs/rules.md"

_BACKTICKS = re.compile(r"`+")
_RST_LITERAL = re.compile(r"``([^`]+)``")


def _prose(text: str) -> str:
    """Docstring prose with reStructuredText double-backtick literals made Markdown ones."""
    return _RST_LITERAL.sub(r"`\1`", text)


def rule_anchor(rule_id: str) -> str:
    """The anchor of a rule's section in docs/rules.md (its heading is the bare ID)."""
    return rule_id.lower()


def rule_help_uri(rule_id: str) -> str:
    """The URL of a rule's documentation."""
    return f"{RULES_DOC_URL}#{rule_anchor(rule_id)}"


def fenced(code: str, lang: str = "python") -> str:
    """A fenced code block whose fence is longer than any backtick run inside ``code``."""
    longest = max((len(m) for m in _BACKTICKS.findall(code)), default=0)
    fence = "`" * max(3, longest + 1)
    body = code if code.endswith("\n") else code + "\n"
    return f"{fence}{lang}\n{body}{fence}"


def _code(example: str | Valid | Invalid) -> str:
    text = example if isinstance(example, str) else example.code
    return textwrap.dedent(text)


def _counterparts(cls: type[Rule]) -> str:
    return ", ".join(f"{tool} `{code}`" for tool, code in cls.counterparts.items())


def _option_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _facts(cls: type[Rule]) -> list[str]:
    rows = [
        ("Principle", f"`{cls.principle}`"),
        ("Severity", f"{cls.severity.label} (SARIF level `{cls.severity.sarif_level}`)"),
        ("Language", ", ".join(cls.languages())),
        ("Autofix", "yes" if cls.fixable else "no"),
    ]
    if cls.security_severity is not None:
        rows.append(("Security severity", f"{cls.security_severity:g}"))
    if cls.counterparts:
        rows.append(("Also checked by", _counterparts(cls)))
    if cls.tags:
        rows.append(("Tags", ", ".join(cls.tags)))
    return ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]


def _options(cls: type[Rule]) -> list[str]:
    if not cls.options:
        return []
    out = [
        f"Options (in `[tool.reviewer.rules.{cls.id}]` of pyproject.toml):",
        "",
        "| option | default |",
        "|---|---|",
    ]
    out.extend(f"| `{k}` | `{_option_value(v)}` |" for k, v in cls.options.items())
    return out


def _with_options(label: str, example: Valid | Invalid | str) -> str:
    opts = None if isinstance(example, str) else example.options
    path = "example.py" if isinstance(example, str) else example.path
    extras = []
    if path != "example.py":
        extras.append(f"in `{path}`")
    if opts:
        extras.append("with " + ", ".join(f"`{k} = {_option_value(v)}`" for k, v in opts.items()))
    return f"{label} ({'; '.join(extras)})" if extras else label


_FENCE_LANG = {".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
               ".jsx": "jsx", ".ts": "typescript", ".mts": "typescript", ".cts": "typescript",
               ".tsx": "tsx", ".go": "go"}


def _fence_lang(path: str) -> str:
    """The Markdown fence language of an example's file name."""
    dot = path.rfind(".")
    return _FENCE_LANG.get(path[dot:], "python") if dot >= 0 else "python"


def _examples(cls: type[Rule]) -> list[str]:
    out: list[str] = []
    valid, invalid = cls.examples()
    for ex in invalid:
        where = f", line {ex.line}" if ex.line is not None else ""
        lang = _fence_lang(ex.path)
        out += [f"{_with_options('Flagged' + where, ex)}:", "", fenced(_code(ex), lang), ""]
        if ex.fixed is not None:
            out += ["Fixed automatically to:", "", fenced(_code(ex.fixed), lang), ""]
    for v in valid:
        out += [f"{_with_options('Not flagged', v)}:", "", fenced(_code(v), _fence_lang(v.path)),
                ""]
    return out


def rule_help_markdown(cls: type[Rule]) -> str:
    """A rule's full documentation as Markdown, without a heading (SARIF ``help.markdown``)."""
    parts: list[str] = [f"**{cls.slug}**: {_prose(cls.summary())}", ""]
    if cls.rationale():
        parts += [_prose(cls.rationale()), ""]
    parts += [*_facts(cls), ""]
    opts = _options(cls)
    if opts:
        parts += [*opts, ""]
    parts += _examples(cls)
    return "\n".join(parts).rstrip() + "\n"


def _indent(code: str) -> list[str]:
    return [("    " + ln) if ln.strip() else "" for ln in code.rstrip("\n").splitlines()]


def rule_help_text(cls: type[Rule]) -> str:
    """A rule's documentation as plain text (SARIF ``help.text``)."""
    out = [f"{cls.id} {cls.slug}: {_prose(cls.summary())}", ""]
    if cls.rationale():
        out += [_prose(cls.rationale()), ""]
    out.append(f"Principle: {cls.principle}. Severity: {cls.severity.label}.")
    if cls.counterparts:
        out.append("Also checked by: " + _counterparts(cls).replace("`", "") + ".")
    if cls.options:
        out.append(
            "Options: " + ", ".join(f"{k} = {_option_value(v)}" for k, v in cls.options.items())
            + "."
        )
    out.append("")
    for ex in cls.INVALID[:2]:
        out += ["Flagged:", *_indent(_code(ex)), ""]
        if ex.fixed is not None:
            out += ["Fixed automatically to:", *_indent(_code(ex.fixed)), ""]
    for v in cls.VALID[:2]:
        out += ["Not flagged:", *_indent(_code(v)), ""]
    out.append(f"Documentation: {rule_help_uri(cls.id)}")
    return "\n".join(out) + "\n"


def _table(rules: Iterable[type[Rule]]) -> list[str]:
    out = ["| ID | Slug | Principle | Severity | Fix | Summary |", "|---|---|---|---|---|---|"]
    for cls in rules:
        fix = "yes" if cls.fixable else ""
        summary = _prose(cls.summary()).replace("|", "\\|")
        out.append(
            f"| [{cls.id}](#{rule_anchor(cls.id)}) | `{cls.slug}` | `{cls.principle}` "
            f"| {cls.severity.label} | {fix} | {summary} |"
        )
    return out


def render_rules_markdown() -> str:
    """docs/rules.md: every built-in rule, generated from its metadata and examples."""
    from reviewer.rules import all_rules

    rules = list(all_rules().values())
    out = [
        "# Rules",
        "",
        "<!-- Generated by `reviewer rules --format markdown` from the rules' docstrings,",
        "     metadata and embedded examples. Do not edit by hand. -->",
        "",
        "Every rule lives in one module under `reviewer/rules/`; its docstring, metadata and",
        "its VALID/INVALID examples are the source of this page, and the same examples are",
        "its tests (`reviewer rules test`). Select or ignore rules by ID, ID prefix or slug",
        "(`select`/`ignore` in `[tool.reviewer]`), suppress one finding with",
        "`# reviewer: ignore[RV101] reason`.",
        "",
        *_table(rules),
        "",
    ]
    for cls in rules:
        out += [f"## {cls.id}", "", rule_help_markdown(cls)]
    return "\n".join(out).rstrip() + "\n"
