"""RV401 for JavaScript and TypeScript.

The rule and its docs: reviewer/rules/rv401_missing_docstring.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules.base import Implementation, Invalid, Rule, Valid

_DOCUMENTED = ("function_declaration", "generator_function_declaration", "class_declaration",
               "abstract_class_declaration", "lexical_declaration")


class MissingJSDoc(Implementation):
    """An exported function or class without a JSDoc comment (``/** ... */``) above it.

    Exports are the module's public surface: ``export function``, ``export class``,
    ``export const f = () => ...`` and ``export default function``. Test files
    (``include_tests`` off) and names matching ``no_docstring_rgx`` are not reported.
    """

    rule_id = "RV401"
    languages = ("javascript", "typescript")
    VALID = [
        Valid("/** Adds two numbers. */\nexport function add(a, b) {\n  return a + b;\n}\n",
              path="example.js"),
        Valid("function helper() {}\nexport const VERSION = 1;\n", path="example.js"),
        Valid("/**\n * A point.\n */\nexport class Point {}\n", path="example.ts"),
    ]
    INVALID = [
        Invalid("export function add(a, b) {\n  return a + b;\n}\n", line=1, path="example.js"),
        Invalid("// not JSDoc\nexport const add = (a: number, b: number): number => a + b;\n",
                line=2, path="example.ts"),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        import re

        if ctx.is_test and not rule.settings["include_tests"]:
            return
        skip = re.compile(rule.settings["no_docstring_rgx"])
        for export in ctx.nodes("export_statement"):
            decl = export.child_by_field_name("declaration") or next(
                (c for c in export.named_children if c.type in (
                    "function_expression", "function", "class", "arrow_function")), None)
            if decl is None:
                continue
            name = _name(ctx, decl)
            if name is None or (name and skip.search(name)):
                continue
            docs = [c for c in ctx.comments_before(export) if ctx.text(c).startswith("/**")]
            if not docs:
                what = "class" if "class" in decl.type else "function"
                yield ctx.report(rule, export, f"exported {what} '{name or 'default'}' has no"
                                               " JSDoc comment", symbol_of=decl)


def _name(ctx: Any, decl: Any) -> str | None:
    """The exported function's or class's name ('' for a default export); None otherwise."""
    if decl.type in ("lexical_declaration", "variable_declaration"):
        for d in decl.named_children:
            value = d.child_by_field_name("value") if d.type == "variable_declarator" else None
            if value is not None and value.type in ("arrow_function", "function_expression",
                                                    "function", "class"):
                return str(ctx.text(d.child_by_field_name("name")))
        return None
    if decl.type in _DOCUMENTED or decl.type in ("function_expression", "function", "class",
                                                   "arrow_function"):
        n = decl.child_by_field_name("name")
        return str(ctx.text(n)) if n is not None else ""
    return None
