"""RV102 for JavaScript and TypeScript.

The rule and its docs: reviewer/rules/rv102_global_statement.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsstate import state_findings
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class ModuleStateJS(Implementation):
    """A function rebinds a module-level variable (see reviewer/rules/_tsstate.py); no
    automatic fix."""

    rule_id = "RV102"
    languages = ("javascript", "typescript")
    VALID = [
        Valid("let count = 0;\nexport function next(n) {\n  let count = n;\n  count += 1;\n"
              "  return count;\n}\n", path="example.js"),
        Valid("const cache = new Map();\nexport function put(k: string, v: number) {\n"
              "  cache.set(k, v);\n}\n", path="example.ts"),
    ]
    INVALID = [
        Invalid("let count = 0;\nexport function next() {\n  count += 1;\n  return count;\n}\n",
                line=3, path="example.js"),
        Invalid("let ready = false;\nexport const init = (): void => {\n  ready = true;\n};\n",
                line=3, path="example.ts"),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        return state_findings(rule, ctx)
