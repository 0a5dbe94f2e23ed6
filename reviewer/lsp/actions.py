"""Code actions on a buffer's findings: quick fixes, suppressions, fix-all.

Every edit offered here has been validated the way ``reviewer fix`` validates (the fixed
text parses, the fixed findings are gone, nothing new appears); a fix that does not
validate is simply not offered.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from reviewer.findings import Finding, Fix, TextEdit, apply_edits, split_lines
from reviewer.lsp.convert import Lines

if TYPE_CHECKING:
    from lsprotocol import types

    from reviewer.config import Config

FIX_ALL_KIND = "source.fixAll.reviewer"
_OWN = re.compile(r"(?:#|//)\s*reviewer:\s*ignore(?![\w-])(?:\[(?P<codes>[^\]]*)\])?")
# Languages whose line comments start with '#'; every other plug-in's use '//'.
_HASH_COMMENTS = frozenset({"python", "ruby", "shell", "yaml", "toml"})


def lsp_edits(fix: Fix, lines: Lines) -> list[types.TextEdit]:
    """The edits of a fix as LSP text edits."""
    from lsprotocol import types

    return [
        types.TextEdit(
            range=types.Range(start=lines.position(e.line, e.col),
                              end=lines.position(e.end_line, e.end_col)),
            new_text=e.text,
        )
        for e in fix.edits
    ]


def validated(
    rel: str, text: str, language: str, config: Config, findings: Sequence[Finding]
) -> tuple[Finding, ...]:
    """The findings among ``findings`` whose fixes apply together and validate (the texts
    before and after are only counted: their reviews build no libcst fix)."""
    from reviewer.autofix import plan_text

    if not findings:
        return ()
    got = plan_text(rel, text, language, config, findings, fixes=False)
    return () if isinstance(got, str) else got[1]


def workspace_edit(uri: str, version: int | None, edits: list[types.TextEdit]
                   ) -> types.WorkspaceEdit:
    """Edits of one document version as a workspace edit."""
    from lsprotocol import types

    return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
        edits=list(edits),
    )])


def ignore_edit(f: Finding, lines: Lines, language: str) -> TextEdit | None:
    """The edit that adds ``f``'s rule to the suppression comment on its first line (or
    adds the comment); None when a bare ``reviewer: ignore`` is there already."""
    text = lines.text(f.span.line)
    m = _OWN.search(text)
    if m is not None:
        if m.group("codes") is None:
            return None
        codes = [c.strip() for c in m.group("codes").split(",") if c.strip()]
        new = ", ".join([*codes, f.rule_id])
        start, end = m.span("codes")
        return TextEdit(f.span.line, start + 1, f.span.line, end + 1, new)
    if text.rstrip().endswith("\\"):
        return None  # a comment cannot follow a line continuation
    marker = "#" if language in _HASH_COMMENTS else "//"
    end_col = len(text.rstrip()) + 1
    edit = TextEdit(f.span.line, end_col, f.span.line, len(text) + 1,
                    f"  {marker} reviewer: ignore[{f.rule_id}]")
    if not _is_comment(apply_edits(lines.source, [edit]), f.span.line, end_col + 2, language,
                       f.path):
        return None  # the line ends inside a string (a template, a docstring): no comment
    return edit


def _is_comment(text: str, line: int, col: int, language: str, rel: str) -> bool:
    """Is (``line``, ``col``) (1-based) of ``text`` in a comment (the one added there, or one
    it extends)? A Python text that does not tokenize counts as yes (suppressions are then
    read line by line)."""
    if language == "python":
        import io
        import tokenize

        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        except (tokenize.TokenError, SyntaxError):
            return True
        return any(t.type == tokenize.COMMENT and t.start[0] == line
                   and t.start[1] <= col - 1 < t.end[1] for t in tokens)
    from reviewer.languages import languages

    plugin = languages().get(language)
    grammar = getattr(plugin, "grammar", None)
    if grammar is None:
        return True  # a plug-in that is not tree-sitter based
    from reviewer.languages.treesitter import parser_for

    tree = parser_for(grammar(rel)).parse(text.encode("utf-8", "surrogatepass"))
    row = line - 1
    start = len(split_lines(text)[row][:col - 1].encode("utf-8", "surrogatepass"))
    node = tree.root_node.descendant_for_point_range((row, start), (row, start + 1))
    return node is not None and "comment" in node.type
