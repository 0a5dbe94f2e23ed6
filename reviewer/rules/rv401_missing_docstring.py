"""RV401: public module, class or function without a docstring."""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Iterator, Mapping
from typing import Any

from reviewer.findings import Finding, Fix, Severity, Span, TextEdit, split_lines
from reviewer.languages.python import FunctionNode, PyContext
from reviewer.rules._functions import (
    FUNCTION_TYPES,
    check_threshold,
    docstring_node,
    enclosing_scope,
    first_paragraph,
    has_decorator,
    is_overload,
    is_property_accessor,
    module_exports,
    own_statements,
    report_definition,
    signature_scope,
    top_level_name,
)
from reviewer.rules.base import Invalid, Rule, Valid


class MissingDocstring(Rule):
    """A public module, class, function or method has no docstring.

    The docstring is the public contract: what a function does, what it expects and what
    it returns, read by ``help()``, editors and documentation generators. Code that others
    call without one forces every caller to read the implementation.

    Follows pylint's ``missing-module-docstring``, ``missing-class-docstring`` and
    ``missing-function-docstring`` with its defaults. Names matching ``no_docstring_rgx``
    (default ``^_``: private names, and also dunder methods such as ``__init__``) need no
    docstring, nor do the members of such classes, functions nested in functions,
    module-level functions and classes left out of a literal ``__all__`` (like
    pydocstyle; ``respect_all = false`` turns this off, as in pylint),
    property setters and deleters, ``typing.overload`` stubs, and methods that override a
    method of a base class defined in the same module or are marked ``@override`` (the
    base documents them). ``min_length`` exempts classes and functions spanning fewer
    lines than it (pylint's ``docstring-min-length``; 0 exempts nothing). Empty modules
    need no docstring; set ``check_modules = false`` to skip modules altogether. A string
    assigned to ``__doc__`` counts as a docstring. An empty docstring (``""""""``) is
    reported too, unless ``check_empty = false``. Test modules are skipped unless
    ``include_tests = true``: a test's name already says what it checks, and requiring
    docstrings there is the most common complaint about this kind of rule. Stub files
    (``.pyi``) are skipped: stubs carry types, the documentation lives with the code.

    A check of one file cannot see a base class imported from another module (pylint
    infers it): mark such overriding methods ``@typing.override`` (PEP 698), which both
    documents the intent and exempts them here.
    """

    id = "RV401"
    slug = "missing-docstring"
    principle = "document-public-api"
    severity = Severity.LOW
    message = "Public module, class or function has no docstring."
    counterparts = {
        "pylint": "missing-module-docstring, missing-class-docstring,"
        " missing-function-docstring",
        "ruff": "D100, D101, D102, D103, D104",
    }
    options = {
        "no_docstring_rgx": "^_",
        "min_length": 0,
        "check_modules": True,
        "check_empty": True,
        "include_tests": False,
        "respect_all": True,
    }
    tags = ("documentation",)
    # A docstring says what the code does: even a small model is shown the function (or
    # the module's outline), and the rule places the text it writes (fix_from_answer).
    shows_context = True
    places_answer = True
    VALID = [
        '"""Tools."""\n\n\ndef f():\n    """Do it."""\n',
        # Private and dunder names, nested functions.
        '"""Mod."""\n\n\ndef _helper():\n    pass\n\n\nclass A:\n    """A."""\n\n'
        "    def __init__(self):\n        pass\n\n    def __eq__(self, other):\n"
        "        return True\n\n    def _private(self):\n        def inner():\n"
        "            pass\n",
        # Members of a private class.
        '"""Mod."""\n\n\nclass _Impl:\n    def run(self):\n        pass\n',
        # Property setters/deleters and overload stubs.
        '"""Mod."""\nfrom typing import overload\n\n\nclass A:\n    """A."""\n\n'
        "    @property\n    def x(self):\n        \"\"\"The x.\"\"\"\n\n    @x.setter\n"
        "    def x(self, value):\n        pass\n\n\n@overload\ndef f(a: int) -> int: ...\n"
        "\n\ndef f(a):\n    \"\"\"Doc.\"\"\"\n",
        # Overrides of a documented base method in the same module, and @override.
        '"""Mod."""\nfrom typing import override\n\n\nclass Base:\n    """Base."""\n\n'
        '    def run(self):\n        """Run."""\n\n\nclass Child(Base):\n    """Child."""\n\n'
        "    def run(self):\n        pass\n\n    @override\n    def stop(self):\n        pass\n",
        # __doc__ assignments count; empty modules need nothing.
        '__doc__ = "Module."\n\n\nclass A:\n    __doc__ = "A."\n',
        "# only a comment\n",
        # A literal __all__ says what is public.
        '"""Mod."""\n__all__ = ["api"]\n\n\ndef api():\n    """Doc."""\n\n\ndef helper():\n'
        "    pass\n\n\nclass Impl:\n    def run(self):\n        pass\n",
        # Test modules are skipped by default.
        Valid("def test_it():\n    assert True\n", path="tests/test_it.py"),
        Valid("def helper():\n    pass\n", path="pkg/conftest.py"),
        Valid("def stub(x: int) -> int: ...\n", path="pkg/mod.pyi"),
        # Short functions exempted by min_length.
        Valid('"""Mod."""\n\n\ndef f():\n    pass\n', options={"min_length": 2}),
        Valid("x = 1\n", options={"check_modules": False}),
        Valid('"""Mod."""\n\n\ndef f():\n    """"""\n', options={"check_empty": False}),
    ]
    INVALID = [
        Invalid("import os\n", line=1),
        Invalid('"""Mod."""\n\n\ndef public(x):\n    return x\n', line=4),
        Invalid('"""Mod."""\n\n\nclass Widget:\n    pass\n', line=4),
        # Methods, async functions and decorated functions: reported on the def line.
        Invalid(
            '"""Mod."""\n\n\nclass Widget:\n    """W."""\n\n    @property\n'
            "    def size(self):\n        return 1\n",
            line=8,
        ),
        Invalid('"""Mod."""\n\n\nasync def fetch(url):\n    return url\n', line=4),
        # An empty docstring documents nothing.
        Invalid('"""Mod."""\n\n\ndef f():\n    """"""\n', line=4),
        # no_docstring_rgx is configurable (here: require __init__).
        Invalid(
            '"""Mod."""\n\n\nclass A:\n    """A."""\n\n    def __init__(self):\n'
            "        pass\n",
            line=7,
            options={"no_docstring_rgx": "^(?!__init__$)_"},
        ),
        Invalid(
            '"""Mod."""\n__all__ = ["api"]\n\n\ndef helper():\n    pass\n', line=5,
            options={"respect_all": False},
        ),
        # An __all__ built at run time leaves every name public.
        Invalid('"""Mod."""\n__all__ = list("f")\n\n\ndef helper():\n    pass\n', line=5),
        Invalid("def test_it():\n    pass\n", line=1, path="tests/test_it.py",
                options={"include_tests": True, "check_modules": False}),
    ]

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        check_threshold(self.id, "min_length", self.settings["min_length"])
        pattern: str = self.settings["no_docstring_rgx"]
        try:
            self._exempt = re.compile(pattern) if pattern else None
        except re.error as exc:
            raise ValueError(
                f"{self.id}: option 'no_docstring_rgx' is not a valid regular expression:"
                f" {exc}"
            ) from None
        self._exports: frozenset[str] | None = None

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        if (ctx.is_test and not self.settings["include_tests"]) or ctx.path.endswith(".pyi"):
            return
        if self.settings["check_modules"]:
            yield from self._check_module(ctx)
        self._exports = module_exports(ctx.tree) if self.settings["respect_all"] else None
        classes = [c for c in ctx.nodes(ast.ClassDef) if isinstance(c, ast.ClassDef)]
        by_name = {c.name: c for c in classes}
        for cls in classes:
            if self._public(ctx, cls) and not self._short(cls):
                yield from self._check_docstring(ctx, cls, "class")
        for fn in ctx.functions():
            if self._needs_docstring(ctx, fn, by_name):
                in_class = isinstance(enclosing_scope(ctx, fn), ast.ClassDef)
                yield from self._check_docstring(ctx, fn, "method" if in_class else "function")

    @classmethod
    def fix_from_answer(cls, source: str, finding: Finding, code: str) -> Fix | None:
        """The docstring the model wrote (anywhere in its answer: a string statement, else
        a comment it added), placed where the finding needs it; the rest of the answer is
        ignored. None when the answer holds no text or the place is not a line of its own
        (``def f(): return 1``)."""
        if not finding.path.endswith((".py", ".pyw")):
            return None
        text = _answer_text(code, source)
        if text is None:
            return None
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError):
            return None
        lines = split_lines(source, keepends=True)
        place = _docstring_place(tree, finding, lines)
        if place is None:
            return None
        start, end, indent, before, after = place
        body = before + _docstring_literal(text, indent) + after
        if end < start:  # an insertion before line ``start``, over the blank lines above
            top = start  # it (rewritten as they are), so no diff can see it moved there
            while top > 1 and not lines[top - 2].strip():
                top -= 1
            edit = TextEdit(top, 1, start, 1, "".join(lines[top - 1:start - 1]) + body)
        elif end < len(lines) or lines[-1].endswith("\n"):  # whole lines replaced
            edit = TextEdit(start, 1, end + 1, 1, body)
        else:  # the file's last line, without a final newline: keep it that way
            edit = TextEdit(start, 1, end, len(lines[-1]) + 1, body.rstrip("\n"))
        return Fix("Add the model's docstring", (edit,), safe=False, origin="model")

    @classmethod
    def answer_prefix(cls, finding: Finding) -> str | None:
        """A module's docstring: the answer opens with its quotes (single ones, which need no
        escape in JSON). Shown the module's first line, Qwen2.5-Coder-1.5B echoed the
        module without a docstring in 11 of 13 module findings of the perf corpora."""
        return "'''" if _about_module(finding) else None

    @classmethod
    def unplaced_reason(cls, source: str, finding: Finding, code: str) -> str | None:
        """The complaint when the model's answer holds no docstring text (not when there is
        no place for one: asking again cannot change that)."""
        if _answer_text(code, source) is not None:
            return None
        what = "module" if _about_module(finding) else "definition"
        return (
            f"fixed_code holds no docstring; write the {what}'s docstring, a triple-quoted"
            " sentence saying what it does, and keep the lines to fix after it"
        )

    # -- what needs a docstring -------------------------------------------------------
    def _exempt_name(self, name: str) -> bool:
        return self._exempt is not None and self._exempt.match(name) is not None

    def _public(self, ctx: PyContext, node: ast.ClassDef | FunctionNode) -> bool:
        """Not exempt by name, not a member of an exempt (private) class, and listed in
        ``__all__`` when the module has one."""
        if self._exempt_name(node.name):
            return False
        if self._exports is not None and top_level_name(ctx, node) not in self._exports:
            return False
        return not any(
            isinstance(a, ast.ClassDef) and self._exempt_name(a.name) for a in ctx.ancestors(node)
        )

    def _short(self, node: ast.ClassDef | FunctionNode) -> bool:
        min_length: int = self.settings["min_length"]
        return (node.end_lineno or node.lineno) - node.lineno < min_length

    def _needs_docstring(
        self, ctx: PyContext, fn: FunctionNode, classes: Mapping[str, ast.ClassDef]
    ) -> bool:
        scope = enclosing_scope(ctx, fn)
        if isinstance(scope, (*FUNCTION_TYPES, ast.Lambda)):
            return False  # nested function: an implementation detail
        if not self._public(ctx, fn) or self._short(fn):
            return False
        if is_property_accessor(fn) or is_overload(fn) or has_decorator(fn, "override"):
            return False
        return not (isinstance(scope, ast.ClassDef) and _overrides(scope, fn.name, classes))

    # -- reporting -----------------------------------------------------------------------
    def _check_module(self, ctx: PyContext) -> Iterator[Finding]:
        tree = ctx.tree
        if not tree.body:
            return  # an empty module (comments at most)
        doc = docstring_node(tree)
        if doc is None and not _assigns_doc(tree):
            yield ctx.report(self, Span(1, 1), "Missing module docstring")
        elif doc is not None and self._empty(doc):
            yield ctx.report(self, doc, "Empty module docstring")

    def _check_docstring(
        self, ctx: PyContext, node: ast.ClassDef | FunctionNode, kind: str
    ) -> Iterator[Finding]:
        doc = docstring_node(node)
        name = ctx.scope_name(node)
        if doc is None:
            if _assigns_doc(node) or _starts_with_string_call(node):
                return
            message = f"Missing docstring in public {kind} '{name}'"
        elif self._empty(doc):
            message = f"Empty docstring in public {kind} '{name}'"
        else:
            return
        yield report_definition(ctx, self, node, message, signature_scope(node))

    def _empty(self, doc: ast.Expr) -> bool:
        value = doc.value
        return (
            bool(self.settings["check_empty"])
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
            and not value.value.strip()
        )


def _assigns_doc(node: ast.Module | ast.ClassDef | FunctionNode) -> bool:
    """``__doc__ = "..."`` in the body (pylint accepts it as the docstring)."""
    for stmt in node.body:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__doc__" for t in stmt.targets
        ):
            return True
    return False


def _starts_with_string_call(node: ast.ClassDef | FunctionNode) -> bool:
    """The body opens with ``"...".format(...)`` or another str method call on a literal,
    a docstring built at definition time (pylint accepts it)."""
    first = node.body[0] if node.body else None
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Call)):
        return False
    func = first.value.func
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Constant)
        and isinstance(func.value.value, (str, bytes))
    )


def _overrides(cls: ast.ClassDef, name: str, classes: Mapping[str, ast.ClassDef]) -> bool:
    """A base class defined in this module (directly or further up) defines ``name``."""
    seen: set[str] = set()
    pending = _base_names(cls)
    while pending:
        base_name = pending.pop()
        base = classes.get(base_name)
        if base_name in seen or base is None or base is cls:
            continue
        seen.add(base_name)
        if any(isinstance(s, FUNCTION_TYPES) and s.name == name for s in own_statements(base)):
            return True
        pending.extend(_base_names(base))
    return False


def _base_names(cls: ast.ClassDef) -> list[str]:
    """Names of the bases written as plain names (``Base`` or ``Base[T]``)."""
    names = []
    for base in cls.bases:
        if isinstance(base, ast.Subscript):
            base = base.value
        if isinstance(base, ast.Name):
            names.append(base.id)
    return names


# -- the model's docstring, placed by the rule -------------------------------------------------
MAX_DOC_WIDTH = 88  # a one-line docstring longer than this (with its indent) is wrapped
# A label a model writes in front of the text ("Module docstring: Replace ...").
_LABEL = re.compile(r"^(?:(?:module|class|function|method)\s+)?docstring\s*[:-]\s*", re.I)
_TRIPLE = re.compile(r'(?:"""|\'\'\')(.*?)(?:"""|\'\'\')', re.DOTALL)


def _answer_text(code: str, source: str) -> str | None:
    """The first paragraph of the docstring in the model's answer, on one line: the first
    string statement (of the module or of a definition), else a triple-quoted text, else
    the first comment the source does not have."""
    text: str | None = None
    try:
        tree = ast.parse(textwrap.dedent(code))
    except (SyntaxError, ValueError, RecursionError):
        tree = None
    if tree is not None:
        for node in ast.walk(tree):
            if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str) and node.value.value.strip()):
                text = node.value.value
                break
    if text is None:
        m = _TRIPLE.search(code)
        text = m.group(1) if m and m.group(1).strip() else None
    if text is None:
        had = {ln.strip() for ln in source.splitlines() if ln.strip().startswith("#")}
        text = next((ln.strip().lstrip("#").strip() for ln in code.splitlines()
                     if ln.strip().startswith("#") and ln.strip() not in had
                     and ln.strip().lstrip("#").strip()), None)
    if text is None:
        return None
    paragraph = _LABEL.sub("", first_paragraph(text))
    if len(paragraph) < 3 or not any(c.isalpha() for c in paragraph):
        return None
    paragraph = paragraph[0].upper() + paragraph[1:]
    if not paragraph.endswith((".", "!", "?")):
        paragraph += "."
    return paragraph


def _docstring_literal(text: str, indent: str) -> str:
    """``text`` as a docstring at ``indent`` (wrapped when it does not fit one line)."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.endswith('"'):
        text += " "
    if len(indent) + len(text) + 6 <= MAX_DOC_WIDTH:
        return f'{indent}"""{text}"""\n'
    width = max(40, MAX_DOC_WIDTH - len(indent))
    # The opening quotes take room on the first line.
    wrapped = textwrap.wrap(text, width=width, initial_indent='"""')
    inner = "\n".join(indent + ln for ln in wrapped[1:])
    return f'{indent}{wrapped[0]}\n{inner}\n{indent}"""\n' if inner else \
        f'{indent}{wrapped[0]}\n{indent}"""\n'


def _about_module(finding: Finding) -> bool:
    return finding.message.startswith(("Missing module", "Empty module"))


def _inline_body(owner: ast.Module | ast.ClassDef | FunctionNode, lines: list[str],
                 header: str) -> tuple[int, int, str, str, str] | None:
    """For a stub on its header's line (``def read(self) -> bytes: ...`` in a Protocol, or
    ``class Error(Exception): pass``; ``header``: that line up to the stub): the line, to
    become the header (``before``), the docstring and the stub under it (``after``,
    indented). None for any other body sharing the header's line (``def f(): return 1``:
    more than a stub, no place)."""
    if isinstance(owner, ast.Module) or len(owner.body) != 1:
        return None
    stmt = owner.body[0]
    is_stub = isinstance(stmt, ast.Pass) or (
        isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
        and stmt.value.value is Ellipsis)
    if not is_stub or stmt.lineno != stmt.end_lineno or stmt.lineno > len(lines):
        return None
    line = lines[stmt.lineno - 1]
    raw = line.encode()
    if raw[stmt.end_col_offset or 0:].strip() or stmt.lineno != owner.lineno:
        return None  # a comment after the stub, or a header over several lines
    indent = line[: len(line) - len(line.lstrip())] + "    "
    stub = raw[stmt.col_offset:stmt.end_col_offset].decode(errors="replace")
    return stmt.lineno, stmt.lineno, indent, header.rstrip() + "\n", f"{indent}{stub}\n"


def _docstring_place(tree: ast.Module, finding: Finding, lines: list[str]
                     ) -> tuple[int, int, str, str, str] | None:
    """(first line, last line, indent, text before, text after) of the docstring to write:
    an empty docstring's own lines (replaced), the line before the first statement of the
    module or definition (``last < first``: an insertion), or a stub's line."""
    owner: ast.Module | ast.ClassDef | FunctionNode | None = None
    if _about_module(finding):
        owner = tree
    else:
        for node in ast.walk(tree):
            if (isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                    and node.lineno == finding.span.line):
                owner = node
                break
    if owner is None or not owner.body:
        return None
    first = owner.body[0]
    doc = docstring_node(owner)
    if doc is not None:  # an empty docstring: replace its lines if it has them alone
        head = lines[doc.lineno - 1].encode()[:doc.col_offset].decode(errors="replace")
        tail = lines[(doc.end_lineno or doc.lineno) - 1].encode()[doc.end_col_offset or 0:]
        if head.strip() or tail.strip():
            return None
        return doc.lineno, doc.end_lineno or doc.lineno, head, "", ""
    line = lines[first.lineno - 1] if first.lineno <= len(lines) else ""
    prefix = line.encode()[:first.col_offset].decode(errors="replace")
    if prefix.strip():  # the body shares the header's line
        return _inline_body(owner, lines, prefix)
    if isinstance(owner, ast.Module):  # after the comments that head the file
        return first.lineno, first.lineno - 1, prefix, "", "\n"
    at = first.lineno  # right under the header: before comments that open the body
    while at - 1 > owner.lineno and (not lines[at - 2].strip()
                                     or lines[at - 2].lstrip().startswith("#")):
        at -= 1
    return at, at - 1, prefix, "", ""
