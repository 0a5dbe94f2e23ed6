"""RV102 for Go.

The rule and its docs: reviewer/rules/rv102_global_statement.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsstate import state_findings
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class ModuleStateGo(Implementation):
    """A function rebinds a module-level variable (see reviewer/rules/_tsstate.py); no
    automatic fix."""

    rule_id = "RV102"
    languages = ("go",)
    VALID = [
        Valid("package p\n\nvar limit = 10\n\nfunc init() {\n\tlimit = 20\n}\n\n"
              "// Limit is the limit.\nfunc Limit() int {\n\treturn limit\n}\n", path="example.go"),
    ]
    INVALID = [
        Invalid("package p\n\nvar count int\n\n// Next counts.\nfunc Next() int {\n"
                "\tcount++\n\treturn count\n}\n", line=7, path="example.go"),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        return state_findings(rule, ctx)
