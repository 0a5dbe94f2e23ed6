"""Definitions of one file version, per language: the symbols ``describe`` compares.

A language plugs in with a :class:`SymbolReader` (``name``, ``extensions``, ``symbols``,
``calls``) in the plain registry :data:`READERS`. Python is read with the stdlib ``ast``;
JavaScript, TypeScript and Go are read with tree-sitter (:mod:`reviewer.describe.tssymbols`,
registered on the first :func:`reader_for`; ``tree_sitter`` itself is imported only when
such a file is parsed).
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Region:
    """Lines ``start``..``end`` (1-based, inclusive) of one top-level statement; ``name``:
    the function or class it defines (None: not a definition)."""

    start: int
    end: int
    name: str | None = None
    # "def", "class" or "" at the top level; "member" (a statement of class ``owner``'s
    # body) or "class-own" (class ``owner`` without its members) inside a class.
    kind: str = ""
    owner: str = ""


@dataclass(frozen=True)
class Param:
    """One parameter: its name, kind, default and annotation (source text or None)."""

    name: str
    kind: str  # "positional-only", "positional", "*args", "keyword-only", "**kwargs"
    default: str | None = None
    annotation: str | None = None


@dataclass(frozen=True)
class Signature:
    """The parameters and return annotation of a function."""

    params: tuple[Param, ...]
    returns: str | None = None

    def text(self) -> str:
        parts = []
        for p in self.params:
            star = {"*args": "*", "**kwargs": "**"}.get(p.kind, "")
            s = star + p.name + (f": {p.annotation}" if p.annotation else "")
            if p.default is not None:
                s += f" = {p.default}" if p.annotation else f"={p.default}"
            parts.append(s)
        ret = f" -> {self.returns}" if self.returns else ""
        return f"({', '.join(parts)}){ret}"


@dataclass(frozen=True)
class Symbol:
    """A function, method or class of one file version."""

    qualname: str  # "Class.method", "function"
    kind: str  # "function", "method", "class"
    line: int
    end_line: int
    body_hash: str  # what it does, its own name left out (a renamed copy hashes the same)
    signature: Signature | None = None
    # Whether the language exports it (JS/TS ``export``, Go capitalised); None: Python's
    # rule, no part of the qualified name starts with "_" (dunders aside).
    exported: bool | None = None

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]

    @property
    def public(self) -> bool:
        if self.exported is not None:
            return self.exported
        return not any(part.startswith("_") and not (part.startswith("__") and
                                                     part.endswith("__"))
                       for part in self.qualname.split("."))


class SymbolReader(Protocol):
    """What ``describe`` needs from a language."""

    name: str
    extensions: tuple[str, ...]

    def regions(self, source: str) -> list[Region]:
        """The top-level statements by lines, found without parsing (a cheap outline)."""
        ...

    def members(self, source: str, region: Region) -> list[Region] | None:
        """The statements of a class region's body (None: no reliable outline)."""
        ...

    def symbols(self, source: str, regions: Sequence[Region] | None = None
                ) -> dict[str, Symbol] | None:
        """qualname -> symbol of the whole source, or of ``regions`` only; None when the
        source does not parse."""
        ...

    def calls(self, source: str, name: str, regions: Sequence[Region] | None = None
              ) -> list[int]:
        """Lines where a function or method called ``name`` is called (in ``regions``
        only, when given)."""
        ...

    def is_test(self, path: str) -> bool:
        """Whether ``path`` holds tests."""
        ...

    def imports(self, source: str) -> set[str]:
        """Modules and names the file imports (dotted, as written)."""
        ...


def _text(node: ast.AST | None) -> str | None:
    return None if node is None else ast.unparse(node)


def _signature(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> Signature:
    a = fn.args
    params: list[Param] = []
    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults))
    defaults += list(a.defaults)
    for i, (arg, default) in enumerate(zip(positional, defaults, strict=True)):
        kind = "positional-only" if i < len(a.posonlyargs) else "positional"
        params.append(Param(arg.arg, kind, _text(default), _text(arg.annotation)))
    if a.vararg is not None:
        params.append(Param(a.vararg.arg, "*args", None, _text(a.vararg.annotation)))
    for arg, kw_default in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        params.append(Param(arg.arg, "keyword-only", _text(kw_default), _text(arg.annotation)))
    if a.kwarg is not None:
        params.append(Param(a.kwarg.arg, "**kwargs", None, _text(a.kwarg.annotation)))
    return Signature(tuple(params), _text(fn.returns))


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_HEADER = re.compile(r"(?:async\s+def|def|class)\s+([A-Za-z_]\w*)")
_NOT_A_START = " \t#)]}"


def _header(lines: list[str], default: str) -> tuple[str | None, str]:
    """(name, "def"/"class") of the definition a statement's lines open (decorators
    skipped), or (None, ``default``)."""
    for line in lines:
        m = _HEADER.match(line)
        if m:
            return m.group(1), "class" if line.startswith("class") else "def"
        if not line.startswith("@"):
            break
    return None, default


def _class_own(reader: PythonReader, source: str, lines: list[str], r: Region
               ) -> list[Symbol] | None:
    """The class symbol of region ``r`` from its own lines, its members left out."""
    members = reader.members(source, Region(r.start, r.end, r.owner, "class"))
    if members is None:
        return None
    own = lines[r.start - 1:r.end]
    for m in members:
        if m.name is not None:
            for i in range(m.start - r.start, m.end - r.start + 1):
                own[i] = ""
    code = [i for i, ln in enumerate(own) if ln.strip() and not ln.lstrip().startswith("#")]
    at = next((i for i, ln in enumerate(own) if _HEADER.match(ln)), None)
    if not code or at is None:
        return None
    own[at] = own[at].replace(r.owner, "\0", 1)
    last = max([code[-1], *(m.end - r.start for m in members if m.name is not None)])
    # The class ends at its last code line (trailing comments and blank lines are not in it).
    end_line = r.start + last
    while end_line > r.start and not _is_code(lines[end_line - 1]):
        end_line -= 1
    return [Symbol(r.owner, "class", r.start, end_line, _digest(own))]


def _is_code(line: str) -> bool:
    text = line.strip()
    return bool(text) and not text.startswith("#")


def _open_string(text: str) -> bool:
    """Whether ``text`` leaves a triple-quoted string open (a cheap count, no tokenizer)."""
    return text.count('"""') % 2 == 1 or text.count("'''") % 2 == 1


def _digest(lines: list[str]) -> str:
    """A hash of code lines, blank lines, comment lines and indentation left out."""
    h = hashlib.sha256()
    for line in lines:
        text = line.strip()
        if text and not text.startswith("#"):
            h.update(text.encode("utf-8", "surrogatepass"))
            h.update(b"\n")
    return h.hexdigest()[:16]


def _walk(body: list[ast.stmt], prefix: str, in_class: bool,
          lines: list[str], offset: int = 0) -> Iterator[Symbol]:
    """Symbols of ``body`` (``lines``: the parsed text; ``offset``: lines above it)."""
    for node in body:
        if not isinstance(node, _DEFS):
            continue
        qual = f"{prefix}{node.name}"
        end = node.end_lineno or node.lineno
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        own = lines[first - 1:end]
        # The definition's own name is left out, so a renamed copy hashes the same.
        at = node.lineno - first
        if 0 <= at < len(own):
            own[at] = own[at].replace(node.name, "\0", 1)
        if isinstance(node, ast.ClassDef):
            for inner in node.body:  # a class changes by its own lines, not its methods'
                if isinstance(inner, _DEFS):
                    lo = min([inner.lineno, *(d.lineno for d in inner.decorator_list)])
                    for i in range(lo - first, (inner.end_lineno or inner.lineno) - first + 1):
                        own[i] = ""
            yield Symbol(qual, "class", first + offset, end + offset, _digest(own))
            yield from _walk(node.body, f"{qual}.", True, lines, offset)
        else:
            kind = "method" if in_class else "function"
            yield Symbol(qual, kind, first + offset, end + offset, _digest(own),
                         _signature(node))


class PythonReader:
    """Python, with the stdlib ``ast``."""

    name: str = "python"
    extensions: tuple[str, ...] = (".py", ".pyi")

    def regions(self, source: str) -> list[Region]:
        lines = source.splitlines()
        starts = []
        decorated = False
        for i, line in enumerate(lines):
            top = bool(line) and line[0] not in _NOT_A_START and not (
                i and lines[i - 1].endswith("\\"))
            if top and not decorated:
                starts.append(i)
            if top:
                decorated = line.startswith("@")
        out: list[Region] = []
        k = 0
        while k < len(starts):
            start, j = starts[k], k + 1
            # A string spanning several column-0 lines: keep the pieces together.
            while j < len(starts) and _open_string("\n".join(lines[start:starts[j]])):
                j += 1
            end = starts[j] if j < len(starts) else len(lines)
            name, kind = _header(lines[start:end], "")
            out.append(Region(start + 1, end, name, kind))
            k = j
        return out

    def members(self, source: str, region: Region) -> list[Region] | None:
        lines = source.splitlines()
        body = lines[region.start - 1:region.end]
        at = next((i for i, ln in enumerate(body) if _HEADER.match(ln)), None)
        if at is None or not body[at].split("#")[0].rstrip().endswith(":"):
            return None  # a header over several lines, or a one-line class
        code = [i for i in range(at + 1, len(body))
                if body[i].strip() and not body[i].lstrip().startswith("#")]
        if not code:
            return None
        indent = body[code[0]][:len(body[code[0]]) - len(body[code[0]].lstrip())]
        if not indent:
            return None
        starts = []
        decorated = False
        for i in code:
            line = body[i]
            if not line.startswith(indent):
                if line[:1] not in (" ", "\t"):
                    continue  # a string or bracket at column 0: inside some member
                return None
            rest = line[len(indent):]
            top = rest[:1] not in _NOT_A_START and not body[i - 1].endswith("\\")
            if top and not decorated:
                starts.append(i)
            if top:
                decorated = rest.startswith("@")
        out: list[Region] = []
        k = 0
        while k < len(starts):
            first, j = starts[k], k + 1
            while j < len(starts) and _open_string("\n".join(body[first:starts[j]])):
                j += 1
            last = starts[j] if j < len(starts) else len(body)
            name, kind = _header([ln[len(indent):] for ln in body[first:last]], "")
            out.append(Region(region.start + first, region.start + last - 1,
                              f"{region.name}.{name}" if name else None,
                              "member" if kind else "", region.name or ""))
            k = j
        return out

    def symbols(self, source: str, regions: Sequence[Region] | None = None
                ) -> dict[str, Symbol] | None:
        lines = source.splitlines()
        if regions is not None:
            out: dict[str, Symbol] = {}
            for r in regions:
                got = self._region_symbols(source, lines, r)
                if got is None:
                    break  # cut inside a bracket: read the whole file
                out.update((s.qualname, s) for s in got)
            else:
                return out
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError):
            return None
        return {s.qualname: s for s in _walk(tree.body, "", False, lines)}

    def _region_symbols(self, source: str, lines: list[str], r: Region
                        ) -> list[Symbol] | None:
        if r.name is None:
            return []
        part = lines[r.start - 1:r.end]
        if r.kind == "class-own":
            return _class_own(self, source, lines, r)
        head = ["class _:"] if r.kind == "member" else []
        try:
            tree = ast.parse("\n".join([*head, *part]))
        except (SyntaxError, ValueError, RecursionError):
            return None
        if r.kind == "member":
            body = tree.body[0].body if isinstance(tree.body[0], ast.ClassDef) else []
            return list(_walk(body, f"{r.owner}.", True, [*head, *part], r.start - 2))
        return list(_walk(tree.body, "", False, part, r.start - 1))

    def calls(self, source: str, name: str, regions: Sequence[Region] | None = None
              ) -> list[int]:
        trees: list[tuple[ast.AST, int]] = []
        lines = source.splitlines()
        for r in regions or ():
            try:
                trees.append((ast.parse("\n".join(lines[r.start - 1:r.end])), r.start - 1))
            except (SyntaxError, ValueError, RecursionError):
                trees = []
                break
        if not trees:
            try:
                trees = [(ast.parse(source), 0)]
            except (SyntaxError, ValueError, RecursionError):
                return []
        found = set()
        for tree, offset in trees:
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                f = node.func
                if (isinstance(f, ast.Name) and f.id == name) or (
                        isinstance(f, ast.Attribute) and f.attr == name):
                    found.add(node.lineno + offset)
        return sorted(found)

    def is_test(self, path: str) -> bool:
        base = path.rsplit("/", 1)[-1]
        parts = path.split("/")[:-1]
        return (base.startswith("test_") or base.endswith("_test.py") or base == "conftest.py"
                or any(p in ("tests", "test", "testing") for p in parts))

    def imports(self, source: str) -> set[str]:
        # Import statements by their lines (no parse: a test file can be long).
        out: set[str] = set()
        lines = source.splitlines()
        for i, line in enumerate(lines):
            m = _IMPORT.match(line)
            if m is None:
                continue
            if m.group(1) is not None:
                names = m.group(2)
                if names.lstrip().startswith("("):
                    j = i
                    while ")" not in names and j + 1 < len(lines):
                        j += 1
                        names += " " + lines[j]
                mod = m.group(1)
                out.add(mod)
                bare = re.sub(r"\s+as\s+\w+", "", names.split("#")[0])
                out.update(f"{mod}.{n}" for n in re.findall(r"[A-Za-z_]\w*", bare))
            else:
                out.update(part.split(" as ")[0].strip() for part in m.group(3).split(","))
        return out


_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\s+(.+)|import\s+([\w., \t]+))")


def mentions(text: str, name: str) -> bool:
    """Whether ``name`` occurs in ``text`` as a whole word."""
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text) is not None
