"""Shell and SQL injection on tree-sitter trees (JS, TS, Go), with the small data flow of
reviewer/rules/_tsflow.py: a constant command or query is not an injection."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.languages.treesitter import walk
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

    Every finding needs SQL text somewhere in the file (:func:`_sqlish`): a file whose
    text has none of the SQL words is skipped unread; the query calls are found by the
    shipped query ``queries/{js,go}/sql.scm`` (matching in C), not by reading every call.
    """
    strict: bool = rule.settings["strict"]
    lowered = ctx.source.lower()
    if not any(w in lowered for w in _SQL_WORDS):
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
        if query.type == "identifier":
            if _appended(ctx, query, strict):
                yield ctx.report(rule, call, f"{name}() gets SQL built from non-constant"
                                             " values; pass them as parameters")
                continue
            bound = binding_value(ctx, query)
            if bound is not None:
                query = bound
        if _built_query(ctx, query, strict):
            yield ctx.report(rule, call, f"{name}() gets SQL built from non-constant values;"
                                         " pass them as parameters")


def _appended(ctx: Any, name: Node, strict: bool) -> bool:
    """``query += x`` with a non-constant ``x``, for a name first bound to SQL text."""
    first_bound, appends = _append_index(ctx)
    ident = ctx.text(name)
    first = first_bound.get(ident)
    if first is None or not appends.get(ident) or not _sqlish(ctx, first):
        return False
    for aug in appends[ident]:
        right = aug.child_by_field_name("right")
        values = right.named_children if right is not None and right.type == "expression_list" \
            else [right]
        if strict or not all(is_constant(ctx, v) for v in values):
            return True
    return False


def _append_index(ctx: Any) -> tuple[dict[str, Node], dict[str, list[Node]]]:
    """Per name: its last declaration, and its ``+=`` assignments (built once per file)."""
    cached: tuple[dict[str, Node], dict[str, list[Node]]] | None = ctx.memo.get("appends")
    if cached is not None:
        return cached
    first: dict[str, Node] = {}
    for decl in ctx.nodes("short_var_declaration", "variable_declarator", "var_spec"):
        first[ctx.text(decl.child_by_field_name("left") or decl.child_by_field_name("name"))
              ] = decl
    appends: dict[str, list[Node]] = {}
    for aug in ctx.nodes("assignment_statement", "augmented_assignment_expression"):
        left = aug.child_by_field_name("left")
        op = aug.child_by_field_name("operator")
        if left is not None and op is not None and op.type == "+=":
            appends.setdefault(ctx.text(left), []).append(aug)
    ctx.memo["appends"] = (first, appends)
    return first, appends


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
            return strict or not all(is_constant(ctx, a) for a in args[1:])
        return False
    if t == "binary_expression":
        op = node.child_by_field_name("operator")
        if op is None or op.type != "+":
            return False
        return _sqlish(ctx, node) and (strict or not is_constant(ctx, node))
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
