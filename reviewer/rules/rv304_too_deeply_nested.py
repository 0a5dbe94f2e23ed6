"""RV304: blocks nested too deeply inside a function."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from typing import Any

from reviewer.findings import Finding, Severity, Span
from reviewer.languages.python import PyContext
from reviewer.rules._functions import (
    BLOCK_TYPES,
    check_threshold,
    definition_scope,
    kind_of,
    nesting_depth,
)
from reviewer.rules.base import Invalid, Rule, Valid


class TooDeeplyNested(Rule):
    """Blocks inside a function are nested deeper than the configured maximum (5).

    Every nested ``if``, loop, ``try`` or ``with`` adds a condition the reader has to
    remember to understand the innermost line. Deep nesting is the clearest sign that a
    function should return early (guard clauses), ``continue`` early in loops, or hand the
    inner part to a helper function.

    A block is an ``if`` (an ``elif`` stays at its ``if``'s level, while ``else:`` followed
    by a nested ``if`` goes one deeper), ``for``/``async for``, ``while``, ``try``,
    ``with``/``async with`` or ``match``. Like pylint's ``too-many-nested-blocks``, the
    finding is reported at the outermost block of each too-deep nest, once per nest, and a
    nested function starts its own count. Unlike pylint 4.1 (and like ruff's PLR1702),
    ``with`` blocks count and the count does not restart inside ``except`` handlers or
    ``with`` bodies; ``match`` counts as one level as well. Under the ``added`` diff filter
    the finding is kept when any line of the function changed.
    """

    id = "RV304"
    local_fix = False  # deep nesting needs the function restructured
    slug = "too-deeply-nested"
    principle = "small-functions"
    severity = Severity.LOW
    message = "Blocks are nested too deeply."
    counterparts = {"pylint": "too-many-nested-blocks", "ruff": "PLR1702",
                    "eslint": "max-depth", "revive": "max-control-nesting"}
    options = {"max_nested_blocks": 5}
    tags = ("maintainability", "complexity")
    whole_function = True
    VALID = [
        "def f(x):\n    if x:\n        for y in x:\n            while y:\n                y -= 1\n",
        # elif chains stay at one level.
        Valid(
            "def f(x):\n    if x == 1:\n        return 1\n    elif x == 2:\n        return 2\n"
            "    elif x == 3:\n        return 3\n    else:\n        return 0\n",
            options={"max_nested_blocks": 1},
        ),
        # A nested function starts its own count (2 + 2, never 4).
        Valid(
            "def outer(xs):\n    for x in xs:\n        def inner(y):\n            if y:\n"
            "                for z in y:\n                    print(z)\n        inner(x)\n",
            options={"max_nested_blocks": 2},
        ),
        # Module-level code is not checked.
        Valid(
            "for a in b:\n    if a:\n        while a:\n            a -= 1\n",
            options={"max_nested_blocks": 1},
        ),
    ]
    INVALID = [
        Invalid(
            "def f(rows):\n    for row in rows:\n        if row:\n            for cell in row:\n"
            "                if cell:\n                    while cell:\n"
            "                        if cell > 3:\n                            cell -= 2\n",
            line=2,
        ),
        # else: + if goes one level deeper (unlike elif).
        Invalid(
            "def f(x):\n    if x == 1:\n        return 1\n    else:\n        if x == 2:\n"
            "            return 2\n",
            line=2,
            options={"max_nested_blocks": 1},
        ),
        # try, with and except bodies all count; reported at the outermost block.
        Invalid(
            "async def load(paths):\n    data = []\n    try:\n        for p in paths:\n"
            "            async with open(p) as fh:\n                data.append(await fh.read())\n"
            "    except OSError:\n        if data:\n            return data\n    return None\n",
            line=3,
            options={"max_nested_blocks": 2},
        ),
        # Methods; one finding per too-deep nest.
        Invalid(
            "class A:\n    def m(self, xs):\n        for x in xs:\n            if x:\n"
            "                pass\n        while xs:\n            match xs.pop():\n"
            "                case 1:\n                    pass\n",
            line=6,
            options={"max_nested_blocks": 1},
        ),
    ]

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        check_threshold(self.id, "max_nested_blocks", self.settings["max_nested_blocks"])

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        limit: int = self.settings["max_nested_blocks"]
        for fn in ctx.functions():
            for stmt in fn.body:
                if not isinstance(stmt, BLOCK_TYPES):
                    continue
                depth = nesting_depth(stmt, ctx.lines)
                if depth <= limit:
                    continue
                finding = ctx.report(
                    self, header_span(ctx, stmt),
                    f"{kind_of(ctx, fn)} '{fn.name}' has blocks nested {depth} deep"
                    f" (max {limit})",
                    scope=definition_scope(fn),
                )
                yield finding.with_(symbol=ctx.scope_name(fn))


def header_span(ctx: PyContext, stmt: ast.stmt) -> Span:
    """The first line of a block statement, from its keyword to the end of the line."""
    line = stmt.lineno
    text = ctx.lines[line - 1] if line <= len(ctx.lines) else ""
    return Span(line, stmt.col_offset + 1, line, max(len(text), stmt.col_offset) + 1)
