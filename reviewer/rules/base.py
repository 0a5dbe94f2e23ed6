"""The rule base class: one rule = one module = one class, with its examples embedded.

A rule's class docstring is its documentation (first line: the summary, the rest: the
rationale). ``VALID`` and ``INVALID`` hold code examples: they are the rule's tests
(``reviewer rules test`` and tests/test_rule_examples.py run every one) and its docs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from reviewer.findings import Finding, Fix, Severity

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


# The file name an example is checked under when it names none, per language.
EXAMPLE_PATHS = {"python": "example.py", "javascript": "example.js",
                 "typescript": "example.ts", "go": "example.go"}


class Implementation:
    """A rule's check for languages other than its class's own ``language``.

    One principle keeps one rule ID across languages: the :class:`Rule` subclass holds the
    ID, message, options and docs (and checks its own ``language``); an ``Implementation``
    subclass in ``reviewer/rules/<family>/`` names the rule by ``rule_id``, the languages it
    checks, and its own VALID/INVALID examples (files named ``example.js``, ``.ts``,
    ``.go``...), which are tests and docs like the rule's. The context a language plug-in
    hands to :meth:`check` is that plug-in's own (tree-sitter based for JS/TS/Go).
    """

    rule_id: ClassVar[str]
    languages: ClassVar[tuple[str, ...]]
    VALID: ClassVar[list[str | Valid]] = []
    INVALID: ClassVar[list[Invalid]] = []

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        """Yield the findings of ``rule`` (its settings in ``rule.settings``) in one file."""
        raise NotImplementedError


class Rule:
    """Base class. Subclasses set the metadata below and implement :meth:`check`.

    ``language`` is the language :meth:`check` is written for; further languages are
    added by :class:`Implementation` classes (``languages()`` lists them all).
    """

    id: ClassVar[str]  # stable, e.g. "RV101"
    slug: ClassVar[str]  # stable, e.g. "mutable-default-argument"
    principle: ClassVar[str]  # id of a principle in the catalogue (rules/*.toml)
    language: ClassVar[str] = "python"
    # Further languages :meth:`check` itself reads (TypeScript for a JavaScript rule).
    dialects: ClassVar[tuple[str, ...]] = ()
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
    # A finding that carries the rule's own fix is explained by the model, not rewritten:
    # the rule's fix is shown. True where that fix is unsafe and a model can better it
    # (RV201's ``except Exception:`` says nothing of why errors are caught): the model is
    # asked for a fix even so, and the validator decides.
    model_betters_fix: ClassVar[bool] = False
    # The small prompt style shows only the flagged lines (a small model shown a whole
    # function rewrites it). True where the answer is about that code (RV401: a docstring
    # must say what the body does): the function, or the module's outline, is shown too.
    shows_context: ClassVar[bool] = False
    # True where the rule always places the model's words itself (fix_from_answer): when
    # it cannot, the model's code is not used as written either (no fix).
    places_answer: ClassVar[bool] = False
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

    # Filled by reviewer.rules.all_rules(): language -> the implementation for it.
    implementations: ClassVar[Mapping[str, type[Implementation]]] = {}

    def check(self, ctx: Any) -> Iterator[Finding]:
        """Yield findings for one parsed file of :attr:`language`."""
        raise NotImplementedError

    def run(self, ctx: Any) -> Iterator[Finding]:
        """The findings in one parsed file of any of the rule's languages."""
        language: str = ctx.language
        if language == self.language or language in self.dialects:
            return self.check(ctx)
        _load_implementations()
        impl = self.implementations.get(language)
        if impl is None:
            return iter(())
        return impl().check(self, ctx)

    @classmethod
    def languages(cls) -> tuple[str, ...]:
        """Every language the rule checks, its own first."""
        _load_implementations()
        own = () if cls.language in cls.implementations else (cls.language,)
        return own + cls.dialects + tuple(cls.implementations)

    @classmethod
    def examples(cls) -> tuple[list[Valid], list[Invalid]]:
        """Every VALID and INVALID example, the class's and its implementations'."""
        _load_implementations()
        default = EXAMPLE_PATHS.get(cls.language, "example.py")
        valid = [v if isinstance(v, Valid) else Valid(v, path=default) for v in cls.VALID]
        invalid = list(cls.INVALID)
        seen: set[type[Implementation]] = set()
        for lang, impl in cls.implementations.items():
            if impl in seen:
                continue
            seen.add(impl)
            path = EXAMPLE_PATHS.get(lang, "example.py")
            valid += [v if isinstance(v, Valid) else Valid(v, path=path) for v in impl.VALID]
            invalid += impl.INVALID
        return valid, invalid

    @classmethod
    def has_local_fix(cls, finding: Finding) -> bool:
        """Whether an edit of this finding's lines can be right (:attr:`local_fix` unless a
        rule tells its findings apart: RV102's rebinding ``global`` needs the function's
        signature and its callers changed, its useless one is deleted)."""
        return cls.local_fix

    @classmethod
    def fix_from_answer(cls, source: str, finding: Finding, code: str) -> Fix | None:
        """The fix the rule builds from a model's answer, where the model supplies words and
        where they go is mechanical (RV401: the docstring's text, placed by the rule; the
        rest of the model's code is ignored). ``code`` is the fixed code as the model wrote
        it (dedented). None (the default): the model's code replaces the flagged lines."""
        return None

    @classmethod
    def answer_prefix(cls, finding: Finding) -> str | None:
        """How the model's fixed code must begin for this finding, where the rule knows
        better than the flagged line's first word (RV401's module docstring: the docstring's
        quotes, since a small model echoes the module instead); None: the default."""
        return None

    @classmethod
    def unplaced_reason(cls, source: str, finding: Finding, code: str) -> str | None:
        """Why :meth:`fix_from_answer` found nothing to place in ``code`` when asking again
        could help (the model wrote no docstring), as a complaint for the next pass; None
        when it cannot (no place for one), or for rules that place nothing."""
        return None

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

        valid, invalid = cls.examples()
        return {
            "id": cls.id,
            "slug": cls.slug,
            "language": cls.language,
            "languages": list(cls.languages()),
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
                "valid": [v.code for v in valid],
                "invalid": [
                    {"code": i.code, "line": i.line, "fixed": i.fixed} for i in invalid
                ],
                "valid_paths": [v.path for v in valid],
                "invalid_paths": [i.path for i in invalid],
            },
        }


# Set by the registry (reviewer.rules, which imports every rule module): the base knows the
# registry only through this hook, so the two modules do not import each other.
_implementation_loader: Callable[[], None] | None = None


def set_implementation_loader(load: Callable[[], None]) -> None:
    """Register the function that attaches the per-language implementations."""
    global _implementation_loader
    _implementation_loader = load


def _load_implementations() -> None:
    """Attach the per-language implementations to the rules (once; see reviewer.rules)."""
    if _implementation_loader is not None:
        _implementation_loader()
