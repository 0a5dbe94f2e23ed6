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
        # A value quoted for SQL (lib/pq's QuoteIdentifier, QuoteLiteral) cannot end the
        # identifier it is put in.
        Valid("package p\n\nimport (\n\t\"database/sql\"\n\t\"fmt\"\n\n"
              "\t\"github.com/lib/pq\"\n)\n\n// Count counts.\n"
              "func Count(db *sql.DB, table string) {\n\tdb.Query(fmt.Sprintf("
              "\"SELECT count(*) FROM %s\", pq.QuoteIdentifier(table)))\n}\n",
              path="example.go"),
        # The append is to another ``query``, declared in the inner block.
        Valid("package p\n\nimport \"database/sql\"\n\n// Find finds.\nfunc Find(db *sql.DB,"
              " name string) {\n\tquery := \"SELECT * FROM t WHERE id = 42\"\n\t{\n"
              "\t\tquery := \"SELECT id FROM u WHERE name = \"\n\t\tquery += name\n"
              "\t\tlog(query)\n\t}\n"
              "\tdb.Query(query)\n}\n", path="example.go"),
        # A builder that only constants are written into holds constant text.
        Valid("package p\n\nimport (\n\t\"database/sql\"\n\t\"strings\"\n)\n\n// Some finds.\n"
              "func Some(db *sql.DB, ids []any) {\n\tvar ph strings.Builder\n"
              "\tfor i := range ids {\n\t\tif i > 0 {\n\t\t\tph.WriteString(\",\")\n\t\t}\n"
              "\t\tph.WriteString(\"?\")\n\t}\n\tq := \"SELECT * FROM t WHERE id IN (\" + "
              "ph.String() + \")\"\n\tdb.Query(q, ids...)\n}\n", path="example.go"),
    ]
    INVALID = [
        Invalid("package p\n\nimport (\n\t\"database/sql\"\n\t\"fmt\"\n)\n\n// Find finds.\n"
                "func Find(db *sql.DB, name string) {\n\tq := fmt.Sprintf(\"SELECT * FROM t"
                " WHERE name = %q\", name)\n\tdb.Query(q)\n}\n", line=11, path="example.go"),
        Invalid("package p\n\nimport \"database/sql\"\n\n// Find finds.\nfunc Find(db *sql.DB,"
                " id string) {\n\tquery := \"SELECT * FROM t WHERE id = \"\n"
                "\tquery = query + id\n\tdb.Query(query)\n}\n", line=9, path="example.go"),
        Invalid("package p\n\nimport (\n\t\"database/sql\"\n\t\"strings\"\n)\n\n// Find finds.\n"
                "func Find(db *sql.DB, name string) {\n\tvar b strings.Builder\n"
                "\tb.WriteString(strings.ToLower(name))\n"
                "\tq := \"SELECT * FROM t WHERE name = '\" + b.String() + \"'\"\n"
                "\tdb.Query(q)\n}\n", line=13, path="example.go"),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        return sql_findings(rule, ctx)
