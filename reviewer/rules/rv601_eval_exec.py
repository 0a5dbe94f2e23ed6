"""RV601: eval/exec on non-constant input."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PyContext
from reviewer.rules._dataflow import argument, calls, flow, keyword
from reviewer.rules._sinks import catalogue
from reviewer.rules.base import Invalid, Rule, Valid

# The catalogue's kinds this rule reads: code that runs, and modules imported by name.
KINDS = frozenset({"code", "import"})


class EvalExec(Rule):
    """eval() or exec() runs a string that is not a constant.

    Whatever reaches ``eval``/``exec`` runs as Python code with the caller's privileges, so a
    value that any user, file, request or environment variable can influence is a code
    injection (CWE-95). A string literal, or a name bound only to constants in its scope, is
    not an injection and is not reported (set ``strict = true`` to report every call, as
    pylint's eval-used and bandit's B307/B102 do). To read data, use ``ast.literal_eval``,
    ``json`` or a parser; to choose behaviour by name, use a dict of functions.

    The calls come from the sink catalogue (``reviewer/rules/sinks.toml``, kinds ``code``
    and ``import``; add your own with ``[[tool.reviewer.extra-sinks]]``): ``eval``,
    ``exec``, ``compile`` (medium), ``code.InteractiveInterpreter``'s ``runsource`` and
    ``runcode``, and, at info severity (which does not fail ``check`` by default; most such
    imports are a framework loading configured plugins), ``importlib.import_module``/
    ``__import__`` of a module name that is not a constant (importing runs the module's
    code; choose the name from an allow-list); a name built on ``__name__`` or
    ``__package__`` (a package loading its own modules) and, in test files, ``compile`` and
    imports are not reported; ``exec(compile(src, ...))`` is one finding, on ``exec``. A
    builtin's name rebound in the file (``def eval(...)``) is not the builtin.
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
    options = {"strict": False, "extra_sinks": ()}
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
    ]
    INVALID = [
        Invalid("def calc(expr):\n    return eval(expr)\n", line=2),
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
                line=2),
        Invalid("import importlib\n\ndef load(name):\n    return importlib.import_module(name)\n",
                line=4),
        Invalid("def load(name):\n    return __import__('plugins.' + name)\n", line=2),
        Invalid(
            "import code\n\ndef f(line):\n    code.InteractiveInterpreter().runsource(line)\n",
            line=4,
        ),
    ]

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
            if sink.last_name == "compile" and (ctx.is_test or _run_right_away(ctx, call)):
                continue
            constant = source is not None and df.is_constant(source)
            if constant and (not self.settings["strict"] or sink.kind == "import"):
                continue
            what = "a constant string" if constant else "a string that is not a constant"
            name = sink.last_name if method is None else method
            fix = sink.fix or "use ast.literal_eval, json or a dict of functions instead"
            if sink.kind == "import":
                text = f"{name}() of a module name that is not a constant runs that module; {fix}."
            else:
                text = f"{name}() of {what} runs whatever code reaches it; {fix}."
            yield ctx.report(
                self, call, text, severity=Severity.LOW if constant else sink.severity,
            )


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
