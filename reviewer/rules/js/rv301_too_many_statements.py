"""RV301 for JavaScript and TypeScript.

The rule and its docs: reviewer/rules/rv301_too_many_statements.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsmeasure import over
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class TooManyStatementsJS(Implementation):
    """Counted on the tree-sitter tree as reviewer/rules/_tsmeasure.py describes."""

    rule_id = "RV301"
    languages = ("javascript", "typescript")
    VALID = [
        Valid('function f(a) {\n  const b = a + 1;\n  return b;\n}\n', path="example.js"),
        Valid('function f(a) {\n  const b = a + 1;\n  return b;\n}\n', path="example.ts"),
    ]
    INVALID = [
        Invalid(
            """\
            function f(a) {
              const b = a + 1;
              if (b) {
                a++;
              }
              return b;
            }
            """,
            line=1, path="example.js", options={'max_statements': 3},
        ),
        Invalid(
            """\
            function f(a) {
              const b = a + 1;
              if (b) {
                a++;
              }
              return b;
            }
            """,
            line=1, path="example.ts", options={'max_statements': 3},
        ),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        return over(ctx, rule, "max_statements", "has {value} statements", "statements")
