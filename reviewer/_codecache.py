"""Compiled code of the methods ``dataclasses`` writes, kept between runs.

``@dataclass`` writes each class's ``__init__``, ``__repr__``, ``__eq__``, ``__hash__`` and
``__setattr__`` as source text and compiles it with ``exec`` when the class is defined. The
compiling is most of the cost: about 1.5 ms per class, 45 ms of the 29 classes a one-file
``reviewer check`` defines, a sixth of its run. :func:`install` gives the ``dataclasses``
module an ``exec`` that compiles a text once and keeps the code object, by its exact text,
in ``reviewer/__pycache__`` beside the package's bytecode (marshal format, for this build
of Python only), so a later run executes the same code without compiling it. The methods
are exactly what ``dataclasses`` wrote (the key is the whole text); a folder that cannot be
written, or a file from another Python, only costs the compiling.
"""

from __future__ import annotations

import marshal
import os
import sys
from types import CodeType
from typing import Any

_FILE = f"dataclasses.{sys.implementation.cache_tag}.marshal"
# More texts than this and the file starts over (another program's classes, old versions).
_LIMIT = 4000


class _Cache:
    """The kept code objects by their text, and which texts this run compiled."""

    def __init__(self) -> None:
        self.known: dict[str, CodeType] = {}
        self.new = 0
        self.path = ""

    def load(self, path: str) -> None:
        self.path = path
        try:
            with open(path, "rb") as fh:
                # marshal.load(fh) reads in small pieces; the file is this build's bytecode,
                # as trusted as the package's own .pyc files beside it
                stored = marshal.loads(fh.read())  # reviewer: ignore[RV604] our own bytecode
        except (OSError, ValueError, EOFError, TypeError):
            return
        if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == sys.version \
                and isinstance(stored[1], dict):
            self.known.update(stored[1])

    def code(self, source: str) -> CodeType:
        found = self.known.get(source)
        if found is None:
            # the text dataclasses wrote for a class being defined
            found = compile(source, "<string>", "exec",  # reviewer: ignore[RV601] see above
                            dont_inherit=True)
            self.known[source] = found
            self.new += 1
        return found

    def save(self) -> None:
        if not self.new or not self.path:
            return
        self.new = 0
        known = self.known if len(self.known) <= _LIMIT else {}
        try:
            data = marshal.dumps((sys.version, known))
            from pathlib import Path

            from reviewer.fileio import replace_bytes

            target = Path(self.path)
            target.parent.mkdir(exist_ok=True)
            replace_bytes(target, data, mode=0o644)  # read by every user, as bytecode is
        except (OSError, ValueError):
            pass


_CACHE = _Cache()


def install() -> None:
    """Load the kept code and route ``dataclasses``' ``exec`` through the cache (once)."""
    import dataclasses

    if _CACHE.path:
        return
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__")
    _CACHE.load(os.path.join(folder, _FILE))
    vars(dataclasses)["exec"] = _exec


def _exec(source: Any, globals: dict[str, Any] | None = None,
          locals: dict[str, Any] | None = None) -> None:
    """``exec``, compiling a text only the first time this build of Python sees it."""
    code = _CACHE.code(source) if isinstance(source, str) else source
    exec(code, globals, locals)  # reviewer: ignore[RV601] what dataclasses wrote


def save() -> None:
    """Write the code compiled in this run beside the kept one (atomically), if any."""
    _CACHE.save()
