"""RV303: function with too many arguments."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from reviewer.findings import Finding, Severity
from reviewer.languages.python import FunctionNode, PyContext
from reviewer.rules._functions import (
    check_threshold,
    is_overload,
    kind_of,
    report_definition,
    signature_scope,
    takes_instance,
)
from reviewer.rules.base import Invalid, Rule, Valid


class TooManyArguments(Rule):
    """A function takes more arguments than the configured maximum (5).

    Many parameters mean a function does too much, or that several of them travel
    together and want to be one object (a dataclass, a config). Long positional parameter
    lists are also easy to call with the arguments in the wrong order. Group related
    parameters, or make the rarely used ones keyword-only.

    Counted as pylint counts ``too-many-arguments`` and ``too-many-positional-arguments``:
    positional and keyword-only parameters, not ``*args``/``**kwargs``, not the ``self``
    or ``cls`` of a method (a ``staticmethod`` has none), and not parameters whose name
    matches ``ignored_argument_names`` (pylint's default: ``_``-prefixed, ``ignored_``,
    ``unused_``). The finding fires when the count exceeds ``max_arguments`` or the
    positional count exceeds ``max_positional_arguments``, and its message gives both
    counts. ``typing.overload`` stubs and stub files (``.pyi``) are skipped: the
    implementation carries the same signature. Lambdas are not checked.
    """

    id = "RV303"
    local_fix = False  # fewer parameters change every caller
    slug = "too-many-arguments"
    principle = "small-functions"
    severity = Severity.LOW
    message = "Function takes too many arguments."
    counterparts = {
        "pylint": "too-many-arguments, too-many-positional-arguments",
        "ruff": "PLR0913, PLR0917",
        "eslint": "max-params",
        "revive": "argument-limit",
    }
    options = {
        "max_arguments": 5,
        "max_positional_arguments": 5,
        "ignored_argument_names": "_.*|^ignored_|^unused_",
        "count_void_this": False,
    }
    tags = ("maintainability", "size")
    whole_function = True
    VALID = [
        "def f(a, b, c, d, e):\n    return a\n",
        # self/cls do not count; *args/**kwargs do not count.
        "class A:\n    def m(self, a, b, c, d, e, *args, **kwargs):\n        return a\n"
        "    @classmethod\n    def make(cls, a, b, c, d, e):\n        return cls()\n",
        # _-prefixed (ignored) names do not count.
        "def f(a, b, c, d, e, _unused, ignored_x):\n    return a\n",
        # Overload stubs are skipped (the implementation is checked).
        "from typing import overload\n@overload\ndef f(a: int, b: int, c: int, d: int, e: int,"
        " g: int) -> int: ...\n",
        "handler = lambda a, b, c, d, e, f, g: a\n",
        Valid("def f(a, b, c, d, e, g): ...\n", path="pkg/mod.pyi"),
        Valid(
            "def f(a, b, *, c, d, e, g, h, i):\n    return a\n",
            options={"max_arguments": 8},
        ),
    ]
    INVALID = [
        Invalid("def f(a, b, c, d, e, g):\n    return a\n", line=1),
        # A staticmethod has no self: all six count.
        Invalid(
            "class A:\n    @staticmethod\n    def m(a, b, c, d, e, g):\n        return a\n",
            line=3,
        ),
        # Keyword-only parameters count towards max_arguments.
        Invalid(
            "async def fetch(url, *, timeout, retries, backoff, headers, proxy):\n"
            "    return url\n",
            line=1,
        ),
        # Positional-only parameters count as positional.
        Invalid(
            "def f(a, b, /, c, *, d):\n    return a\n",
            line=1,
            options={"max_arguments": 10, "max_positional_arguments": 2},
        ),
        # Nested functions are checked too.
        Invalid(
            "def outer():\n    def inner(a, b, c):\n        return a\n    return inner\n",
            line=2,
            options={"max_arguments": 2},
        ),
        # ignored_argument_names is configurable: '' counts every name.
        Invalid(
            "def f(a, b, c, d, e, _g):\n    return a\n",
            line=1,
            options={"ignored_argument_names": ""},
        ),
    ]

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        for name in ("max_arguments", "max_positional_arguments"):
            check_threshold(self.id, name, self.settings[name])
        pattern: str = self.settings["ignored_argument_names"]
        try:
            self._ignored = re.compile(pattern) if pattern else None
        except re.error as exc:
            raise ValueError(
                f"{self.id}: option 'ignored_argument_names' is not a valid regular"
                f" expression: {exc}"
            ) from None

    def counts(self, ctx: PyContext, fn: FunctionNode) -> tuple[int, int]:
        """(all counted arguments, positional ones)."""
        args = fn.args
        positional = [*args.posonlyargs, *args.args]
        if takes_instance(ctx, fn):
            positional = positional[1:]
        ignored = self._ignored

        def counted(names: list[str]) -> int:
            if ignored is None:
                return len(names)
            return sum(1 for n in names if not ignored.match(n))

        n_positional = counted([a.arg for a in positional])
        return n_positional + counted([a.arg for a in args.kwonlyargs]), n_positional

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        max_all: int = self.settings["max_arguments"]
        max_pos: int = self.settings["max_positional_arguments"]
        if ctx.path.endswith(".pyi"):
            return
        for fn in ctx.functions():
            if is_overload(fn):
                continue
            total, positional = self.counts(ctx, fn)
            over_all, over_pos = total > max_all, positional > max_pos
            if not (over_all or over_pos):
                continue
            name = f"{kind_of(ctx, fn)} '{fn.name}'"
            if over_all and over_pos:
                text = (f"{name} has {total} arguments (max {max_all}), {positional} of them"
                        f" positional (max {max_pos})")
            elif over_all:
                text = f"{name} has {total} arguments (max {max_all})"
            else:
                text = f"{name} has {positional} positional arguments (max {max_pos})"
            yield report_definition(ctx, self, fn, text, signature_scope(fn))
