"""RV606 for JavaScript and TypeScript.

The rule and its docs: reviewer/rules/rv606_hardcoded_secret.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tssecret import find_secrets
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class HardcodedSecretJS(Implementation):
    """Secret-named variables, constants, fields and keys set to a literal, and strings in a
    published token format, with Python's words, placeholders and formats."""

    rule_id = "RV606"
    languages = ("javascript", "typescript")
    VALID = [
        Valid("const password = process.env.DB_PASSWORD;\n", path="example.js"),
        Valid("const token: string = \"\";\n", path="example.ts"),
    ]
    INVALID = [
        Invalid("const dbPassword = \"hunter2-Xk9q\";\n", line=1, path="example.js"),
        Invalid(
            """\
            const config = { apiKey: "AKIAIOSFODNN7ABCDEFG" };
            """,
            line=1, path="example.ts",
        ),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        return find_secrets(rule, ctx)
