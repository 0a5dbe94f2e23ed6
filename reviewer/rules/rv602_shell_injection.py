"""RV602: a shell runs a command line built from non-constant input."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PyContext
from reviewer.rules._dataflow import Flow, argument, calls, flow, keyword
from reviewer.rules._invoker import command_entry, from_invoker
from reviewer.rules.base import Invalid, Rule
from reviewer.sinks import Catalogue, Sink, catalogue

# Run a shell only with shell=<true>.
SUBPROCESS_CALLS = frozenset(
    f"subprocess.{n}" for n in ("Popen", "call", "check_call", "check_output", "run")
)
_LAST_NAMES = frozenset(n.rsplit(".", 1)[-1] for n in (*SUBPROCESS_CALLS, "subprocess_shell"))
# The catalogue's kinds this rule reads: calls that always use a shell, and calls that start
# a program without one (only the program itself can be injected there).
KINDS = frozenset({"shell", "process"})
# Values that name a program the process itself trusts.
TRUSTED_PROGRAMS = frozenset({"sys.executable"})
# Programs that read options from their file arguments: a glob can inject them.
WILDCARD_PROGRAMS = frozenset(
    {"tar", "chown", "chmod", "chgrp", "rsync", "zip", "scp", "rm", "cp", "mv"}
)
# Quoting makes a value safe to splice into a command line.
SANITIZERS = frozenset(
    {"shlex.quote", "pipes.quote", "shlex.join", "pipes.join", "int", "float"}
)


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

    The calls come from the sink catalogue (``reviewer/sinks.toml``, kinds ``shell``
    and ``process``; add your own with ``[[tool.reviewer.extra-sinks]]``): besides the
    standard library's shells, paramiko's ``exec_command`` and fabric/invoke ``run``,
    ``sudo`` and ``local`` (the remote side runs a shell). Calls that start a program
    without a shell (``os.exec*``, ``os.spawn*``, ``os.posix_spawn*``, ``pty.spawn``,
    ``asyncio.create_subprocess_exec``, ``loop.subprocess_exec``) are reported, at medium
    severity, only when the program itself is not a constant (``sys.executable`` counts
    as one): their arguments
    cannot become shell syntax, unless the program is a shell given ``-c`` and a
    non-constant command (``os.execv("/bin/sh", ["sh", "-c", cmd])``,
    ``subprocess.run(["bash", "-c", cmd])``, also with the shell or ``-c`` named by a
    constant, ``SHELL = "/bin/sh"`` then ``[SHELL, "-c", cmd]``), which is reported as a
    shell call. A script's
    ``if __name__ == "__main__":`` block (or another command-line entry point) starting
    the program its own command line names is not reported. Dynamic access with constant
    names is resolved: ``getattr(os, "system")``, ``__import__("os").system`` and a name
    bound to ``__import__("os")`` are ``os.system``.
    """

    id = "RV602"
    slug = "shell-injection"
    principle = "least-privilege"
    severity = Severity.HIGH
    message = "A shell runs a command line built from non-constant input."
    counterparts = {"bandit": "B602, B604, B605", "ruff": "S602, S604, S605",
                    "gosec": "G204"}
    options = {"strict": False, "extra_sinks": ()}
    tags = ("security", "injection", "external/cwe/cwe-78")
    security_severity = 9.8
    VALID = [
        # A shell keyword whose value is not known true, on a call that is not a process
        # start: a template naming a shell, not a shell being run.
        "def show(options, script):\n"
        "    print(TEMPLATE.format(script=script, shell=options.shell))\n",
        "import subprocess\n\ndef ls(path):\n    return subprocess.run(['ls', '-l', path])\n",
        "import os\n\nos.system('/bin/echo hi')\n",
        "import subprocess\n\nCMD = 'git status'\nsubprocess.check_output(CMD, shell=True)\n",
        "import subprocess\n\ndef f(cmd):\n    subprocess.call(cmd, shell=False)\n",
        "import subprocess\n\ndef f(cmd):\n    subprocess.Popen(cmd)\n",
        "import os, shlex\n\ndef f(path):\n    os.system('ls ' + shlex.quote(path))\n",
        "import subprocess\n\nfor tool in ('ls', 'pwd'):\n    subprocess.run(tool, shell=True)\n",
        "import os, sys\n\ndef restart():\n"
        "    os.execv(sys.executable, [sys.executable, *sys.argv])\n",
        "import os\n\ndef run(args):\n    os.spawnv(os.P_WAIT, '/usr/bin/git', ['git', *args])\n",
        "import pty\n\npty.spawn(['/bin/bash', '-l'])\n",
        "import asyncio\n\nasync def f(path):\n"
        "    await asyncio.create_subprocess_exec('ls', '-l', path)\n",
        "async def f(loop, factory, path):\n"
        "    await loop.subprocess_exec(factory, 'ls', '-l', path)\n",
        "import paramiko\n\nclient = paramiko.SSHClient()\nclient.exec_command('uptime')\n",
        "import shlex, subprocess\n\ndef f(p):\n"
        "    return subprocess.getoutput('ls ' + shlex.quote(p))\n",
        "from invoke import run\n\nrun('make test')\n",
        "import os\n\ndef stop(pid):\n    os.system('kill -TERM %s' % int(pid))\n",
        "from fabric import Connection\n\ndef f(host, path):\n    c = Connection(host)\n"
        "    c.run('ls ' + shlex.quote(path))\n",
        "def f(app, name):\n    app.run(name)\n",
        "def f(runner, cmd):\n    getattr(runner, 'system')(cmd)\n",
        "import pty, sys\n\nif sys.platform != 'win32' and __name__ == '__main__':\n"
        "    pty.spawn(sys.argv[1:])\n",
        "import subprocess\n\ndef f(path):\n"
        "    subprocess.run(['bash', '-c', 'ls \"$1\"', 'ls', path])\n",
        "import os\n\nCOMMANDS = {'disk': 'df -h', 'mem': 'free -m'}\n\n"
        "def report(choice):\n    os.system(COMMANDS[choice])\n",
        # A shell named by a constant runs a constant script; the path is its argument.
        "import subprocess\n\nSHELL = '/bin/sh'\n\ndef f(path):\n"
        "    subprocess.run([SHELL, '-c', 'ls \"$1\"', 'sh', path])\n",
        # A name bound to something else than one string is not known to be a shell.
        "import subprocess\n\ndef f(tool, flag, arg):\n    subprocess.run([tool, flag, arg])\n",
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
        Invalid(
            "import paramiko\n\ndef f(host, path):\n    client = paramiko.SSHClient()\n"
            "    client.connect(host)\n    client.exec_command('cat ' + path)\n",
            line=6,
        ),
        Invalid("from invoke import run\n\ndef deploy(tag):\n    run(f'git checkout {tag}')\n",
                line=4),
        Invalid("from fabric.api import sudo\n\ndef f(user):\n    sudo('adduser %s' % user)\n",
                line=4),
        Invalid("import subprocess\n\ndef f(p):\n    return subprocess.getoutput('ls ' + p)\n",
                line=4),
        Invalid(
            "from fabric import Connection\n\ndef f(host, path):\n"
            "    with Connection(host) as c:\n        c.run('ls ' + path)\n",
            line=5,
        ),
        Invalid(
            "import fabric\n\ndef f(host, tag):\n    conn = fabric.Connection(host)\n"
            "    conn.sudo(f'systemctl restart {tag}')\n",
            line=5,
        ),
        Invalid("import os\n\ndef f(prog, args):\n    os.execvp(prog, args)\n", line=4),
        # Dynamic access with constant names hides no sink.
        Invalid("import os\n\ndef f(cmd):\n    getattr(os, 'system')(cmd)\n", line=4),
        Invalid("def f(cmd):\n    __import__('os').system(cmd)\n", line=2),
        Invalid("m = __import__('os')\n\ndef f(cmd):\n    m.system(cmd)\n", line=4),
        Invalid("import os\n\ndef f(cmd):\n    os.execv('/bin/sh', ['sh', '-c', cmd])\n",
                line=4),
        Invalid("import subprocess\n\ndef f(cmd):\n    subprocess.run(['bash', '-c', cmd])\n",
                line=4),
        Invalid(
            "import subprocess\n\nSHELL = '/bin/sh'\n\ndef f(cmd):\n"
            "    subprocess.run([SHELL, '-c', cmd])\n",
            line=6,
        ),
        Invalid(
            "import asyncio\n\nasync def f(cmd):\n    program = 'bash'\n"
            "    await asyncio.create_subprocess_exec(program, '-c', cmd)\n",
            line=5,
        ),
        Invalid(
            "import asyncio\n\nasync def f(cmd):\n"
            "    await asyncio.subprocess.create_subprocess_shell(cmd)\n",
            line=4,
        ),
        Invalid("import os\n\ndef f(path):\n    os.spawnl(os.P_WAIT, path, path)\n", line=4),
        Invalid("import pty\n\ndef f(shell):\n    pty.spawn([shell])\n", line=4),
        Invalid(
            "import asyncio\n\nasync def f(tool):\n"
            "    await asyncio.create_subprocess_exec(tool)\n",
            line=4,
        ),
        # asyncio's loop.subprocess_exec(protocol_factory, program, *args).
        Invalid(
            "async def f(loop, factory, cmd):\n"
            "    await loop.subprocess_exec(factory, 'bash', '-c', cmd)\n",
            line=2,
        ),
        Invalid(
            "async def f(loop, factory, tool):\n    await loop.subprocess_exec(factory, tool)\n",
            line=2,
        ),
    ]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        sinks = catalogue(KINDS, tuple(self.settings["extra_sinks"]))
        last_names = _LAST_NAMES | sinks.last_names
        for call in calls(ctx):
            df = flow(ctx)
            if not df.may_call(call, last_names) and keyword(call, "shell") is None:
                continue
            sink = _sink(df, call, sinks)
            process = sink is not None and sink.kind == "process"
            script = shell_script(df, call, process) if sink is None or process else None
            if script is not None:
                yield ctx.report(
                    self, call,
                    f"{df.qualified_name(call.func) or 'call'}() runs a shell with -c and a"
                    " command line built from non-constant input; pass the program and its"
                    " arguments as a list, without a shell.",
                    severity=Severity.HIGH,
                )
                continue
            if sink is not None and sink.kind == "process":
                yield from self._process(ctx, df, call, sink)
                continue
            found = self._command(df, call, sink)
            if found is None:
                continue
            command, what, generic = found
            constant = command is not None and df.is_constant(command, SANITIZERS)
            glob = constant and command is not None and wildcard_program(command)
            if constant and not glob and not self.settings["strict"]:
                continue
            fix = sink.fix if sink is not None and sink.fix else (
                "pass an argument list without shell=True"
            )
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
                    f" {fix}."
                )
                severity = Severity.MEDIUM if generic else (
                    sink.severity if sink is not None and sink.severity else Severity.HIGH
                )
            yield ctx.report(self, call, text, severity=severity)

    def _process(self, ctx: PyContext, df: Flow, call: ast.Call, sink: Sink) -> Iterator[Finding]:
        """A program started without a shell: reported when the program is not a constant."""
        value = argument(call, sink.arg, sink.keyword) if sink.arg >= 0 else keyword(
            call, sink.keyword
        )
        if isinstance(value, (ast.List, ast.Tuple)):  # pty.spawn([program, ...])
            value = value.elts[0] if value.elts else None
        if value is None or isinstance(value, ast.Starred):
            return
        if df.qualified_name(value) in TRUSTED_PROGRAMS or df.is_constant(value, SANITIZERS):
            return
        entry = command_entry(ctx, call)
        if entry is not None and not self.settings["strict"] and from_invoker(df, value, entry):
            return  # a script starting the program its own command line names
        yield ctx.report(
            self, call,
            f"{df.qualified_name(call.func) or sink.call}() starts a program chosen by"
            f" non-constant input; {sink.fix or 'choose the program from a fixed list'}.",
            severity=sink.severity or Severity.MEDIUM,
        )

    @staticmethod
    def _command(
        df: Flow, call: ast.Call, sink: Sink | None
    ) -> tuple[ast.expr | None, str, bool] | None:
        """(the command, how the call is named, generic shell=True call) for a shell call."""
        name = df.qualified_name(call.func)
        short = name.rsplit(".", 1)[-1]
        if sink is not None:
            command = argument(call, sink.arg, sink.keyword) if sink.arg >= 0 else keyword(
                call, sink.keyword
            )
            return command, f"{name if sink.method is None else short}()", False
        if short == "subprocess_shell" and isinstance(call.func, ast.Attribute):
            return argument(call, 1, "cmd"), "subprocess_shell()", False  # loop.subprocess_shell
        shell = keyword(call, "shell")
        if shell is None or df.truthiness(shell) is False:
            return None
        if name in SUBPROCESS_CALLS:
            return argument(call, 0, "args"), f"{name}(shell=True)", False
        if df.truthiness(shell) is not True:
            # Any other call with a shell keyword counts only with a true constant (bandit's
            # B604): str.format(shell=options.shell) names a shell, it does not run one.
            return None
        command = argument(call, 0, "args") or keyword(call, "cmd") or keyword(call, "command")
        return command, f"{short or 'call'}(shell=True)", True


def _sink(df: Flow, call: ast.Call, sinks: Catalogue) -> Sink | None:
    """The catalogued shell or process sink a call resolves to, if any."""
    func = call.func
    method = func.attr if isinstance(func, ast.Attribute) else None
    found = sinks.lookup(df.qualified_name(func), method)
    if not found and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        made = df.constructed_by(func.value)  # c = fabric.Connection(host); c.run(cmd)
        if made:
            found = sinks.lookup(f"{made}.{func.attr}", None)
    return found[0] if found else None


SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "csh", "tcsh", "fish", "ash"})


def shell_script(df: Flow, call: ast.Call, process: bool = False) -> ast.expr | None:
    """``os.execv("/bin/sh", ["sh", "-c", cmd])``, ``subprocess.run(["bash", "-c", cmd])``:
    the non-constant command a shell started with ``-c`` runs (None: no such argument).
    ``process``: the call is a catalogued process start (``loop.subprocess_exec``, a
    user's extra sink), whatever its name."""
    if not process and df.qualified_name(call.func) not in SUBPROCESS_CALLS and not (
        df.qualified_name(call.func).startswith(("os.exec", "os.spawn", "os.posix_spawn",
                                                 "asyncio.", "pty."))
    ):
        return None
    items: list[ast.expr] = []
    for arg in call.args:
        items.extend(arg.elts if isinstance(arg, (ast.List, ast.Tuple)) else [arg])
    words = [_word(df, i) for i in items]
    if not any(w is not None and w.rsplit("/", 1)[-1] in SHELLS for w in words):
        return None
    for i, word in enumerate(words[:-1]):
        script = items[i + 1]
        if word == "-c" and not isinstance(script, ast.Starred) and not df.is_constant(
            script, SANITIZERS
        ):
            return script
    return None


def _word(df: Flow, item: ast.expr) -> str | None:
    """The text of an argument-list item: a string literal, or a name bound only to one
    (``SHELL = "/bin/sh"``, then ``[SHELL, "-c", cmd]``); None for anything else."""
    if isinstance(item, ast.Name):
        bound = df.bindings(item) or []
        texts = {b.value for b in bound if isinstance(b, ast.Constant) and isinstance(b.value, str)}
        if len(texts) == 1 and all(isinstance(b, ast.Constant) for b in bound):
            return texts.pop()
        return None
    return item.value if isinstance(item, ast.Constant) and isinstance(item.value, str) else None


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
