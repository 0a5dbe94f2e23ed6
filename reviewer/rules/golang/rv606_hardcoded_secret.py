"""RV606 for Go.

The rule and its docs: reviewer/rules/rv606_hardcoded_secret.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tssecret import find_secrets
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class HardcodedSecretGo(Implementation):
    """Secret-named variables, constants, fields and keys set to a literal, and strings in a
    published token format, with Python's words, placeholders and formats."""

    rule_id = "RV606"
    languages = ("go",)
    VALID = [
        Valid(
            """\
            package p

            import "os"

            // Password of the database.
            var Password = os.Getenv("DB_PASSWORD")
            """,
            path="example.go",
        ),
    ]
    INVALID = [
        Invalid(
            """\
            package p

            func connect() {
            \tpassword := "f62e5bcda4fae4f8"
            \tuse(password)
            }
            """,
            line=4, path="example.go",
        ),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        return find_secrets(rule, ctx)
