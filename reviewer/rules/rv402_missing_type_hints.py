"""RV402: public function without type hints on its parameters or return value."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding, Fix, Severity
from reviewer.languages.python import FunctionNode, PyContext, dotted_name
from reviewer.rules import _cst
from reviewer.rules._functions import (
    FUNCTION_TYPES,
    has_decorator,
    is_overload,
    kind_of,
    module_exports,
    report_definition,
    signature_scope,
    takes_instance,
    top_level_name,
)
from reviewer.rules.base import Invalid, Rule, Valid


class MissingTypeHints(Rule):
    """A public function has parameters or a return value without type hints.

    Annotations on the public surface are checked documentation: type checkers verify
    every call against them, editors complete and navigate with them, and readers learn
    what a function accepts without reading its body. Unannotated public functions make
    every caller's code unchecked too.

    Like ruff's ``ANN001``-``ANN003`` and ``ANN201``/``ANN204``: every parameter needs an
    annotation (``*args`` and ``**kwargs`` included) except the ``self``/``cls`` of a
    method, and the return value needs one except on ``__init__``. One finding per
    function lists everything missing, on the function's name; under the ``added`` diff
    filter it is kept when the signature changed (editing the body of an old untyped
    function does not bring it up). Skipped unless ``include_private = true``: private
    functions (``_name``), members of private classes, functions defined inside
    functions (nested functions, methods of local classes), and module-level names left
    out of a literal ``__all__`` (``respect_all = false`` ignores ``__all__``). Test
    modules are skipped unless ``include_tests = true`` (fixtures and test functions are
    not an API). Lambdas cannot be annotated and are not checked; functions decorated
    with ``typing.no_type_check`` are skipped, and so is the implementation behind
    ``typing.overload`` stubs (the stubs are checked: they are the public signatures).

    Fix (safe): when only the return type is missing and the function returns no value
    (no ``return <value>``, no ``yield``, not a stub, not decorated), ``-> None`` is added.
    """

    id = "RV402"
    slug = "missing-type-hints"
    principle = "type-public-surface"
    severity = Severity.LOW
    message = "Public function lacks type hints."
    counterparts = {"ruff": "ANN001, ANN002, ANN003, ANN201, ANN204"}
    options = {"include_private": False, "include_tests": False, "respect_all": True}
    tags = ("typing",)
    fixable = True
    whole_function = True
    VALID = [
        "def f(x: int, *args: str, key: bytes = b'', **kw: object) -> int:\n    return x\n",
        # self/cls need nothing; __init__ needs no return type.
        "class A:\n    def __init__(self, x: int):\n        self.x = x\n\n"
        "    @classmethod\n    def make(cls, x: int) -> 'A':\n        return cls(x)\n",
        # Private, nested, private-class members and lambdas are skipped by default.
        "def _helper(x):\n    return x\n\n\nclass _Impl:\n    def run(self, x):\n"
        "        return x\n\n\ndef outer() -> None:\n    def inner(y):\n        return y\n"
        "    key = lambda item: item[0]\n\n    class Local:\n        def m(self, z):\n"
        "            return z\n",
        # Overload implementation and no_type_check.
        "from typing import no_type_check, overload\n\n\n@overload\ndef f(x: int) -> int: ...\n"
        "@overload\ndef f(x: str) -> str: ...\ndef f(x):\n    return x\n\n\n"
        "@no_type_check\ndef g(x):\n    return x\n",
        Valid("__all__ = ('api',)\n\n\ndef api() -> None:\n    pass\n\n\ndef helper(x):\n"
              "    return x\n"),
        Valid("def test_it(tmp_path):\n    assert tmp_path\n", path="tests/test_it.py"),
        Valid("import pytest\n\n\n@pytest.fixture\ndef db(request):\n    return 1\n",
              path="conftest.py"),
    ]
    INVALID = [
        Invalid("def f(x, y: int):\n    return x\n", line=1),
        Invalid("def f(x: int):\n    return x\n", line=1),
        Invalid("def log(x: int):  # keep\n    print(x)\n    return\n", line=1,
                fixed="def log(x: int) -> None:  # keep\n    print(x)\n    return\n"),
        Invalid("class A:\n    @staticmethod\n    def run(\n        x: int,\n    ):\n"
                "        go(x)\n", line=3,
                fixed="class A:\n    @staticmethod\n    def run(\n        x: int,\n    ) -> None:\n"
                "        go(x)\n"),
        Invalid("def f(*args, **kwargs) -> None:\n    pass\n", line=1),
        # Methods: async, decorated, staticmethod (no self to skip).
        Invalid(
            "class Client:\n    @staticmethod\n    def parse(text) -> int:\n        return 1\n",
            line=3,
        ),
        Invalid(
            "class Client:\n    async def get(self, url: str):\n        return url\n\n"
            "    @property\n    def name(self):\n        return ''\n",
            line=6,
        ),
        Invalid("from typing import overload\n\n\n@overload\ndef f(x): ...\n", line=5),
        Invalid("def _helper(x):\n    return x\n", line=1, options={"include_private": True}),
        Invalid("__all__ = []\n\n\ndef helper(x):\n    return x\n", line=4,
                options={"respect_all": False}),
        Invalid("def test_it(tmp_path):\n    pass\n", line=1, path="tests/test_it.py",
                options={"include_tests": True}),
    ]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        if ctx.is_test and not self.settings["include_tests"]:
            return
        include_private: bool = self.settings["include_private"]
        exports = module_exports(ctx.tree) if self.settings["respect_all"] else None
        overloaded = _overloaded_names(ctx)
        for fn in ctx.functions():
            if not include_private and not _public(ctx, fn, exports):
                continue
            if has_decorator(fn, "no_type_check"):
                continue
            if not is_overload(fn) and (ctx.parent(fn), fn.name) in overloaded:
                continue  # the implementation behind @overload stubs
            missing = self.missing(ctx, fn)
            if not missing:
                continue
            finding = report_definition(
                ctx, self, fn,
                f"{kind_of(ctx, fn)} '{fn.name}' is missing type hints: {', '.join(missing)}",
                signature_scope(fn),
            )
            if missing == ["return type"]:
                fix = _return_none_fix(ctx, fn)
                if fix is not None:
                    finding = finding.with_(fix=fix)
            yield finding

    @staticmethod
    def missing(ctx: PyContext, fn: FunctionNode) -> list[str]:
        """Descriptions of what lacks an annotation ('parameter x', 'return type')."""
        args = fn.args
        positional = [*args.posonlyargs, *args.args]
        if takes_instance(ctx, fn) and positional:
            positional = positional[1:]
        params = [*positional]
        if args.vararg is not None:
            params.append(args.vararg)
        params.extend(args.kwonlyargs)
        if args.kwarg is not None:
            params.append(args.kwarg)
        out = []
        names = [_param_name(a, args) for a in params if a.annotation is None]
        if names:
            out.append(("parameter " if len(names) == 1 else "parameters ") + ", ".join(names))
        if fn.returns is None and fn.name != "__init__":
            out.append("return type")
        return out


def _param_name(arg: ast.arg, args: ast.arguments) -> str:
    if arg is args.vararg:
        return f"*{arg.arg}"
    if arg is args.kwarg:
        return f"**{arg.arg}"
    return arg.arg


def _public(ctx: PyContext, fn: FunctionNode, exports: frozenset[str] | None) -> bool:
    """Not ``_private`` (dunder names are public), not inside a function (nested
    functions and methods of local classes), not a member of a private class, and listed
    in ``__all__`` (when ``exports`` is known)."""
    if _private_name(fn.name):
        return False
    if exports is not None and top_level_name(ctx, fn) not in exports:
        return False
    return not any(
        isinstance(a, (*FUNCTION_TYPES, ast.Lambda))
        or (isinstance(a, ast.ClassDef) and _private_name(a.name))
        for a in ctx.ancestors(fn)
    )


def _private_name(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _overloaded_names(ctx: PyContext) -> set[tuple[ast.AST | None, str]]:
    """(parent, name) of every ``@overload`` stub."""
    return {(ctx.parent(fn), fn.name) for fn in ctx.functions() if is_overload(fn)}


_PLAIN_DECORATORS = frozenset({"staticmethod", "classmethod"})


def returns_nothing(fn: FunctionNode) -> bool:
    """The function returns no value: no ``return <value>``, no ``yield``, and it is not a
    stub (a body of ``...``/``pass``/``raise NotImplementedError``, whose subclasses or
    implementations decide) nor decorated (``@property``, ``@contextmanager``...)."""
    if any(dotted_name(d) not in _PLAIN_DECORATORS for d in fn.decorator_list):
        return False
    body = [s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(
        s.value, ast.Constant) and isinstance(s.value.value, str))]
    if all(isinstance(s, (ast.Pass, ast.Raise)) or (isinstance(s, ast.Expr) and isinstance(
            s.value, ast.Constant) and s.value.value is Ellipsis) for s in body):
        return False
    stack: list[ast.AST] = list(fn.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return False
        if isinstance(node, ast.Return) and node.value is not None and not (
            isinstance(node.value, ast.Constant) and node.value.value is None
        ):
            return False
        stack.extend(ast.iter_child_nodes(node))
    return True


def _return_none_fix(ctx: PyContext, fn: FunctionNode) -> Fix | None:
    """``def f(x: int):`` -> ``def f(x: int) -> None:`` (libcst; a safe fix: an annotation
    changes nothing at run time)."""
    if not _cst.available(ctx) or not returns_nothing(fn):
        return None
    import libcst as cst

    def run(module: Any) -> Any:
        if len(module.body) != 1 or not isinstance(module.body[0], cst.FunctionDef):
            return None
        node = module.body[0]
        if node.returns is not None:
            return None
        new = node.with_changes(returns=cst.Annotation(cst.Name("None")))
        return module.with_changes(body=[new])

    first = fn.lineno  # the def line (decorators above it are not part of the snippet)
    edit = _cst.rewrite(ctx, first, fn.end_lineno or first, run)
    return _cst.make_fix("Annotate the return type as None", edit, safe=True)
