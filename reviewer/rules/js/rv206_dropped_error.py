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
_HANDLERS = frozenset({"arrow_function", "function_expression", "function"})
# Calls whose callback's return value nobody reads (an arrow body handed to them is dropped).
_DROPS_RESULT = frozenset({"forEach", "on", "once", "addEventListener", "addListener",
                           "setTimeout", "setInterval", "setImmediate", "nextTick", "then",
                           "finally", "subscribe", "it", "test", "describe", "beforeEach",
                           "afterEach", "beforeAll", "afterAll", "before", "after"})


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
    returns a value, or a function that returns nothing, is fine. The promise form,
    ``.catch(err => console.error(err))`` whose handler only logs, is reported where the
    chain's value is used as a result: returned (also as an arrow's body), awaited and
    assigned or returned, or assigned to a variable that is read (other than by a bare
    ``await p;``): the rejection becomes a resolved ``undefined``. A fire-and-forget
    chain (``save(row).catch(e => console.error(e));``) is fine: logging is its handling.
    No automatic fix.
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
        Valid("function sync(rows) {\n  db.save(rows).then(done).catch(e => console.error(e));\n"
              "}\n", path="example.js"),
        Valid("async function main() {\n  await run().catch((err) => console.error(err));\n"
              "  return 0;\n}\n", path="example.js"),
        Valid("function loadUser(id) {\n  return api.get(id).catch((err) => {\n"
              "    console.error(err);\n    return null;\n  });\n}\n", path="example.js"),
        Valid("function flush(): Promise<void> {\n"
              "  return queue.drain().catch(e => log.warn(e));\n}\n", path="example.ts"),
        Valid("items.forEach(x => save(x).catch(e => console.error(e)));\n",
              path="example.js"),
        Valid("async function clean(names) {\n  await Promise.all(names.map(n =>\n"
              "    rm(n).catch(er => log.warn('cleanup', n, er))));\n}\n", path="example.js"),
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
        Invalid("function loadUser(id) {\n  return api.get(id)\n"
                "    .catch(err => console.error(err));\n}\n", line=3, path="example.js"),
        Invalid("async function config(path: string): Promise<Config> {\n"
                "  const text = await readFile(path).catch(function (e) { log.warn(e); });\n"
                "  return parse(text);\n}\n", line=2, path="example.ts"),
        Invalid("function loadAll(ids) {\n  return Promise.all(ids.map(id =>\n"
                "    api.get(id).catch(e => console.error(e))));\n}\n", line=3,
                path="example.js"),
        Invalid("const pending = fetchAll().catch((e) => {\n  logger.error(e);\n});\n"
                "export default pending;\n", line=1, path="example.js"),
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
        for call in ctx.nodes("call_expression"):
            prop = _catch_property(ctx, call)
            if prop is not None and _logs_only(ctx, call) and _result_used(ctx, call):
                yield ctx.report(rule, prop, "the .catch() handler only logs, and the chain's"
                                             " value is used: a rejection becomes a resolved"
                                             " undefined; return a fallback value or rethrow")


def _catch_property(ctx: Any, call: Any) -> Any:
    """The ``catch`` of ``promise.catch(handler)``, or None."""
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "member_expression":
        return None
    prop = fn.child_by_field_name("property")
    return prop if prop is not None and ctx.text(prop) == "catch" else None


def _logs_only(ctx: Any, call: Any) -> bool:
    """The handler's every statement is a log call (an optional bare ``return;`` last)."""
    args = call.child_by_field_name("arguments")
    named = [c for c in (args.named_children if args is not None else []) if c.type != "comment"]
    if len(named) != 1 or named[0].type not in _HANDLERS:
        return False
    body = named[0].child_by_field_name("body")
    if body is None:
        return False
    if body.type != "statement_block":
        return _is_log_call(ctx, body)
    stmts = [c for c in body.named_children if c.type != "comment"]
    if stmts and stmts[-1].type == "return_statement" and not [
            c for c in stmts[-1].named_children if c.type != "comment"]:
        stmts = stmts[:-1]
    return bool(stmts) and all(_is_log(ctx, s) for s in stmts)


def _outer(node: Any) -> tuple[Any, Any]:
    """The node's parent, past parentheses and ``.finally(...)`` (the value passes through)."""
    parent = node.parent
    while parent is not None:
        if parent.type == "parenthesized_expression":
            node, parent = parent, parent.parent
            continue
        if (parent.type == "member_expression" and parent.parent is not None
                and parent.parent.type == "call_expression"
                and parent.child_by_field_name("object") == node
                and _text_is(parent.child_by_field_name("property"), "finally")):
            node, parent = parent.parent, parent.parent.parent
            continue
        break
    return node, parent


def _text_is(node: Any, text: str) -> bool:
    """The node's source text is ``text``."""
    return node is not None and node.text is not None and bool(node.text.decode() == text)


def _result_used(ctx: Any, call: Any) -> bool:
    """The chain's value is returned, awaited into a result, or stored in a read variable."""
    node, parent = _outer(call)
    if parent is not None and parent.type == "await_expression":
        node, parent = _outer(parent)
        if parent is None:
            return False
        if parent.type == "return_statement":
            return _returns_result(ctx, parent)
        return parent.type in ("variable_declarator", "assignment_expression") and (
            parent.child_by_field_name("value") == node
            or parent.child_by_field_name("right") == node)
    if parent is None:
        return False
    if parent.type == "return_statement":
        return _returns_result(ctx, parent)
    if parent.type == "arrow_function" and parent.child_by_field_name("body") == node:
        return _callback_used(ctx, parent) and _returns_result(ctx, node)
    if parent.type == "array":
        return _result_used(ctx, parent)
    if parent.type == "arguments" and parent.parent is not None:
        return _result_used(ctx, parent.parent)  # flows into the call: used if its value is
    if parent.type == "variable_declarator" and parent.child_by_field_name("value") == node:
        return _read_later(ctx, parent.child_by_field_name("name"))
    if parent.type == "assignment_expression" and parent.child_by_field_name("right") == node:
        return _read_later(ctx, parent.child_by_field_name("left"))
    return False


def _returns_result(ctx: Any, node: Any) -> bool:
    """The function returning ``node`` declares no result-less type."""
    fn = ctx.enclosing_function(node)
    declared = fn.child_by_field_name("return_type") if fn is not None else None
    if declared is None:
        return True
    text = "".join(ctx.text(declared).lstrip(":").split())
    return text not in _NO_RESULT and "void" not in text


def _callback_used(ctx: Any, arrow: Any) -> bool:
    """The arrow's value is read: not a ``forEach``/``on``/``then`` callback, and a callback
    of ``map`` (or any other call) only where that call's own value is used."""
    args = arrow.parent
    call = args.parent if args is not None and args.type == "arguments" else None
    if call is None or call.type not in ("call_expression", "new_expression"):
        return True
    name = dotted(ctx, call.child_by_field_name("function") or call.child_by_field_name(
        "constructor")).split(".")[-1]
    return name not in _DROPS_RESULT and _result_used(ctx, call)


def _read_later(ctx: Any, target: Any) -> bool:
    """``target`` names a variable read elsewhere (not only by a bare ``await p;``)."""
    if target is None:
        return False
    if target.type != "identifier":
        return bool(target.type == "member_expression")
    name = ctx.text(target)
    scope = ctx.enclosing_function(target)
    root = scope.child_by_field_name("body") if scope is not None else None
    root = root if root is not None else ctx.root
    for ident in walk(root):
        if ident.type not in ("identifier", "shorthand_property_identifier") or ident == target:
            continue
        if ctx.text(ident) != name:
            continue
        _, parent = _outer(ident)
        if parent is not None and parent.type == "await_expression" and (
                parent.parent is not None and parent.parent.type == "expression_statement"):
            continue
        return True
    return False


def _is_log(ctx: Any, stmt: Any) -> bool:
    """``console.error(err);``, ``logger.warn(...)``, ``await this.log.error(...)``."""
    if stmt.type != "expression_statement" or not stmt.named_children:
        return False
    return _is_log_call(ctx, stmt.named_children[0])


def _is_log_call(ctx: Any, call: Any) -> bool:
    """``console.error(err)``, ``logger.warn(...)``, ``await this.log.error(...)``."""
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
