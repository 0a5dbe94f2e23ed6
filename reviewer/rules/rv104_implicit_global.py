"""RV104: JavaScript implicit globals and writes to built-in globals."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding, Severity
from reviewer.rules.base import Invalid, Rule, Valid

# Read-only built-in globals of every JavaScript environment (ESLint's es globals).
BUILTINS = frozenset({
    "Array", "ArrayBuffer", "Atomics", "BigInt", "BigInt64Array", "BigUint64Array", "Boolean",
    "DataView", "Date", "decodeURI", "decodeURIComponent", "encodeURI", "encodeURIComponent",
    "Error", "escape", "eval", "EvalError", "FinalizationRegistry", "Float32Array",
    "Float64Array", "Function", "globalThis", "Infinity", "Int16Array", "Int32Array",
    "Int8Array", "isFinite", "isNaN", "JSON", "Map", "Math", "NaN", "Number", "Object",
    "parseFloat", "parseInt", "Promise", "Proxy", "RangeError", "ReferenceError", "Reflect",
    "RegExp", "Set", "SharedArrayBuffer", "String", "Symbol", "SyntaxError", "TypeError",
    "Uint16Array", "Uint32Array", "Uint8Array", "Uint8ClampedArray", "undefined", "unescape",
    "URIError", "WeakMap", "WeakRef", "WeakSet", "AggregateError", "Iterator",
})
_DIRECTIVE = re.compile(r"/\*\s*(globals?|exported)\s+([^*]*)\*/")
def _directives(source: str) -> tuple[dict[str, bool], set[str]]:
    """``/*global a:writable, b*/`` names (True: writable) and ``/* exported */`` names."""
    declared: dict[str, bool] = {}
    exported: set[str] = set()
    for m in _DIRECTIVE.finditer(source):
        for item in m.group(2).replace(",", " , ").split(","):
            name, _, mode = item.strip().partition(":")
            name = name.strip()
            if not name:
                continue
            if m.group(1) == "exported":
                exported.update(name.split())
            else:
                declared[name] = mode.strip() in ("writable", "true", "writeable")
    return declared, exported


class ImplicitGlobal(Rule):
    """A script declares or assigns a global variable without saying so.

    In a classic script (not an ES module, not CommonJS), top-level ``var`` and
    ``function`` declarations become properties of the global object, shared with every
    other script on the page: two scripts that both declare ``config`` overwrite each other.
    An assignment to a name declared nowhere creates a global too (in sloppy mode), usually by
    a typo or a forgotten ``let``. Writing to a built-in (``undefined = 1``, ``Object = x``)
    breaks every other script. Declare the variable, wrap the script in a function or make it
    a module, or assign to ``window.name`` to show the global is meant. ``/*global name*/``
    and ``/* exported name */`` comments declare intended globals (ESLint's convention).

    ``lexical_bindings``: also report top-level ``let``/``const``/``class`` of scripts
    (they do not go on the global object, but share one scope between scripts).
    """

    id = "RV104"
    slug = "implicit-global"
    principle = "no-hidden-state"
    language = "javascript"
    severity = Severity.MEDIUM
    message = "The script creates or writes a global variable implicitly."
    counterparts = {"eslint": "no-implicit-globals, no-global-assign"}
    options = {"lexical_bindings": False}
    tags = ("design", "hidden-state")
    VALID = [
        Valid("(function () {\n  var count = 0;\n  window.count = count;\n})();\n",
              path="example.js"),
        Valid("var config = {};\nexport default config;\n", path="example.mjs"),
        Valid("const total = 1;\nlet seen;\n", path="example.js"),
        Valid("/* exported init */\nfunction init() {}\n", path="example.js"),
    ]
    INVALID = [
        Invalid("var count = 0;\n", line=1, path="example.js"),
        Invalid("function init() {\n  configured = true;\n}\n", line=1, path="example.js"),
        Invalid("undefined = 1;\n", line=1, path="example.mjs"),
        Invalid("const total = 1;\n", line=1, path="example.js",
                options={"lexical_bindings": True}),
    ]

    def check(self, ctx: Any) -> Iterator[Finding]:
        from reviewer.rules._tsflow import declared_names  # not imported by a Python review
        declared_globals, exported = _directives(ctx.source)
        esm = ctx.language == "typescript" or ctx.path.endswith((".mjs", ".mts")) or bool(
            ctx.nodes("import_statement") or ctx.nodes("export_statement"))
        commonjs = ctx.path.endswith((".cjs", ".cts")) or _uses_commonjs(ctx)
        script = not esm and not commonjs
        local = declared_names(ctx)
        if script:
            yield from self._top_level(ctx, declared_globals, exported)
        for node, name in self._writes(ctx):
            if name in declared_globals:
                if not declared_globals[name] and name not in local:
                    yield ctx.report(self, node, f"'{name}' is a read-only global")
                continue
            if name in local:
                continue
            if name in BUILTINS:
                yield ctx.report(self, node, f"'{name}' is a read-only built-in global")
            elif not esm and not _strict(ctx, node):
                yield ctx.report(
                    self, node, f"assignment to undeclared '{name}' creates a global")

    def _top_level(self, ctx: Any, declared: dict[str, bool], exported: set[str]
                   ) -> Iterator[Finding]:
        from reviewer.rules._tsflow import pattern_names
        lexical: bool = self.settings["lexical_bindings"]
        for stmt in ctx.root.named_children:
            t = stmt.type
            names: list[Any] = []
            if t == "variable_declaration" or (lexical and t == "lexical_declaration"):
                for decl in stmt.named_children:
                    if decl.type == "variable_declarator":
                        names += pattern_names(decl.child_by_field_name("name"))
            elif t in ("function_declaration", "generator_function_declaration") or (
                    lexical and t == "class_declaration"):
                n = stmt.child_by_field_name("name")
                names += [n] if n is not None else []
            for n in names:
                name = ctx.text(n)
                if name in exported:
                    continue
                if declared.get(name):
                    continue
                what = "read-only global" if name in declared else "global variable"
                yield ctx.report(self, stmt, f"top-level declaration of '{name}' creates a"
                                             f" {what} in a script")

    def _writes(self, ctx: Any) -> Iterator[tuple[Any, str]]:
        """Plain writes (``=``, ``for (x in ...)``): they create a global when undeclared;
        ``+=`` and ``++`` of an undeclared name throw instead, and count for built-ins
        only."""
        from reviewer.rules._tsflow import pattern_names
        for node in ctx.nodes("assignment_expression", "for_in_statement"):
            left = node.child_by_field_name("left")
            if node.type == "for_in_statement" and node.child_by_field_name("kind") is not None:
                continue  # for (var x in ...) declares
            for n in pattern_names(left):
                yield node, ctx.text(n)
        for node in ctx.nodes("augmented_assignment_expression", "update_expression"):
            target = node.child_by_field_name("left") or node.child_by_field_name("argument")
            if target is not None and target.type == "identifier" and (
                    ctx.text(target) in BUILTINS):
                yield node, ctx.text(target)


def _uses_commonjs(ctx: Any) -> bool:
    """``require(...)``, ``module.exports`` or ``exports.x`` appear in the file."""
    src = ctx.source
    return "require(" in src or "module.exports" in src or "exports." in src


def _strict(ctx: Any, node: Any) -> bool:
    """Inside a class or a ``'use strict'`` function or file (undeclared writes throw)."""
    ancestors = list(ctx.ancestors(node))
    if any(a.type == "class_body" for a in ancestors):
        return True
    scopes = [a for a in ancestors if a.type in ("statement_block", "program")]
    for scope in scopes:
        if scope.type == "statement_block" and (
                scope.parent is None or scope.parent.type not in ctx.functions_types):
            continue
        for stmt in scope.named_children:
            if stmt.type != "expression_statement":
                break
            inner = stmt.named_children[0] if stmt.named_children else None
            if inner is None or inner.type != "string":
                break
            if ctx.text(inner)[1:-1] == "use strict":
                return True
    return False
