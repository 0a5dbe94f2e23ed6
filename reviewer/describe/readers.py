"""Which :class:`~reviewer.describe.symbols.SymbolReader` reads a file: Python's (stdlib
``ast``) always, the tree-sitter ones (:mod:`reviewer.describe.tssymbols`) registered on
first need. Apart from both so that neither imports the other.
"""

from __future__ import annotations

from functools import cache

from reviewer.describe.symbols import PythonReader, SymbolReader

READERS: dict[str, SymbolReader] = {"python": PythonReader()}


@cache
def _plugins() -> None:
    from reviewer.describe.tssymbols import readers

    for name, reader in readers().items():
        READERS.setdefault(name, reader)


def reader_for(path: str) -> SymbolReader | None:
    """The reader owning ``path`` by its extension (None: no symbols for this file)."""
    _plugins()
    for reader in READERS.values():
        if path.endswith(reader.extensions):
            return reader
    return None
