"""The built-in rules: every ``rvNNN_*.py`` module in this package defines one Rule class.

The registry is a plain dict built by importing those modules; adding a rule means adding
one module, nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from reviewer.rules.base import Rule


@lru_cache(maxsize=1)
def all_rules() -> dict[str, type[Rule]]:
    """Every built-in rule class by ID, in ID order."""
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


def by_slug() -> dict[str, type[Rule]]:
    """Rule classes keyed by slug."""
    return {cls.slug: cls for cls in all_rules().values()}
