"""The command line: the click group, its commands, and the single exit point.

Each command family is a module of this package (``check``, ``fix``, ``rules``, ``context``,
``feedback``, ``github``, ``describe``, ``stats``, ``teach``, ``train``, ``llm``, ``models``,
``serve``, ``lsp``) that imports its shared helpers from :mod:`reviewer.cli.common` and
:mod:`reviewer.cli.pipeline` and never this module; this module names them in the group
(:data:`COMMANDS`), which imports a command's module only when that command runs (or
``--help`` lists them all): ``reviewer check`` under pre-commit loads only its own code.
Every user-facing error is one line on stderr
(``reviewer: error: ...``) with exit code 2; an unexpected crash is one line with exit code 3
(``--debug`` shows the traceback).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

from reviewer import __version__, _codecache
from reviewer.errors import EXIT_INTERNAL, EXIT_USAGE, ReviewerError

# Every command: its name -> (the module of reviewer.cli that defines it, the attribute).
# In the order `reviewer --help` lists them (click sorts them by name).
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("check", "check"), "rules": ("rules", "rules"),
    "principles": ("rules", "principles"), "baseline": ("check", "baseline"),
    "fix": ("fix", "fix"), "install-hooks": ("github", "install_hooks"),
    "github": ("github", "github"), "doctor": ("llm", "doctor"),
    "models": ("models", "models"), "index": ("context", "index_command"),
    "context": ("context", "context_command"), "style": ("context", "style_command"),
    "feedback": ("feedback", "feedback"), "review": ("feedback", "review_command"),
    "stats": ("stats", "stats"), "teach": ("teach", "teach"),
    "export-training": ("train", "export_training"), "train": ("train", "train_cmd"),
    "eval": ("train", "eval_cmd"), "describe": ("describe", "describe"),
    "serve": ("serve", "serve"), "lsp": ("lsp", "lsp"),
}


class LazyGroup(click.Group):
    """A group whose commands are imported from :data:`COMMANDS` when first used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)
        module, attr = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(f"reviewer.cli.{module}"), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"reviewer.cli.{module}.{attr} is not a click command")
        self.commands[cmd_name] = command
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reviewer")
@click.option("--debug", is_flag=True, hidden=True, help="Show tracebacks for internal errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Review code against engineering principles, on your own machine."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


# -- entry point ---------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (never raises, never shows a traceback).

    Exit codes: 0 clean, 1 findings at or above the failure threshold, 2 usage or
    configuration error, 3 internal error (130 when interrupted).
    """
    args = list(argv) if argv is not None else sys.argv[1:]
    for stream in (sys.stdout, sys.stderr):  # odd file names must not crash the output
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        code = cli.main(args=args, prog_name="reviewer", standalone_mode=False)
    # The CLI's single exit point: every way a command can end becomes an exit code.
    except (Exception, SystemExit, KeyboardInterrupt) as exc:  # reviewer: ignore[RV202]
        return _exit_code(exc, debug="--debug" in args)
    return code if isinstance(code, int) else 0


# Set by a command that has finished all its work (output written, files and databases
# closed) and started nothing that needs the interpreter's teardown: ``run`` then ends the
# process at once instead of freeing every object and module one by one (about a tenth of
# a one-file ``reviewer check``).
QUICK_EXIT = [False]


def run() -> None:
    """The ``reviewer`` console script: :func:`main`, then exit with its code."""
    code = main()
    if QUICK_EXIT[0] and sys.gettrace() is None and "coverage" not in sys.modules:
        _codecache.save()  # os._exit runs no atexit hook
        for stream in (sys.stdout, sys.stderr):
            # a closed pipe: nothing more can be written
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    sys.exit(code)


def _exit_code(exc: BaseException, debug: bool) -> int:
    """Turn how a command ended into an exit code, with at most one line on stderr."""
    for kind, handle in _ENDINGS:
        if isinstance(exc, kind):
            return handle(exc)
    if debug:
        import traceback

        traceback.print_exception(exc)
    detail = " ".join(str(exc).split())
    click.echo(
        f"reviewer: internal error: {type(exc).__name__}: {detail} (rerun with --debug"
        " for the traceback; please report it)",
        err=True,
    )
    return EXIT_INTERNAL


def _ended(exc: SystemExit) -> int:
    return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)


def _user_error(exc: ReviewerError) -> int:
    from reviewer.cli.common import error

    error(str(exc))
    return exc.exit_code


def _interrupted(_: BaseException) -> int:
    click.echo("reviewer: interrupted", err=True)
    return 130


def _click_error(exc: click.ClickException) -> int:
    hint = ""
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        hint = f" (see `{exc.ctx.command_path} --help`)"
    from reviewer.cli.common import error

    error(exc.format_message() + hint)
    return EXIT_USAGE if exc.exit_code == 2 else exc.exit_code


def _broken_pipe(_: BaseException) -> int:
    """The reader went away (`reviewer check | head`): stop quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 1


_ENDINGS: list[tuple[type[BaseException], Callable[[Any], int]]] = [
    (SystemExit, _ended),
    (ReviewerError, _user_error),
    (click.exceptions.Abort, _interrupted),
    (KeyboardInterrupt, _interrupted),
    (click.exceptions.Exit, lambda exc: int(exc.exit_code)),
    (click.ClickException, _click_error),
    (BrokenPipeError, _broken_pipe),
]
