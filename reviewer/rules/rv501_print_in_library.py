"""RV501: ``print()`` in library code."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from typing import Any

from reviewer.findings import Finding, Fix, Severity, TextEdit
from reviewer.languages.python import PyContext, dotted_name
from reviewer.rules import _cst
from reviewer.rules._functions import first_paragraph
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


_ASKED = "output the user asked for"  # in the message of the findings with no local fix
_DELIBERATE = (
    f"print() in library code writes {_ASKED} to a stdout the library does not own: take the"
    " stream from the caller (a command's self.stdout) or return the data."
)
# A docstring that says the function's job is output: "print the elapsed time", "displaying
# the fields".
_OUTPUT_WORDS = re.compile(
    r"\b(print(s|ed|ing)?|display(s|ed|ing)?|show(s|n|ing)?|output(s)?|debug(ging)?)\b",
    re.IGNORECASE,
)


def deliberate_output(ctx: PyContext, call: ast.Call) -> bool:
    """The print is output someone asked for, which logging at ``info`` would hide: it is
    under a test of a ``verbosity``/``verbose`` setting, or in a function whose docstring
    says it prints, displays or shows (a debugging helper, an inspection utility)."""
    for a in ctx.ancestors(call):
        if isinstance(a, ast.If) and any(
                "verbos" in (n.id if isinstance(n, ast.Name) else n.attr).lower()
                for n in ast.walk(a.test) if isinstance(n, ast.Name | ast.Attribute)):
            return True
        if isinstance(a, _FUNCTIONS):
            return bool(_OUTPUT_WORDS.search(first_paragraph(ast.get_docstring(a) or "")))
    return False


class _Fixes:
    """The logger fix of each reported print: one fix per function covers all its prints
    (a grouped finding stands for all of them), plus the logger's setup, added once."""

    def __init__(self, ctx: PyContext, prints: list[ast.Call], reported: list[ast.Call]) -> None:
        self.ctx = ctx
        self.prints = set(prints)
        self.by_owner: dict[ast.AST | None, list[ast.Call]] = {}
        for call in reported:
            self.by_owner.setdefault(ctx.enclosing_function(call), []).append(call)
        self.done: dict[ast.AST | None, Fix | None] = {}
        self._setup: tuple[str, list[TextEdit]] | None = None

    def of(self, call: ast.Call) -> Fix | None:
        owner = self.ctx.enclosing_function(call)
        if owner not in self.done:
            self.done[owner] = self._build(self.by_owner.get(owner, []))
        return self.done[owner]

    def setup(self) -> tuple[str, list[TextEdit]]:
        """(logger name, the edits that create it: none when it exists); ("", []) when no
        logger can be added."""
        if self._setup is None:
            self._setup = _cst.logger_setup(self.ctx)
        return self._setup

    def _build(self, calls: list[ast.Call]) -> Fix | None:
        if not calls or any(c not in self.prints for c in calls) \
                or not _cst.available(self.ctx):
            return None
        name, setup = self.setup()
        if not name:
            return None
        stmts = [_cst.statement_of(self.ctx, c) for c in calls]
        if any(s is None for s in stmts) or len({id(s) for s in stmts}) != len(stmts):
            return None
        if setup and any(s is not None and s.lineno < setup[0].line for s in stmts):
            return None  # a module-level print before the logger would exist
        edits: list[TextEdit | None] = list(setup)
        for call, stmt in zip(calls, stmts, strict=True):
            target = _cst.source_of(self.ctx, call)
            if stmt is None or target is None:
                return None
            edits.append(_cst.rewrite(self.ctx, *_cst.lines_of(stmt),
                                      _cst.replace_node(target, _to_logger(name))))
        return _cst.make_fix(f"Log with {name} instead of printing", *edits, safe=False)


def _to_logger(logger: str) -> Callable[[Any], Any]:
    """``print('n', n, file=sys.stderr)`` -> ``logger.warning('n %s', n)`` (None when the
    call has arguments a log call cannot say: ``*rows``, ``sep=`` from a variable)."""
    import libcst as cst

    def build(node: cst.Call) -> cst.BaseExpression | None:
        level, sep = "info", " "
        values: list[str] = []
        parts: list[str] = []
        empty = cst.Module(body=[])
        for arg in node.args:
            if arg.keyword is not None:
                key, code = arg.keyword.value, empty.code_for_node(arg.value)
                if key == "file" and code in ("sys.stderr", "sys.__stderr__"):
                    level = "warning"
                elif key == "sep" and isinstance(arg.value, cst.SimpleString):
                    sep = str(arg.value.evaluated_value)
                elif key not in ("file", "flush", "end"):
                    return None
                continue
            if arg.star:
                return None
            value = arg.value
            if isinstance(value, cst.SimpleString) and "b" not in value.prefix.lower():
                parts.append(str(value.evaluated_value).replace("%", "%%"))
            else:
                parts.append("%s")
                values.append(empty.code_for_node(value))
        if not parts:
            return None
        code = f"{logger}.{level}({', '.join([repr(sep.join(parts)), *values])})"
        return cst.parse_expression(code)

    return build


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


def _own_scope(ctx: PyContext, node: ast.AST) -> ast.AST | None:
    """The nearest definition (function, class or lambda) whose own code ``node`` is."""
    for a in ctx.ancestors(node):
        if isinstance(a, (*_FUNCTIONS, ast.ClassDef, ast.Lambda)):
            return a
    return None


def _callee(func: ast.expr) -> str | None:
    """The name a call ``f()``, ``self.f()`` or ``cls.f()`` calls."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and (
        func.value.id in ("self", "cls")
    ):
        return func.attr
    return None


def program_functions(
    ctx: PyContext, allowed: tuple[str, ...], cli: bool
) -> set[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The functions that are the program's interface: the entry points (``allowed``,
    click/typer commands) and every function of the module they call, directly or not
    (``main`` -> ``_print_help``), and the functions that call ``input()`` or
    ``sys.exit()`` themselves (which talk to a terminal user: library code never does).

    One pass over the module's calls (nested definitions are their own functions)."""
    fns = ctx.functions()
    by_name: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    for fn in fns:
        by_name.setdefault(fn.name, []).append(fn)
    callees: dict[ast.AST, set[str]] = {}
    # A function that prompts the user is exempt itself; what it calls is not: a prompt
    # inside a database helper does not make the helper's other callees a program.
    seen: set[ast.FunctionDef | ast.AsyncFunctionDef] = set()
    for call in ctx.nodes(ast.Call):
        owner = _own_scope(ctx, call)
        if not isinstance(call, ast.Call) or not isinstance(owner, _FUNCTIONS):
            continue
        if dotted_name(call.func) in _PROGRAM_CALLS:
            seen.add(owner)
        if (name := _callee(call.func)) is not None:
            callees.setdefault(owner, set()).add(name)
    todo = [fn for fn in fns if fn.name in allowed or (cli and _is_cli_command(fn))]
    while todo:
        fn = todo.pop()
        if fn in seen:
            continue
        seen.add(fn)
        for name in callees.get(fn, ()):
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

    Fix (unsafe: the output moves from stdout to the logging configuration): the prints
    of a function become calls of the module's logger (``logger.info('%s rows', n)``,
    ``warning`` for ``file=sys.stderr``); ``import logging`` and ``logger =
    logging.getLogger(__name__)`` are added once, after the imports, unless the module
    has a logger already. No fix, and a message that says so, for output the user asked
    for, which logging at ``info`` would hide: a print under a test of a ``verbosity`` or
    ``verbose`` setting (django's post-migrate hooks), or in a function whose docstring
    says it prints, displays or shows. Such output needs the stream from the caller.
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
    fixable = True
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
        Invalid("def load(path):\n    print('loading', path)\n    return open(path)\n", line=2,
                fixed="import logging\nlogger = logging.getLogger(__name__)\ndef load(path):\n"
                "    logger.info('loading %s', path)\n    return open(path)\n"),
        Invalid("import sys\ndef warn(msg):\n    print(msg, file=sys.stderr)  # user\n", line=3,
                fixed="import sys\nimport logging\nlogger = logging.getLogger(__name__)\n"
                "def warn(msg):\n    logger.warning('%s', msg)  # user\n"),
        Invalid("import logging\nlog = logging.getLogger(__name__)\ndef show(rows):\n"
                "    print('rows:')\n    for r in rows:\n        print(r, '100%')\n", line=4,
                fixed="import logging\nlog = logging.getLogger(__name__)\ndef show(rows):\n"
                "    log.info('rows:')\n    for r in rows:\n        log.info('%s 100%%', r)\n"),
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
        # Output someone asked for (verbosity, a function that says it prints) is still
        # reported, with no fix: logging at info would hide it.
        Invalid("def timer(subject):\n    \"\"\"Print the elapsed time.\"\"\"\n"
                "    print(subject, 'elapsed')\n", line=3),
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

    @classmethod
    def has_local_fix(cls, finding: Finding) -> bool:
        """Output the user asked for (``deliberate_output``) has none: logging would hide
        it; the stream has to come from the caller."""
        return _ASKED not in finding.message

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
        reported = [
            (call, kind) for call, kind in found
            if not ((kind == "print" and own_print) or _to_own_stream(call))
            and not any(a in program for a in ctx.ancestors(call) if isinstance(a, _FUNCTIONS))
        ]
        asked = {call for call, _ in reported if deliberate_output(ctx, call)}
        fixes = _Fixes(ctx, [c for c, k in reported if k == "print" and c not in asked],
                       [c for c, _ in reported])
        for call, kind in reported:
            finding = ctx.report(
                self,
                call,
                _DELIBERATE.replace("print()", f"{kind}()") if call in asked else
                f"{kind}() in library code writes to a stdout the library does not own:"
                " use logging, or return the data to the caller.",
                fix=None if call in asked else fixes.of(call),
            )
            if group:  # one finding per function (grouped after suppressions)
                owner = ctx.enclosing_function(call)
                finding = finding.with_(group=f"{owner.lineno}" if owner else "module")
            yield finding

    def _outside_library(self, path: str) -> bool:
        first = path.replace("\\", "/").removeprefix("./").split("/", 1)
        return len(first) == 2 and first[0] in self.settings["non_library_dirs"]
