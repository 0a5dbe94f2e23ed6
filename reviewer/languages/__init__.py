"""Language plug-ins: a Protocol plus a plain registry, dispatched by extension or shebang.

The engine is language-neutral: it asks :func:`detect` which plug-in owns a file and hands
the plug-in the decoded source and the rules written for that language. Unknown files are
skipped. Python is the first plug-in; tree-sitter based ones register here the same way.
"""

from __future__ import annotations

from reviewer.languages.base import Check as Check
from reviewer.languages.base import Language as Language

_REGISTRY: dict[str, Language] = {}


def register(language: Language) -> None:
    """Add a plug-in to the registry (later registrations win for shared extensions)."""
    _REGISTRY[language.name] = language


def languages() -> dict[str, Language]:
    """All registered plug-ins by name, loading the built-in ones on first use."""
    if not _REGISTRY:
        from reviewer.languages.python import PYTHON
        from reviewer.languages.treesitter import GO, JAVASCRIPT, TYPESCRIPT

        register(PYTHON)
        # The tree-sitter plug-ins need the `treesitter` extra (found without importing it).
        for lang, grammar in ((JAVASCRIPT, "tree_sitter_javascript"),
                              (TYPESCRIPT, "tree_sitter_typescript"), (GO, "tree_sitter_go")):
            if _installed("tree_sitter") and _installed(grammar):
                register(lang)
    return _REGISTRY


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def detect(path: str, head: bytes) -> Language | None:
    """The plug-in for a file, by extension first and then by its ``#!`` line; else None."""
    regs = languages()
    lower = path.lower()
    for lang in regs.values():
        if lower.endswith(lang.extensions):
            return lang
    if head.startswith(b"#!"):
        first = head.split(b"\n", 1)[0].decode("utf-8", "replace")
        words = first[2:].replace("/", " ").split()
        for lang in regs.values():
            for word in words:
                if word.startswith(lang.shebang_names):
                    return lang
    return None
