"""RV306: function with too many return statements."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PyContext
from reviewer.rules._functions import (
    check_threshold,
    definition_scope,
    kind_of,
    measures,
    report_definition,
)
from reviewer.rules.base import Invalid, Rule, Valid


class TooManyReturns(Rule):
    """A function has more ``return`` statements than the configured maximum (6).

    Many exits make a function's outcome hard to follow: to know what it returns, a reader
    must trace every path to every ``return``. It often means the function decides too
    many things; a lookup table or a split into smaller functions reads better. Early
    returns of guard clauses are fine, which is why the limit is not lower.

    Counted as pylint counts ``too-many-return-statements``: every ``return`` statement
    of the function itself; ``return`` statements of nested functions belong to those
    functions, and ``yield`` is not counted.
    """

    id = "RV306"
    local_fix = False  # many returns need the function restructured
    slug = "too-many-returns"
    principle = "small-functions"
    severity = Severity.LOW
    message = "Function has too many return statements."
    counterparts = {"pylint": "too-many-return-statements", "ruff": "PLR0911"}
    options = {"max_returns": 6}
    tags = ("maintainability", "complexity")
    whole_function = True
    VALID = [
        "def sign(x):\n    if x > 0:\n        return 1\n    if x < 0:\n        return -1\n"
        "    return 0\n",
        # Returns of nested functions are theirs; yields are not returns.
        Valid(
            "def outer():\n    def a():\n        return 1\n    def b():\n        return 2\n"
            "    yield a\n    yield b\n    return None\n",
            options={"max_returns": 1},
        ),
        Valid("pick = lambda x: x or None\n", options={"max_returns": 0}),
    ]
    INVALID = [
        Invalid(
            "def sign(x):\n    if x > 0:\n        return 1\n    if x < 0:\n        return -1\n"
            "    return 0\n",
            line=1,
            options={"max_returns": 2},
        ),
        Invalid(
            "class Codec:\n    @staticmethod\n    async def decode(tag):\n"
            "        match tag:\n            case 1:\n                return 'a'\n"
            "            case 2:\n                return 'b'\n        return None\n",
            line=3,
            options={"max_returns": 2},
        ),
        Invalid(
            "def name(n):\n"
            + "".join(f"    if n == {i}:\n        return '{i}'\n" for i in range(7))
            + "    return ''\n",
            line=1,
        ),
    ]

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        check_threshold(self.id, "max_returns", self.settings["max_returns"])

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        limit: int = self.settings["max_returns"]
        measured = measures(ctx)
        for fn in ctx.functions():
            count = measured[fn].returns
            if count > limit:
                yield report_definition(
                    ctx, self, fn,
                    f"{kind_of(ctx, fn)} '{fn.name}' has {count} return statements"
                    f" (max {limit})",
                    definition_scope(fn),
                )
