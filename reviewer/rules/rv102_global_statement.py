"""RV102: ``global`` statement."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from reviewer.findings import Finding, Fix, Severity, TextEdit
from reviewer.languages.python import PyContext
from reviewer.rules.base import Invalid, Rule

# The words of a rebinding finding's message (has_local_fix tells the two kinds apart).
_REBINDS = "rebinds module-level state"
ScopeNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


class GlobalStatement(Rule):
    """A ``global`` statement lets a function rebind module-level names.

    A function that rebinds a module variable has an input and an output that its
    signature does not show: callers cannot see that it changes shared state, tests must
    reset the module between cases, and concurrent calls race. Pass the value in and return
    the result, or keep the state in an object owned by the caller.

    Every ``global`` statement is reported: one that rebinds the name (assignment, ``del``,
    ``import``, ``def``/``class``); one that never rebinds it (the statement is useless:
    reading and mutating a global need no declaration, and the fix removes it); and one at
    module level, where it has no effect at all.
    """

    id = "RV102"
    slug = "global-statement"
    principle = "no-hidden-state"
    severity = Severity.MEDIUM
    message = "global statement: the function rebinds module-level state."
    counterparts = {"ruff": "PLW0603", "pylint": "global-statement"}
    tags = ("design", "hidden-state")
    fixable = True
    VALID = [
        "COUNT = 0\ndef bump(count):\n    return count + 1\n",
        # nonlocal is a closure, not module state.
        "def outer():\n    n = 0\n    def inc():\n        nonlocal n\n        n += 1\n"
        "    return inc\n",
        # Reading a module name needs no declaration.
        "LIMIT = 3\ndef f(x):\n    return min(x, LIMIT)\n",
    ]
    INVALID = [
        Invalid("COUNT = 0\ndef bump():\n    global COUNT\n    COUNT += 1\n", line=3),
        Invalid(
            "def connect():\n    global _conn, _cursor\n    _conn = make()\n    _cursor = None\n",
            line=2,
        ),
        Invalid("async def load():\n    global cache\n    del cache\n", line=2),
        Invalid("class A:\n    def reset(self):\n        global sys\n        import sys\n", line=3),
        Invalid("def f():\n    global FUNC\n    def FUNC():\n        pass\n", line=2),
        # Rebinding happens in a nested block: still a rebinding.
        Invalid(
            "def f(flag):\n    global MODE\n    if flag:\n        for MODE in range(3):\n"
            "            pass\n",
            line=2,
        ),
        # Never rebound: the statement is useless and the fix deletes it.
        Invalid(
            "SEEN = set()\ndef mark(x):\n    global SEEN\n    SEEN.add(x)\n",
            line=3,
            fixed="SEEN = set()\ndef mark(x):\n    SEEN.add(x)\n",
        ),
        # At module level it does nothing.
        Invalid("global X\nX = 1\n", line=1, fixed="X = 1\n"),
    ]

    @classmethod
    def has_local_fix(cls, finding: Finding) -> bool:
        """A rebinding ``global`` is removed by passing the value in and returning the
        result: the signature and every caller change (a cache kept in a module variable
        becomes an object or ``functools.cache``), not the flagged lines."""
        return _REBINDS not in finding.message

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        for stmt in ctx.nodes(ast.Global):
            assert isinstance(stmt, ast.Global)
            scope = _scope(ctx, stmt)
            names = ", ".join(stmt.names)
            if scope is None:
                yield ctx.report(
                    self, stmt, f"global {names} at module level has no effect.",
                    fix=_delete(ctx, stmt),
                )
                continue
            where = f"class {scope.name}" if isinstance(scope, ast.ClassDef) else f"{scope.name}()"
            if set(stmt.names) & ctx.bindings(scope).assigned:
                yield ctx.report(
                    self, stmt,
                    f"global {names}: {where} {_REBINDS};"
                    " pass the value in and return the result instead.",
                )
            else:
                yield ctx.report(
                    self, stmt,
                    f"global {names} is never rebound in {where}: the statement is unnecessary.",
                    fix=_delete(ctx, stmt),
                )


def _scope(ctx: PyContext, stmt: ast.Global) -> ScopeNode | None:
    """The function or class body the statement belongs to (None: the module)."""
    for a in ctx.ancestors(stmt):
        if isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return a
    return None


def _delete(ctx: PyContext, stmt: ast.Global) -> Fix | None:
    """Remove a statement that sits alone on its lines and is not its block's only one."""
    end = stmt.end_lineno or stmt.lineno
    before = ctx.lines[stmt.lineno - 1][: stmt.col_offset]
    after = ctx.lines[end - 1][stmt.end_col_offset or 0:]
    if before.strip() or (after.strip() and not after.strip().startswith("#")):
        return None  # shares its line with other code (e.g. ``a = 1; global x``)
    if len(_block(ctx, stmt)) < 2:
        return None  # removing it would leave an empty block
    return Fix(
        f"Remove the unnecessary 'global {', '.join(stmt.names)}'",
        (TextEdit(stmt.lineno, 1, end + 1, 1, ""),),
    )


def _block(ctx: PyContext, stmt: ast.stmt) -> list[ast.stmt]:
    """The statement list that holds ``stmt``."""
    parent = ctx.parent(stmt)
    for field in ("body", "orelse", "finalbody", "handlers"):
        block = getattr(parent, field, None)
        if isinstance(block, list) and any(s is stmt for s in block):
            return block
    return [stmt]
