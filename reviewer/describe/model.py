"""The model's part of a description: type, title, summary and risks, validated against
the facts, or replaced by a description built from the facts alone.

The answer is cached by the diff's content (with the model, its settings and this prompt's
version), so describing an unchanged change again makes no model call.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reviewer.describe.classify import TYPES, rule_type

if TYPE_CHECKING:
    from reviewer.describe.facts import Facts
    from reviewer.llm.backend import Backend
    from reviewer.llm.cache import AnswerCache

PROMPT_VERSION = "describe-1"
MAX_TITLE = 90
MAX_SUMMARY = 600
MAX_SENTENCES = 5
MAX_RISKS = 5
MAX_RISKS_TEXT = 400

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"enum": list(TYPES)},
        "confidence": {"type": "number"},
        "title": {"type": "string"},
        "summary": {"type": "string"},
        "risks": {"type": "string"},
    },
    "required": ["type", "confidence", "title", "summary", "risks"],
    "additionalProperties": False,
}

SYSTEM = ("You describe a code change for the person about to review it. Use only the facts "
          "given; name only files, definitions and dependencies that appear in them. Answer "
          "with one JSON object.")


@dataclass
class Description:
    """What a change is. ``source``: "model" (validated) or "facts" (rules only)."""

    type: str
    confidence: float
    title: str
    summary: str
    risks: list[str] = field(default_factory=list)
    source: str = "facts"
    # Why the model's answer is not used (None: it is, or no model was asked).
    rejected: str | None = None
    model_calls: int = 0
    cached: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "confidence": round(self.confidence, 2),
                "title": self.title, "summary": self.summary, "risks": self.risks,
                "source": self.source, "rejected": self.rejected,
                "model_calls": self.model_calls, "cached": self.cached}


# -- from the facts alone ------------------------------------------------------------------
def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _names(items: list[str], limit: int = 3) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def facts_title(facts: Facts) -> str:
    """A one-line title from the facts."""
    code = [s for s in facts.symbols if not s.in_tests]
    parts = []
    for change, verb in (("added", "Add"), ("removed", "Remove"), ("renamed", "Rename"),
                         ("moved", "Move")):
        names = [s.qualname for s in code if s.change == change and s.public]
        if names:
            parts.append(f"{verb} {_names(names, 2)}")
    sigs = [s.qualname for s in code if s.signature_changes]
    if sigs:
        parts.append(f"change the signature of {_names(sigs, 2)}")
    changed = [s.qualname for s in code if s.change == "changed" and not s.signature_changes]
    if changed and not parts:
        parts.append(f"Change {_names(changed, 2)}")
    deps = list(facts.dependencies)
    if deps:
        verbs = {"added": "add", "bumped": "bump", "removed": "drop"}
        said = "/".join(verbs[c] for c in sorted({d.change for d in deps}))
        parts.append(f"{said} {_names([d.name for d in deps], 2)}")
    if not parts:
        kinds = sorted({f.category for f in facts.files})
        parts.append(f"Update {_names([f.path for f in facts.files], 2)}" if len(facts.files)
                     <= 2 else f"Update {_plural(len(facts.files), 'file')} ({', '.join(kinds)})")
    title = "; ".join(parts)
    title = title[0].upper() + title[1:]
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1].rstrip() + "…"


def facts_summary(facts: Facts) -> str:
    """At most five sentences from the facts."""
    size = facts.size
    statuses: dict[str, int] = {}
    for f in facts.files:
        statuses[f.status] = statuses.get(f.status, 0) + 1
    what = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
    out = [f"{_plural(size['files'], 'file')} ({what}), +{size['added']} -{size['deleted']} "
           f"lines; scope: {facts.scope}."]
    code = [s for s in facts.symbols if not s.in_tests]
    if code:
        counts: dict[str, int] = {}
        for s in code:
            counts[s.change] = counts.get(s.change, 0) + 1
        out.append("Definitions: " + ", ".join(f"{n} {c}" for c, n in sorted(counts.items()))
                   + ".")
    sigs = [s for s in code if s.signature_changes]
    if sigs:
        callers = sum(s.callers_total for s in sigs)
        out.append(f"{_plural(len(sigs), 'public signature')} changed, with "
                   f"{_plural(callers, 'call site')} in the repository.")
    if facts.dependencies:
        out.append("Dependencies: " + ", ".join(
            f"{d.name} {d.change}" for d in facts.dependencies[:5]) + ".")
    if facts.tests.changed_tests or facts.tests.untested:
        out.append(f"{_plural(len(facts.tests.changed_tests), 'test file')} changed; "
                   f"{_plural(len(facts.tests.untested), 'changed public function')} "
                   "with no test naming it.")
    return " ".join(out[:MAX_SENTENCES])


def facts_risks(facts: Facts) -> list[str]:
    """Where a reviewer should look first, from the facts."""
    risks = []
    for s in facts.symbols:
        if s.signature_changes and s.callers_total:
            risks.append(f"{s.qualname}: signature changed, "
                         f"{_plural(s.callers_total, 'call site')} to check")
        elif s.change in ("removed", "renamed") and s.callers_total:
            risks.append(f"{s.old_qualname or s.qualname}: {s.change} but still called "
                         f"({_plural(s.callers_total, 'call site')})")
    if facts.tests.untested:
        risks.append(f"no test names {_names(facts.tests.untested)}")
    bumped = [d for d in facts.dependencies if d.change != "removed"]
    if bumped:
        risks.append(f"dependencies {_names([d.name for d in bumped])} added or bumped")
    high = (facts.findings or {}).get("by_severity", {}).get("high", 0)
    if high:
        risks.append(f"{_plural(high, 'high-severity finding')} on the changed lines")
    return risks[:MAX_RISKS]


def from_facts(facts: Facts, rejected: str | None = None) -> Description:
    """The description the facts alone give (type by rules)."""
    kind, confidence, _why = rule_type(facts)
    return Description(kind, confidence, facts_title(facts), facts_summary(facts),
                       facts_risks(facts), "facts", rejected)


# -- the model -----------------------------------------------------------------------------
def prompt(facts: Facts, facts_text: str) -> list[dict[str, str]]:
    """The chat messages for ``facts`` (``facts_text``: their plain-text rendering)."""
    kinds = ", ".join(TYPES)
    user = (f"Facts of the change:\n{facts_text}\n\n"
            f"Answer with: type (one of: {kinds}); confidence (0 to 1); title (one line, "
            f"at most {MAX_TITLE} characters); summary (at most {MAX_SENTENCES} sentences, "
            "naming only files, definitions and dependencies listed above); risks (at most "
            f"{MAX_RISKS} short items separated by semicolons: what to review first).")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


_TICKED = re.compile(r"`([^`]+)`")
_CODEY = re.compile(
    r"(?<![\w/.])(?:[A-Za-z_][\w-]*/)*[A-Za-z_][\w-]*\.[A-Za-z_][\w.]*\w"  # dotted, paths
    r"|(?<![\w.])[A-Za-z]*_\w*"  # snake_case
    r"|(?<![\w.])[a-z]+[A-Z]\w*"  # camelCase
    r"|(?<![\w.])[A-Z][a-z0-9]+[A-Z]\w*"  # PascalCase with a second capital
    r"|(?<![\w.])[A-Za-z_]\w*(?=\(\))")  # name()
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\"'(])")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text.strip()) if s.strip()]


# Words that look like code but are prose.
PROSE = frozenset({"e.g", "i.e", "etc", "GitHub", "GitLab", "JavaScript", "TypeScript", "PyPI",
                   "OpenAI", "ChromaDB", "SQLite", "PostgreSQL", "MySQL", "macOS", "iOS"})


def ungrounded(text: str, names: set[str]) -> list[str]:
    """Code-like names in ``text`` that the facts do not contain."""
    found = [m.group(1) for m in _TICKED.finditer(text)]
    found += [m.group(0) for m in _CODEY.finditer(_TICKED.sub(" ", text))]
    bad = []
    for token in found:
        token = token.strip().rstrip(".,;:()").removesuffix("()")
        if not token or token in names or token in PROSE:
            continue
        parts = [p for p in re.split(r"[./]", token) if p]
        if parts and all(p in names for p in parts):
            continue
        bad.append(token)
    return bad


def _norm(s: str) -> str:
    return re.sub(r"\W+", " ", s.lower()).strip()


def _repeats(items: list[str]) -> bool:
    seen = [_norm(i) for i in items]
    return len(set(seen)) != len(seen)


def _looping(text: str) -> bool:
    words = _norm(text).split()
    runs = [" ".join(words[i:i + 3]) for i in range(len(words) - 2)]
    return any(n >= 3 for n in _count(runs).values())


def _count(items: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return out


def validate(text: str, facts: Facts) -> Description | str:
    """The model's description, or why it is not usable."""
    from reviewer.llm.answer import BadAnswer, load_object

    try:
        data = load_object(text)
    except BadAnswer as exc:
        return str(exc)
    kind, confidence = data.get("type"), data.get("confidence")
    title, summary, risks_text = data.get("title"), data.get("summary"), data.get("risks")
    if kind not in TYPES:
        return f"type {kind!r} is not one of the change types"
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not (
            0 <= confidence <= 1):
        return "confidence is not a number from 0 to 1"
    if not isinstance(title, str) or not isinstance(summary, str) or not isinstance(
            risks_text, str):
        return "title, summary and risks must be strings"
    title, summary = title.strip(), summary.strip()
    if not title or "\n" in title or len(title) > MAX_TITLE:
        return "the title is not one line of at most 90 characters"
    said = sentences(summary)
    if not said:
        return "the summary is empty"
    if len(said) > MAX_SENTENCES:
        return f"the summary has {len(said)} sentences (at most {MAX_SENTENCES})"
    risks = [r.strip(" -•\t.") for r in re.split(r"[;\n]", risks_text) if r.strip(" -•\t.")]
    if len(risks) > MAX_RISKS:
        return f"{len(risks)} risk areas (at most {MAX_RISKS})"
    if _repeats(said) or _repeats(risks) or _looping(summary) or _norm(title) == _norm(summary):
        return "the answer repeats itself"
    names = facts.names()
    for part, what in ((title, "title"), (summary, "summary"), ("; ".join(risks), "risks")):
        bad = ungrounded(part, names)
        if bad:
            return f"the {what} names {bad[0]!r}, which is not in the facts"
    return Description(str(kind), float(confidence), title, summary, risks, "model")


def describe(facts: Facts, facts_text: str, digest: str, backend: Backend | None,
             cache: AnswerCache, timeout: float) -> Description:
    """The validated model description, else the facts-only one (``rejected`` says why)."""
    if backend is None:
        return from_facts(facts)
    from reviewer.llm.backend import DEFAULT_PARAMS, GenParams, LLMError
    from reviewer.llm.cache import cache_key

    params = GenParams(max_tokens=256, temperature=DEFAULT_PARAMS.temperature,
                       seed=DEFAULT_PARAMS.seed)
    messages = prompt(facts, facts_text)
    key = cache_key(PROMPT_VERSION, backend.identity(), params.key(), digest,
                    json.dumps(messages, sort_keys=True))
    hit = cache.get(key)
    calls = 0
    if hit is not None:
        text = hit[0]
    else:
        try:
            calls = 1
            text = backend.complete(messages, json_schema=SCHEMA, params=params,
                                    timeout=timeout).text
        except LLMError as exc:
            out = from_facts(facts, f"model: {exc}")
            out.model_calls = calls
            return out
        cache.put(key, text, {"kind": "describe"})
    got = validate(text, facts)
    out = got if isinstance(got, Description) else from_facts(facts, got)
    out.model_calls, out.cached = calls, hit is not None
    return out
