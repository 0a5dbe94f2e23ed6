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
    parameter_defaults,
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

    Fix (safe: an annotation changes nothing at run time), when every missing annotation
    can be told for certain: ``-> None`` for a function that returns no value (no
    ``return <value>``, no ``yield``, not a stub, not decorated); the data model's return
    type for ``__repr__``, ``__str__``, ``__len__``, ``__hash__``, ``__bool__`` and the
    other conversions (``-> str``, ``-> int``...); ``bool`` for a parameter whose default
    is ``True`` or ``False``. Other defaults are not guessed from (``timeout=0`` may take
    a float), and neither is the body.
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
        # A flag's default tells its type; the data model tells __repr__'s.
        Invalid("def setup(set_prefix=True, *, quiet=False):\n    configure(set_prefix)\n",
                line=1,
                fixed="def setup(set_prefix: bool = True, *, quiet: bool = False) -> None:\n"
                "    configure(set_prefix)\n"),
        Invalid("class App:\n    def __repr__(self):\n        return f'<{self.name}>'\n",
                line=2,
                fixed="class App:\n    def __repr__(self) -> str:\n"
                "        return f'<{self.name}>'\n"),
        # Any other default, or a value returned, is not guessed: no fix.
        Invalid("def connect(timeout=0, verbose=False):\n    go(timeout)\n", line=1),
        Invalid("def total(flag=False):\n    return 1 if flag else 2\n", line=1),
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
            params = self.unannotated(ctx, fn)
            missing = self.missing(fn, params)
            if not missing:
                continue
            finding = report_definition(
                ctx, self, fn,
                f"{kind_of(ctx, fn)} '{fn.name}' is missing type hints: {', '.join(missing)}",
                signature_scope(fn),
            )
            fix = _hints_fix(ctx, fn, params, "return type" in missing)
            if fix is not None:
                finding = finding.with_(fix=fix)
            yield finding

    @staticmethod
    def unannotated(ctx: PyContext, fn: FunctionNode) -> list[ast.arg]:
        """The parameters that need an annotation and have none."""
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
        return [a for a in params if a.annotation is None]

    @staticmethod
    def missing(fn: FunctionNode, params: list[ast.arg]) -> list[str]:
        """Descriptions of what lacks an annotation ('parameter x', 'return type'), given
        the parameters that lack one (``unannotated``)."""
        out = []
        names = [_param_name(a, fn.args) for a in params]
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


def _plainly_decorated(fn: FunctionNode) -> bool:
    """No decorator but ``staticmethod``/``classmethod`` (``@property``,
    ``@contextmanager``... change what the function returns)."""
    return all(dotted_name(d) in _PLAIN_DECORATORS for d in fn.decorator_list)


def returns_nothing(fn: FunctionNode) -> bool:
    """The function returns no value: no ``return <value>``, no ``yield``, and it is not a
    stub (a body of ``...``/``pass``/``raise NotImplementedError``, whose subclasses or
    implementations decide) nor decorated (``@property``, ``@contextmanager``...)."""
    if not _plainly_decorated(fn):
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


# Return types the data model fixes: ``repr()`` raises unless ``__repr__`` returns a str.
_DUNDER_RETURNS = {
    "__repr__": "str", "__str__": "str", "__format__": "str", "__bytes__": "bytes",
    "__len__": "int", "__hash__": "int", "__int__": "int", "__index__": "int",
    "__float__": "float", "__complex__": "complex", "__bool__": "bool",
}
_DUNDER_PARAMS = {"__format__": "str"}  # the one parameter after self


def _param_types(fn: FunctionNode, params: list[ast.arg]) -> dict[str, str] | None:
    """An annotation for each of ``params``, or None when one cannot be told: a default of
    ``True``/``False`` is a ``bool`` flag; the format spec of ``__format__`` is a str.
    Other literal defaults are left alone (``timeout=0`` may well take a float)."""
    defaults = {id(arg): value for arg, value in parameter_defaults(fn.args)}
    out: dict[str, str] = {}
    for arg in params:
        default = defaults.get(id(arg))
        if isinstance(default, ast.Constant) and isinstance(default.value, bool):
            out[arg.arg] = "bool"
        elif fn.name in _DUNDER_PARAMS and arg is not fn.args.vararg \
                and arg is not fn.args.kwarg and len(params) == 1:
            out[arg.arg] = _DUNDER_PARAMS[fn.name]
        else:
            return None
    return out


def _return_type(fn: FunctionNode) -> str | None:
    """``None`` for a function that returns no value (``returns_nothing``), the data
    model's type for the dunders that must return one, else None (unknown)."""
    if not _plainly_decorated(fn):
        return None
    if fn.name in _DUNDER_RETURNS and isinstance(fn, ast.FunctionDef):
        return _DUNDER_RETURNS[fn.name]
    return "None" if returns_nothing(fn) else None


def _hints_fix(ctx: PyContext, fn: FunctionNode, params: list[ast.arg],
               needs_return: bool) -> Fix | None:
    """Every missing annotation, where each can be told for certain (``_param_types``,
    ``_return_type``): ``def setup(quiet=False):`` -> ``def setup(quiet: bool = False) ->
    None:``, ``def __repr__(self):`` -> ``def __repr__(self) -> str:``. libcst; a safe
    fix: an annotation changes nothing at run time."""
    if not _cst.available(ctx) or not (params or needs_return):
        return None
    types = _param_types(fn, params)
    returns = _return_type(fn) if needs_return else ""
    if types is None or returns is None:
        return None
    import libcst as cst

    def annotate(param: Any) -> Any:
        name = param.name.value
        if name not in types or param.annotation is not None:
            return param
        changes: dict[str, Any] = {"annotation": cst.Annotation(cst.Name(types[name]))}
        if param.default is not None:
            changes["equal"] = cst.AssignEqual()  # x=True -> x: bool = True (PEP 8)
        return param.with_changes(**changes)

    def run(module: Any) -> Any:
        if len(module.body) != 1 or not isinstance(module.body[0], cst.FunctionDef):
            return None
        node = module.body[0]
        ps = node.params
        star = ps.star_arg if not isinstance(ps.star_arg, cst.Param) else annotate(ps.star_arg)
        new = node.with_changes(params=ps.with_changes(
            params=[annotate(p) for p in ps.params],
            posonly_params=[annotate(p) for p in ps.posonly_params],
            kwonly_params=[annotate(p) for p in ps.kwonly_params],
            star_arg=star,
            star_kwarg=None if ps.star_kwarg is None else annotate(ps.star_kwarg),
        ))
        if returns:
            if node.returns is not None:
                return None
            new = new.with_changes(returns=cst.Annotation(cst.Name(returns)))
        return module.with_changes(body=[new])

    first = fn.lineno  # the def line (decorators above it are not part of the snippet)
    edit = _cst.rewrite(ctx, first, fn.end_lineno or first, run)
    what = [f"{n}: {t}" for n, t in types.items()]
    if returns:
        what.append(f"the return type as {returns}")
    return _cst.make_fix("Annotate " + ", ".join(what), edit, safe=True)
