"""Shared helpers for the function-shape rules (RV301-RV306) and the public-API rules
(RV401, RV402): statement-level walks, the measures pylint and mccabe define, the facts
about a definition (method? overload? property accessor?) and where to report it.

Every walk here visits statements only (bodies, ``else`` blocks, handlers, ``finally``
blocks, ``case`` blocks), never expressions: statements are about a tenth of a module's
nodes, which keeps these rules cheap on large trees.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from reviewer.findings import Finding, Span
from reviewer.languages.python import FunctionNode, PyContext, dotted_name
from reviewer.rules.base import Rule

FUNCTION_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef)
SCOPE_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
LOOP_TYPES = (ast.For, ast.AsyncFor, ast.While)
# ``try``/``except*`` (ast.TryStar) exists from Python 3.11.
TRY_TYPES: tuple[type[ast.stmt], ...] = (
    ast.Try, *((ast.TryStar,) if hasattr(ast, "TryStar") else ()),
)
# Statements that open a nested block for RV304 (a ``def`` or ``class`` opens a new scope).
BLOCK_TYPES: tuple[type[ast.stmt], ...] = (
    ast.If, *LOOP_TYPES, *TRY_TYPES, ast.With, ast.AsyncWith, ast.Match,
)


# -- walking statements -------------------------------------------------------------------
_BODY = ("body",)
_WITH_ELSE = ("body", "orelse")
_TRY = ("body", "handlers", "orelse", "finalbody")
# The statement lists of each compound statement, in source order.
BLOCK_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {
    ast.FunctionDef: _BODY, ast.AsyncFunctionDef: _BODY, ast.ClassDef: _BODY,
    ast.With: _BODY, ast.AsyncWith: _BODY, ast.If: _WITH_ELSE, ast.For: _WITH_ELSE,
    ast.AsyncFor: _WITH_ELSE, ast.While: _WITH_ELSE, ast.Match: ("cases",),
    **{t: _TRY for t in TRY_TYPES},
}


def child_statements(stmt: ast.stmt) -> Iterator[ast.stmt]:
    """The statements directly inside a compound statement, in source order."""
    for name in BLOCK_FIELDS.get(type(stmt), ()):
        for child in getattr(stmt, name):
            if isinstance(child, ast.stmt):
                yield child
            else:  # an except handler or a match case
                handler_or_case: ast.ExceptHandler | ast.match_case = child
                yield from handler_or_case.body


def is_docstring(stmt: ast.stmt) -> bool:
    """A string literal expression statement."""
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def docstring_node(node: ast.AST) -> ast.Expr | None:
    """The docstring statement of a module, class or function, if any."""
    body = getattr(node, "body", None)
    if isinstance(body, list) and body and is_docstring(body[0]):
        first: ast.Expr = body[0]
        return first
    return None


def first_paragraph(doc: str) -> str:
    """A docstring's first paragraph on one line (whitespace runs made single spaces)."""
    return " ".join(doc.strip().split("\n\n")[0].split())


def body_without_docstring(node: ast.AST) -> list[ast.stmt]:
    """A definition's body, its docstring left out."""
    body: list[ast.stmt] = list(getattr(node, "body", []))
    if isinstance(node, (*SCOPE_TYPES, ast.Module)) and body and is_docstring(body[0]):
        return body[1:]
    return body


def own_statements(fn: ast.AST) -> Iterator[ast.stmt]:
    """Every statement in ``fn``'s body (docstring excluded), not entering nested
    functions or classes (whose ``def``/``class`` statements themselves are yielded)."""
    stack = list(reversed(body_without_docstring(fn)))
    while stack:
        stmt = stack.pop()
        yield stmt
        if not isinstance(stmt, SCOPE_TYPES):
            stack.extend(reversed(list(child_statements(stmt))))


def has_else_branch(node: ast.If) -> bool:
    """An ``else`` block that is not just an ``elif`` (one ``if`` alone in the ``else``)."""
    return bool(node.orelse) and not (
        len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If)
    )


# -- pylint's design measures (pylint/checkers/design_analysis.py) -------------------------
def statement_weight(stmt: ast.stmt) -> int:
    """What one statement adds to pylint's too-many-statements count.

    Loops, ``return``, ``def`` and ``class`` add nothing themselves (their bodies count);
    an ``if`` adds one, two with an ``else``; a ``try`` adds two per handler plus one per
    ``else`` and ``finally``; every other statement adds one.
    """
    if type(stmt) not in BLOCK_FIELDS:  # a simple statement (the common case)
        return 0 if type(stmt) is ast.Return else 1
    if isinstance(stmt, (*SCOPE_TYPES, *LOOP_TYPES)):
        return 0
    if isinstance(stmt, ast.If):
        return 1 + has_else_branch(stmt)
    if isinstance(stmt, TRY_TYPES):
        handlers = stmt.handlers  # type: ignore[attr-defined]
        orelse = stmt.orelse  # type: ignore[attr-defined]
        finalbody = stmt.finalbody  # type: ignore[attr-defined]
        return 2 * len(handlers) + bool(orelse) + bool(finalbody)
    return 1


def branch_weight(stmt: ast.stmt) -> int:
    """What one statement adds to pylint's too-many-branches count."""
    if type(stmt) not in BLOCK_FIELDS:
        return 0
    if isinstance(stmt, ast.If):
        return 1 + has_else_branch(stmt)
    if isinstance(stmt, LOOP_TYPES):
        return 1 + bool(stmt.orelse)
    if isinstance(stmt, TRY_TYPES):
        handlers = stmt.handlers  # type: ignore[attr-defined]
        orelse = stmt.orelse  # type: ignore[attr-defined]
        finalbody = stmt.finalbody  # type: ignore[attr-defined]
        return len(handlers) + bool(orelse) + bool(finalbody)
    if isinstance(stmt, ast.Match):
        return len(stmt.cases)
    return 0


@dataclass
class Measures:
    """pylint's measures of one function: statements (nested functions and classes
    included, as pylint counts them), and its own branches and ``return`` statements."""

    statements: int = 1
    branches: int = 0
    returns: int = 0


# A statement, the functions it sits in, and the function its branches belong to.
_Frame = tuple[ast.stmt, tuple[Measures, ...], "Measures | None"]
_MEASURES: WeakKeyDictionary[PyContext, dict[ast.AST, Measures]] = WeakKeyDictionary()


def measures(ctx: PyContext) -> Mapping[ast.AST, Measures]:
    """The measures of every function of a file, computed in one pass per file (RV301,
    RV305 and RV306 share it)."""
    found = _MEASURES.get(ctx)
    if found is None:
        found = _measure(ctx.tree)
        _MEASURES[ctx] = found
    return found


def _measure(tree: ast.Module) -> dict[ast.AST, Measures]:
    """Walk every statement once (iteratively: a long ``elif`` chain nests deeply), adding
    its weight to every enclosing function, and its branches and returns to the function
    it belongs to (none directly in a class body)."""
    out: dict[ast.AST, Measures] = {}
    stack: list[_Frame] = [(s, (), None) for s in body_without_docstring(tree)]
    while stack:
        stmt, open_functions, own = stack.pop()
        weight = statement_weight(stmt)
        for m in open_functions:
            m.statements += weight
        if own is not None:
            own.branches += branch_weight(stmt)
            own.returns += type(stmt) is ast.Return
        if isinstance(stmt, FUNCTION_TYPES):
            inner = out[stmt] = Measures()
            stack.extend(
                (c, (*open_functions, inner), inner) for c in body_without_docstring(stmt)
            )
        elif isinstance(stmt, ast.ClassDef):
            stack.extend((c, open_functions, None) for c in body_without_docstring(stmt))
        elif type(stmt) in BLOCK_FIELDS:
            stack.extend((c, open_functions, own) for c in child_statements(stmt))
    return out


# -- McCabe ---------------------------------------------------------------------------------
def decisions(stmts: Sequence[ast.stmt], *, into_defs: bool = True) -> int:
    """Extra paths that ``stmts`` open, as mccabe's path graph counts them.

    ``if``, ``for``, ``while``: one each; ``try``: one per handler plus one; ``match``: one
    per case; ``with`` and ``class`` bodies are walked through; a nested function adds its
    own complexity (mccabe's closures) when ``into_defs``, and is skipped otherwise.
    Decisions inside ``finally`` blocks count (mccabe itself skips them).
    """
    total = 0
    stack = list(stmts)
    while stack:  # iterative: a long elif chain nests deeply
        stmt = stack.pop()
        if type(stmt) not in BLOCK_FIELDS:
            continue
        if isinstance(stmt, SCOPE_TYPES):
            if not into_defs:
                continue
            total += isinstance(stmt, FUNCTION_TYPES)
        elif isinstance(stmt, (ast.If, *LOOP_TYPES)):
            total += 1
        elif isinstance(stmt, TRY_TYPES):
            total += len(stmt.handlers) + 1  # type: ignore[attr-defined]
        elif isinstance(stmt, ast.Match):
            total += len(stmt.cases)
        stack.extend(child_statements(stmt))
    return total


def complexity(node: ast.stmt) -> int:
    """McCabe complexity of a function (nested functions included), or of a compound
    statement outside any function (functions defined inside it are rated on their own)."""
    if isinstance(node, FUNCTION_TYPES):
        return 1 + decisions(node.body)
    return 1 + decisions([node], into_defs=False)


def complexity_roots(tree: ast.Module) -> Iterator[ast.stmt]:
    """What mccabe rates: every function not nested in another function, and every
    branching statement outside functions that is not inside another one."""
    stack: list[ast.stmt] = list(reversed(tree.body))
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, FUNCTION_TYPES):
            yield stmt
            continue
        if isinstance(stmt, (ast.If, *LOOP_TYPES, *TRY_TYPES, ast.Match)):
            yield stmt
            nested = [s for s in all_statements_of(stmt) if isinstance(s, SCOPE_TYPES)]
            stack.extend(reversed(nested))
            continue
        if isinstance(stmt, (ast.ClassDef, ast.With, ast.AsyncWith)):
            stack.extend(reversed(stmt.body))


def all_statements_of(stmt: ast.stmt) -> Iterator[ast.stmt]:
    """Statements nested in ``stmt`` down to (and including) the first ``def``/``class``
    on each path."""
    stack = list(reversed(list(child_statements(stmt))))
    while stack:
        s = stack.pop()
        yield s
        if not isinstance(s, SCOPE_TYPES):
            stack.extend(reversed(list(child_statements(s))))


# -- nesting ----------------------------------------------------------------------------------
def is_elif(node: ast.stmt, parent: ast.stmt, lines: Sequence[str]) -> bool:
    """``node`` is written ``elif`` (not ``else:`` followed by a nested ``if``)."""
    if not (isinstance(node, ast.If) and isinstance(parent, ast.If) and parent.orelse == [node]):
        return False
    if node.lineno > len(lines):
        return False
    return lines[node.lineno - 1][node.col_offset:].startswith("elif")


def nesting_depth(block: ast.stmt, lines: Sequence[str]) -> int:
    """How many blocks deep the deepest statement under ``block`` sits (``block`` is 1).

    An ``elif`` stays at its ``if``'s level; nested functions and classes start their own
    count and are not included.
    """
    deepest = 1
    stack = [(block, 1)]
    while stack:  # iterative: a long elif chain nests deeply
        stmt, depth = stack.pop()
        deepest = max(deepest, depth)
        for child in child_statements(stmt):
            if isinstance(child, BLOCK_TYPES):
                stack.append((child, depth if is_elif(child, stmt, lines) else depth + 1))
    return deepest


# -- facts about definitions -------------------------------------------------------------
def parameter_defaults(args: ast.arguments) -> list[tuple[ast.arg, ast.expr]]:
    """Each parameter that has a default, with it: the positional ones (the defaults
    belong to the last of them), then the keyword-only ones."""
    positional = [*args.posonlyargs, *args.args]
    pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults,
                     strict=True))
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
              if d is not None]
    return pairs


def decorator_names(node: FunctionNode | ast.ClassDef) -> list[str]:
    """Dotted names of the decorators (calls reduced to the called name)."""
    names = []
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        names.append(dotted_name(target))
    return names


def has_decorator(node: FunctionNode | ast.ClassDef, *names: str) -> bool:
    """A decorator whose dotted name, or its last part, is one of ``names``."""
    return any(
        d in names or d.rsplit(".", 1)[-1] in names for d in decorator_names(node) if d
    )


def is_overload(fn: FunctionNode) -> bool:
    """A ``typing.overload`` stub."""
    return has_decorator(fn, "overload")


def is_property_accessor(fn: FunctionNode) -> bool:
    """``@name.setter`` or ``@name.deleter``."""
    return any(d.endswith((".setter", ".deleter")) for d in decorator_names(fn))


def enclosing_scope(ctx: PyContext, node: ast.AST) -> ast.AST | None:
    """The nearest enclosing function, lambda or class (None at module level)."""
    for a in ctx.ancestors(node):
        if isinstance(a, (*SCOPE_TYPES, ast.Lambda)):
            return a
    return None


def is_method(ctx: PyContext, fn: FunctionNode) -> bool:
    """Defined in a class body (possibly under an ``if`` or ``try`` there)."""
    return isinstance(enclosing_scope(ctx, fn), ast.ClassDef)


def takes_instance(ctx: PyContext, fn: FunctionNode) -> bool:
    """A method whose first parameter is ``self`` or ``cls`` (not a staticmethod)."""
    return is_method(ctx, fn) and not has_decorator(fn, "staticmethod")


def module_exports(tree: ast.Module) -> frozenset[str] | None:
    """The names a module lists in ``__all__`` (a literal list or tuple of strings, possibly
    extended with ``+=``), or None when it has no such ``__all__`` (or builds it some other
    way, which leaves the public names unknown)."""
    names: set[str] | None = None
    for stmt in tree.body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if not any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                continue
            value = stmt.value
            if not isinstance(value, (ast.List, ast.Tuple)) or not all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts
            ):
                return None
            listed = {str(e.value) for e in value.elts if isinstance(e, ast.Constant)}
            if isinstance(stmt, ast.AugAssign) and names is not None:
                listed |= names
            names = listed
    return frozenset(names) if names is not None else None


def top_level_name(ctx: PyContext, node: FunctionNode | ast.ClassDef) -> str:
    """The name of the module-level function or class that contains ``node`` (or is it)."""
    name = node.name
    for a in ctx.ancestors(node):
        if isinstance(a, SCOPE_TYPES):
            name = a.name
    return name


def kind_of(ctx: PyContext, fn: FunctionNode) -> str:
    """'Method' or 'Function', for messages."""
    return "Method" if is_method(ctx, fn) else "Function"


_DEF_NAME = re.compile(r"(?:async\s+)?def\s+|class\s+")


def name_span(ctx: PyContext, node: FunctionNode | ast.ClassDef) -> Span:
    """The span of the defined name on the ``def``/``class`` line."""
    line = node.lineno
    text = ctx.lines[line - 1] if line <= len(ctx.lines) else ""
    match = _DEF_NAME.match(text, node.col_offset)
    if match and text.startswith(node.name, match.end()):
        start = match.end()
        return Span(line, start + 1, line, start + len(node.name) + 1)
    return Span(line, node.col_offset + 1, line, len(text) + 1)


def first_line(node: FunctionNode | ast.ClassDef) -> int:
    """The first line of a definition, decorators included."""
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])


def definition_scope(node: FunctionNode | ast.ClassDef) -> tuple[int, int]:
    """Decorators to the last line: a whole-function finding's scope."""
    return first_line(node), node.end_lineno or node.lineno


def signature_scope(node: FunctionNode | ast.ClassDef) -> tuple[int, int]:
    """Decorators through the line before the body (the signature lines)."""
    body_line = node.body[0].lineno if node.body else node.lineno + 1
    return first_line(node), max(node.lineno, body_line - 1)


def check_threshold(rule_id: str, name: str, value: object) -> None:
    """Reject a negative or non-integer threshold option (a configuration error)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(
            f"{rule_id}: option {name!r} must be a non-negative integer, got {value!r}"
        )


def report_definition(
    ctx: PyContext,
    rule: Rule,
    node: FunctionNode | ast.ClassDef,
    message: str,
    scope: tuple[int, int] | None,
) -> Finding:
    """A finding on the name of a definition, with the definition's dotted name as symbol."""
    finding = ctx.report(rule, name_span(ctx, node), message, scope=scope)
    return finding.with_(symbol=ctx.scope_name(node))
