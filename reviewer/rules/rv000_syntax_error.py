"""RV000: the file does not parse."""

from __future__ import annotations

from collections.abc import Iterator

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PyContext
from reviewer.rules.base import Invalid, Rule


class SyntaxErrorRule(Rule):
    """The file does not parse, so nothing else in it can be reviewed.

    Reported by the language plug-in itself at the parser's error location, while every other
    file is still reviewed. Fix the syntax first; the other rules run once it parses.
    """

    id = "RV000"
    slug = "syntax-error"
    principle = "tested-behaviour"
    severity = Severity.HIGH
    message = "File does not parse."
    counterparts = {"ruff": "E999", "pylint": "syntax-error"}
    tags = ("correctness",)
    VALID = ["x = 1\n"]
    INVALID = [Invalid("def broken(:\n    pass\n", line=1)]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        """Nothing to do: the plug-in reports RV000 when parsing fails."""
        return iter(())
