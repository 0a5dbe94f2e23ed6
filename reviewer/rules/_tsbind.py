"""The bindings of a tree-sitter file (JS, TS, Go), indexed once: what
reviewer/rules/_tsflow.py's data flow and reviewer/rules/_goflow.py's package look-ups
read (a module of its own, so that neither imports the other)."""

from __future__ import annotations

from typing import Any

from reviewer.languages.treesitter import TSContext

Node = Any


def bindings(ctx: TSContext) -> tuple[dict[str, list[Node | None]], set[str]]:
    """Every name's bound values in the file, and the names assigned again (built once)."""
    cached: tuple[dict[str, list[Node | None]], set[str]] | None = ctx.memo.get("bindings")
    if cached is not None:
        return cached
    values: dict[str, list[Node | None]] = {}
    reassigned: set[str] = set()
    if ctx.family == "js":
        for decl in ctx.nodes("variable_declarator"):
            n = decl.child_by_field_name("name")
            if n is not None and n.type == "identifier":
                values.setdefault(ctx.text(n), []).append(decl.child_by_field_name("value"))
        for assign in ctx.nodes("assignment_expression", "augmented_assignment_expression"):
            left = assign.child_by_field_name("left")
            if left is not None:
                reassigned.add(ctx.text(left))
    else:
        for spec in ctx.nodes("const_spec", "var_spec", "short_var_declaration"):
            if spec.type == "short_var_declaration":
                names = _go_list(spec.child_by_field_name("left"))
                bound = _go_list(spec.child_by_field_name("right"))
            else:
                names = spec.children_by_field_name("name")
                bound = _go_list(spec.child_by_field_name("value"))
            for i, n in enumerate(names):
                values.setdefault(ctx.text(n), []).append(bound[i] if i < len(bound) else None)
        for assign in ctx.nodes("assignment_statement"):
            reassigned.update(ctx.text(n) for n in _go_list(assign.child_by_field_name("left")))
    ctx.memo["bindings"] = (values, reassigned)
    return values, reassigned


def _go_list(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if node.type in ("expression_list", "identifier_list"):
        return [c for c in node.named_children if c.type != "comment"]
    return [node]


def arguments(call: Node) -> list[Node]:
    """A call's argument nodes (comments left out)."""
    args = call.child_by_field_name("arguments")
    if args is None:
        return []
    return [a for a in args.named_children if a.type != "comment"]
