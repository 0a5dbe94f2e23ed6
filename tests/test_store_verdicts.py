"""The verdicts store: findings recorded by `check`, verdicts, vectors, JSONL round trips."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Repo, RunResult

from reviewer.errors import ReviewerError
from reviewer.feedback.store import FeedbackStore, Recorded, Verdict

CODE = '''"""Doc."""


def load(path: str) -> str:
    """Read."""
    try:
        return open(path).read()
    except:
        return ""
'''


def _store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore.open(tmp_path / ".reviewer" / "feedback.db")


def _finding(fp: str = "abcdef0123456789abcd", rule: str = "RV201") -> Recorded:
    return Recorded(fingerprint=fp, rule_id=rule, slug="bare-except", message="Bare except",
                    path="a.py", line=3, code="except:", seen_at="2026-11-01T00:00:00Z")


def test_check_records_what_it_reports(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write_staged("a.py", CODE)
    code, out, _ = run_cli("check", "--format", "json", "--select", "RV201")
    assert code == 1
    reported = json.loads(out)["findings"]
    with FeedbackStore.open(repo.feedback_db, create=False) as store:
        recorded = store.findings()
    assert [r.fingerprint for r in recorded] == [f["fingerprint"] for f in reported]
    rec = recorded[0]
    assert (rec.rule_id, rec.path, rec.line, rec.code) == ("RV201", "a.py", 8, "except:")
    # The function's lines only: the text is filled in when a verdict is given.
    assert rec.function == "" and rec.function_start <= 8 <= rec.function_end
    assert run_cli("feedback", "accept", rec.fingerprint[:8])[0] == 0
    with FeedbackStore.open(repo.feedback_db, create=False) as store:
        judged = store.finding(rec.fingerprint)
    assert judged is not None and judged.function.startswith("def load(path: str) -> str:")
    assert "feedback.db" in (repo.path / ".reviewer" / ".gitignore").read_text()
    untracked = repo.git("status", "--porcelain", "-uall").splitlines()
    assert [ln for ln in untracked if ".reviewer" in ln] == ["?? .reviewer/.gitignore"]


def test_record_findings_off_writes_nothing(repo: Repo,
                                           run_cli: Callable[..., RunResult]) -> None:
    repo.write("pyproject.toml", "[tool.reviewer]\nrecord-findings = false\n")
    repo.write_staged("a.py", CODE)
    assert run_cli("check", "--select", "RV201")[0] == 1
    assert not (repo.feedback_db).exists()


def test_unreadable_database_is_a_warning_not_a_failure(
        repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    (repo.path / ".reviewer").mkdir()
    (repo.feedback_db).write_bytes(b"this is not sqlite" * 100)
    repo.write_staged("a.py", CODE)
    code, out, err = run_cli("check", "--select", "RV201")
    assert code == 1 and "RV201" in out
    # One line for the broken database (the learned step reads it first and says so).
    (line,) = err.strip().splitlines()
    assert "not a database" in line and "Traceback" not in err


def test_resolve_prefixes(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        store.record([_finding("abcdef0123456789abcd"), _finding("abcd99", "RV202")])
        assert store.resolve("ABCDEF").fingerprint == "abcdef0123456789abcd"
        with pytest.raises(ReviewerError, match="ambiguous"):
            store.resolve("abcd")
        with pytest.raises(ReviewerError, match="no recorded finding"):
            store.resolve("ffff")
        with pytest.raises(ReviewerError, match="not a fingerprint"):
            store.resolve("xyz!")


def test_latest_verdict_per_author_counts(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        store.record([_finding()])
        fp = _finding().fingerprint
        first = Verdict(fp, "dismiss", "noise", "ann", created_at="2026-11-01T00:00:00Z")
        assert store.add_verdict(first)
        assert not store.add_verdict(first)
        store.add_verdict(Verdict(fp, "accept", "", "ann", created_at="2026-11-02T00:00:00Z"))
        store.add_verdict(Verdict(fp, "dismiss", "", "bob", created_at="2026-11-03T00:00:00Z"))
        latest = store.verdicts()
        assert [(j.verdict.author, j.verdict.verdict) for j in latest] == [
            ("ann", "accept"), ("bob", "dismiss")]
        assert len(store.verdicts(latest=False)) == 3
        assert store.latest(fp) is not None and store.latest(fp).author == "bob"  # type: ignore[union-attr]
        with pytest.raises(ReviewerError, match="unknown verdict"):
            store.add_verdict(Verdict(fp, "maybe"))


def test_recording_keeps_an_earlier_explanation(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        first = _finding()
        store.record([Recorded(**{**first.__dict__, "explanation": "why"})])
        store.record([Recorded(**{**first.__dict__, "line": 9})])
        again = store.finding(first.fingerprint)
        assert again is not None and again.line == 9 and again.explanation == "why"


def test_jsonl_round_trip_merges_idempotently(tmp_path: Path) -> None:
    buf = io.StringIO()
    with FeedbackStore.open(tmp_path / "a.db") as a:
        a.record([_finding()])
        a.add_verdict(Verdict(_finding().fingerprint, "dismiss", "style", "ann",
                              created_at="2026-11-01T00:00:00Z"))
        assert a.export_jsonl(buf) == 1
    lines = buf.getvalue().splitlines()
    with FeedbackStore.open(tmp_path / "b.db") as b:
        assert b.import_jsonl(lines) == (1, 0)
        assert b.import_jsonl(lines) == (0, 1)
        assert b.finding(_finding().fingerprint) == _finding()
        assert b.verdicts()[0].verdict.reason == "style"


def test_malformed_jsonl_changes_nothing(tmp_path: Path) -> None:
    good = json.dumps({"verdict": {"fingerprint": "ab12", "verdict": "accept",
                                   "created_at": "2026-11-01T00:00:00Z"}, "finding": None})
    with FeedbackStore.open(tmp_path / "b.db") as b:
        with pytest.raises(ReviewerError, match=r"team\.jsonl:2: not a verdict record"):
            b.import_jsonl([good, '{"verdict": {"verdict": "perhaps"}}'], "team.jsonl")
        assert b.verdicts(latest=False) == []


def test_vectors_round_trip(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        store.put_vectors("m1", {"ab": [0.5, -0.25, 1.0]})
        assert store.vectors("m1", ["ab", "cd"]) == {"ab": [0.5, -0.25, 1.0]}
        assert store.vectors("m2", ["ab"]) == {}


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.db"
    FeedbackStore.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(ReviewerError, match="newer reviewer"):
        FeedbackStore.open(path)


def test_schema_1_database_gains_the_function_lines(tmp_path: Path) -> None:
    """A database written before the lazy function text opens, keeps its findings and
    records the new fields."""
    path = tmp_path / "f.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema', '1');"
            "CREATE TABLE findings (fingerprint TEXT PRIMARY KEY, rule_id TEXT NOT NULL,"
            " slug TEXT NOT NULL, message TEXT NOT NULL, path TEXT NOT NULL,"
            " line INTEGER NOT NULL, symbol TEXT NOT NULL DEFAULT '', severity TEXT NOT NULL,"
            " code TEXT NOT NULL DEFAULT '', function TEXT NOT NULL DEFAULT '',"
            " explanation TEXT NOT NULL DEFAULT '', fix_diff TEXT NOT NULL DEFAULT '',"
            " seen_at TEXT NOT NULL);"
            "INSERT INTO findings (fingerprint, rule_id, slug, message, path, line, severity,"
            " function, seen_at) VALUES ('abcdef01', 'RV201', 'bare-except', 'm', 'a.py', 3,"
            " 'low', 'def f():', 'now');")
    conn.close()
    with FeedbackStore.open(path) as store:
        old = store.finding("abcdef01")
        assert old is not None and (old.function, old.function_start) == ("def f():", 0)
        store.record([_finding("0123456789", "RV202")])
        assert store.meta("schema") == "2"
    with FeedbackStore.open(path) as store:  # opened again: nothing left to migrate
        assert {f.fingerprint for f in store.findings()} == {"abcdef01", "0123456789"}


def test_verdict_fills_the_function_only_from_the_unchanged_file(
        repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write_staged("a.py", CODE)
    assert run_cli("check", "--select", "RV201")[0] == 1
    with FeedbackStore.open(repo.feedback_db, create=False) as store:
        (rec,) = store.findings()
    repo.write("a.py", "import os\n" + CODE)  # every line one further down
    assert run_cli("feedback", "dismiss", rec.fingerprint[:8])[0] == 0
    with FeedbackStore.open(repo.feedback_db, create=False) as store:
        judged = store.finding(rec.fingerprint)
    assert judged is not None and judged.function == ""  # not text from another version
