"""RV304 for Go; the rule and its docs: reviewer/rules/rv304_too_deeply_nested.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsmeasure import measure
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class TooDeeplyNestedGo(Implementation):
    """Every control statement nested past the limit is reported, as ESLint's max-depth does
    (``else if`` is not deeper; a nested function starts again at 0)."""

    rule_id = "RV304"
    languages = ("go",)
    VALID = [
        Valid(
            """\
            package p

            // F loops.
            func F(a []int) {
            \tif a != nil {
            \t\tfor range a {
            \t\t}
            \t}
            }
            """,
            path="example.go", options={"max_nested_blocks": 2},
        ),

    ]
    INVALID = [
        Invalid(
            """\
            package p

            // F loops.
            func F(a []int) {
            \tif a != nil {
            \t\tfor range a {
            \t\t\tif len(a) > 1 {
            \t\t\t}
            \t\t}
            \t}
            }
            """,
            line=7, path="example.go", options={"max_nested_blocks": 2},
        ),

    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        limit: int = rule.settings["max_nested_blocks"]
        for fn in [ctx.root, *ctx.functions()]:
            for node, depth in measure(ctx, fn, limit).too_deep:
                yield ctx.report(
                    rule, node, f"blocks nested {depth} deep (max {limit})",
                    symbol_of=node,
                )
