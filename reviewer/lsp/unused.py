"""Which unused suppression comments of a buffer to show (``report-unused-suppressions``).

The same choice as ``check`` makes (``reviewer.cli.pipeline.settle_unused``, which the
server may not import from its layer): codes of rules that ran on the file and hid nothing,
codes naming no rule at all, never taught principles' codes; in ``onlyChanged`` mode only
those on changed lines.
"""

from __future__ import annotations

from pathlib import Path

from reviewer.config import Config
from reviewer.suppressions import Unused


def relevant(unused: list[Unused], root: Path, cfg: Config,
             changes: dict[str, set[int] | None] | None) -> list[Unused]:
    """The unused suppressions ``check`` would report for this buffer."""
    from reviewer.diff import line_kept
    from reviewer.engine import is_excluded, known_selector, selected_rules
    from reviewer.feedback.taught import taught_rules
    from reviewer.suppressions import code_matches, relevant_unused

    rules = selected_rules(cfg)

    def enabled(code: str, path: str) -> bool:
        ignored = [i for pat, ids in cfg.per_file_ignores.items()
                   if is_excluded(path, [pat]) for i in ids]
        return any(code_matches(code, r.id, r.slug)
                   and not any(code_matches(i, r.id, r.slug) for i in ignored)
                   for r in rules)

    taught = {c for p in taught_rules(root, cfg) for c in (p.id.lower(), p.slug)}

    def known(code: str) -> bool:
        return known_selector(code) or code.lower() in taught

    out = relevant_unused(unused, enabled, known)
    if changes is not None:
        out = [u for u in out
               if line_kept(u.path, u.line, changes, cfg.diff_filter, cfg.context_lines)]
    return out
