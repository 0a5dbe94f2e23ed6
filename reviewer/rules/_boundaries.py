"""Where catching everything is the stated decision: facts shared by RV202 and RV203.

Judged on real code (bench/precision.py), most broad handlers left in mature libraries are
deliberate, and the code says so in a way a reader can check:

* a comment at the handler (or right above its ``try``) that says why errors are caught or
  ignored (``# Filters must never raise``, ``# If rustc fails, silently ignore it``);
* a contract that forbids raising: a ``logging.Handler``'s ``emit()``, a template filter
  (``@register.filter``);
* the error is not lost: the code after the ``try`` always raises (the handler only
  collects the message), a generator yields the error's text into its output, the
  exception is kept in a variable that is raised, returned or handed on later, or a
  warning carries it (``warnings.warn(f"... {err}")``) before a fallback;
* a documented failure result: the handler logs the failure at warning level or above and
  the function, annotated ``-> X | None``, returns ``None``;
* an optional import (``try: import x`` / ``except Exception: x = None``), a probe that
  records success in a flag (``try: bind(...); ok = True`` / ``except Exception: pass``),
  or a ``-> bool`` predicate asking an object it was given about itself
  (``try: return stream.isatty()`` / ``except Exception: return False``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

from reviewer.languages.python import PyContext, dotted_name
from reviewer.rules._handlers import always_raises, enclosing_try

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
# What a comment says when it explains why the errors are caught or ignored.
_WHY = re.compile(
    r"\b(rais\w*|exceptions?|errors?|fail\w*|ignor\w*|silen\w*|swallow\w*|catch\w*|"
    r"never|best[- ]effort)\b",
    re.IGNORECASE,
)
_TOOL_PRAGMAS = ("type:", "noqa", "pragma", "nosec", "pylint:", "fmt:", "ruff:")
_LOUD_LEVELS = frozenset({"warning", "warn", "error", "critical", "fatal", "exception"})


# -- a comment that says why -----------------------------------------------------------------
def says_why(ctx: PyContext, handler: ast.ExceptHandler) -> bool:
    """A comment in the handler, between the ``try`` body and the ``except`` line, or in the
    comment block right above the ``try`` (or on its line) says why errors are caught or
    ignored: it speaks of raising, errors, failing, ignoring or catching."""
    node = enclosing_try(ctx, handler)
    lines = ctx.lines
    first = handler.lineno
    last = handler.end_lineno or handler.lineno
    spans = [(first, last)]
    if node is not None:
        before = [h for h in node.handlers if h.lineno < first]
        prev = before[-1] if before else (node.body[-1] if node.body else node)
        spans.append(((prev.end_lineno or prev.lineno) + 1, first - 1))  # above ``except``
        above = node.lineno - 1
        while above >= 1 and lines[above - 1].lstrip().startswith("#"):
            above -= 1
        spans.append((above + 1, node.lineno))
    for lo, hi in spans:
        for line in lines[lo - 1:hi]:
            comment = _comment(line)
            if comment and _WHY.search(comment):
                return True
    return False


def _comment(line: str) -> str:
    """The ``#`` comment on ``line`` ('' if none, or a tool's pragma), roughly: a ``#``
    inside a string is not one."""
    code, sep, comment = line.partition("#")
    if not sep or code.count("'") % 2 or code.count('"') % 2:
        return ""
    comment = comment.strip()
    return "" if comment.startswith(_TOOL_PRAGMAS) else comment


# -- a contract that forbids raising ---------------------------------------------------------
def must_not_raise(ctx: PyContext, handler: ast.ExceptHandler) -> bool:
    """The handler is in code whose contract says it must not raise: the ``emit()`` of a
    logging handler class (``class H(logging.Handler)``), which reports its own failures
    instead, or a template filter (a function decorated with ``@<library>.filter``)."""
    for up in ctx.ancestors(handler):
        if not isinstance(up, _FUNCTIONS):
            continue
        if any(_is_filter_decorator(d) for d in up.decorator_list):
            return True
        owner = ctx.parent(up)
        if up.name == "emit" and isinstance(owner, ast.ClassDef) and any(
            dotted_name(b).endswith("Handler") for b in owner.bases
        ):
            return True
    return False


def _is_filter_decorator(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Attribute) and target.attr == "filter"


# -- the error is not lost -------------------------------------------------------------------
def falls_into_raise(
    ctx: PyContext, handler: ast.ExceptHandler, noreturn: frozenset[str] = frozenset()
) -> bool:
    """The handler runs to its end and the code after its ``try`` always raises: the
    handler only gathers the message for the exception raised next (``except Exception as
    e: msg = f"{msg} ({e})"`` then ``raise TemplateRuntimeError(msg)``)."""
    if any(_leaves(s) for s in handler.body):
        return False
    rest, _ = _code_after_try(ctx, handler)
    return bool(rest) and always_raises(rest, noreturn)


def _code_after_try(ctx: PyContext, handler: ast.ExceptHandler
                    ) -> tuple[list[ast.stmt], ast.AST | None]:
    """What runs after the handler's ``try`` statement ends normally, climbing out of
    ``if``/``with`` blocks: ``(statements, None)``, the first statements that follow; or
    ``([], owner)`` where the ``try`` ends ``owner``'s body (a function, a loop, another
    handler); ``([], None)`` where it cannot be told."""
    node: ast.AST | None = enclosing_try(ctx, handler)
    while node is not None:
        parent = ctx.parent(node)
        if parent is None:
            return [], None
        block = next((b for b in _blocks(parent) if any(s is node for s in b)), None)
        if block is None:
            return [], None
        rest = block[[id(s) for s in block].index(id(node)) + 1:]
        if rest:
            return rest, None
        if not isinstance(parent, (ast.If, ast.With, ast.AsyncWith)):
            return [], parent
        node = parent
    return [], None


def _blocks(node: ast.AST) -> list[list[ast.stmt]]:
    out = [getattr(node, f, None) for f in ("body", "orelse", "finalbody")]
    return [b for b in out if isinstance(b, list)]


def _leaves(stmt: ast.stmt) -> bool:
    """``stmt`` is or contains a return, break or continue (not in nested scopes)."""
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Return, ast.Break, ast.Continue)):
            return True
        if isinstance(node, _SCOPES):
            continue
        stack.extend(c for c in ast.iter_child_nodes(node) if isinstance(c, ast.stmt))
    return False


def yields_error(handler: ast.ExceptHandler) -> bool:
    """A generator's handler yields a value built from the caught exception: the error is
    rendered into the output its consumer reads (``yield f"# The error was: {e}"``)."""
    name = handler.name
    if not name:
        return False
    for stmt in handler.body:
        value = stmt.value if isinstance(stmt, ast.Expr) else None
        if isinstance(value, (ast.Yield, ast.YieldFrom)) and value.value is not None and any(
            isinstance(n, ast.Name) and n.id == name for n in ast.walk(value.value)
        ):
            return True
    return False


def kept_for_later(ctx: PyContext, handler: ast.ExceptHandler) -> bool:
    """The handler keeps the exception in a local variable (``first_exc = exc``) that the
    function later raises, returns (alone or in a tuple) or hands to another function that
    is not a print, format or log call: the error is deferred, not dropped (gathering the
    first failure of several tasks, grouping close and unlink errors)."""
    name = handler.name
    fn = ctx.enclosing_function(handler)
    if not name or fn is None:
        return False
    kept = {
        t.id for n in ast.walk(handler) if isinstance(n, ast.Assign)
        and isinstance(n.value, ast.Name) and n.value.id == name
        for t in n.targets if isinstance(t, ast.Name)
    }
    if not kept:
        return False
    end = handler.end_lineno or handler.lineno
    for node in ast.walk(fn):
        if getattr(node, "lineno", 0) <= end:
            continue
        if isinstance(node, (ast.Raise, ast.Return)) and node_uses(node, kept):
            return True
        if isinstance(node, ast.Call) and dotted_name(node.func) not in _SHOW_CALLS and any(
            isinstance(a, ast.Name) and a.id in kept
            for a in (*node.args, *(k.value for k in node.keywords))
        ) and not _is_log_call(node):
            return True
    return False


def node_uses(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


_SHOW_CALLS = frozenset({"print", "str", "repr", "format", "len", "bool", "type",
                         "isinstance", "id"})


def _is_log_call(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Attribute) and call.func.attr in (
        *_LOUD_LEVELS, "debug", "info", "log", "write")


def warns_error(handler: ast.ExceptHandler) -> bool:
    """The handler reports the caught exception in a warning (``warnings.warn(f"...
    {err}")``) and goes on with a fallback: the user sees the error, and ``-W error``
    turns it back into an exception."""
    name = handler.name
    if not name:
        return False
    for stmt in handler.body:
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if isinstance(call, ast.Call) and dotted_name(call.func) in ("warnings.warn", "warn") \
                and call.args and node_uses(call.args[0], {name}):
            return True
    return False


# -- a documented failure result -------------------------------------------------------------
def logged_failure_result(ctx: PyContext, handler: ast.ExceptHandler) -> bool:
    """The handler logs the failure at warning level or above and the function then
    returns ``None``, which its annotation (``-> X | None``, ``Optional[X]``) declares as
    the failure result the caller checks: a reported failure, not a hidden one."""
    fn = ctx.enclosing_function(handler)
    if fn is None or not _optional(fn.returns) or not any(_loud_log(s) for s in handler.body):
        return False
    last = handler.body[-1]
    if isinstance(last, ast.Return):
        return _is_none(last.value)
    if any(_leaves(s) for s in handler.body):
        return False
    return _then_returns_none(ctx, handler, fn)


def _is_none(value: ast.expr | None) -> bool:
    return value is None or (isinstance(value, ast.Constant) and value.value is None)


def _then_returns_none(ctx: PyContext, handler: ast.ExceptHandler,
                       fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """After the handler, the function only returns ``None`` (or ends)."""
    rest, owner = _code_after_try(ctx, handler)
    if rest:
        return len(rest) == 1 and isinstance(rest[0], ast.Return) and _is_none(rest[0].value)
    return owner is fn


def _optional(ann: ast.expr | None) -> bool:
    if ann is None:
        return False
    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
        text = ann.value.replace(" ", "")
        return text.endswith("|None") or text.startswith(("Optional[", "t.Optional["))
    if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
        return any(isinstance(s, ast.Constant) and s.value is None for s in (ann.left, ann.right))
    return isinstance(ann, ast.Subscript) and dotted_name(ann.value).endswith("Optional")


def _loud_log(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.Expr) or not isinstance(stmt.value, ast.Call):
        return False
    func = stmt.value.func
    return isinstance(func, ast.Attribute) and func.attr in _LOUD_LEVELS and "log" in (
        dotted_name(func.value).lower())


# -- probes ----------------------------------------------------------------------------------
def optional_import(ctx: PyContext, handler: ast.ExceptHandler) -> bool:
    """The ``try`` imports an optional dependency (which may fail with more than
    ``ImportError`` when it is installed but broken) and only binds what it provides
    (``BACKEND = 'gmpy'``), and the handler only does nothing or binds fallbacks
    (``x = None``)."""
    node = enclosing_try(ctx, handler)
    if node is None or not node.body or not _imports_first(node.body[0]):
        return False
    if not all(_binds_only(s) for s in node.body):
        return False
    return all(_fallback(s) for s in handler.body)


def _imports_first(stmt: ast.stmt) -> bool:
    """An import, or a ``try`` of imports (``try: import gmpy2 as gmpy`` / ``except
    ImportError: import gmpy``)."""
    if isinstance(stmt, ast.Try):
        return bool(stmt.body) and _imports_first(stmt.body[0])
    return isinstance(stmt, (ast.Import, ast.ImportFrom))


def _binds_only(stmt: ast.stmt) -> bool:
    """An import, an assignment to names, or an ``if`` of those (``if gmpy.version() >=
    '1.03': BACKEND = 'gmpy'``): setting up what the optional dependency provides."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return True
    if isinstance(stmt, ast.Assign):
        return all(isinstance(t, ast.Name) for t in stmt.targets)
    if isinstance(stmt, ast.If):
        return all(_binds_only(s) for s in (*stmt.body, *stmt.orelse))
    if isinstance(stmt, ast.Try):  # alternatives: one import or another
        blocks = [stmt.body, stmt.orelse, stmt.finalbody, *(h.body for h in stmt.handlers)]
        return all(_binds_only(s) or isinstance(s, ast.Raise) for b in blocks for s in b)
    return False


def _fallback(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Pass) or (
        isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
    ):
        return True
    return isinstance(stmt, ast.Assign) and all(
        isinstance(t, ast.Name) for t in stmt.targets
    ) and isinstance(stmt.value, (ast.Constant, ast.Name, ast.Attribute))


def success_flag(ctx: PyContext, handler: ast.ExceptHandler) -> bool:
    """A capability probe: the ``try`` ends by setting a flag to ``True`` that was ``False``
    before it, and the handler does nothing (or sets the flag ``False``): the flag is the
    answer, and any failure means "not supported" (``sock.bind(...)`` then
    ``has_ipv6 = True``)."""
    node = enclosing_try(ctx, handler)
    if node is None or not node.body:
        return False
    last = node.body[-1]
    flag = _set_to(last, True)
    if not flag:
        return False
    if not all(isinstance(s, ast.Pass) or _set_to(s, False) == flag for s in handler.body):
        return False
    fn = ctx.enclosing_function(handler)
    body: Sequence[ast.stmt] = fn.body if fn is not None else ctx.tree.body
    return any(_set_to(s, False) == flag for s in ast.walk(ast.Module(body=list(body),
                                                                       type_ignores=[]))
               if isinstance(s, ast.stmt) and s.lineno < node.lineno)


def predicate_probe(ctx: PyContext, handler: ast.ExceptHandler) -> bool:
    """A predicate annotated ``-> bool`` asks an object it was given about itself
    (``try: return stream.isatty()``, a method of a parameter, without arguments) and
    answers ``False`` when the object cannot tell: a capability probe of an arbitrary
    object, whose own method may raise anything."""
    fn = ctx.enclosing_function(handler)
    node = enclosing_try(ctx, handler)
    if fn is None or node is None or fn.returns is None or not (
        dotted_name(fn.returns) == "bool"
        or (isinstance(fn.returns, ast.Constant) and fn.returns.value == "bool")
    ):
        return False
    if len(node.body) != 1 or len(handler.body) != 1:
        return False
    ret, answer = node.body[0], handler.body[0]
    if not (isinstance(answer, ast.Return) and isinstance(answer.value, ast.Constant)
            and answer.value.value is False):
        return False
    call = ret.value if isinstance(ret, ast.Return) else None
    if not (isinstance(call, ast.Call) and not call.args and not call.keywords
            and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)):
        return False
    a = fn.args
    params = {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)} - {"self", "cls"}
    return call.func.value.id in params


def _set_to(stmt: ast.stmt, value: bool) -> str:
    """The name ``stmt`` binds to the constant ``value`` ('' if it does not)."""
    if (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
        and isinstance(stmt.value, ast.Constant)
        and stmt.value.value is value
    ):
        return stmt.targets[0].id
    return ""
