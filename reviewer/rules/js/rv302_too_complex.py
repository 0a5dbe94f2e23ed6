"""RV302 for JavaScript and TypeScript.

The rule and its docs: reviewer/rules/rv302_too_complex.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsmeasure import over
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class TooComplexJS(Implementation):
    """Counted on the tree-sitter tree as reviewer/rules/_tsmeasure.py describes."""

    rule_id = "RV302"
    languages = ("javascript", "typescript")
    VALID = [
        Valid('function f(a) {\n  return a ? 1 : 2;\n}\n', path="example.js"),
        Valid('function f(a) {\n  return a ? 1 : 2;\n}\n', path="example.ts"),
    ]
    INVALID = [
        Invalid(
            """\
            function f(a, b) {
              if (a && b) {
                return 1;
              }
              return a ?? b;
            }
            """,
            line=1, path="example.js", options={'max_complexity': 3},
        ),
        Invalid(
            """\
            function f(a, b) {
              if (a && b) {
                return 1;
              }
              return a ?? b;
            }
            """,
            line=1, path="example.ts", options={'max_complexity': 3},
        ),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        return over(ctx, rule, "max_complexity", "has cyclomatic complexity {value}", "complexity")
