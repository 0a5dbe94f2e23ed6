"""Definitions of JavaScript, TypeScript and Go files, read with tree-sitter.

The grammars are those of the review plug-ins (:mod:`reviewer.languages.treesitter`), and
``tree_sitter`` is imported only when one of these files is read (``symbols``, ``calls``):
the cheap entry points (``regions``, ``is_test``, ``imports``) work on lines only.

What is a definition:

- JavaScript / TypeScript: top-level functions (declarations, and ``const f = (...) =>`` /
  ``function`` expressions), classes and their methods (``Class.method``), TypeScript
  interfaces, type aliases and enums (kind ``type``). Public means exported (``export``,
  ``export { name }``, ``export default name``, ``module.exports = { name }`` /
  ``exports.name =``); a method is public
  when its class is and it is neither ``#private`` nor ``private`` / ``protected``.
- Go: functions, methods (``T.Method`` for both ``func (t T)`` and ``func (t *T)`` receivers,
  so a receiver turned into a pointer stays the same method) and types. Public means
  exported: a capitalised name (a method's type and its own name).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from reviewer.describe.symbols import Param, Region, Signature, Symbol
from reviewer.languages.treesitter import GO, JAVASCRIPT, TYPESCRIPT, TreeSitterLanguage

Node = Any  # tree_sitter.Node (imported lazily)

_JS_TEST = re.compile(r"(^|/)(__tests__|tests?|spec|__mocks__)/|\.(test|spec)\.[cm]?[jt]sx?$")
_JS_IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]""")
_GO_IMPORT = re.compile(r'^\s*(?:import\s+)?(?:[\w.]+\s+)?"([^"]+)"', re.M)
_JS_FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "function",
                                 "generator_function"})
_TS_TYPES = frozenset({"interface_declaration", "type_alias_declaration", "enum_declaration"})
_CLASSES = frozenset({"class_declaration", "abstract_class_declaration", "class"})


def _digest(text: str) -> str:
    """A hash of code lines, blank lines, ``//`` comment lines and indentation left out."""
    h = hashlib.sha256()
    for line in text.splitlines():
        s = line.strip()
        if s and not s.startswith("//"):
            h.update(s.encode("utf-8", "surrogatepass"))
            h.update(b"\n")
    return h.hexdigest()[:16]


@dataclass
class _File:
    """One parsed file: its bytes and helpers over them."""

    data: bytes

    def text(self, node: Node | None) -> str:
        if node is None:
            return ""
        return self.data[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def own(self, outer: Node, name: Node | None, holes: Sequence[Node] = ()) -> str:
        """``outer``'s text, its own name blanked (a renamed copy hashes the same) and the
        ``holes`` (members) cut out."""
        cuts = sorted([*((h.start_byte, h.end_byte, b"") for h in holes),
                       *(((name.start_byte, name.end_byte, b"\0"),) if name is not None
                         else ())])
        out, at = bytearray(), outer.start_byte
        for start, end, put in cuts:
            if start < at:
                continue
            out += self.data[at:start] + put
            at = end
        out += self.data[at:outer.end_byte]
        return out.decode("utf-8", "replace")


def _type_text(f: _File, node: Node | None) -> str | None:
    """A ``: T`` annotation as ``T``."""
    if node is None:
        return None
    return f.text(node).lstrip(":").strip() or None


def _js_params(f: _File, fn: Node) -> tuple[Param, ...]:
    params = fn.child_by_field_name("parameters")
    if params is None:  # `x => x`
        single = fn.child_by_field_name("parameter")
        return (Param(f.text(single), "positional"),) if single is not None else ()
    out: list[Param] = []
    for p in params.named_children:
        if p.type == "comment":
            continue
        if p.type in ("required_parameter", "optional_parameter"):  # TypeScript
            pattern = p.child_by_field_name("pattern")
            value = p.child_by_field_name("value")
            annotation = _type_text(f, p.child_by_field_name("type"))
            if pattern is not None and pattern.type == "rest_pattern":
                out.append(Param(f.text(pattern).lstrip("."), "*args", None, annotation))
                continue
            default = f.text(value) if value is not None else (
                "undefined" if p.type == "optional_parameter" else None)
            out.append(Param(f.text(pattern), "positional", default, annotation))
        elif p.type == "assignment_pattern":
            out.append(Param(f.text(p.child_by_field_name("left")), "positional",
                             f.text(p.child_by_field_name("right"))))
        elif p.type == "rest_pattern":
            out.append(Param(f.text(p).lstrip("."), "*args"))
        else:
            out.append(Param(f.text(p), "positional"))
    return tuple(out)


def _js_signature(f: _File, fn: Node) -> Signature:
    return Signature(_js_params(f, fn), _type_text(f, fn.child_by_field_name("return_type")))


def _js_exports(f: _File, root: Node) -> set[str]:
    """Names exported by ``export { a, b as c }``, ``export default a`` and CommonJS
    ``module.exports``."""
    out: set[str] = set()
    for node in root.named_children:
        if node.type == "export_statement" and node.child_by_field_name("declaration") is None:
            value = node.child_by_field_name("value")
            if value is not None and value.type == "identifier":  # export default name
                out.add(f.text(value))
            for spec in _descendants(node, "export_specifier"):
                name = spec.child_by_field_name("name")
                if name is not None:
                    out.add(f.text(name))
        elif node.type == "expression_statement":
            expr = node.named_children[0] if node.named_children else None
            if expr is None or expr.type != "assignment_expression":
                continue
            left = f.text(expr.child_by_field_name("left"))
            right = expr.child_by_field_name("right")
            if left in ("module.exports", "exports") and right is not None:
                for item in right.named_children if right.type == "object" else ():
                    key = item.child_by_field_name("key") or item.child_by_field_name("value")
                    out.add(f.text(key if item.type == "pair" else item))
                if right.type == "identifier":
                    out.add(f.text(right))
            elif left.startswith(("module.exports.", "exports.")):
                out.add(left.rsplit(".", 1)[-1])
    return out


def _descendants(node: Node, kind: str) -> Iterator[Node]:
    stack = list(node.named_children)
    while stack:
        n = stack.pop()
        if n.type == kind:
            yield n
        stack.extend(n.named_children)


def _js_symbols(f: _File, root: Node) -> Iterator[Symbol]:
    exported_names = _js_exports(f, root)
    for top in root.named_children:
        outer, node, exported = top, top, False
        if top.type == "export_statement":
            decl = top.child_by_field_name("declaration")
            if decl is None:
                decl = next((c for c in top.named_children
                             if c.type in ("function_declaration", "class_declaration",
                                           "generator_function_declaration", "class")), None)
            if decl is None:
                continue
            node, exported = decl, True
        yield from _js_definition(f, outer, node, exported, exported_names)


def _line(node: Node) -> tuple[int, int]:
    return node.start_point[0] + 1, node.end_point[0] + 1


def _js_definition(f: _File, outer: Node, node: Node, exported: bool,
                   exported_names: set[str]) -> Iterator[Symbol]:
    t = node.type
    name = node.child_by_field_name("name")
    public = exported or (name is not None and f.text(name) in exported_names)
    start, end = _line(outer)
    if t in ("function_declaration", "generator_function_declaration", "function"):
        if name is not None:
            yield Symbol(f.text(name), "function", start, end,
                         _digest(f.own(outer, name)), _js_signature(f, node), public)
    elif t in _TS_TYPES and name is not None:
        yield Symbol(f.text(name), "type", start, end, _digest(f.own(outer, name)), None,
                     public)
    elif t in ("lexical_declaration", "variable_declaration"):
        for decl in node.named_children:
            value = decl.child_by_field_name("value")
            dname = decl.child_by_field_name("name")
            if (decl.type != "variable_declarator" or value is None or dname is None
                    or value.type not in _JS_FUNCTION_VALUES):
                continue
            text = f.text(dname)
            yield Symbol(text, "function", start, end, _digest(f.own(outer, dname)),
                         _js_signature(f, value), exported or text in exported_names)
    elif t in _CLASSES and name is not None:
        cls = f.text(name)
        body = node.child_by_field_name("body")
        members = [m for m in (body.named_children if body is not None else ())
                   if m.type in ("method_definition", "abstract_method_signature")]
        yield Symbol(cls, "class", start, end, _digest(f.own(outer, name, members)), None,
                     public)
        for m in members:
            mname = m.child_by_field_name("name")
            if mname is None:
                continue
            text = f.text(mname)
            hidden = text.startswith("#") or any(
                c.type == "accessibility_modifier" and f.text(c) in ("private", "protected")
                for c in m.children)
            ms, me = _line(m)
            yield Symbol(f"{cls}.{text}", "method", ms, me, _digest(f.own(m, mname)),
                         _js_signature(f, m), public and not hidden)


def _go_params(f: _File, plist: Node | None) -> tuple[Param, ...]:
    out: list[Param] = []
    for i, p in enumerate(plist.named_children if plist is not None else ()):
        if p.type not in ("parameter_declaration", "variadic_parameter_declaration"):
            continue
        kind = "*args" if p.type == "variadic_parameter_declaration" else "positional"
        annotation = _type_text(f, p.child_by_field_name("type"))
        names = [f.text(c) for c in p.children_by_field_name("name")]
        for n in names or [f"#{i + 1}"]:  # an unnamed parameter: by its position
            out.append(Param(n, kind, None, annotation))
    return tuple(out)


def _go_receiver_type(f: _File, method: Node) -> str:
    recv = method.child_by_field_name("receiver")
    for p in recv.named_children if recv is not None else ():
        t = p.child_by_field_name("type")
        while t is not None and t.type in ("pointer_type", "generic_type", "parenthesized_type"):
            t = (t.child_by_field_name("type") if t.type == "generic_type"
                 else t.named_children[0] if t.named_children else None)
        if t is not None:
            return f.text(t)
    return "?"


def _exported_go(name: str) -> bool:
    return name[:1].isupper()


def _go_symbols(f: _File, root: Node) -> Iterator[Symbol]:
    for node in root.named_children:
        start, end = _line(node)
        name = node.child_by_field_name("name")
        if node.type in ("function_declaration", "method_declaration") and name is not None:
            text = f.text(name)
            result = node.child_by_field_name("result")
            sig = Signature(_go_params(f, node.child_by_field_name("parameters")),
                            f.text(result) if result is not None else None)
            if node.type == "method_declaration":
                owner = _go_receiver_type(f, node)
                yield Symbol(f"{owner}.{text}", "method", start, end,
                             _digest(f.own(node, name)), sig,
                             _exported_go(owner) and _exported_go(text))
            else:
                yield Symbol(text, "function", start, end, _digest(f.own(node, name)), sig,
                             _exported_go(text))
        elif node.type == "type_declaration":
            for spec in node.named_children:
                sname = spec.child_by_field_name("name")
                if spec.type not in ("type_spec", "type_alias") or sname is None:
                    continue
                text = f.text(sname)
                ss, se = _line(spec)
                yield Symbol(text, "type", ss, se, _digest(f.own(spec, sname)), None,
                             _exported_go(text))


@lru_cache(maxsize=8)
def _parse(grammar: str, source: str) -> tuple[_File, Node]:
    """One version parsed (kept for the next few calls: the caller scan asks one file for
    several names)."""
    from reviewer.languages.treesitter import parser_for

    data = source.encode("utf-8", "surrogatepass")
    return _File(data), parser_for(grammar).parse(data).root_node


@cache
def _calls_query(grammar: str) -> Any:
    import tree_sitter

    from reviewer.languages.treesitter import language_for

    return tree_sitter.Query(language_for(grammar), "(call_expression) @call")


def _calls(grammar: str, root: Node) -> list[Node]:
    """Every call expression under ``root`` (matched in C by one query)."""
    import tree_sitter

    found: list[Node] = tree_sitter.QueryCursor(_calls_query(grammar)).captures(root).get(
        "call", [])
    return found


class TreeSitterReader:
    """One language read with its review plug-in's tree-sitter grammar."""

    def __init__(self, language: TreeSitterLanguage, grammar: str,
                 extensions: tuple[str, ...]) -> None:
        self.grammar = grammar
        self.name: str = language.name
        self.extensions: tuple[str, ...] = extensions
        self.family = "go" if language.name == "go" else "js"

    def _parse(self, source: str) -> tuple[_File, Node]:
        return _parse(self.grammar, source)

    def regions(self, source: str) -> list[Region]:
        # No line outline: the whole file is parsed (tree-sitter reads a large file in
        # milliseconds).
        return []

    def members(self, source: str, region: Region) -> list[Region] | None:
        return None

    def symbols(self, source: str, regions: Sequence[Region] | None = None
                ) -> dict[str, Symbol] | None:
        f, root = self._parse(source)
        if root.has_error:
            from reviewer.languages.treesitter import first_error

            if first_error(root) is not None:
                return None
        found = _go_symbols(f, root) if self.family == "go" else _js_symbols(f, root)
        return {s.qualname: s for s in found}

    def calls(self, source: str, name: str, regions: Sequence[Region] | None = None
              ) -> list[int]:
        f, root = self._parse(source)
        lines: set[int] = set()
        for call in _calls(self.grammar, root):
            fn = call.child_by_field_name("function")
            if fn is None:
                continue
            if fn.type in ("member_expression", "selector_expression"):
                fn = fn.child_by_field_name("property") or fn.child_by_field_name("field")
            if fn is not None and f.text(fn) == name:
                lines.add(call.start_point[0] + 1)
        return sorted(lines)

    def is_test(self, path: str) -> bool:
        if self.family == "go":
            return path.endswith("_test.go")
        return bool(_JS_TEST.search(path))

    def imports(self, source: str) -> set[str]:
        if self.family == "go":
            block = re.findall(r"^import\s*\((.*?)^\)", source, re.S | re.M)
            single = re.findall(r'^import\s+(?:[\w.]+\s+)?"([^"]+)"', source, re.M)
            return {*single, *(m for b in block for m in _GO_IMPORT.findall(b))}
        return set(_JS_IMPORT.findall(source))


def readers() -> dict[str, TreeSitterReader]:
    """The readers of the tree-sitter languages, by name."""
    ts = tuple(e for e in TYPESCRIPT.extensions if e != ".tsx")
    return {
        "javascript": TreeSitterReader(JAVASCRIPT, "javascript", JAVASCRIPT.extensions),
        "typescript": TreeSitterReader(TYPESCRIPT, "typescript", ts),
        "tsx": TreeSitterReader(TYPESCRIPT, "tsx", (".tsx",)),  # JSX: its own grammar
        "go": TreeSitterReader(GO, "go", GO.extensions),
    }
