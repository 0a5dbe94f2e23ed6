"""RV501: ``print()`` in library code."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PyContext, dotted_name
from reviewer.rules.base import Invalid, Rule, Valid

_STD_STREAMS = frozenset({"sys.stdout", "sys.stderr", "stdout", "stderr", "None"})
# Decorators that make a function a command-line command (click, typer, argh...).
_CLI_DECORATOR_ENDINGS = ("command", "group", "callback")
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _printer(call: ast.Call, pprint_names: frozenset[str]) -> str:
    """'print' or 'pprint' when the call prints to the terminal, else ''."""
    name = dotted_name(call.func)
    if name in ("print", "builtins.print"):
        return "print"
    if name == "pprint.pprint" or name in pprint_names:
        return "pprint"
    return ""


def _to_own_stream(call: ast.Call) -> bool:
    """``print(..., file=stream)`` with a stream other than stdout/stderr: plain I/O."""
    for kw in call.keywords:
        if kw.arg in ("file", "stream"):
            return ast.unparse(kw.value) not in _STD_STREAMS
    return False


def _pprint_names(ctx: PyContext) -> frozenset[str]:
    """Local names of ``pprint.pprint`` (``from pprint import pprint as pp``)."""
    return frozenset(
        a.asname or a.name
        for node in ctx.nodes(ast.ImportFrom)
        if isinstance(node, ast.ImportFrom) and node.module == "pprint"
        for a in node.names
        if a.name == "pprint"
    )


def _binds_print(ctx: PyContext) -> bool:
    """The module defines, imports or assigns its own ``print``."""
    for node in ctx.nodes(ast.Import, ast.ImportFrom):
        if any((a.asname or a.name) == "print" for a in node.names):  # type: ignore[attr-defined]
            return True
    if any(fn.name == "print" for fn in ctx.functions()):
        return True
    return any(
        isinstance(n, ast.Name) and n.id == "print" and isinstance(n.ctx, ast.Store)
        for n in ctx.nodes(ast.Name)
    )


def _is_cli_command(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for deco in fn.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        name = dotted_name(target)
        if name and name.rsplit(".", 1)[-1] in _CLI_DECORATOR_ENDINGS:
            return True
    return False


class PrintInLibrary(Rule):
    """``print()`` in library code, where logging is expected.

    Library code runs inside someone else's program: a ``print`` writes to a stdout the
    library does not own (a web server's, a GUI's, a pipe that expects JSON), cannot be
    silenced or redirected, and carries no level, logger name or timestamp. Use
    ``logging.getLogger(__name__)``; return data and let the caller show it.

    Not flagged: scripts (a ``#!`` line, ``__main__.py``, a module with an
    ``if __name__ == "__main__":`` guard), test files, files whose top-level folder is
    one of ``non_library_dirs`` (``scripts/``, ``examples/``, ``docs/``...), functions named in
    ``allowed_functions`` (``main``, the conventional console-script entry point, whose
    output is the program's interface) and everything nested in them, command-line
    commands (functions decorated with ``*.command``/``*.group``/``*.callback``, as in
    click and typer; ``allow_cli_commands``), and ``print(..., file=stream)`` to a stream
    other than stdout/stderr, which is ordinary file output. ``pprint.pprint`` counts as
    printing.
    """

    id = "RV501"
    slug = "print-in-library"
    principle = "log-dont-print"
    severity = Severity.LOW
    message = "print() in library code: use logging, or return the data to the caller."
    counterparts = {"ruff": "T201", "pylint": "bad-builtin"}
    options = {
        "allowed_functions": ("main",),
        "allow_cli_commands": True,
        "non_library_dirs": ("scripts", "bin", "examples", "docs", "tools", "bench", "benchmarks"),
    }
    tags = ("maintainability", "logging")
    VALID = [
        "import logging\nlog = logging.getLogger(__name__)\ndef run():\n    log.info('done')\n",
        # Scripts and entry points own their output.
        "def run():\n    print('done')\nif __name__ == '__main__':\n    run()\n",
        "#!/usr/bin/env python3\nprint('hello')\n",
        Valid("print('usage: python -m pkg')\n", path="pkg/__main__.py"),
        Valid("def test_x():\n    print('debug')\n", path="tests/test_x.py"),
        Valid("print('step 1')\n", path="examples/quickstart.py"),
        "def main(argv=None):\n    def show(x):\n        print(x)\n    show(argv)\n    return 0\n",
        "import click\n@click.command()\ndef cli():\n    print('ok')\n",
        "import typer\napp = typer.Typer()\n@app.command()\ndef hello(name: str):\n"
        "    print(name)\n",
        # Writing to a stream the caller passed in is plain file output.
        "def dump(rows, out):\n    for r in rows:\n        print(*r, sep=',', file=out)\n",
        # The module's own print function is not the builtin.
        "from .console import print\ndef f():\n    print('x')\n",
        Valid(
            "def cli_entry():\n    print('x')\n",
            options={"allowed_functions": ("main", "cli_entry")},
        ),
    ]
    INVALID = [
        Invalid("def load(path):\n    print('loading', path)\n    return open(path)\n", line=2),
        Invalid("import sys\ndef warn(msg):\n    print(msg, file=sys.stderr)\n", line=3),
        Invalid("class Cache:\n    async def get(self, k):\n        print(k)\n", line=3),
        Invalid("print('imported')\n", line=1),
        # Only the top-level folder decides: a package's own ``tools`` module is library code.
        Invalid("print('x')\n", line=1, path="pkg/tools/run.py"),
        Invalid("from pprint import pprint\ndef show(d):\n    pprint(d)\n", line=3),
        Invalid("import pprint\ndef show(d):\n    pprint.pprint(d)\n", line=3),
        Invalid("f = lambda x: print(x)\n", line=1),
        Invalid(
            "import click\n@click.command()\ndef cli():\n    print('ok')\n",
            line=4,
            options={"allow_cli_commands": False},
        ),
    ]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        if ctx.is_test or ctx.is_script or self._outside_library(ctx.path):
            return
        pprints = _pprint_names(ctx)
        found = [
            (call, kind)
            for call in ctx.nodes(ast.Call)
            if isinstance(call, ast.Call) and (kind := _printer(call, pprints))
        ]
        if not found:
            return
        own_print = _binds_print(ctx)
        allowed: tuple[str, ...] = self.settings["allowed_functions"]
        cli = self.settings["allow_cli_commands"]
        for call, kind in found:
            if (kind == "print" and own_print) or _to_own_stream(call):
                continue
            if any(
                isinstance(a, _FUNCTIONS) and (a.name in allowed or (cli and _is_cli_command(a)))
                for a in ctx.ancestors(call)
            ):
                continue
            yield ctx.report(
                self,
                call,
                f"{kind}() in library code writes to a stdout the library does not own:"
                " use logging, or return the data to the caller.",
            )

    def _outside_library(self, path: str) -> bool:
        first = path.replace("\\", "/").removeprefix("./").split("/", 1)
        return len(first) == 2 and first[0] in self.settings["non_library_dirs"]
