"""RV601: eval/exec on non-constant input."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PyContext
from reviewer.rules._dataflow import argument, calls, flow
from reviewer.rules.base import Invalid, Rule

SINKS = {
    "eval": "eval", "exec": "exec", "builtins.eval": "eval", "builtins.exec": "exec",
    "__builtins__.eval": "eval", "__builtins__.exec": "exec",
}


class EvalExec(Rule):
    """eval() or exec() runs a string that is not a constant.

    Whatever reaches ``eval``/``exec`` runs as Python code with the caller's privileges, so a
    value that any user, file, request or environment variable can influence is a code
    injection (CWE-95). A string literal, or a name bound only to constants in its scope, is
    not an injection and is not reported (set ``strict = true`` to report every call, as
    pylint's eval-used and bandit's B307/B102 do). To read data, use ``ast.literal_eval``,
    ``json`` or a parser; to choose behaviour by name, use a dict of functions.
    """

    id = "RV601"
    slug = "eval-exec"
    principle = "validate-input"
    severity = Severity.HIGH
    message = "eval()/exec() of a non-constant string runs whatever code reaches it."
    counterparts = {
        "bandit": "B307, B102", "ruff": "S307, S102", "pylint": "eval-used, exec-used",
    }
    options = {"strict": False}
    tags = ("security", "injection", "external/cwe/cwe-95")
    security_severity = 9.3
    VALID = [
        "value = eval('1 + 1')\n",
        "EXPR = 'os.getcwd()'\nprint(eval(EXPR))\n",
        "def run():\n    code = 'x = 1'\n    code += '\\ny = 2'\n    exec(code, {})\n",
        "class Calc:\n    def eval(self, text):\n        return text\n\nCalc().eval(input())\n",
        "def eval(text):\n    return text\n\neval(input())\n",
        "import ast\n\ndef parse(text):\n    return ast.literal_eval(text)\n",
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
    ]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        for call in calls(ctx):
            func = call.func
            if not isinstance(func, (ast.Name, ast.Attribute)):
                continue
            if (func.id if isinstance(func, ast.Name) else func.attr) not in ("eval", "exec"):
                continue
            df = flow(ctx)
            sink = SINKS.get(df.qualified_name(func))
            if sink is None or (isinstance(func, ast.Name) and not df.is_builtin(func)):
                continue
            source = argument(call, 0, "source")
            if source is None and not call.args:
                continue
            constant = source is not None and df.is_constant(source)
            if constant and not self.settings["strict"]:
                continue
            what = "a constant string" if constant else "a string that is not a constant"
            yield ctx.report(
                self,
                call,
                f"{sink}() of {what} runs whatever code reaches it;"
                " use ast.literal_eval, json or a dict of functions instead.",
                severity=Severity.LOW if constant else None,
            )
