"""Fixes that validate but are wrong, as the model writes them (issue 12): the checks the
validator (:mod:`reviewer.llm.validate`) adds after parsing and re-reviewing a fix.

Each check compares the file before and after the fix and returns the reason for a
refusal (a phrase the model can act on in a refinement pass) or None:

* :func:`narrowed_handler`: an ``except Exception`` / ``except BaseException`` / bare
  ``except:`` handler narrowed to specific types. Exceptions the old handler caught and the
  new one does not would now escape, which changes behaviour. Refused unless the try body
  can raise nothing but the new types (each raised there by a ``raise`` statement, and no
  call, attribute access, subscript or operator besides) and the old handler does not use
  its exception variable; in practice a model's narrowing is always refused.
* :func:`dropped_comments`: a comment of the file is gone (``# type:`` comments excepted
  for RV402, whose fix turns them into annotations).
* :func:`generic_docstring`: an RV401 docstring that names nothing of what it documents
  (parameters, names the body uses or returns) and starts with no verb beyond boilerplate
  ("This function does something.").
* :func:`lost_default`: an RV101 fix that turns a mutable default into ``None`` but never
  uses the old default in the function again (``blank_choice=BLANK_CHOICE_DASH`` ->
  ``blank_choice=None`` with no ``if blank_choice is None: blank_choice =
  BLANK_CHOICE_DASH``): every caller that relied on the default now gets ``None``.
* :func:`string_annotation`: an annotation added as a string holding a typing construct
  (``"Optional[int]"``, ``"list[str]"``); only a plain (dotted) name, a forward reference,
  may be quoted. Undefined names are the validator's pyflakes check.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import Counter

from reviewer.llm.judge import repetition
from reviewer.llm.names import node_name
from reviewer.rules._functions import first_paragraph, parameter_defaults

__all__ = ["dropped_comments", "generic_docstring", "generic_docstrings", "lost_default",
           "narrowed_handler", "string_annotation"]

_BROAD = frozenset({"BaseException", "Exception"})
# Nodes that cannot raise by themselves (a try body made of these and ``raise T(...)`` can
# raise only T).
_INERT = (
    ast.Pass, ast.Constant, ast.Name, ast.Load, ast.Store, ast.Assign, ast.Expr, ast.If,
    ast.Return, ast.Break, ast.Continue, ast.Tuple,
)


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return None


def _type_names(handler: ast.ExceptHandler) -> list[str]:
    """The handler's types as written ("" for a bare ``except:``)."""
    if handler.type is None:
        return [""]
    parts = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return [ast.unparse(p) for p in parts]


def _is_broad(names: list[str]) -> bool:
    return any(n == "" or n.rsplit(".", 1)[-1] in _BROAD for n in names)


def narrowed_handler(source: str, patched: str) -> str | None:
    """The reason to refuse a fix that narrows a broad handler, or None."""
    before, after = _parse(source), _parse(patched)
    if before is None or after is None:
        return None
    old, new = _tries(before), _tries(after)
    if len(old) != len(new):
        return None
    for (_, handlers_old), (body_new, handlers_new) in zip(old, new, strict=True):
        broad_old = [h for h in handlers_old if _is_broad(_type_names(h))]
        if not broad_old or any(_is_broad(_type_names(h)) for h in handlers_new):
            continue
        h_old = broad_old[0]
        was = "except " + ", ".join(n for n in _type_names(h_old) if n) \
            if h_old.type is not None else "except"
        caught = {n for h in handlers_new for n in _type_names(h)}
        now = ", ".join(sorted(caught)) or "nothing"
        if _uses_name(h_old) or not _raises_only(body_new, caught):
            return (
                f"the fix narrows `{was}:` (line {h_old.lineno}) to {now}: the try"
                " body can raise other exceptions that the handler used to catch, and they"
                " would now escape; keep the handler as broad as it was (log the"
                " exception with exc_info=True, or re-raise it)"
            )
    return None


def _tries(tree: ast.Module) -> list[tuple[list[ast.stmt], list[ast.ExceptHandler]]]:
    """(body, handlers) of every ``try`` (and ``try``/``except*``), in walk order."""
    out = []
    for n in ast.walk(tree):
        if type(n).__name__ in ("Try", "TryStar"):  # TryStar: except* (Python 3.11+)
            fields = dict(ast.iter_fields(n))
            out.append((fields["body"], fields["handlers"]))
    return out


def _uses_name(handler: ast.ExceptHandler) -> bool:
    """The handler reads its exception variable (re-raises, keeps or logs it)."""
    name = handler.name
    if not name:
        return any(isinstance(n, ast.Raise) and n.exc is None
                   for stmt in handler.body for n in ast.walk(stmt))
    return any(isinstance(n, ast.Name) and n.id == name
               for stmt in handler.body for n in ast.walk(stmt)) or any(
        isinstance(n, ast.Raise) and n.exc is None
        for stmt in handler.body for n in ast.walk(stmt))


def _raises_only(body: list[ast.stmt], caught: set[str]) -> bool:
    """Every exception ``body`` can raise is evidently one of ``caught``: it raises each of
    them itself, and nothing else in it can raise."""
    raised: set[str] = set()
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Raise):
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = ast.unparse(exc) if exc is not None else ""
            args = node.exc.args if isinstance(node.exc, ast.Call) else []
            if name not in caught or node.cause is not None or not all(
                    isinstance(a, ast.Constant) for a in args):
                return False
            raised.add(name)
            continue
        if not isinstance(node, _INERT):
            return False
        if isinstance(node, ast.If) and not isinstance(node.test, ast.Name | ast.Constant):
            return False
        stack.extend(ast.iter_child_nodes(node))
    return bool(raised) and raised >= caught


def _comments(source: str) -> tuple[Counter[str], Counter[str]]:
    """The comments of ``source`` by text: all of them, and those on a line of their own."""
    out: Counter[str] = Counter()
    alone: Counter[str] = Counter()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                text = tok.string.lstrip("#").strip()
                out[text] += 1
                alone[text] += not tok.line[: tok.start[1]].strip()
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return Counter(), Counter()
    return out, alone


def dropped_comments(source: str, patched: str, rule_id: str) -> str | None:
    """The first comment of ``source`` missing from ``patched``, or moved from a line of its
    own onto a line of code (``def f(a: str): # the path``), quoted; None if none."""
    (before, before_alone), (after, after_alone) = _comments(source), _comments(patched)
    for text, n in before.items():
        if not text:
            continue
        if rule_id == "RV402" and text.startswith("type:") and not text.startswith(
                "type: ignore"):
            continue  # a type comment becomes the annotation
        if after[text] < n:
            return f"the fix drops the comment `# {text[:60]}`; keep every comment"
        if after_alone[text] < before_alone[text]:
            return (f"the fix moves the comment `# {text[:60]}` onto a line of code; keep it"
                    " on its own line")
    return None


# -- RV401: docstrings that say nothing -----------------------------------------------------
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
# Words that say nothing about a particular function (the filler of generic docstrings).
_FILLER = frozenset(re.findall(r"\w+", """
a an the this that these those it its is are be been was were of for to in on at by with
from and or as function method class module object instance code helper routine wrapper
something anything thing things stuff some given specified provided certain various
do does did doing done handle handles handling process processes processing perform
performs run runs execute executes implement implements implementation provide provides
return returns returned get gets set sets make makes take takes work works call calls
called define defines defined represent represents contain contains has have having
initialize initializes init create creates creating build builds use uses used
manage manages serve serves deal deals wrap wraps logic operation operations task
specific necessary needed required what which here there used simple basic main
"""))
_SUBJECTS = ("this", "the", "a", "an", "function", "method", "class", "module", "helper",
             "that", "which", "will", "is", "used", "to")


def _parts(name: str) -> set[str]:
    out: set[str] = set()
    for chunk in name.split("_"):
        out.update(p.lower() for p in _CAMEL.findall(chunk))
    out.add(name.lower().strip("_"))
    return {p for p in out if len(p) >= 3 and p not in ("self", "cls")}


def _mentioned(node: ast.AST) -> set[str]:
    """Name parts of what ``node`` (a def, class or module) takes, uses and returns (its own
    name left out: a docstring that repeats it says nothing more)."""
    names: set[str] = set()
    for sub in ast.walk(node):
        if sub is node:
            continue
        if (name := node_name(sub)) is not None:
            names.add(name)
        elif isinstance(sub, ast.alias):
            names.add((sub.asname or sub.name).split(".")[0])
        elif isinstance(sub, ast.ImportFrom) and sub.module:
            names.add(sub.module.rsplit(".", 1)[-1])  # `from .cli import main`: cli
        elif isinstance(sub, ast.keyword) and sub.arg:
            names.add(sub.arg)
    parts: set[str] = set()
    for name in names:
        parts |= _parts(name)
    return parts


def _path_pieces(path: str) -> list[str]:
    """A file's directories and module name (``src/flask/__main__.py``: flask, __main__),
    leaving out the usual source roots."""
    return [p for p in path.replace("\\", "/").removesuffix(".py").split("/")
            if p not in ("", ".", "src", "lib")]


def _module_name_parts(path: str) -> set[str]:
    """The name parts of the module's own name (``blueprints``, ``main`` of ``__main__``),
    and of its package's for a package's ``__init__`` (``flask``): what a module docstring
    may name. The package of any other module is no subject of its own (flask's
    ``__main__.py`` is not "the Flask application")."""
    pieces = _path_pieces(path)
    if pieces and pieces[-1] == "__init__":
        pieces = pieces[:-1]
    return _parts(pieces[-1]) if pieces else set()


def _matches(word: str, parts: set[str]) -> bool:
    if word in parts:
        return True
    return len(word) >= 4 and any(
        len(p) >= 4 and (word.startswith(p) or p.startswith(word)) for p in parts)


def generic_docstring(doc: str, node: ast.AST, path: str = "") -> bool:
    """Whether ``doc``, the docstring of ``node``, is filler: it names no parameter or name
    the code uses (for a module, nor its own name from ``path``: :func:`_module_name_parts`),
    and, but for a module, its first word after the subject ("This function ...") is no
    verb beyond boilerplate."""
    words = [w.lower() for w in _WORD.findall(doc)]
    if not words:
        return True
    own = _parts(getattr(node, "name", ""))
    parts = _mentioned(node) - _FILLER - own
    if isinstance(node, ast.Module):
        said = [w for w in words if w not in _FILLER]
        named = {part for piece in _path_pieces(path) for part in _parts(piece)}
        named |= {"package", "packages", "library", "submodule"}
        if said and all(_matches(w, named) for w in said):
            return True  # "Flask blueprints.": the file's path said again
        parts |= _module_name_parts(path) - _FILLER
    if any(_matches(w, parts) for w in words if w not in _FILLER and w not in own):
        return False
    if isinstance(node, ast.Module):
        # A module's docstring that names nothing it holds is about something else, even
        # when it starts with a verb ("Run the Flask application." over cli's main()).
        return True
    rest = words
    while rest and rest[0] in _SUBJECTS:
        rest = rest[1:]
    return not rest or rest[0] in _FILLER or rest[0] in own or len(words) < 3


def _docstrings(tree: ast.Module) -> dict[str, tuple[str, ast.AST]]:
    out: dict[str, tuple[str, ast.AST]] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                key = f"{prefix}.{child.name}"
                out[key] = (ast.get_docstring(child) or "", child)
                visit(child, key)

    out[""] = (ast.get_docstring(tree) or "", tree)
    visit(tree, "")
    return out


# "Requests is a Python HTTP library.": the subject is the whole library, not the module.
_LIBRARY_SUBJECT = re.compile(r"^(?:the\s+)?([A-Za-z][\w.]*)(?:\s+(?:is|provides)\b|\s*:)", re.I)
# A Python version named ("Python 2", "Python 3.x", "py3"): made up where the code never
# tells versions apart.
_PYTHON_VERSION = re.compile(r"\bpython\s*[23](?:\.(?:\d+|x))?\b|\bpy[23]\b", re.I)


def _off_module(doc: str, source: str, path: str) -> str | None:
    """The reason to refuse a module docstring that describes something else: in a module
    that is not its package's ``__init__``, one whose subject is the top package (requests'
    ``__version__.py``: "Requests is a Python HTTP library."; rich's ``__main__.py``), or one
    that names a Python version in code that never tells versions apart (click's
    ``_compat.py``: "Compatibility for Python 3.x with Python 2.x", then "Compatibility layer
    for Python 3.x", for stream helpers)."""
    first = first_paragraph(doc)
    pieces = _path_pieces(path)
    m = _LIBRARY_SUBJECT.match(first)
    if (m is not None and len(pieces) >= 2 and pieces[-1] != "__init__"
            and m.group(1).lower() == pieces[0].lower()):
        return (f"the module docstring describes {m.group(1)} as a whole; say what this module"
                f" ({pieces[-1]}) holds or does")
    said = _PYTHON_VERSION.search(doc)
    if said and not _PYTHON_VERSION.search(source) and "version_info" not in source:
        return (f"the module docstring speaks of {said.group(0)}, a Python version this code"
                " never tells apart; say what the module holds")
    return None


def _script_runs(tree: ast.Module) -> tuple[list[str], set[str]]:
    """For a script (a module that defines no function or class), the calls its top level
    makes outside any block (``setup()``, ``main()``) and the name parts a docstring may name
    for them: the called names' and the modules they are imported from (``cli`` for
    ``from .cli import main``). Empty for any other module."""
    if any(isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
           for s in tree.body):
        return [], set()
    origins: dict[str, str] = {}
    for sub in ast.walk(tree):
        if isinstance(sub, ast.ImportFrom) and sub.module:
            for alias in sub.names:
                origins[alias.asname or alias.name] = sub.module.rsplit(".", 1)[-1]
        elif isinstance(sub, ast.Import):
            for alias in sub.names:
                origins[alias.asname or alias.name.split(".")[0]] = alias.name.split(".")[-1]
    calls: list[str] = []
    parts: set[str] = set()
    for stmt in tree.body:
        if not isinstance(stmt, ast.Expr) or not isinstance(stmt.value, ast.Call):
            continue
        for call in ast.walk(stmt.value):
            if not isinstance(call, ast.Call) or (name := node_name(call.func)) is None:
                continue
            calls.append(f"{name}()")
            parts |= _parts(name)
            root = call.func
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name):
                parts |= _parts(root.id) | _parts(origins.get(root.id, ""))
    return calls, parts - _FILLER


def _misses_script(doc: str, tree: ast.Module) -> str | None:
    """The reason to refuse a script's docstring that names none of what the script runs
    (requests' ``setup.py``: "Check the Python version and exit if it's too old.", for the
    version check before ``setup()``), or None."""
    calls, parts = _script_runs(tree)
    if not parts:
        return None
    words = [w.lower() for w in _WORD.findall(doc)]
    if any(_matches(w, parts) for w in words if w not in _FILLER):
        return None
    return (f"the module docstring leaves out what the script runs ({', '.join(calls[:3])});"
            " say what running it does")


# Words that give a value one concrete type.
_CONCRETE = re.compile(
    r"\b(bytes|str|strings?|int|integers?|floats?|bool|booleans?|lists?|dicts?|tuples?)\b",
    re.I)


def _typevar_claim(doc: str, node: ast.AST, tree: ast.Module) -> str | None:
    """The reason to refuse a function's docstring that names one concrete type where the
    function returns a type variable (requests' ``SupportsRead.read -> _T_co``: "Read up to
    length bytes", when requests reads ``str`` through it too), or None."""
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    returns = node.returns
    if not isinstance(returns, ast.Name) or returns.id not in _type_variables(tree):
        return None
    said = _CONCRETE.search(first_paragraph(doc))
    if said is None:
        return None
    return (f"the docstring of {node.name} says {said.group(0)}, but {node.name} returns"
            f" {returns.id}, a type variable: whatever type the caller's object gives;"
            " do not name one type")


def _type_variables(tree: ast.Module) -> set[str]:
    """The module-level names bound to ``TypeVar(...)``."""
    out: set[str] = set()
    for stmt in tree.body:
        if (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)
                and node_name(stmt.value.func) == "TypeVar"):
            out.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
    return out


def generic_docstrings(source: str, patched: str, path: str = "") -> str | None:
    """The reason to refuse an RV401 fix whose new docstring is filler or a copy of another
    docstring of the file (the module's taken from one of its functions), or None."""
    before, after = _parse(source), _parse(patched)
    if before is None or after is None:
        return None
    old = _docstrings(before)
    others = {first_paragraph(d).lower(): k for k, (d, _) in old.items() if d.strip()}
    for key, (doc, node) in _docstrings(after).items():
        if not doc or old.get(key, ("", node))[0] == doc:
            continue
        flat = first_paragraph(doc).lower()
        loop = repetition(_WORD.findall(flat))
        if loop is not None:
            what = key.rsplit(".", 1)[-1] or "the module"
            return f"the docstring of {what} repeats itself ({loop!r}); say it once"
        copied = next((k for text, k in others.items() if k != key and len(flat) >= 12
                       and (text == flat or text.startswith(flat.rstrip(".")))), None)
        if copied is not None:
            what = key.rsplit(".", 1)[-1] or "the module"
            source_name = copied.rsplit(".", 1)[-1] or "the module"
            return (
                f"the docstring of {what} copies the docstring of {source_name}; say what"
                f" {what} itself does"
            )
        if key == "" and (why := _off_module(doc, source, path)) is not None:
            return why
        if key == "" and (why := _misses_script(doc, after)) is not None:
            return why
        if (why := _typevar_claim(doc, node, after)) is not None:
            return why
        if generic_docstring(doc, node, path):
            what = key.rsplit(".", 1)[-1] or "the module"
            asked = ("what the module holds or does, naming its classes, functions or"
                     " values" if key == "" else
                     "what it does with its parameters or what it returns, naming them")
            return f"the docstring of {what} ({doc.splitlines()[0][:60]!r}) is generic: say {asked}"
    return None


# -- annotations written as strings ---------------------------------------------------------
def _annotations(tree: ast.Module) -> Counter[str]:
    out: Counter[str] = Counter()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            out[ast.dump(node.annotation)] += 1
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
            out[ast.dump(node.returns)] += 1
    return out


def string_annotation(source: str, patched: str) -> str | None:
    """The reason to refuse a fix that adds a quoted annotation holding more than a name."""
    before, after = _parse(source), _parse(patched)
    if before is None or after is None:
        return None
    old = _annotations(before)
    new = _annotations(after)
    for node in ast.walk(after):
        ann: ast.expr | None = None
        if isinstance(node, ast.arg | ast.AnnAssign):
            ann = node.annotation
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            ann = node.returns
        if not (isinstance(ann, ast.Constant) and isinstance(ann.value, str)):
            continue
        if new[ast.dump(ann)] <= old[ast.dump(ann)]:
            continue
        try:
            inner = ast.parse(ann.value.strip(), mode="eval").body
        except SyntaxError:
            inner = None
        if isinstance(inner, ast.Name | ast.Attribute) and all(
                isinstance(n, ast.Name | ast.Attribute | ast.Load) for n in ast.walk(inner)):
            continue  # a forward reference
        return (
            f"the annotation {ann.value!r} is a typing construct written as a string;"
            " write it as code (import what it uses)"
        )
    return None


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function by its dotted path (``Class.method``, ``outer.inner``)."""
    out: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = prefix + child.name
                if not isinstance(child, ast.ClassDef):
                    out.setdefault(name, child)
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return out


# An empty literal and its constructor build the same value: ``[]`` and ``list()``.
_EMPTY = {"List": "list", "Dict": "dict", "Set": "set", "Tuple": "tuple"}


def _builds(node: ast.AST, old: ast.expr) -> bool:
    """``node`` is the old default again, or an empty value of the same kind."""
    if ast.dump(node) == ast.dump(old):
        return True
    kind = type(old).__name__
    empty = not any(getattr(old, f, None) for f in ("elts", "keys"))
    if isinstance(old, ast.Call) and isinstance(old.func, ast.Name) and not old.args \
            and not old.keywords and old.func.id in _EMPTY.values():
        kind, empty = next(k for k, v in _EMPTY.items() if v == old.func.id), True
    if not empty or kind not in _EMPTY:
        return False
    if type(node).__name__ == kind:
        return not any(getattr(node, f, None) for f in ("elts", "keys"))
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
        and node.func.id == _EMPTY[kind] and not node.args and not node.keywords


def lost_default(source: str, patched: str) -> str | None:
    """The reason to refuse a fix that replaces a parameter's default by ``None`` without
    building the old default in the body when the argument is left out."""
    before, after = _parse(source), _parse(patched)
    if before is None or after is None:
        return None
    new_functions = _functions(after)
    for name, fn in _functions(before).items():
        new = new_functions.get(name)
        if new is None:
            continue
        now = {a.arg: d for a, d in parameter_defaults(new.args)}
        for arg, old in parameter_defaults(fn.args):
            param, got = arg.arg, now.get(arg.arg)
            if isinstance(old, ast.Constant) or not (
                    isinstance(got, ast.Constant) and got.value is None):
                continue
            if any(_builds(node, old) for stmt in new.body for node in ast.walk(stmt)):
                continue
            return (
                f"the default of {param} became None, but the function never falls back to"
                f" {ast.unparse(old)}: add `if {param} is None: {param} = {ast.unparse(old)}`"
                " (a copy where the old default was shared on purpose)"
            )
    return None
