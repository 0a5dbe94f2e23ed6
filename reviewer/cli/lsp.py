"""``reviewer lsp``: the language server for editors, over stdin/stdout."""

from __future__ import annotations

import click

from reviewer.errors import ReviewerError


@click.command()
@click.option("--stdio", is_flag=True,
              help="Talk over stdin/stdout (the default and only transport; accepted because"
                   " editors pass it).")
def lsp(stdio: bool) -> None:
    """Run the language server: diagnostics, fixes, suppressions and explanations in the
    editor (see docs/editors.md)."""
    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError:
        raise ReviewerError(
            "`reviewer lsp` needs the lsp extra: pip install 'reviewer[lsp]'") from None
    from reviewer.lsp import serve

    raise SystemExit(serve())


COMMANDS: tuple[click.Command, ...] = (lsp,)
