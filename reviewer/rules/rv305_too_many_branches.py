"""RV305: function with too many branches."""

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


class TooManyBranches(Rule):
    """A function has more branches than the configured maximum (12).

    Each branch is a separate case to read, to test and to keep consistent with the
    others. A function with many branches usually mixes several decisions: dispatch
    through a dictionary, split the cases into functions, or handle the special cases
    first and return early.

    Counted as pylint counts ``too-many-branches``: an ``if`` or ``elif`` is one branch and
    a final ``else`` another; a ``for`` or ``while`` loop is one, plus one for its ``else``;
    a ``try`` counts each ``except`` plus its ``else`` and ``finally``; a ``match`` counts
    each ``case``. Branches of nested functions belong to those functions. (``async for``
    and ``try``/``except*`` count like ``for`` and ``try``; pylint 4.1 overlooks them.)
    """

    id = "RV305"
    local_fix = False  # many branches need the function restructured
    slug = "too-many-branches"
    principle = "small-functions"
    severity = Severity.LOW
    message = "Function has too many branches."
    counterparts = {"pylint": "too-many-branches", "ruff": "PLR0912"}
    options = {"max_branches": 12}
    tags = ("maintainability", "complexity")
    whole_function = True
    VALID = [
        "def f(x):\n    if x:\n        return 1\n    else:\n        return 2\n",
        # if/elif/else: three branches.
        Valid(
            "def f(x):\n    if x == 1:\n        a = 1\n    elif x == 2:\n        a = 2\n"
            "    else:\n        a = 3\n    return a\n",
            options={"max_branches": 3},
        ),
        # Branches of a nested function are its own (2 and 1 here).
        Valid(
            "def outer(xs):\n    def pick(x):\n        if x:\n            return 1\n"
            "        return 2\n    for x in xs:\n        pick(x)\n",
            options={"max_branches": 1},
        ),
        # Conditional expressions and comprehensions are not branches.
        Valid(
            "def f(xs):\n    return [x if x else 0 for x in xs if x is not None]\n",
            options={"max_branches": 0},
        ),
    ]
    INVALID = [
        Invalid(
            "def f(x):\n    if x == 1:\n        a = 1\n    elif x == 2:\n        a = 2\n"
            "    else:\n        a = 3\n    return a\n",
            line=1,
            options={"max_branches": 2},
        ),
        # try: 2 handlers + else + finally = 4; for + else = 2.
        Invalid(
            "async def f(items):\n    try:\n        run()\n    except ValueError:\n"
            "        pass\n    except OSError:\n        pass\n    else:\n        ok()\n"
            "    finally:\n        done()\n    async for i in items:\n        pass\n"
            "    else:\n        pass\n",
            line=1,
            options={"max_branches": 5},
        ),
        # match: one branch per case.
        Invalid(
            "class Shape:\n    def area(self):\n        match self.kind:\n"
            "            case 'square':\n                return 1\n            case 'circle':\n"
            "                return 2\n            case _:\n                return 0\n",
            line=2,
            options={"max_branches": 2},
        ),
        Invalid(
            "def route(cmd):\n"
            + "".join(
                f"    {'if' if i == 0 else 'elif'} cmd == {i}:\n        x = {i}\n"
                for i in range(13)
            )
            + "    return x\n",
            line=1,
        ),
    ]

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        check_threshold(self.id, "max_branches", self.settings["max_branches"])

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        limit: int = self.settings["max_branches"]
        measured = measures(ctx)
        for fn in ctx.functions():
            count = measured[fn].branches
            if count > limit:
                yield report_definition(
                    ctx, self, fn,
                    f"{kind_of(ctx, fn)} '{fn.name}' has {count} branches (max {limit})",
                    definition_scope(fn),
                )
