"""``reviewer lsp``: the language server for editors, over stdin/stdout."""

from __future__ import annotations

from pathlib import Path

import click

from reviewer.config import Config
from reviewer.errors import ReviewerError
from reviewer.findings import Finding


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

    raise SystemExit(serve(remote_explain))


def remote_explain(root: Path, finding: Finding, text: str, config: Config
                   ) -> tuple[list[Finding], list[str]] | None:
    """The editor's "Explain and propose a fix" through a ``reviewer serve`` behind
    ``server-url`` (``POST /v1/review``, the client ``check --explain`` uses); None when
    ``server-url`` is not a reviewer server."""
    from reviewer.cli.pipeline import remote_explain_result
    from reviewer.engine import Job, Result

    data = text.encode("utf-8", "surrogatepass")
    job = Job(root, [finding.path], contents={finding.path: data})
    return remote_explain_result(Result(findings=[finding]), job, config, True)


COMMANDS: tuple[click.Command, ...] = (lsp,)
