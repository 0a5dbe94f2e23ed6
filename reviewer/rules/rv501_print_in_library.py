"""RV501: ``print()`` in library code."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PyContext, dotted_name
from reviewer.rules._project import entry_points
from reviewer.rules.base import Invalid, Rule, Valid

_STD_STREAMS = frozenset({"sys.stdout", "sys.stderr", "stdout", "stderr", "None"})
# Decorators that make a function a command-line command (click, typer, argh...).
_CLI_DECORATOR_ENDINGS = ("command", "group", "callback")
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
# Calls only a program makes: asking the terminal user, ending the process.
_PROGRAM_CALLS = frozenset({"input", "sys.exit", "exit", "quit", "os._exit"})


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


def _cli_module(path: str, names: tuple[str, ...]) -> bool:
    """The module is command-line code by its name (``cli.py``, ``pkg/cli/run.py``,
    ``pkg/commands/install.py``...)."""
    parts = path.replace("\\", "/").removeprefix("./").split("/")
    stem = parts[-1].rsplit(".", 1)[0]
    return stem in names or any(p in names for p in parts[:-1])


def _interactive(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """The function talks to a terminal user itself: it calls ``input()`` or ends the
    program (``sys.exit()``), which library code never does."""
    for node in _own_nodes(fn):
        if isinstance(node, ast.Call) and dotted_name(node.func) in _PROGRAM_CALLS:
            return True
    return False


def _own_nodes(fn: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's body, nested definitions left out."""
    stack = list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        if isinstance(node, (*_FUNCTIONS, ast.ClassDef, ast.Lambda)):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _callees(fn: ast.AST) -> Iterator[str]:
    """Names the function calls as ``f()``, ``self.f()`` or ``cls.f()``."""
    for node in _own_nodes(fn):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name):
            yield func.id
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and (
            func.value.id in ("self", "cls")
        ):
            yield func.attr


def program_functions(
    ctx: PyContext, allowed: tuple[str, ...], cli: bool
) -> set[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The functions that are the program's interface: the entry points (``allowed``,
    click/typer commands) and every function of the module they call, directly or not
    (``main`` -> ``_print_help``), and the functions that call ``input()`` or
    ``sys.exit()`` themselves."""
    fns = ctx.functions()
    by_name: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    for fn in fns:
        by_name.setdefault(fn.name, []).append(fn)
    todo = [fn for fn in fns if fn.name in allowed or (cli and _is_cli_command(fn))]
    # A function that prompts the user is exempt itself; what it calls is not: a prompt
    # inside a database helper does not make the helper's other callees a program.
    seen = {fn for fn in fns if _interactive(fn)}
    while todo:
        fn = todo.pop()
        if fn in seen:
            continue
        seen.add(fn)
        for name in _callees(fn):
            todo.extend(by_name.get(name, ()))
    return seen


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
    output is the program's interface) and everything nested in them, the functions that
    the repository's ``pyproject.toml`` declares as console or GUI scripts
    (``[project.scripts]``, ``[project.gui-scripts]``, ``[tool.poetry.scripts]``:
    ``tool = "pkg.run:start"`` makes ``start`` in ``pkg/run.py`` or ``src/pkg/run.py`` an
    entry point; ``console_scripts``), command-line
    commands (functions decorated with ``*.command``/``*.group``/``*.callback``, as in
    click and typer; ``allow_cli_commands``), functions that talk to the terminal user
    themselves (they call ``input()`` or ``sys.exit()``, which library code never does),
    every function of the module that ``main`` and the commands call, directly or
    through others (``main`` -> ``main_inner`` -> ``_print_help``, ``self._show()``),
    command-line modules by name (``cli_modules``: a ``cli.py``/``cmdline.py`` module or
    one inside a ``cli/``, ``cmdline/`` or ``commands/`` package), ``print(...,
    file=sys.stderr)`` included, and ``print(..., file=stream)`` to a stream other than
    stdout/stderr, which is ordinary file output. ``pprint.pprint`` counts as printing.

    The prints of one function are one finding (at the first, the others as its related
    locations: one comment in a pull request, SARIF ``relatedLocations``), unless
    ``group_per_function`` is off.
    """

    id = "RV501"
    slug = "print-in-library"
    principle = "log-dont-print"
    severity = Severity.LOW
    message = "print() in library code: use logging, or return the data to the caller."
    counterparts = {"ruff": "T201", "pylint": "bad-builtin", "eslint": "no-console"}
    options = {
        "allowed_functions": ("main",),
        "console_scripts": True,
        "allow_cli_commands": True,
        "non_library_dirs": ("scripts", "bin", "examples", "docs", "tools", "bench", "benchmarks"),
        "cli_modules": ("cli", "cmdline", "commands"),
        "group_per_function": True,
        "allowed_console_methods": (),
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
        # Helpers that main() calls, directly or through others, are the program's output.
        "import sys\ndef _print_help():\n    print('usage: tool [-v]', file=sys.stderr)\n"
        "def main_inner(argv):\n    if not argv:\n        _print_help()\n        return 2\n"
        "    return 0\ndef main():\n    return main_inner(sys.argv[1:])\n",
        "class Tool:\n    def _show(self, names):\n        for n in names:\n"
        "            print(n)\n    def main(self):\n        self._show(['a'])\n",
        # A function that asks the user or ends the program talks to the terminal itself.
        "def ask(message, options):\n    while True:\n        answer = input(message)\n"
        "        if answer in options:\n            return answer\n"
        "        print('expected one of', options)\n",
        "import sys\ndef autocomplete(words):\n    print(' '.join(words))\n    sys.exit(1)\n",
        # Command-line modules by name.
        Valid("import sys\ndef fail(msg):\n    print(msg, file=sys.stderr)\n", path="pkg/cli.py"),
        Valid("def run(options):\n    print('done')\n", path="pkg/commands/install.py"),
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
        # A function nothing of the program's reaches stays library code.
        Invalid(
            "def create_permissions(verbosity):\n    if verbosity >= 2:\n"
            "        print('Adding permission')\ndef main():\n    return 0\n",
            line=3,
        ),
        # What a prompting function calls is not the program's output.
        Invalid(
            "def run(stmts):\n    for s in stmts:\n        print(s)\n"
            "def create(stmts):\n    if input('again? ') != 'yes':\n        sys.exit(1)\n"
            "    run(stmts)\n",
            line=3,
        ),
        # Several prints in one function: one finding, at the first.
        Invalid("def show(rows):\n    print('rows:')\n    for r in rows:\n        print(r)\n",
                line=2),
        Invalid("def show(rows):\n    print('rows:')\n    for r in rows:\n        print(r)\n",
                line=4, options={"group_per_function": False}),
        # ``client`` and ``clinic`` are not ``cli``.
        Invalid("print('x')\n", line=1, path="pkg/client.py"),
    ]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        if ctx.is_test or ctx.is_script or self._outside_library(ctx.path):
            return
        if _cli_module(ctx.path, self.settings["cli_modules"]):
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
        allowed = tuple(self.settings["allowed_functions"])
        if self.settings["console_scripts"]:
            allowed += tuple(sorted(entry_points(ctx)))
        program = program_functions(ctx, allowed, self.settings["allow_cli_commands"])
        group = self.settings["group_per_function"]
        for call, kind in found:
            if (kind == "print" and own_print) or _to_own_stream(call):
                continue
            if any(a in program for a in ctx.ancestors(call) if isinstance(a, _FUNCTIONS)):
                continue
            finding = ctx.report(
                self,
                call,
                f"{kind}() in library code writes to a stdout the library does not own:"
                " use logging, or return the data to the caller.",
            )
            if group:  # one finding per function (grouped after suppressions)
                owner = ctx.enclosing_function(call)
                finding = finding.with_(group=f"{owner.lineno}" if owner else "module")
            yield finding

    def _outside_library(self, path: str) -> bool:
        first = path.replace("\\", "/").removeprefix("./").split("/", 1)
        return len(first) == 2 and first[0] in self.settings["non_library_dirs"]
