"""RV204: throwing something that cannot be an Error (JavaScript, TypeScript)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding, Severity
from reviewer.rules.base import Invalid, Rule, Valid

_MAYBE_ERROR = frozenset({
    "identifier", "call_expression", "new_expression", "member_expression",
    "subscript_expression", "await_expression", "yield_expression", "this",
    "non_null_expression", "as_expression", "satisfies_expression",
})


def could_be_error(node: Any) -> bool:
    """False when the thrown value is certainly not an Error object (ESLint's reading)."""
    if node is None:
        return True
    t = node.type
    if t == "identifier":
        return bool(node.text != b"undefined")
    if t in _MAYBE_ERROR:
        return True
    if t == "parenthesized_expression":
        return any(could_be_error(c) for c in node.named_children[-1:])
    if t == "sequence_expression":
        return could_be_error(node.named_children[-1] if node.named_children else None)
    if t in ("assignment_expression", "augmented_assignment_expression"):
        op = node.child_by_field_name("operator")
        if t == "assignment_expression" or (op is not None and op.type == "&&="):
            return could_be_error(node.child_by_field_name("right"))
        if op is not None and op.type in ("||=", "??="):
            return could_be_error(node.child_by_field_name("left")) or could_be_error(
                node.child_by_field_name("right"))
        return False
    if t == "binary_expression":
        op = node.child_by_field_name("operator")
        if op is not None and op.type == "&&":
            return could_be_error(node.child_by_field_name("right"))
        if op is not None and op.type in ("||", "??"):
            return could_be_error(node.child_by_field_name("left")) or could_be_error(
                node.child_by_field_name("right"))
        return False
    if t == "ternary_expression":
        return could_be_error(node.child_by_field_name("consequence")) or could_be_error(
            node.child_by_field_name("alternative"))
    return False


class ThrowLiteral(Rule):
    """A ``throw`` of a string, number, template or other value that is not an Error.

    Only Error objects carry a stack trace and a ``name``; code that catches expects
    ``err.message`` and ``err.stack``, and tools that report uncaught errors show nothing
    useful for ``throw "failed"``. Throw ``new Error("failed")`` (or a subclass) instead.
    Thrown names, calls and member reads may hold an Error and are not reported.
    """

    id = "RV204"
    slug = "throw-literal"
    principle = "handle-exceptions"
    language = "javascript"
    dialects = ("typescript",)
    severity = Severity.MEDIUM
    message = "Only Error objects should be thrown."
    counterparts = {"eslint": "no-throw-literal", "typescript-eslint": "only-throw-error"}
    tags = ("error-handling", "correctness")
    VALID = [
        Valid('throw new Error("failed");\n', path="example.js"),
        Valid("function fail(err) {\n  throw err;\n}\n", path="example.js"),
        Valid("throw makeError(code);\n", path="example.ts"),
    ]
    INVALID = [
        Invalid('throw "failed";\n', line=1, path="example.js"),
        Invalid("throw `failed: ${code}`;\n", line=1, path="example.js"),
        Invalid("function f(): never {\n  throw { code: 1 };\n}\n", line=2, path="example.ts"),
    ]

    def check(self, ctx: Any) -> Iterator[Finding]:
        for stmt in ctx.nodes("throw_statement"):
            value = next((c for c in stmt.named_children if c.type != "comment"), None)
            if value is not None and not could_be_error(value):
                yield ctx.report(self, stmt)
