"""``reviewer describe``: what a change is and what it touches, from facts first and the
model second.

- :mod:`~reviewer.describe.changes` reads the change from git (staged, or since a base);
- :mod:`~reviewer.describe.symbols` reads definitions per language (Python: ``ast``);
- :mod:`~reviewer.describe.facts` compares them, finds callers, dependencies, tests and
  the findings of ``check``;
- :mod:`~reviewer.describe.model` asks the local model for type, title, summary and risks,
  validates them against the facts, and falls back to the facts alone;
- :mod:`~reviewer.describe.render` prints text, Markdown or JSON.

:func:`describe` runs the whole thing for the CLI and the PR bot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.describe.changes import Change
    from reviewer.describe.facts import Facts
    from reviewer.describe.model import Description


@dataclass
class Described:
    """The facts of a change and its description."""

    facts: Facts
    description: Description

    def render(self, fmt: str) -> str:
        from reviewer.describe.render import FORMATS

        return FORMATS[fmt](self.facts, self.description)


def describe(change: Change, config: Config, *, explain: bool | None = None,
             findings: bool = True) -> Described:
    """Facts of ``change`` and its description (the model's when ``explain`` — default:
    ``config.explain`` — and its answer passes validation; else the facts alone).

    Model problems never raise: the description says in ``rejected`` why the facts-only
    one is shown.
    """
    import reviewer.describe.model as model
    from reviewer.describe.facts import collect
    from reviewer.describe.render import facts_text

    facts = collect(change, config, findings=findings)
    use_model = config.explain if explain is None else explain
    if not use_model or not facts.files:
        return Described(facts, model.from_facts(facts))
    from reviewer.llm.backend import LLMError, timeout_for
    from reviewer.llm.cache import AnswerCache
    from reviewer.llm.factory import make_backend

    try:
        backend = make_backend(config, change.root)
    except LLMError as exc:
        return Described(facts, model.from_facts(facts, f"model: {exc}"))
    if backend is None:
        return Described(facts, model.from_facts(facts))
    cache_dir = change.root / config.cache_dir if config.cache else None
    try:
        with AnswerCache(None if cache_dir is None else cache_dir / "llm-answers.sqlite3"
                         ) as cache:
            got = model.describe(facts, facts_text(facts), change.digest(), backend, cache,
                                 timeout_for(config))
    finally:
        backend.close()
    return Described(facts, got)
