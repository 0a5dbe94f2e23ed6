"""The Python plug-in: parses with the stdlib ``ast`` once, indexes every node by type and
parent in a single pass, and runs each rule over that index.
"""

from __future__ import annotations

import ast
import operator
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from reviewer.findings import Finding, Fix, Severity, Span, TextEdit, split_lines
from reviewer.languages.base import Check

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
_TEST_FILE = re.compile(r"(^|/)(test_[^/]*\.py|[^/]*_test\.py|conftest\.py|tests?/.*\.py)$")


class PyContext:
    """One parsed Python file, as rules see it."""

    language = "python"

    def __init__(self, path: str, source: str, tree: ast.Module, *,
                 want_fixes: bool = True) -> None:
        self.path = path
        self.source = source
        self.tree = tree
        # Whether the review builds the rules' libcst fixes (``reviewer check`` only reports:
        # False; ``reviewer fix``, the editor and the PR bot: True).
        self.want_fixes = want_fixes
        self.lines = split_lines(source)
        self._by_type: dict[type[ast.AST], list[ast.AST]] = {}
        self._parent: dict[ast.AST, ast.AST] = {}
        self._in_order: set[type[ast.AST]] = set()
        self._index()

    def _index(self) -> None:
        """One pass over the tree: nodes bucketed by type, and each node's parent.

        The hottest loop of a review. It follows only the fields that can hold nodes
        (see :func:`_child_fields`), so the shared expression-context and operator
        singletons (``Load``, ``Add``...) are neither indexed nor given a parent.
        """
        by_type = self._by_type
        parent = self._parent
        fields_of = _CHILD_FIELDS
        node_type = ast.AST
        stack: list[ast.AST] = [self.tree]
        pop, push = stack.pop, stack.append
        while stack:
            node = pop()
            cls = node.__class__
            bucket = by_type.get(cls)
            if bucket is None:
                by_type[cls] = [node]
            else:
                bucket.append(node)
            fields = fields_of.get(cls)
            if fields is None:
                fields = _child_fields(cls)
            for name in fields:
                value = getattr(node, name, None)
                if value is None:
                    continue
                if value.__class__ is list:
                    for child in reversed(value):
                        if isinstance(child, node_type):
                            parent[child] = node
                            push(child)
                elif isinstance(value, node_type):
                    parent[value] = node
                    push(value)

    # -- navigation ----------------------------------------------------------------------
    def nodes(self, *types: type[ast.AST]) -> list[ast.AST]:
        """All nodes of the given types, in document order per type.

        Expression contexts and operators (``ast.Load``, ``ast.Add``...) are not indexed:
        read them from their node (``name.ctx``, ``binop.op``).
        """
        if len(types) == 1:
            return self._ordered(types[0])
        out: list[ast.AST] = []
        for t in types:
            out.extend(self._ordered(t))
        return out

    def _ordered(self, t: type[ast.AST]) -> list[ast.AST]:
        """The bucket of type ``t``, sorted by position on first use."""
        bucket = self._by_type.get(t)
        if bucket is None:
            return []
        if t not in self._in_order:
            self._in_order.add(t)
            if len(bucket) > 1 and hasattr(bucket[0], "lineno"):
                bucket.sort(key=_position)
        return bucket

    def functions(self) -> list[FunctionNode]:
        """Every function and method definition."""
        return self.nodes(ast.FunctionDef, ast.AsyncFunctionDef)  # type: ignore[return-value]

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self._parent.get(node)

    def ancestors(self, node: ast.AST) -> Iterable[ast.AST]:
        p = self._parent.get(node)
        while p is not None:
            yield p
            p = self._parent.get(p)

    def enclosing_function(self, node: ast.AST) -> FunctionNode | None:
        for a in self.ancestors(node):
            if isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return a
        return None

    def scope_name(self, node: ast.AST) -> str:
        """Dotted name of the functions and classes enclosing ``node`` (itself included)."""
        return self._scope(node)[0]

    def _scope(self, node: ast.AST) -> tuple[str, tuple[int, int] | None]:
        """:meth:`scope_name`, and the lines (decorators included) of the innermost function
        enclosing ``node`` (itself included), in one walk up its ancestors."""
        names = []
        lines: tuple[int, int] | None = None
        a: ast.AST | None = node
        while a is not None:
            if isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(a.name)
                if lines is None and not isinstance(a, ast.ClassDef):
                    start = min([a.lineno] + [d.lineno for d in a.decorator_list])
                    lines = (start, a.end_lineno or a.lineno)
            a = self._parent.get(a)
        return ".".join(reversed(names)), lines

    def segment(self, node: ast.AST) -> str:
        """The source text of a node ('' if it has no location).

        Same result as ``ast.get_source_segment``, which splits the whole source on every
        call; here the split is done once per file.
        """
        line: int | None = getattr(node, "lineno", None)
        end_line: int | None = getattr(node, "end_lineno", None)
        col: int | None = getattr(node, "col_offset", None)
        end_col: int | None = getattr(node, "end_col_offset", None)
        if line is None or end_line is None or col is None or end_col is None:
            return ""
        lines = self._parser_lines
        if line == end_line:
            return lines[line - 1].encode()[col:end_col].decode()
        first = lines[line - 1].encode()[col:].decode()
        last = lines[end_line - 1].encode()[:end_col].decode()
        return "".join([first, *lines[line:end_line - 1], last])

    @cached_property
    def _parser_lines(self) -> list[str]:
        """The lines with their endings, split as the parser splits them."""
        return _PARSER_LINE.findall(self.source)

    # -- file facts ----------------------------------------------------------------------
    @cached_property
    def is_test(self) -> bool:
        """A test module (test_*.py, *_test.py, conftest.py, or under tests/)."""
        return bool(_TEST_FILE.search(self.path.replace("\\", "/")))

    @cached_property
    def is_script(self) -> bool:
        """Run as a program: a ``#!`` line, ``__main__.py``, or an ``if __name__`` guard."""
        if self.source.startswith("#!") or self.path.endswith("__main__.py"):
            return True
        return any(is_main_guard(n) for n in self.tree.body)

    def in_main_guard(self, node: ast.AST) -> bool:
        """True inside ``if __name__ == "__main__":``."""
        return any(is_main_guard(a) for a in self.ancestors(node))

    # -- name scopes ---------------------------------------------------------------------
    @cached_property
    def _bindings(self) -> dict[ast.AST, Bindings]:
        return {}

    def bindings(self, scope: ast.AST) -> Bindings:
        """The names a function, lambda, class or comprehension binds (cached)."""
        found = self._bindings.get(scope)
        if found is None:
            found = self._bindings[scope] = scope_bindings(scope)
        return found

    def scopes(self, node: ast.AST) -> Iterable[ast.AST]:
        """The scopes ``node`` is evaluated in, innermost first, the Module last.

        Defaults, annotations and decorators belong to the scope around their function,
        and a comprehension's first iterable to the scope around the comprehension.
        """
        child, grandchild = node, node
        for a in self.ancestors(node):
            if isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inside = any(child is s for s in a.body)
            elif isinstance(a, ast.Lambda):
                inside = child is a.body
            elif isinstance(a, _COMPREHENSIONS):
                inside = not (child is a.generators[0] and grandchild is a.generators[0].iter)
            else:
                inside = isinstance(a, ast.Module)
            if inside:
                yield a
            child, grandchild = a, child

    def resolve(self, name: str, node: ast.AST) -> ast.AST:
        """The scope whose binding of ``name`` is seen at ``node`` (the Module: a global)."""
        innermost = True
        for scope in self.scopes(node):
            if isinstance(scope, ast.Module):
                return scope
            if isinstance(scope, ast.ClassDef) and not innermost:
                continue  # class bodies are not visible from nested scopes
            innermost = False
            b = self.bindings(scope)
            if name in b.declared_global:
                return self.tree
            if name in b.local:
                return scope
        return self.tree

    # -- reporting -----------------------------------------------------------------------
    def report(
        self,
        rule: Check,
        node: ast.AST | Span,
        message: str | None = None,
        *,
        fix: Fix | None = None,
        severity: Severity | None = None,
        scope: tuple[int, int] | None = None,
    ) -> Finding:
        """Build a finding for ``rule`` at a node (or an explicit span).

        Columns given by rules (in spans and fix edits) are the ast's unit, UTF-8 byte
        offsets (1-based); the finding carries character columns, as SARIF, editors and
        :func:`~reviewer.findings.apply_edits` expect.
        """
        span = self._span_chars(node if isinstance(node, Span) else node_span(node))
        if scope is None and rule.whole_function and isinstance(node, ast.AST):
            scope = (span.line, getattr(node, "end_lineno", None) or span.line)
        if fix is not None:
            fix = self._fix_chars(fix)
        symbol, enclosing = self._scope(node) if isinstance(node, ast.AST) else ("", None)
        return Finding(
            rule_id=rule.id,
            slug=rule.slug,
            message=message or rule.message,
            path=self.path,
            span=span,
            severity=severity if severity is not None else rule.severity,
            scope=scope,
            fix=fix,
            symbol=symbol,
            enclosing=enclosing,
        )


    def char_col(self, line: int, col: int) -> int:
        """A 1-based UTF-8 byte column on ``line`` as a 1-based character column."""
        if not 0 < line <= len(self.lines):
            return col
        text = self.lines[line - 1]
        if text.isascii():
            return col
        return len(text.encode("utf-8")[: col - 1].decode("utf-8", "ignore")) + 1

    def _span_chars(self, span: Span) -> Span:
        col = self.char_col(span.line, span.col)
        end_col = span.end_col
        if end_col is not None:
            end_col = self.char_col(span.last_line, end_col)
        if col == span.col and end_col == span.end_col:
            return span
        return Span(span.line, col, span.end_line, end_col)

    def _fix_chars(self, fix: Fix) -> Fix:
        edits = tuple(
            TextEdit(
                e.line, self.char_col(e.line, e.col),
                e.end_line, self.char_col(e.end_line, e.end_col), e.text,
            )
            for e in fix.edits
        )
        return fix if edits == fix.edits else replace(fix, edits=edits)


_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, *_COMPREHENSIONS)


@dataclass(frozen=True)
class Bindings:
    """Names bound in one scope.

    ``assigned``: every name the scope binds; ``local``: those not declared global or
    nonlocal (the scope's own variables).
    """

    assigned: frozenset[str]
    local: frozenset[str]
    declared_global: frozenset[str]
    declared_nonlocal: frozenset[str]


def scope_bindings(scope: ast.AST) -> Bindings:
    """The names bound directly in a function, lambda, class or comprehension scope."""
    local: set[str] = set()
    glob: set[str] = set()
    nonloc: set[str] = set()
    stack: list[ast.AST] = []
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = scope.args
        params = [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]
        local.update(p.arg for p in params if p is not None)
        stack.extend(scope.body if isinstance(scope.body, list) else [scope.body])
    elif isinstance(scope, ast.ClassDef):
        stack.extend(scope.body)
    elif isinstance(scope, _COMPREHENSIONS):
        stack.extend(g.target for g in scope.generators)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                local.add(node.id)
            continue
        if isinstance(node, ast.Global):
            glob.update(node.names)
        elif isinstance(node, ast.Nonlocal):
            nonloc.update(node.names)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            local.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            local.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            local.add(node.rest)
        if isinstance(node, _NESTED_SCOPES):
            stack.extend(_outer_parts(node))
            continue
        stack.extend(ast.iter_child_nodes(node))
    return Bindings(frozenset(local), frozenset(local - glob - nonloc), frozenset(glob),
                    frozenset(nonloc))


def _outer_parts(node: ast.AST) -> list[ast.AST]:
    """The parts of a nested scope evaluated (or bound) in the scope around it."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        # The name itself is bound around it; represent it as a stored Name.
        parts: list[ast.AST] = [ast.Name(id=node.name, ctx=ast.Store()), *node.decorator_list]
        if isinstance(node, ast.ClassDef):
            return [*parts, *node.bases, *node.keywords]
        return [*parts, *node.args.defaults, *(d for d in node.args.kw_defaults if d)]
    if isinstance(node, ast.Lambda):
        return [*node.args.defaults, *(d for d in node.args.kw_defaults if d)]
    if isinstance(node, _COMPREHENSIONS):
        # The first iterable, and := targets (they bind in the enclosing scope).
        walrus = [n.target for n in ast.walk(node) if isinstance(n, ast.NamedExpr)]
        return [node.generators[0].iter, *walrus]
    return []


# Fields that never hold a child node worth indexing: names and flags (strings, ints),
# and the expression-context / operator singletons that CPython shares between nodes.
_NOT_CHILDREN = frozenset({
    "ctx", "op", "ops", "id", "name", "asname", "attr", "arg", "module", "level", "is_async",
    "conversion", "kind", "type_comment", "simple", "tag", "rest", "kwd_attrs",
})
_CHILD_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}
# A line as the parser sees one: only \r\n, \r and \n end it (not \f, \v or U+2028).
_PARSER_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_position = operator.attrgetter("lineno", "col_offset")


def child_fields(cls: type[ast.AST]) -> tuple[str, ...]:
    """The fields of ``cls`` that may hold nodes, in source order (no expression contexts,
    operators or names: see ``_NOT_CHILDREN``)."""
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = _child_fields(cls)
    return fields[::-1]


def _child_fields(cls: type[ast.AST]) -> tuple[str, ...]:
    """The fields of ``cls`` that may hold nodes, reversed (the walk pops in order)."""
    if issubclass(cls, (ast.Constant, ast.Global, ast.Nonlocal, ast.MatchSingleton)):
        fields: tuple[str, ...] = ()
    else:
        fields = tuple(f for f in reversed(cls._fields) if f not in _NOT_CHILDREN)
    _CHILD_FIELDS[cls] = fields
    return fields


def node_span(node: ast.AST) -> Span:
    """The 1-based span of an AST node."""
    line = getattr(node, "lineno", 1)
    col = getattr(node, "col_offset", 0) + 1
    end_line = getattr(node, "end_lineno", None)
    end_col = getattr(node, "end_col_offset", None)
    return Span(line, col, end_line, end_col + 1 if end_col is not None else None)


def is_main_guard(node: ast.AST) -> bool:
    """``if __name__ == "__main__":`` (either operand order, possibly ``and``-ed)."""
    if not isinstance(node, ast.If):
        return False
    t = node.test
    if isinstance(t, ast.BoolOp) and isinstance(t.op, ast.And):
        return any(is_main_guard(ast.If(test=v, body=[], orelse=[])) for v in t.values)
    if not isinstance(t, ast.Compare):
        return False
    if len(t.ops) != 1 or not isinstance(t.ops[0], ast.Eq):
        return False
    sides = [t.left, t.comparators[0]]
    has_name = any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
    has_main = any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
    return has_name and has_main


def dotted_name(node: ast.AST) -> str:
    """``a.b.c`` for Name/Attribute chains, '' for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def syntax_error_finding(path: str, exc: SyntaxError | ValueError) -> Finding:
    """RV000 for a file that does not parse."""
    if isinstance(exc, SyntaxError):
        line = exc.lineno or 1
        col = exc.offset or 1
        msg = f"file does not parse: {exc.msg}"
    else:
        line, col, msg = 1, 1, f"file does not parse: {exc}"
    return Finding(
        rule_id="RV000",
        slug="syntax-error",
        message=msg,
        path=path,
        span=Span(line, max(col, 1)),
        severity=Severity.HIGH,
    )


class PythonLanguage:
    """The Python plug-in."""

    name = "python"
    extensions: tuple[str, ...] = (".py", ".pyi", ".pyw")
    shebang_names: tuple[str, ...] = ("python",)

    def parse(self, path: str, source: str, want_fixes: bool = True) -> PyContext | Finding:
        """A :class:`PyContext`, or an RV000 finding when the file does not parse."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes etc.
                tree = ast.parse(source, filename=path)
        except (SyntaxError, ValueError) as exc:  # ValueError: null bytes
            return syntax_error_finding(path, exc)
        except RecursionError:
            return syntax_error_finding(path, ValueError("nesting too deep to parse"))
        return PyContext(path, source, tree, want_fixes=want_fixes)

    def review(self, path: str, source: str, rules: Sequence[Check],
               want_fixes: bool = True) -> list[Finding]:
        parsed = self.parse(path, source, want_fixes)
        if isinstance(parsed, Finding):
            return [parsed]
        findings: list[Finding] = []
        for rule in rules:
            findings.extend(rule.run(parsed))
        return findings


PYTHON = PythonLanguage()
