"""RV303 for Go; the rule and its docs: reviewer/rules/rv303_too_many_arguments.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsmeasure import over
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class TooManyArgumentsGo(Implementation):
    """Counted on the tree-sitter tree as reviewer/rules/_tsmeasure.py describes."""

    rule_id = "RV303"
    languages = ("go",)
    VALID = [
        Valid(
            """\
            package p

            // F sums.
            func F(a, b, c int) int {
            \treturn a + b + c
            }
            """,
            path="example.go",
        ),
    ]
    INVALID = [
        Invalid(
            """\
            package p

            // F sums.
            func F(a, b, c int, d, e, f string) int {
            \treturn a + b + c
            }
            """,
            line=4, path="example.go",
        ),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        return over(ctx, rule, "max_arguments", "takes {value} parameters", "parameters")
