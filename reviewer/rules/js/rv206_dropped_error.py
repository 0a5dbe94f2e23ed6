"""RV206 for JavaScript and TypeScript: a ``catch`` that only logs where a result is promised.

The rule and its docs: reviewer/rules/rv206_dropped_error.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.languages.treesitter import walk
from reviewer.rules._tsflow import dotted
from reviewer.rules.base import Implementation, Invalid, Rule, Valid

_LOG_METHODS = frozenset({"log", "error", "warn", "warning", "info", "debug", "trace",
                          "exception", "fatal", "critical"})
# Declared result types that promise nothing (falling off the end returns what they allow).
_NO_RESULT = frozenset({"void", "undefined", "never", "any", "unknown", "Promise<void>",
                        "Promise<undefined>", "Promise<any>", "Promise<unknown>"})
# Function-like nodes whose end is no function's return (ESLint's measured pseudo-functions).
_NOT_CALLABLE = frozenset({"class_static_block", "field_definition", "public_field_definition"})
_ENDS = frozenset({"return_statement", "throw_statement"})
_LOOPS = frozenset({"for_statement", "for_in_statement", "while_statement", "do_statement"})


class DroppedErrorJS(Implementation):
    """A ``catch`` that only logs, in a function that returns a result on its other paths.

    ``try { return JSON.parse(text); } catch (err) { console.error(err); }`` hands the
    caller ``undefined`` when parsing fails: the error is logged where nobody acts on it,
    and the caller fails later on a value it never expected (the JavaScript form of Go's
    ``if err != nil { return nil }``). Reported when every statement of the ``catch`` is a
    log call (``console.*``, ``logger.error(...)``, ``log.warn(...)``), optionally
    followed by a bare ``return;``, and the function promises a result: a ``return`` with
    a value elsewhere in it, or a declared TypeScript return type other than ``void``,
    ``undefined``, ``any`` or ``Promise<void>``, and the ``catch`` falls through to the
    function's end (no later ``return``/``throw``). Return an explicit fallback value or
    rethrow (``throw new ParseError(text, {cause: err})``). A catch that logs and then
    returns a value, or a function that returns nothing, is fine. No automatic fix.
    """

    rule_id = "RV206"
    languages = ("javascript", "typescript")
    VALID = [
        Valid("function parse(text) {\n  try {\n    return JSON.parse(text);\n"
              "  } catch (err) {\n    console.error(err);\n    return null;\n  }\n}\n",
              path="example.js"),
        Valid("function save(row) {\n  try {\n    db.write(row);\n  } catch (err) {\n"
              "    logger.error('save failed', err);\n  }\n}\n", path="example.js"),
        Valid("function load(text) {\n  let value = DEFAULTS;\n  try {\n"
              "    value = JSON.parse(text);\n  } catch (err) {\n    console.warn(err);\n"
              "  }\n  return value;\n}\n", path="example.js"),
        Valid("function parse(text: string): void {\n  try {\n    use(JSON.parse(text));\n"
              "  } catch (err) {\n    console.error(err);\n  }\n}\n", path="example.ts"),
    ]
    INVALID = [
        Invalid("function parse(text) {\n  try {\n    return JSON.parse(text);\n"
                "  } catch (err) {\n    console.error(err);\n  }\n}\n", line=4,
                path="example.js"),
        Invalid("async function fetchUser(id: string): Promise<User> {\n  try {\n"
                "    const res = await api.get(id);\n    return res.data;\n"
                "  } catch (err) {\n    this.logger.error('fetch failed', err);\n"
                "    return;\n  }\n}\n", line=5, path="example.ts"),
        Invalid("function count(path: string): number {\n  try {\n"
                "    use(read(path));\n  } catch (e) {\n    log.warn(e);\n  }\n}\n",
                line=4, path="example.ts"),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        if "catch" not in ctx.source:
            return
        for clause in ctx.nodes("catch_clause"):
            body = clause.child_by_field_name("body")
            stmts = [c for c in (body.named_children if body is not None else [])
                     if c.type != "comment"]
            bare_return = bool(stmts) and stmts[-1].type == "return_statement" and not [
                c for c in stmts[-1].named_children if c.type != "comment"]
            logs = stmts[:-1] if bare_return else stmts
            if not logs or not all(_is_log(ctx, s) for s in logs):
                continue
            fn = ctx.enclosing_function(clause)
            if fn is None or fn.type in _NOT_CALLABLE or "generator" in fn.type:
                continue
            if not _promises_result(ctx, fn):
                continue
            try_stmt = clause.parent
            if try_stmt is None or _finally_ends(try_stmt):
                continue
            if not bare_return and not _falls_off(try_stmt, fn, ctx.functions_types):
                continue
            yield ctx.report(rule, clause, "the catch only logs, and the function then returns"
                                           " undefined where it returns a result otherwise:"
                                           " return a fallback value or rethrow")


def _is_log(ctx: Any, stmt: Any) -> bool:
    """``console.error(err);``, ``logger.warn(...)``, ``await this.log.error(...)``."""
    if stmt.type != "expression_statement" or not stmt.named_children:
        return False
    call = stmt.named_children[0]
    if call.type == "await_expression" and call.named_children:
        call = call.named_children[0]
    if call.type != "call_expression":
        return False
    parts = dotted(ctx, call.child_by_field_name("function")).split(".")
    if len(parts) < 2 or parts[-1] not in _LOG_METHODS:
        return False
    return parts[0] == "console" or any("log" in p.lower() for p in parts[:-1])


def _promises_result(ctx: Any, fn: Any) -> bool:
    """A declared result type, or a ``return <value>`` in the function's own body."""
    declared = fn.child_by_field_name("return_type")
    if declared is not None:
        text = "".join(ctx.text(declared).lstrip(":").split())
        return text not in _NO_RESULT and not text.endswith("|undefined") and "void" not in text
    body = fn.child_by_field_name("body")
    if body is None or body.type != "statement_block":
        return False
    return any(n.type == "return_statement" and any(c.type != "comment" for c in n.named_children)
               for n in walk(body, stop=ctx.functions_types))


def _finally_ends(try_stmt: Any) -> bool:
    """The ``finally`` block returns or throws (the catch's fall-through never happens)."""
    fin = try_stmt.child_by_field_name("finalizer")
    if fin is None:
        return False
    return any(n.type in _ENDS for n in walk(fin))


def _falls_off(node: Any, fn: Any, stop: frozenset[str]) -> bool:
    """Nothing after ``node`` up to the function's end returns or throws."""
    body = fn.child_by_field_name("body")
    while node is not None and node != body:
        sibling = node.next_named_sibling
        while sibling is not None:
            if sibling.type in _ENDS or any(n.type in _ENDS for n in walk(sibling, stop)):
                return False
            sibling = sibling.next_named_sibling
        node = node.parent
        if node is not None and node.type in _LOOPS:
            return False  # a retry loop: what follows the loop decides
    return node is not None and bool(node == body)
