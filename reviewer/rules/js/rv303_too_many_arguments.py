"""RV303 for JavaScript and TypeScript.

The rule and its docs: reviewer/rules/rv303_too_many_arguments.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsmeasure import over
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class TooManyArgumentsJS(Implementation):
    """Counted on the tree-sitter tree as reviewer/rules/_tsmeasure.py describes."""

    rule_id = "RV303"
    languages = ("javascript", "typescript")
    VALID = [
        Valid('function f(a, b, c) {\n  return a + b + c;\n}\n', path="example.js"),
        Valid('function f(a, b, c) {\n  return a + b + c;\n}\n', path="example.ts"),
        # `this: void` only says the function does not use `this` (typescript-eslint agrees).
        Valid("function f(this: void, a: number, b: number, c: number, d: number, e: number)"
              " {\n  return a;\n}\n", path="example.ts"),
    ]
    INVALID = [
        Invalid(
            """\
            const f = (a, b, c, d, e, g) => a + b + c + d + e + g;
            """,
            line=1, path="example.js",
        ),
        Invalid(
            """\
            const f = (a, b, c, d, e, g) => a + b + c + d + e + g;
            """,
            line=1, path="example.ts",
        ),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        return over(ctx, rule, "max_arguments", "takes {value} parameters", "parameters")
