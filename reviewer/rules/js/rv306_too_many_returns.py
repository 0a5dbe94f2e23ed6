"""RV306 for JavaScript and TypeScript.

The rule and its docs: reviewer/rules/rv306_too_many_returns.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsmeasure import over
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class TooManyReturnsJS(Implementation):
    """Counted on the tree-sitter tree as reviewer/rules/_tsmeasure.py describes."""

    rule_id = "RV306"
    languages = ("javascript", "typescript")
    VALID = [
        Valid('function sign(x) {\n  if (x > 0) return 1;\n  return 0;\n}\n', path="example.js"),
        Valid('function sign(x) {\n  if (x > 0) return 1;\n  return 0;\n}\n', path="example.ts"),
    ]
    INVALID = [
        Invalid(
            """\
            function sign(x) {
              if (x > 0) return 1;
              if (x < 0) return -1;
              return 0;
            }
            """,
            line=1, path="example.js", options={'max_returns': 2},
        ),
        Invalid(
            """\
            function sign(x) {
              if (x > 0) return 1;
              if (x < 0) return -1;
              return 0;
            }
            """,
            line=1, path="example.ts", options={'max_returns': 2},
        ),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        return over(ctx, rule, "max_returns", "has {value} return statements", "returns")
