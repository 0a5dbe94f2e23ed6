"""``reviewer lsp``: the language server (pygls, over stdio).

Documents the editor opens are reviewed from the text it sent (never re-read from disk)
with the configuration of the repository they belong to, exactly as ``reviewer check``
reviews a file: :mod:`reviewer.lsp.server` holds the protocol side, the modules next to it
the parts that need no editor (folders and their configuration, positions, actions).
pygls and lsprotocol come with the ``lsp`` extra and are imported only here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewer.lsp.explain import Remote


def serve(remote: Remote | None = None) -> int:
    """Run the server on stdin/stdout until the client says exit (``remote``: how to ask
    a ``reviewer serve`` behind ``server-url``, see :mod:`reviewer.lsp.explain`)."""
    from reviewer.lsp.server import build

    build(remote).start_io()
    return 0
