"""RV306 for Go; the rule and its docs: reviewer/rules/rv306_too_many_returns.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsmeasure import over
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class TooManyReturnsGo(Implementation):
    """Counted on the tree-sitter tree as reviewer/rules/_tsmeasure.py describes."""

    rule_id = "RV306"
    languages = ("go",)
    VALID = [
        Valid(
            """\
            package p

            // Sign of x.
            func Sign(x int) int {
            \tif x > 0 {
            \t\treturn 1
            \t}
            \treturn 0
            }
            """,
            path="example.go",
        ),
    ]
    INVALID = [
        Invalid(
            """\
            package p

            // Sign of x.
            func Sign(x int) int {
            \tif x > 0 {
            \t\treturn 1
            \t}
            \tif x < 0 {
            \t\treturn -1
            \t}
            \treturn 0
            }
            """,
            line=4, path="example.go", options={'max_returns': 2},
        ),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        return over(ctx, rule, "max_returns", "has {value} return statements", "returns")
