"""Split a file into chunks by its syntax, for the repository index.

Python files are split with the stdlib ``ast``: a module header (docstring, imports,
``__all__``), runs of other top-level statements, each function, each class (its header,
class-level statements and method signatures) and each method. JavaScript is split the same
way with tree-sitter when it is installed. Markdown and reST documents are split by section,
small config files are kept whole (larger ones by ``[section]``), and any other text file is
cut into windows of lines.

Every chunk carries a label (``code``, ``test``, ``docs`` or ``config``), the names it
defines and the names it calls (the index's symbol table), and a stable id made of its path,
its qualified name and a hash of its text: an unchanged chunk keeps its id across runs.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from reviewer.findings import split_lines

# Bumped whenever chunking changes: an index built by another version is rebuilt.
CHUNKER_VERSION = "1"
# A document section longer than this is cut at blank lines.
MAX_DOC_CHARS = 2400
# Config files up to this size are one chunk; larger ones are split by section.
MAX_CONFIG_CHARS = 8000
# Lines per chunk for files split into windows (unknown languages, unparsable code).
WINDOW_LINES = 60
# A run of top-level statements longer than this is cut.
MAX_RUN_LINES = 80

LANGUAGES: dict[str, str] = {
    ".py": "python", ".pyi": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".tsx": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".go": "go",
    ".md": "markdown", ".markdown": "markdown", ".rst": "rst", ".txt": "text",
    ".toml": "toml", ".ini": "ini", ".cfg": "ini", ".yaml": "yaml", ".yml": "yaml",
    ".json": "json",
}
# Code in these languages is indexed as windows of lines.
OTHER_CODE = frozenset({
    ".rs", ".java", ".kt", ".c", ".h", ".cc", ".cpp", ".hpp", ".rb",
    ".php", ".sh", ".swift", ".cs", ".scala",
})
DOC_LANGUAGES = frozenset({"markdown", "rst", "text"})
CONFIG_LANGUAGES = frozenset({"toml", "ini", "yaml", "json"})
LABELS = ("code", "test", "docs", "config")


@dataclass(frozen=True)
class Chunk:
    """One indexed piece of a file."""

    path: str  # POSIX, relative to the repository root
    name: str  # qualified name ("Class.method", "<module>", "Install > From source")
    kind: str  # function, method, class, module, statements, section, config, lines
    label: str  # code, test, docs or config
    language: str
    start: int  # first line, 1-based
    end: int  # last line, inclusive
    text: str
    defines: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()
    module: str = ""  # dotted module name (Python)

    @property
    def digest(self) -> str:
        """A hash of the text (part of the id)."""
        return hashlib.sha1(self.text.encode("utf-8", "surrogatepass")).hexdigest()[:16]

    @property
    def id(self) -> str:
        """Stable: path, qualified name and content hash."""
        return f"{self.path}::{self.name}::{self.digest}"

    def embed_text(self) -> str:
        """What the embedding model sees: where the chunk is, then its text."""
        return f"{self.path} {self.name}\n{self.text}"


# -- entry point ---------------------------------------------------------------------------
def language_of(path: str) -> str | None:
    """The chunker language of a file, or None when it is not indexed."""
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")  # the suffix as PurePosixPath sees it, without building one
    suffix = name[dot:].lower() if 0 < dot < len(name) - 1 else ""
    if suffix in LANGUAGES:
        return LANGUAGES[suffix]
    return "code" if suffix in OTHER_CODE else None


def label_of(path: str, language: str) -> str:
    """code, test, docs or config."""
    if language in DOC_LANGUAGES:
        return "docs"
    if language in CONFIG_LANGUAGES:
        return "config"
    p = PurePosixPath(path)
    name = p.name.lower()
    folders = {part.lower() for part in p.parts[:-1]}
    if folders & {"test", "tests", "testing", "__tests__"} or name == "conftest.py":
        return "test"
    stem = name.split(".")[0]
    if stem.startswith("test_") or stem.endswith("_test") or ".test." in name or ".spec." in name:
        return "test"
    return "code"


def chunk_file(path: str, text: str) -> list[Chunk]:
    """The chunks of one file (empty for an unknown type or an empty file)."""
    language = language_of(path)
    if language is None or not text.strip():
        return []
    label = label_of(path, language)
    if language == "python":
        chunks = python_chunks(path, text, label)
    elif language in ("javascript", "typescript"):
        chunks = javascript_chunks(path, text, label, language)
    elif language == "go":
        chunks = go_chunks(path, text, label)
    elif language == "markdown":
        chunks = section_chunks(path, text, label, language, markdown_headings(text))
    elif language == "rst":
        chunks = section_chunks(path, text, label, language, rst_headings(text))
    elif language in CONFIG_LANGUAGES:
        chunks = config_chunks(path, text, language)
    else:
        chunks = window_chunks(path, text, label, language)
    return unique_ids(chunks)


def unique_ids(chunks: list[Chunk]) -> list[Chunk]:
    """Chunks with equal ids (same name, same text) get a ``#n`` suffix on the name."""
    seen: dict[str, int] = {}
    out = []
    for c in chunks:
        n = seen.get(c.id, 0)
        seen[c.id] = n + 1
        if n:
            c = Chunk(c.path, f"{c.name}#{n + 1}", c.kind, c.label, c.language, c.start, c.end,
                      c.text, c.defines, c.calls, c.module)
        out.append(c)
    return out


def lines_text(lines: Sequence[str], start: int, end: int) -> str:
    """Lines ``start..end`` (1-based, inclusive) joined, ending with a newline."""
    body = "".join(lines[start - 1:end])
    return body if body.endswith("\n") else body + "\n"


def window_chunks(path: str, text: str, label: str, language: str) -> list[Chunk]:
    """Windows of ``WINDOW_LINES`` lines."""
    lines = split_lines(text, keepends=True)
    out = []
    for start in range(1, len(lines) + 1, WINDOW_LINES):
        end = min(len(lines), start + WINDOW_LINES - 1)
        body = lines_text(lines, start, end)
        if body.strip():
            out.append(Chunk(path, f"lines {start}-{end}", "lines", label, language, start, end,
                             body))
    return out


# -- Python --------------------------------------------------------------------------------
def module_name(path: str) -> str:
    """``src/pkg/mod.py`` -> ``pkg.mod``; ``pkg/__init__.py`` -> ``pkg``."""
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if parts and parts[0] in ("src", "lib") and len(parts) > 1:
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def called_names(node: ast.AST) -> tuple[str, ...]:
    """Names called anywhere below ``node``: ``f()`` -> f, ``obj.m()`` -> m."""
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            if isinstance(func, ast.Name):
                names.add(func.id)
            elif isinstance(func, ast.Attribute):
                names.add(func.attr)
    return tuple(sorted(names))


def assigned_names(node: ast.stmt) -> list[str]:
    """Names bound at module level by an assignment statement."""
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    out = []
    for t in targets:
        for sub in ast.walk(t):
            if isinstance(sub, ast.Name):
                out.append(sub.id)
    return out


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(int(d.lineno) for d in decorators)])


def _end_line(node: ast.stmt) -> int:
    return node.end_lineno or node.lineno


def _is_docstring(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _is_header(node: ast.stmt, index: int) -> bool:
    """Part of the module header: docstring, imports, ``__all__``, TYPE_CHECKING imports."""
    if index == 0 and _is_docstring(node):
        return True
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and "__all__" in assigned_names(node):
        return True
    allowed: tuple[type[ast.stmt], ...] = (ast.Import, ast.ImportFrom, ast.Pass)
    if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
        allowed = (*allowed, ast.If)
    elif isinstance(node, ast.Try):  # try: import x / except ImportError: x = None
        allowed = (*allowed, ast.Assign)
    else:
        return False
    body = [s for s in ast.walk(node) if isinstance(s, ast.stmt) and s is not node]
    return bool(body) and all(isinstance(s, allowed) for s in body)


class _PythonChunker:
    """Chunks of one parsed Python file."""

    def __init__(self, path: str, text: str, label: str, tree: ast.Module) -> None:
        self.path = path
        self.lines = split_lines(text, keepends=True)
        self.label = label
        self.tree = tree
        self.module = module_name(path)
        self.out: list[Chunk] = []

    def chunk(self, name: str, kind: str, lines: tuple[int, int], text: str | None = None,
              symbols: tuple[Iterable[str], Iterable[str]] = ((), ())) -> None:
        """Add a chunk: ``lines`` (first, last), its text (default: those lines) and the
        names it (defines, calls)."""
        start, end = lines
        body = text if text is not None else lines_text(self.lines, start, end)
        if body.strip():
            self.out.append(Chunk(self.path, name, kind, self.label, "python", start, end, body,
                                  tuple(symbols[0]), tuple(symbols[1]), self.module))

    def run(self) -> list[Chunk]:
        header: list[ast.stmt] = []
        statements: list[ast.stmt] = []
        for i, node in enumerate(self.tree.body):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.flush(statements)
                statements = []
                self.definition(node, "")
            elif _is_header(node, i):
                header.append(node)
            else:
                statements.append(node)
        self.flush(statements)
        self.header(header)
        self.out.sort(key=lambda c: (c.start, c.end))
        return self.out

    def header(self, nodes: list[ast.stmt]) -> None:
        if not nodes:
            return
        parts = [lines_text(self.lines, _first_line(n), _end_line(n)) for n in nodes]
        defines = [n for node in nodes for n in assigned_names(node)]
        self.chunk("<module>", "module", (_first_line(nodes[0]), _end_line(nodes[-1])),
                   text="".join(parts), symbols=(defines, ()))

    def flush(self, nodes: list[ast.stmt]) -> None:
        """Consecutive top-level statements, cut every ``MAX_RUN_LINES`` lines."""
        group: list[ast.stmt] = []
        for node in nodes:
            if group and _end_line(node) - _first_line(group[0]) >= MAX_RUN_LINES:
                self.statements(group)
                group = []
            group.append(node)
        if group:
            self.statements(group)

    def statements(self, nodes: list[ast.stmt]) -> None:
        start, end = _first_line(nodes[0]), _end_line(nodes[-1])
        defines = sorted({n for node in nodes for n in assigned_names(node)})
        calls = sorted({c for node in nodes for c in called_names(node)})
        self.chunk(f"<module>:{start}", "statements", (start, end), symbols=(defines, calls))

    def definition(self, node: ast.stmt, prefix: str) -> None:
        if isinstance(node, ast.ClassDef):
            self.klass(node, prefix)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            kind = "method" if prefix else "function"
            self.chunk(prefix + node.name, kind, (_first_line(node), _end_line(node)),
                       symbols=([node.name], called_names(node)))

    def klass(self, node: ast.ClassDef, prefix: str) -> None:
        """The class summary (members' bodies elided), then each member on its own."""
        qual = prefix + node.name
        start, end = _first_line(node), _end_line(node)
        members = [c for c in node.body
                   if isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        elided = {}  # first elided line -> (last elided line, indent)
        for child in members:
            body = child.body
            if body and body[0].lineno > child.lineno:
                first = body[0].lineno
                indent = re.match(r"[ \t]*", self.lines[first - 1]).group(0)  # type: ignore[union-attr]
                elided[first] = (_end_line(child), indent)
        summary: list[str] = []
        n = start
        while n <= end:
            if n in elided:
                last, indent = elided[n]
                summary.append(f"{indent}...\n")
                n = last + 1
                continue
            summary.append(self.lines[n - 1] if n <= len(self.lines) else "\n")
            n += 1
        calls = sorted({c for child in node.body if child not in members
                        for c in called_names(child)})
        self.chunk(qual, "class", (start, end), text="".join(summary),
                   symbols=([node.name], calls))
        for child in members:
            self.definition(child, qual + ".")


def python_chunks(path: str, text: str, label: str) -> list[Chunk]:
    """Chunks of a Python file; windows of lines when it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return window_chunks(path, text, label, "python")
    return _PythonChunker(path, text, label, tree).run()


# -- JavaScript (tree-sitter) --------------------------------------------------------------
_JS_FUNCTIONS = frozenset({"function_declaration", "generator_function_declaration"})
_JS_FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "function"})


def _js_parser() -> object | None:
    try:
        import tree_sitter
        import tree_sitter_javascript
    except ImportError:
        return None
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_javascript.language()))


def _node_text(source: bytes, node: object) -> str:
    start, end = node.start_byte, node.end_byte  # type: ignore[attr-defined]
    return source[start:end].decode("utf-8", "replace")


def _js_calls(source: bytes, node: object) -> tuple[str, ...]:
    names = set()
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.type == "call_expression":  # type: ignore[attr-defined]
            func = cur.child_by_field_name("function")  # type: ignore[attr-defined]
            if func is not None and func.type == "identifier":
                names.add(_node_text(source, func))
            elif func is not None and func.type == "member_expression":
                prop = func.child_by_field_name("property")
                if prop is not None:
                    names.add(_node_text(source, prop))
        stack.extend(cur.named_children)  # type: ignore[attr-defined]
    return tuple(sorted(names))


def _js_declared_function(node: object, source: bytes) -> str | None:
    """``const f = () => ...`` -> "f"; None for other declarations."""
    for decl in node.named_children:  # type: ignore[attr-defined]
        if decl.type != "variable_declarator":
            continue
        value = decl.child_by_field_name("value")
        name = decl.child_by_field_name("name")
        if value is not None and name is not None and value.type in _JS_FUNCTION_VALUES:
            return _node_text(source, name)
    return None


class _JsChunker:
    def __init__(self, path: str, text: str, label: str, language: str = "javascript") -> None:
        self.language = language
        self.path = path
        self.text = text
        self.source = text.encode("utf-8")
        self.lines = split_lines(text, keepends=True)
        self.label = label
        self.out: list[Chunk] = []

    def add(self, name: str, kind: str, node: object, text: str | None = None,
            defines: Sequence[str] = ()) -> None:
        start = node.start_point[0] + 1  # type: ignore[attr-defined]
        end = node.end_point[0] + 1  # type: ignore[attr-defined]
        body = text if text is not None else lines_text(self.lines, start, end)
        self.out.append(Chunk(self.path, name, kind, self.label, self.language, start, end,
                              body, tuple(defines), _js_calls(self.source, node)))

    def run(self, root: object) -> list[Chunk]:
        header: list[object] = []
        rest: list[object] = []
        for node in root.named_children:  # type: ignore[attr-defined]
            decl = node
            if node.type == "export_statement":
                decl = node.child_by_field_name("declaration") or node
            if node.type == "import_statement":
                header.append(node)
            elif not self.declaration(decl):
                rest.append(node)
        if header:
            text = "".join(_node_text(self.source, n) + "\n" for n in header)
            self.add("<module>", "module", header[0], text=text)
        for node in rest:
            if node.type != "comment":  # type: ignore[attr-defined]
                self.add(f"<module>:{node.start_point[0] + 1}", "statements", node)  # type: ignore[attr-defined]
        self.out.sort(key=lambda c: (c.start, c.end))
        return self.out

    def declaration(self, node: object) -> bool:
        kind = node.type  # type: ignore[attr-defined]
        name_node = node.child_by_field_name("name")  # type: ignore[attr-defined]
        if kind in _JS_FUNCTIONS and name_node is not None:
            name = _node_text(self.source, name_node)
            self.add(name, "function", node, defines=[name])
            return True
        if kind in ("lexical_declaration", "variable_declaration"):
            fname = _js_declared_function(node, self.source)
            if fname is not None:
                self.add(fname, "function", node, defines=[fname])
                return True
        if kind in ("class_declaration", "abstract_class_declaration") and name_node is not None:
            self.klass(node, _node_text(self.source, name_node))
            return True
        if kind in _TS_TYPES and name_node is not None:
            name = _node_text(self.source, name_node)
            self.add(name, "type", node, defines=[name])
            return True
        return False

    def klass(self, node: object, name: str) -> None:
        body = node.child_by_field_name("body")  # type: ignore[attr-defined]
        methods = [m for m in (body.named_children if body is not None else [])
                   if m.type == "method_definition"]
        summary = _node_text(self.source, node)
        for m in methods:
            inner = m.child_by_field_name("body")
            if inner is not None:
                summary = summary.replace(_node_text(self.source, inner), "{ ... }", 1)
        self.add(name, "class", node, text=summary + "\n", defines=[name])
        for m in methods:
            mname_node = m.child_by_field_name("name")
            if mname_node is not None:
                mname = _node_text(self.source, mname_node)
                line = self.lines[m.start_point[0]]
                indent = line[:len(line) - len(line.lstrip())]
                self.add(f"{name}.{mname}", "method", m,
                         text=indent + _node_text(self.source, m) + "\n", defines=[mname])


_TS_TYPES = frozenset({"interface_declaration", "type_alias_declaration", "enum_declaration"})


def _parser(grammar: str) -> object | None:
    """The reviewer's tree-sitter parser for a grammar, None without the extra."""
    try:
        from reviewer.languages.treesitter import parser_for

        parser: object = parser_for(grammar)
        return parser
    except ImportError:
        return None


def javascript_chunks(path: str, text: str, label: str,
                      language: str = "javascript") -> list[Chunk]:
    """Chunks of a JavaScript or TypeScript file (windows of lines without tree-sitter)."""
    if language == "typescript":
        parser = _parser("tsx" if path.lower().endswith(".tsx") else "typescript")
    else:
        parser = _js_parser()
    if parser is None:
        return window_chunks(path, text, label, language)
    tree = parser.parse(text.encode("utf-8"))  # type: ignore[attr-defined]
    return _JsChunker(path, text, label, language).run(tree.root_node)


def go_chunks(path: str, text: str, label: str) -> list[Chunk]:
    """Chunks of a Go file: the package and imports, each function, method and type, and
    runs of other declarations (windows of lines without tree-sitter)."""
    parser = _parser("go")
    if parser is None:
        return window_chunks(path, text, label, "go")
    source = text.encode("utf-8")
    root = parser.parse(source).root_node  # type: ignore[attr-defined]
    lines = split_lines(text, keepends=True)
    out: list[Chunk] = []

    def add(name: str, kind: str, node: object, defines: Sequence[str] = ()) -> None:
        start = node.start_point[0] + 1  # type: ignore[attr-defined]
        end = node.end_point[0] + 1  # type: ignore[attr-defined]
        out.append(Chunk(path, name, kind, label, "go", start, end,
                         lines_text(lines, start, end), tuple(defines), _js_calls(source, node)))

    header = [n for n in root.named_children if n.type in ("package_clause", "import_declaration")]
    if header:
        start, end = header[0].start_point[0] + 1, header[-1].end_point[0] + 1
        out.append(Chunk(path, "<module>", "module", label, "go", start, end,
                         lines_text(lines, start, end), (), ()))
    for node in root.named_children:
        name_node = node.child_by_field_name("name")
        if node.type == "function_declaration" and name_node is not None:
            name = _node_text(source, name_node)
            add(name, "function", node, [name])
        elif node.type == "method_declaration" and name_node is not None:
            name = _node_text(source, name_node)
            receiver = node.child_by_field_name("receiver")
            rtype = ""
            if receiver is not None:
                rtype = _node_text(source, receiver).strip("()").split()[-1].lstrip("*")
                rtype = rtype.split("[")[0]
            add(f"{rtype}.{name}" if rtype else name, "method", node, [name])
        elif node.type == "type_declaration":
            names = [_node_text(source, spec.child_by_field_name("name"))
                     for spec in node.named_children
                     if spec.type in ("type_spec", "type_alias")
                     and spec.child_by_field_name("name") is not None]
            add(names[0] if names else f"<types>:{node.start_point[0] + 1}", "type", node, names)
        elif node.type in ("var_declaration", "const_declaration"):
            add(f"<module>:{node.start_point[0] + 1}", "statements", node)
    out.sort(key=lambda c: (c.start, c.end))
    return out


# -- documents -----------------------------------------------------------------------------
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_RST_ADORNMENT = re.compile(r"^([=\-~^\"'`#*+_.:])\1{2,}\s*$")

Heading = tuple[int, int, str]  # (line, level, title)


def markdown_headings(text: str) -> list[Heading]:
    """ATX headings outside fenced code blocks."""
    out: list[Heading] = []
    fence: str | None = None
    for n, line in enumerate(split_lines(text), 1):
        m = _FENCE.match(line)
        if m:
            mark = m.group(1)[0] * 3
            fence = None if fence == mark else (fence or mark)
            continue
        if fence is None:
            h = _MD_HEADING.match(line)
            if h:
                out.append((n, len(h.group(1)), h.group(2).strip()))
    return out


def rst_headings(text: str) -> list[Heading]:
    """reST section titles (underlined, optionally overlined); levels in order of first use."""
    lines = split_lines(text)
    styles: list[tuple[str, bool]] = []
    out: list[Heading] = []
    n = 0
    while n < len(lines) - 1:
        title, under = lines[n], lines[n + 1]
        over = n > 0 and bool(_RST_ADORNMENT.match(lines[n - 1]))
        if (title.strip() and not _RST_ADORNMENT.match(title) and _RST_ADORNMENT.match(under)
                and len(under.rstrip()) >= len(title.rstrip())):
            style = (under[0], over)
            if style not in styles:
                styles.append(style)
            out.append((n if over else n + 1, styles.index(style) + 1, title.strip()))
            n += 2
            continue
        n += 1
    return out


def _split_long(start: int, lines: Sequence[str], limit: int) -> Iterator[tuple[int, int]]:
    """(first, last) line ranges of at most ~``limit`` characters, cut at blank lines."""
    first, size, last_blank = start, 0, None
    for offset, line in enumerate(lines):
        n = start + offset
        size += len(line)
        if not line.strip():
            last_blank = n
        if size > limit and last_blank is not None and last_blank > first:
            yield first, last_blank
            first = last_blank + 1
            size = sum(len(x) for x in lines[first - start:offset + 1])
            last_blank = None
    if first <= start + len(lines) - 1:
        yield first, start + len(lines) - 1


def section_chunks(path: str, text: str, label: str, language: str,
                   headings: list[Heading]) -> list[Chunk]:
    """One chunk per section (long sections cut at blank lines); names are heading paths."""
    lines = split_lines(text, keepends=True)
    # Text before the first heading is named after the file and is no heading's parent.
    preamble = [(1, 99, PurePosixPath(path).name)]
    bounds = preamble if not headings or headings[0][0] > 1 else []
    bounds += headings
    out: list[Chunk] = []
    trail: list[tuple[int, str]] = []
    for i, (line, level, title) in enumerate(bounds):
        end = bounds[i + 1][0] - 1 if i + 1 < len(bounds) else len(lines)
        trail = [(lv, t) for lv, t in trail if lv < level] + [(level, title)]
        name = " > ".join(t for _, t in trail)
        pieces = list(_split_long(line, lines[line - 1:end], MAX_DOC_CHARS))
        for part, (a, b) in enumerate(pieces, 1):
            body = lines_text(lines, a, b)
            if not body.strip():
                continue
            pname = name if len(pieces) == 1 else f"{name} ({part})"
            out.append(Chunk(path, pname, "section", label, language, a, b, body,
                             defines=(title,) if part == 1 else ()))
    return out


# -- config files --------------------------------------------------------------------------
_SECTION = {
    "toml": re.compile(r"^\[\[?[^\]]+\]\]?\s*(#.*)?$"),
    "ini": re.compile(r"^\[[^\]]+\]\s*$"),
    "yaml": re.compile(r"^[A-Za-z0-9_\"'][^:#]*:"),
}


def config_chunks(path: str, text: str, language: str) -> list[Chunk]:
    """Small config files whole; larger ones one chunk per top-level section."""
    lines = split_lines(text, keepends=True)
    whole = [Chunk(path, PurePosixPath(path).name, "config", "config", language, 1,
                   max(1, len(lines)), lines_text(lines, 1, len(lines)))]
    pattern = _SECTION.get(language)
    if len(text) <= MAX_CONFIG_CHARS or pattern is None:
        return whole
    starts = [n for n, line in enumerate(lines, 1) if pattern.match(line)]
    if not starts:
        return window_chunks(path, text, "config", language)
    if starts[0] != 1:
        starts.insert(0, 1)
    out = []
    for i, a in enumerate(starts):
        b = starts[i + 1] - 1 if i + 1 < len(starts) else len(lines)
        title = lines[a - 1].strip().rstrip(":") if a > 1 or pattern.match(lines[0]) else "top"
        body = lines_text(lines, a, b)
        if body.strip():
            out.append(Chunk(path, f"{PurePosixPath(path).name} {title}", "config", "config",
                             language, a, b, body))
    return out
