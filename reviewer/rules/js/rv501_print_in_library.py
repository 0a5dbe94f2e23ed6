"""RV501 for JavaScript and TypeScript.

The rule and its docs: reviewer/rules/rv501_print_in_library.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class ConsoleJS(Implementation):
    """``console.log`` (any ``console`` method, called or passed on) in library code.

    Files that are programs are left alone: a ``#!`` line, or a file under one of the
    ``non_library_dirs`` (bin/, scripts/...); test files too. Methods listed in
    ``allowed_console_methods`` (e.g. ``["warn", "error"]``) are allowed everywhere, as
    ESLint's no-console ``allow`` option. A local variable named ``console`` is not the
    global one.
    """

    rule_id = "RV501"
    languages = ("javascript", "typescript")
    VALID = [
        Valid("export function add(a, b) {\n  return a + b;\n}\n", path="example.js"),
        Valid("#!/usr/bin/env node\nconsole.log(process.argv);\n", path="example.js"),
        Valid("console.log('usage: build');\n", path="bin/build.js"),
        Valid("console.warn('deprecated');\n", path="example.ts",
              options={"allowed_console_methods": ("warn",)}),
        Valid("function f(console) {\n  console.log(1);\n}\n", path="example.js"),
    ]
    INVALID = [
        Invalid("export function add(a, b) {\n  console.log(a, b);\n  return a + b;\n}\n",
                line=2, path="example.js"),
        Invalid("items.forEach(console.debug);\n", line=1, path="example.ts"),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        if ctx.is_test or ctx.source.startswith("#!"):
            return
        dirs: tuple[str, ...] = rule.settings["non_library_dirs"]
        parts = ctx.path.split("/")[:-1]
        if any(p in dirs for p in parts):
            return
        allowed: tuple[str, ...] = rule.settings["allowed_console_methods"]
        shadowed = _shadowed(ctx)
        for member in ctx.captured("console", "finding"):  # queries/js/console.scm
            prop = member.child_by_field_name("property") or member.child_by_field_name("index")
            method = ctx.text(prop).strip("'\"`")
            if method in allowed or shadowed:
                continue
            yield ctx.report(rule, member, f"console.{method} in library code: use a logger,"
                                           " or return the data to the caller")


def _shadowed(ctx: Any) -> bool:
    """``console`` is declared in the file (a parameter, variable or import)."""
    if "console" not in ctx.source:
        return False
    for node in ctx.nodes("variable_declarator", "formal_parameters", "import_specifier"):
        name = node.child_by_field_name("name")
        if node.type == "formal_parameters":
            if any(ctx.text(c) == "console" for c in node.named_children):
                return True
        elif name is not None and ctx.text(name) == "console":
            return True
    return False
