"""RV103: module-level mutable state changed from inside a function."""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from fnmatch import fnmatchcase

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PyContext, dotted_name
from reviewer.rules._project import package_init_calls
from reviewer.rules.base import Invalid, Rule, Valid
from reviewer.rules.rv101_mutable_default import (
    MUTATORS,
    container_name,
    module_mutables,
    mutable_classes,
)

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
FunctionLike = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


def _mutations(ctx: PyContext, names: Collection[str],
               once: bool = False) -> Iterator[tuple[ast.Name, str]]:
    """(the module name, how it is changed) for every in-place change of a candidate name;
    ``once``: leave out get-or-create changes (see ``_get_or_create``)."""
    for call in ctx.nodes(ast.Call):
        assert isinstance(call, ast.Call)
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in MUTATORS:
            base = container_name(func.value)
            if base is not None and base.id in names:
                if once and _get_or_create(ctx, call, base):
                    continue
                yield base, f"{ctx.segment(func)}()"
    for sub in ctx.nodes(ast.Subscript):
        assert isinstance(sub, ast.Subscript)
        if isinstance(sub.ctx, ast.Load):
            continue
        base = container_name(sub)
        if base is not None and base.id in names:
            if once and _get_or_create(ctx, sub, base):
                continue
            verb = "del " if isinstance(sub.ctx, ast.Del) else ""
            yield base, f"{verb}{base.id}[...]" + ("" if verb else " = ...")


def _get_or_create(ctx: PyContext, node: ast.Call | ast.Subscript, base: ast.Name) -> bool:
    """A change that only adds a missing key: a memo table, a warn-once or run-once set,
    which a second call with the same key leaves as it is. ``X.setdefault(k, v)``, and
    ``X[k] = v``, ``X.add(k)`` or ``X.append(k)`` where ``k`` is known to be missing: under
    ``if k not in X:``, in the ``else`` of ``if k in X:``, after ``if k in X: return ...``
    or ``try: return X[k]`` / ``except KeyError:``; and ``X[obj.name] = obj``, an index of
    objects by their own name, which storing again cannot change. ``X`` may be an item of
    the module name (``X[alias][k] = v``)."""
    if _lazy_table(ctx, node, base):
        return True
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Attribute)
        container: ast.expr = node.func.value
        if node.func.attr == "setdefault":
            return container_name(container) is base
        if node.func.attr not in ("add", "append") or len(node.args) != 1:
            return False
        key: ast.expr = node.args[0]
    else:
        if not isinstance(node.ctx, ast.Store):
            return False
        container, key = node.value, node.slice
        stmt = ctx.parent(node)
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(key, ast.Attribute)
            and ast.dump(key.value) == ast.dump(stmt.value)
        ):
            return container_name(container) is base  # X[obj.name] = obj: an index by own name
    if container_name(container) is not base:
        return False
    want = (ast.dump(key), ast.dump(container))
    item = ast.dump(ast.Subscript(value=container, slice=key, ctx=ast.Load()))
    child: ast.AST = node
    for up in ctx.ancestors(node):
        if isinstance(up, (*_FUNCTIONS, ast.ClassDef)):
            body = up.body if isinstance(up, (ast.FunctionDef, ast.AsyncFunctionDef)) else []
            return any(_returns_if_present(s, want) for s in _before(body, child))
        if isinstance(up, ast.If) and (
            _tests_missing(up, child, want, item) or _after_failed_get(ctx, up, child, want)
        ):
            return True
        if (
            isinstance(up, ast.Try)
            and any(child is h for h in up.handlers)
            and _catches_key_error(child)
            and _reads_item(up.body, want)
        ):
            return True
        if isinstance(up, (ast.If, ast.With, ast.For, ast.While, ast.Try, ast.ExceptHandler)):
            for block in _blocks(up):
                if any(child is s for s in block) and any(
                    _returns_if_present(s, want) for s in _before(block, child)
                ):
                    return True
        child = up
    return False


def _lazy_table(ctx: PyContext, node: ast.Call | ast.Subscript, base: ast.Name) -> bool:
    """A table built on first use: the change runs under ``if not T:`` where the same
    block fills the module table ``T`` (``if not _PATTERNS: _WILDS.extend(...);
    _PATTERNS.extend(...)``), or it extends ``X`` under a test of ``len(X)`` (``if n >=
    len(_FACTORIALS): for i in ...: _FACTORIALS.append(...)``, a table of values that
    only grows, each entry computed the same way whoever asks first). A length test may
    also guard every call of the module-level function that makes the change (``if n >
    len(_ZEROS): _load_zeros(url)`` where the loader replaces ``_ZEROS[:]`` whole: the table
    is loaded when a reader needs more of it)."""
    grows = (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr in ("append", "extend")) or _whole_slice_store(node)
    return _under_lazy_test(ctx, node, base, grows, through_helper=True)


def _whole_slice_store(node: ast.Call | ast.Subscript) -> bool:
    """``X[:] = values``: the table's contents replaced whole."""
    return isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) \
        and isinstance(node.slice, ast.Slice) and node.slice.lower is None \
        and node.slice.upper is None and node.slice.step is None


def _under_lazy_test(ctx: PyContext, node: ast.AST, base: ast.Name, grows: bool,
                     through_helper: bool) -> bool:
    """The tests of :func:`_lazy_table` around ``node``; ``through_helper``: when the
    change is in a module-level function that the module only calls, every call may be
    under the test instead (``if n > len(_ZEROS): _load_zeros()``, a loader that the table's
    readers run when they need more of it)."""
    for up in ctx.ancestors(node):
        if isinstance(up, (*_FUNCTIONS, ast.ClassDef)):
            if not (through_helper and isinstance(up, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and isinstance(ctx.parent(up), ast.Module)):
                return False
            sites = _call_sites(ctx, up.name)
            return bool(sites) and all(
                _under_lazy_test(ctx, site, base, grows, through_helper=False)
                for site in sites or ())
        if not isinstance(up, (ast.If, ast.While)):
            continue
        test = up.test
        if isinstance(up, ast.If) and isinstance(test, ast.UnaryOp) \
                and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Name):
            table = test.operand.id
            if _fills(up.body, table) and not _reads_parameters(ctx, up) and not any(
                    node is n for s in up.orelse for n in ast.walk(s)):
                return True
        if grows and any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "len"
            and len(n.args) == 1 and isinstance(n.args[0], ast.Name)
            and n.args[0].id == base.id
            for n in ast.walk(test)
        ):
            return True
    return False


def _call_sites(ctx: PyContext, name: str) -> list[ast.Call] | None:
    """The module's calls of the function ``name`` by name; None when the name is also used
    otherwise (handed on, rebound, exported as a value)."""
    sites: list[ast.Call] = []
    for node in ctx.nodes(ast.Name):
        assert isinstance(node, ast.Name)
        if node.id != name:
            continue
        call = ctx.parent(node)
        if not (isinstance(call, ast.Call) and call.func is node):
            return None
        sites.append(call)
    return sites


def _reads_parameters(ctx: PyContext, block: ast.If) -> bool:
    """Whether the ``if`` block's body reads a parameter of the function it is in (what it
    builds then depends on the caller: not a fixed table)."""
    fn = ctx.enclosing_function(block)
    if fn is None:
        return False
    a = fn.args
    params = {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg)
              if p is not None}
    return any(isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in params
               for s in block.body for n in ast.walk(s))


def _fills(body: list[ast.stmt], name: str) -> bool:
    """Whether the statements change ``name`` in place (a mutating call or an item store)."""
    for stmt in body:
        for n in ast.walk(stmt):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) \
                    and n.func.attr in MUTATORS and container_name(n.func.value) is not None:
                found = container_name(n.func.value)
                if found is not None and found.id == name:
                    return True
            if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store):
                found = container_name(n)
                if found is not None and found.id == name:
                    return True
    return False


def _blocks(stmt: ast.stmt | ast.ExceptHandler) -> list[list[ast.stmt]]:
    out = [getattr(stmt, f) for f in ("body", "orelse", "finalbody") if hasattr(stmt, f)]
    return [b for b in out if isinstance(b, list)]


def _before(body: list[ast.stmt], child: ast.AST) -> list[ast.stmt]:
    for i, stmt in enumerate(body):
        if stmt is child:
            return body[:i]
    return []


def _membership(test: ast.expr, want: tuple[str, str]) -> type[ast.cmpop] | None:
    """``ast.In`` or ``ast.NotIn`` when ``test`` is ``key in container`` (or not in; also
    written ``not (key in container)``)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _membership(test.operand, want)
        return ast.NotIn if inner is ast.In else ast.In if inner is ast.NotIn else None
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.In, ast.NotIn))
        and (ast.dump(test.left), ast.dump(test.comparators[0])) == want
    ):
        return type(test.ops[0])
    return None


def _tests_missing(up: ast.If, child: ast.AST, want: tuple[str, str], item: str) -> bool:
    """Whether ``child`` runs only when the key is missing from the container (or its
    cached value is stale: ``k not in X or X[k].prec < prec``)."""
    if any(child is s for s in up.body):
        test = up.test
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
            return any(_membership(v, want) is ast.NotIn for v in test.values)
        if isinstance(test, ast.BoolOp):
            missing = [v for v in test.values if _membership(v, want) is ast.NotIn]
            return bool(missing) and all(
                v in missing or any(ast.dump(n) == item for n in ast.walk(v)
                                    if isinstance(n, ast.Subscript))
                for v in test.values)
        return _membership(test, want) is ast.NotIn
    return any(child is s for s in up.orelse) and _membership(up.test, want) is ast.In


def _returns_if_present(stmt: ast.stmt, want: tuple[str, str]) -> bool:
    """``if key in X: return ...`` or ``try: return X[key]`` / ``except KeyError: pass``."""
    if isinstance(stmt, ast.If) and not stmt.orelse and _membership(stmt.test, want) is ast.In:
        # (a return anywhere in it: the cached value is used unless it is stale)
        return bool(stmt.body) and (isinstance(stmt.body[-1], (ast.Return, ast.Raise)) or any(
            isinstance(n, ast.Return) for s in stmt.body for n in ast.walk(s)))
    if isinstance(stmt, ast.Try):
        return _reads_item(stmt.body, want) and any(_catches_key_error(h) for h in stmt.handlers)
    return False


def _reads_item(body: list[ast.stmt], want: tuple[str, str]) -> bool:
    """``return X[k]`` or ``v = X[k]`` (the lookup a ``KeyError`` handler follows)."""
    return any(
        isinstance(s, (ast.Return, ast.Assign))
        and isinstance(s.value, ast.Subscript)
        and (ast.dump(s.value.slice), ast.dump(s.value.value)) == want
        for s in body
    )


def _after_failed_get(ctx: PyContext, up: ast.If, child: ast.AST,
                      want: tuple[str, str]) -> bool:
    """``v = X.get(k)`` earlier in the function and ``child`` runs under ``if v is None:``
    (an interning cache: ``obj = cache.get(key)`` / ``if obj is None: ... cache[key] = obj``).
    """
    test = up.test
    in_body = any(child is s for s in up.body)
    in_else = any(child is s for s in up.orelse)
    if in_body and isinstance(test, ast.Compare) and len(test.ops) == 1 \
            and isinstance(test.ops[0], ast.Is) and isinstance(test.left, ast.Name) \
            and isinstance(test.comparators[0], ast.Constant) \
            and test.comparators[0].value is None:
        name = test.left.id  # if v is None:
    elif in_body and isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) \
            and isinstance(test.operand, ast.Name):
        name = test.operand.id  # if not v:
    elif in_else and isinstance(test, ast.Name):
        name = test.id  # if v: ... else:
    else:
        return False
    fn = ctx.enclosing_function(up)
    if fn is None:
        return False
    return any(
        isinstance(s, ast.Assign) and len(s.targets) == 1
        and isinstance(s.targets[0], ast.Name) and s.targets[0].id == name
        and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Attribute)
        and s.value.func.attr == "get" and len(s.value.args) == 1
        and (ast.dump(s.value.args[0]), ast.dump(s.value.func.value)) == want
        and s.lineno < up.lineno
        for s in ast.walk(fn)
    )


def _catches_key_error(handler: ast.AST) -> bool:
    if not isinstance(handler, ast.ExceptHandler) or handler.type is None:
        return False
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(t, ast.Name) and t.id in ("KeyError", "LookupError") for t in types)


def _called_at_import(ctx: PyContext, fn: FunctionLike) -> bool:
    """Whether the module's own top-level code calls ``fn`` by name (a registration helper
    that fills the module's tables while the module is imported), or ``fn`` is defined at
    module level and the top-level code of a package ``__init__.py`` above the module calls
    it (``config = utils.backends._set_configs()`` in ``pkg/__init__.py``: the package's
    set-up, run once while it is imported; reviewer/rules/_project.py)."""
    if isinstance(fn, ast.Lambda):
        return False
    if isinstance(ctx.parent(fn), ast.Module) and fn.name in package_init_calls(ctx):
        return True
    for call in ctx.nodes(ast.Call):
        assert isinstance(call, ast.Call)
        if (
            isinstance(call.func, ast.Name)
            and call.func.id == fn.name
            and not any(isinstance(s, _FUNCTIONS) for s in ctx.scopes(call))
        ):
            return True
    return False


def _position(item: tuple[ast.Name, str]) -> tuple[int, int]:
    return item[0].lineno, item[0].col_offset


def _is_registration(fn: FunctionLike) -> bool:
    """A decorator that records its argument and returns it (``return fn``), or a class's
    ``__init_subclass__``: the usual, import-time plug-in registry."""
    if isinstance(fn, ast.Lambda):
        return False
    if fn.name == "__init_subclass__":
        return True
    last = fn.body[-1]
    if not (isinstance(last, ast.Return) and isinstance(last.value, ast.Name)):
        return False
    a = fn.args
    params = {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)}
    return last.value.id in params


def _factory_decorator(ctx: PyContext, fn: FunctionLike) -> bool:
    """The decorator a decorator factory returns (``def sensitive(*names): def
    decorator(func): ...; return decorator``): one positional parameter, returned by name
    by the function it is defined in, and it returns its argument or a wrapper function it
    defines, so it runs where a definition is decorated."""
    if isinstance(fn, ast.Lambda) or len(fn.args.args) + len(fn.args.posonlyargs) != 1:
        return False
    outer = ctx.parent(fn)
    if not isinstance(outer, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    # It returns what it decorates, or a wrapper it defines around it.
    last = fn.body[-1]
    if not isinstance(last, ast.Return) or not isinstance(last.value, ast.Name):
        return False
    param = (*fn.args.posonlyargs, *fn.args.args)[0].arg
    wrappers = {n.name for n in ast.walk(fn) if isinstance(n, (ast.FunctionDef,
                                                              ast.AsyncFunctionDef))}
    if last.value.id != param and last.value.id not in wrappers - {fn.name}:
        return False
    return any(
        isinstance(s, ast.Return) and isinstance(s.value, ast.Name) and s.value.id == fn.name
        for s in outer.body
    )


# The keywords of os.register_at_fork(), and the calls that register a process hook.
_FORK_HOOKS = frozenset({"before", "after_in_child", "after_in_parent"})
_HOOK_CALLS = frozenset({"register_at_fork", "atexit.register"})


def _process_hook(ctx: PyContext, fn: FunctionLike) -> bool:
    """``fn`` is registered in the file as a process hook: ``os.register_at_fork(
    after_in_child=fn)`` (any call given it as ``before=``/``after_in_child=``/
    ``after_in_parent=``) or ``atexit.register(fn)``, by name or through
    ``functools.partial(fn, ...)``. The runtime calls it once per fork or exit, so the
    state it resets is the process's own (a forked child dropping the parent's registry)."""
    if isinstance(fn, ast.Lambda):
        return False

    def names(expr: ast.expr) -> bool:
        if isinstance(expr, ast.Call) and dotted_name(expr.func).rsplit(".", 1)[-1] \
                == "partial" and expr.args:
            expr = expr.args[0]
        return isinstance(expr, ast.Name) and expr.id == fn.name

    for call in ctx.nodes(ast.Call):
        assert isinstance(call, ast.Call)
        if any(k.arg in _FORK_HOOKS and names(k.value) for k in call.keywords):
            return True
        called = dotted_name(call.func)
        if (called in _HOOK_CALLS or called.endswith(".register_at_fork")) and any(
                names(a) for a in call.args):
            return True
    return False


def _cache_object(binding: ast.AST) -> bool:
    """``X = FactorCache(maxsize=1000)``, ``cachetools.LRUCache(...)``: an instance of a
    class whose name says it is a cache (it ends in ``Cache``): memo storage by design."""
    value = getattr(binding, "value", None)
    return isinstance(value, ast.Call) and dotted_name(value.func).rsplit(".", 1)[-1] \
        .endswith("Cache")


_KEEP_ALIVE = frozenset({"add", "discard"})


def _keep_alive(ctx: PyContext, name: str) -> bool:
    """The module only ever adds to and discards from ``name`` (both): a set that keeps
    objects alive (background tasks until they are done, weak references until their callback
    runs). Nothing reads it, so no result can depend on what it holds."""
    used: set[str] = set()
    for node in ctx.nodes(ast.Name):
        assert isinstance(node, ast.Name)
        if node.id != name or not isinstance(node.ctx, ast.Load):
            continue
        parent = ctx.parent(node)
        if not (isinstance(parent, ast.Attribute) and parent.attr in _KEEP_ALIVE):
            return False  # read, iterated, tested or changed otherwise
        used.add(parent.attr)  # called, or handed on as a callback (``_TASKS.discard``)
    return used == _KEEP_ALIVE


def _holds_references(ctx: PyContext, name: str) -> bool:
    """The module only ever appends to ``name``, each time an object the appending function
    made itself (``eng = make_engine(...)``, not a parameter) and goes on using after the
    append (``exe_engines.append(eng)`` / ``return eng.address(...)``): a list that keeps
    resources alive while what was handed out (a function pointer, a callback) points into
    them. Nothing reads it, so no result can depend on what it holds."""
    appends = 0
    for node in ctx.nodes(ast.Name):
        assert isinstance(node, ast.Name)
        if node.id != name or not isinstance(node.ctx, ast.Load):
            continue
        attr, call = ctx.parent(node), None
        if isinstance(attr, ast.Attribute) and attr.attr == "append":
            call = ctx.parent(attr)
        if not (isinstance(call, ast.Call) and call.func is attr and len(call.args) == 1
                and not call.keywords and _made_and_used(ctx, call, call.args[0])):
            return False  # read, iterated, tested, changed otherwise, or kept from a caller
        appends += 1
    return appends > 0


def _made_and_used(ctx: PyContext, call: ast.Call, value: ast.expr) -> bool:
    """``value`` is a local variable that the function around ``call`` binds from a call
    (not a parameter) and reads again after ``call``."""
    fn = ctx.enclosing_function(call)
    if fn is None or not isinstance(value, ast.Name):
        return False
    a = fn.args
    if value.id in {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg,
                                    a.kwarg) if p is not None}:
        return False
    made = any(isinstance(s, ast.Assign) and isinstance(s.value, ast.Call)
               and any(isinstance(t, ast.Name) and t.id == value.id for t in s.targets)
               and s.lineno < call.lineno for s in ast.walk(fn))
    used = any(isinstance(n, ast.Name) and n.id == value.id and isinstance(n.ctx, ast.Load)
               and n.lineno > call.end_lineno for n in ast.walk(fn)) \
        if call.end_lineno is not None else False
    return made and used


def _drained_queue(ctx: PyContext, name: str) -> bool:
    """The module only ever ``add``s to the set ``name`` and empties it in a drain loop
    (``while X: item = X.pop(); item.reorder()``): a set of pending work that the module
    hands back to itself (a dispatcher queued while ordering is halted, reordered when it
    restarts). Adding an item twice changes nothing and the drain takes each item once,
    whoever queued it; nothing else reads it."""
    adds = drains = 0
    for node in ctx.nodes(ast.Name):
        assert isinstance(node, ast.Name)
        if node.id != name or not isinstance(node.ctx, ast.Load):
            continue
        parent = ctx.parent(node)
        if isinstance(parent, ast.While) and parent.test is node:
            continue
        call = ctx.parent(parent) if isinstance(parent, ast.Attribute) else None
        if not (isinstance(parent, ast.Attribute) and isinstance(call, ast.Call)
                and call.func is parent and not call.keywords):
            return False
        if parent.attr == "add" and len(call.args) == 1:
            adds += 1
        elif parent.attr == "pop" and not call.args and _in_drain(ctx, call, name):
            drains += 1
        else:
            return False
    return adds > 0 and drains > 0


def _in_drain(ctx: PyContext, node: ast.AST, name: str) -> bool:
    """``node`` runs in the body of ``while name:`` (in the same function)."""
    for up in ctx.ancestors(node):
        if isinstance(up, (*_FUNCTIONS, ast.ClassDef)):
            return False
        if isinstance(up, ast.While) and isinstance(up.test, ast.Name) \
                and up.test.id == name:
            return True
    return False


def _under_lock(ctx: PyContext, node: ast.AST) -> bool:
    """The change runs inside ``with <lock>:`` (a name or call ending in ``lock``, such
    as ``_registry_lock`` or ``get_lock()``): the author shares the state on purpose and
    guards it."""
    for up in ctx.ancestors(node):
        if isinstance(up, _FUNCTIONS):
            return False
        if isinstance(up, (ast.With, ast.AsyncWith)):
            for item in up.items:
                expr = item.context_expr
                target = expr.func if isinstance(expr, ast.Call) else expr
                last = dotted_name(target).rsplit(".", 1)[-1].lower()
                if last.endswith("lock"):
                    return True
    return False


class ModuleStateMutation(Rule):
    """A function changes a module-level list, dict or set in place.

    Module-level containers that functions fill, empty or update are global state in
    disguise: no ``global`` statement shows it, the function's signature does not mention
    it, results depend on what ran before, tests leak into each other and threads race.
    Pass the container in, return a new value, or keep the state in an object the caller
    owns (a memo table: ``functools.cache``).

    Reported once per function and name, at the first change: method calls that mutate
    (``append``, ``update``, ``setdefault``, ``pop``, ``add``...), item assignment,
    augmented item assignment and ``del X[k]``, also through nested subscripts
    (``X[k].append(v)``). Only module names whose every module-level binding is a
    list/dict/set display, comprehension or constructor call count, and only where the
    name is not shadowed by a parameter or a local variable. Functions that declare
    ``global`` (for any name) are left to RV102, which already reports the function for the
    module state it changes (one comment on the design, not two).

    Not reported (options): names matching ``ignore_names`` (glob patterns; ``__all__`` by
    default); registration decorators that return their argument, the decorator a decorator
    factory returns (``def decorator(func): ...`` then ``return decorator``),
    ``__init_subclass__`` and helpers that the module's own top-level code calls
    (``allow_registration``: a registry filled while the module is imported is
    configuration, fixed before any caller runs), and module-level functions that the
    top-level code of a package ``__init__.py`` above the module calls (``config =
    utils.backends._set_configs()``: the package's set-up, run once while it is imported);
    get-or-create changes
    (``allow_get_or_create``): ``X.setdefault(k, v)``, and
    ``X[k] = v``, ``X.add(k)`` or ``X.append(k)`` where ``k`` is known to be missing (under
    ``if k not in X:``, in the ``else`` of ``if k in X:``, after ``if k in X: return`` or
    ``try: return X[k]`` / ``except KeyError:``, or after ``v = X.get(k)`` when ``v`` is
    None or falsy; also after ``if k in X:`` that returns the value unless it is stale),
    ``X[obj.name] = obj`` (an index of objects by their own name, e.g. classes loaded
    lazily), instances of a cache class (``X = FactorCache(...)``: its name ends in
    ``Cache``), and tables built on first use (under ``if not T:`` where the block fills
    the module table ``T`` and reads no parameter, or appends to ``X`` under a test of
    ``len(X)``: a table that only grows, each entry the same whoever asks first; also a
    module-level loader that extends or replaces ``X[:]`` when every call of it in the
    module is under such a test, ``if n > len(_ZEROS): _load_zeros()``); containers nothing
    reads (``allow_keep_alive``): a module-level set the module only ever ``add``s to and
    ``discard``s from, which holds background tasks or weak references alive; a list the
    module only ever appends to, each time an object the function made and goes on using
    (an engine whose compiled function pointer it returns: the list keeps it alive); and a
    set of pending work the module only ``add``s to and drains itself (``while X:
    X.pop()...``, each item taken once, adding twice a no-op); changes made inside ``with
    <lock>:`` (``allow_locked``: a lock whose name ends in ``lock``, such as a registry of
    file descriptors for an at-fork hook: shared on purpose and guarded); process hooks
    (``allow_process_hooks``): a function the file registers
    with ``os.register_at_fork(after_in_child=...)`` (or ``before=``/``after_in_parent=``,
    also through ``functools.partial``) or ``atexit.register``, which the runtime calls once
    per fork or exit to reset the process's own state; and test files (``include_tests``),
    where module-level recorders in test doubles are common.

    Why get-or-create is exempt (judged on real code, bench/precision.py): a memo table, a
    warn-once set or a run-once set is idempotent state. A second call with the same key
    changes nothing and sees the same value, so no result depends on which caller ran first,
    which is the harm this rule is about; what remains (growth without bound, a test that
    expects the warning twice) is a different review comment, and ``functools.cache`` is not
    always a replacement (a key that is not the arguments, a cache shared by instances). A
    senior reviewer asks for the change when the state accumulates (appends, counters,
    removals) or a public function rebinds a registry at run time; those stay reported.
    """

    id = "RV103"
    local_fix = False  # state shared by a module needs a design change
    slug = "module-state-mutation"
    principle = "no-hidden-state"
    severity = Severity.LOW
    message = "The function changes module-level mutable state in place."
    counterparts = {"pylint": "global-variable-not-assigned"}
    options = {"ignore_names": ("__all__",), "allow_registration": True,
               "allow_get_or_create": True, "allow_keep_alive": True, "allow_locked": True,
               "allow_process_hooks": True,
               "include_tests": False}
    tags = ("design", "hidden-state")
    VALID = [
        # Local state, a parameter that shadows the module name, a read-only module table.
        "def collect(xs):\n    out = []\n    for x in xs:\n        out.append(x)\n    return out\n",
        "ITEMS = []\ndef add(ITEMS, x):\n    ITEMS.append(x)\n",
        "ITEMS = []\ndef f(x):\n    ITEMS = []\n    ITEMS.append(x)\n    return ITEMS\n",
        "TABLE = {'a': 1}\ndef look(k):\n    return TABLE.get(k, TABLE[k])\n",
        # Module-level code may build its own tables.
        "NAMES = []\nfor n in range(3):\n    NAMES.append(str(n))\nNAMES[0] = 'zero'\n",
        # A module name bound to something else too is not known to be a container.
        "import os\nCACHE = {}\nif os.name == 'nt':\n    CACHE = load()\n"
        "def put(k, v):\n    CACHE[k] = v\n",
        # The usual plug-in registry: a decorator that records and returns its argument.
        "HANDLERS = {}\ndef handler(fn):\n    HANDLERS[fn.__name__] = fn\n    return fn\n",
        "PLUGINS = []\nclass Base:\n    def __init_subclass__(cls, **kw):\n"
        "        super().__init_subclass__(**kw)\n        PLUGINS.append(cls)\n",
        # ``global`` makes it explicit (RV102 reports that).
        "SEEN = set()\ndef mark(x):\n    global SEEN\n    SEEN.add(x)\n",
        # ... for any of the names it changes: RV102 reports the function once.
        "_THREAD = [None]\n_lock = None\ndef reset_lock():\n    global _lock\n"
        "    _THREAD[0] = None\n    _lock = None\n",
        # Comprehension and lambda variables shadow the module name.
        "XS = []\ndef f(data):\n    return [XS.append(1) for XS in data]\n",
        "XS = []\nf = lambda XS: XS.append(1)\n",
        # Get-or-create: a memo table, a warn-once set, a run-once set, shared storage.
        "CACHE = {}\ndef get(key):\n    if key not in CACHE:\n        CACHE[key] = load(key)\n"
        "    return CACHE[key]\n",
        "import warnings\n_WARNED = set()\ndef warn_once(msg):\n    if msg not in _WARNED:\n"
        "        _WARNED.add(msg)\n        warnings.warn(msg)\n",
        "RAN = set()\nclass Db:\n    def init(self):\n        if self.alias not in RAN:\n"
        "            self.check()\n            RAN.add(self.alias)\n",
        "_FINDERS = {}\ndef finder(pkg):\n    if pkg in _FINDERS:\n        result = _FINDERS[pkg]\n"
        "    else:\n        result = make(pkg)\n        _FINDERS[pkg] = result\n"
        "    return result\n",
        "_WARNED = set()\ndef warn(module):\n    if module in _WARNED:\n        return\n"
        "    _WARNED.add(module)\n    log(module)\n",
        "_MEMO = {}\ndef looks_like(text):\n    key = hash(text)\n    try:\n"
        "        return _MEMO[key]\n    except KeyError:\n        rv = slow(text)\n"
        "        _MEMO[key] = rv\n        return rv\n",
        "_FORMATS = {}\ndef get_format(k):\n    try:\n        return _FORMATS[k]\n"
        "    except KeyError:\n        pass\n    val = compute(k)\n    _FORMATS[k] = val\n"
        "    return val\n",
        "_LEXERS = {}\ndef load(mod):\n    for name in mod.__all__:\n"
        "        cls = getattr(mod, name)\n        _LEXERS[cls.name] = cls\n",
        "from collections import defaultdict\n_SRID = defaultdict(dict)\n"
        "def info(alias, srid):\n    if srid not in _SRID[alias]:\n"
        "        _SRID[alias][srid] = make(srid)\n    return _SRID[alias][srid]\n",
        "_STORES = {}\nclass Cache:\n    def __init__(self, name):\n"
        "        self._data = _STORES.setdefault(name, {})\n",
        # The decorator of a decorator factory records what it decorates, at definition.
        "_SENSITIVE = {}\ndef sensitive(*names):\n    def decorator(func):\n"
        "        _SENSITIVE[func.__qualname__] = names\n        def wrapper(*a):\n"
        "            return func(*a)\n        return wrapper\n    return decorator\n",
        # More get-or-create spellings: ``not (k in X)``, a lookup under ``except
        # KeyError``, a refresh of a stale value, an interning cache.
        "_DUMMIES = {}\ndef dummy(name):\n    if not name in _DUMMIES:\n"
        "        _DUMMIES[name] = make(name)\n    return _DUMMIES[name]\n",
        "_SYMS = {}\ndef syms(name, n):\n    try:\n        out = _SYMS[name]\n"
        "    except KeyError:\n        out = []\n        _SYMS[name] = out\n    return out[:n]\n",
        "_ZETA = {}\ndef zeta(s, prec):\n    if (s in _ZETA and _ZETA[s][0] < prec) or "
        "s not in _ZETA:\n        _ZETA[s] = (prec, compute(s, prec))\n    return _ZETA[s][1]\n",
        "_GROUPS = {}\nclass Group:\n    def __new__(cls, key):\n        obj = _GROUPS.get(key)\n"
        "        if obj is None:\n            obj = object.__new__(cls)\n"
        "            _GROUPS[key] = obj\n        return obj\n",
        # More memo tables: a failed get() then a store in the else branch; a cached value
        # refreshed when stale; an instance of a cache class.
        "_CACHE = {}\ndef get(k):\n    v = _CACHE.get(k)\n    if v:\n        return v\n"
        "    else:\n        _CACHE[k] = load(k)\n    return _CACHE[k]\n",
        "_LOGS = {}\ndef log_int(n, prec):\n    if n in _LOGS:\n        v, p = _LOGS[n]\n"
        "        if p >= prec:\n            return v\n"
        "    _LOGS[n] = (compute(n, prec), prec)\n    return _LOGS[n][0]\n",
        "class FactorCache(dict):\n    pass\n\n_FACTORS = FactorCache()\n"
        "def factor(n):\n    _FACTORS[n] = smallest_factor(n)\n",
        # Tables built on first use: filled when empty, or extended as far as asked.
        "_PATTERNS = []\n_WILDS = []\ndef patterns(expr):\n    if not _PATTERNS:\n"
        "        _WILDS.extend(make_wilds())\n        _PATTERNS.extend(build(_WILDS))\n"
        "    return [p for p in _PATTERNS if p.matches(expr)]\n",
        "_FACT = [1]\ndef fact(n):\n    if n >= len(_FACT):\n"
        "        for i in range(len(_FACT), n + 1):\n            _FACT.append(_FACT[i - 1] * i)\n"
        "    return _FACT[n]\n",
        # A keep-alive set: background tasks stay referenced until they are done.
        "_TASKS = set()\ndef spawn(loop, coro):\n    task = loop.create_task(coro)\n"
        "    _TASKS.add(task)\n    task.add_done_callback(_TASKS.discard)\n",
        # A keep-alive list: engines the module made stay referenced while the function
        # pointers handed out point into them; nothing reads the list.
        "_ENGINES = []\ndef compile_fn(mod, name):\n    eng = make_engine(mod)\n"
        "    _ENGINES.append(eng)\n    return eng.address(name)\n",
        # Pending work the module drains itself: queued while ordering is halted, each
        # item taken once when it restarts.
        "_PENDING = set()\ndef restart():\n    while _PENDING:\n        _PENDING.pop().reorder()\n"
        "class Dispatcher:\n    def reorder(self):\n        if self.halted:\n"
        "            _PENDING.add(self)\n",
        # A loader that the table's readers call only when they need more of it.
        "_ZEROS = [14.13, 21.02]\ndef _load_zeros(path):\n    _ZEROS[:] = read_floats(path)\n"
        "def zero(n, path='zeros.txt'):\n    if n > len(_ZEROS):\n        _load_zeros(path)\n"
        "    return _ZEROS[n - 1]\n",
        # Shared on purpose, under its lock.
        "import threading\n_LOCK = threading.Lock()\n_OWNED = {}\n"
        "def record(token, fd):\n    with _LOCK:\n        _OWNED[token] = fd\n",
        # A registration helper that the module's own top-level code calls.
        "from collections import defaultdict\n_COMBINE = defaultdict(list)\n"
        "def register(lhs, op, rhs):\n    _COMBINE[op].append((lhs, rhs))\n"
        "for op in ('+', '-'):\n    register(int, op, float)\n",
        # A process hook: the forked child drops the registry it inherited.
        "import os\nfrom functools import partial\n_OWNED = {}\n"
        "def reset(*, from_hook=False):\n    _OWNED.clear()\n"
        "os.register_at_fork(after_in_child=partial(reset, from_hook=True))\n",
        "import atexit\n_PENDING = []\ndef flush():\n    _PENDING.clear()\n"
        "atexit.register(flush)\n",
        Valid("calls = []\ndef fake(*a):\n    calls.append(a)\n", path="tests/test_api.py"),
        Valid(
            "_cache = {}\ndef get(k):\n    _cache[k] = k\n", options={"ignore_names": ("_cache",)}
        ),
    ]
    INVALID = [
        Invalid("_seen = set()\ndef visit(node):\n    _seen.add(node)\n", line=3),
        # Not get-or-create: the key set is not the one tested, or the test does not exclude it.
        Invalid(
            "CACHE = {}\ndef get(key):\n    if key not in CACHE:\n        CACHE[key.lower()] = 1\n",
            line=4,
        ),
        Invalid(
            "SEEN = set()\ndef mark(x, force):\n    if x not in SEEN or force:\n"
            "        SEEN.add(x)\n",
            line=4,
        ),
        Invalid(
            "CACHE = {}\ndef get(key):\n    if key not in CACHE:\n        CACHE[key] = load(key)\n"
            "    return CACHE[key]\n",
            line=4, options={"allow_get_or_create": False},
        ),
        Invalid("BY_NAME = {}\ndef add(obj, other):\n    BY_NAME[obj.name] = other\n", line=3),
        Invalid(
            "SEEN = set()\ndef mark(x):\n    if x in SEEN:\n        log(x)\n    SEEN.add(x)\n",
            line=5,
        ),
        # Filled when empty, but with what the caller gave: not a fixed table.
        Invalid(
            "_PENDING = []\ndef submit(job):\n    if not _PENDING:\n"
            "        _PENDING.append(job)\n",
            line=4,
        ),
        # Grown under a length test of another list.
        Invalid(
            "_LOG = []\n_OTHER = [1]\ndef note(x):\n    if len(_OTHER) > 0:\n"
            "        _LOG.append(x)\n",
            line=5,
        ),
        # Called by a function, not by the module's top-level code: state changed at run time.
        Invalid(
            "REG = {}\ndef register(name, f):\n    REG[name] = f\n"
            "def setup():\n    register('a', 1)\n",
            line=3,
        ),
        Invalid("STACK = list()\nasync def pop():\n    return STACK.pop()\n", line=3),
        # Registered as something else than a process hook: changed at run time.
        Invalid(
            "import os\n_OWNED = {}\ndef reset():\n    _OWNED.clear()\n"
            "def later(pool):\n    pool.submit(reset)\n",
            line=4,
        ),
        # A set that is also read is not a keep-alive set; a with that is not a lock.
        Invalid(
            "_SEEN = set()\ndef mark(x):\n    _SEEN.add(x)\ndef seen(x):\n"
            "    return x in _SEEN\n",
            line=3,
        ),
        Invalid(
            "_LOG = []\ndef note(path, x):\n    with open(path) as f:\n        _LOG.append(x)\n",
            line=4,
        ),
        # Appended what the caller gave, or something made but not used after: a record,
        # not a keep-alive list.
        Invalid("_KEPT = []\ndef keep(obj):\n    _KEPT.append(obj)\n    return obj.id\n",
                line=3),
        Invalid("_RESULTS = []\ndef run(x):\n    r = work(x)\n    _RESULTS.append(r)\n",
                line=4),
        # A set popped from outside a drain loop: whoever takes first gets the item.
        Invalid(
            "_PENDING = set()\ndef defer(x):\n    _PENDING.add(x)\ndef take():\n"
            "    return _PENDING.pop()\n",
            line=3,
        ),
        # A replacement whose callers do not test the table's length: a reset at run time.
        Invalid(
            "_FOUND = []\ndef _reset():\n    _FOUND[:] = []\ndef find(path):\n"
            "    _reset()\n    return scan(path, _FOUND)\n",
            line=3,
        ),
        Invalid("COUNTS = {}\ndef count(w):\n    COUNTS[w] += 1\n", line=3),
        Invalid("REG = {}\ndef forget(name):\n    del REG[name]\n", line=3),
        Invalid(
            "from collections import defaultdict\nBY_KEY = defaultdict(list)\n"
            "def add(k, v):\n    BY_KEY[k].append(v)\n",
            line=4,
        ),
        # In a method, in a nested function, in a lambda.
        Invalid(
            "EVENTS = []\nclass Bus:\n    def emit(self, e):\n        EVENTS.append(e)\n", line=4
        ),
        Invalid(
            "LOG = []\ndef outer():\n    def inner(x):\n        LOG.extend(x)\n    return inner\n",
            line=4,
        ),
        Invalid("Q = []\npush = lambda x: Q.append(x)\n", line=2),
        Invalid(
            "HANDLERS = {}\ndef handler(fn):\n    HANDLERS[fn.__name__] = fn\n    return fn\n",
            line=3,
            options={"allow_registration": False, "allow_get_or_create": False},
        ),
    ]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        if ctx.is_test and not self.settings["include_tests"]:
            return
        ignore: tuple[str, ...] = self.settings["ignore_names"]
        names = {
            n: v
            for n, v in module_mutables(ctx.tree, mutable_classes(ctx.tree)).items()
            if not any(fnmatchcase(n, pattern) for pattern in ignore)
        }
        if self.settings["allow_keep_alive"]:
            names = {n: v for n, v in names.items() if not (
                _keep_alive(ctx, n) or _holds_references(ctx, n) or _drained_queue(ctx, n))}
        if self.settings["allow_get_or_create"]:
            names = {n: v for n, v in names.items() if not _cache_object(v)}
        if not names:
            return
        seen: set[tuple[ast.AST, str]] = set()
        once = bool(self.settings["allow_get_or_create"])
        locked = bool(self.settings["allow_locked"])
        for name, how in sorted(_mutations(ctx, names, once), key=_position):
            if locked and _under_lock(ctx, name):
                continue
            fn = self._owner(ctx, name)
            if fn is None or (fn, name.id) in seen:
                continue
            seen.add((fn, name.id))
            where = "a lambda" if isinstance(fn, ast.Lambda) else f"{fn.name}()"
            yield ctx.report(
                self,
                name,
                f"{where} changes module-level {name.id} in place ({how}): state shared by"
                " every caller; pass it in or keep it in an object the caller owns.",
            )

    def _owner(self, ctx: PyContext, name: ast.Name) -> FunctionLike | None:
        """The function whose code changes the module-level ``name`` (None: not one)."""
        owner: FunctionLike | None = None
        for scope in ctx.scopes(name):
            if isinstance(scope, _FUNCTIONS):
                if ctx.bindings(scope).declared_global:
                    return None  # it declares module state it changes: RV102's business
                owner = owner or scope
        if owner is None or ctx.resolve(name.id, name) is not ctx.tree:
            return None
        if self.settings["allow_registration"] and (
            _is_registration(owner) or _called_at_import(ctx, owner)
            or _factory_decorator(ctx, owner)
        ):
            return None
        if self.settings["allow_process_hooks"] and _process_hook(ctx, owner):
            return None
        return owner
