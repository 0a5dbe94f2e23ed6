"""RV607: assert used outside tests."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding, Fix, Severity
from reviewer.languages.python import PyContext, dotted_name
from reviewer.rules import _cst
from reviewer.rules.base import Invalid, Rule, Valid


def _is_type_checking(test: ast.expr) -> bool:
    return dotted_name(test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def narrows_type(test: ast.expr) -> bool:
    """``isinstance(x, T)``, ``x is not None``, ``x is None``: a hint for the type checker."""
    if isinstance(test, ast.Call) and dotted_name(test.func) in ("isinstance", "issubclass"):
        return True
    return (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.Is, ast.IsNot))
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    )


_GUARDED = ("sys.platform", "sys.version_info")
_GUARD_MESSAGE = ("assert on the platform or Python version is a guard the type checker reads;"
                  " it is removed under python -O.")


def platform_guard(test: ast.expr) -> bool:
    """``sys.platform == "win32"``, ``sys.version_info >= (3, 11)``,
    ``sys.platform.startswith("linux")``: a guard that type checkers read (mypy skips the
    rest of a module after a top-level one that is false on the platform it checks)."""
    if isinstance(test, ast.Compare):
        return any(dotted_name(side) in _GUARDED or (
            isinstance(side, ast.Subscript) and dotted_name(side.value) in _GUARDED)
            for side in (test.left, *test.comparators))
    return isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) \
        and dotted_name(test.func.value) == "sys.platform"


class AssertForValidation(Rule):
    """assert is used outside tests, where python -O removes it.

    Assert statements are compiled away under ``-O``/``PYTHONOPTIMIZE``, so a check written
    as an assert protects nothing in exactly the deployments that enable optimisation
    (CWE-617), and when it does fire the caller gets a bare AssertionError. Validate with
    ``if not cond: raise ValueError(...)`` (or TypeError, PermissionError...).

    Test files are exempt (pytest is built on assert), and so are asserts under ``if
    TYPE_CHECKING:`` (they never run). Asserts that only narrow a type for the type checker
    (``assert isinstance(x, Foo)``, ``assert x is not None``) are still removed under
    ``-O`` and still reported, but the rule is unsure of them (most are internal
    invariants written for the type checker, not input validation): they get ``info``
    severity, below the default ``fail-on``, so they show in every format without failing
    ``check`` or a pull request. Prefer an explicit check, or ``typing.cast`` when the type
    is guaranteed. Asserts on ``sys.platform`` or ``sys.version_info`` (a platform guard,
    which mypy reads: it skips the rest of a module after a top-level one that is false)
    get ``info`` severity too, and no fix.

    Fix (unsafe: the exception type changes, and the check now runs under ``-O``):
    ``assert cond, msg`` becomes ``if not cond: raise ValueError(msg)`` (``TypeError`` for
    an ``isinstance`` check), comments kept. A message written in parentheses over several
    lines keeps its own line; a test or message that itself spans lines gets no fix.
    """

    id = "RV607"
    slug = "assert-for-validation"
    principle = "no-assert-validation"
    severity = Severity.MEDIUM
    message = "assert is removed under python -O; raise an exception to validate input."
    counterparts = {"bandit": "B101", "ruff": "S101"}
    tags = ("security", "reliability", "external/cwe/cwe-617")
    security_severity = 3.0
    fixable = True
    VALID = [
        "def withdraw(amount):\n    if amount <= 0:\n        raise ValueError('amount')\n",
        Valid("def test_add():\n    assert 1 + 1 == 2\n", path="tests/test_math.py"),
        Valid("def test_add():\n    assert 1 + 1 == 2\n", path="pkg/calc_test.py"),
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    assert False\n",
    ]
    INVALID = [
        Invalid("def withdraw(amount):\n    assert amount > 0, 'amount'  # money\n"
                "    return amount\n",
                line=2,
                fixed="def withdraw(amount):\n    if not (amount > 0):  # money\n"
                "        raise ValueError('amount')\n    return amount\n"),
        Invalid("assert True\n", line=1),
        Invalid("def f(x):\n    assert isinstance(x, int)\n    return x + 1\n", line=2,
                fixed="def f(x):\n    if not isinstance(x, int):\n"
                "        raise TypeError('expected isinstance(x, int)')\n    return x + 1\n"),
        # A message in parentheses over several lines keeps its own line.
        Invalid("def f(args):\n    if args:\n        assert len(args) == 1, (\n"
                "            'one argument'\n        )\n    return args\n",
                line=3,
                fixed="def f(args):\n    if args:\n        if not (len(args) == 1):\n"
                "            raise ValueError(\n                'one argument'\n"
                "            )\n    return args\n"),
        # A test over several lines gets no fix.
        Invalid("def f(a, b):\n    assert (\n        a and b\n    ), 'both'\n", line=2),
        # A platform or version guard is reported for information, with no fix.
        Invalid("import sys\n\nassert sys.platform == 'win32'\n\nfrom ctypes import windll\n",
                line=3),
    ]

    @classmethod
    def has_local_fix(cls, finding: Finding) -> bool:
        """A platform guard has none: any rewrite loses what the type checker reads (the
        model is not asked either)."""
        return finding.message != _GUARD_MESSAGE

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        if ctx.is_test:
            return
        for node in ctx.nodes(ast.Assert):
            if not isinstance(node, ast.Assert) or self._type_checking_only(ctx, node):
                continue
            if platform_guard(node.test):
                yield ctx.report(
                    self, node, _GUARD_MESSAGE,
                    severity=Severity.INFO,  # no fix: the rewrite loses the type checker's view
                )
            elif narrows_type(node.test):
                yield ctx.report(
                    self, node,
                    "assert used to narrow a type is removed under python -O;"
                    " check explicitly or use typing.cast.",
                    severity=Severity.INFO, fix=_fix(ctx, node),
                )
            else:
                yield ctx.report(self, node, fix=_fix(ctx, node))

    @staticmethod
    def _type_checking_only(ctx: PyContext, node: ast.AST) -> bool:
        child = node
        for parent in ctx.ancestors(node):
            if isinstance(parent, ast.If) and child in parent.body and _is_type_checking(
                parent.test
            ):
                return True
            child = parent
        return False


_ATOMIC = ("Name", "Attribute", "Call", "Subscript")


def _fix(ctx: PyContext, node: ast.Assert) -> Fix | None:
    """``assert cond, msg`` -> ``if not cond: raise ValueError(msg)`` (libcst)."""
    if not _cst.available(ctx):
        return None
    target = _cst.source_of(ctx, node)
    if target is None:
        return None
    words = target.split()  # the snippet is dedented: its words are compared
    import libcst as cst

    exc = "TypeError" if narrows_type(node.test) else "ValueError"
    indent = _indent_unit(ctx, node)

    class Replace(cst.CSTTransformer):
        done = False

        def leave_SimpleStatementLine(self, original: Any, updated: Any) -> Any:
            if self.done or len(updated.body) != 1 or not isinstance(updated.body[0], cst.Assert):
                return updated
            stmt = updated.body[0]
            empty = cst.Module(body=[])
            written = empty.code_for_node(stmt.with_changes(semicolon=cst.MaybeSentinel.DEFAULT))
            if written.split() != words:
                return updated
            test = empty.code_for_node(stmt.test)
            msg = None
            if stmt.msg is not None:
                inner = empty.code_for_node(stmt.msg.with_changes(lpar=[], rpar=[]))
                whole = empty.code_for_node(stmt.msg)
                msg = "" if "#" in whole.replace(inner, "") else _message(
                    inner, "\n" in whole, indent)  # a comment in the parentheses: no fix
            if "\n" in test or msg == "":
                return updated  # a test or message over several lines: no fix
            self.done = True
            cond = test if type(stmt.test).__name__ in _ATOMIC else f"({test})"
            if isinstance(stmt.test, cst.UnaryOperation) and isinstance(
                stmt.test.operator, cst.Not
            ):
                cond = empty.code_for_node(stmt.test.expression)
                head = f"if {cond}:"
            else:
                head = f"if not {cond}:"
            if msg is None:
                msg = repr(f"expected {test}")
            new = cst.parse_statement(
                f"{head}\n{indent}raise {exc}({msg})\n",
                config=cst.PartialParserConfig(default_indent=indent),
            )
            assert isinstance(new, cst.If) and isinstance(new.body, cst.IndentedBlock)
            body = new.body.with_changes(header=updated.trailing_whitespace, indent=indent)
            return new.with_changes(body=body, leading_lines=updated.leading_lines)

    def run(module: Any) -> Any:
        visitor = Replace()
        out = module.visit(visitor)
        return out if visitor.done else None

    edit = _cst.rewrite(ctx, *_cst.lines_of(node), run)
    return _cst.make_fix(f"Raise {exc} instead of assert", edit, safe=False)


def _message(inner: str, spread: bool, indent: str) -> str:
    """The exception's argument: the assert's message, on its own line when it was written
    in parentheses over several lines (``assert x, (\n    "..."\n)``); "" when the message
    itself spans lines (no fix)."""
    if "\n" in inner:
        return ""
    return f"\n{indent}{indent}{inner}\n{indent}" if spread else inner


def _indent_unit(ctx: PyContext, node: ast.stmt) -> str:
    """The indentation step where ``node`` sits: its own indentation beyond its block's
    header (four spaces at module level, or when that cannot be told)."""
    parent = ctx.parent(node)
    line = ctx.lines[node.lineno - 1]
    own = line[: len(line) - len(line.lstrip(" \t"))]
    if isinstance(parent, ast.stmt):
        head = ctx.lines[parent.lineno - 1]
        outer = head[: len(head) - len(head.lstrip(" \t"))]
        if own.startswith(outer) and len(own) > len(outer):
            return own[len(outer):]
    return "    "
