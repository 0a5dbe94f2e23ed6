"""Size and shape of JavaScript, TypeScript and Go functions, measured on tree-sitter trees.

One pass per function, not entering nested functions (they are measured on their own), as
ESLint's ``max-statements``/``complexity``/``max-params``/``max-depth`` and gocyclo count:

- statements: the statements of every block of the function (ESLint counts ``{}`` block
  bodies only, so a ``switch`` case's statements are not counted; Go: every block);
- complexity: 1 + each ``if``, loop, ``catch``, non-default ``case``, ternary, ``&&``/``||``/
  ``??`` (and their assignment forms), default value, optional chain ``?.``; Go: ``if``,
  ``for``, non-default ``case`` (of ``switch``, type switch and ``select``), ``&&``, ``||``;
- parameters (TypeScript's ``this: void`` is not one; Go ``a, b int`` are two);
- nesting: the control statements past the limit (``else if`` is not deeper);
- returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from reviewer.findings import Finding
from reviewer.languages.treesitter import TSContext
from reviewer.rules.base import Rule

Node = Any

_JS_BRANCHES = frozenset({
    "if_statement", "ternary_expression", "for_statement", "for_in_statement",
    "while_statement", "do_statement", "catch_clause", "switch_case", "assignment_pattern",
    "optional_chain", "object_assignment_pattern",
})
_JS_LOGICAL = frozenset({"&&", "||", "??", "&&=", "||=", "??="})
_GO_BRANCHES = frozenset({
    "if_statement", "for_statement", "expression_case", "type_case", "communication_case",
})
_JS_NESTING = frozenset({
    "if_statement", "switch_statement", "try_statement", "do_statement", "while_statement",
    "with_statement", "for_statement", "for_in_statement",
})
_GO_NESTING = frozenset({
    "if_statement", "for_statement", "expression_switch_statement", "type_switch_statement",
    "select_statement",
})
_FIELDS = frozenset({"field_definition", "public_field_definition"})
# Nodes that count for no measure and hold none that does: the walk does not visit them.
_LEAVES = frozenset({
    "identifier", "property_identifier", "shorthand_property_identifier",
    "shorthand_property_identifier_pattern", "private_property_identifier",
    "statement_identifier", "type_identifier", "predefined_type", "number", "string",
    "string_fragment", "escape_sequence", "regex", "this", "super", "true", "false", "null",
    "undefined", "comment", "hash_bang_line", "field_identifier", "package_identifier",
    "label_name", "interpreted_string_literal", "raw_string_literal", "int_literal",
    "float_literal", "imaginary_literal", "rune_literal", "nil", "iota",
})
_JS_BLOCKS = frozenset({"statement_block", "class_static_block"})
_GO_BLOCKS = frozenset({"statement_list"})


@dataclass
class Measure:
    """What one function measures."""

    statements: int = 0
    complexity: int = 1
    returns: int = 0
    too_deep: list[tuple[Node, int]] = field(default_factory=list)  # (statement, depth)


def parameters(ctx: TSContext, fn: Node, count_void_this: bool = False) -> int:
    """How many parameters a function declares (TypeScript's ``this: void`` only with
    ``count_void_this``, as typescript-eslint's max-params)."""
    params = fn.child_by_field_name("parameters")
    if params is None:  # `x => x`
        return 1 if fn.child_by_field_name("parameter") is not None else 0
    count = 0
    for p in params.named_children:
        if p.type == "comment":
            continue
        if ctx.family == "go":
            if p.type == "parameter_declaration":
                names = p.children_by_field_name("name")
                count += max(1, len(names))
            else:
                count += 1
            continue
        if p.type in ("required_parameter", "optional_parameter"):
            pattern = p.child_by_field_name("pattern")
            annotation = ctx.text(p.child_by_field_name("type")).lstrip(": ").strip()
            if (pattern is not None and ctx.text(pattern) == "this" and annotation == "void"
                    and not count_void_this):
                continue
        count += 1
    return count


def measure(ctx: TSContext, fn: Node, max_depth: int | None = None) -> Measure:
    """One function's measures, computed once per file and function.

    ``too_deep`` holds every control statement with its depth; ``max_depth`` keeps those
    nested past it.
    """
    key = fn.id
    m = ctx.measures.get(key)
    if m is None:
        m = ctx.measures[key] = _measure(ctx, fn)
    if max_depth is None:
        return m
    return Measure(m.statements, m.complexity, m.returns,
                   [(n, d) for n, d in m.too_deep if d > max_depth])


def _measure(ctx: TSContext, fn: Node) -> Measure:
    go = ctx.family == "go"
    branches = _GO_BRANCHES if go else _JS_BRANCHES
    nesting = _GO_NESTING if go else _JS_NESTING
    blocks = _GO_BLOCKS if go else _JS_BLOCKS
    functions = ctx.functions_types
    m = Measure()
    body = fn if fn.type in ("program", "source_file") else fn.child_by_field_name(
        "value" if fn.type in _FIELDS else "body")
    if body is None:
        return m
    # (node, depth of the control statements around it)
    stack: list[tuple[Node, int]] = [(body, 0)]
    if body.type in functions and body != fn:  # `x = () => ...`: the arrow is measured alone
        return m
    if not go:  # default values of parameters count for complexity
        params = fn.child_by_field_name("parameters")
        if params is not None:
            stack.append((params, 0))
    while stack:
        node, depth = stack.pop()
        t = node.type
        if t in blocks and not (node == body and fn.type == "class_static_block"):
            # (ESLint counts block bodies; a static block's own body is not one)
            m.statements += sum(1 for c in node.named_children if c.type != "comment")
        elif t in branches:
            if not (t == "switch_case" and node.child_by_field_name("value") is None):
                m.complexity += 1
        elif t in ("binary_expression", "augmented_assignment_expression"):
            op = node.child_by_field_name("operator")
            if op is not None and op.type in _JS_LOGICAL:
                m.complexity += 1
        elif t == "return_statement":
            m.returns += 1
        if t in nesting:
            parent = node.parent
            else_if = parent is not None and (
                parent.type == "else_clause"
                or (go and parent.type == "if_statement"
                    and parent.child_by_field_name("alternative") == node))
            if not else_if:
                depth += 1
                m.too_deep.append((node, depth))
        for child in node.named_children:
            ct = child.type
            if ct not in functions and ct not in _LEAVES:
                stack.append((child, depth))
    return m


def function_head(ctx: TSContext, fn: Node) -> Node:
    """Where a function's findings go: its name when on its first line, else itself."""
    name = fn.child_by_field_name("name")
    if name is not None and name.start_point[0] == fn.start_point[0]:
        return name
    return fn


def describe(ctx: TSContext, fn: Node) -> str:
    """``function 'f'``, ``method 'm'``, ``arrow function``..."""
    name = ctx.function_name(fn)
    if fn.type in ("method_definition", "method_declaration"):
        kind = "method"
    elif fn.type in _FIELDS:
        kind = "class field initialiser"
    elif fn.type == "class_static_block":
        kind = "class static block"
    elif fn.type == "arrow_function":
        kind = "arrow function"
    else:
        kind = "function"
    return f"{kind} '{name}'" if name else kind


def report_function(ctx: TSContext, rule: Rule, fn: Node, message: str) -> Finding:
    """A whole-function finding on the function's head."""
    span = ctx.span(function_head(ctx, fn))
    scope = (fn.start_point[0] + 1, fn.end_point[0] + 1)
    return ctx.report(rule, span, message, scope=scope, symbol_of=fn)


def over(ctx: TSContext, rule: Rule, option: str, what: str, value_of: str,
         skip: Iterable[Node] = ()) -> Iterator[Finding]:
    """Findings for every function whose measure ``value_of`` is above ``option``.

    ``what`` is the message after the function's name, with ``{value}`` in it; the
    functions in ``skip`` are not reported.
    """
    limit: int = rule.settings[option]
    skipped = {(n.start_byte, n.end_byte, n.type) for n in skip}
    for fn in ctx.functions():
        if skipped and (fn.start_byte, fn.end_byte, fn.type) in skipped:
            continue
        if fn.type in _FIELDS and fn.child_by_field_name("value") is None:
            continue
        if value_of == "statements" and fn.type == "class_static_block":
            continue  # ESLint's max-statements measures static blocks apart, never reports them
        if value_of == "parameters":
            value = parameters(ctx, fn, bool(rule.settings.get("count_void_this", False)))
        else:
            value = getattr(measure(ctx, fn), value_of)
        if value > limit:
            yield report_function(
                ctx, rule, fn, f"{describe(ctx, fn)} {what.format(value=value)} (max {limit})")
