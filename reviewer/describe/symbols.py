"""Definitions of one file version, per language: the symbols ``describe`` compares.

A language plugs in with a :class:`SymbolReader` (``name``, ``extensions``, ``symbols``,
``calls``) in the plain registry :data:`READERS`. Python is read with the stdlib ``ast``;
JavaScript, TypeScript and Go readers are added when those languages are reviewed.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol


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

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]

    @property
    def public(self) -> bool:
        return not any(part.startswith("_") and not (part.startswith("__") and
                                                     part.endswith("__"))
                       for part in self.qualname.split("."))


class SymbolReader(Protocol):
    """What ``describe`` needs from a language."""

    name: str
    extensions: tuple[str, ...]

    def symbols(self, source: str) -> dict[str, Symbol] | None:
        """qualname -> symbol; None when the source does not parse."""
        ...

    def calls(self, source: str, name: str) -> list[int]:
        """Lines where a function or method called ``name`` is called."""
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


def _hash(*nodes: object) -> str:
    h = hashlib.sha256()
    for n in nodes:
        h.update((ast.dump(n) if isinstance(n, ast.AST) else repr(n)).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _walk(body: list[ast.stmt], prefix: str, in_class: bool) -> Iterator[Symbol]:
    for node in body:
        if not isinstance(node, _DEFS):
            continue
        qual = f"{prefix}{node.name}"
        end = node.end_lineno or node.lineno
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        if isinstance(node, ast.ClassDef):
            own = [s for s in node.body if not isinstance(s, _DEFS)]
            yield Symbol(qual, "class", first, end,
                         _hash(*node.bases, *node.keywords, *node.decorator_list, *own))
            yield from _walk(node.body, f"{qual}.", True)
        else:
            kind = "method" if in_class else "function"
            yield Symbol(qual, kind, first, end,
                         _hash(node.args, node.returns, *node.decorator_list, *node.body,
                               type(node).__name__),
                         _signature(node))


class PythonReader:
    """Python, with the stdlib ``ast``."""

    name: str = "python"
    extensions: tuple[str, ...] = (".py", ".pyi")

    def symbols(self, source: str) -> dict[str, Symbol] | None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError):
            return None
        return {s.qualname: s for s in _walk(tree.body, "", False)}

    def calls(self, source: str, name: str) -> list[int]:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError):
            return []
        lines = []
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if (isinstance(f, ast.Name) and f.id == name) or (
                    isinstance(f, ast.Attribute) and f.attr == name):
                lines.append(node.lineno)
        return sorted(set(lines))

    def is_test(self, path: str) -> bool:
        base = path.rsplit("/", 1)[-1]
        parts = path.split("/")[:-1]
        return (base.startswith("test_") or base.endswith("_test.py") or base == "conftest.py"
                or any(p in ("tests", "test", "testing") for p in parts))

    def imports(self, source: str) -> set[str]:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError):
            return set()
        out: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                out.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                out.add(mod)
                out.update(f"{mod}.{a.name}" if mod else a.name for a in node.names)
        return out


READERS: dict[str, SymbolReader] = {"python": PythonReader()}


def reader_for(path: str) -> SymbolReader | None:
    """The reader owning ``path`` by its extension (None: no symbols for this file)."""
    for reader in READERS.values():
        if path.endswith(reader.extensions):
            return reader
    return None


def mentions(text: str, name: str) -> bool:
    """Whether ``name`` occurs in ``text`` as a whole word."""
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text) is not None
