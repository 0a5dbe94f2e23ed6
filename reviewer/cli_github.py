"""Commands for the places reviews land: git hooks and GitHub.

``install-hooks`` installs the plain git hooks; ``github review`` publishes one PR review;
``github serve`` receives webhooks and reviews each pushed PR. Registered on the main group
by :func:`register` (PyGithub and the server code are imported only when used).
"""

from __future__ import annotations

from pathlib import Path

import click

from reviewer.errors import ReviewerError


@click.command("install-hooks")
@click.option("--uninstall", is_flag=True,
              help="Remove reviewer's hooks and restore the ones they replaced.")
@click.option("-t", "--hook-type", "hook_types", multiple=True,
              type=click.Choice(["pre-commit", "pre-push"]),
              help="Which hooks (default: pre-commit and pre-push).")
def install_hooks(uninstall: bool, hook_types: tuple[str, ...]) -> None:
    """Install reviewer as plain git hooks (for teams without the pre-commit framework).

    The hooks go where git runs them (core.hooksPath is respected). An existing hook is
    kept as <name>.local and runs first; --uninstall puts it back. Running it again only
    updates reviewer's scripts.
    """
    from reviewer import githooks
    from reviewer.targets import find_root

    root, is_git = find_root(Path.cwd())
    if not is_git:
        raise ReviewerError(f"not a git repository: {root}")
    kinds = hook_types or githooks.HOOK_TYPES
    outcomes = githooks.uninstall(root, kinds) if uninstall else githooks.install(root, kinds)
    for outcome in outcomes:
        click.echo(outcome.message)


def register(cli: click.Group) -> None:
    """Add this module's commands to the main ``reviewer`` group."""
    cli.add_command(install_hooks)
