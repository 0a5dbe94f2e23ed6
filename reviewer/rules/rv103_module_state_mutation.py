"""RV103: module-level mutable state changed from inside a function."""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from fnmatch import fnmatchcase

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PyContext
from reviewer.rules.base import Invalid, Rule, Valid
from reviewer.rules.rv101_mutable_default import module_mutables, mutable_classes

# Methods that change a list, dict, set, deque or bytearray in place.
MUTATORS = frozenset(
    {
        "append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse",
        "update", "setdefault", "popitem",
        "add", "discard", "difference_update", "intersection_update",
        "symmetric_difference_update",
        "appendleft", "extendleft", "popleft", "rotate",
        "__setitem__", "__delitem__", "__iadd__",
    }
)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
FunctionLike = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


def _base_name(node: ast.expr) -> ast.Name | None:
    """``X`` for ``X``, ``X[k]``, ``X[k][j]``... (the container a subscript chain reaches)."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return node if isinstance(node, ast.Name) else None


def _mutations(ctx: PyContext, names: Collection[str]) -> Iterator[tuple[ast.Name, str]]:
    """(the module name, how it is changed) for every in-place change of a candidate name."""
    for call in ctx.nodes(ast.Call):
        assert isinstance(call, ast.Call)
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in MUTATORS:
            base = _base_name(func.value)
            if base is not None and base.id in names:
                yield base, f"{ctx.segment(func)}()"
    for sub in ctx.nodes(ast.Subscript):
        assert isinstance(sub, ast.Subscript)
        if isinstance(sub.ctx, ast.Load):
            continue
        base = _base_name(sub)
        if base is not None and base.id in names:
            verb = "del " if isinstance(sub.ctx, ast.Del) else ""
            yield base, f"{verb}{base.id}[...]" + ("" if verb else " = ...")


def _position(item: tuple[ast.Name, str]) -> tuple[int, int]:
    return item[0].lineno, item[0].col_offset


def _is_registration(fn: FunctionLike) -> bool:
    """A decorator that records its argument and returns it (``return fn``), or a class's
    ``__init_subclass__``: the usual, import-time plug-in registry."""
    if isinstance(fn, ast.Lambda):
        return False
    if fn.name == "__init_subclass__":
        return True
    last = fn.body[-1]
    if not (isinstance(last, ast.Return) and isinstance(last.value, ast.Name)):
        return False
    a = fn.args
    params = {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)}
    return last.value.id in params


class ModuleStateMutation(Rule):
    """A function changes a module-level list, dict or set in place.

    Module-level containers that functions fill, empty or update are global state in
    disguise: no ``global`` statement shows it, the function's signature does not mention
    it, results depend on what ran before, tests leak into each other and threads race.
    Pass the container in, return a new value, or keep the state in an object the caller
    owns (a memo table: ``functools.cache``).

    Reported once per function and name, at the first change: method calls that mutate
    (``append``, ``update``, ``setdefault``, ``pop``, ``add``...), item assignment,
    augmented item assignment and ``del X[k]``, also through nested subscripts
    (``X[k].append(v)``). Only module names whose every module-level binding is a
    list/dict/set display, comprehension or constructor call count, and only where the
    name is not shadowed by a parameter or a local variable. Functions that declare
    ``global X`` are left to RV102.

    Not reported (options): names matching ``ignore_names`` (glob patterns; ``__all__`` by
    default), registration decorators that return their argument and
    ``__init_subclass__`` (``allow_registration``), and test files (``include_tests``),
    where module-level recorders in test doubles are common.
    """

    id = "RV103"
    local_fix = False  # state shared by a module needs a design change
    slug = "module-state-mutation"
    principle = "no-hidden-state"
    severity = Severity.LOW
    message = "The function changes module-level mutable state in place."
    counterparts = {"pylint": "global-variable-not-assigned"}
    options = {"ignore_names": ("__all__",), "allow_registration": True, "include_tests": False}
    tags = ("design", "hidden-state")
    VALID = [
        # Local state, a parameter that shadows the module name, a read-only module table.
        "def collect(xs):\n    out = []\n    for x in xs:\n        out.append(x)\n    return out\n",
        "ITEMS = []\ndef add(ITEMS, x):\n    ITEMS.append(x)\n",
        "ITEMS = []\ndef f(x):\n    ITEMS = []\n    ITEMS.append(x)\n    return ITEMS\n",
        "TABLE = {'a': 1}\ndef look(k):\n    return TABLE.get(k, TABLE[k])\n",
        # Module-level code may build its own tables.
        "NAMES = []\nfor n in range(3):\n    NAMES.append(str(n))\nNAMES[0] = 'zero'\n",
        # A module name bound to something else too is not known to be a container.
        "import os\nCACHE = {}\nif os.name == 'nt':\n    CACHE = load()\n"
        "def put(k, v):\n    CACHE[k] = v\n",
        # The usual plug-in registry: a decorator that records and returns its argument.
        "HANDLERS = {}\ndef handler(fn):\n    HANDLERS[fn.__name__] = fn\n    return fn\n",
        "PLUGINS = []\nclass Base:\n    def __init_subclass__(cls, **kw):\n"
        "        super().__init_subclass__(**kw)\n        PLUGINS.append(cls)\n",
        # ``global`` makes it explicit (RV102 reports that).
        "SEEN = set()\ndef mark(x):\n    global SEEN\n    SEEN.add(x)\n",
        # Comprehension and lambda variables shadow the module name.
        "XS = []\ndef f(data):\n    return [XS.append(1) for XS in data]\n",
        "XS = []\nf = lambda XS: XS.append(1)\n",
        Valid("calls = []\ndef fake(*a):\n    calls.append(a)\n", path="tests/test_api.py"),
        Valid(
            "_cache = {}\ndef get(k):\n    _cache[k] = k\n", options={"ignore_names": ("_cache",)}
        ),
    ]
    INVALID = [
        Invalid("_seen = set()\ndef visit(node):\n    _seen.add(node)\n", line=3),
        Invalid(
            "CACHE = {}\ndef get(key):\n    if key not in CACHE:\n        CACHE[key] = load(key)\n"
            "    return CACHE[key]\n",
            line=4,
        ),
        Invalid("STACK = list()\nasync def pop():\n    return STACK.pop()\n", line=3),
        Invalid("COUNTS = {}\ndef count(w):\n    COUNTS[w] += 1\n", line=3),
        Invalid("REG = {}\ndef forget(name):\n    del REG[name]\n", line=3),
        Invalid(
            "from collections import defaultdict\nBY_KEY = defaultdict(list)\n"
            "def add(k, v):\n    BY_KEY[k].append(v)\n",
            line=4,
        ),
        # In a method, in a nested function, in a lambda.
        Invalid(
            "EVENTS = []\nclass Bus:\n    def emit(self, e):\n        EVENTS.append(e)\n", line=4
        ),
        Invalid(
            "LOG = []\ndef outer():\n    def inner(x):\n        LOG.extend(x)\n    return inner\n",
            line=4,
        ),
        Invalid("Q = []\npush = lambda x: Q.append(x)\n", line=2),
        Invalid(
            "HANDLERS = {}\ndef handler(fn):\n    HANDLERS[fn.__name__] = fn\n    return fn\n",
            line=3,
            options={"allow_registration": False},
        ),
    ]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        if ctx.is_test and not self.settings["include_tests"]:
            return
        ignore: tuple[str, ...] = self.settings["ignore_names"]
        names = {
            n: v
            for n, v in module_mutables(ctx.tree, mutable_classes(ctx.tree)).items()
            if not any(fnmatchcase(n, pattern) for pattern in ignore)
        }
        if not names:
            return
        seen: set[tuple[ast.AST, str]] = set()
        for name, how in sorted(_mutations(ctx, names), key=_position):
            fn = self._owner(ctx, name)
            if fn is None or (fn, name.id) in seen:
                continue
            seen.add((fn, name.id))
            where = "a lambda" if isinstance(fn, ast.Lambda) else f"{fn.name}()"
            yield ctx.report(
                self,
                name,
                f"{where} changes module-level {name.id} in place ({how}): state shared by"
                " every caller; pass it in or keep it in an object the caller owns.",
            )

    def _owner(self, ctx: PyContext, name: ast.Name) -> FunctionLike | None:
        """The function whose code changes the module-level ``name`` (None: not one)."""
        owner: FunctionLike | None = None
        for scope in ctx.scopes(name):
            if isinstance(scope, _FUNCTIONS):
                if name.id in ctx.bindings(scope).declared_global:
                    return None  # explicit: RV102's business
                owner = owner or scope
        if owner is None or ctx.resolve(name.id, name) is not ctx.tree:
            return None
        if self.settings["allow_registration"] and _is_registration(owner):
            return None
        return owner
