"""Names in code, as the prompts and the validator compare them (below both: no imports).

:func:`dropped_names` says which identifiers a rewrite lost; the prompt builder uses it to
pair a rule's examples and the validator to refuse a fix that drops code.
"""

from __future__ import annotations

import ast
import keyword
import re

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A fix may drop a few names (eval -> ast.literal_eval, shell=True -> a list): at most this
# share of the original's distinct names, and at least one.
MAX_DROPPED_SHARE = 0.2
KEYWORDS = frozenset(keyword.kwlist)


def dropped_names(original: str, fixed: str, strict: bool = False) -> list[str]:
    """Names of ``original`` missing from ``fixed``, when more are missing than a fix needs.

    ``strict``: no name may go (used to pair the rules' own examples).
    """
    before = code_names(original) - KEYWORDS
    gone = sorted(before - code_names(fixed))
    allowed = 0 if strict else max(1, int(len(before) * MAX_DROPPED_SHARE))
    return gone if len(gone) > allowed else []


def code_names(code: str) -> set[str]:
    """Identifiers in ``code``, outside strings and comments (Python's tokenizer; a plain
    regex when the code cannot be tokenized). Removing a hard-coded secret or a SQL string
    is what a fix is for, so string contents do not count."""
    import io
    import tokenize

    names: set[str] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type == tokenize.NAME:
                names.add(tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        if not names:
            return set(_NAME.findall(code))
    return names


def node_name(node: ast.AST) -> str | None:
    """The identifier a syntax node reads or defines: a name, an attribute, a parameter, a
    function or class (None for any other node)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.arg):
        return node.arg
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name
    return None
