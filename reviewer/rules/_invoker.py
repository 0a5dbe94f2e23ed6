"""Input that comes from whoever runs a command-line program: its own command line and stdin.

A command's invoker already runs code with their own privileges, so what they type or pipe
in is not an injection *into* the program: ``manage.py shell -c CODE`` runs CODE on
purpose, and a script's ``if __name__ == "__main__":`` block may start the program its
command line names. The security rules use these facts to stay quiet there; the same
values anywhere else (a library function, a web view) are still data.
"""

from __future__ import annotations

import ast

from reviewer.languages.python import PyContext
from reviewer.rules._dataflow import Flow

_STDIN = frozenset({"sys.stdin", "sys.stdin.buffer"})
_READS = frozenset({"read", "readline", "readlines"})
_STR_METHODS = frozenset({"strip", "rstrip", "lstrip", "replace", "decode", "split", "join"})


def command_entry(ctx: PyContext, node: ast.AST) -> ast.AST | None:
    """The command-line entry point ``node`` runs in, or None.

    A script's ``if __name__ == "__main__":`` block (the ``If`` node), the ``handle``
    method of a ``...Command`` class (Django management commands), or a function
    decorated as a command (``@click.command()``, ``@app.command()``, ``@cli.group()``).
    """
    for a in ctx.ancestors(node):
        if isinstance(a, ast.If) and _is_main_test(a.test):
            return a
        if isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if any(_command_decorator(d) for d in a.decorator_list):
                return a
            owner = ctx.parent(a)
            if a.name == "handle" and isinstance(owner, ast.ClassDef) and any(
                _last(b).endswith("Command") for b in owner.bases
            ):
                return a
            return None
    return None


def from_invoker(df: Flow, expr: ast.AST, entry: ast.AST, depth: int = 0) -> bool:
    """Whether ``expr`` is only the invoker's own input: ``sys.argv`` (items, slices),
    ``sys.stdin.read()``, the parameters of a command function ``entry`` (its options),
    items and string methods of those, or a name bound only to them."""
    if depth > 10:
        return False
    d = depth + 1
    if isinstance(expr, ast.Subscript):
        return from_invoker(df, expr.value, entry, d)
    if isinstance(expr, ast.Attribute):
        return df.qualified_name(expr) == "sys.argv"
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        func = expr.func
        if func.attr in _READS and df.qualified_name(func.value) in _STDIN:
            return True
        if func.attr in _STR_METHODS or func.attr == "get":
            return from_invoker(df, func.value, entry, d)
        return False
    if isinstance(expr, ast.Name):
        if df.qualified_name(expr) == "sys.argv":
            return True
        bound = df.bindings(expr)
        if not bound:
            return False
        for b in bound:
            if b is None:
                if not (isinstance(entry, (ast.FunctionDef, ast.AsyncFunctionDef))
                        and _parameter_of(expr.id, entry)):
                    return False
            elif not from_invoker(df, b, entry, d):
                return False
        return True
    return False


def _parameter_of(name: str, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    a = fn.args
    params = [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]
    return any(p is not None and p.arg == name and p.arg != "self" for p in params)


def _is_main_test(test: ast.expr) -> bool:
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_is_main_test(v) for v in test.values)  # sys.platform != "win32" and ...
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _command_decorator(dec: ast.expr) -> bool:
    target = dec.func if isinstance(dec, ast.Call) else dec
    return _last(target) in ("command", "group")


def _last(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""
