"""The small data flow of the tree-sitter security rules: is a value a constant?

As for Python (reviewer/rules/_dataflow.py): a literal, a template or concatenation of
constants, an array, object or Go composite literal of constants, a lookup in a constant
(any key or index), or a name bound once to a constant (``const``/``let``/``var`` in JS, ``const``,
``:=``/``var`` in Go, in the same function or at the top of the file) is a constant; an
injection needs something that is not. In Go, a package-level name that another file of
the package declares is followed there, and the text of a ``strings.Builder`` that only
constants are written into is a constant too (reviewer/rules/_goflow.py). Everything else
(parameters, calls, fields) is not constant.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.languages.treesitter import TSContext
from reviewer.rules._tsbind import arguments, bindings

__all__ = ["arguments", "binding_value", "bindings", "callee_name", "declared_names", "dotted",
           "is_constant", "pattern_names", "string_value"]

Node = Any

_JS_LITERALS = frozenset({"string", "number", "true", "false", "null", "undefined", "regex"})
_GO_LITERALS = frozenset({
    "interpreted_string_literal", "raw_string_literal", "int_literal", "float_literal",
    "rune_literal", "true", "false", "nil", "imaginary_literal",
})
_JS_FUNCTIONS = ("function_declaration", "function_expression", "arrow_function",
                 "method_definition", "generator_function_declaration", "function")


def string_value(ctx: TSContext, node: Node | None) -> str | None:
    """The text of a string literal (quotes removed; templates without substitutions)."""
    if node is None:
        return None
    t = node.type
    if t in ("string", "interpreted_string_literal", "raw_string_literal"):
        raw = ctx.text(node)
        return raw[1:-1] if len(raw) >= 2 else ""
    if t == "template_string" and not any(
            c.type == "template_substitution" for c in node.named_children):
        return ctx.text(node)[1:-1]
    return None


def is_constant(ctx: TSContext, node: Node | None, depth: int = 0) -> bool:
    """True when ``node`` always has the same value (see the module docstring)."""
    if node is None or depth > 24:  # a guard against cycles; tables nest a few levels
        return False
    t = node.type
    if t in _JS_LITERALS or t in _GO_LITERALS:
        return True
    if t == "template_string":
        return all(
            is_constant(ctx, c.named_children[0] if c.named_children else None, depth + 1)
            for c in node.named_children if c.type == "template_substitution")
    if t in ("parenthesized_expression", "as_expression", "non_null_expression"):
        inner = node.named_children
        return bool(inner) and is_constant(ctx, inner[0], depth + 1)
    if t == "binary_expression":
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        return is_constant(ctx, left, depth + 1) and is_constant(ctx, right, depth + 1)
    if t == "identifier":
        value = binding_value(ctx, node)
        if value is not None:
            return is_constant(ctx, value, depth + 1)
        if ctx.family != "go":
            return False
        from reviewer.rules._goflow import package_constant  # the name, through the package

        found = package_constant(ctx, node)
        return found is not None and is_constant(found[0], found[1], depth + 1)
    if t == "call_expression" and ctx.family == "go":
        from reviewer.rules._goflow import buffer_writes

        writes = buffer_writes(ctx, node)
        return writes is not None and all(is_constant(ctx, w, depth + 1) for w in writes)
    parts = _constant_parts(node)
    return parts is not None and all(is_constant(ctx, p, depth + 1) for p in parts)


def _constant_parts(node: Node) -> list[Node] | None:
    """The parts that make ``node`` a constant when they all are (None: never constant).

    As in Python (reviewer/rules/_dataflow.py): a display of constants (JS arrays and
    objects, Go composite literals) is one, and so is a lookup in a constant, whatever the
    key or index (``commands[runtime.GOOS]``, ``args[1:]``): it can only give one of the
    constant values. A ternary is constant when both branches are.
    """
    t = node.type
    if t in ("array", "literal_value", "literal_element", "variadic_argument",
             "spread_element", "unary_expression"):
        return [c for c in node.named_children if c.type != "comment"]
    if t == "composite_literal":
        body = node.child_by_field_name("body")
        return [body] if body is not None else None
    if t == "keyed_element":  # the value; the key is a struct field's name or a map key
        kids = [c for c in node.named_children if c.type != "comment"]
        return kids[-1:] or None
    if t == "object":
        out: list[Node] = []
        for c in node.named_children:
            if c.type == "pair":
                out.append(c.child_by_field_name("value"))
            elif c.type == "shorthand_property_identifier":
                return None  # ({ cmd }): a name read under another node type
            elif c.type != "comment":
                out.append(c)
        return out
    if t == "subscript_expression":
        obj = node.child_by_field_name("object")
        return [obj] if obj is not None else None
    if t in ("index_expression", "slice_expression"):
        operand = node.child_by_field_name("operand")
        return [operand] if operand is not None else None
    if t == "ternary_expression":
        return [node.child_by_field_name("consequence"), node.child_by_field_name("alternative")]
    return None


def binding_value(ctx: TSContext, name: Node) -> Node | None:
    """The value a name is bound to, when it is bound exactly once in its function or file.

    JS: ``const``/``let``/``var x = v``; Go: ``const x = v``, ``x := v``, ``var x = v``.
    A name assigned again anywhere in the file, or a parameter, has no single value.
    The file's bindings are indexed once (:func:`bindings`).
    """
    values, reassigned = bindings(ctx)
    ident = ctx.text(name)
    found = values.get(ident)
    if found is None or len(found) != 1 or ident in reassigned:
        return None
    return found[0]


def callee_name(ctx: TSContext, call: Node) -> str:
    """``a.b.c`` for a call's callee (``a["b"]`` read as ``a.b``; '' when not a name)."""
    fn = call.child_by_field_name("function") or call.child_by_field_name("constructor")
    return dotted(ctx, fn)


def dotted(ctx: TSContext, node: Node | None) -> str:
    """``a.b.c`` for identifier/member chains, '' for anything else."""
    parts: list[str] = []
    while node is not None:
        t = node.type
        if t in ("identifier", "package_identifier", "field_identifier",
                 "property_identifier", "this", "type_identifier"):
            parts.append(ctx.text(node))
            break
        if t == "member_expression":
            prop = node.child_by_field_name("property")
            parts.append(ctx.text(prop))
            node = node.child_by_field_name("object")
        elif t == "subscript_expression":
            key = string_value(ctx, node.child_by_field_name("index"))
            if key is None:
                return ""
            parts.append(key)
            node = node.child_by_field_name("object")
        elif t == "selector_expression":
            parts.append(ctx.text(node.child_by_field_name("field")))
            node = node.child_by_field_name("operand")
        elif t == "parenthesized_expression" and node.named_children:
            node = node.named_children[-1]
            if node.type == "sequence_expression":  # (0, eval)
                node = node.named_children[-1] if node.named_children else None
        else:
            return ""
    return ".".join(reversed(parts))


_DECLARING = ("variable_declarator", "function_declaration", "generator_function_declaration",
              "class_declaration", "function_expression", "class", "formal_parameters",
              "catch_clause", "import_specifier", "namespace_import", "import_clause",
              "arrow_function")


def pattern_names(node: Node | None) -> Iterator[Node]:
    """The identifiers a JS binding or assignment pattern writes."""
    if node is None:
        return
    if node.type in ("identifier", "shorthand_property_identifier_pattern", "undefined"):
        yield node
        return
    if node.type in ("member_expression", "subscript_expression"):
        return
    for child in node.named_children:
        if child.type in ("pair_pattern", "pair"):
            yield from pattern_names(child.child_by_field_name("value"))
        elif child.type in ("assignment_pattern", "object_assignment_pattern"):
            yield from pattern_names(child.child_by_field_name("left"))
        elif child.type in ("required_parameter", "optional_parameter"):
            yield from pattern_names(child.child_by_field_name("pattern"))
        else:
            yield from pattern_names(child)


def declared_names(ctx: TSContext) -> set[str]:
    """Every name a JS file declares anywhere (variables, functions, classes, parameters)."""
    names: set[str] = set()
    for node in ctx.nodes(*_DECLARING):
        t = node.type
        if t == "variable_declarator":
            names.update(ctx.text(n) for n in pattern_names(node.child_by_field_name("name")))
        elif t in ("formal_parameters", "import_clause"):
            names.update(ctx.text(n) for n in pattern_names(node))
        elif t == "catch_clause":
            names.update(
                ctx.text(n) for n in pattern_names(node.child_by_field_name("parameter")))
        elif t == "arrow_function":
            p = node.child_by_field_name("parameter")
            if p is not None:
                names.add(ctx.text(p))
        elif t in ("function_expression", "class"):
            n = node.child_by_field_name("name")
            if n is not None:
                names.add(ctx.text(n))
        else:
            n = node.child_by_field_name("name") or (
                node.named_children[0] if node.named_children else None)
            if n is not None:
                names.add(ctx.text(n))
    return names
