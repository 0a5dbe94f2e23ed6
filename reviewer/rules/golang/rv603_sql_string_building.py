"""RV603 for Go.

The rule and its docs: reviewer/rules/rv603_sql_string_building.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsinject import sql_findings
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class SqlGo(Implementation):
    """See reviewer/rules/_tsinject.py: a constant command or query is not reported
    unless ``strict`` is on."""

    rule_id = "RV603"
    languages = ("go",)
    VALID = [
        Valid("package p\n\nimport \"database/sql\"\n\n// Find finds.\nfunc Find(db *sql.DB,"
              " id int) {\n\tdb.Query(\"SELECT * FROM t WHERE id = ?\", id)\n}\n",
              path="example.go"),
    ]
    INVALID = [
        Invalid("package p\n\nimport (\n\t\"database/sql\"\n\t\"fmt\"\n)\n\n// Find finds.\n"
                "func Find(db *sql.DB, name string) {\n\tq := fmt.Sprintf(\"SELECT * FROM t"
                " WHERE name = %q\", name)\n\tdb.Query(q)\n}\n", line=11, path="example.go"),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        return sql_findings(rule, ctx)
