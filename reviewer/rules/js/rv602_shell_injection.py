"""RV602 for JavaScript and TypeScript.

The rule and its docs: reviewer/rules/rv602_shell_injection.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsinject import shell_findings
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class ShellJS(Implementation):
    """See reviewer/rules/_tsinject.py: a constant command or query is not reported
    unless ``strict`` is on."""

    rule_id = "RV602"
    languages = ("javascript", "typescript")
    VALID = [
        Valid("execFile(\"git\", [\"status\"]);\n", path="example.js"),
        Valid("exec(\"git status\", done);\n", path="example.ts"),
    ]
    INVALID = [
        Invalid("exec(\"git log \" + branch, done);\n", line=1, path="example.js"),
        Invalid("spawn(cmd, [], { shell: true });\n", line=1, path="example.ts"),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        return shell_findings(rule, ctx)
