"""Checks on a model's explanation, and the deterministic explanation used when none passes.

An explanation is shown only when it is worth reading: no degenerate repetition, a bounded
length ending on a full sentence, grounded in the finding (it names something the flagged
code names: the function, a variable, a call or a value), not a copy of a prompt example or
of the rule's own text, not about the answer itself (a model repeating the validator's
complaint), and not contradicting the finding. :func:`judge` returns the reason
a text fails (a sentence the model can act on) or None; :func:`rule_explanation` composes
the fallback from the rule's rationale and the finding's facts, marked as such.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from reviewer.llm.names import KEYWORDS, code_names, node_name

MIN_CHARS = 24
MAX_CHARS = 320  # reviewer.llm.answer.MAX_EXPLANATION
MIN_WORDS = 5
# A word 4-gram said this many times is a loop, whatever the length.
REPEATED_NGRAM = 2
NGRAM = 4
# Share of distinct words under which a text of more than a dozen words is degenerate.
MIN_DISTINCT_SHARE = 0.45
# Similarity (difflib ratio, lowercased) at or above which a text copies a source.
COPY_RATIO = 0.8
# Names too generic to ground an explanation.
GENERIC = frozenset({"self", "cls", "None", "True", "False", "args", "kwargs", "e", "x"})
# Phrases that say the finding is wrong: the explanation must explain it, not dismiss it.
_CONTRADICTS = re.compile(
    r"\b(?:this|the) (?:code|function|call|line|statement|query)s? (?:is|looks|seems)"
    r" (?:perfectly )?(?:safe|fine|correct|ok(?:ay)?)\b"
    r"|\bno (?:problem|issue|risk)\b|\bnot (?:a|an) (?:problem|issue|risk)\b"
    r"|\bnothing (?:is )?wrong\b|\bfalse positive\b|\bdoes not (?:need|break) (?:the|this)"
    r" rule\b|\bno (?:fix|change) is needed\b|\bcan be ignored\b",
    re.IGNORECASE,
)
# Phrases about the answer or the review itself (a model that read the validator's
# complaint and repeats it: "The fixed_code has a syntax error", "The explanation does
# not name ..."), not about the code.
_ABOUT_ANSWER = re.compile(
    r"\bfixed[_ ]code\b|\b(?:the|your|my|this) (?:explanation|answer|json (?:object|answer))\b"
    r"|\b(?:was|were|is) rejected\b|\bthe (?:fix|patch) (?:has|had|contains) a syntax error\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?][)\"'`]?$")
_WORDS = re.compile(r"[A-Za-z0-9_]+")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Marks an explanation the reviewer composed itself (no model text passed the checks).
FALLBACK_MARK = "[reviewer's note, not the model's]"


@dataclass(frozen=True)
class Facts:
    """What an explanation is checked against, for one finding."""

    code: str  # the flagged code (the lines the model sees)
    message: str  # the finding's message
    symbol: str = ""  # the enclosing function or class
    copies: tuple[str, ...] = ()  # texts it must not copy: prompt examples, rule text

    def names(self) -> set[str]:
        """Identifiers an explanation may name to be grounded: those of the flagged code,
        and (as alternatives) the enclosing symbol's parts and names quoted in the message.
        Empty when the flagged code names nothing (a lone ``except:``): nothing to ground."""
        found = {n for n in (code_names(self.code) | _ast_names(self.code)) - KEYWORDS
                 if len(n) > 1 and n not in GENERIC}
        if not found:
            return set()
        found |= {p for p in self.symbol.split(".") if p}
        found |= set(re.findall(r"'([A-Za-z_][A-Za-z0-9_.]*)'", self.message))
        found |= set(re.findall(r"`([A-Za-z_][A-Za-z0-9_.]*)`", self.message))
        parts = {p for n in found for p in n.split(".")}
        return {n for n in found | parts if len(n) > 1 and n not in GENERIC}


def _ast_names(code: str) -> set[str]:
    """Names the code reads or defines, inside f-strings too (empty when it does not parse:
    a lone ``except:`` line)."""
    import ast

    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return set()
    return {name for node in ast.walk(tree) if (name := node_name(node)) is not None}


def judge(text: str, facts: Facts) -> str | None:
    """Why ``text`` is not worth showing for the finding in ``facts``, or None."""
    flat = " ".join(text.split())
    words = [w.lower() for w in _WORDS.findall(flat)]
    if len(flat) < MIN_CHARS or len(words) < MIN_WORDS:
        return (
            "the explanation is too short; say in one or two sentences why this code"
            " breaks the rule"
        )
    if len(flat) > MAX_CHARS:
        return (
            f"the explanation is longer than {MAX_CHARS} characters; say it in one or two"
            " sentences"
        )
    loop = repetition(words)
    if loop:
        return f"the explanation repeats itself ({loop!r}); say it once"
    if not _SENTENCE_END.search(flat):
        return "the explanation stops mid-sentence; end it with a full sentence"
    if _CONTRADICTS.search(flat):
        return (
            "the explanation says the code is fine, but the rule applies to it; explain the"
            " problem the finding reports"
        )
    if _ABOUT_ANSWER.search(flat):
        return (
            "the explanation talks about the answer, not the code; say why this code"
            " breaks the rule"
        )
    copied = copy_of(flat, facts.copies)
    if copied:
        return (
            "the explanation copies a text from the prompt word for word; explain this"
            " code in your own words, naming what it uses"
        )
    names = facts.names()
    if names and not _mentions(flat, names):
        shown = ", ".join(sorted(names, key=lambda n: (-len(n), n))[:4])
        return f"the explanation does not name anything in this code; mention {shown}"
    return None


def repetition(words: list[str]) -> str | None:
    """The repeated phrase when ``words`` loop (a 4-gram said twice, or few distinct words)."""
    grams = Counter(tuple(words[i : i + NGRAM]) for i in range(len(words) - NGRAM + 1))
    if grams:
        gram, n = grams.most_common(1)[0]
        if n >= REPEATED_NGRAM:
            return " ".join(gram)
    if len(words) > 12 and len(set(words)) / len(words) < MIN_DISTINCT_SHARE:
        return " ".join(words[:NGRAM])
    return None


def copy_of(text: str, sources: Iterable[str]) -> str | None:
    """The source ``text`` copies: nearly the same text, or every sentence of it taken word
    for word from the sources."""
    norm = _norm(text)
    sentences = [_norm(s) for s in re.split(r"(?<=[.!?;])\s+", text) if _norm(s)]
    pool = [_norm(s) for s in sources if s.strip()]
    for src in pool:
        if difflib.SequenceMatcher(None, norm, src).ratio() >= COPY_RATIO:
            return src
    if sentences and pool and all(
        len(s.split()) >= 4 and any(s in src for src in pool) for s in sentences
    ):
        return sentences[0]
    return None


def _norm(text: str) -> str:
    return " ".join(_WORDS.findall(text.lower()))


def _mentions(text: str, names: set[str]) -> bool:
    said = set(_IDENT.findall(text))
    lowered = {s.lower() for s in said}
    return any(n in said or (len(n) > 3 and n.lower() in lowered) for n in names)


def rule_explanation(message: str, rationale: str, symbol: str = "", summary: str = "") -> str:
    """A short explanation from the finding's facts and the rule's rationale, marked as the
    reviewer's own (shown when no model text passed :func:`judge`)."""
    where = f"In {symbol}: " if symbol else ""
    fact = message.strip()
    if fact and not fact.endswith((".", "!", "?")):
        fact += "."
    why = _first_sentence(rationale) or _first_sentence(summary)
    text = f"{where}{fact}"
    if why and _norm(why) not in _norm(fact) and len(text) + len(why) + 1 <= MAX_CHARS:
        text += " " + why
    return f"{FALLBACK_MARK} {text}"


def _first_sentence(text: str) -> str:
    flat = " ".join(text.replace("``", "").split())
    if not flat:
        return ""
    first = re.split(r"(?<=[.!?])\s+", flat)[0]
    return first if first.endswith((".", "!", "?")) else first + "."


def is_fallback(text: str | None) -> bool:
    """Whether an explanation is the reviewer's own (see :func:`rule_explanation`)."""
    return bool(text) and str(text).startswith(FALLBACK_MARK)
