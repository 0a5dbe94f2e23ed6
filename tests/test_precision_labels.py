"""bench/precision_labels.jsonl: the hand-judged findings of bench/precision.py stay
well-formed (every field, a known rule and label, a reason, one label per finding)."""

from __future__ import annotations

import json
from pathlib import Path

from reviewer.rules import all_rules

LABELS = Path(__file__).resolve().parents[1] / "bench" / "precision_labels.jsonl"
FIELDS = ("project", "path", "line", "rule", "code", "fingerprint", "label", "reason", "round")


def test_labels_are_well_formed_and_unique() -> None:
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 100
    keys = set()
    rules = all_rules()
    for row in rows:
        assert tuple(row) == FIELDS, row
        assert row["rule"] in rules, row
        assert row["label"] in ("real", "false", "debatable"), row
        assert row["reason"].strip() and row["code"].strip(), row
        assert isinstance(row["line"], int) and row["line"] > 0, row
        assert len(row["fingerprint"]) >= 16, row
        # Labels point at corpus files by path; none may copy the code itself beyond a line.
        assert "\n" not in row["code"], row
        key = (row["project"], row["path"], row["rule"], row["fingerprint"])
        assert key not in keys, f"labelled twice: {key}"
        keys.add(key)
