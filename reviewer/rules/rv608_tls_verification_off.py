"""RV608: TLS certificate verification turned off (JavaScript, TypeScript, Go)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding, Severity
from reviewer.rules.base import Invalid, Rule, Valid


class TLSVerificationOff(Rule):
    """TLS certificate verification is turned off.

    ``rejectUnauthorized: false`` (Node), ``NODE_TLS_REJECT_UNAUTHORIZED = "0"`` and Go's
    ``InsecureSkipVerify: true`` accept any certificate, so anyone on the network path can
    read and change the traffic. Trust the right CA instead (``ca:`` in Node, ``RootCAs`` in
    Go). There is no automatic fix: the right CA is not known to the reviewer.
    """

    id = "RV608"
    slug = "tls-verification-off"
    principle = "least-privilege"
    language = "javascript"
    dialects = ("typescript", "go")
    severity = Severity.HIGH
    message = "TLS certificate verification is turned off."
    counterparts = {"gosec": "G402", "semgrep": "problem-based-packs.insecure-transport"}
    tags = ("security", "tls")
    security_severity = 7.4
    VALID = [
        Valid("https.request({ host, ca: fs.readFileSync('ca.pem') });\n", path="example.js"),
        Valid("const agent = new https.Agent({ rejectUnauthorized: true });\n", path="example.ts"),
        Valid("package p\n\nimport \"crypto/tls\"\n\n// Config is the client's TLS setup.\n"
              "var Config = &tls.Config{MinVersion: tls.VersionTLS12}\n", path="example.go"),
    ]
    INVALID = [
        Invalid("https.request({ host, rejectUnauthorized: false });\n", line=1,
                path="example.js"),
        Invalid("process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';\n", line=1, path="example.ts"),
        Invalid("package p\n\nimport \"crypto/tls\"\n\n// Config is the client's TLS setup.\n"
                "var Config = &tls.Config{InsecureSkipVerify: true}\n", line=6,
                path="example.go"),
    ]

    def check(self, ctx: Any) -> Iterator[Finding]:
        from reviewer.rules._tsflow import string_value  # not imported by a Python review
        # The patterns are queries shipped with the package: queries/{js,go}/tls.scm.
        for found in ctx.matches("tls"):
            if "finding" in found:
                yield ctx.report(self, found["finding"][0])
            elif string_value(ctx, found["value"][0]) == "0":
                yield ctx.report(self, found["assign"][0])
