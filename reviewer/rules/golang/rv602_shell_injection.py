"""RV602 for Go.

The rule and its docs: reviewer/rules/rv602_shell_injection.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsinject import shell_findings
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class ShellGo(Implementation):
    """See reviewer/rules/_tsinject.py: a constant command or query is not reported
    unless ``strict`` is on."""

    rule_id = "RV602"
    languages = ("go",)
    VALID = [
        Valid("package p\n\nimport \"os/exec\"\n\n// Top runs git.\nfunc Top() *exec.Cmd {\n"
              "\treturn exec.Command(\"git\", \"rev-parse\", \"--show-toplevel\")\n}\n",
              path="example.go"),
        # A lookup in a constant table gives one of its constants, whatever the key.
        Valid("package p\n\nimport \"os/exec\"\n\nvar openers = map[string][]string{"
              "\"linux\": {\"xdg-open\"}, \"darwin\": {\"open\"}}\n\n"
              "// Opener runs the platform's opener.\nfunc Opener(goos string) *exec.Cmd {\n"
              "\targv := openers[goos]\n\treturn exec.Command(argv[0], argv[1:]...)\n}\n",
              path="example.go"),
    ]
    INVALID = [
        Invalid("package p\n\nimport \"os/exec\"\n\n// Run runs line.\nfunc Run(line string)"
                " *exec.Cmd {\n\treturn exec.Command(\"sh\", \"-c\", line)\n}\n", line=7,
                path="example.go"),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        return shell_findings(rule, ctx)
