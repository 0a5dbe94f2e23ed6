"""RV607: assert used outside tests."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PyContext, dotted_name
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
    is guaranteed.
    """

    id = "RV607"
    slug = "assert-for-validation"
    principle = "no-assert-validation"
    severity = Severity.MEDIUM
    message = "assert is removed under python -O; raise an exception to validate input."
    counterparts = {"bandit": "B101", "ruff": "S101"}
    tags = ("security", "reliability", "external/cwe/cwe-617")
    security_severity = 3.0
    VALID = [
        "def withdraw(amount):\n    if amount <= 0:\n        raise ValueError('amount')\n",
        Valid("def test_add():\n    assert 1 + 1 == 2\n", path="tests/test_math.py"),
        Valid("def test_add():\n    assert 1 + 1 == 2\n", path="pkg/calc_test.py"),
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    assert False\n",
    ]
    INVALID = [
        Invalid("def withdraw(amount):\n    assert amount > 0, 'amount'\n    return amount\n",
                line=2),
        Invalid("assert True\n", line=1),
        Invalid("def f(x):\n    assert isinstance(x, int)\n    return x + 1\n", line=2),
    ]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        if ctx.is_test:
            return
        for node in ctx.nodes(ast.Assert):
            if not isinstance(node, ast.Assert) or self._type_checking_only(ctx, node):
                continue
            if narrows_type(node.test):
                yield ctx.report(
                    self, node,
                    "assert used to narrow a type is removed under python -O;"
                    " check explicitly or use typing.cast.",
                    severity=Severity.INFO,
                )
            else:
                yield ctx.report(self, node)

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
