"""What a language plug-in is (:class:`Language`) and what it needs of a rule (:class:`Check`).

Kept apart from the registry in ``reviewer/languages/__init__.py`` so that the plug-ins import
these shapes without importing the registry that imports them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from reviewer.findings import Finding, Severity


class Check(Protocol):
    """What a plug-in needs of a rule (:class:`reviewer.rules.base.Rule` is one): the
    languages sit below the rules, so they know rules only by this shape."""

    @property
    def id(self) -> str: ...
    @property
    def slug(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def whole_function(self) -> bool: ...
    def run(self, ctx: Any) -> Iterable[Finding]:
        """The rule's findings in the plug-in's context for one file."""
        ...


class Language(Protocol):
    """What the engine needs from a language plug-in."""

    name: str
    extensions: tuple[str, ...]
    # Interpreter names recognised in a ``#!`` line (``python3``, ``node``...).
    shebang_names: tuple[str, ...]

    def review(self, path: str, source: str, rules: Sequence[Check],
               want_fixes: bool = True) -> list[Finding]:
        """Parse ``source`` and run ``rules`` on it (``want_fixes``: the rules build their
        fixes; False when nothing will apply one, e.g. ``reviewer check``).

        A file that does not parse yields a single RV000 finding at the error's location
        instead of raising.
        """
        ...
