"""RV302: function with too high a cyclomatic (McCabe) complexity."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from typing import Any

from reviewer.findings import Finding, Severity, Span
from reviewer.languages.python import PyContext
from reviewer.rules._functions import (
    FUNCTION_TYPES,
    check_threshold,
    complexity,
    complexity_roots,
    definition_scope,
    kind_of,
    report_definition,
)
from reviewer.rules.base import Invalid, Rule, Valid

_KEYWORD = {
    ast.If: "if", ast.For: "for", ast.AsyncFor: "async for", ast.While: "while",
    ast.Try: "try", ast.Match: "match",
}


class TooComplex(Rule):
    """A function's cyclomatic complexity is above the configured maximum (10).

    Cyclomatic complexity counts the independent paths through a function: each one needs
    its own test, and each one is a case a reader must keep in mind. Above about ten,
    functions become hard to test completely and to change safely; split out the decisions
    into helpers, replace condition chains by a lookup table, or return early.

    Counted as mccabe counts (``flake8 --max-complexity``, pylint's ``too-complex``): 1,
    plus 1 for each ``if``/``elif``, ``for``, ``while``; 1 per ``except`` plus 1 for a
    ``try``; 1 per ``case`` of a ``match``. Boolean operators, comprehensions and
    conditional expressions add nothing. A nested function adds its own complexity to the
    enclosing function and is not rated on its own. Two deliberate differences from mccabe:
    decisions inside ``finally`` blocks count (mccabe skips them), and a function defined
    inside a module-level ``if``/``try`` is rated on its own instead of being merged into
    that statement. Branching statements outside any function (a module-level ``for`` loop
    in a script) are rated as well, like mccabe does; set ``check_module_level = false``
    to rate functions only. Reported when the complexity is greater than
    ``max_complexity``.
    """

    id = "RV302"
    local_fix = False  # a complex function needs to be restructured
    slug = "too-complex"
    principle = "small-functions"
    severity = Severity.LOW
    message = "Function is too complex (cyclomatic complexity)."
    counterparts = {"ruff": "C901", "pylint": "too-complex", "flake8": "C901",
                    "eslint": "complexity", "gocyclo": "gocyclo"}
    options = {"max_complexity": 10, "check_module_level": True}
    tags = ("maintainability", "complexity")
    whole_function = True
    VALID = [
        "def f(x):\n    if x:\n        return 1\n    return 2\n",
        # Boolean operators, comprehensions and lambdas add nothing.
        Valid(
            "def f(xs):\n    g = lambda x: 1 if x else 2\n"
            "    return [g(x) for x in xs if x and x > 1] or None\n",
            options={"max_complexity": 1},
        ),
        # with blocks are not decisions: 1 + 1 (for) = 2.
        Valid(
            "async def f(paths):\n    for p in paths:\n        async with open(p) as fh:\n"
            "            await fh.read()\n",
            options={"max_complexity": 2},
        ),
        Valid(
            "for x in range(3):\n    if x:\n        print(x)\n",
            options={"max_complexity": 3},
        ),
        Valid(
            "for x in range(3):\n    if x:\n        print(x)\n",
            options={"max_complexity": 0, "check_module_level": False},
        ),
    ]
    INVALID = [
        # 1 + if + elif + for + if = 5
        Invalid(
            "def grade(x, ys):\n    if x > 90:\n        return 'A'\n    elif x > 80:\n"
            "        return 'B'\n    for y in ys:\n        if y:\n            return y\n"
            "    return 'C'\n",
            line=1,
            options={"max_complexity": 4},
        ),
        # try with two handlers: 1 + 2 + 1 = 4; a match with three cases: + 3.
        Invalid(
            "class Parser:\n    @staticmethod\n    def parse(text):\n        try:\n"
            "            value = int(text)\n        except ValueError:\n            value = 0\n"
            "        except TypeError:\n            value = -1\n        match value:\n"
            "            case 0:\n                return 'zero'\n            case 1:\n"
            "                return 'one'\n            case _:\n                return 'many'\n",
            line=3,
            options={"max_complexity": 6},
        ),
        # A nested function's decisions count towards the enclosing function.
        Invalid(
            "def outer(xs):\n    def keep(x):\n        if x:\n            return True\n"
            "        return False\n    while xs:\n        xs.pop()\n    return keep\n",
            line=1,
            options={"max_complexity": 3},
        ),
        # Module-level branching (a script) is rated too: 1 + for + if = 3.
        Invalid(
            "import sys\nfor arg in sys.argv:\n    if arg:\n        print(arg)\n",
            line=2,
            options={"max_complexity": 2},
        ),
        Invalid(
            "def route(cmd):\n"
            + "".join(
                f"    {'if' if i == 0 else 'elif'} cmd == {i}:\n        return {i}\n"
                for i in range(11)
            )
            + "    return None\n",
            line=1,
        ),
    ]

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        check_threshold(self.id, "max_complexity", self.settings["max_complexity"])

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        limit: int = self.settings["max_complexity"]
        module_level: bool = self.settings["check_module_level"]
        for root in complexity_roots(ctx.tree):
            is_function = isinstance(root, FUNCTION_TYPES)
            if not is_function and not module_level:
                continue
            value = complexity(root)
            if value <= limit:
                continue
            if isinstance(root, FUNCTION_TYPES):
                yield report_definition(
                    ctx, self, root,
                    f"{kind_of(ctx, root)} '{root.name}' has cyclomatic complexity {value}"
                    f" (max {limit})",
                    definition_scope(root),
                )
                continue
            keyword = _KEYWORD.get(type(root), "try")
            span = Span(root.lineno, root.col_offset + 1, root.lineno,
                        root.col_offset + len(keyword) + 1)
            yield ctx.report(
                self, span,
                f"Top-level '{keyword}' statement has cyclomatic complexity {value}"
                f" (max {limit})",
                scope=(root.lineno, root.end_lineno or root.lineno),
            )
