"""RV206: a Go error is checked and then dropped, or a library panics."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding, Severity
from reviewer.rules.base import Invalid, Rule, Valid


class DroppedError(Rule):
    """``if err != nil { return nil }`` drops the error; ``panic`` in a library package.

    A function that sees an error and returns ``nil`` (or only non-error values) tells its
    caller that everything worked: the failure disappears at that line. Return the error,
    wrapped with context (``return fmt.Errorf("load %s: %w", name, err)``). A ``panic`` in a
    package other than ``main`` takes the decision to crash away from every program that
    imports it: return an error instead (panics in ``init``, ``Must*`` helpers and tests are
    conventional and not reported). No automatic fix: the right error to return is the
    author's choice. In JavaScript and TypeScript the same drop is a ``catch`` that only
    logs, in a function that returns a result on its other paths: the caller gets
    ``undefined`` (see the JavaScript implementation).
    """

    id = "RV206"
    slug = "dropped-error"
    principle = "handle-exceptions"
    language = "go"
    severity = Severity.MEDIUM
    message = "The error is dropped."
    counterparts = {"revive": "error-return, deep-exit", "staticcheck": "(nilness)",
                    "eslint": "consistent-return (partly)"}
    tags = ("error-handling", "correctness")
    VALID = [
        Valid("package p\n\nimport \"os\"\n\n// Load reads name.\nfunc Load(name string)"
              " ([]byte, error) {\n\tb, err := os.ReadFile(name)\n\tif err != nil {\n"
              "\t\treturn nil, err\n\t}\n\treturn b, nil\n}\n", path="example.go"),
        Valid("package main\n\nfunc main() {\n\tpanic(\"unreachable\")\n}\n", path="example.go"),
        Valid("package p\n\n// MustParse panics on a bad spec.\nfunc MustParse(s string) int {\n"
              "\tpanic(s)\n}\n", path="example.go"),
    ]
    INVALID = [
        Invalid("package p\n\nimport \"os\"\n\n// Load reads name.\nfunc Load(name string)"
                " []byte {\n\tb, err := os.ReadFile(name)\n\tif err != nil {\n"
                "\t\treturn nil\n\t}\n\treturn b\n}\n", line=9, path="example.go"),
        Invalid("package store\n\n// Open opens.\nfunc Open(path string) {\n"
                "\tif path == \"\" {\n\t\tpanic(\"no path\")\n\t}\n}\n", line=6,
                path="example.go"),
    ]

    def check(self, ctx: Any) -> Iterator[Finding]:
        if ctx.is_test:
            return
        for stmt in ctx.nodes("if_statement"):
            cond = ctx.text(stmt.child_by_field_name("condition")).replace(" ", "")
            if cond != "err!=nil":
                continue
            body = stmt.child_by_field_name("consequence")
            stmts = [c for c in (body.named_children[0].named_children
                                 if body is not None and body.named_children
                                 and body.named_children[0].type == "statement_list" else [])
                     if c.type != "comment"]
            if len(stmts) == 1 and stmts[0].type == "return_statement":
                values = ctx.text(stmts[0]).removeprefix("return").strip()
                if values and "err" not in values and not _error_call(values):
                    yield ctx.report(self, stmts[0], f"the error is dropped: 'return {values}'"
                                                     " after err != nil")
        if ctx.is_script:
            return
        for call in ctx.captured("panic", "finding"):  # queries/go/panic.scm
            fn = ctx.enclosing_function(call)
            name = ctx.function_name(fn) if fn is not None else ""
            if name == "init" or name.startswith("Must") or name.startswith("must"):
                continue
            yield ctx.report(self, call, "panic in a library package: return an error")


def _error_call(values: str) -> bool:
    """``return nil, errors.New(...)`` / ``fmt.Errorf(...)``: a new error is returned."""
    return any(w in values for w in ("Errorf(", "errors.", "Error(", "Err"))
