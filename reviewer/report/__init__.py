"""Reporters: each turns a whole :class:`~reviewer.engine.Result` into text.

A plain dict registry of name -> function; formatters see all findings at once (SARIF and
JSON need the full set). Reporters never decide the exit code: the Result does.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.engine import Result
    from reviewer.findings import Severity


class TaughtRule(Protocol):
    """What a reporter reads of a taught principle (``reviewer.feedback.taught.Principle``,
    passed in by the caller: reporters sit below the learning layer)."""

    @property
    def id(self) -> str: ...
    @property
    def slug(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def examples_bad(self) -> tuple[str, ...]: ...
    @property
    def examples_good(self) -> tuple[str, ...]: ...
    def summary(self) -> str: ...


@dataclass(frozen=True)
class ReportContext:
    """What a reporter may need besides the findings."""

    root: Path
    config: Config
    color: bool = False
    # Show a short code frame under each finding (text format on a terminal).
    code_frame: bool = False
    # The reviewed content where it differs from the file on disk (the staged version with
    # --staged): code frames and fix diffs are shown against it. Path -> raw bytes.
    contents: Mapping[str, bytes] = field(default_factory=dict)
    # Text format: the short fingerprint after each headline (``check --show-fingerprints``).
    show_fingerprints: bool = False
    # The repository's taught principles (SARIF describes them as rules).
    taught: Sequence[TaughtRule] = ()


Reporter = Callable[["Result", ReportContext], str]

# name -> "module:function", imported only when used.
REPORTERS: dict[str, str] = {
    "text": "reviewer.report.text:render",
    "json": "reviewer.report.json_report:render",
    "sarif": "reviewer.report.sarif:render",
    "github": "reviewer.report.github:render",
}


def get_reporter(name: str) -> Reporter:
    """The reporter function for a format name (KeyError when unknown)."""
    module, func = REPORTERS[name].split(":")
    return getattr(importlib.import_module(module), func)  # type: ignore[no-any-return]
