"""Tree-sitter plug-ins: JavaScript, TypeScript and Go.

Each plug-in owns its grammar (the per-language wheels ``tree-sitter-javascript``,
``tree-sitter-typescript``, ``tree-sitter-go``; nothing is downloaded at run time) and hands
its rules a :class:`TSContext`. ``tree_sitter`` is imported only when a file of one of these
languages is parsed, so a Python-only review never loads it.

A file with syntax errors gets RV000 at the first error node, and the rest of the tree
(tree-sitter recovers around errors) is still reviewed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from functools import cache, cached_property, lru_cache
from typing import Any

from reviewer.findings import Finding, Fix, Severity, Span, TextEdit, split_lines
from reviewer.languages.base import Check

Node = Any  # tree_sitter.Node (the library is imported lazily)

# Function-like nodes per family: their bodies are scopes of their own.
JS_FUNCTIONS = frozenset({
    "function_declaration", "generator_function_declaration", "function_expression",
    "function", "generator_function", "arrow_function", "method_definition",
    # ESLint measures class static blocks and field initialisers as functions of their own.
    "class_static_block", "field_definition", "public_field_definition",
})
GO_FUNCTIONS = frozenset({"function_declaration", "method_declaration", "func_literal"})
# The node types the built-in rules look up: fetched by one query on a file's first lookup.
_SHARED_COMMON = ("assignment_expression", "binary_expression", "call_expression",
                  "function_declaration", "string", "template_string")
JS_COMMON = frozenset({
    *_SHARED_COMMON, *JS_FUNCTIONS, "augmented_assignment_expression", "catch_clause",
    "export_statement", "formal_parameters", "import_specifier", "import_statement",
    "member_expression", "new_expression", "pair", "subscript_expression", "throw_statement",
    "variable_declarator", "for_in_statement", "namespace_import", "import_clause",
    "class_declaration", "class", "update_expression",
})
GO_COMMON = frozenset({
    *_SHARED_COMMON, *GO_FUNCTIONS, "assignment_statement", "const_spec",
    "expression_statement", "keyed_element", "short_var_declaration", "var_spec",
    "package_clause", "interpreted_string_literal", "raw_string_literal", "if_statement",
})
_JS_TEST = re.compile(
    r"(^|/)(__tests__|tests?|spec|__mocks__)/|\.(test|spec)\.[cm]?[jt]sx?$"
)
_JS_SCRIPT_DIRS = re.compile(r"(^|/)(bin|scripts?|tools|examples?|bench|benchmarks?)/")
_GO_TEST = re.compile(r"_test\.go$")


class TSContext:
    """One file parsed by tree-sitter, as rules see it."""

    def __init__(self, language: str, path: str, source: str, tree: Any,
                 grammar: str | None = None) -> None:
        self.language = language
        self.grammar = grammar or ("go" if language == "go" else language)
        self._by_type: dict[str, list[Node]] = {}
        self._matches: dict[str, list[dict[str, list[Node]]]] = {}
        # Per-file indexes the rule helpers build once (reviewer/rules/_tsflow.py).
        self.memo: dict[str, Any] = {}
        # Per-function measures shared by the size rules (reviewer/rules/_tsmeasure.py).
        self.measures: dict[int, Any] = {}
        self.family = "go" if language == "go" else "js"
        self.path = path.replace("\\", "/")
        self.source = source
        self.data = source.encode("utf-8")
        self.tree = tree
        self.root: Node = tree.root_node
        self.lines = split_lines(source)
        self.functions_types = GO_FUNCTIONS if self.family == "go" else JS_FUNCTIONS

    # -- navigation ----------------------------------------------------------------------
    def nodes(self, *types: str) -> list[Node]:
        """Named nodes of the given types, in document order.

        Found with one tree-sitter query per new set of types (matching runs in C; only
        the matches become Python objects), then cached per type.
        """
        cache = self._by_type
        missing = [t for t in types if t not in cache]
        if missing:
            if not cache:  # the first call fetches what the built-in rules ask for, at once
                missing = sorted({*missing, *(GO_COMMON if self.family == "go"
                                              else JS_COMMON)})
            cache.update(_query_nodes(self.grammar, self.root, missing))
        if len(types) == 1:
            return cache[types[0]]
        found: list[Node] = []
        for t in types:
            found.extend(cache[t])
        return sorted(found, key=lambda n: n.start_byte)

    def matches(self, name: str) -> list[dict[str, list[Node]]]:
        """The matches of the shipped query ``queries/<family>/<name>.scm`` in this file.

        Each match maps its capture names to nodes, in document order. All of a family's
        query files are compiled once per process and grammar into one query
        (:func:`shipped_queries`) and matched in one pass over the tree on the first call
        (each pass costs about as much as the whole tree, whatever the pattern); their
        predicates (``#eq?``, ``#match?``) are checked by tree-sitter.
        """
        if not self._matches:
            import tree_sitter

            query, owners = shipped_queries(self.grammar, self.family)
            found: dict[str, list[dict[str, list[Node]]]] = {n: [] for n in set(owners)}
            for index, caps in tree_sitter.QueryCursor(query).matches(self.root):
                found[owners[index]].append(caps)
            for hits in found.values():
                hits.sort(key=lambda caps: min(n.start_byte for ns in caps.values() for n in ns))
            self._matches = found
        return self._matches[name]

    def captured(self, name: str, capture: str) -> list[Node]:
        """The nodes one capture of a shipped query matched (see :meth:`matches`)."""
        return [caps[capture][0] for caps in self.matches(name) if capture in caps]

    def functions(self) -> list[Node]:
        """Every function-like node (declarations, expressions, arrows, methods)."""
        return self.nodes(*sorted(self.functions_types))

    def text(self, node: Node | None) -> str:
        """The source text of a node."""
        if node is None:
            return ""
        return self.data[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def ancestors(self, node: Node) -> Iterator[Node]:
        p = node.parent
        while p is not None:
            yield p
            p = p.parent

    def enclosing_function(self, node: Node) -> Node | None:
        for a in self.ancestors(node):
            if a.type in self.functions_types:
                return a
        return None

    def function_name(self, fn: Node) -> str:
        """A function's name: its own, its variable's, its property's or ''."""
        name = fn.child_by_field_name("name") or fn.child_by_field_name("property")
        if name is not None:
            return self.text(name)
        if fn.type == "method_declaration":  # Go methods always have a name field
            return ""
        p = fn.parent
        if p is not None and p.type == "variable_declarator":
            return self.text(p.child_by_field_name("name"))
        if p is not None and p.type in ("pair", "assignment_expression", "public_field_definition",
                                        "field_definition"):
            key = (p.child_by_field_name("key") or p.child_by_field_name("left")
                   or p.child_by_field_name("property") or p.child_by_field_name("name"))
            return self.text(key).split(".")[-1]
        return ""

    def scope_name(self, node: Node) -> str:
        """Dotted names of the named functions and classes around ``node`` (itself too)."""
        names = []
        a: Node | None = node
        while a is not None:
            if a.type in self.functions_types:
                names.append(self.function_name(a) or "<anonymous>")
            elif a.type in ("class_declaration", "class"):
                n = a.child_by_field_name("name")
                names.append(self.text(n) if n is not None else "<class>")
            a = a.parent
        return ".".join(reversed(names))

    def comments_before(self, node: Node) -> list[Node]:
        """The comment nodes directly above ``node`` (no blank line between)."""
        out: list[Node] = []
        prev = node.prev_sibling
        line = node.start_point[0]
        while prev is not None and prev.type == "comment" and prev.end_point[0] >= line - 1:
            out.append(prev)
            line = prev.start_point[0]
            prev = prev.prev_sibling
        return list(reversed(out))

    # -- file facts ----------------------------------------------------------------------
    @cached_property
    def is_test(self) -> bool:
        """A test file (``*_test.go``; ``*.test.js``, ``*.spec.ts``, under tests/)."""
        if self.family == "go":
            return bool(_GO_TEST.search(self.path))
        return bool(_JS_TEST.search(self.path))

    @cached_property
    def is_script(self) -> bool:
        """Run as a program: ``#!`` line, under bin/ or scripts/; Go ``package main``."""
        if self.family == "go":
            return self.package_name == "main"
        return self.source.startswith("#!") or bool(_JS_SCRIPT_DIRS.search(self.path))

    @cached_property
    def package_name(self) -> str:
        """The Go package clause's name ('' for other languages)."""
        for clause in self.nodes("package_clause"):
            for child in clause.named_children:
                return self.text(child)
        return ""

    @cached_property
    def is_module(self) -> bool:
        """ES module or CommonJS file (top-level declarations are not globals)."""
        if self.language == "typescript" or self.path.endswith((".mjs", ".cjs", ".mts", ".cts")):
            return True
        return bool(self.nodes("import_statement") or self.nodes("export_statement"))

    # -- reporting -----------------------------------------------------------------------
    def span(self, node: Node) -> Span:
        """A node's 1-based span in character columns."""
        (sl, sc), (el, ec) = node.start_point, node.end_point
        return Span(sl + 1, self.char_col(sl + 1, sc + 1), el + 1, self.char_col(el + 1, ec + 1))

    def char_col(self, line: int, col: int) -> int:
        """A 1-based UTF-8 byte column on ``line`` as a 1-based character column."""
        if not 0 < line <= len(self.lines):
            return col
        text = self.lines[line - 1]
        if text.isascii():
            return col
        return len(text.encode("utf-8")[: col - 1].decode("utf-8", "ignore")) + 1

    def report(
        self,
        rule: Check,
        node: Node | Span,
        message: str | None = None,
        *,
        fix: Fix | None = None,
        severity: Severity | None = None,
        scope: tuple[int, int] | None = None,
        symbol_of: Node | None = None,
    ) -> Finding:
        """A finding for ``rule`` at a node (or an explicit span)."""
        span = node if isinstance(node, Span) else self.span(node)
        anchor = symbol_of if symbol_of is not None else (
            None if isinstance(node, Span) else node)
        symbol = self.scope_name(anchor) if anchor is not None else ""
        enclosing = None
        if anchor is not None:
            fn = anchor if anchor.type in self.functions_types else self.enclosing_function(anchor)
            if fn is not None:
                enclosing = (fn.start_point[0] + 1, fn.end_point[0] + 1)
        if scope is None and rule.whole_function and anchor is not None and enclosing:
            scope = enclosing
        if fix is not None:
            fix = replace(fix, edits=tuple(
                TextEdit(e.line, self.char_col(e.line, e.col), e.end_line,
                         self.char_col(e.end_line, e.end_col), e.text) for e in fix.edits))
        return Finding(
            rule_id=rule.id, slug=rule.slug, message=message or rule.message, path=self.path,
            span=span, severity=severity if severity is not None else rule.severity,
            scope=scope, fix=fix, symbol=symbol, enclosing=enclosing,
        )


def first_error(root: Node) -> Node | None:
    """The first ERROR or MISSING node in document order (None: the file parses)."""
    if not root.has_error:
        return None
    cursor = root.walk()
    while True:
        node = cursor.node
        if node is not None and (node.type == "ERROR" or node.is_missing):
            return node
        if node is not None and node.has_error and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return None


def walk(node: Node, stop: Iterable[str] = ()) -> Iterator[Node]:
    """Named descendants of ``node`` (pre-order), not entering nodes of ``stop`` types."""
    stops = frozenset(stop)
    stack = list(reversed(node.named_children))
    while stack:
        n = stack.pop()
        yield n
        if n.type not in stops:
            stack.extend(reversed(n.named_children))


def _query_nodes(grammar: str, root: Node, types: list[str]) -> dict[str, list[Node]]:
    """Every named node of each type under ``root`` (types the grammar lacks: none)."""
    import tree_sitter

    out: dict[str, list[Node]] = {t: [] for t in types}
    query = _query(grammar, tuple(sorted(types)))
    if query is None:
        return out
    for name, found in tree_sitter.QueryCursor(query).captures(root).items():
        out[name] = sorted(found, key=lambda n: n.start_byte)
    return out


@lru_cache(maxsize=512)
def _query(grammar: str, types: tuple[str, ...]) -> Any:
    """One query capturing each node type under its own name (None: no type exists)."""
    import tree_sitter

    lang = language_for(grammar)
    known = [t for t in types if lang.id_for_node_kind(t, True)]
    if not known:
        return None
    return tree_sitter.Query(lang, " ".join(f"({t}) @{t}" for t in known))


@lru_cache(maxsize=64)
def shipped_query(grammar: str, family: str, name: str) -> Any:
    """The query file ``reviewer/languages/queries/<family>/<name>.scm``, compiled once.

    The files are package data (pyproject's ``[tool.setuptools.package-data]``); the
    JavaScript family's queries compile for the javascript, typescript and tsx grammars.
    """
    from importlib.resources import files

    import tree_sitter

    text = (files("reviewer.languages") / "queries" / family / f"{name}.scm").read_text("utf-8")
    return tree_sitter.Query(language_for(grammar), text)


@cache
def shipped_queries(grammar: str, family: str) -> tuple[Any, list[str]]:
    """Every query file of a family compiled as one query, and each pattern's file name."""
    from importlib.resources import files

    import tree_sitter

    folder = files("reviewer.languages") / "queries" / family
    parts = sorted((f.name.removesuffix(".scm"), f.read_text("utf-8"))
                   for f in folder.iterdir() if f.name.endswith(".scm"))
    text, starts = "", []
    for name, body in parts:
        starts.append((len(text.encode("utf-8")), name))
        text += body + "\n"
    query = tree_sitter.Query(language_for(grammar), text)
    owners = []
    for i in range(query.pattern_count):
        at = query.start_byte_for_pattern(i)
        owners.append(next(n for start, n in reversed(starts) if start <= at))
    return query, owners


@cache
def parser_for(grammar: str) -> Any:
    """A tree-sitter parser for one grammar (javascript, typescript, tsx, go)."""
    import tree_sitter

    return tree_sitter.Parser(language_for(grammar))


@cache
def language_for(grammar: str) -> Any:
    """The tree-sitter Language of one grammar (javascript, typescript, tsx, go)."""
    import tree_sitter

    if grammar == "javascript":
        import tree_sitter_javascript

        lang = tree_sitter_javascript.language()
    elif grammar in ("typescript", "tsx"):
        import tree_sitter_typescript

        lang = (tree_sitter_typescript.language_tsx() if grammar == "tsx"
                else tree_sitter_typescript.language_typescript())
    else:
        import tree_sitter_go

        lang = tree_sitter_go.language()
    return tree_sitter.Language(lang)


class TreeSitterLanguage:
    """One tree-sitter based plug-in."""

    def __init__(self, name: str, extensions: tuple[str, ...], shebang_names: tuple[str, ...],
                 grammars: dict[str, str]) -> None:
        self.name = name
        self.extensions = extensions
        self.shebang_names = shebang_names
        self._grammars = grammars  # extension -> grammar ("" -> default)

    def grammar(self, path: str) -> str:
        for ext, grammar in self._grammars.items():
            if ext and path.lower().endswith(ext):
                return grammar
        return self._grammars[""]

    def parse(self, path: str, source: str) -> tuple[TSContext, Finding | None]:
        """The context, and an RV000 finding when the file has syntax errors."""
        tree = parser_for(self.grammar(path)).parse(source.encode("utf-8"))
        ctx = TSContext(self.name, path, source, tree, self.grammar(path))
        bad = first_error(tree.root_node)
        if bad is None:
            return ctx, None
        what = "missing " + bad.type if bad.is_missing else "unexpected " + (
            repr(ctx.text(bad)[:30].split("\n")[0]) if bad.end_byte > bad.start_byte else "end")
        span = ctx.span(bad)
        return ctx, Finding(
            rule_id="RV000", slug="syntax-error",
            message=f"file does not parse: {what} (the rest of the file is still reviewed)",
            path=ctx.path, span=Span(span.line, span.col), severity=Severity.HIGH,
        )

    def review(self, path: str, source: str, rules: Sequence[Check],
               want_fixes: bool = True) -> list[Finding]:
        ctx, error = self.parse(path, source)  # no tree-sitter rule builds a costly fix
        findings: list[Finding] = [error] if error is not None else []
        for rule in rules:
            if rule.id != "RV000":
                findings.extend(rule.run(ctx))
        return findings


JAVASCRIPT = TreeSitterLanguage(
    "javascript", (".js", ".mjs", ".cjs", ".jsx"), ("node", "nodejs", "deno", "bun"),
    {"": "javascript"},
)
TYPESCRIPT = TreeSitterLanguage(
    "typescript", (".ts", ".tsx", ".mts", ".cts"), ("ts-node", "tsx"),
    {".tsx": "tsx", "": "typescript"},
)
GO = TreeSitterLanguage("go", (".go",), (), {"": "go"})
