"""Facts about exception handlers shared by RV201, RV202 and RV203.

* which of the module's own functions never return (annotated ``NoReturn``/``Never``, or
  whose body always raises), so that a handler ending in ``self._fail(...)`` counts as
  raising;
* whether a handler hands the caught exception on (returns it, or passes it to another
  function) instead of losing it;
* whether the ``try`` only calls into an arbitrary object's protocol (``getattr``, ``str``,
  ``repr``...), where user code can raise anything and catching everything is the point;
* whether a handler is best-effort cleanup (closing, finalizers) or says why it ignores the
  error in a comment.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from weakref import WeakKeyDictionary

from reviewer.languages.python import PyContext, dotted_name

# Calls that never return: they end the handler like a ``raise`` does.
NORETURN_CALLS = frozenset(
    {
        "sys.exit", "exit", "quit", "os._exit", "os.abort", "abort", "flask.abort",
        "pytest.fail", "pytest.skip", "pytest.exit", "self.fail", "self.skipTest",
    }
)
_NORETURN_TYPES = frozenset({"NoReturn", "Never"})
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
# The fields of compound statements that hold statements (or handlers / match cases).
_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")
# Calls that only show or log the exception: handing it to them loses its traceback.
_SHOWERS = frozenset({"print", "str", "repr", "format", "len", "bool", "type", "isinstance"})
_LOG_LEVELS = frozenset({"debug", "info", "warning", "warn", "error", "critical", "fatal", "log"})
# Builtins that run an arbitrary object's own code (``__getattr__``, ``__str__``...).
_PROTOCOL_CALLS = frozenset(
    {"getattr", "hasattr", "str", "repr", "format", "isinstance", "issubclass", "dir", "vars",
     "len", "bool", "type", "id", "callable", "isclass", "inspect.isclass"}
)
# Builtins that run code the program does not control.
_DYNAMIC_CALLS = frozenset({"eval", "exec"})
# Methods whose failure best-effort cleanup may ignore.
_CLEANUP_CALLS = frozenset(
    {"close", "detach", "shutdown", "terminate", "kill", "unlink", "remove", "rmdir",
     "rmtree", "release", "cleanup", "aclose", "wait_closed"}
)
# Functions that tear something down and must not fail half-way.
_FINALIZERS = frozenset({"__del__", "__exit__", "__aexit__", "close", "aclose"})

_CACHE: WeakKeyDictionary[PyContext, frozenset[str]] = WeakKeyDictionary()


# -- raising on every path ------------------------------------------------------------------
def always_raises(
    body: Sequence[ast.stmt], noreturn: frozenset[str] = frozenset(), exc: str = ""
) -> bool:
    """Every path through ``body`` ends in a ``raise`` or a call that never returns
    (``sys.exit()``, ``pytest.fail()``, a function of ``noreturn``...), and nothing escapes
    before it.

    ``exc``: the name the handler binds; a branch taken only when ``isinstance(exc, ...)``
    holds is a narrow handler of its own and need not raise.
    """
    for stmt in body:
        if isinstance(stmt, ast.Raise) or _is_noreturn_call(stmt, noreturn):
            return True
        if isinstance(stmt, ast.If):
            if exc and _tests_type(stmt.test, exc):
                if stmt.orelse:
                    if always_raises(stmt.orelse, noreturn, exc):
                        return True
                    if any(_escapes(s) for s in stmt.orelse):
                        return False
                continue  # the narrow branch is handled; the rest must raise
            if exc and not stmt.orelse and _tests_not_type(stmt.test, exc) and always_raises(
                stmt.body, noreturn, exc
            ):
                return True  # ``if not isinstance(e, Narrow): raise``: the rest is narrow
            if always_raises(stmt.body, noreturn, exc):
                if always_raises(stmt.orelse, noreturn, exc):
                    return True
                if not stmt.orelse:
                    continue  # raises (or takes a narrow exit), else falls through
        if isinstance(stmt, (ast.With, ast.AsyncWith)) and always_raises(
            stmt.body, noreturn, exc
        ):
            return True
        if isinstance(stmt, ast.Try) and (
            always_raises(stmt.finalbody, noreturn, exc)
            or (
                always_raises(stmt.body, noreturn, exc)
                and all(always_raises(h.body, noreturn, exc) for h in stmt.handlers)
            )
        ):
            return True
        if _escapes(stmt):
            return False  # a return/break/continue may leave before any raise
    return False


def _tests_type(test: ast.expr, exc: str) -> bool:
    """``isinstance(exc, ...)``, alone or as one operand of ``and``."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_tests_type(v, exc) for v in test.values)
    return (
        isinstance(test, ast.Call)
        and dotted_name(test.func) == "isinstance"
        and bool(test.args)
        and isinstance(test.args[0], ast.Name)
        and test.args[0].id == exc
    )


def _tests_not_type(test: ast.expr, exc: str) -> bool:
    """``not isinstance(exc, ...)`` (or ``not (isinstance(exc, ...) and ...)``)."""
    return isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and _tests_type(
        test.operand, exc)


def _is_noreturn_call(stmt: ast.stmt, noreturn: frozenset[str]) -> bool:
    if not isinstance(stmt, (ast.Expr, ast.Return)):
        return False
    value = stmt.value
    if isinstance(value, (ast.Await, ast.Yield)):  # ``await fail()``, ``yield fail()``
        value = value.value
    if not isinstance(value, ast.Call):
        return False
    name = dotted_name(value.func)
    if name in NORETURN_CALLS:
        return True
    return bool(noreturn) and bool(name) and name.rsplit(".", 1)[-1] in noreturn


def _escapes(stmt: ast.stmt) -> bool:
    """``stmt`` contains a return, or a break/continue that leaves the handler's loop.

    Walks statements only (returns and loop exits are statements), never expressions.
    """
    stack: list[tuple[ast.stmt, bool]] = [(stmt, False)]
    while stack:
        node, in_loop = stack.pop()
        if isinstance(node, ast.Return):
            return True
        if isinstance(node, (ast.Break, ast.Continue)) and not in_loop:
            return True
        if isinstance(node, _SCOPES):
            continue
        inner = in_loop or isinstance(node, _LOOPS)
        for name in _BLOCKS:
            for child in getattr(node, name, ()):
                if isinstance(child, ast.stmt):
                    stack.append((child, inner))
                else:  # an except handler or a match case
                    stack.extend((c, inner) for c in child.body)
    return False


def never_returning(ctx: PyContext) -> frozenset[str]:
    """Names of the module's functions and methods that never return (cached per file).

    A definition never returns when it is annotated ``-> NoReturn`` (or ``Never``) or its
    body always raises, through calls of other such functions too. A name counts only
    when every definition of it in the module never returns; abstract placeholders
    (``raise NotImplementedError``, ``@abstractmethod``) are overridden, so they do not.
    """
    cached = _CACHE.get(ctx)
    if cached is not None:
        return cached
    defs: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    for fn in ctx.functions():
        defs.setdefault(fn.name, []).append(fn)
    # A name counts only when all its definitions never return: drop the names with a
    # definition that cannot (it ends in a return, an assignment, a loop...) before the
    # walks, which keeps this cheap on big modules.
    defs = {
        name: fns for name, fns in defs.items()
        if all(_annotated_noreturn(f) or _may_end_in_raise(f.body) for f in fns)
    }
    if not defs:
        _CACHE[ctx] = frozenset()
        return frozenset()
    found: set[str] = {
        name for name, fns in defs.items() if all(_annotated_noreturn(f) for f in fns)
    }
    for _ in range(4):  # functions that end in calls of each other, a few levels deep
        frozen = frozenset(found)
        more = {
            name for name, fns in defs.items()
            if name not in found and all(
                _annotated_noreturn(f) or (not _placeholder(f) and always_raises(f.body, frozen))
                for f in fns
            )
        }
        if not more:
            break
        found |= more
    result = frozenset(found)
    _CACHE[ctx] = result
    return result


def _may_end_in_raise(body: Sequence[ast.stmt]) -> bool:
    """The last statement of ``body`` ends in a raise or a call on every branch (a quick
    look at the end only; :func:`always_raises` decides)."""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, ast.Raise):
        return True
    if isinstance(last, ast.Expr):
        return isinstance(last.value, (ast.Call, ast.Await))
    if isinstance(last, ast.If):
        return _may_end_in_raise(last.body) and _may_end_in_raise(last.orelse)
    if isinstance(last, (ast.With, ast.AsyncWith)):
        return _may_end_in_raise(last.body)
    if isinstance(last, ast.Try):
        return _may_end_in_raise(last.finalbody) or _may_end_in_raise(last.body)
    return False


def _annotated_noreturn(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    ret = fn.returns
    if isinstance(ret, ast.Constant) and isinstance(ret.value, str):
        return ret.value.rsplit(".", 1)[-1] in _NORETURN_TYPES
    return ret is not None and dotted_name(ret).rsplit(".", 1)[-1] in _NORETURN_TYPES


def _placeholder(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    if any(dotted_name(d).endswith("abstractmethod") for d in fn.decorator_list):
        return True
    for stmt in fn.body:
        if isinstance(stmt, ast.Raise) and stmt.exc is not None:
            target = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
            if dotted_name(target) == "NotImplementedError":
                return True
    return False


# -- handing the exception on ----------------------------------------------------------------
def hands_on(handler: ast.ExceptHandler) -> bool:
    """The handler passes the caught exception on intact: returns or yields it, stores it
    on an object (``self.error = e``), or hands it (or ``sys.exc_info()``) to another
    function that is not a print, a format or a log call. The callee or the caller then
    decides; the error and its traceback are not lost.
    """
    name = handler.name or ""
    for node in _walk(handler.body):
        if not isinstance(node, (ast.Expr, ast.Return, ast.Assign, ast.AnnAssign, ast.Yield)):
            continue  # a call in a condition (``if fatal(e):``) only looks at the error
        value = node.value
        if isinstance(value, (ast.Await, ast.Yield)):
            value = value.value
        if value is None:
            continue
        if name and isinstance(node, ast.Assign) and _is(node.value, name) and all(
            isinstance(t, (ast.Attribute, ast.Subscript)) for t in node.targets
        ):
            return True  # ``self.error = e``: kept for whoever re-raises or reports it
        if name and isinstance(node, (ast.Return, ast.Yield)) and (
            _is(value, name)
            or (isinstance(value, ast.Tuple) and any(_is(e, name) for e in value.elts))
        ):
            return True
        if isinstance(value, ast.Call) and not _shows(value):
            args = [*value.args, *(k.value for k in value.keywords)]
            if any((name and _is(a, name)) or _is_exc_info(a) for a in args):
                return True
    return False


def _walk(body: Sequence[ast.stmt]) -> Iterator[ast.AST]:
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, _SCOPES):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _is(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _is_exc_info(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and dotted_name(node.func) in ("sys.exc_info", "exc_info")


def _shows(call: ast.Call) -> bool:
    """A call that only prints, formats or logs its arguments."""
    name = dotted_name(call.func)
    last = name.rsplit(".", 1)[-1] if name else ""
    if name in _SHOWERS:
        return True
    return isinstance(call.func, ast.Attribute) and last in (*_LOG_LEVELS, "exception", "write")


# -- what the try block does -------------------------------------------------------------------
def enclosing_try(ctx: PyContext, handler: ast.ExceptHandler) -> ast.Try | None:
    parent = ctx.parent(handler)
    return parent if isinstance(parent, ast.Try) or type(parent).__name__ == "TryStar" else None  # type: ignore[return-value]


def protocol_probe(ctx: PyContext, handler: ast.ExceptHandler) -> bool:
    """The ``try`` is one or two simple statements whose only calls run code the program
    does not control: an arbitrary object's own protocol (``getattr``, ``hasattr``,
    ``str``, ``repr``, ``len``, ``x.__y__()``), a no-op probe of what an object can do
    (``stream.write(b"")``, ``stream.read(0)``, ``stream.seek(stream.tell())``), dynamic
    code (``eval``, ``exec``) or the callable a wrapper was made for (a plug-in's
    callback: ``rv = f(text)`` in a closure that ``make_wrapper(f)`` returns). A user-defined
    ``__getattr__`` or ``__str__``, the evaluated text or the callback can raise anything,
    so code that must not fail there (a pretty printer, an error reporter, an interactive
    prompt, a wrapper that isolates plug-ins) catches everything."""
    node = enclosing_try(ctx, handler)
    if node is None or not node.body or len(node.body) > 2:
        return False
    if not all(isinstance(s, (ast.Expr, ast.Assign, ast.Return, ast.If)) for s in node.body):
        return False
    probes = 0
    params = _callable_params(ctx, handler)
    inner: set[int] = set()
    for stmt in node.body:
        if isinstance(stmt, ast.If) and (
            len(stmt.body) != 1 or stmt.orelse or isinstance(stmt.body[0], ast.If)
        ):
            return False
        for n in ast.walk(stmt):
            if isinstance(n, ast.Call):
                if id(n) in inner:
                    continue
                if _seek_tell(n):
                    inner.update(id(a) for a in n.args)
                elif not (_probe_call(n) or (isinstance(n.func, ast.Name)
                                             and n.func.id in params)):
                    return False
                probes += 1
            elif isinstance(n, ast.Attribute) and _dunder(n.attr):
                probes += 1  # ``value.__getitem__``: looking the protocol up
    return probes > 0


def _callable_params(ctx: PyContext, handler: ast.ExceptHandler) -> frozenset[str]:
    """The parameters of the functions around the one holding ``handler``: the callable a
    wrapper or decorator was made for (``def safecall(func): def wrapper(*a): ...
    func(*a)``), whose purpose is to isolate it. A function calling its own parameter is
    not a wrapper and gets no such pass."""
    names: set[str] = set()
    inner = True
    for up in ctx.ancestors(handler):
        if isinstance(up, _FUNCTIONS):
            if inner:
                inner = False
                continue
            a = up.args
            names.update(p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs))
    names.discard("self")
    names.discard("cls")
    return frozenset(names)


def _seek_tell(call: ast.Call) -> bool:
    """``x.seek(x.tell())``: a round trip that changes nothing, made to see if it works."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "seek"
            and len(call.args) == 1 and not call.keywords):
        return False
    arg = call.args[0]
    return (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute)
            and arg.func.attr == "tell" and not arg.args
            and ast.dump(arg.func.value) == ast.dump(call.func.value))


def _dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _probe_call(call: ast.Call) -> bool:
    """A call into code the program does not control, made to see whether it works."""
    name = dotted_name(call.func)
    if name in _PROTOCOL_CALLS or name in _DYNAMIC_CALLS:
        return True
    if not isinstance(call.func, ast.Attribute):
        return False
    if _dunder(call.func.attr):
        return True
    # ``stream.write(b"")``, ``stream.read(0)``: a no-op that tells what an object can do.
    return (
        len(call.args) == 1 and not call.keywords
        and isinstance(call.args[0], ast.Constant)
        and call.args[0].value in ("", b"", 0) and call.args[0].value is not False
    )


def opt_out_reraise(
    body: Sequence[ast.stmt], noreturn: frozenset[str] = frozenset(),
    exc_name: str | None = None,
) -> bool:
    """The handler starts with ``if <condition>: raise`` and re-raises unless a stated
    condition says to drop the error: alone (``if not self.fail_silently: raise``), or
    followed by a fallback when the condition is about the program's state, not the error
    (``if not ctx.resilient_parsing: raise`` then ``value = UNSET``; ``if not
    os.path.exists(out): raise`` then move ``out`` aside); or ends with such an ``if``
    after restoring state (``registry._registry = before`` then ``if
    module_has_submodule(...): raise``: the error is dropped only when the condition,
    about the program and not the error, says it is the expected one)."""
    rest = [s for s in body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
            and not isinstance(s, ast.Pass)]
    if len(rest) > 1 and _ends_in_state_reraise(rest, noreturn, exc_name or ""):
        return True
    if len(rest) == 1 and _mode_reraise(rest[0], noreturn, exc_name or ""):
        return True
    if not rest or not isinstance(rest[0], ast.If) or rest[0].orelse:
        return False
    first = rest[0]
    if not always_raises(first.body, noreturn):
        return False
    if len(rest) == 1:
        return True
    # Followed by a fallback: only when the condition is a mode of the program
    # (``if settings.DEBUG: raise``), not a judgement of the error (``if fatal(e): raise``).
    return exc_name is not None and not any(
        isinstance(n, ast.Name) and n.id == exc_name for n in ast.walk(first.test)
    )


def _mode_reraise(stmt: ast.stmt, noreturn: frozenset[str], exc_name: str) -> bool:
    """``if strict: raise`` / ``else: report(...)``: a mode of the program, not a judgement
    of the error, decides, and the other branch falls through (it does not return)."""
    if not isinstance(stmt, ast.If) or not stmt.orelse or not always_raises(stmt.body, noreturn):
        return False
    if exc_name and any(isinstance(n, ast.Name) and n.id == exc_name
                        for n in ast.walk(stmt.test)):
        return False
    return not any(_escapes(s) for s in stmt.orelse)


def _ends_in_state_reraise(rest: Sequence[ast.stmt], noreturn: frozenset[str],
                           exc_name: str) -> bool:
    last = rest[-1]
    if not isinstance(last, ast.If) or last.orelse or not always_raises(last.body, noreturn):
        return False
    if exc_name and any(isinstance(n, ast.Name) and n.id == exc_name
                        for n in ast.walk(last.test)):
        return False
    return not any(_escapes(s) for s in rest[:-1])


def best_effort_cleanup(ctx: PyContext, handler: ast.ExceptHandler) -> bool:
    """The handler ignores a failure of cleanup: inside a finalizer (``__del__``,
    ``__exit__``, a ``close()`` method), or a ``try`` that only closes or removes things
    (``x.close()``, ``os.remove(path)``)."""
    fn = ctx.enclosing_function(handler)
    if fn is not None and fn.name in _FINALIZERS:
        return True
    node = enclosing_try(ctx, handler)
    if node is None or not node.body:
        return False
    for stmt in node.body:
        value = stmt.value.value if isinstance(stmt, ast.Expr) and isinstance(
            stmt.value, ast.Await) else getattr(stmt, "value", None)
        if not isinstance(stmt, ast.Expr) or not isinstance(value, ast.Call):
            return False
        name = dotted_name(value.func)
        if not name or name.rsplit(".", 1)[-1] not in _CLEANUP_CALLS:
            return False
    return True


def explained(ctx: PyContext, handler: ast.ExceptHandler) -> bool:
    """A comment inside the handler (on its ``except`` line or in its body) says why."""
    first = handler.lineno
    last = handler.end_lineno or handler.lineno
    return any("#" in line and _real_comment(line) for line in ctx.lines[first - 1:last])


def _real_comment(line: str) -> bool:
    """The line holds a ``#`` comment (not a ``#`` inside a string, roughly)."""
    code, _, comment = line.partition("#")
    return comment.strip() != "" and code.count("'") % 2 == 0 and code.count('"') % 2 == 0 \
        and not comment.lstrip().startswith(("type:", "noqa", "pragma", "nosec", "pylint:"))
