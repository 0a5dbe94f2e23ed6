"""RV606 on tree-sitter trees (JS, TS, Go): secret-named names bound to literals, and
strings in a published token format. The words, placeholders and formats are Python's
(reviewer/rules/rv606_hardcoded_secret.py), so the three languages agree."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsflow import string_value
from reviewer.rules.base import Rule
from reviewer.rules.rv606_hardcoded_secret import _DSN, known_token, placeholder, secret_word

# Words gosec's G101 and ESLint plug-ins also read as secrets in Go/JS names.
_EXTRA_WORDS = re.compile(r"(?:^|_)(pw|cred|creds|credentials?|bearer|apikey|api_key)(?=_|$)")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@lru_cache(maxsize=8192)  # the same names come back in every file
def _secret_word(name: str) -> str | None:
    name = name.strip("'\"`")
    word = secret_word(name)
    if word is not None:
        return word
    m = _EXTRA_WORDS.search(_CAMEL.sub("_", name).lower())
    return m.group(1) if m else None


def _weak(value: str) -> bool:
    """A short dictionary word (``"secret"``, ``"admin"``): a default, not a credential."""
    return value.isalpha() and len(value) <= 8

Node = Any
_STRINGS = {"js": ("string", "template_string"),
            "go": ("interpreted_string_literal", "raw_string_literal")}


def _bindings(ctx: Any) -> Iterator[tuple[Node, str, Node, Node]]:
    """(name node, how to read it, value, where) for every name bound to a value
    (:func:`_name` reads the name: only for the values that are strings, the few)."""
    if ctx.family == "go":
        for spec in ctx.nodes("const_spec", "var_spec", "short_var_declaration",
                              "assignment_statement"):
            if spec.type in ("short_var_declaration", "assignment_statement"):
                names = spec.child_by_field_name("left")
                values = spec.child_by_field_name("right")
            else:
                names, values = spec, spec.child_by_field_name("value")
            name_nodes = ([c for c in names.named_children if c.type in (
                "identifier", "selector_expression")] if names is not None and names.type in (
                "expression_list", "const_spec", "var_spec") else [names] if names else [])
            value_nodes = ([c for c in values.named_children if c.type != "comment"]
                           if values is not None and values.type == "expression_list"
                           else [values] if values is not None else [])
            for n, v in zip(name_nodes, value_nodes, strict=False):
                yield n, "last", v, spec
        for el in ctx.nodes("keyed_element"):
            kids = [c for c in el.named_children if c.type != "comment"]
            if len(kids) == 2:
                yield kids[0], "", _unwrap(kids[1]), el
        return
    for decl in ctx.nodes("variable_declarator"):
        n, v = decl.child_by_field_name("name"), decl.child_by_field_name("value")
        if n is not None and v is not None and n.type == "identifier":
            yield n, "", v, decl
    for assign in ctx.nodes("assignment_expression"):
        left = assign.child_by_field_name("left")
        if left is not None:
            yield left, "last", assign.child_by_field_name("right"), assign
    for pair in ctx.nodes("pair"):
        key = pair.child_by_field_name("key")
        if key is not None:
            yield key, "unquoted", pair.child_by_field_name("value"), pair
    for field in ctx.nodes("public_field_definition", "field_definition"):
        n = field.child_by_field_name("name") or field.child_by_field_name("property")
        v = field.child_by_field_name("value")
        if n is not None and v is not None:
            yield n, "", v, field


def _name(ctx: Any, node: Node, how: str) -> str:
    """The bound name as written; ``last``: the last part of ``a.b.name``; ``unquoted``: a
    key without its quotes."""
    text: str = ctx.text(node)
    if how == "last":
        return text.split(".")[-1]
    return text.strip("'\"`") if how == "unquoted" else text


def _unwrap(node: Node) -> Node:
    """A Go keyed element's value node (``literal_element`` wraps it)."""
    if node.type == "literal_element" and node.named_children:
        return node.named_children[0]
    return node


def find_secrets(rule: Rule, ctx: Any) -> Iterator[Finding]:
    """Every hard-coded secret in one file."""
    if ctx.is_test:
        return
    reported: set[int] = set()
    for name_node, how, value, where in _bindings(ctx):
        text = string_value(ctx, value)
        if text is None:
            continue
        name = _name(ctx, name_node, how)
        word = _secret_word(name)
        if word is None or placeholder(text, name, word) or _weak(text):
            continue
        reported.add(value.start_byte)
        yield ctx.report(rule, where, f"'{name}' is set to a literal {word}; read it from the"
                                      " environment or a secret store")
    for cmp in ctx.nodes("binary_expression"):
        op = cmp.child_by_field_name("operator")
        if op is None or op.type not in ("==", "!=", "===", "!=="):
            continue
        left, right = cmp.child_by_field_name("left"), cmp.child_by_field_name("right")
        for side, other in ((left, right), (right, left)):
            text = string_value(ctx, other)
            word = _secret_word(ctx.text(side).split(".")[-1]) if side is not None else None
            if word and text and not placeholder(text, ctx.text(side), word) and not _weak(text):
                reported.add(other.start_byte)
                yield ctx.report(rule, cmp, f"'{ctx.text(side)}' is compared with a literal"
                                            f" {word}; read it from a secret store")
    for node in ctx.nodes(*_STRINGS[ctx.family]):
        if node.start_byte in reported:
            continue
        text = ctx.text(node)
        what = known_token(text)
        if what is None and _DSN.search(text):
            what = "a URL with a password"
        if what is not None:
            yield ctx.report(rule, node, f"the string holds {what}; read it from the"
                                         " environment or a secret store")
