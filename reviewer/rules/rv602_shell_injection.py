"""RV602: a shell runs a command line built from non-constant input."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PyContext
from reviewer.rules._dataflow import Flow, argument, calls, flow, keyword
from reviewer.rules.base import Invalid, Rule

# Always run their command through a shell: qualified name -> (position, keyword) of it.
SHELL_CALLS: dict[str, tuple[int, str]] = {
    **{f"os.{n}": (0, "cmd") for n in ("system", "popen", "popen2", "popen3", "popen4")},
    **{f"popen2.{n}": (0, "cmd") for n in ("popen2", "popen3", "popen4", "Popen3", "Popen4")},
    **{f"commands.{n}": (0, "cmd") for n in ("getoutput", "getstatusoutput")},
    **{f"subprocess.{n}": (0, "cmd") for n in ("getoutput", "getstatusoutput")},
    "asyncio.create_subprocess_shell": (0, "cmd"),
    "platform.popen": (0, "cmd"),
}
# Run a shell only with shell=<true>.
SUBPROCESS_CALLS = frozenset(
    f"subprocess.{n}" for n in ("Popen", "call", "check_call", "check_output", "run")
)
_LAST_NAMES = frozenset(
    n.rsplit(".", 1)[-1] for n in (*SHELL_CALLS, *SUBPROCESS_CALLS, "subprocess_shell")
)
# Programs that read options from their file arguments: a glob can inject them.
WILDCARD_PROGRAMS = frozenset(
    {"tar", "chown", "chmod", "chgrp", "rsync", "zip", "scp", "rm", "cp", "mv"}
)
# Quoting makes a value safe to splice into a command line.
SANITIZERS = frozenset({"shlex.quote", "pipes.quote", "shlex.join", "pipes.join"})


class ShellInjection(Rule):
    """A shell runs a command line built from input that is not a constant.

    ``os.system``, ``os.popen``, ``subprocess.*(..., shell=True)`` and friends hand the whole
    command line to ``/bin/sh``: if any part of it comes from a variable, a file name or a
    request, characters like ``;``, ``|``, ``$()`` or a space in it become shell syntax and
    run other commands (CWE-78). Pass an argument list to ``subprocess.run`` without a shell;
    quote with ``shlex.quote`` only as a last resort (quoted values are accepted).

    A constant command is not an injection and is not reported (bandit reports those at
    low severity; ``strict = true`` reports them too), unless it hands a ``*`` glob to a
    program that takes options from its file arguments (``tar``, ``chown``, ``chmod``,
    ``rsync``...): a file named ``--checkpoint-action=exec=sh x.sh`` becomes an option.

    The command is traced through the names it is built from in the same scope:
    ``cmd = "ls " + path`` is reported where ``cmd`` reaches the shell, ``cmd = "ls -l"``
    is not.
    """

    id = "RV602"
    slug = "shell-injection"
    principle = "least-privilege"
    severity = Severity.HIGH
    message = "A shell runs a command line built from non-constant input."
    counterparts = {"bandit": "B602, B604, B605", "ruff": "S602, S604, S605"}
    options = {"strict": False}
    tags = ("security", "injection", "external/cwe/cwe-78")
    security_severity = 9.8
    VALID = [
        "import subprocess\n\ndef ls(path):\n    return subprocess.run(['ls', '-l', path])\n",
        "import os\n\nos.system('/bin/echo hi')\n",
        "import subprocess\n\nCMD = 'git status'\nsubprocess.check_output(CMD, shell=True)\n",
        "import subprocess\n\ndef f(cmd):\n    subprocess.call(cmd, shell=False)\n",
        "import subprocess\n\ndef f(cmd):\n    subprocess.Popen(cmd)\n",
        "import os, shlex\n\ndef f(path):\n    os.system('ls ' + shlex.quote(path))\n",
        "import subprocess\n\nfor tool in ('ls', 'pwd'):\n    subprocess.run(tool, shell=True)\n",
    ]
    INVALID = [
        Invalid("import os\n\ndef f(name):\n    os.system(f'rm {name}')\n", line=4),
        Invalid(
            "import subprocess\n\ndef f(path):\n    cmd = 'ls ' + path\n"
            "    return subprocess.check_output(cmd, shell=True)\n",
            line=5,
        ),
        Invalid("from os import popen as p\n\np(input())\n", line=3),
        Invalid(
            "import subprocess as sp\n\ncmd = 'pwd'\ncmd = cmd + get()\n"
            "sp.call(cmd, shell='False')\n",
            line=5,
        ),
        Invalid(
            "import asyncio\n\nasync def f(host):\n"
            "    await asyncio.create_subprocess_shell('ping ' + host)\n",
            line=4,
        ),
        Invalid("def f(cmd, runner):\n    runner.execute(cmd, shell=True)\n", line=2),
        Invalid("import os\n\nos.system('/bin/echo hi')\n", line=3, options={"strict": True}),
        Invalid("import os\n\nos.system('cd /backup && tar czf all.tgz *')\n", line=3),
    ]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        for call in calls(ctx):
            df = flow(ctx)
            if not df.may_call(call, _LAST_NAMES) and keyword(call, "shell") is None:
                continue
            found = self._command(df, call)
            if found is None:
                continue
            command, what, generic = found
            constant = command is not None and df.is_constant(command, SANITIZERS)
            glob = constant and command is not None and wildcard_program(command)
            if constant and not glob and not self.settings["strict"]:
                continue
            if glob:
                text = (
                    f"{what} runs {glob} with a * that the shell expands to file names:"
                    " a file named like an option (--checkpoint-action=...) is injected."
                )
                severity = Severity.MEDIUM
            elif constant:
                text = f"{what} runs a constant command through a shell; prefer an argument list."
                severity = Severity.LOW
            else:
                text = (
                    f"{what} runs a command line built from non-constant input through a shell;"
                    " pass an argument list without shell=True."
                )
                severity = Severity.MEDIUM if generic else Severity.HIGH
            yield ctx.report(self, call, text, severity=severity)

    @staticmethod
    def _command(df: Flow, call: ast.Call) -> tuple[ast.expr | None, str, bool] | None:
        """(the command, how the call is named, generic shell=True call) for a shell call."""
        name = df.qualified_name(call.func)
        short = name.rsplit(".", 1)[-1]
        if name in SHELL_CALLS:
            position, kw = SHELL_CALLS[name]
            return argument(call, position, kw), f"{name}()", False
        if short == "subprocess_shell" and isinstance(call.func, ast.Attribute):
            return argument(call, 1, "cmd"), "subprocess_shell()", False  # loop.subprocess_shell
        shell = keyword(call, "shell")
        if shell is None or df.truthiness(shell) is False:
            return None
        if name in SUBPROCESS_CALLS:
            return argument(call, 0, "args"), f"{name}(shell=True)", False
        command = argument(call, 0, "args") or keyword(call, "cmd") or keyword(call, "command")
        return command, f"{short or 'call'}(shell=True)", True


def wildcard_program(command: ast.expr) -> str | None:
    """The option-taking program a constant command runs with a ``*`` glob, if any."""
    texts = [n.value for n in ast.walk(command) if isinstance(n, ast.Constant)]
    words = " ".join(t for t in texts if isinstance(t, str)).replace(";", " ; ").split()
    if not any("*" in w for w in words):
        return None
    for word in words:
        program = word.rsplit("/", 1)[-1]
        if program in WILDCARD_PROGRAMS:
            return program
    return None
