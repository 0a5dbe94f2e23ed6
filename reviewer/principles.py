"""The principle catalogue: what each principle means, why it matters, what enforces it.

The catalogue is data: one TOML file per principle in the top-level ``rules/`` folder,
shipped inside the installed package as the data package ``reviewer.catalogue`` (see the
package-dir mapping in pyproject.toml). That name belongs to the data, so this loader lives
here. Which rules enforce a principle is not written in the catalogue: it is derived from
each rule's ``principle`` attribute, so the two cannot disagree.

A catalogue file holds exactly these keys::

    id = "no-hidden-state"            # equals the file name without .toml
    title = "No hidden shared state"
    statement = "..."                 # the principle in one or two sentences
    rationale = "..."                 # why it matters
    judged_by = "checks"              # or "model": no deterministic check decides it
    methods = ["...", ...]            # what the model's explanations should reflect
    references = [{ title = "...", url = "https://..." }, ...]
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from reviewer.errors import EXIT_INTERNAL, ReviewerError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:  # pragma: no cover
        from importlib.abc import Traversable

    from reviewer.rules.base import Rule

PACKAGE = "reviewer.catalogue"
JUDGED_BY = ("checks", "model")
FIELDS = ("id", "title", "statement", "rationale", "judged_by", "methods", "references")


@dataclass(frozen=True)
class Reference:
    """A link to the outside source behind a principle (OWASP, CWE, a PEP...)."""

    title: str
    url: str


@dataclass(frozen=True)
class Principle:
    """One engineering principle of the catalogue."""

    id: str
    title: str
    statement: str
    rationale: str
    # "checks": deterministic rules enforce it; "model": it is left to the model's judgement.
    judged_by: str
    methods: tuple[str, ...]
    references: tuple[Reference, ...]

    @property
    def model_judged(self) -> bool:
        """True when no deterministic check decides this principle."""
        return self.judged_by == "model"


class CatalogueError(ReviewerError):
    """A catalogue file is missing or malformed: the installation is broken (exit code 3)."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"principle catalogue {source}: {problem}", EXIT_INTERNAL)


# -- parsing -------------------------------------------------------------------------------
def _text(data: Mapping[str, Any], key: str, source: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(source, f"{key!r} must be a non-empty string")
    return value.strip()


def _texts(data: Mapping[str, Any], key: str, source: str) -> tuple[str, ...]:
    value = data.get(key)
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise CatalogueError(source, f"{key!r} must be a non-empty list of strings")
    return tuple(v.strip() for v in value)


def _references(data: Mapping[str, Any], source: str) -> tuple[Reference, ...]:
    value = data.get("references")
    if not isinstance(value, list) or not value:
        raise CatalogueError(source, "'references' must be a non-empty list of {title, url}")
    refs = []
    for i, item in enumerate(value):
        where = f"references[{i}]"
        if not isinstance(item, dict) or set(item) != {"title", "url"}:
            raise CatalogueError(source, f"{where} must have exactly 'title' and 'url'")
        ref = Reference(_text(item, "title", source), _text(item, "url", source))
        if not ref.url.startswith("https://"):
            raise CatalogueError(source, f"{where}: url must start with https://")
        refs.append(ref)
    return tuple(refs)


def parse_principle(text: str, source: str, expected_id: str | None = None) -> Principle:
    """One catalogue file's text as a Principle; CatalogueError names what is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(source, f"not valid TOML: {exc}") from None
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise CatalogueError(
            source, f"unknown key(s) {', '.join(unknown)} (known: {', '.join(FIELDS)})"
        )
    principle = Principle(
        id=_text(data, "id", source),
        title=_text(data, "title", source),
        statement=_text(data, "statement", source),
        rationale=_text(data, "rationale", source),
        judged_by=_text(data, "judged_by", source),
        methods=_texts(data, "methods", source),
        references=_references(data, source),
    )
    if principle.judged_by not in JUDGED_BY:
        raise CatalogueError(source, f"'judged_by' must be one of {', '.join(JUDGED_BY)}")
    if expected_id is not None and principle.id != expected_id:
        raise CatalogueError(source, f"id {principle.id!r} does not match the file name")
    return principle


# -- loading -------------------------------------------------------------------------------
def _package_root() -> Traversable:
    try:
        return files(PACKAGE)
    except ModuleNotFoundError:
        raise CatalogueError(PACKAGE, "the data package is not installed") from None


def load_catalogue(source: Traversable | None = None) -> dict[str, Principle]:
    """Every principle in ``source`` (default: the installed catalogue), in id order."""
    root = source if source is not None else _package_root()
    found: dict[str, Principle] = {}
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        try:
            text = entry.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CatalogueError(entry.name, f"cannot be read: {exc}") from None
        principle = parse_principle(text, entry.name, expected_id=entry.name[: -len(".toml")])
        found[principle.id] = principle
    if not found:
        raise CatalogueError(str(root), "no principle files (*.toml) found")
    return found


@lru_cache(maxsize=1)
def _installed() -> Mapping[str, Principle]:
    return load_catalogue()


def catalogue() -> dict[str, Principle]:
    """The installed catalogue by principle id (loaded once)."""
    return dict(_installed())


def checks_by_principle(rules: Iterable[type[Rule]] | None = None) -> dict[str, tuple[str, ...]]:
    """Rule IDs grouped by the principle each rule declares (default: the built-in rules)."""
    if rules is None:
        from reviewer.rules import all_rules

        rules = all_rules().values()
    grouped: dict[str, list[str]] = {}
    for rule in rules:
        grouped.setdefault(rule.principle, []).append(rule.id)
    return {pid: tuple(sorted(ids)) for pid, ids in sorted(grouped.items())}


def describe(principle: Principle, checks: Iterable[str]) -> dict[str, Any]:
    """A principle as plain JSON-able data, with the rules that enforce it."""
    return {
        "id": principle.id,
        "title": principle.title,
        "statement": principle.statement,
        "rationale": principle.rationale,
        "judged_by": principle.judged_by,
        "checks": list(checks),
        "methods": list(principle.methods),
        "references": [{"title": r.title, "url": r.url} for r in principle.references],
    }


def format_text(entries: Iterable[Mapping[str, Any]]) -> str:
    """The catalogue as text: id and title, the statement, and what enforces it."""
    lines = []
    for e in entries:
        checks = ", ".join(e["checks"]) or "none"
        judged = "; judged by the model (planned)" if e["judged_by"] == "model" else ""
        lines.append(f"{e['id']:<22} {e['title']}")
        lines.append(f"    {e['statement']}")
        lines.append(f"    checks: {checks}{judged}")
    return "".join(line + "\n" for line in lines)
