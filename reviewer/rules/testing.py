"""Run the examples embedded in rules: every VALID must be clean, every INVALID must fire.

Used by ``reviewer rules test`` and by tests/test_rule_examples.py (one generic test for
every example of every rule).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass

from reviewer.findings import apply_edits
from reviewer.languages import detect
from reviewer.rules.base import Invalid, Rule, Valid


@dataclass(frozen=True)
class ExampleResult:
    """The outcome of one embedded example."""

    rule_id: str
    kind: str  # "valid" or "invalid"
    index: int
    ok: bool
    detail: str = ""


def _run(rule_cls: type[Rule], code: str, path: str, options: object) -> list:  # type: ignore[type-arg]
    rule = rule_cls(options)  # type: ignore[arg-type]
    lang = detect(path, code.encode()[:256])
    if lang is None:
        raise ValueError(f"{rule_cls.id}: no language plug-in reads example file {path!r}")
    return [f for f in lang.review(path, code, [rule]) if f.rule_id == rule_cls.id]


def check_valid(rule_cls: type[Rule], index: int, example: str | Valid) -> ExampleResult:
    """A VALID example must produce no finding of the rule."""
    ex = example if isinstance(example, Valid) else Valid(example)
    code = textwrap.dedent(ex.code)
    found = _run(rule_cls, code, ex.path, ex.options)
    if found:
        where = ", ".join(f"line {f.span.line}: {f.message}" for f in found)
        return ExampleResult(rule_cls.id, "valid", index, False, f"unexpected finding(s): {where}")
    return ExampleResult(rule_cls.id, "valid", index, True)


def check_invalid(rule_cls: type[Rule], index: int, ex: Invalid) -> ExampleResult:
    """An INVALID example must fire (on ``line`` if given) and fix to ``fixed`` if given."""
    code = textwrap.dedent(ex.code)
    found = _run(rule_cls, code, ex.path, ex.options)
    if not found:
        return ExampleResult(rule_cls.id, "invalid", index, False, "no finding")
    if ex.line is not None and not any(f.span.line == ex.line for f in found):
        lines = sorted({f.span.line for f in found})
        return ExampleResult(
            rule_cls.id, "invalid", index, False, f"expected line {ex.line}, got {lines}"
        )
    if ex.fixed is not None:
        fixes = [f.fix for f in found if f.fix is not None]
        if not fixes:
            return ExampleResult(rule_cls.id, "invalid", index, False, "no fix offered")
        edits = [e for fx in fixes for e in fx.edits]
        try:
            fixed = apply_edits(code, edits)
        except ValueError as exc:
            return ExampleResult(rule_cls.id, "invalid", index, False, f"fix failed: {exc}")
        want = textwrap.dedent(ex.fixed)
        if fixed != want:
            return ExampleResult(
                rule_cls.id, "invalid", index, False,
                f"fix mismatch:\n--- expected\n{want}\n--- got\n{fixed}",
            )
        if _run(rule_cls, fixed, ex.path, ex.options):
            return ExampleResult(rule_cls.id, "invalid", index, False, "rule still fires after fix")
    return ExampleResult(rule_cls.id, "invalid", index, True)


def run_examples(rule_cls: type[Rule]) -> Iterator[ExampleResult]:
    """Every example of one rule."""
    valid, invalid = rule_cls.examples()
    for i, v in enumerate(valid):
        yield check_valid(rule_cls, i, v)
    for i, inv in enumerate(invalid):
        yield check_invalid(rule_cls, i, inv)
