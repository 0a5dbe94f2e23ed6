"""RV304 for JavaScript and TypeScript.

The rule and its docs: reviewer/rules/rv304_too_deeply_nested.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsmeasure import measure
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class TooDeeplyNestedJS(Implementation):
    """Every control statement nested past the limit is reported, as ESLint's max-depth does
    (``else if`` is not deeper; a nested function starts again at 0)."""

    rule_id = "RV304"
    languages = ("javascript", "typescript")
    VALID = [
        Valid(
            """\
            function f(a) {
              if (a) {
                for (const x of a) {
                  g(x);
                }
              }
            }
            """,
            path="example.js", options={"max_nested_blocks": 2},
        ),
        Valid(
            """\
            function f(a) {
              if (a) {
                for (const x of a) {
                  g(x);
                }
              }
            }
            """,
            path="example.ts", options={"max_nested_blocks": 2},
        ),
    ]
    INVALID = [
        Invalid(
            """\
            function f(a) {
              if (a) {
                for (const x of a) {
                  while (x) {
                    g(x);
                  }
                }
              }
            }
            """,
            line=4, path="example.js", options={"max_nested_blocks": 2},
        ),
        Invalid(
            """\
            function f(a) {
              if (a) {
                for (const x of a) {
                  while (x) {
                    g(x);
                  }
                }
              }
            }
            """,
            line=4, path="example.ts", options={"max_nested_blocks": 2},
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
