"""One generic test runs every embedded example of every rule (Fixit style)."""

from __future__ import annotations

import pytest

from reviewer.rules import all_rules
from reviewer.rules.base import EXAMPLE_PATHS
from reviewer.rules.testing import check_invalid, check_valid

CASES = [
    pytest.param(cls, kind, i, ex, id=f"{rid}-{kind}-{i}")
    for rid, cls in all_rules().items()
    for kind, examples in zip(("valid", "invalid"), cls.examples(), strict=True)
    for i, ex in enumerate(examples)
]


@pytest.mark.parametrize(("cls", "kind", "index", "example"), CASES)
def test_example(cls, kind, index, example) -> None:  # type: ignore[no-untyped-def]
    if kind == "valid":
        result = check_valid(cls, index, example)
    else:
        result = check_invalid(cls, index, example)
    assert result.ok, result.detail


def test_every_rule_has_examples_and_metadata() -> None:
    for rid, cls in all_rules().items():
        assert rid.startswith("RV") and len(rid) == 5, rid
        valid, invalid = cls.examples()
        assert valid and invalid, f"{rid} needs VALID and INVALID examples"
        for lang in cls.languages():
            assert any(v.path.endswith(EXAMPLE_PATHS[lang][7:]) for v in valid), (rid, lang)
            assert any(i.path.endswith(EXAMPLE_PATHS[lang][7:]) for i in invalid), (rid, lang)
        meta = cls.metadata()
        assert meta["summary"] and meta["message"] and meta["principle"], rid
        if cls.fixable:
            assert any(i.fixed for i in cls.INVALID), f"{rid} is fixable but shows no fix"


def test_ids_and_slugs_unique() -> None:
    rules = all_rules().values()
    assert len({r.slug for r in rules}) == len(list(rules))
