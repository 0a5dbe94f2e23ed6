"""RV301: function with too many statements."""

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


class TooManyStatements(Rule):
    """A function has more statements than the configured maximum (50).

    A long function does several things at once: it is hard to name, to test piece by piece
    and to change without side effects. Split it into smaller functions that each do one
    thing. Statements are counted the way pylint's ``too-many-statements`` counts them, so
    limits carry over: the ``def`` line counts one, every simple statement one, an ``if``
    one (two with an ``else``), a ``try`` two per ``except`` plus one per ``else`` and
    ``finally``, a ``match`` or ``with`` one; loops, ``return`` and nested ``def``/``class``
    lines add nothing themselves, but everything in their bodies counts, nested functions
    included. (``async for`` and ``try``/``except*`` count like ``for`` and ``try``.)
    Reported on the function's name; under the ``added`` diff filter the finding is kept
    when any line of the function changed. ``ignore_top_level_functions`` (JavaScript and
    TypeScript, ESLint's ``ignoreTopLevelFunctions``): a file's one top-level function (a
    module wrapper such as an IIFE or ``define(..., function () {...})``) is not
    reported; with two or more, every one is.
    """

    id = "RV301"
    local_fix = False  # a long function needs to be split, not edited in place
    slug = "too-many-statements"
    principle = "small-functions"
    severity = Severity.LOW
    message = "Function has too many statements."
    counterparts = {"pylint": "too-many-statements", "ruff": "PLR0915",
                    "eslint": "max-statements", "revive": "function-length"}
    options = {"max_statements": 50, "ignore_top_level_functions": False}
    tags = ("maintainability", "size")
    whole_function = True
    VALID = [
        "def f(x):\n    y = x + 1\n    return y\n",
        Valid(
            "def f(x):\n    if x:\n        return 1\n    return 2\n",
            options={"max_statements": 3},
        ),
        # Loops and returns add nothing themselves: 1 (def) + 2 assignments.
        Valid(
            "def f(xs):\n    for x in xs:\n        y = x\n    while xs:\n        z = 1\n"
            "    return xs\n",
            options={"max_statements": 3},
        ),
        # Lambdas hold no statements.
        Valid("square = lambda x: x * x\n", options={"max_statements": 0}),
        # Module-level code is not a function.
        Valid("a = 1\nb = 2\nc = 3\n", options={"max_statements": 1}),
    ]
    INVALID = [
        Invalid(
            "def f(x):\n    a = 1\n    b = 2\n    c = 3\n    return a + b + c\n",
            line=1,
            options={"max_statements": 3},
        ),
        # if/else counts two, each handler two: 1 + 2 + 1 + 1 + 2 + 1 = 8.
        Invalid(
            "async def fetch(url):\n"
            "    if url:\n        a = 1\n    else:\n        a = 2\n"
            "    try:\n        await get(url)\n    except OSError:\n        pass\n",
            line=1,
            options={"max_statements": 7},
        ),
        # Statements of nested functions count towards the enclosing one.
        Invalid(
            "def outer():\n    def inner():\n        a = 1\n        b = 2\n        c = 3\n"
            "    return inner\n",
            line=1,
            options={"max_statements": 3},
        ),
        # Methods, reported on the name line (after the decorator).
        Invalid(
            "class A:\n    @property\n    def value(self):\n        a = 1\n        b = 2\n"
            "        return a + b\n",
            line=3,
            options={"max_statements": 2},
        ),
        Invalid(
            "def long():\n" + "    x = 1\n" * 50 + "    return x\n",
            line=1,
        ),
    ]

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        check_threshold(self.id, "max_statements", self.settings["max_statements"])

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        limit: int = self.settings["max_statements"]
        measured = measures(ctx)
        for fn in ctx.functions():
            count = measured[fn].statements
            if count > limit:
                yield report_definition(
                    ctx, self, fn,
                    f"{kind_of(ctx, fn)} '{fn.name}' has {count} statements (max {limit})",
                    definition_scope(fn),
                )
