"""The structured answer the model gives for one finding, its JSON schema and its parser.

Backends constrain generation with :data:`ANSWER_SCHEMA` (a llama.cpp grammar or the server's
``response_format``); the parser still checks everything, because a server may ignore the
constraint and a generation cut off by ``max_tokens`` is not valid JSON.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_EXPLANATION = 320
# At most this many distinct sentences of an explanation are kept.
MAX_SENTENCES = 3

ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        # Bounded so a small model that starts repeating itself must close the string.
        "explanation": {"type": "string", "maxLength": MAX_EXPLANATION},
        "fixed_code": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "required": ["explanation", "fixed_code"],
    "additionalProperties": False,
}


_DEF = re.compile(r"^(?:async\s+def|def|class)\s+[A-Za-z_][A-Za-z0-9_]*")
_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*")
_SAFE_PREFIX = re.compile(r"^[A-Za-z0-9_ ]+\(?$")


def code_prefix(code: str) -> str | None:
    """How the fixed code must begin: ``def name(`` for a function, ``class Name`` for a
    class, else the first word of ``code`` (``except``, ``return``, ``API_KEY``, ``subprocess``).
    Only ASCII letters, digits, ``_``, spaces and that ``(``: nothing a schema-to-grammar
    converter could mistranslate.

    Constraining the answer to start like the original keeps a small model writing code
    instead of prose; everything after the prefix is free (so ``except:`` may become
    ``except ValueError:``).
    """
    first = code.lstrip("\n").split("\n", 1)[0]
    m = _DEF.match(first)
    if m is not None:
        end = m.end()
        prefix = first[: end + 1] if first[end : end + 1] == "(" else first[:end]
    else:
        m = _WORD.match(first)
        if m is None or len(m.group()) < 2:
            return None
        prefix = m.group()
    return prefix if _SAFE_PREFIX.match(prefix) else None


_REGEX_SPECIAL = frozenset("\\.^$*+?{}[]|()")


def _escape(text: str) -> str:
    """Escape regex metacharacters only (``re.escape`` also escapes spaces, which the
    schema-to-grammar converters reject)."""
    return "".join("\\" + c if c in _REGEX_SPECIAL else c for c in text)


# Lengths ``fixed_code`` may be bounded to (characters): a bound is rounded up to one of
# these so that few distinct grammars are built; longer code is not bounded.
CODE_BOUNDS = (256, 512, 1024)


def code_bound(code: str) -> int | None:
    """A length bound for the fixed form of ``code``: room for twice the code and a few new
    lines, so that a model that starts repeating itself must close the string (a runaway
    answer would otherwise hit max_tokens and lose the fix). None: no bound."""
    need = 2 * len(code) + 96
    return next((b for b in CODE_BOUNDS if need <= b), None)


def answer_schema(
    prefix: str | None = None, *, max_code: int | None = None, fix: bool = True
) -> dict[str, Any]:
    """:data:`ANSWER_SCHEMA`, with ``fixed_code`` made to start with ``prefix`` and to be at
    most ``max_code`` characters after it, when given; ``fix=False``: ``fixed_code`` must be
    null (an explanation only, for a finding the model is not asked to fix)."""
    if not fix:
        props = {**ANSWER_SCHEMA["properties"], "fixed_code": {"type": "null"}}
        return {**ANSWER_SCHEMA, "properties": props}
    if not prefix and max_code is None:
        return ANSWER_SCHEMA
    fixed: dict[str, Any] = {"type": "string"}
    if prefix:
        rest = ".*" if max_code is None else f".{{0,{max_code}}}"
        fixed["pattern"] = "^" + _escape(prefix) + rest + "$"
    if max_code is not None:  # for converters that drop the pattern
        fixed["maxLength"] = max_code + len(prefix or "")
    props = {**ANSWER_SCHEMA["properties"], "fixed_code": {"anyOf": [fixed, {"type": "null"}]}}
    return {**ANSWER_SCHEMA, "properties": props}


_PATTERN = re.compile(r"^\^(?P<prefix>.*?)\.(?:\*|\{0,\d+\})\$$", re.DOTALL)


def schema_prefix(schema: Mapping[str, Any]) -> str | None:
    """The literal prefix :func:`answer_schema` put on ``fixed_code`` (None if none)."""
    try:
        pattern = schema["properties"]["fixed_code"]["anyOf"][0]["pattern"]
    except (KeyError, IndexError, TypeError):
        return None
    m = _PATTERN.match(pattern) if isinstance(pattern, str) else None
    if m is None:
        return None
    return re.sub(r"\\(.)", r"\1", m.group("prefix"))


def without_patterns(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with every ``pattern`` removed (for servers whose converters mishandle them)."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "pattern":
            continue
        if isinstance(value, Mapping):
            out[key] = without_patterns(value)
        elif isinstance(value, list):
            out[key] = [without_patterns(v) if isinstance(v, Mapping) else v for v in value]
        else:
            out[key] = value
    return out


class BadAnswer(ValueError):
    """The model's text is not an answer (not JSON, wrong shape)."""


@dataclass(frozen=True)
class Answer:
    """What the model said about one finding."""

    explanation: str
    fixed_code: str | None


_FENCE = re.compile(r"^\s*```[\w+-]*\n(?P<body>.*?)\n?```\s*$", re.DOTALL)


# What may close an answer cut off by the token limit (after close_string), tried in order.
_CLOSERS = ('"}', "}", '": null}', "null}", " null}", ": null}", ', "fixed_code": null}')


def parse_answer(text: str) -> Answer:
    """Parse a model answer; raise :class:`BadAnswer` on anything but the schema's shape.

    An answer cut off by the token limit inside ``fixed_code`` keeps its explanation (the
    half-written code is dropped): the grammar guarantees everything before the cut.
    """
    try:
        data = load_object(text)
    except BadAnswer:
        data = _repair(text)
    explanation = data.get("explanation")
    fixed = data.get("fixed_code")
    if not isinstance(explanation, str):
        raise BadAnswer("'explanation' is missing or not a string")
    if fixed is not None and not isinstance(fixed, str):
        raise BadAnswer("'fixed_code' is neither a string nor null")
    explanation = tidy_explanation(explanation)
    if fixed is not None:
        fixed = strip_fence(fixed)
        if not fixed.strip():
            fixed = None
    return Answer(explanation, fixed)


def _repair(text: str) -> dict[str, Any]:
    """The explanation of an answer cut off by the token limit (its code dropped: half
    written code is never shown); BadAnswer when nothing of the shape can be recovered."""
    stripped = text.strip()
    if stripped.startswith("{"):
        closed = close_string(stripped)
        for closer in _CLOSERS:
            try:
                data = json.loads(closed + closer)
            except ValueError:
                continue
            if isinstance(data, dict) and isinstance(data.get("explanation"), str):
                explanation = data["explanation"]
                if '"fixed_code"' not in stripped:  # cut inside the explanation
                    explanation = _whole_sentences(explanation)
                return {"explanation": explanation, "fixed_code": None}
    raise BadAnswer("the answer is not valid JSON (cut off by the token limit?)")


def _whole_sentences(text: str) -> str:
    """The sentences of a cut-off explanation that ended; BadAnswer when none did."""
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s|$)", text)]
    if not ends:
        raise BadAnswer("the answer was cut off by the token limit before a sentence ended")
    return text[:ends[-1]]


def close_string(text: str) -> str:
    """``text`` with a JSON string left open at its end closed (a partial escape dropped)."""
    in_string = False
    escape_at = -1  # where the escape being read started
    i = 0
    while i < len(text):
        ch = text[i]
        if in_string:
            if ch == "\\":
                escape_at = i
                if text[i + 1 : i + 2] == "u":
                    if len(text) - i < 6:
                        return text[:i] + '"'
                    i += 6
                else:
                    i += 2
                if i > len(text):
                    return text[:escape_at] + '"'
                continue
            if ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        i += 1
    return text + '"' if in_string else text


def load_object(text: str) -> dict[str, Any]:
    """The JSON object of an answer (found inside prose or a fence when a server without
    constrained decoding wrapped it); raise BadAnswer when there is none."""
    stripped = text.strip()
    try:
        data = json.loads(stripped)
    except ValueError:
        # A server without constrained decoding may wrap the object in prose or a fence.
        start, end = stripped.find("{"), stripped.rfind("}")
        if start < 0 or end <= start:
            raise BadAnswer("the answer is not JSON") from None
        try:
            data = json.loads(stripped[start : end + 1])
        except ValueError:
            raise BadAnswer("the answer is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadAnswer("the answer is not a JSON object")
    return data


_ENDS = (".", "!", "?", ")", "`")


def tidy_explanation(text: str) -> str:
    """One paragraph: repeated sentences and clauses dropped, at most MAX_SENTENCES, no
    cut-off tail (small models repeat themselves until the length limit cuts them)."""
    flat = " ".join(text.split())
    sentences = re.split(r"(?<=[.!?])\s+", flat)
    kept: list[str] = []
    seen: set[str] = set()
    for s in sentences:
        s = _unique_clauses(s, seen)
        norm = s.lower().strip(" .!?;")
        if not norm or norm in seen:
            continue
        seen.add(norm)
        kept.append(s)
    if kept and not kept[-1].endswith(_ENDS):  # cut off by the length limit
        last, sep, _ = kept[-1].rpartition("; ")
        if sep and last:
            kept[-1] = last.rstrip(",;:") + "."
        elif len(kept) > 1:
            kept.pop()
    return " ".join(kept[:MAX_SENTENCES])


def _unique_clauses(sentence: str, seen: set[str]) -> str:
    """``sentence`` without the ``;``-separated clauses already said (``seen`` grows)."""
    clauses = sentence.split("; ")
    if len(clauses) == 1:
        return sentence
    out: list[str] = []
    for c in clauses:
        norm = c.lower().strip(" .!?;")
        if norm and norm not in seen:
            seen.add(norm)
            out.append(c)
    return "; ".join(out)


def strip_fence(code: str) -> str:
    """Code without a surrounding Markdown fence, dedented, with one trailing newline."""
    m = _FENCE.match(code)
    if m:
        code = m.group("body")
    code = textwrap.dedent(code.replace("\r\n", "\n")).strip("\n")
    return code + "\n" if code else ""
