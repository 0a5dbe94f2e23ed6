"""Which unused suppression comments of a buffer to show (``report-unused-suppressions``):
the same choice as ``check`` makes (:func:`reviewer.engine.reported_unused`); in
``onlyChanged`` mode only those on changed lines.
"""

from __future__ import annotations

from pathlib import Path

from reviewer.config import Config
from reviewer.suppressions import Unused


def relevant(unused: list[Unused], root: Path, cfg: Config,
             changes: dict[str, set[int] | None] | None) -> list[Unused]:
    """The unused suppressions ``check`` would report for this buffer."""
    from reviewer.engine import reported_unused
    from reviewer.feedback.taught import taught_rules

    taught = [c for p in taught_rules(root, cfg) for c in (p.id, p.slug)]
    return reported_unused(unused, cfg, taught, changes)
