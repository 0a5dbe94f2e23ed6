"""A little data flow for the security rules: import aliases, name bindings and constants.

The security rules ask one question again and again: can the value reaching this sink be
anything but a constant? "A constant command is not an injection." This module answers it
with a deliberately small analysis:

* **imports**: ``from pickle import loads as lp`` makes ``lp`` mean ``pickle.loads``;
* **bindings**: every name bound in each scope (module, function, lambda, class,
  comprehension) with the expression it was bound to. Flow-insensitive: a name is constant
  only when *every* binding in its scope is constant, wherever it sits (so a later
  ``cmd = input()`` taints an earlier ``cmd = "ls"``). ``global``/``nonlocal`` move a
  function's bindings to the scope they name;
* **constants**: literals, displays and f-strings of constants, operators, ``%``,
  ``.format()``/``.join()`` and other str methods, a few pure builtins, lookups in
  constants (with any key: ``COMMANDS[user_choice]`` is one of COMMANDS' values), names
  bound only to constants, loop variables over constant iterables, comprehensions whose
  element is constant, ``self.NAME`` for a class constant never assigned as an attribute
  in the file, the values a ``%(key)s`` template names in the mapping it formats, and a
  parameter of a private function (``_helper``) that every call of it in the file gives
  a constant (the function used in no other way);
  Also: containers filled key by key (``d[k] = v`` binds ``d`` to ``v`` too, in the
  scope ``d`` resolves to), the
  ``.values()`` of a dict of constants (any keys), ``for a, b in zip(xs, ys)`` pairing
  each target with its iterable, an expression checked by ``if E not in ALLOWED: raise``
  (or ``return``/``continue``/``break``) with ALLOWED constant, ``self.NAME`` whose every
  plain store ``x.NAME = v`` in the file is constant, and a call of a function of the
  file whose every ``return`` is constant (not a generator);
* **sanitizers** (given by the rule): their results, also through a name bound to the
  function (``qn = ops.quote_name``). An entry ``prefix*``/``*suffix``/``prefix*suffix``
  matches call names by their last part (``quote*``, ``*_sql``, ``_*_name``), ``a.b.*``
  the attribute reads under ``a.b`` (``connection.features.*``), ``@word`` names
  containing the word (``@placeholder``), and :data:`SQL_FRAGMENT` the first of two names
  unpacked from a call with a parameters name (``where, w_params = self.compile(node)``);
  with it, the parameters of a private ``*_sql`` helper the file never calls are
  fragments too.

Parameters, attributes, calls to unknown functions and names bound by ``import``, ``with``
or ``except`` are not constant. The analysis is built lazily, once per file, and only when
a rule finds a candidate sink, so files without sinks pay nothing.
"""

from __future__ import annotations

import ast
import re
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from reviewer.languages.python import child_fields, dotted_name

if TYPE_CHECKING:
    from reviewer.languages.python import PyContext

# A binding: the expression whose constancy decides the name's (None: never constant).
Binding = ast.expr | None

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)

# str/bytes methods whose result is constant when the receiver and arguments are.
STR_METHODS = frozenset(
    {
        "format", "join", "replace", "strip", "lstrip", "rstrip", "lower", "upper", "title",
        "capitalize", "casefold", "swapcase", "encode", "decode", "zfill", "center", "ljust",
        "rjust", "removeprefix", "removesuffix", "expandtabs", "split", "rsplit", "splitlines",
        "format_map",
    }
)
# Container methods whose result is made of the receiver's (and the arguments') values.
CONTAINER_METHODS = frozenset({"items", "keys", "values", "get", "copy"})
# Pure functions whose result is constant when every argument is.
PURE_CALLS = frozenset(
    {
        "str", "int", "float", "bool", "bytes", "tuple", "list", "dict", "set", "frozenset",
        "len", "repr", "abs", "min", "max", "sorted", "chr", "ord", "hex", "oct", "round",
        "os.path.join", "posixpath.join", "ntpath.join", "os.path.basename", "os.path.dirname",
        "shlex.quote", "shlex.join", "shlex.split", "textwrap.dedent", "textwrap.indent",
    }
)
# What a call returns, by qualified name (a method as "Type.method"): the receiver types
# that method sinks written "pkg.Type.method" in the sink catalogue are resolved by.
_SA_QUERY = "sqlalchemy.orm.Query"
RETURNS: dict[str, str] = {
    **{f"{m}.connect": f"{m}.Connection" for m in (
        "sqlite3", "psycopg", "psycopg2", "pymysql", "MySQLdb", "pymssql", "pg8000",
        "aiosqlite", "aiopg", "asyncpg", "mysql.connector")},
    **{f"{m}.Connection.cursor": f"{m}.Cursor" for m in (
        "sqlite3", "psycopg", "psycopg2", "pymysql", "MySQLdb", "pymssql", "pg8000",
        "aiosqlite", "aiopg", "mysql.connector")},
    "sqlite3.Connection": "sqlite3.Connection",
    "asyncpg.create_pool": "asyncpg.Pool",
    "asyncpg.Pool.acquire": "asyncpg.Connection",
    "sqlalchemy.create_engine": "sqlalchemy.Engine",
    "sqlalchemy.Engine.connect": "sqlalchemy.Connection",
    "sqlalchemy.Engine.begin": "sqlalchemy.Connection",
    "sqlalchemy.orm.Session": "sqlalchemy.orm.Session",
    "sqlalchemy.orm.Session.query": _SA_QUERY,
    **{f"{_SA_QUERY}.{m}": _SA_QUERY for m in (
        "filter", "filter_by", "join", "outerjoin", "order_by", "group_by", "having",
        "distinct", "limit", "offset", "options", "select_from", "where")},
}
_MAX_DEPTH = 40
# printf-style placeholders: named ones (``%(key)s``) and any other (``%s``, ``%d``).
_NAMED = re.compile(r"%\(([^)]*)\)")
_UNNAMED = re.compile(r"%[^(]")
_DISPLAYS = (ast.List, ast.Tuple)


@dataclass
class Scope:
    """One Python scope and the names bound in it."""

    node: ast.AST
    parent: Scope | None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    globals_: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)

    @property
    def is_class(self) -> bool:
        return isinstance(self.node, ast.ClassDef)

    def bind(self, name: str, value: Binding) -> None:
        self.bindings.setdefault(name, []).append(value)


_SOURCE_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}


class _Binder(ast.NodeVisitor):
    """One pass over a module collecting the scopes and their bindings."""

    def __init__(self, module: ast.Module) -> None:
        self.module = Scope(module, None)
        self.scopes: dict[ast.AST, Scope] = {module: self.module}
        self.current = self.module
        self._methods: dict[type[ast.AST], Callable[[Any], Any]] = {}
        self.item_stores: list[tuple[Scope, str, Binding]] = []

    # -- the walk (NodeVisitor's, with the method and the child fields looked up once per
    # node type: this pass runs over every module the security rules review) -------------
    def visit(self, node: ast.AST) -> Any:
        method = self._methods.get(node.__class__)
        if method is None:
            found: Callable[[Any], Any] = getattr(
                self, "visit_" + node.__class__.__name__, self.generic_visit)
            method = self._methods[node.__class__] = found
        return method(node)

    def generic_visit(self, node: ast.AST) -> None:
        fields = _SOURCE_FIELDS.get(node.__class__)
        if fields is None:
            fields = _SOURCE_FIELDS[node.__class__] = child_fields(node.__class__)
        for name in fields:
            value = getattr(node, name, None)
            if value is None:
                continue
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    # -- helpers -------------------------------------------------------------------------
    def _enter(self, node: ast.AST) -> Scope:
        scope = Scope(node, self.current)
        self.scopes[node] = scope
        return scope

    def _bind_target(self, target: ast.expr, value: Binding, scope: Scope | None = None,
                     element: bool = False) -> None:
        """Bind the names of ``target`` (``element``: to an element of ``value``, as a loop
        does)."""
        scope = scope or self.current
        if isinstance(target, ast.Name):
            scope.bind(target.id, value)
        elif isinstance(target, ast.Starred):
            self._bind_target(target.value, value, scope)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if value is not None and _fragment_pair(target, value):
                fragment = ast.Call(ast.Name(SQL_FRAGMENT, ast.Load()), [value], [])
                self._bind_target(target.elts[0], fragment, scope)
                self._bind_target(target.elts[1], value, scope)
                return
            pairs = _unpack(target, value, element)
            for sub, sub_value in pairs:
                self._bind_target(sub, sub_value, scope)
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            # name[key] = value: the container now holds value too (bound, at the end, in
            # the scope the name resolves to: an item store makes no local name).
            self.item_stores.append((scope, target.value.id, value))
        # Attributes bind no name.

    def _visit_all(self, nodes: Iterable[ast.AST | None]) -> None:
        for n in nodes:
            if n is not None:
                self.visit(n)

    def _function_scope(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        args = node.args
        self._visit_all([*args.defaults, *args.kw_defaults])
        outer = self.current
        self.current = self._enter(node)
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if a is not None:
                self.current.bind(a.arg, None)
        if isinstance(node, ast.Lambda):
            self.visit(node.body)
        else:
            self._visit_all(node.body)
        self.current = outer

    # -- scopes --------------------------------------------------------------------------
    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._def(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._def(node)

    def _def(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._visit_all(node.decorator_list)
        self.current.bind(node.name, None)
        self._function_scope(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._function_scope(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._visit_all([*node.decorator_list, *node.bases, *(k.value for k in node.keywords)])
        self.current.bind(node.name, None)
        outer = self.current
        self.current = self._enter(node)
        self._visit_all(node.body)
        self.current = outer

    def _comprehension(self, node: ast.AST, elements: list[ast.expr]) -> None:
        generators: list[ast.comprehension] = node.generators  # type: ignore[attr-defined]
        self.visit(generators[0].iter)  # evaluated in the enclosing scope
        outer = self.current
        self.current = self._enter(node)
        for i, gen in enumerate(generators):
            if i:
                self.visit(gen.iter)
            self._bind_target(gen.target, gen.iter, element=True)
            self._visit_all(gen.ifs)
        self._visit_all(elements)
        self.current = outer

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, [node.elt])

    def visit_SetComp(self, node: ast.SetComp) -> None:
        self._comprehension(node, [node.elt])

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        self._comprehension(node, [node.elt])

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    # -- bindings ------------------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self._bind_target(target, node.value)
            self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self._bind_target(node.target, node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        # x += v is constant when x (its other bindings) and v are.
        self.visit(node.value)
        self._bind_target(node.target, node.value)
        self.visit(node.target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        scope = self.current
        while isinstance(scope.node, _COMPREHENSIONS) and scope.parent is not None:
            scope = scope.parent
        self._bind_target(node.target, node.value, scope)

    def visit_For(self, node: ast.For) -> None:
        self._for(node)

    def visit_AsyncFor(self, node: ast.AsyncFor) -> None:
        self._for(node)

    def _for(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        # an element of a constant is constant
        self._bind_target(node.target, node.iter, element=True)
        self._visit_all([*node.body, *node.orelse])

    def visit_withitem(self, node: ast.withitem) -> None:
        self.visit(node.context_expr)
        if node.optional_vars is not None:
            self._bind_target(node.optional_vars, None)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.current.bind(node.name, None)
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.current.bind(alias.asname or alias.name.split(".")[0], None)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                self.current.bind(alias.asname or alias.name, None)

    def visit_Global(self, node: ast.Global) -> None:
        self.current.globals_.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.current.nonlocals.update(node.names)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.name:
            self.current.bind(node.name, None)
        self.generic_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self.current.bind(node.name, None)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        if node.rest:
            self.current.bind(node.rest, None)
        self.generic_visit(node)

    def finish(self) -> dict[ast.AST, Scope]:
        """Move the bindings of ``global``/``nonlocal`` names to the scope they name."""
        for scope in self.scopes.values():
            for name in scope.globals_ | scope.nonlocals:
                moved = scope.bindings.pop(name, [])
                if name in scope.globals_:
                    target: Scope | None = self.module
                else:
                    target = _outer_function(scope, name)
                if target is not None:
                    for value in moved:
                        target.bind(name, value)
        for scope, name, value in self.item_stores:
            found: Scope | None = scope
            first = True
            while found is not None and not ((first or not found.is_class)
                                             and name in found.bindings):
                first, found = False, found.parent
            if found is not None:
                found.bind(name, value)
        return self.scopes


def _unpack(target: ast.Tuple | ast.List, value: Binding, element: bool = False
            ) -> list[tuple[ast.expr, Binding]]:
    """Pair the elements of a destructuring target with the values they receive
    (``element``: a loop's target, given each element of ``value``)."""
    elts = target.elts
    if (  # for a, b in zip(xs, ys): a is an element of xs, b of ys
        element and isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
        and value.func.id == "zip" and len(value.args) == len(elts) and not value.keywords
        and not any(isinstance(e, ast.Starred) for e in (*elts, *value.args))
    ):
        return list(zip(elts, value.args, strict=True))
    if (
        isinstance(value, (ast.Tuple, ast.List))
        and len(value.elts) == len(elts)
        and not any(isinstance(e, ast.Starred) for e in (*elts, *value.elts))
    ):
        return list(zip(elts, value.elts, strict=True))
    # Any other shape: each name gets a part of the value, constant if the whole value is.
    return [(e, value) for e in elts]


def _outer_function(scope: Scope, name: str) -> Scope | None:
    s = scope.parent
    while s is not None:
        if isinstance(s.node, _FUNCTIONS) and name in s.bindings:
            return s
        s = s.parent
    return None


def sanitizes(name: str, sanitizers: frozenset[str]) -> bool:
    """Whether the qualified call name ``name`` is one of ``sanitizers``: the full name, its
    last part, or a last part that an entry with a ``*`` matches (``quote*``, ``*_sql``,
    ``_*_name``: what is around the star starts and ends it)."""
    if not name or not sanitizers:
        return False
    last = name.rpartition(".")[2]
    if name in sanitizers or last in sanitizers:
        return True
    return any("*" in s and _around(last, *s.split("*", 1)) for s in sanitizers)


def _around(last: str, prefix: str, suffix: str) -> bool:
    """``last`` starts with ``prefix`` and ends with ``suffix``, apart."""
    return len(last) >= len(prefix) + len(suffix) and last.startswith(prefix) \
        and last.endswith(suffix)


def sanitized_attribute(name: str, sanitizers: frozenset[str]) -> bool:
    """Whether the attribute read ``name`` (dotted) is safe: an entry written ``a.b.*``
    matches the reads under ``a.b`` whatever the receiver before it
    (``connection.features.*``: ``self.connection.features.bare_select_suffix``)."""
    if not name:
        return False
    dotted = "." + name
    return any(s.endswith(".*") and f".{s[:-1]}" in dotted for s in sanitizers)


def safe_name(name: str, sanitizers: frozenset[str]) -> bool:
    """Whether a variable's name marks it safe: a sanitizer entry written ``@word`` matches
    the names containing ``word`` (``@placeholder``: ``placeholder_rows``)."""
    low = name.lower()
    return any(s.startswith("@") and s[1:] in low for s in sanitizers)


# The binding of a name unpacked with a parameters name from a call (``where, w_params =
# self.compile(node)``, ``sql, _ = self.db_default_sql(f)``): an SQL fragment whose values
# travel apart. Constant only for a rule that lists this marker among its sanitizers.
SQL_FRAGMENT = "__sql_fragment__"


def _fragment_pair(target: ast.Tuple | ast.List, value: ast.expr) -> bool:
    """``text, params = call(...)``: two targets, the second a parameters name (or ``_``
    when the callee's name says it returns SQL: ``*_sql``)."""
    call = value.value if isinstance(value, ast.Await) else value
    if len(target.elts) != 2 or not isinstance(call, ast.Call):
        return False
    other = target.elts[1]
    name = other.id if isinstance(other, ast.Name) else (
        other.attr if isinstance(other, ast.Attribute) else "")
    callee = dotted_name(call.func).rpartition(".")[2]
    return "param" in name.lower() or (name == "_" and callee.endswith("sql"))


class Flow:
    """The data-flow facts of one file (use :func:`flow` to get the cached instance)."""

    def __init__(self, ctx: PyContext) -> None:
        # A weak reference: the cache maps ctx -> Flow weakly, so a strong one here would
        # keep every parsed file alive for the whole run.
        self._ctx = weakref.ref(ctx)
        self._memo: dict[tuple[int, str, frozenset[str]], bool] = {}
        self._resolving: set[str] = set()
        self._active: set[tuple[int, str, frozenset[str]]] = set()
        self._returning: set[str] = set()  # the functions whose returns are being judged

    @property
    def ctx(self) -> PyContext:
        ctx = self._ctx()
        if ctx is None:  # pragma: no cover - the caller holds the context
            raise RuntimeError("the parsed file this data flow belongs to is gone")
        return ctx

    # -- imports -------------------------------------------------------------------------
    @cached_property
    def imports(self) -> dict[str, str]:
        """Local name -> the qualified name it was imported as (whole file)."""
        found: dict[str, str] = {}
        for node in self.ctx.nodes(ast.Import, ast.ImportFrom):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        found[alias.asname] = alias.name
                    else:
                        head = alias.name.split(".")[0]
                        found[head] = head
            elif isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                for alias in node.names:
                    if alias.name != "*":
                        found[alias.asname or alias.name] = f"{module}.{alias.name}"
        return found

    def may_call(self, call: ast.Call, last_names: frozenset[str]) -> bool:
        """A cheap pre-filter: can this call resolve to a name ending in ``last_names``?

        True when the called name ends in one of them, or is an imported alias.
        """
        func = call.func
        if isinstance(func, ast.Attribute):
            return func.attr in last_names
        if isinstance(func, ast.Call):  # getattr(os, "system")(cmd)
            return self._dynamic(func).rpartition(".")[2] in last_names
        return isinstance(func, ast.Name) and (
            func.id in last_names or func.id in self.imports or func.id in self._dynamic_names
        )

    def qualified_name(self, node: ast.AST) -> str:
        """``a.b.c`` with the head resolved through the file's imports ('' if not a name)."""
        name = dotted_name(node)
        if not name:
            return self._dynamic(node)
        head, dot, rest = name.partition(".")
        real = self.imports.get(head)
        if real is None and head in self._dynamic_names and head not in self._resolving:
            base = node
            while isinstance(base, ast.Attribute):
                base = base.value
            bound = self.bindings(base) if isinstance(base, ast.Name) else None
            self._resolving.add(head)  # x = getattr(x, "a") must not loop
            try:
                reached = {self._dynamic(b) if isinstance(b, ast.Call) else ""
                           for b in bound or []}
            finally:
                self._resolving.discard(head)
            if len(reached) == 1:
                real = reached.pop() or None  # m = __import__("os"); m.system
        if real is None:
            return name
        return f"{real}{dot}{rest}"

    @cached_property
    def _dynamic_names(self) -> frozenset[str]:
        """Names assigned a ``getattr(...)`` or ``__import__(...)`` call somewhere."""
        return frozenset(
            t.id
            for a in self.ctx.nodes(ast.Assign)
            if isinstance(a, ast.Assign) and isinstance(a.value, ast.Call)
            and isinstance(a.value.func, ast.Name)
            and a.value.func.id in ("getattr", "__import__")
            for t in a.targets if isinstance(t, ast.Name)
        )

    def _dynamic(self, node: ast.AST, depth: int = 0) -> str:
        """The qualified name reached through ``getattr(mod, "name")`` and
        ``__import__("mod")`` with constant names ('' otherwise): dynamic access hides no
        sink (``getattr(__import__("os"), "system")`` is ``os.system``)."""
        if depth > 8:
            return ""
        if isinstance(node, ast.Attribute):
            owner = self._dynamic(node.value, depth + 1)
            return f"{owner}.{node.attr}" if owner else ""
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.args and node.func.id in ("getattr", "__import__")):
            return ""
        names = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else ""
                 for a in node.args[:2]]
        if node.func.id == "__import__":
            found = names[0].split(".")[0]
        elif len(names) < 2 or not names[1]:
            return ""
        else:
            target = node.args[0]
            head = dotted_name(target).partition(".")[0]
            if isinstance(target, ast.Call):
                owner = self._dynamic(target, depth + 1)
            elif depth < 4 and (head in self.imports or head in self._dynamic_names):
                owner = self.qualified_name(target)  # a module, not getattr(self, "x")
            else:
                return ""
            found = f"{owner}.{names[1]}" if owner else ""
        # (the scope lookup last: most getattr() calls are on objects and stop above)
        return found if found and self.is_builtin(node.func) else ""

    # -- scopes and bindings -------------------------------------------------------------
    @cached_property
    def scopes(self) -> dict[ast.AST, Scope]:
        binder = _Binder(self.ctx.tree)
        binder.visit(self.ctx.tree)
        return binder.finish()

    def scope_of(self, node: ast.AST) -> Scope:
        """The innermost scope a node is evaluated in."""
        scopes = self.scopes
        for a in self.ctx.ancestors(node):
            scope = scopes.get(a)
            if scope is not None:
                return scope
        return scopes[self.ctx.tree]

    def bindings(self, name: ast.Name) -> list[Binding] | None:
        """What ``name`` can be bound to where it is used (None: bound nowhere in the file)."""
        scope: Scope | None = self.scope_of(name)
        first = True
        while scope is not None:
            # A class body's names are not visible from the functions nested in it.
            if (first or not scope.is_class) and name.id in scope.bindings:
                return scope.bindings[name.id]
            first = False
            scope = scope.parent
        return None

    def is_builtin(self, name: ast.Name) -> bool:
        """True when ``name`` is not bound anywhere visible (so it is the builtin)."""
        return self.bindings(name) is None

    def constructed_by(self, name: ast.Name) -> str:
        """The qualified name of the call that made ``name``'s value ('' when unknown).

        ``c = fabric.Connection(host)`` or ``with Connection(host) as c``: every binding
        of ``c`` in its scope must come from a call of the same name.
        """
        bound = self.bindings(name)
        if not bound:
            return ""
        made: set[str] = set()
        for b in bound:
            if isinstance(b, ast.Call):
                made.add(self.qualified_name(b.func))
            elif b is None:
                made.add(self._with_call(name))
            else:
                return ""
        return made.pop() if len(made) == 1 else ""

    def _with_call(self, name: ast.Name) -> str:
        """``with X(...) as name`` in the scope of ``name``: X's qualified name ('' if none)."""
        item = self._with_item(name)
        return self.qualified_name(item.func) if isinstance(item, ast.Call) else ""

    def _with_item(self, name: ast.Name) -> ast.expr | None:
        """The ``X(...)`` of ``with X(...) as name`` in the scope of ``name`` (None if none)."""
        scope = self.scope_of(name)
        for item in self.ctx.nodes(ast.withitem):
            if (
                isinstance(item, ast.withitem)
                and isinstance(item.optional_vars, ast.Name)
                and item.optional_vars.id == name.id
                and isinstance(item.context_expr, ast.Call)
                and self.scope_of(item.optional_vars) is scope
            ):
                return item.context_expr
        return None

    # -- receiver types ------------------------------------------------------------------
    def value_type(self, expr: ast.AST, depth: int = 0) -> str:
        """The qualified type ``expr`` evaluates to, as far as :data:`RETURNS` tells
        ('' when unknown): ``sqlite3.connect(p).cursor()`` is a ``sqlite3.Cursor``; so is a
        name bound only to one, a ``with ... as`` target, or a parameter annotated with it.

        SQLAlchemy's ORM query is also known by shape: ``session.query(Model)`` (a class,
        not a string, as pandas' ``DataFrame.query`` takes) and Flask-SQLAlchemy's
        ``Model.query``.
        """
        if depth > 8:
            return ""
        d = depth + 1
        if isinstance(expr, ast.Await):
            return self.value_type(expr.value, d)
        if isinstance(expr, ast.Call):
            func = expr.func
            made = RETURNS.get(self.qualified_name(func), "")
            if made or not isinstance(func, ast.Attribute):
                return made
            if func.attr == "query" and expr.args and isinstance(
                expr.args[0], (ast.Name, ast.Attribute)
            ):
                return _SA_QUERY
            owner = self.value_type(func.value, d)
            return RETURNS.get(f"{owner}.{func.attr}", "") if owner else ""
        if isinstance(expr, ast.Attribute):
            base = expr.value
            if expr.attr == "query" and isinstance(base, ast.Name) and (
                base.id == "cls" or base.id[:1].isupper()
            ):
                return _SA_QUERY
            return ""
        if not isinstance(expr, ast.Name):
            return ""
        bound = self.bindings(expr)
        if not bound:
            return ""
        types = set()
        for b in bound:
            if b is not None:
                t = self.value_type(b, d)
            else:
                item = self._with_item(expr)
                t = self.value_type(item, d) if item is not None else self._annotated(expr)
            if not t:
                return ""
            types.add(t)
        return types.pop() if len(types) == 1 else ""

    def _annotated(self, name: ast.Name) -> str:
        """The qualified annotation of the parameter ``name`` is ('' if none)."""
        scope: Scope | None = self.scope_of(name)
        while scope is not None and name.id not in scope.bindings:
            scope = scope.parent
        fn = scope.node if scope is not None else None
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return ""
        a = fn.args
        for arg in (*a.posonlyargs, *a.args, *a.kwonlyargs):
            if arg.arg == name.id and arg.annotation is not None:
                return self.qualified_name(arg.annotation)
        return ""

    # -- constants -----------------------------------------------------------------------
    def is_constant(self, expr: ast.AST, sanitizers: frozenset[str] = frozenset()) -> bool:
        """Whether ``expr`` can only evaluate to a constant (or a sanitizer's output).

        ``sanitizers``: qualified names of functions whose result is safe whatever their
        input (``shlex.quote``); a name without a dot matches any call ending in it
        (``quote_name`` matches ``connection.ops.quote_name``).
        """
        return self._const(expr, sanitizers, 0)

    def _const(self, e: ast.AST, sanitizers: frozenset[str], depth: int) -> bool:
        if depth > _MAX_DEPTH:
            return False
        d = depth + 1
        if isinstance(e, ast.Constant):
            return True
        if self._checked and isinstance(e, (ast.Name, ast.Attribute, ast.Call)) \
                and self._allowed(e, sanitizers, d):
            return True
        if isinstance(e, ast.Name):
            return self._name_const(e, sanitizers, d)
        if isinstance(e, ast.Call):
            return self._call_const(e, sanitizers, d)
        if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Mult):
            # "%s" * n, ["?"] * len(xs): repeating a constant text or list only repeats it
            # (the count must be an int). 3 * s is not: s may be a string.
            repeated = [s for s in (e.left, e.right) if _is_text(s) or isinstance(s, _DISPLAYS)]
            if repeated and all(self._const(s, sanitizers, d) for s in repeated):
                return True
        if isinstance(e, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            # Every element is a value of elt (the conditions only drop some).
            return self._const(e.elt, sanitizers, d)
        if isinstance(e, ast.DictComp):
            return self._const(e.key, sanitizers, d) and self._const(e.value, sanitizers, d)
        if isinstance(e, ast.Attribute):
            if sanitizers and sanitized_attribute(dotted_name(e), sanitizers):
                return True
            return self._class_constant(e, sanitizers, d)
        if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Mod):
            used = self._mapping_values(e)
            if used is not None:
                return all(self._const(c, sanitizers, d) for c in used)
        parts = _value_parts(e)
        return parts is not None and all(self._const(c, sanitizers, d) for c in parts)

    @cached_property
    def _checked(self) -> dict[ast.AST, list[tuple[str, ast.expr]]]:
        """Values checked against a collection: ``if E not in C: raise ...`` (also as one
        of the ``and``-ed conditions), by scope: the dumps of the E with their C."""
        found: dict[ast.AST, list[tuple[str, ast.expr]]] = {}
        for node in self.ctx.nodes(ast.If):
            if not isinstance(node, ast.If) or not isinstance(
                    node.body[-1], (ast.Raise, ast.Return, ast.Continue, ast.Break)):
                continue
            test = node.test
            conds = test.values if isinstance(test, ast.BoolOp) and isinstance(
                test.op, ast.And) else [test]
            for c in conds:
                if isinstance(c, ast.Compare) and len(c.ops) == 1 \
                        and isinstance(c.ops[0], ast.NotIn):
                    found.setdefault(self.scope_of(node).node, []).append(
                        (ast.dump(c.left), c.comparators[0]))
        return found

    def _allowed(self, e: ast.expr, sanitizers: frozenset[str], depth: int) -> bool:
        """``E`` where its scope checked ``if E not in ALLOWED: raise``, ALLOWED constant:
        E is one of ALLOWED's values (the check is taken to guard every use in the scope)."""
        checks = self._checked.get(self.scope_of(e).node)
        if not checks:
            return False
        dump = ast.dump(e)
        return any(d == dump and self._const(c, sanitizers, depth) for d, c in checks)

    def _mapping_values(self, e: ast.BinOp) -> list[ast.AST] | None:
        """``"DROP DATABASE %(name)s" % {"name": ..., "other": ...}``: the values the
        template uses (its ``%(key)s`` placeholders), None when not that shape.

        The mapping is a dict display with constant keys, or a name bound only to such
        displays; keys the template does not name are never formatted in.
        """
        if not (isinstance(e.left, ast.Constant) and isinstance(e.left.value, str)):
            return None
        keys = set(_NAMED.findall(e.left.value))
        if not keys or _UNNAMED.search(_NAMED.sub("", e.left.value.replace("%%", ""))):
            return None
        right = e.right
        displays: list[ast.expr | None] = (
            list(self.bindings(right) or [None]) if isinstance(right, ast.Name) else [right]
        )
        used: list[ast.AST] = []
        for dict_ in displays:
            if not isinstance(dict_, ast.Dict):
                return None
            for k, v in zip(dict_.keys, dict_.values, strict=True):
                if k is None:
                    used.append(v)  # **spread: any of its keys may be used
                elif not (isinstance(k, ast.Constant) and isinstance(k.value, str)):
                    return None
                elif k.value in keys:
                    used.append(v)
        return used

    def _class_constant(self, e: ast.Attribute, sanitizers: frozenset[str], depth: int) -> bool:
        """``self.NAME`` in a method, NAME bound only to constants in the class body and
        never assigned as an attribute (``x.NAME = ...``) anywhere in the file."""
        if not isinstance(e.value, ast.Name):
            return False
        stored: list[ast.expr | None] = []
        if e.attr in self._attribute_stores:
            stored = self._attribute_values.get(e.attr, [None])
        scope = self.scope_of(e)
        fn = scope.node
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or scope.parent is None:
            return False
        owner = scope.parent
        first = [*fn.args.posonlyargs, *fn.args.args][:1]
        if not owner.is_class or not first or first[0].arg != e.value.id:
            return False
        if any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list):
            return False
        if scope.bindings.get(e.value.id) != [None]:
            return False  # self rebound in the method
        bound = [*owner.bindings.get(e.attr, []), *stored]
        return bool(bound) and all(
            b is not None and self._const(b, sanitizers, depth) for b in bound
        )

    @cached_property
    def _attribute_values(self) -> dict[str, list[ast.expr | None]]:
        """What plain ``x.NAME = value`` statements store, by NAME (None: a store of
        another kind, ``x.NAME += s`` or ``a, x.NAME = ...``)."""
        found: dict[str, list[ast.expr | None]] = {}
        for n in self.ctx.nodes(ast.Attribute):
            if not isinstance(n, ast.Attribute) or isinstance(n.ctx, ast.Load):
                continue
            stmt = self.ctx.parent(n)
            plain = (isinstance(stmt, ast.Assign) and stmt.targets == [n]) or (
                isinstance(stmt, ast.AnnAssign) and stmt.target is n and stmt.value is not None)
            if plain and isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                found.setdefault(n.attr, []).append(stmt.value)
            elif not (isinstance(stmt, ast.AugAssign) and isinstance(stmt.value, ast.Constant)
                      and type(stmt.value.value) in (int, float)):
                found.setdefault(n.attr, []).append(None)
        return found

    @cached_property
    def _attribute_stores(self) -> frozenset[str]:
        """Attribute names assigned or deleted anywhere in the file (``x.NAME = ...``); a
        counter stepped by a number (``self.NAME += 1``) stays a number and is not one."""
        counters = {
            id(n.target) for n in self.ctx.nodes(ast.AugAssign)
            if isinstance(n, ast.AugAssign) and isinstance(n.value, ast.Constant)
            and type(n.value.value) in (int, float)
        }
        return frozenset(
            n.attr for n in self.ctx.nodes(ast.Attribute)
            if isinstance(n, ast.Attribute) and not isinstance(n.ctx, ast.Load)
            and id(n) not in counters
        ) | frozenset(  # x.NAME[key] = ...
            n.value.attr for n in self.ctx.nodes(ast.Subscript)
            if isinstance(n, ast.Subscript) and not isinstance(n.ctx, ast.Load)
            and isinstance(n.value, ast.Attribute)
        ) | frozenset(
            t.value for c in self.ctx.nodes(ast.Call)
            if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)
            and c.func.id in ("setattr", "delattr") and len(c.args) > 1
            for t in [c.args[1]] if isinstance(t, ast.Constant) and isinstance(t.value, str)
        )

    def _name_const(self, name: ast.Name, sanitizers: frozenset[str], depth: int) -> bool:
        if sanitizers and safe_name(name.id, sanitizers):
            return True
        bound = self.bindings(name)
        if not bound:
            return False
        key = (id(bound), name.id, sanitizers)
        if key in self._memo:
            return self._memo[key]
        if key in self._active:
            return True  # a cycle (x += "a"): the other bindings decide
        self._active.add(key)
        try:
            unbound = sum(b is None for b in bound)
            result = all(
                self._const(b, sanitizers, depth) if b is not None
                else unbound == 1 and self._from_callers(name, sanitizers, depth)
                for b in bound
            )
        finally:
            self._active.discard(key)
        if not self._active:
            self._memo[key] = result
        return result

    def _call_const(self, call: ast.Call, sanitizers: frozenset[str], depth: int) -> bool:
        func = call.func
        qualified = self.qualified_name(func)
        if sanitizers and (
            sanitizes(qualified, sanitizers)
            or sanitized_attribute(qualified, sanitizers)
            or (isinstance(func, ast.Attribute) and sanitizes(func.attr, sanitizers))
            or self._sanitizer_alias(func, sanitizers)
        ):
            return True
        args: list[ast.AST] = [*call.args, *(k.value for k in call.keywords)]
        if qualified in PURE_CALLS:
            if isinstance(func, ast.Name) and "." not in qualified and not self.is_builtin(func):
                return False  # a builtin's name rebound in this file
        elif isinstance(func, ast.Attribute) and func.attr == "values" and not args \
                and isinstance(func.value, ast.Name):
            return self._dict_values_const(func.value, sanitizers, depth)
        elif isinstance(func, ast.Attribute) and (
                func.attr in STR_METHODS or func.attr in CONTAINER_METHODS):
            args.append(func.value)
        else:
            return self._returns_const(func, sanitizers, depth)
        return all(self._const(a, sanitizers, depth) for a in args)

    def _dict_values_const(self, name: ast.Name, sanitizers: frozenset[str], depth: int
                           ) -> bool:
        """``d.values()``: only the values of the dict ``d`` is bound to count (its keys
        may be anything: ``{f.column: quote_name(f.column) for f in fields}``)."""
        bound = self.bindings(name)
        if not bound:
            return False
        for b in bound:
            if isinstance(b, ast.Dict):
                parts: list[ast.expr] = list(b.values)
            elif isinstance(b, ast.DictComp):
                parts = [b.value]
            elif b is None:
                return False
            else:
                parts = [b]
            if not all(self._const(p, sanitizers, depth + 1) for p in parts):
                return False
        return True

    def _returns_const(self, func: ast.expr, sanitizers: frozenset[str], depth: int) -> bool:
        """``self._helper(x)``/``helper(x)`` for a function of the file whose every
        ``return`` gives a constant or a sanitizer's result (``def _quote(self, name):
        return self.ops.quote_name(name)``; every function of that name in the file must;
        its parameters count as the callers give them, see :meth:`_from_callers`)."""
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.value.id in ("self", "cls"):
            name = func.attr
        elif isinstance(func, ast.Name) and not self.imports.get(func.id):
            name = func.id
        else:
            return False
        defs = self._functions.get(name)
        if not defs or name in self._returning:
            return False
        self._returning.add(name)
        try:
            for fn in defs:
                found = [r.value for r in _returns(fn)]
                if all(v is None for v in found):
                    return False
                if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _own_nodes(fn)):
                    return False
                if not all(v is None or self._const(v, sanitizers, depth + 1) for v in found):
                    return False
        finally:
            self._returning.discard(name)
        return True

    def _from_callers(self, name: ast.Name, sanitizers: frozenset[str], depth: int) -> bool:
        """A parameter of a private function (``_helper``) that every call of it in the file
        gives a constant: ``self._version("postgis_version")``. The function must not be
        used otherwise (passed as a callback) and must be called at least once, unless it
        is a private SQL-composition helper (``_index_condition_sql``) and the rule counts
        :data:`SQL_FRAGMENT`: its parameters are then the fragments other modules give."""
        scope: Scope | None = self.scope_of(name)
        while scope is not None and name.id not in scope.bindings:
            scope = scope.parent
        fn = scope.node if scope is not None else None
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or scope is None \
                or not fn.name.startswith("_") or fn.name.endswith("__"):
            return False
        a = fn.args
        positional = [*a.posonlyargs, *a.args]
        names = [p.arg for p in positional]
        method = scope.parent is not None and scope.parent.is_class and not any(
            isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list)
        defaults: dict[str, ast.expr | None] = dict.fromkeys(names)
        defaults.update(zip(names[len(names) - len(a.defaults):], a.defaults, strict=True))
        defaults.update((k.arg, v) for k, v in zip(a.kwonlyargs, a.kw_defaults, strict=True))
        if name.id not in defaults or len(self._functions.get(fn.name, [])) != 1:
            return False
        index = names.index(name.id) - (1 if method else 0) if name.id in names else None
        if index is not None and index < 0:
            return False  # self itself
        found = self._calls_of(fn.name)
        if found == [] and SQL_FRAGMENT in sanitizers and fn.name.endswith("_sql"):
            # A private SQL-composition helper the file never calls: other modules of the
            # composer call it with fragments they compiled (what it returns is trusted as
            # SQL at their call sites, as every ``*_sql()`` result is).
            return True
        if not found:
            return False
        for call in found:
            if any(isinstance(x, ast.Starred) for x in call.args) or any(
                    k.arg is None for k in call.keywords):
                return False
            given = keyword(call, name.id)
            if given is None and index is not None and index < len(call.args):
                given = call.args[index]
            given = given if given is not None else defaults[name.id]
            if given is None or not self._const(given, sanitizers, depth + 1):
                return False
        return True

    def _calls_of(self, fn_name: str) -> list[ast.Call] | None:
        """Every call of ``fn_name(...)``/``self.fn_name(...)`` in the file; None when the
        name is also used otherwise (a reference that escapes: a callback, an alias)."""
        found: list[ast.Call] = []
        for node in self.ctx.nodes(ast.Name, ast.Attribute):
            if isinstance(node, ast.Name) and node.id == fn_name:
                pass
            elif isinstance(node, ast.Attribute) and node.attr == fn_name:
                if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                    return None
            else:
                continue
            parent = self.ctx.parent(node)
            if not (isinstance(parent, ast.Call) and parent.func is node):
                return None
            found.append(parent)
        return found

    def _sanitizer_alias(self, func: ast.expr, sanitizers: frozenset[str]) -> bool:
        """``qn = connection.ops.quote_name`` then ``qn(name)``: a name bound only to
        sanitizer functions (not to their results) is one."""
        if not isinstance(func, ast.Name):
            return False
        bound = self.bindings(func)
        if not bound:
            return False
        for b in bound:
            if not isinstance(b, (ast.Name, ast.Attribute)):
                return False
            if not sanitizes(self.qualified_name(b), sanitizers):
                return False
        return True

    @cached_property
    def _functions(self) -> dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]]:
        """The functions and methods defined in the file, by name."""
        found: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        for n in self.ctx.nodes(ast.FunctionDef, ast.AsyncFunctionDef):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.setdefault(n.name, []).append(n)
        return found

    # -- truthiness ----------------------------------------------------------------------
    def truthiness(self, expr: ast.expr, depth: int = 0) -> bool | None:
        """True/False when ``expr`` is provably truthy/falsy, None when unknown."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Constant):
            return bool(expr.value)
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            return bool(expr.elts)
        if isinstance(expr, ast.Dict):
            return bool(expr.keys)
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
            inner = self.truthiness(expr.operand, depth + 1)
            return None if inner is None else not inner
        if isinstance(expr, ast.Name):
            bound = self.bindings(expr)
            if not bound or any(b is None or b is expr for b in bound):
                return None
            values = {self.truthiness(b, depth + 1) for b in bound if b is not None}
            return values.pop() if len(values) == 1 else None
        return None


def _own_nodes(fn: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's body, not those of the functions and classes nested in it."""
    todo = list(ast.iter_child_nodes(fn))
    while todo:
        n = todo.pop()
        yield n
        if not isinstance(n, (*_FUNCTIONS, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(n))


def _returns(fn: ast.AST) -> list[ast.Return]:
    return [n for n in _own_nodes(fn) if isinstance(n, ast.Return)]


def _is_text(e: ast.AST) -> bool:
    return isinstance(e, ast.Constant) and isinstance(e.value, (str, bytes))


def _value_parts(e: ast.AST) -> list[ast.AST] | None:
    """The sub-expressions that decide whether a compound expression is constant.

    None for an expression kind that is never constant (attributes, calls are handled
    elsewhere, lambdas, awaits, comprehensions...).
    """
    if isinstance(e, ast.JoinedStr):
        return list(e.values)
    if isinstance(e, ast.FormattedValue):
        return [e.value] if e.format_spec is None else [e.value, e.format_spec]
    if isinstance(e, ast.BinOp):
        return [e.left, e.right]
    if isinstance(e, ast.UnaryOp):
        return [e.operand]
    if isinstance(e, ast.BoolOp):
        return list(e.values)
    if isinstance(e, ast.Compare):
        return [e.left, *e.comparators]
    if isinstance(e, ast.IfExp):
        return [e.body, e.orelse]  # the test only picks which constant
    if isinstance(e, (ast.Tuple, ast.List, ast.Set)):
        return list(e.elts)
    if isinstance(e, ast.Dict):
        return [*(k for k in e.keys if k is not None), *e.values]
    if isinstance(e, ast.Starred):
        return [e.value]
    if isinstance(e, ast.Subscript):
        # A lookup in a constant (dict, tuple, string) can only give one of its constant
        # values, whatever the key: COMMANDS[request.args["c"]] is not an injection.
        return [e.value]
    if isinstance(e, ast.Slice):
        return [p for p in (e.lower, e.upper, e.step) if p is not None]
    return None


_CACHE: weakref.WeakKeyDictionary[PyContext, Flow] = weakref.WeakKeyDictionary()


def flow(ctx: PyContext) -> Flow:
    """The (cached) data-flow facts of a parsed file."""
    found = _CACHE.get(ctx)
    if found is None:
        found = _CACHE[ctx] = Flow(ctx)
    return found


# -- strings -------------------------------------------------------------------------------
# A statement at the start of the text (any case), or SQL keywords in capitals anywhere.
_SQL_START = re.compile(
    r"^\s*\(?\s*(?:"
    r"select\s+\S.*?\s+from\s|"
    r"insert\s+(?:or\s+\w+\s+)?into\s|replace\s+into\s|delete\s+from\s|"
    r"update\s+[\w.\"`\[\]]+\s+set\s|merge\s+into\s|upsert\s+into\s|"
    r"with\s+(?:recursive\s+)?\w+\s*(?:\([^)]*\)\s*)?as\s*\(|"
    r"(?:create|drop|alter|truncate)\s+(?:temp(?:orary)?\s+)?(?:table|view|index|database|schema)\s"
    r")",
    re.IGNORECASE | re.DOTALL,
)
_SQL_CAPS = re.compile(
    r"\bSELECT\s.*?\bFROM\s|\bINSERT\s+INTO\s|\bDELETE\s+FROM\s|\bUPDATE\s+\S+\s+SET\s"
    r"|^\s*(?:WHERE|AND|OR|ORDER\s+BY|GROUP\s+BY|LIMIT|VALUES|SET|FROM|JOIN|"
    r"(?:LEFT|RIGHT|INNER|OUTER)\s+JOIN|HAVING)\s",
    re.DOTALL,
)


def is_sqlish(text: str) -> bool:
    """Whether a string looks like (a piece of) an SQL statement.

    A statement at the start of the text in capitals or lower case (``select * from t
    where ...``, ``INSERT INTO``, ``UPDATE t SET``, ``DELETE FROM``, ``WITH x AS (``, DDL),
    or SQL keywords written in capitals anywhere (``... WHERE id = ``). English does not
    count: "Please select a file from the list", or a sentence starting with a capital
    ("Delete from the cache", "Create index %s on %s").
    """
    start = _SQL_START.search(text)
    if start is not None:
        first = text.lstrip(" \t\r\n(").split(None, 1)[0] if text.strip(" \t\r\n(") else ""
        if not first.istitle() or len(first) == 1:
            return True
    return bool(_SQL_CAPS.search(text))


def literal_text(expr: ast.AST) -> str:
    """The literal text of a string-building expression, other parts shown as `` ? ``.

    Follows ``+`` chains and f-strings: ``"SELECT " + cols + " FROM t"`` gives
    ``"SELECT  ?  FROM t"``, which :func:`is_sqlish` can judge as a whole.
    """
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.JoinedStr):
        return "".join(literal_text(v) for v in expr.values)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return literal_text(expr.left) + literal_text(expr.right)
    return " ? "


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    """The value of keyword argument ``name`` in a call, or None."""
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def argument(call: ast.Call, position: int, name: str) -> ast.expr | None:
    """The argument given at ``position`` or as keyword ``name`` (None when absent)."""
    if len(call.args) > position and not any(
        isinstance(a, ast.Starred) for a in call.args[: position + 1]
    ):
        return call.args[position]
    return keyword(call, name)


def calls(ctx: PyContext) -> Iterator[ast.Call]:
    """Every call in the file, in document order."""
    for node in ctx.nodes(ast.Call):
        if isinstance(node, ast.Call):
            yield node
