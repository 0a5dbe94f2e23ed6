"""Go names the file alone does not bind, followed through the package
(reviewer/rules/_gopackage.py), for :func:`reviewer.rules._tsflow.is_constant` (which
decides on the nodes found here).

A package-level ``const``/``var`` declared once in another file of the package, and
assigned nowhere in the package, has that file's value (``const table = "users"`` in
``names.go``, ``"SELECT * FROM " + table`` in ``db.go``); RV603 also reads the appends to
such a name there (:func:`package_value`).

The text of a ``strings.Builder`` or ``bytes.Buffer`` that only constants are written
into is made of constants (:func:`buffer_writes`).

Parameters stay non-constant even when every call in the package passes a constant: the
reviewer reviews a change, and a function's callers are what changes next (Python's
data flow, reviewer/rules/_dataflow.py, does the same). So does a name the file declares
in any other way (parameter, result, receiver, range, type-switch or receive variable).
"""

from __future__ import annotations

from typing import Any

from reviewer.languages.treesitter import TSContext
from reviewer.rules._gopackage import package_files
from reviewer.rules._tsbind import arguments, bindings

Node = Any


def package_constant(ctx: TSContext, name: Node) -> tuple[TSContext, Node] | None:
    """(file, value) of a name the file does not bind, when another file of the package
    binds it once at its top level and no file assigns it again (its value then decides
    whether it is a constant); None otherwise."""
    found = package_value(ctx, name)
    if found is None or ctx.text(name) in _package_index(ctx)[1]:
        return None  # unknown, or assigned again somewhere in the package
    return found


def package_value(ctx: TSContext, name: Node) -> tuple[TSContext, Node] | None:
    """(file, value) of a name that another file of the package binds once, at its top
    level, and that this file neither binds nor declares; None otherwise."""
    values, reassigned = bindings(ctx)
    ident = ctx.text(name)
    if ident in values or ident in reassigned or _local_names(ctx).get(ident):
        return None
    bound = _package_index(ctx)[0].get(ident)
    if not bound or len(bound) != 1 or bound[0][1] is None or not _top_level(bound[0][1]):
        return None
    return bound[0]


_Index = tuple[dict[str, list[tuple[TSContext, Node]]], frozenset[str]]


def _package_index(ctx: TSContext) -> _Index:
    """The other files' bindings of the package (name -> [(file, value)]), and the names
    they assign again; built once per file."""
    cached: _Index | None = ctx.memo.get("package_index")
    if cached is not None:
        return cached
    values: dict[str, list[tuple[TSContext, Node]]] = {}
    reassigned: set[str] = set()
    for other in package_files(ctx) or []:
        their_values, their_reassigned = bindings(other)
        reassigned |= their_reassigned
        for ident, bound in their_values.items():
            values.setdefault(ident, []).extend((other, v) for v in bound)
    index = (values, frozenset(reassigned))
    ctx.memo["package_index"] = index
    return index


def _local_names(ctx: TSContext) -> dict[str, int]:
    """How often each name is declared in the file other than by ``:=``/``var``/``const``:
    parameters, results, receivers, range, type-switch and receive variables."""
    cached: dict[str, int] | None = ctx.memo.get("go_local_names")
    if cached is not None:
        return cached
    out: dict[str, int] = {}
    for decl in ctx.nodes("parameter_declaration", "variadic_parameter_declaration",
                          "range_clause", "type_switch_statement", "receive_statement"):
        if decl.type in ("parameter_declaration", "variadic_parameter_declaration"):
            names = decl.children_by_field_name("name")
        else:
            left = decl.child_by_field_name(
                "alias" if decl.type == "type_switch_statement" else "left")
            names = [] if left is None else (
                left.named_children if left.type == "expression_list" else [left])
        for n in names:
            if n.type == "identifier":
                out[ctx.text(n)] = out.get(ctx.text(n), 0) + 1
    ctx.memo["go_local_names"] = out
    return out


def _top_level(value: Node) -> bool:
    """A value bound by a package-level declaration (not inside a function)."""
    node = value.parent
    while node is not None:
        if node.type in ("function_declaration", "method_declaration", "func_literal"):
            return False
        node = node.parent
    return True


# Buffers whose text is only what was written into them, and the methods that leave that
# so (the writes are checked: each must write a constant).
_BUFFERS = frozenset({"strings.Builder", "bytes.Buffer"})
_WRITES = frozenset({"WriteString", "WriteByte", "WriteRune", "Write"})
_READS = frozenset({"String", "Len", "Cap", "Grow", "Reset", "Bytes"})


def buffer_writes(ctx: TSContext, call: Node) -> list[Node] | None:
    """For ``b.String()`` of a ``strings.Builder`` or ``bytes.Buffer`` that the file
    declares once (``var b strings.Builder``) and only writes into and reads: the values
    written (when all are constants, its text is made of constants alone, such as
    ``"?, ?, ?"`` placeholders, like a lookup in a constant table). None for any other call,
    or when the buffer is used otherwise (``&b`` passed on, ``fmt.Fprintf(&b, ...)``).
    """
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "selector_expression" or \
            ctx.text(fn.child_by_field_name("field")) not in ("String", "Bytes"):
        return None
    operand = fn.child_by_field_name("operand")
    if operand is None or operand.type != "identifier":
        return None
    ident = ctx.text(operand)
    values, reassigned = bindings(ctx)
    if values.get(ident) != [None] or ident in reassigned or _local_names(ctx).get(ident):
        return None
    specs = [s for s in ctx.nodes("var_spec")
             if any(ctx.text(n) == ident for n in s.children_by_field_name("name"))]
    if len(specs) != 1 or ctx.text(specs[0].child_by_field_name("type")) not in _BUFFERS:
        return None
    writes: list[Node] = []
    for use in ctx.nodes("identifier"):
        if ctx.text(use) != ident or use.parent == specs[0]:
            continue
        sel = use.parent
        if sel is None or sel.type != "selector_expression" or \
                sel.child_by_field_name("operand") != use:
            return None
        method = ctx.text(sel.child_by_field_name("field"))
        outer = sel.parent
        if outer is None or outer.type != "call_expression" or method not in _WRITES | _READS:
            return None
        if method in _WRITES:
            writes += arguments(outer)
    return writes
