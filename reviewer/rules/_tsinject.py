"""Shell and SQL injection on tree-sitter trees (JS, TS, Go), with the small data flow of
reviewer/rules/_tsflow.py: a constant command or query is not an injection."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.languages.treesitter import walk
from reviewer.rules._goflow import package_value
from reviewer.rules._tsflow import arguments, binding_value, callee_name, is_constant
from reviewer.rules.base import Rule

Node = Any
_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "cmd", "cmd.exe", "powershell",
                     "pwsh", "/bin/sh", "/bin/bash", "/usr/bin/env"})
_GO_EXEC = {"exec.Command": 0, "exec.CommandContext": 1, "syscall.Exec": 0,
            "syscall.ForkExec": 0, "syscall.StartProcess": 0, "os.StartProcess": 0}
_JS_SHELL = frozenset({"exec", "execSync", "child_process.exec", "child_process.execSync",
                       "cp.exec", "cp.execSync", "childProcess.exec", "childProcess.execSync"})
_JS_SPAWN = frozenset({"spawn", "spawnSync", "execFile", "execFileSync", "child_process.spawn",
                       "child_process.spawnSync", "cp.spawn", "cp.spawnSync",
                       "childProcess.spawn", "childProcess.spawnSync"})
_SQL_METHODS = frozenset({"Query", "QueryRow", "Exec", "QueryContext", "QueryRowContext",
                          "ExecContext", "Prepare", "PrepareContext", "query", "execute",
                          "exec", "raw", "run", "all", "get", "prepare", "queryRaw",
                          "executeRaw", "$queryRawUnsafe", "$executeRawUnsafe"})
_SQL_WORDS = ("select ", "insert ", "update ", "delete ", "create ", "drop ", "alter ",
              "replace ", " where ", " from ", " into ", " values")


def shell_findings(rule: Rule, ctx: Any) -> Iterator[Finding]:
    """Processes started from non-constant input."""
    strict: bool = rule.settings["strict"]
    source = ctx.source
    if "xec" not in source and "spawn" not in source and "Process" not in source:
        return  # every candidate's name has one of these in it (exec, ForkExec, spawn...)
    for call in ctx.captured("shell", "call"):  # queries/{js,go}/shell.scm
        name = callee_name(ctx, call)
        args = arguments(call)
        if ctx.family == "go":
            if name not in _GO_EXEC:
                continue
            rest = args[_GO_EXEC[name]:]
            if strict or not all(is_constant(ctx, a) for a in rest):
                shell = bool(rest) and is_constant(ctx, rest[0]) and ctx.text(rest[0]).strip(
                    '"`') in _SHELLS
                yield ctx.report(rule, call, f"{name} runs a {'shell ' if shell else ''}"
                                             "command built from non-constant input")
            continue
        if name in _JS_SHELL and args and (strict or not is_constant(ctx, args[0])):
            yield ctx.report(rule, call, f"{name}() runs a shell command line built from"
                                         " non-constant input")
        elif name in _JS_SPAWN and args and _shell_option(ctx, args) and (
                strict or not all(is_constant(ctx, a) for a in args[:2])):
            yield ctx.report(rule, call, f"{name}(..., {{shell: true}}) runs a shell command"
                                         " line built from non-constant input")


def _shell_option(ctx: Any, args: list[Node]) -> bool:
    for a in args[1:]:
        if a.type == "object":
            for pair in a.named_children:
                if pair.type == "pair" and ctx.text(pair.child_by_field_name("key")) == "shell":
                    value = pair.child_by_field_name("value")
                    return value is not None and value.type != "false"
    return False


def sql_findings(rule: Rule, ctx: Any) -> Iterator[Finding]:
    """Queries built by concatenation, templates or Sprintf and passed to a query call.

    Every finding needs SQL text (:func:`_sqlish`): a JS or TS file whose text has none of
    the SQL words is skipped unread, a Go file is then only asked about names another file
    of its package declares (:func:`_appended`); the query calls are found by the shipped
    query ``queries/{js,go}/sql.scm`` (matching in C), not by reading every call.
    """
    strict: bool = rule.settings["strict"]
    lowered = ctx.source.lower()
    sql_text = any(w in lowered for w in _SQL_WORDS)
    if not sql_text and ctx.family != "go":
        return
    for call in ctx.captured("sql", "call"):
        name = callee_name(ctx, call)
        method = name.split(".")[-1]
        if "." not in name or method not in _SQL_METHODS:
            continue
        args = arguments(call)
        index = 1 if method.endswith("Context") else 0
        if index >= len(args):
            continue
        query = args[index]
        owner = ctx  # the file that holds the query's text
        if not sql_text and query.type != "identifier":
            continue
        if query.type == "identifier":
            if _appended(ctx, query, strict):
                yield ctx.report(rule, call, f"{name}() gets SQL built from non-constant"
                                             " values; pass them as parameters")
                continue
            bound = binding_value(ctx, query)
            owner = ctx
            if bound is None and ctx.family == "go":
                found = package_value(ctx, query)
                if found is not None:
                    owner, bound = found
            if bound is not None:
                query = bound
            elif not sql_text:
                continue
        if _built_query(owner, query, strict):
            yield ctx.report(rule, call, f"{name}() gets SQL built from non-constant values;"
                                         " pass them as parameters")


def _appended(ctx: Any, name: Node, strict: bool) -> bool:
    """``query += x`` (or ``query = query + x``) with a non-constant ``x``, for a name
    bound to SQL text.

    Only the appends to the declaration the query call sees count: a ``query += x`` in an
    inner block that declares its own ``query`` is another variable. A Go name that
    another file of the package declares is looked up there, with that file's appends."""
    decls = _append_index(ctx)[0]
    ident = ctx.text(name)
    first = _visible(decls.get(ident, []), name)
    if first is None and ctx.family == "go" and ident not in decls:
        found = package_value(ctx, name)
        if found is not None:
            other, value = found
            spec = _spec_of(value)
            return spec is not None and _appends_to(other, ident, spec, strict)
        return False
    return first is not None and _appends_to(ctx, ident, first, strict)


def _spec_of(value: Node) -> Node | None:
    node = value.parent
    while node is not None and node.type not in ("var_spec", "const_spec",
                                                 "short_var_declaration"):
        node = node.parent
    return node


def _appends_to(ctx: Any, ident: str, first: Node, strict: bool) -> bool:
    decls, appends = _append_index(ctx)
    if not appends.get(ident) or not _sqlish(ctx, first):
        return False
    for aug, values in appends[ident]:
        if _visible(decls[ident], aug) != first:
            continue
        if strict or not all(_sql_safe(ctx, v) for v in values):
            return True
    return False


# Nodes whose children form a scope of their own (a declaration there is not seen outside).
_SCOPES = frozenset({
    "block", "statement_block", "source_file", "program", "if_statement", "for_statement",
    "for_in_statement", "expression_switch_statement", "type_switch_statement",
    "select_statement", "expression_case", "default_case", "type_case", "communication_case",
    "switch_case", "switch_default", "function_declaration", "method_declaration",
    "func_literal", "function_expression", "arrow_function", "method_definition",
})


def _scope(node: Node) -> Node | None:
    parent = node.parent
    while parent is not None and parent.type not in _SCOPES:
        parent = parent.parent
    return parent


def _visible(decls: list[Node], use: Node) -> Node | None:
    """The declaration (of ``decls``, in document order) that ``use`` sees: the last one
    before it whose scope holds it."""
    seen: Node | None = None
    for decl in decls:
        if decl.start_byte >= use.start_byte:
            break
        scope = _scope(decl)
        if scope is None or scope.start_byte <= use.start_byte < scope.end_byte:
            seen = decl
    return seen


_Appends = dict[str, list[tuple[Node, list[Node]]]]


def _append_index(ctx: Any) -> tuple[dict[str, list[Node]], _Appends]:
    """Per name: its declarations, and its appends (``x += v``, ``x = x + v``) with the
    values appended (built once per file)."""
    cached: tuple[dict[str, list[Node]], _Appends] | None = ctx.memo.get("appends")
    if cached is not None:
        return cached
    decls: dict[str, list[Node]] = {}
    for decl in ctx.nodes("short_var_declaration", "variable_declarator", "var_spec"):
        decls.setdefault(ctx.text(decl.child_by_field_name("left")
                                  or decl.child_by_field_name("name")), []).append(decl)
    appends: _Appends = {}
    for aug in ctx.nodes("assignment_statement", "augmented_assignment_expression",
                         "assignment_expression"):
        left = aug.child_by_field_name("left")
        op = aug.child_by_field_name("operator")
        right = aug.child_by_field_name("right")
        if left is None or right is None:
            continue
        name = ctx.text(left)
        if op is not None and op.type == "+=":
            values = right.named_children if right.type == "expression_list" else [right]
        elif right.type == "binary_expression" or (
                right.type == "expression_list" and len(right.named_children) == 1):
            terms = _sum_terms(right if right.type == "binary_expression"
                               else right.named_children[0])
            if len(terms) < 2 or ctx.text(terms[0]) != name:
                continue
            values = terms[1:]  # x = x + v
        else:
            continue
        appends.setdefault(name, []).append((aug, values))
    ctx.memo["appends"] = (decls, appends)
    return decls, appends


def _sum_terms(node: Node) -> list[Node]:
    """The terms of ``a + b + c`` from the left ([node] when it is no sum)."""
    if node.type == "binary_expression":
        op = node.child_by_field_name("operator")
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if op is not None and op.type == "+" and left is not None and right is not None:
            return [*_sum_terms(left), right]
    return [node]


# Functions that quote a value for SQL (lib/pq, pgx): what they return cannot end the
# identifier or literal it is put in.
_SQL_QUOTERS = frozenset({"QuoteIdentifier", "QuoteLiteral"})


def _sql_safe(ctx: Any, node: Node | None) -> bool:
    """A constant, a value quoted for SQL, or a concatenation of those."""
    if node is None:
        return False
    if node.type == "binary_expression":
        op = node.child_by_field_name("operator")
        if op is not None and op.type == "+":
            return _sql_safe(ctx, node.child_by_field_name("left")) and _sql_safe(
                ctx, node.child_by_field_name("right"))
    if node.type == "parenthesized_expression" and node.named_children:
        return _sql_safe(ctx, node.named_children[0])
    if node.type == "call_expression" and callee_name(ctx, node).split(".")[-1] in _SQL_QUOTERS:
        return True
    return is_constant(ctx, node)


# Format verbs that print numbers or booleans only: no quote can come out of them.
_SAFE_VERBS = frozenset("dboxXeEfFgGtcU")
_VERB = re.compile(r"%[-+# 0]*\d*(?:\.\d+)?([a-zA-Z%])")


def _built_query(ctx: Any, node: Node, strict: bool) -> bool:
    """SQL text formatted from values that are not all constant."""
    t = node.type
    if t == "call_expression":
        name = callee_name(ctx, node)
        if name in ("fmt.Sprintf", "util.format", "format"):
            args = arguments(node)
            if not args or not _sqlish(ctx, args[0]):
                return False
            fmt = ctx.text(args[0])
            verbs = [v for v in _VERB.findall(fmt) if v != "%"]
            if verbs and all(v in _SAFE_VERBS for v in verbs) and not strict:
                return False  # only numbers are formatted in (gosec G201 agrees)
            return strict or not all(_sql_safe(ctx, a) for a in args[1:])
        return False
    if t == "binary_expression":
        op = node.child_by_field_name("operator")
        if op is None or op.type != "+":
            return False
        return _sqlish(ctx, node) and (strict or not _sql_safe(ctx, node))
    if t == "template_string":
        return _sqlish(ctx, node) and any(
            c.type == "template_substitution" for c in node.named_children) and (
            strict or not is_constant(ctx, node))
    return False


def _sqlish(ctx: Any, node: Node, depth: int = 0) -> bool:
    """The text looks like SQL (names in it followed to their single constant value)."""
    memo: dict[tuple[int, int, str], bool] = ctx.memo.setdefault("sqlish", {})
    key = (node.start_byte, node.end_byte, node.type)
    found = memo.get(key)
    if found is None:
        found = _sqlish_uncached(ctx, node, depth)
        if found or depth == 0:  # a miss deeper down may be the depth limit's
            memo[key] = found
    return found


def _sqlish_uncached(ctx: Any, node: Node, depth: int) -> bool:
    text = ctx.text(node).lower()
    if any(w in text for w in _SQL_WORDS):
        return True
    if depth > 3:
        return False
    for ident in [node] if node.type == "identifier" else walk(node):
        if ident.type == "identifier":
            value = binding_value(ctx, ident)
            if value is not None and _sqlish(ctx, value, depth + 1):
                return True
    return False
