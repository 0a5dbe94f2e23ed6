"""RV501 for Go.

The rule and its docs: reviewer/rules/rv501_print_in_library.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsflow import callee_name
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class PrintGo(Implementation):
    """``fmt.Print*`` (and the ``print``/``println`` built-ins) outside ``package main``.

    A library package that prints writes into its callers' standard output; return the
    data, take an ``io.Writer``, or log. ``package main``, tests and files under one of the
    ``non_library_dirs`` are programs and are not reported; ``fmt.Fprint*`` to a writer the
    caller chose is fine.
    """

    rule_id = "RV501"
    languages = ("go",)
    VALID = [
        Valid("package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n",
              path="example.go"),
        Valid("package report\n\nimport (\n\t\"fmt\"\n\t\"io\"\n)\n\n// Write writes n.\n"
              "func Write(w io.Writer, n int) {\n\tfmt.Fprintln(w, n)\n}\n", path="example.go"),
    ]
    INVALID = [
        Invalid("package report\n\nimport \"fmt\"\n\n// Show prints n.\nfunc Show(n int) {\n"
                "\tfmt.Println(n)\n}\n", line=7, path="example.go"),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        if ctx.is_test or ctx.is_script:
            return
        dirs: tuple[str, ...] = rule.settings["non_library_dirs"]
        if any(p in dirs for p in ctx.path.split("/")[:-1]):
            return
        for call in ctx.captured("print", "finding"):  # queries/go/print.scm
            name = callee_name(ctx, call)
            yield ctx.report(rule, call, f"{name} in a library package: return the data,"
                                             " take an io.Writer, or log")
