"""RV101: mutable default argument."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from reviewer.findings import Finding, Fix, Severity, TextEdit
from reviewer.languages.python import FunctionNode, PyContext, dotted_name
from reviewer.rules.base import Invalid, Rule

MUTABLE_CALLS = frozenset(
    {
        "list", "dict", "set", "bytearray",
        "collections.defaultdict", "defaultdict", "collections.OrderedDict", "OrderedDict",
        "collections.deque", "deque", "collections.Counter", "Counter",
    }
)
MUTABLE_NODES = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)


def is_mutable(node: ast.expr) -> bool:
    """A list/dict/set display or comprehension, or a call building a mutable container."""
    if isinstance(node, MUTABLE_NODES):
        return True
    return isinstance(node, ast.Call) and dotted_name(node.func) in MUTABLE_CALLS


class MutableDefaultArgument(Rule):
    """A parameter's default value is a mutable object shared by every call.

    Python evaluates default values once, when the ``def`` runs. A list, dict or set used as
    a default is therefore one object shared by all calls: appending to it in one call
    changes the default seen by the next. This is hidden shared state. Use ``None`` and
    create the object inside the function.
    """

    id = "RV101"
    slug = "mutable-default-argument"
    principle = "no-hidden-state"
    severity = Severity.MEDIUM
    message = "Mutable default argument: the default object is shared between calls."
    counterparts = {"ruff": "B006", "pylint": "dangerous-default-value"}
    tags = ("correctness", "hidden-state")
    fixable = True
    VALID = [
        "def f(items=None):\n    items = [] if items is None else items\n",
        "def f(items=()):\n    return items\n",
        "def f(n=0, name='x', flag=frozenset()):\n    return n\n",
    ]
    INVALID = [
        Invalid(
            "def add(item, items=[]):\n    items.append(item)\n    return items\n",
            line=1,
            fixed=(
                "def add(item, items=None):\n"
                "    if items is None:\n"
                "        items = []\n"
                "    items.append(item)\n"
                "    return items\n"
            ),
        ),
        Invalid(
            'def f(*, cache={}):\n    """Doc."""\n    return cache\n',
            line=1,
            fixed=(
                'def f(*, cache=None):\n    """Doc."""\n    if cache is None:\n'
                "        cache = {}\n    return cache\n"
            ),
        ),
        Invalid(
            "def f(seen: set[int] = set()):\n    return seen\n",
            line=1,
            fixed=(
                "def f(seen: set[int] | None = None):\n    if seen is None:\n"
                "        seen = set()\n    return seen\n"
            ),
        ),
        Invalid("lam = lambda acc=[]: acc\n", line=1),
    ]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        for fn in ctx.nodes(ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda):
            args = fn.args  # type: ignore[attr-defined]
            positional = [*args.posonlyargs, *args.args]
            pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
            pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
            for arg, default in pairs:
                if not is_mutable(default):
                    continue
                fix = None
                if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    fix = self._fix(ctx, fn, arg, default)
                yield ctx.report(
                    self,
                    default,
                    f"Mutable default argument {arg.arg}={ctx.segment(default)}:"
                    " the default object is shared between calls.",
                    fix=fix,
                )

    def _fix(
        self, ctx: PyContext, fn: FunctionNode, arg: ast.arg, default: ast.expr
    ) -> Fix | None:
        body = fn.body
        first = body[0]
        if first.lineno == fn.lineno or default.end_lineno is None:
            return None  # one-line function: no safe place for a guard
        insert_at = first
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            if len(body) == 1:
                return None
            insert_at = body[1]
            if insert_at.lineno == first.end_lineno:
                return None
        line_text = ctx.lines[insert_at.lineno - 1]
        indent = line_text[: insert_at.col_offset]
        if indent.strip():
            return None
        value = ctx.segment(default)
        if "\n" in value:
            return None
        edits = [
            TextEdit(
                default.lineno, default.col_offset + 1,
                default.end_lineno, (default.end_col_offset or 0) + 1, "None",
            ),
            TextEdit(
                insert_at.lineno, 1, insert_at.lineno, 1,
                f"{indent}if {arg.arg} is None:\n{indent}    {arg.arg} = {value}\n",
            ),
        ]
        ann = arg.annotation
        if ann is not None and ann.end_lineno is not None and not _allows_none(ann):
            edits.append(
                TextEdit(
                    ann.end_lineno, (ann.end_col_offset or 0) + 1,
                    ann.end_lineno, (ann.end_col_offset or 0) + 1, " | None",
                )
            )
        return Fix(f"Default {arg.arg} to None and create the object in the body", tuple(edits))


def _allows_none(ann: ast.expr) -> bool:
    text = ast.unparse(ann)
    return "None" in text or text.startswith(("Optional", "typing.Optional", "Any"))
