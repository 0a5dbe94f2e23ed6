"""RV205: a Go error result that is dropped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding, Severity
from reviewer.rules.base import Invalid, Rule, Valid

# Standard-library calls whose only or last result is an error (no type information is
# available, so calls are known by name, plus the functions and methods of the file).
KNOWN = frozenset({
    "ioutil.WriteFile", "os.WriteFile", "os.Remove", "os.RemoveAll", "os.Mkdir", "os.MkdirAll",
    "os.Chdir", "os.Chmod", "os.Chown", "os.Chtimes", "os.Rename", "os.Setenv", "os.Unsetenv",
    "os.Symlink", "os.Link", "os.Truncate", "os.Lchown", "json.Unmarshal", "xml.Unmarshal",
    "yaml.Unmarshal", "http.ListenAndServe", "http.ListenAndServeTLS", "template.Execute",
    "syscall.Kill", "syscall.Setuid", "syscall.Setgid", "os.Setuid",
})
# gosec's default exclusions: writes to in-memory buffers and fmt printing never fail
# in a way callers act on.
EXCLUDED_PREFIXES = ("fmt.", "strings.Builder", "bytes.Buffer", "hash.Hash")


class UncheckedError(Rule):
    """A call's error result is ignored: the call stands alone, or its error goes to ``_``.

    Go reports failure through the returned ``error``; a caller that drops it carries on
    as if the write, close or parse had worked, and the failure surfaces later, far from
    its cause (a truncated file, a half-applied config). Check it, return it wrapped
    (``fmt.Errorf("...: %w", err)``), or, when ignoring really is right, say so in a
    comment with a suppression. Without type information the rule knows error-returning
    calls by name: the functions and methods declared in the file with an ``error``
    result, and a list of standard-library calls; ``fmt.Print*`` and in-memory writers are
    not reported (gosec's defaults). ``blank_assignments``: also report ``_ = f()`` and
    ``v, _ := f()`` (gosec reports them in audit mode only). ``ignored_calls``: calls a
    project allows to drop the error of, by name as written (``"ioutil.WriteFile"``), or
    every call of a package or type with a trailing dot (``"os."``), as errcheck's
    ``-exclude`` and gosec's G104 configuration do. No automatic fix: what to do with the
    error is the author's decision.
    """

    id = "RV205"
    slug = "unchecked-error"
    principle = "handle-exceptions"
    language = "go"
    severity = Severity.MEDIUM
    message = "The error result is not checked."
    counterparts = {"gosec": "G104", "errcheck": "errcheck", "revive": "unhandled-error"}
    options = {"blank_assignments": True, "ignored_calls": ()}
    tags = ("error-handling", "correctness")
    VALID = [
        Valid("package p\n\nimport \"os\"\n\n// Clean removes the file.\nfunc Clean(p string)"
              " error {\n\tif err := os.Remove(p); err != nil {\n\t\treturn err\n\t}\n"
              "\treturn nil\n}\n", path="example.go"),
        Valid("package p\n\nfunc save() error { return nil }\n\nfunc run() {\n\t_ = save()\n}\n",
              path="example.go", options={"blank_assignments": False}),
        Valid("package p\n\nimport \"os\"\n\nfunc clean(p string) {\n\tos.Remove(p)\n}\n",
              path="example.go", options={"ignored_calls": ("os.Remove",)}),
    ]
    INVALID = [
        Invalid("package p\n\nimport \"os\"\n\nfunc clean(p string) {\n\tos.Remove(p)\n}\n",
                line=6, path="example.go"),
        Invalid("package p\n\nfunc save() error { return nil }\n\nfunc run() {\n\t_ = save()\n}\n",
                line=6, path="example.go"),
    ]

    def check(self, ctx: Any) -> Iterator[Finding]:
        from reviewer.rules._tsflow import callee_name  # not imported by a Python review
        returning = _error_functions(ctx)
        blanks: bool = self.settings["blank_assignments"]
        ignored: tuple[str, ...] = tuple(self.settings["ignored_calls"])
        for stmt in ctx.nodes("expression_statement"):
            call = stmt.named_children[0] if stmt.named_children else None
            if call is not None and call.type == "call_expression":
                name = callee_name(ctx, call)
                if _ignored(name, ignored):
                    continue
                if _returns_error(name, returning) is not None:
                    yield ctx.report(self, stmt, f"the error returned by {name}() is not"
                                                 " checked")
        if not blanks:
            return
        for assign in ctx.nodes("assignment_statement", "short_var_declaration"):
            left = assign.child_by_field_name("left")
            right = assign.child_by_field_name("right")
            if left is None or right is None:
                continue
            names = [c for c in left.named_children if c.type != "comment"]
            values = [c for c in right.named_children if c.type != "comment"]
            if len(values) != 1 or values[0].type != "call_expression" or not names:
                continue
            name = callee_name(ctx, values[0])
            position = _returns_error(name, returning)
            if position is None or _ignored(name, ignored):
                continue
            index = len(names) - 1 if position < 0 else position
            if index < len(names) and ctx.text(names[index]) == "_":
                yield ctx.report(self, assign, f"the error returned by {name}() is assigned"
                                               " to _")


def _ignored(name: str, ignored: tuple[str, ...]) -> bool:
    """The call is one the project allows to drop the error of (``ignored_calls``)."""
    return any(name == i or (i.endswith(".") and name.startswith(i)) for i in ignored)


def _error_functions(ctx: Any) -> dict[str, int]:
    """Names of the file's functions and methods with an error result -> its position."""
    out: dict[str, int] = {}
    for fn in ctx.nodes("function_declaration", "method_declaration"):
        result = fn.child_by_field_name("result")
        name = fn.child_by_field_name("name")
        if result is None or name is None:
            continue
        if result.type == "parameter_list":
            types = [ctx.text(p.child_by_field_name("type")) for p in result.named_children
                     if p.type == "parameter_declaration"]
        else:
            types = [ctx.text(result)]
        if "error" in types:
            out[ctx.text(name)] = types.index("error")
    return out


def _returns_error(name: str, returning: dict[str, int]) -> int | None:
    """Where the error is among a call's results (-1: last), None when it has none."""
    if not name or name.startswith(EXCLUDED_PREFIXES):
        return None
    if name in KNOWN:
        return -1
    last = name.split(".")[-1]
    if name in returning or ("." in name and last in returning):
        return returning.get(name, returning.get(last))
    return None
