"""RV302 for Go; the rule and its docs: reviewer/rules/rv302_too_complex.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsmeasure import over
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class TooComplexGo(Implementation):
    """Counted on the tree-sitter tree as reviewer/rules/_tsmeasure.py describes."""

    rule_id = "RV302"
    languages = ("go",)
    VALID = [
        Valid(
            """\
            package p

            // F picks.
            func F(a bool) int {
            \tif a {
            \t\treturn 1
            \t}
            \treturn 2
            }
            """,
            path="example.go",
        ),
    ]
    INVALID = [
        Invalid(
            """\
            package p

            // F picks.
            func F(a, b bool) int {
            \tif a && b {
            \t\treturn 1
            \t}
            \tswitch {
            \tcase a:
            \t\treturn 2
            \t}
            \treturn 3
            }
            """,
            line=4, path="example.go", options={'max_complexity': 3},
        ),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        return over(ctx, rule, "max_complexity", "has cyclomatic complexity {value}", "complexity")
