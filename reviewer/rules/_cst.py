"""Deterministic fixes as libcst transforms of the statements a finding is on.

A fix rewrites the flagged statement (its whole lines, dedented) with libcst, which keeps
comments and formatting, and becomes one :class:`~reviewer.findings.TextEdit` over the
lines that changed: every other line of the file stays byte-identical. Module-level
additions (an import, a logger) are a second edit, an insertion that is the same for every
fix of a file (``apply_edits`` applies identical edits once). libcst is imported only when
a fix is built; without it (the ``fixes`` extra), rules offer no fix.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reviewer.findings import Fix, TextEdit, split_lines
from reviewer.languages.python import dotted_name

if TYPE_CHECKING:
    from reviewer.languages.python import PyContext

# (snippet module) -> the transformed module, or None when the transform does not apply.
Transform = Callable[[Any], Any]


def available(ctx: PyContext) -> bool:
    """Whether the review of ``ctx`` wants libcst fixes (``ctx.want_fixes``: ``reviewer
    check`` only reports and turns them off) and libcst can be imported: fixes are offered
    only then. Ask before any other work on a fix."""
    if not ctx.want_fixes:
        return False
    try:
        import libcst  # noqa: F401
    except ImportError:
        return False
    return True


def statement_of(ctx: PyContext, node: ast.AST) -> ast.stmt | None:
    """The simple statement ``node`` is part of (None inside a compound statement's header,
    or when the statement shares its lines with another one)."""
    cur: ast.AST | None = node
    while cur is not None and not isinstance(cur, ast.stmt):
        cur = ctx.parent(cur)
    if cur is None or isinstance(cur, _COMPOUND):
        return None
    return cur


_COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For,
             ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.Match)


def rewrite(
    ctx: PyContext, first: int, last: int, transform: Transform
) -> TextEdit | None:
    """The edit that replaces lines ``first..last`` (1-based) by ``transform`` applied to
    them (parsed as a module, dedented), narrowed to the lines that changed; None when the
    lines do not parse alone or the transform declines."""
    if not ctx.want_fixes:
        return None
    try:
        import libcst as cst
    except ImportError:
        return None
    lines = split_lines(ctx.source, keepends=True)
    if not 1 <= first <= last <= len(lines):
        return None
    chunk = "".join(lines[first - 1 : last])
    no_newline = not chunk.endswith(("\n", "\r"))
    if no_newline:
        chunk += "\n"
    import textwrap  # only when a fix is built: not on every review's start

    dedented = textwrap.dedent(chunk)
    indent = _indent_of(chunk, dedented)
    if _indented(dedented, indent) != chunk:
        return None  # a multi-line string that dedent would change
    try:
        module = cst.parse_module(dedented)
    except (cst.ParserSyntaxError, RecursionError):
        return None
    new = transform(module)
    if new is None:
        return None
    code = _indented(new.code, indent)
    if code == chunk:
        return None
    old_lines, new_lines = chunk.splitlines(keepends=True), code.splitlines(keepends=True)
    head = 0
    while head < min(len(old_lines), len(new_lines)) and old_lines[head] == new_lines[head]:
        head += 1
    tail = 0
    while (tail < min(len(old_lines), len(new_lines)) - head
           and old_lines[-1 - tail] == new_lines[-1 - tail]):
        tail += 1
    body = "".join(new_lines[head : len(new_lines) - tail])
    end = first + len(old_lines) - tail  # the first line kept after the edit
    if no_newline and tail == 0:
        body = body.removesuffix("\n")
        return TextEdit(first + head, 1, end - 1, len(lines[-1]) + 1, body)
    return TextEdit(first + head, 1, end, 1, body)


def _indent_of(chunk: str, dedented: str) -> str:
    first = next((ln for ln in chunk.splitlines() if ln.strip()), "")
    first_d = next((ln for ln in dedented.splitlines() if ln.strip()), "")
    return first[: len(first) - len(first_d)]


def _indented(code: str, indent: str) -> str:
    if not indent:
        return code
    return "".join(indent + ln if ln.strip() else ln for ln in code.splitlines(keepends=True))


def replace_node(target: str, build: Callable[[Any], Any]) -> Transform:
    """A transform replacing the first node whose code is ``target`` (the flagged node as
    written) by ``build(node)``; it declines when ``build`` returns None or nothing
    matches."""
    import libcst as cst

    class Replace(cst.CSTTransformer):
        def __init__(self) -> None:
            super().__init__()
            self.done = False
            self.failed = False
            self.empty = cst.Module(body=[])

        def on_leave(self, original: Any, updated: Any) -> Any:
            if self.done or not isinstance(original, (cst.BaseExpression, cst.BaseStatement,
                                                      cst.BaseSmallStatement)):
                return updated
            if self.empty.code_for_node(original).strip() != target:
                return updated
            self.done = True
            new = build(updated)
            if new is None:
                self.failed = True
                return updated
            return new

    def run(module: Any) -> Any:
        visitor = Replace()
        new = module.visit(visitor)
        return new if visitor.done and not visitor.failed else None

    return run


def source_of(ctx: PyContext, node: ast.AST) -> str | None:
    """The code of ``node`` as written, stripped (None when it cannot be located); from the
    lines the context split once (``ast.get_source_segment`` splits the file per call)."""
    text = ctx.segment(node)
    return text.strip() or None


def lines_of(node: ast.AST) -> tuple[int, int]:
    """The first and last line of a node."""
    return node.lineno, getattr(node, "end_lineno", None) or node.lineno  # type: ignore[attr-defined]


def module_insertion(ctx: PyContext, text: str) -> TextEdit | None:
    """An edit inserting ``text`` (whole lines) after the module's last top-level import
    (after its docstring when it has none); None when the file has no line there."""
    body = ctx.tree.body
    after = 0
    for stmt in body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            after = stmt.end_lineno or stmt.lineno
    if after == 0 and body and isinstance(body[0], ast.Expr) \
            and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        after = body[0].end_lineno or body[0].lineno
    lines = split_lines(ctx.source, keepends=True)
    if after >= len(lines) and lines and not lines[-1].endswith("\n"):
        return None
    return TextEdit(after + 1, 1, after + 1, 1, text)


def module_imports(ctx: PyContext, module: str) -> bool:
    """Whether the module imports ``module`` itself at top level (``import logging``)."""
    for stmt in ctx.tree.body:
        if isinstance(stmt, ast.Import) and any(
            a.name == module and a.asname is None for a in stmt.names
        ):
            return True
    return False


def module_binds(ctx: PyContext, name: str) -> bool:
    """Whether ``name`` is bound anywhere in the module (assigned, imported, defined)."""
    for node in ast.walk(ctx.tree):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and node.name == name:
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
            (a.asname or a.name).split(".")[0] == name for a in node.names
        ):
            return True
        if isinstance(node, ast.arg) and node.arg == name:
            return True
    return False


def logger_setup(ctx: PyContext) -> tuple[str, list[TextEdit]]:
    """The module logger's name and the insertions that create it (the import and the
    assignment are separate edits, so that another fix's ``import os`` sorts between)."""
    for stmt in ctx.tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], ast.Name) and isinstance(stmt.value, ast.Call) \
                and dotted_name(stmt.value.func) == "logging.getLogger":
            return stmt.targets[0].id, []
    if module_binds(ctx, "logger"):
        return "", []
    has_import = module_imports(ctx, "logging")
    if not has_import and module_binds(ctx, "logging"):
        return "", []
    texts = ([] if has_import else ["import logging\n"]) + [
        "logger = logging.getLogger(__name__)\n"]
    edits = [module_insertion(ctx, t) for t in texts]
    if any(e is None for e in edits):
        return "", []
    return "logger", [e for e in edits if e is not None]


def make_fix(description: str, *edits: TextEdit | None, safe: bool) -> Fix | None:
    """A rule fix of ``edits`` (None when any of them could not be built)."""
    if not edits or any(e is None for e in edits):
        return None
    got = tuple(e for e in edits if e is not None)
    return Fix(description, tuple(sorted(got, key=lambda e: (e.line, e.col))), safe=safe)
