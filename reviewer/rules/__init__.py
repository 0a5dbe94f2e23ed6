"""The built-in rules: every ``rvNNN_*.py`` module in this package defines one Rule class.

The registry is a plain dict built by importing those modules; adding a rule means adding
one module, nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from reviewer.rules.base import Implementation, Rule, set_implementation_loader

# Sub-packages holding the per-language implementations and rules (tree-sitter based).
_FAMILIES = ("js", "golang")


@lru_cache(maxsize=1)
def all_rules() -> dict[str, type[Rule]]:
    """Every built-in rule class by ID, in ID order.

    Only the rule modules themselves are imported here; the per-language implementations
    (``reviewer/rules/js/``, ``reviewer/rules/golang/``) are attached on first need
    (:func:`load_implementations`), so a Python-only review does not import them.
    """
    found: dict[str, type[Rule]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.name.startswith("rv"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Rule)
                and value is not Rule
                and value.__module__ == module.__name__
            ):
                if value.id in found:
                    raise RuntimeError(f"duplicate rule id {value.id} in {info.name}")
                found[value.id] = value
    return dict(sorted(found.items()))


@lru_cache(maxsize=1)
def load_implementations() -> None:
    """Import the per-language implementation modules and attach them to their rules."""
    found = all_rules()
    for family in _FAMILIES:
        package = importlib.import_module(f"{__name__}.{family}")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            if not info.name.startswith("rv"):
                continue
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for value in vars(module).values():
                if not (isinstance(value, type) and issubclass(value, Implementation)
                        and value is not Implementation
                        and value.__module__ == module.__name__):
                    continue
                cls = found.get(value.rule_id)
                if cls is None:
                    raise RuntimeError(f"{module.__name__}: no rule {value.rule_id}")
                table = dict(cls.__dict__.get("implementations", {}))
                for lang in value.languages:
                    table.setdefault(lang, value)
                cls.implementations = table


set_implementation_loader(load_implementations)


def rules_for(language: str) -> dict[str, type[Rule]]:
    """The rule classes that check ``language``, by ID."""
    return {rid: cls for rid, cls in all_rules().items() if language in cls.languages()}


def by_slug() -> dict[str, type[Rule]]:
    """Rule classes keyed by slug."""
    return {cls.slug: cls for cls in all_rules().values()}
