"""RV102 on tree-sitter trees: a function rebinds a module-level (package-level) variable.

JS/TS: a top-level ``let``/``var`` assigned (``=``, ``+=``, ``++``) inside a function.
Go: a package-level ``var`` assigned inside a function other than ``init``. A name the
function (or a function around it) declares itself is its own variable, not the module's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.languages.treesitter import walk
from reviewer.rules._tsflow import pattern_names
from reviewer.rules.base import Rule

Node = Any


def _module_vars(ctx: Any) -> set[str]:
    names: set[str] = set()
    for stmt in ctx.root.named_children:
        if stmt.type == "export_statement":
            stmt = stmt.child_by_field_name("declaration") or stmt
        if ctx.family == "go" and stmt.type == "var_declaration":
            for spec in walk(stmt):
                if spec.type == "var_spec":
                    names.update(ctx.text(n) for n in spec.children_by_field_name("name"))
        elif stmt.type == "variable_declaration" or (
                stmt.type == "lexical_declaration" and ctx.text(stmt).startswith("let")):
            for decl in stmt.named_children:
                if decl.type == "variable_declarator":
                    names.update(ctx.text(n)
                                 for n in pattern_names(decl.child_by_field_name("name")))
    return names


def _local(ctx: Any, fn: Node, name: str) -> bool:
    """``fn`` declares ``name`` itself (a parameter or a variable)."""
    params = fn.child_by_field_name("parameters") or fn.child_by_field_name("parameter")
    if params is not None and name in {ctx.text(n) for n in walk(params)
                                       if n.type == "identifier"} | {ctx.text(params)}:
        return True
    body = fn.child_by_field_name("body")
    if body is None:
        return False
    for node in walk(body, stop=ctx.functions_types):
        if node.type == "variable_declarator" and name in {
                ctx.text(n) for n in pattern_names(node.child_by_field_name("name"))}:
            return True
        if node.type == "short_var_declaration" and name in {
                ctx.text(n) for n in node.child_by_field_name("left").named_children}:
            return True
        if node.type == "var_spec" and name in {
                ctx.text(n) for n in node.children_by_field_name("name")}:
            return True
    return False


def state_findings(rule: Rule, ctx: Any) -> Iterator[Finding]:
    """Every function-level write to a module-level variable."""
    names = _module_vars(ctx)
    if not names:
        return
    kinds = (("assignment_statement", "inc_statement", "dec_statement") if ctx.family == "go"
             else ("assignment_expression", "augmented_assignment_expression",
                   "update_expression"))
    for node in ctx.nodes(*kinds):
        target = (node.child_by_field_name("left") or node.child_by_field_name("argument")
                  or (node.named_children[0] if node.named_children else None))
        targets = (target.named_children if target is not None
                   and target.type == "expression_list" else [target])
        for t in targets:
            if t is None or t.type != "identifier" or ctx.text(t) not in names:
                continue
            name = ctx.text(t)
            fns = [a for a in ctx.ancestors(node) if a.type in ctx.functions_types]
            if not fns or any(_local(ctx, f, name) for f in fns):
                continue
            if ctx.family == "go" and ctx.function_name(fns[-1]) == "init":
                continue
            yield ctx.report(rule, node, f"the function rebinds module-level '{name}':"
                                         " pass it in and return the result, or own it in"
                                         " an object")
