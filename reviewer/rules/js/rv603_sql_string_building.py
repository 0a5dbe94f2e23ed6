"""RV603 for JavaScript and TypeScript.

The rule and its docs: reviewer/rules/rv603_sql_string_building.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsinject import sql_findings
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class SqlJS(Implementation):
    """See reviewer/rules/_tsinject.py: a constant command or query is not reported
    unless ``strict`` is on."""

    rule_id = "RV603"
    languages = ("javascript", "typescript")
    VALID = [
        Valid("db.query(\"SELECT * FROM users WHERE id = $1\", [id]);\n", path="example.js"),
        Valid("const table = 'users';\ndb.query(`SELECT * FROM ${table}`);\n", path="example.ts"),
    ]
    INVALID = [
        Invalid("db.query(\"SELECT * FROM users WHERE id = \" + id);\n", line=1,
                path="example.js"),
        Invalid("db.query(`SELECT * FROM users WHERE name = ${name}`);\n", line=1,
                path="example.ts"),
        Invalid("let q = 'SELECT * FROM users WHERE id = ';\nq = q + id;\ndb.query(q);\n", line=3,
                path="example.js"),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        return sql_findings(rule, ctx)
