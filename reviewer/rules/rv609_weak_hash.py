"""RV609: MD5 or SHA-1 used through a crypto API (JavaScript, TypeScript, Go)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding, Severity
from reviewer.rules.base import Invalid, Rule, Valid

_WEAK = frozenset({"md5", "sha1", "md4", "md2", "rsa-md5", "rsa-sha1"})
_JS_CALLS = ("createHash", "createHmac", "crypto.createHash", "crypto.createHmac")
_GO_CALLS = frozenset({"md5.New", "md5.Sum", "sha1.New", "sha1.Sum", "md4.New"})


class WeakHash(Rule):
    """A broken hash (MD5, SHA-1) is used through a crypto API.

    Collisions for MD5 and SHA-1 are practical: neither protects integrity or passwords. Use
    SHA-256 or better (``crypto.createHash("sha256")``, ``sha256.New()``), and a password
    hash (scrypt, argon2, bcrypt) for passwords. Checksums for caches and ETags where no
    attacker chooses the input are a legitimate use: suppress those with a reason.
    """

    id = "RV609"
    slug = "weak-hash"
    principle = "least-privilege"
    language = "javascript"
    dialects = ("typescript", "go")
    severity = Severity.MEDIUM
    message = "A weak hash (MD5/SHA-1) is used for security."
    counterparts = {"gosec": "G401, G501", "semgrep": "javascript.lang.security.audit.md5"}
    tags = ("security", "crypto")
    security_severity = 5.0
    VALID = [
        Valid("const h = crypto.createHash('sha256').update(data).digest('hex');\n",
              path="example.js"),
        Valid("const digest: string = createHash('sha512').update(s).digest('hex');\n",
              path="example.ts"),
        Valid("package p\n\nimport \"crypto/sha256\"\n\n// Sum hashes b.\nfunc Sum(b []byte)"
              " [32]byte {\n\treturn sha256.Sum256(b)\n}\n", path="example.go"),
    ]
    INVALID = [
        Invalid("const h = crypto.createHash('md5').update(data).digest('hex');\n", line=1,
                path="example.js"),
        Invalid("const h = createHmac(\"sha1\", key);\n", line=1, path="example.ts"),
        Invalid("package p\n\nimport \"crypto/md5\"\n\n// Sum hashes b.\nfunc Sum(b []byte)"
                " [16]byte {\n\treturn md5.Sum(b)\n}\n", line=7, path="example.go"),
    ]

    def check(self, ctx: Any) -> Iterator[Finding]:
        from reviewer.rules._tsflow import arguments, callee_name, string_value
        for call in ctx.nodes("call_expression"):
            name = callee_name(ctx, call)
            if ctx.family == "go":
                if name in _GO_CALLS:
                    yield ctx.report(self, call, f"{name}() is a broken hash; use crypto/sha256")
                continue
            if name.endswith(_JS_CALLS):
                args = arguments(call)
                algo = string_value(ctx, args[0]) if args else None
                if algo is not None and algo.lower() in _WEAK:
                    yield ctx.report(self, call, f"{algo} is a broken hash; use sha256 or better")
