"""``/v1/review`` with ``describe: true``: the change of a request described as
``reviewer describe --format json`` describes a change in git.

The request's base contents become a commit of a temporary git repository and its new
contents the index on top of it, so the facts (files, definitions, signatures and their
callers among the request's files, dependencies, tests, findings) come from the very
code ``reviewer describe`` runs; the model part runs only when the request explains.
``facts.change`` is "in the request" and ``facts.base`` null (there is no commit the
client knows).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.llm.backend import Backend

LABEL = "in the request"
_IDENTITY = ("-c", "user.name=reviewer", "-c", "user.email=reviewer@localhost",
             "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null")


def _write(root: Path, files: Mapping[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")


def describe_change(config: Config, base: Mapping[str, str], new: Mapping[str, str],
                    removed: set[str], *, backend: Backend | None, cache_dir: Path | None,
                    timeout: float) -> dict[str, Any]:
    """The ``reviewer describe --format json`` object of the change from ``base`` to
    ``base`` overlaid with ``new``, less ``removed`` (the model's part when ``backend``)."""
    from reviewer import diff
    from reviewer.describe import model
    from reviewer.describe.changes import Change
    from reviewer.describe.facts import collect
    from reviewer.describe.render import as_json, facts_text
    from reviewer.llm.cache import AnswerCache

    with tempfile.TemporaryDirectory(prefix="reviewer-describe-") as tmp:
        root = Path(tmp)
        diff.git(root, "init", "-q")
        old: str | None = None
        if base:
            _write(root, base)
            diff.git(root, "add", "-A")
            diff.git(root, *_IDENTITY, "commit", "-q", "--no-verify", "-m", "base")
            old = diff.git(root, "rev-parse", "HEAD").stdout.decode().strip()
        _write(root, new)
        for rel in removed:
            (root / rel).unlink(missing_ok=True)
        diff.git(root, "add", "-A")
        change = Change(root, old, "index", LABEL)
        facts = collect(change, config)
        if backend is None or not facts.files:
            got = model.from_facts(facts)
        else:
            path = cache_dir / "llm-answers.sqlite3" if cache_dir is not None else None
            with AnswerCache(path) as cache:
                got = model.describe(facts, facts_text(facts), change.digest(), backend,
                                     cache, timeout)
        out: dict[str, Any] = json.loads(as_json(facts, got))
    out["facts"]["base"] = None  # the temporary commit means nothing to the client
    return out
