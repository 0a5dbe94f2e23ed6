"""RV601 for JavaScript and TypeScript.

The rule and its docs: reviewer/rules/rv601_eval_exec.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsflow import arguments, callee_name, declared_names, dotted, is_constant
from reviewer.rules.base import Implementation, Invalid, Rule, Valid

_GLOBALS = ("window", "globalThis", "global", "self")
_EVAL = frozenset({"eval", *(f"{g}.eval" for g in _GLOBALS)})
_FUNCTION = frozenset({"Function", *(f"{g}.Function" for g in _GLOBALS),
                       "Function.call", "Function.apply", "Function.bind"})
_TIMERS = frozenset({
    name if not g else f"{g}.{name}"
    for name in ("setTimeout", "setInterval", "execScript", "setImmediate")
    for g in ("", *_GLOBALS)
})

_WORDS = ("eval", "Function", "setTimeout", "setInterval", "execScript", "setImmediate")


class EvalJS(Implementation):
    """``eval``, ``new Function`` and ``setTimeout``/``setInterval`` with a string.

    As in Python, a constant string is not an injection: only non-constant code is reported
    unless ``strict`` is on (ESLint's no-eval/no-new-func report every call; with
    ``strict = true`` so does this rule). A timer given a function is fine either way.
    """

    rule_id = "RV601"
    languages = ("javascript", "typescript")
    VALID = [
        Valid("setTimeout(() => tick(), 10);\n", path="example.js"),
        Valid('const answer = eval("6 * 7");\n', path="example.js"),
        Valid("function run(code: string) {\n  return obj.eval(code);\n}\n", path="example.ts"),
    ]
    INVALID = [
        Invalid("function run(code) {\n  return eval(code);\n}\n", line=2, path="example.js"),
        Invalid('setTimeout("tick(" + n + ")", 10);\n', line=1, path="example.js"),
        Invalid("const f = new Function('a', body);\n", line=1, path="example.ts"),
        Invalid('eval("6 * 7");\n', line=1, path="example.ts", options={"strict": True}),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        strict: bool = rule.settings["strict"]
        if not any(w in ctx.source for w in _WORDS):
            return  # every candidate's callee has one of these names in it
        candidates = ctx.captured("eval", "call")  # queries/js/eval.scm
        local = declared_names(ctx) if candidates or (strict and "eval" in ctx.source) else set()
        called: set[Any] = set()
        for call in candidates:
            name = _global_name(callee_name(ctx, call))
            if name.split(".")[0] in local:
                continue  # a local function or variable of that name, not the global
            called.add(call.child_by_field_name("function"))
            args = arguments(call)
            if name in _EVAL:
                if args and (strict or not is_constant(ctx, args[0])):
                    yield ctx.report(rule, call, f"{name}() runs a string as code")
            elif name in _FUNCTION:
                if strict or not all(is_constant(ctx, a) for a in args):
                    yield ctx.report(
                        rule, call, "new Function() compiles a string into code (an eval)")
            elif name in _TIMERS and args and _stringish(ctx, args[0]) and (
                    strict or not is_constant(ctx, args[0])):
                yield ctx.report(
                    rule, call, f"{name}() with a string runs it as code; pass a function")

        if strict and "eval" not in local:  # eval passed on or aliased: `f(eval)`
            for ident in ctx.nodes("identifier", "member_expression"):
                if ident in called or ident.parent in called:
                    continue
                if _global_name(dotted(ctx, ident)) in _EVAL and (
                        ident.parent is None or ident.parent.type != "member_expression"):
                    yield ctx.report(rule, ident, "eval is taken as a value (an alias of eval)")


def _global_name(name: str) -> str:
    """``window.window.eval`` and ``this.eval`` read as ``window.eval``."""
    parts = name.split(".")
    if parts and parts[0] == "this" and len(parts) == 2:
        parts[0] = "globalThis"
    while len(parts) > 2 and parts[0] in _GLOBALS and parts[1] in _GLOBALS:
        parts.pop(0)
    return ".".join(parts)


def _stringish(ctx: Any, node: Any) -> bool:
    """A string literal, template, or a ``+`` with a string in it."""
    t = node.type
    if t in ("string", "template_string"):
        return True
    if t == "binary_expression":
        op = node.child_by_field_name("operator")
        if op is not None and op.type == "+":
            return _stringish(ctx, node.child_by_field_name("left")) or _stringish(
                ctx, node.child_by_field_name("right"))
    if t == "parenthesized_expression" and node.named_children:
        return _stringish(ctx, node.named_children[0])
    return False
