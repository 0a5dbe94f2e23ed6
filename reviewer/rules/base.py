"""The rule base class: one rule = one module = one class, with its examples embedded.

A rule's class docstring is its documentation (first line: the summary, the rest: the
rationale). ``VALID`` and ``INVALID`` hold code examples: they are the rule's tests
(``reviewer rules test`` and tests/test_rule_examples.py run every one) and its docs.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from reviewer.findings import Finding, Severity

if TYPE_CHECKING:
    from reviewer.languages.python import PyContext

OptionValue = int | float | str | bool | tuple[str, ...]


@dataclass(frozen=True)
class Invalid:
    """An example the rule must flag.

    ``line``: the 1-based line (in the dedented example) where the finding must be reported;
    ``fixed``: the expected code after applying the rule's deterministic fix (the fix is then
    required to exist); ``path``: the file name the example is checked under.
    ``options``: rule options to use for this example.
    """

    code: str
    line: int | None = None
    fixed: str | None = None
    path: str = "example.py"
    options: Mapping[str, OptionValue] | None = None


@dataclass(frozen=True)
class Valid:
    """An example the rule must not flag (a plain string in VALID means path example.py)."""

    code: str
    path: str = "example.py"
    options: Mapping[str, OptionValue] | None = None


class Rule:
    """Base class. Subclasses set the metadata below and implement :meth:`check`."""

    id: ClassVar[str]  # stable, e.g. "RV101"
    slug: ClassVar[str]  # stable, e.g. "mutable-default-argument"
    principle: ClassVar[str]  # id of a principle in the catalogue (rules/*.toml)
    language: ClassVar[str] = "python"
    severity: ClassVar[Severity] = Severity.MEDIUM
    message: ClassVar[str]  # the default one-sentence statement of the problem
    # Equivalent checks elsewhere: {"ruff": "B006", "pylint": "dangerous-default-value", ...}
    counterparts: ClassVar[Mapping[str, str]] = {}
    options: ClassVar[Mapping[str, OptionValue]] = {}
    tags: ClassVar[tuple[str, ...]] = ()
    # CVSS-like 0.1..10 for security rules (SARIF ``security-severity``), else None.
    security_severity: ClassVar[float | None] = None
    # True when findings cover a whole function (the `added` diff filter uses the scope).
    whole_function: ClassVar[bool] = False
    # Deterministic fixes are offered (the `fix` command applies them).
    fixable: ClassVar[bool] = False
    # Rules whose findings may take the place of this rule's after its fix (a bare
    # ``except:`` made ``except Exception:`` is then RV202's to report): `fix` accepts them.
    fix_leaves: ClassVar[tuple[str, ...]] = ()
    # False when no fix of the flagged lines can be right (pickle on data from elsewhere
    # needs another format; a function too long needs a redesign): the model is not asked
    # for one and none is shown.
    local_fix: ClassVar[bool] = True
    VALID: ClassVar[list[str | Valid]] = []
    INVALID: ClassVar[list[Invalid]] = []

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        merged: dict[str, Any] = dict(self.options)
        if options:
            unknown = set(options) - set(merged)
            if unknown:
                raise ValueError(
                    f"{self.id}: unknown option(s) {', '.join(sorted(unknown))}"
                    f" (known: {', '.join(sorted(merged)) or 'none'})"
                )
            for key, value in options.items():
                default = merged[key]
                if isinstance(default, tuple) and isinstance(value, list):
                    value = tuple(value)
                int_for_float = isinstance(default, float) and isinstance(value, int)
                same_type = isinstance(value, type(default)) or int_for_float
                if isinstance(default, bool) != isinstance(value, bool) or not same_type:
                    raise ValueError(
                        f"{self.id}: option {key!r} must be {type(default).__name__},"
                        f" got {value!r}"
                    )
                merged[key] = value
        self.settings: Mapping[str, Any] = merged

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        """Yield findings for one parsed file."""
        raise NotImplementedError

    # -- metadata helpers ---------------------------------------------------------------
    @classmethod
    def summary(cls) -> str:
        """The first line of the docstring."""
        doc = inspect.getdoc(cls) or cls.message
        return doc.strip().splitlines()[0]

    @classmethod
    def rationale(cls) -> str:
        """The docstring after its first paragraph (why the rule exists)."""
        doc = inspect.getdoc(cls) or ""
        parts = doc.strip().split("\n\n", 1)
        return parts[1].strip() if len(parts) > 1 else ""

    @classmethod
    def metadata(cls) -> dict[str, Any]:
        """Everything about the rule as plain JSON-able data."""

        def valid_code(v: str | Valid) -> str:
            return v if isinstance(v, str) else v.code

        return {
            "id": cls.id,
            "slug": cls.slug,
            "language": cls.language,
            "principle": cls.principle,
            "severity": cls.severity.label,
            "message": cls.message,
            "summary": cls.summary(),
            "rationale": cls.rationale(),
            "counterparts": dict(cls.counterparts),
            "options": {k: list(v) if isinstance(v, tuple) else v for k, v in cls.options.items()},
            "tags": list(cls.tags),
            "security_severity": cls.security_severity,
            "fixable": cls.fixable,
            "examples": {
                "valid": [valid_code(v) for v in cls.VALID],
                "invalid": [
                    {"code": i.code, "line": i.line, "fixed": i.fixed} for i in cls.INVALID
                ],
            },
        }
