"""RV601: eval/exec on non-constant input."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PyContext
from reviewer.rules._dataflow import Flow, argument, calls, flow, keyword
from reviewer.rules._invoker import command_entry, from_invoker
from reviewer.rules.base import Invalid, Rule, Valid
from reviewer.sinks import catalogue

# The catalogue's kinds this rule reads: code that runs, and modules imported by name.
KINDS = frozenset({"code", "import"})


class EvalExec(Rule):
    """eval() or exec() runs a string that is not a constant.

    Whatever reaches ``eval``/``exec`` runs as Python code with the caller's privileges, so a
    value that any user, file, request or environment variable can influence is a code
    injection (CWE-95). A string literal, or a name bound only to constants in its scope, is
    not an injection and is not reported (set ``strict = true`` to report every call, as
    pylint's eval-used and bandit's B307/B102 do). To read data, use ``ast.literal_eval``,
    ``json`` or a parser; to choose behaviour by name, use a dict of functions. Code given
    objects to use (``eval(code, {}, {"timezone": timezone})``) is meant to run them, so the
    message offers no literal parser and the model is asked for no edit of the line.

    The calls come from the sink catalogue (``reviewer/sinks.toml``, kinds ``code``
    and ``import``; add your own with ``[[tool.reviewer.extra-sinks]]``): ``eval``,
    ``exec``, ``compile`` (medium), ``code.InteractiveInterpreter``'s ``runsource`` and
    ``runcode``, and, with ``loaded_code = true``, at info severity,
    ``importlib.import_module``/``__import__`` of a module name that is not a constant.

    The criterion is where the code comes from. Code made from data (a string a caller
    passed, built from input, read from stdin or a socket) is reported. Code loaded the way
    Python loads code is not, by default: a module imported by name and the contents of a
    file run with ``exec(f.read())`` or ``exec(compile(path.read_text(), ...))``, also
    through a module function that returns them (a config
    file, a startup file, a plugin file). Both run only what is already on the machine's
    disk, as trusted as the program's own modules; who may write there is a question of
    file permissions, not of code injection, and on real code every such call judged was
    a framework loading its configured settings, plugins or startup file
    (``bench/precision.py``). ``loaded_code = true`` (or ``strict = true``) reports them.
    ``exec(code)`` of a code object (a name bound to ``compile(...)``, a parameter
    annotated ``CodeType``) is reported where the object is compiled, not again where it
    runs; ``exec(compile(src, ...))`` is one finding, on ``exec``. A name built on
    ``__name__`` or ``__package__`` (a package loading its own modules) and, in test files,
    ``compile`` and imports are not reported. A builtin's name rebound in the file
    (``def eval(...)``) is not the builtin. In a command-line entry point (a script's
    ``if __name__ == "__main__":`` block, a ``...Command`` class's ``handle``, a
    ``@click.command()`` function) code from the invoker's own command line, options or
    stdin is not reported: who runs ``manage.py shell -c CODE`` runs CODE on purpose.
    """

    id = "RV601"
    slug = "eval-exec"
    principle = "validate-input"
    severity = Severity.HIGH
    message = "eval()/exec() of a non-constant string runs whatever code reaches it."
    counterparts = {
        "bandit": "B307, B102", "ruff": "S307, S102", "pylint": "eval-used, exec-used",
        "eslint": "no-eval, no-implied-eval, no-new-func",
    }
    options = {"strict": False, "loaded_code": False, "extra_sinks": ()}
    tags = ("security", "injection", "external/cwe/cwe-95")
    security_severity = 9.3
    VALID = [
        "value = eval('1 + 1')\n",
        "EXPR = 'os.getcwd()'\nprint(eval(EXPR))\n",
        "def run():\n    code = 'x = 1'\n    code += '\\ny = 2'\n    exec(code, {})\n",
        "class Calc:\n    def eval(self, text):\n        return text\n\nCalc().eval(input())\n",
        "def eval(text):\n    return text\n\neval(input())\n",
        "import ast\n\ndef parse(text):\n    return ast.literal_eval(text)\n",
        "code = compile('x = 1', '<string>', 'exec')\n",
        "import importlib\n\nPLUGINS = {'a': 'pkg.a', 'b': 'pkg.b'}\n"
        "mod = importlib.import_module(PLUGINS['a'])\n",
        "import importlib\n\nfor name in ('json', 'csv'):\n    importlib.import_module(name)\n",
        "import code\n\ncode.InteractiveInterpreter().runsource('1 + 1')\n",
        "import importlib, pkgutil\n\nfor info in pkgutil.iter_modules(__path__):\n"
        "    importlib.import_module(f'{__name__}.{info.name}')\n",
        "import importlib\n\nREPORTERS = {'json': 'pkg.json', 'text': 'pkg.text'}\n\n"
        "def get(name):\n    return importlib.import_module(REPORTERS[name])\n",
        Valid("def test_fix(fixed):\n    compile(fixed, 'x.py', 'exec')\n",
              path="tests/test_fix.py"),
        # Code loaded from files or modules: a config file, a startup file, a plugin.
        "def from_pyfile(filename, d):\n    with open(filename, 'rb') as f:\n"
        "        exec(compile(f.read(), filename, 'exec'), d.__dict__)\n",
        "import os\n\nstartup = os.environ.get('PYTHONSTARTUP')\nwith open(startup) as f:\n"
        "    eval(compile(f.read(), startup, 'exec'), {})\n",
        "from pathlib import Path\n\ndef load_plugin(path, ns):\n"
        "    source = Path(path).read_text()\n    exec(source, ns)\n",
        "import importlib\n\ndef load(name):\n    return importlib.import_module(name)\n",
        "def locate_app(module_name):\n    __import__(module_name)\n",
        # A code object runs where it was compiled (reported there, if at all).
        "from types import CodeType\n\ndef from_code(code: CodeType, ns):\n    exec(code, ns)\n",
        "def run():\n    code = compile('x = 1', '<s>', 'exec')\n    exec(code, {})\n",
        "from types import CodeType\n\ndef rerun(code: CodeType, name):\n"
        "    code = code.replace(co_name=name)\n    exec(code, {})\n",
        # A command's invoker runs their own code on purpose (manage.py shell -c CODE).
        "import sys\n\nclass Command(BaseCommand):\n    def handle(self, **options):\n"
        "        if options['command']:\n            exec(options['command'], {})\n"
        "        exec(sys.stdin.read(), {})\n",
        "import sys\n\nif __name__ == '__main__':\n    exec(sys.argv[1])\n",
        "def _read(path):\n    with open(path, encoding='utf-8') as f:\n        return f.read()\n\n"
        "def run_script(path, ns):\n    code = compile(_read(path), path, 'exec')\n"
        "    exec(code, ns)\n",
        "def run_script(self, name, ns):\n"
        "    text = self.get_metadata(name).replace('\\r\\n', '\\n')\n"
        "    text = text.replace('\\r', '\\n')\n"
        "    exec(compile(text, name, 'exec'), ns)\n",
    ]
    INVALID = [
        Invalid("def calc(expr):\n    return eval(expr)\n", line=2),
        # Given objects to use: reported, with no literal parser offered (no local fix).
        Invalid("import datetime\n\ndef ask(code):\n"
                "    return eval(code, {}, {'datetime': datetime})\n", line=4),
        Invalid("import sys\n\nexec(sys.stdin.read())\n", line=3),
        Invalid("import builtins\n\ndef f(src):\n    builtins.exec(f'x = {src}')\n", line=4),
        Invalid(
            "code = 'print(1)'\n\ndef load(path):\n    global code\n"
            "    code = open(path).read()\n\nexec(code)\n",
            line=7,
        ),
        Invalid("print(eval('1 + 1'))\n", line=1, options={"strict": True}),
        Invalid("def f(src):\n    return compile(src, '<input>', 'exec')\n", line=2),
        Invalid("def run(path, ns):\n    exec(compile(open(path).read(), path, 'exec'), ns)\n",
                line=2, options={"loaded_code": True}),
        Invalid("import importlib\n\ndef load(name):\n    return importlib.import_module(name)\n",
                line=4, options={"loaded_code": True}),
        Invalid("def load(name):\n    return __import__('plugins.' + name)\n", line=2,
                options={"loaded_code": True}),
        Invalid("def run(path, ns):\n    exec(open(path).read(), ns)\n", line=2,
                options={"loaded_code": True}),
        # stdin is data, not a file on disk; a named code object is reported at compile().
        Invalid("import sys\n\ndef run(ns):\n    exec(sys.stdin.read(), ns)\n", line=4),
        Invalid("def run(src):\n    code = compile(src, '<s>', 'exec')\n    exec(code, {})\n",
                line=2),
        Invalid(
            "import code\n\ndef f(line):\n    code.InteractiveInterpreter().runsource(line)\n",
            line=4,
        ),
        # ...but a command's helper is not its entry point, nor a web view a command.
        Invalid(
            "class Command(BaseCommand):\n    def handle(self, **options):\n"
            "        self.run(options['code'])\n\n    def run(self, code):\n        exec(code)\n",
            line=6,
        ),
        Invalid("def view(request):\n    return eval(request.GET['q'])\n", line=2),
    ]

    @classmethod
    def has_local_fix(cls, finding: Finding) -> bool:
        """Code given objects to use (``eval(code, {}, {"timezone": timezone})``, django's
        migration questioner: ``timezone.now`` typed at its prompt) is meant to run them:
        no literal parser or edit of the line keeps that; the change is the feature's."""
        return _GIVEN not in finding.message

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        sinks = catalogue(KINDS, tuple(self.settings["extra_sinks"]))
        for call in calls(ctx):
            func = call.func
            if not isinstance(func, (ast.Name, ast.Attribute)):
                continue
            method = func.attr if isinstance(func, ast.Attribute) else None
            if (func.id if isinstance(func, ast.Name) else func.attr) not in sinks.last_names:
                continue
            df = flow(ctx)
            found = sinks.lookup(df.qualified_name(func), method)
            if not found or (isinstance(func, ast.Name) and not df.is_builtin(func)):
                continue
            sink = found[0]
            source = (
                argument(call, sink.arg, sink.keyword) if sink.arg >= 0
                else keyword(call, sink.keyword)
            )
            if source is None and not call.args:
                continue
            if sink.kind == "import" and (ctx.is_test or _in_package(source)):
                continue
            strict = bool(self.settings["strict"])
            if not (strict or self.settings["loaded_code"]) and (
                sink.kind == "import" or (source is not None and _from_file(df, source))
            ):
                continue
            if not strict and sink.last_name in ("exec", "eval") and source is not None \
                    and _code_object(df, source):
                continue
            if sink.last_name == "compile" and (ctx.is_test or _run_right_away(ctx, call)):
                continue
            constant = source is not None and df.is_constant(source)
            if constant and (not self.settings["strict"] or sink.kind == "import"):
                continue
            if not strict and source is not None and not constant:
                entry = command_entry(ctx, call)
                if entry is not None and from_invoker(df, source, entry):
                    continue  # the invoker's own code: `manage.py shell -c CODE`
            what = "a constant string" if constant else "a string that is not a constant"
            name = sink.last_name if method is None else method
            fix = sink.fix or "use ast.literal_eval, json or a dict of functions instead"
            given = _names_given(call) if name in ("eval", "exec") and not constant else []
            if sink.kind == "import":
                text = f"{name}() of a module name that is not a constant runs that module; {fix}."
            elif given:
                text = (f"{name}() of {what} runs whatever code reaches it; it is given"
                        f" {', '.join(given)} to use, {_GIVEN}: accept only the expressions"
                        " meant (parse them), or drop the feature.")
            else:
                text = f"{name}() of {what} runs whatever code reaches it; {fix}."
            yield ctx.report(
                self, call, text, severity=Severity.LOW if constant else sink.severity,
            )


_GIVEN = "so a literal parser cannot stand in"


def _names_given(call: ast.Call) -> list[str]:
    """The names a globals or locals dict display of ``eval``/``exec`` binds to objects
    (not to constants): ``eval(code, {}, {"datetime": datetime})`` gives ``datetime``."""
    spaces = list(call.args[1:3]) + [k.value for k in call.keywords
                                     if k.arg in ("globals", "locals")]
    out: list[str] = []
    for space in spaces:
        if not isinstance(space, ast.Dict):
            continue
        for key, value in zip(space.keys, space.values, strict=True):
            if (isinstance(key, ast.Constant) and isinstance(key.value, str)
                    and not isinstance(value, ast.Constant) and key.value != "__builtins__"):
                out.append(key.value)
    return out


def _in_package(name: ast.expr | None) -> bool:
    """``f"{__name__}.{mod}"``, ``__package__ + "." + mod``: a module of the caller's own
    package (plugin registries), which only the package's own files can provide."""
    first: ast.expr | None = name
    while isinstance(first, ast.BinOp) and isinstance(first.op, ast.Add):
        first = first.left
    if isinstance(first, ast.JoinedStr) and first.values:
        first = first.values[0]
        if isinstance(first, ast.FormattedValue):
            first = first.value
    return isinstance(first, ast.Name) and first.id in ("__name__", "__package__")


def _run_right_away(ctx: PyContext, call: ast.Call) -> bool:
    """``exec(compile(src, ...))``: the enclosing eval/exec call is the one reported."""
    parent = ctx.parent(call)
    return (
        isinstance(parent, ast.Call)
        and call in parent.args
        and isinstance(parent.func, (ast.Name, ast.Attribute))
        and (parent.func.id if isinstance(parent.func, ast.Name) else parent.func.attr)
        in ("eval", "exec")
    )


# What reads a file: file objects and paths, and pkg_resources' metadata providers (the
# files of an installed distribution).
_READS = ("read", "read_text", "read_bytes", "get_metadata")
_TEXT_METHODS = ("replace", "decode", "strip", "rstrip", "lstrip", "expandtabs")
_STDIN = ("sys.stdin", "sys.stdin.buffer")


def _from_file(df: Flow, source: ast.expr, depth: int = 0,
               seen: frozenset[int] = frozenset()) -> bool:
    """Whether ``source`` is the contents of a file: ``f.read()``, ``path.read_text()``,
    ``compile(f.read(), ...)``, text methods of those, a module function that returns only
    those, or a name bound only to them (not
    ``sys.stdin.read()``); ``seen``: the bindings being followed (``t = t.replace(...)``)."""
    if depth > 10:
        return False
    if isinstance(source, ast.Call):
        func = source.func
        if isinstance(func, ast.Attribute) and func.attr in _READS:
            return df.qualified_name(func.value) not in _STDIN
        if isinstance(func, ast.Attribute) and func.attr in _TEXT_METHODS:
            # f.read().replace("\r\n", "\n")
            return _from_file(df, func.value, depth + 1, seen)
        if isinstance(func, ast.Name) and func.id == "compile" and source.args:
            return _from_file(df, source.args[0], depth + 1, seen)
        if isinstance(func, ast.Name):  # a module function that returns a file's text
            fn = _module_function(df, func.id)
            if fn is None or id(fn) in seen:
                return False
            returns = [r.value for r in _returns(fn)]
            return bool(returns) and all(
                r is not None and _from_file(df, r, depth + 1, seen | {id(fn)}) for r in returns
            )
        return False
    if isinstance(source, ast.Name):
        bound = df.bindings(source) or []
        return bool(bound) and all(
            b is not None and (id(b) in seen or _from_file(df, b, depth + 1, seen | {id(b)}))
            for b in bound
        )
    return False


def _module_function(df: Flow, name: str) -> ast.FunctionDef | None:
    """The module-level ``def name`` of this file (None: none, or bound otherwise too)."""
    found = [n for n in df.ctx.tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    return found[0] if len(found) == 1 else None


def _returns(fn: ast.FunctionDef) -> list[ast.Return]:
    """The return statements of ``fn`` itself (not of functions nested in it)."""
    out: list[ast.Return] = []
    todo: list[ast.AST] = list(fn.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Return):
            out.append(node)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                   ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))
    return out


def _code_object(df: Flow, source: ast.expr, depth: int = 0,
                 seen: frozenset[int] = frozenset()) -> bool:
    """Whether ``source`` is a code object: bound to ``compile(...)``, ``CodeType(...)`` or
    ``c.replace(...)`` of one, or a parameter annotated ``CodeType``."""
    if depth > 10:
        return False
    if isinstance(source, ast.Call):
        func = source.func
        if isinstance(func, ast.Name) and func.id == "compile":
            return depth > 0  # exec(compile(...)) itself is the one finding, on exec
        if df.qualified_name(func).rsplit(".", 1)[-1] == "CodeType":
            return depth > 0
        return (isinstance(func, ast.Attribute) and func.attr == "replace"
                and _code_object(df, func.value, depth + 1, seen))
    if not isinstance(source, ast.Name):
        return False
    bound = df.bindings(source) or []
    if not bound:
        return False
    for b in bound:
        if b is None:
            if not _annotated_code(df, source):
                return False
        elif id(b) not in seen and not _code_object(df, b, depth + 1, seen | {id(b)}):
            return False  # (a binding already being followed: ``code = code.replace()``)
    return True


def _annotated_code(df: Flow, name: ast.Name) -> bool:
    for scope in df.ctx.scopes(name):
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = scope.args
            for p in (*a.posonlyargs, *a.args, *a.kwonlyargs):
                if p.arg == name.id and p.annotation is not None:
                    ann = p.annotation
                    text = ann.attr if isinstance(ann, ast.Attribute) else (
                        ann.id if isinstance(ann, ast.Name) else "")
                    return text == "CodeType"
            return False
    return False
