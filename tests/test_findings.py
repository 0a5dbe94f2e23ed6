"""The finding model: line splitting like the parser, edits, columns in characters."""

from __future__ import annotations

import pytest

from reviewer.findings import TextEdit, apply_edits, split_lines
from reviewer.languages.python import PYTHON
from reviewer.rules.rv101_mutable_default import MutableDefaultArgument


def test_split_lines_breaks_only_where_the_parser_does() -> None:
    text = "a = 1\x0c\nb = '\u2028'\r\nc = 3\rd = 4"
    assert split_lines(text) == ["a = 1\x0c", "b = '\u2028'", "c = 3", "d = 4"]
    assert "".join(split_lines(text, keepends=True)) == text
    assert split_lines("x\n") == ["x"] and split_lines("") == []


def test_line_numbers_stay_in_step_after_form_feeds_and_line_separators() -> None:
    source = "\x0c\nX = '\u2028'\ndef f(items=[]):\n    return items\n"
    findings = PYTHON.review("m.py", source, [MutableDefaultArgument()])
    assert [(f.span.line, f.span.col) for f in findings] == [(3, 13)]
    fixed = apply_edits(source, [e for f in findings if f.fix for e in f.fix.edits])
    assert "def f(items=None):\n    if items is None:\n        items = []\n" in fixed


def test_columns_are_characters_and_fixes_apply_on_non_ascii_lines() -> None:
    source = 'def f(x="éé", items=[]):\n    return items\n'
    (finding,) = PYTHON.review("m.py", source, [MutableDefaultArgument()])
    assert finding.span.col == source.index("[]") + 1
    assert finding.fix is not None
    assert apply_edits(source, finding.fix.edits).startswith('def f(x="éé", items=None):\n')


def test_overlapping_edits_are_refused() -> None:
    with pytest.raises(ValueError):
        apply_edits("abcdef\n", [TextEdit(1, 1, 1, 4, "x"), TextEdit(1, 3, 1, 5, "y")])
