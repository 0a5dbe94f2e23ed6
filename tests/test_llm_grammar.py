"""The GBNF the reviewer writes for its own schemas (llama.cpp's parser is in test_llm_llama)."""

from __future__ import annotations

import pytest

from reviewer.feedback.judge import JUDGE_SCHEMA
from reviewer.llm.answer import ANSWER_SCHEMA, BadAnswer, answer_schema, parse_answer
from reviewer.llm.grammar import CHAR, Unsupported, compile_schema, literal


def rules(text: str) -> dict[str, str]:
    return dict(line.split(" ::= ", 1) for line in text.splitlines())


def test_the_answer_grammar_is_compact_and_strings_are_json_strings() -> None:
    g = rules(compile_schema(ANSWER_SCHEMA))
    assert g["root"].startswith('"{" ws "\\"explanation\\"" ws ":" ws root-explanation')
    # maxLength is llama.cpp's bounded repetition, not 320 nested rules.
    assert g["root-explanation"] == '"\\"" char{0,320} "\\""'
    assert len(g) == 6  # root, two strings, ws, char, null
    # No raw control characters (newlines only escaped), no DEL.
    assert "char ::= " + g["char"] == CHAR and "\\x00-\\x1F" in g["char"]
    assert "dot" not in g


def test_a_prefix_and_a_bound_become_a_literal_and_a_repetition() -> None:
    g = rules(compile_schema(answer_schema("def run(", max_code=256)))
    assert g["root-fixed-code-0"] == '"\\"" "def run(" char{0,256} "\\""'
    assert "(root-fixed-code-0 | null)" in g["root"]
    assert rules(compile_schema(answer_schema(fix=False)))["root"].endswith(
        '"\\"fixed_code\\"" ws ":" ws null ws "}"')


def test_the_judge_grammar_has_booleans_and_bounded_integers() -> None:
    g = rules(compile_schema(JUDGE_SCHEMA))
    assert "ws boolean ws" in g["root"] and "ws integer ws" in g["root"]
    assert g["integer"] == '"-"? ([0-9] | [1-9] [0-9]{1,15})'


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"a": {"type": "string"}}},  # optional key
    {"type": "object", "properties": {}, "required": [], "additionalProperties": True},
    {"type": "string", "pattern": "^a|b$"},
    {"type": "array", "items": {"type": "string"}},
])
def test_what_the_compiler_does_not_translate_is_refused(schema: dict[str, object]) -> None:
    with pytest.raises(Unsupported):
        compile_schema(schema)


def test_literals_are_the_json_encoding_escaped_for_gbnf() -> None:
    assert literal('say "hi"\n') == '"\\"say \\\\\\"hi\\\\\\"\\\\n\\""'


@pytest.mark.parametrize("text, explanation", [
    ('{"explanation": "Mutable default. It is shared', "Mutable default."),
    ('{"explanation": "ok.", "fixed_code": "return ev', "ok."),
    ('{"explanation": "ok. \\', "ok."),
    ('{"explanation": "ok. \\u00', "ok."),
    ('{"explanation": "ok.", "fixed_code": ', "ok."),
    ('{"explanation": "ok.", "fixed_code"', "ok."),
])
def test_an_answer_cut_off_anywhere_keeps_its_explanation_and_drops_its_code(
    text: str, explanation: str
) -> None:
    answer = parse_answer(text)
    assert answer.explanation == explanation and answer.fixed_code is None


def test_an_answer_that_is_no_json_at_all_is_one_clear_failure() -> None:
    with pytest.raises(BadAnswer, match="not valid JSON"):
        parse_answer('{"fixed_code": "x"')
