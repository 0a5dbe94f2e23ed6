"""Baselines: the fingerprints of findings a team has accepted as existing debt.

``reviewer baseline`` writes them; ``reviewer check`` then reports only findings whose
fingerprint is not in the baseline. Fingerprints ignore line numbers, so a finding moved
by an edit above it stays baselined.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from reviewer.errors import ReviewerError
from reviewer.fileio import atomic_write_text
from reviewer.findings import Finding

FORMAT_VERSION = 1


def load_baseline(path: Path) -> set[str]:
    """The fingerprints in a baseline file (empty set when there is none)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return set()
    except OSError as exc:
        raise ReviewerError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    import json  # here: most runs have no baseline file

    try:
        data = json.loads(text)
        return {str(item["fingerprint"]) for item in data["findings"]}
    except (ValueError, KeyError, TypeError):
        raise ReviewerError(
            f"baseline {path} is not a reviewer baseline file; recreate it with"
            " `reviewer baseline`"
        ) from None


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    """Write the baseline atomically; return how many findings it holds."""
    items = sorted(
        (
            {"fingerprint": f.fingerprint, "rule": f.rule_id, "path": f.path,
             "symbol": f.symbol, "message": f.message}
            for f in findings
        ),
        key=lambda d: (d["path"], d["rule"], d["fingerprint"]),
    )
    import json

    doc = {"version": FORMAT_VERSION, "tool": "reviewer", "findings": items}
    atomic_write_text(path, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return len(items)
