"""`reviewer export-training`: ChatML records from accepted findings, corrections and the
rule catalogue; the prompts are the ones the reviewer sends; filtering; the seeded split."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo, RunResult

from reviewer.feedback.store import FeedbackStore, Recorded, Verdict
from reviewer.feedback.training import collect, parse_diff, split
from reviewer.llm.answer import parse_answer
from reviewer.rules import all_rules

LIB = '''"""Helpers."""
import os


def add_item(item, items=[]):
    """Add an item."""
    items.append(item)
    return items


class Store:
    """Files."""

    def load(self, path):
        """Read a file."""
        try:
            return open(path).read()
        except:
            return None
'''

EXPLAIN_RV101 = ("The list default is created once and shared by every call, so items from "
                 "one call leak into the next; default to None and create the list inside.")
CORRECTED_RV201 = ("A bare except also catches KeyboardInterrupt; catch the OSError that open "
                   "raises.")


def _db(repo: Repo) -> Path:
    return repo.feedback_db


def _checked(repo: Repo, run_cli: Callable[..., RunResult]) -> dict[str, Recorded]:
    """lib.py reviewed by the real `check` (which records its findings), by rule."""
    repo.write_staged("lib.py", LIB)
    code, _, _ = run_cli("check", "--select", "RV101,RV201")
    assert code == 1
    with FeedbackStore.open(_db(repo), create=False) as store:
        return {f.rule_id: f for f in store.findings()}


def _explain(repo: Repo, finding: Recorded, text: str) -> None:
    """What `check --explain` records when the model explained the finding."""
    with FeedbackStore.open(_db(repo)) as store:
        store.record([replace(finding, explanation=text)])


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(ln) for ln in path.read_text().splitlines()]


def _records(repo: Repo) -> list[dict[str, Any]]:
    out = repo.path / ".reviewer" / "training"
    return _read(out / "train.jsonl") + _read(out / "valid.jsonl")


def test_export_accepted_and_corrected(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    found = _checked(repo, run_cli)
    _explain(repo, found["RV101"], EXPLAIN_RV101)
    assert run_cli("feedback", "accept", found["RV101"].fingerprint[:10])[0] == 0
    fix = repo.write("fix.txt", "except OSError:\n")
    code, _, err = run_cli("feedback", "accept", found["RV201"].fingerprint[:10],
                           "--explanation", CORRECTED_RV201, "--fix", str(fix))
    assert code == 0, err
    code, out, err = run_cli("export-training", "--seed", "3", "--style", "full")
    assert code == 0, err
    assert "prompt style: full" in out
    assert "candidates: 1 accepted" in out and "1 corrected" in out
    assert "dropped: 0 short, 0 broken, 0 duplicate" in out
    records = _records(repo)
    for r in records:  # ChatML: system, user, assistant; the answer is the schema's JSON
        assert [m["role"] for m in r["messages"]] == ["system", "user", "assistant"]
        parse_answer(r["messages"][2]["content"])
    by_origin = {r["meta"]["origin"]: r for r in records}
    accepted, corrected = by_origin["accepted"], by_origin["corrected"]
    assert "catalogue" in by_origin

    answer = json.loads(accepted["messages"][2]["content"])
    # RV101 has its own fix, so the reviewer never asks the model for one: explanation only.
    assert answer == {"explanation": EXPLAIN_RV101, "fixed_code": None}
    # The recorded fix reaches past the flagged `def` line: the record is about the whole
    # function (eval compares against this reference).
    reference = accepted["meta"]["fixed_code"]
    assert reference.startswith("def add_item(item, items=None):\n")
    assert "    if items is None:\n        items = []\n" in reference
    assert accepted["messages"][1]["content"].startswith("lib.py:5: Mutable default argument")

    answer = json.loads(corrected["messages"][2]["content"])
    # RV201 has its own fix now (`except Exception:`, libcst): explanation only, as RV101.
    assert answer == {"explanation": CORRECTED_RV201, "fixed_code": None}
    user = corrected["messages"][1]["content"]
    assert user.startswith("lib.py:18: Bare except")
    assert "It is part of this function:" in user and "def load(self, path):" in user
    untracked = repo.git("status", "--porcelain", "-uall").splitlines()
    assert not [ln for ln in untracked if "training" in ln]


@pytest.mark.parametrize("style", ["full", "small"])
def test_prompts_are_the_ones_the_reviewer_sends(repo: Repo, run_cli: Callable[..., RunResult],
                                                 style: str) -> None:
    """The record's system and user messages equal the inference prompt built on the file."""
    from reviewer.findings import Finding, Span
    from reviewer.llm.backend import estimate_tokens
    from reviewer.llm.prompts import PromptBuilder, find_target

    found = _checked(repo, run_cli)
    _explain(repo, found["RV201"], "A bare except hides every error; name the exception here.")
    run_cli("feedback", "accept", found["RV201"].fingerprint[:10])
    assert run_cli("export-training", "--no-catalogue", "--style", style)[0] == 0
    (record,) = _records(repo)
    assert record["meta"]["style"] == style
    rec = found["RV201"]
    rule = all_rules()["RV201"]
    finding = Finding(rec.rule_id, rec.slug, rec.message, rec.path, Span(rec.line, 9),
                      rule.severity)
    builder = PromptBuilder(estimate_tokens, style=style)
    prompt = builder.build(rule, finding, LIB, find_target(LIB, finding))
    assert record["messages"][0]["content"] == prompt.messages[0]["content"]
    assert record["messages"][1]["content"] == prompt.messages[-1]["content"]


def test_filters_short_broken_and_duplicate(repo: Repo,
                                            run_cli: Callable[..., RunResult]) -> None:
    found = _checked(repo, run_cli)
    with FeedbackStore.open(_db(repo)) as store:
        # Accepted twice (two authors): one record. RV201 has no explanation: broken.
        _explain(repo, found["RV101"], EXPLAIN_RV101)
        for author in ("a@example.com", "b@example.com"):
            store.add_verdict(Verdict(found["RV101"].fingerprint, "accept", author=author))
        store.add_verdict(Verdict(found["RV201"].fingerprint, "accept", author="a"))
        # A short correction, and a finding whose fix does not parse.
        short = replace(found["RV201"], fingerprint="f" * 20, line=18)
        bad = replace(found["RV201"], fingerprint="e" * 20, explanation=EXPLAIN_RV101,
                      fix_diff="@@ -18,1 +18,1 @@\n-        except:\n+        except (:\n")
        store.record([short, bad])
        store.add_verdict(Verdict(short.fingerprint, "accept", author="a",
                                  corrected_explanation="Too short."))
        store.add_verdict(Verdict(bad.fingerprint, "accept", author="a"))
    code, out, _ = run_cli("export-training", "--no-catalogue")
    assert code == 0
    assert "candidates: 4 accepted, 1 corrected" in out
    assert "dropped: 1 short, 2 broken, 1 duplicate, 0 of unknown rules" in out
    assert "written: 1 train, 0 valid" in out
    assert len(_records(repo)) == 1


def test_split_is_seeded_and_ninety_ten() -> None:
    records, report = collect([], all_rules())
    assert report.candidates["catalogue"] == len(records) >= 5
    train, valid = split(records, seed=1)
    assert len(valid) == max(1, round(len(records) * 0.1))
    assert len(train) + len(valid) == len(records)
    again = split(list(reversed(records)), seed=1)  # the input order does not matter
    assert [r.key() for r in again[1]] == [r.key() for r in valid]
    seeds = {tuple(r.key() for r in split(records, seed=s)[1]) for s in range(6)}
    assert len(seeds) > 1


def test_default_style_is_full(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    """The reviewer gives a model with an adapter the full prompt style: train on it."""
    code, out, _ = run_cli("export-training")
    assert code == 0 and "prompt style: full" in out
    assert all(r["meta"]["style"] == "full" for r in _records(repo))


def test_catalogue_records() -> None:
    """INVALID examples with fixed= code (the rule's autofix: explanation only, from the
    rule's docs) and the fix examples of templates/fix_examples.toml (with their fix)."""
    records, _ = collect([], {"RV102": all_rules()["RV102"]})
    assert records
    answer = json.loads(records[0].messages[2]["content"])
    assert "global" in answer["explanation"] and answer["fixed_code"] is None
    records, _ = collect([], {"RV201": all_rules()["RV201"]}, style="small")
    answers = [json.loads(r.messages[2]["content"]) for r in records]
    # RV201 has its own fix now (libcst): its records carry the explanation only.
    assert answers and all(a["fixed_code"] is None and "except" in a["explanation"]
                           for a in answers)


def test_output_folder_and_errors(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    code, _, err = run_cli("export-training", "--no-catalogue")
    assert code == 2 and "nothing to export" in err
    assert not (repo.path / ".reviewer" / "training").exists()
    code, out, _ = run_cli("export-training", "-o", "data", "--seed", "5")
    assert code == 0 and "written:" in out
    first = (repo.path / "data" / "valid.jsonl").read_text()
    assert run_cli("export-training", "-o", "data", "--seed", "5")[0] == 0
    assert (repo.path / "data" / "valid.jsonl").read_text() == first
    assert not list((repo.path / "data").glob(".*tmp"))


@pytest.mark.parametrize("diff, old, new", [
    ("--- a/x.py\n+++ b/x.py\n@@ -3,2 +3,2 @@\n a\n-b\n+c\n", ("a", "b"), ("a", "c")),
    ("@@ -1 +1,2 @@\n--- x\n+--- y\n+z\n", ("-- x",), ("--- y", "z")),
])
def test_parse_diff(diff: str, old: tuple[str, ...], new: tuple[str, ...]) -> None:
    (hunk,) = parse_diff(diff)
    assert (hunk.old, hunk.new) == (old, new)


def test_parse_diff_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_diff("not a diff")
