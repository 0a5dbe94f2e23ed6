"""RV101: mutable default argument."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from reviewer.findings import Finding, Fix, Severity, TextEdit
from reviewer.languages.python import FunctionNode, PyContext, dotted_name
from reviewer.rules._functions import parameter_defaults
from reviewer.rules.base import Invalid, Rule

_COLLECTIONS = (
    "defaultdict", "OrderedDict", "deque", "Counter", "ChainMap", "UserDict", "UserList",
)
MUTABLE_CALLS = frozenset(
    {"list", "dict", "set", "bytearray", *_COLLECTIONS, *(f"collections.{n}" for n in _COLLECTIONS)}
)
# Base classes that make a class's instances mutable containers.
MUTABLE_BASES = MUTABLE_CALLS | frozenset(
    f"{prefix}{n}"
    for prefix in ("", "typing.")
    for n in ("Dict", "List", "Set", "DefaultDict", "Deque", "MutableMapping", "MutableSequence",
              "MutableSet")
) | frozenset({"collections.abc.MutableMapping", "collections.abc.MutableSequence",
               "collections.abc.MutableSet"})
MUTABLE_NODES = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
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
# The builtin that copies a module-level container, by the kind of its binding.
_COPIERS: dict[type[ast.expr], str] = {
    ast.List: "list", ast.ListComp: "list", ast.Dict: "dict", ast.DictComp: "dict",
    ast.Set: "set", ast.SetComp: "set",
}
_SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def is_mutable(node: ast.expr, classes: frozenset[str] = frozenset()) -> bool:
    """A list/dict/set display or comprehension, or a call building a mutable container.

    ``classes``: names of module classes whose instances are mutable containers.
    """
    if isinstance(node, MUTABLE_NODES):
        return True
    if not isinstance(node, ast.Call):
        return False
    name = dotted_name(node.func)
    return name in MUTABLE_CALLS or name in classes


def mutable_classes(tree: ast.Module) -> frozenset[str]:
    """Top-level classes deriving (directly or through each other) from a mutable container."""
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for cls in classes:
            if cls.name in found:
                continue
            for base in cls.bases:
                name = dotted_name(base.value if isinstance(base, ast.Subscript) else base)
                if name in MUTABLE_BASES or name in found:
                    found.add(cls.name)
                    changed = True
                    break
    return frozenset(found)


Binding = ast.Assign | ast.AnnAssign


def module_mutables(tree: ast.Module, classes: frozenset[str]) -> dict[str, Binding]:
    """Module-level names whose every module-level binding is a mutable container.

    Maps each name to its (last) binding statement. A name also bound any other way at
    module level (imported, defined, unpacked, bound by ``for``/``with``...) is left out.
    """
    good: dict[str, Binding] = {}
    bad: set[str] = set()
    stack: list[ast.AST] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Assign) and is_mutable(node.value, classes):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    good[target.id] = node
                else:
                    stack.append(target)
            stack.append(node.value)
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.value is not None
            and is_mutable(node.value, classes)
        ):
            good[node.target.id] = node
        elif isinstance(node, ast.AugAssign):
            stack.append(node.value)  # ``X += [...]`` keeps X's kind
        elif isinstance(node, ast.AnnAssign) and node.value is None:
            continue  # a bare annotation binds nothing
        elif isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                bad.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bad.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, _SCOPE_NODES):
            if not isinstance(node, ast.Lambda):
                bad.add(node.name)
        else:
            if isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
                bad.add(node.name)
            stack.extend(ast.iter_child_nodes(node))
    return {name: value for name, value in good.items() if name not in bad}


def _is_final(binding: Binding) -> bool:
    """``NAME: Final = ...``: declared a constant; a default naming it is the fast-local idiom."""
    if not isinstance(binding, ast.AnnAssign):
        return False
    ann = binding.annotation
    return dotted_name(ann.value if isinstance(ann, ast.Subscript) else ann) in (
        "Final", "typing.Final", "typing_extensions.Final",
    )


def _is_namedtuple(cls: ast.ClassDef) -> bool:
    return any(dotted_name(b) in ("NamedTuple", "typing.NamedTuple") for b in cls.bases)


class MutableDefaultArgument(Rule):
    """A parameter's default value is a mutable object shared by every call.

    Python evaluates default values once, when the ``def`` runs. A list, dict or set used as
    a default is therefore one object shared by all calls: appending to it in one call
    changes the default seen by the next. This is hidden shared state. Use ``None`` and
    create the object inside the function.

    Also flagged: a default naming a module-level list/dict/set (the module and every call
    share it), instances of classes in the same module that derive from a mutable container,
    and mutable field defaults of ``typing.NamedTuple`` classes (shared by every instance).
    Only literal displays, comprehensions and known constructors count; an arbitrary call
    (``make_config()``) is not assumed to return a fresh mutable object.

    The fix (unsafe: a caller passing ``None`` now gets the default) makes the object in
    the body. For a module-level list, dict or set it makes a copy, and only when the
    function never changes the parameter: a function that fills the module's object through
    its default (a registry) may mean to share it.
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
        # A constant tuple at module level is fine; so is a name rebound to something else.
        "LIMITS = (1, 2)\ndef f(limits=LIMITS):\n    return limits\n",
        "DEFAULTS = []\nDEFAULTS = tuple(DEFAULTS)\ndef f(d=DEFAULTS):\n    return d\n",
        # Declared Final: the read-only "fast local" idiom.
        "from typing import Final\nTABLE: Final = {9: None}\ndef strip(s, _t=TABLE):\n"
        "    return s.translate(_t)\n",
        # The default names a local of the enclosing function, not the module-level list.
        "CACHE = []\ndef outer(CACHE):\n    def inner(c=CACHE):\n        return c\n"
        "    return inner\n",
        # Immutable NamedTuple fields, and a dataclass with a factory.
        "from typing import NamedTuple\nclass P(NamedTuple):\n    tags: tuple = ()\n"
        "    frozen: frozenset = frozenset()\n",
        "from dataclasses import dataclass, field\n@dataclass\nclass C:\n"
        "    items: list = field(default_factory=list)\n",
        # A class that is not a NamedTuple: class attributes are not argument defaults.
        "class Config:\n    plugins: list = []\n",
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
        Invalid(
            "import collections\nasync def f(q=collections.deque()):\n    return q\n",
            line=2,
            fixed=(
                "import collections\nasync def f(q=None):\n    if q is None:\n"
                "        q = collections.deque()\n    return q\n"
            ),
        ),
        # Multi-line signature: reported on the default itself.
        Invalid("def f(\n    a,\n    b={k: 1 for k in 'ab'},\n):\n    return b\n", line=3),
        # Filled through the default: sharing may be the point, so no fix is offered.
        Invalid("REGISTRY = {}\ndef register(name, into=REGISTRY):\n    into[name] = 1\n", line=2),
        # Only read: the fix copies the module's list for each call.
        Invalid(
            'BLANK = [("", "---")]\ndef choices(extra, blank=BLANK):\n    return blank + extra\n',
            line=2,
            fixed=(
                'BLANK = [("", "---")]\ndef choices(extra, blank=None):\n'
                "    if blank is None:\n        blank = list(BLANK)\n    return blank + extra\n"
            ),
        ),
        Invalid(
            "class Store(dict):\n    pass\nclass Big(Store):\n    pass\n"
            "def f(store=Big()):\n    return store\n",
            line=5,
        ),
        Invalid(
            "import typing\nclass P(typing.NamedTuple):\n    name: str = 'x'\n"
            "    tags: list[str] = []\n",
            line=4,
        ),
    ]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        classes = mutable_classes(ctx.tree)
        globals_ = module_mutables(ctx.tree, classes)
        for fn in ctx.nodes(ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda):
            for arg, default in parameter_defaults(fn.args):  # type: ignore[attr-defined]
                if is_mutable(default, classes):
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
                elif self._is_module_mutable(ctx, default, globals_):
                    assert isinstance(default, ast.Name)
                    copier = _copier(globals_[default.id])
                    fix = None
                    if (copier is not None
                            and isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                            and not _changed_in(fn, arg.arg)):
                        fix = self._fix(ctx, fn, arg, default, f"{copier}({default.id})")
                    yield ctx.report(
                        self,
                        default,
                        f"Mutable default argument {arg.arg}={ctx.segment(default)}: the"
                        " module-level object is shared between calls and with the module.",
                        fix=fix,
                    )
        yield from self._namedtuple_fields(ctx, classes, globals_)

    @staticmethod
    def _is_module_mutable(
        ctx: PyContext, node: ast.expr, globals_: dict[str, Binding]
    ) -> bool:
        return (
            isinstance(node, ast.Name)
            and node.id in globals_
            and not _is_final(globals_[node.id])
            and ctx.resolve(node.id, node) is ctx.tree
        )

    def _namedtuple_fields(
        self, ctx: PyContext, classes: frozenset[str], globals_: dict[str, Binding]
    ) -> Iterator[Finding]:
        """``typing.NamedTuple`` field defaults are shared by every instance too."""
        for cls in ctx.nodes(ast.ClassDef):
            if not isinstance(cls, ast.ClassDef) or not _is_namedtuple(cls):
                continue
            for stmt in cls.body:
                if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                    continue
                value = stmt.value
                if value is not None and (
                    is_mutable(value, classes) or self._is_module_mutable(ctx, value, globals_)
                ):
                    yield ctx.report(
                        self,
                        value,
                        f"Mutable NamedTuple field default {stmt.target.id}="
                        f"{ctx.segment(value)}: the object is shared by every instance.",
                    )

    def _fix(
        self, ctx: PyContext, fn: FunctionNode, arg: ast.arg, default: ast.expr,
        copied: str | None = None,
    ) -> Fix | None:
        """``None`` as the default, and the object made in the body, after the docstring:
        the default's own text, or ``copied``, the copy of a module-level container."""
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
        value = copied or ctx.segment(default)
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
        if copied is None:
            return Fix(f"Default {arg.arg} to None and create the object in the body",
                       tuple(edits))
        # Unsafe: the function now works on a copy, not on the module's object.
        return Fix(f"Default {arg.arg} to None and make {copied} in the body", tuple(edits),
                   safe=False)


def _copier(binding: Binding) -> str | None:
    """``list``, ``dict`` or ``set``: the builtin that copies the module-level container
    ``binding`` makes (None for other containers: no copy is offered)."""
    value = binding.value
    assert value is not None
    if isinstance(value, ast.Call):
        name = dotted_name(value.func)
        return name if name in ("list", "dict", "set") else None
    return _COPIERS.get(type(value))


def container_name(node: ast.expr) -> ast.Name | None:
    """``X`` for ``X``, ``X[k]``, ``X[k][j]``... (the container a subscript chain reaches)."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return node if isinstance(node, ast.Name) else None


def _changed_in(fn: FunctionNode, name: str) -> bool:
    """Whether ``fn`` rebinds ``name`` or changes it in place (a mutating method, an item or
    attribute stored or deleted): then sharing the module's object may be the point (a
    registry filled through the default), and a copy would change what the function does."""
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load):
            return True
        target: ast.expr | None = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value if node.func.attr in MUTATORS else None
        elif isinstance(node, (ast.Subscript, ast.Attribute)) and not isinstance(
                node.ctx, ast.Load):
            target = node.value
        base = None if target is None else container_name(target)
        if base is not None and base.id == name:
            return True
    return False


def _allows_none(ann: ast.expr) -> bool:
    text = ast.unparse(ann)
    return "None" in text or text.startswith(("Optional", "typing.Optional", "Any"))
