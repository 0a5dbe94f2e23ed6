"""RV301 for Go; the rule and its docs: reviewer/rules/rv301_too_many_statements.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsmeasure import over
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class TooManyStatementsGo(Implementation):
    """Counted on the tree-sitter tree as reviewer/rules/_tsmeasure.py describes."""

    rule_id = "RV301"
    languages = ("go",)
    VALID = [
        Valid(
            """\
            package p

            // F adds one.
            func F(a int) int {
            \tb := a + 1
            \treturn b
            }
            """,
            path="example.go",
        ),
    ]
    INVALID = [
        Invalid(
            """\
            package p

            // F adds.
            func F(a int) int {
            \tb := a + 1
            \tif b > 2 {
            \t\tb++
            \t}
            \treturn b
            }
            """,
            line=4, path="example.go", options={'max_statements': 3},
        ),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        return over(ctx, rule, "max_statements", "has {value} statements", "statements")
