"""RV402 for TypeScript.

The rule and its docs: reviewer/rules/rv402_missing_type_hints.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.languages.treesitter import walk
from reviewer.rules.base import Implementation, Invalid, Rule, Valid

_FUNCTION_VALUES = ("arrow_function", "function_expression", "function")


class UntypedExportTS(Implementation):
    """An exported TypeScript function whose signature has an implicit or explicit ``any``:
    a parameter without a type, or ``any`` in a parameter or return type.

    Callers of an exported function see only its signature; ``any`` there switches the
    type checker off for every caller. Name the type (``unknown`` when it really is
    unknown). A missing return type is inferred by TypeScript and is not reported.
    """

    rule_id = "RV402"
    languages = ("typescript",)
    VALID = [
        Valid("export function add(a: number, b: number): number {\n  return a + b;\n}\n",
              path="example.ts"),
        Valid("function helper(x) {\n  return x;\n}\n", path="example.ts"),
    ]
    INVALID = [
        Invalid("export function parse(text: string): any {\n  return JSON.parse(text);\n}\n",
                line=1, path="example.ts"),
        Invalid("export const twice = (x) => x * 2;\n", line=1, path="example.ts"),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        if ctx.is_test and not rule.settings["include_tests"]:
            return
        for export in ctx.nodes("export_statement"):
            decl = export.child_by_field_name("declaration")
            fns: list[Any] = []
            if decl is not None and decl.type == "function_declaration":
                fns.append(decl)
            elif decl is not None and decl.type == "lexical_declaration":
                fns += [d.child_by_field_name("value") for d in decl.named_children
                        if d.type == "variable_declarator" and d.child_by_field_name("value")
                        is not None and d.child_by_field_name("value").type in _FUNCTION_VALUES]
            for fn in fns:
                problem = _untyped(ctx, fn)
                if problem:
                    yield ctx.report(rule, export, f"exported function has {problem} in its"
                                                   " signature", symbol_of=fn)


def _untyped(ctx: Any, fn: Any) -> str:
    params = fn.child_by_field_name("parameters")
    if params is None:  # `x => ...`
        return "an untyped parameter (implicit any)"
    for p in params.named_children:
        if p.type in ("required_parameter", "optional_parameter"):
            t = p.child_by_field_name("type")
            if t is None:
                name = ctx.text(p.child_by_field_name("pattern"))
                return f"an untyped parameter '{name}' (implicit any)"
            if _has_any(ctx, t):
                return "an explicit any"
    ret = fn.child_by_field_name("return_type")
    if ret is not None and _has_any(ctx, ret):
        return "an explicit any"
    return ""


def _has_any(ctx: Any, node: Any) -> bool:
    return any(n.type == "predefined_type" and ctx.text(n) == "any"
               for n in [node, *walk(node)])
