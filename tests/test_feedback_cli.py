"""`reviewer feedback accept|dismiss|list|export|import` on real repositories."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from reviewer.feedback.store import FeedbackStore, Recorded, Verdict

if TYPE_CHECKING:
    from conftest import Repo

RunCli = Callable[..., tuple[int, str, str]]
JsonRun = Callable[..., tuple[int, dict[str, Any], str]]

CODE = '''\
"""Helpers."""


def add(item: int, items: list[int] = []) -> list[int]:
    """Append ``item``."""
    items.append(item)
    return items


def run(cmd: str) -> object:
    """Run ``cmd``."""
    return eval(cmd)
'''


@pytest.fixture(autouse=True)
def _author(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWER_AUTHOR", "alice@example.com")


def checked(repo: Repo, run_json: JsonRun, code: str = CODE) -> dict[str, str]:
    """Stage ``code`` as util.py, run check; rule id -> fingerprint."""
    repo.write_staged("util.py", code)
    _, report, _ = run_json()
    return {f["rule_id"]: f["fingerprint"] for f in report["findings"]}


def db(repo: Repo) -> Path:
    return repo.feedback_db


def test_json_output_carries_fingerprints_that_verdicts_take(
        repo: Repo, run_json: JsonRun, run_cli: RunCli) -> None:
    fps = checked(repo, run_json)
    assert set(fps) == {"RV101", "RV601"}
    assert all(len(fp) == 20 for fp in fps.values())
    code, out, err = run_cli("feedback", "accept", fps["RV101"][:6])
    assert code == 0, err
    assert out == (f"accepted {fps['RV101'][:12]}: RV101 mutable-default-argument at "
                   "util.py:4\n")
    code, out, err = run_cli("feedback", "dismiss", fps["RV601"][:8].upper(),
                             "--reason", "config is trusted", "--author", "bob")
    assert code == 0, err
    assert out.startswith(f"dismissed {fps['RV601'][:12]}: RV601 eval-exec")
    with FeedbackStore.open(db(repo), create=False) as store:
        by_fp = {j.verdict.fingerprint: j.verdict for j in store.verdicts()}
    assert by_fp[fps["RV101"]].author == "alice@example.com"
    assert by_fp[fps["RV101"]].source == "cli"
    assert by_fp[fps["RV601"]].reason == "config is trusted"
    assert by_fp[fps["RV601"]].author == "bob"


def test_corrections_are_stored(repo: Repo, run_json: JsonRun, run_cli: RunCli) -> None:
    fps = checked(repo, run_json)
    patch = repo.path.parent / "better.diff"
    patch.write_text("-def add(item, items=[]):\n+def add(item, items=None):\n")
    code, _, err = run_cli("feedback", "accept", fps["RV101"][:5], "--explanation",
                           "The list is created once.", "--fix", str(patch))
    assert code == 0, err
    with FeedbackStore.open(db(repo), create=False) as store:
        (judged,) = store.verdicts()
    assert judged.verdict.corrected_explanation == "The list is created once."
    assert judged.verdict.corrected_fix == patch.read_text()
    assert judged.finding is not None and "= [])" in judged.finding.code


@pytest.mark.parametrize("prefix, message", [
    ("zzzz", "is not a fingerprint"),
    ("ab", "is not a fingerprint"),
    ("ffff0000", "no recorded finding has fingerprint ffff0000"),
])
def test_bad_prefixes_are_one_line_errors(repo: Repo, run_json: JsonRun, run_cli: RunCli,
                                          prefix: str, message: str) -> None:
    checked(repo, run_json)
    code, out, err = run_cli("feedback", "dismiss", prefix)
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1 and message in err, err


def test_ambiguous_prefix_names_candidates(repo: Repo, run_json: JsonRun,
                                           run_cli: RunCli) -> None:
    checked(repo, run_json)
    with FeedbackStore.open(db(repo)) as store:  # two fingerprints sharing 8 digits
        store.record([Recorded("beefcafe" + "0" * 12, "RV101", "m", "m", "a.py", 1),
                      Recorded("beefcafe" + "1" * 12, "RV101", "m", "m", "a.py", 2)])
    code, _, err = run_cli("feedback", "accept", "beefcafe")
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "ambiguous" in err and "beefcafe0000" in err and "beefcafe1111" in err
    assert run_cli("feedback", "accept", "beefcafe1")[0] == 0


def test_no_database_yet(repo: Repo, run_cli: RunCli) -> None:
    code, _, err = run_cli("feedback", "accept", "abcd")
    assert code == 2
    assert "run `reviewer check` first" in err and len(err.splitlines()) == 1
    assert not db(repo).exists()
    code, out, _ = run_cli("feedback", "list")
    assert (code, out) == (0, "0 verdicts.\n")


def test_missing_fix_file_is_usage_error(repo: Repo, run_json: JsonRun,
                                         run_cli: RunCli) -> None:
    fps = checked(repo, run_json)
    code, _, err = run_cli("feedback", "accept", fps["RV101"], "--fix", "nope.diff")
    assert code == 2 and "nope.diff" in err and len(err.splitlines()) == 1
    with FeedbackStore.open(db(repo), create=False) as store:
        assert store.verdicts() == []


def test_list_filters_and_json(repo: Repo, run_json: JsonRun, run_cli: RunCli) -> None:
    fps = checked(repo, run_json)
    run_cli("feedback", "accept", fps["RV101"][:6])
    run_cli("feedback", "dismiss", fps["RV601"][:6], "--reason", "trusted input")
    code, out, _ = run_cli("feedback", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[-1] == "2 verdicts."
    assert any(ln.startswith(fps["RV601"][:12]) and '"trusted input"' in ln for ln in lines)
    _, out, _ = run_cli("feedback", "list", "--verdict", "dismiss", "--format", "json")
    records = json.loads(out)
    assert [r["verdict"]["fingerprint"] for r in records] == [fps["RV601"]]
    assert records[0]["finding"]["rule_id"] == "RV601"
    _, out, _ = run_cli("feedback", "list", "--rule", "rv101", "--format", "json")
    assert [r["finding"]["rule_id"] for r in json.loads(out)] == ["RV101"]


def test_latest_verdict_counts_and_history_keeps_all(repo: Repo, run_json: JsonRun,
                                                     run_cli: RunCli) -> None:
    fps = checked(repo, run_json)
    run_cli("feedback", "accept", fps["RV101"][:6])
    with FeedbackStore.open(db(repo)) as store:  # a later change of mind
        store.add_verdict(Verdict(fps["RV101"], "dismiss", "on second thought",
                                  "alice@example.com", "cli", "2999-01-01T00:00:00Z"))
    _, out, _ = run_cli("feedback", "list", "--format", "json")
    assert [r["verdict"]["verdict"] for r in json.loads(out)] == ["dismiss"]
    _, out, _ = run_cli("feedback", "list", "--history", "--format", "json")
    assert [r["verdict"]["verdict"] for r in json.loads(out)] == ["accept", "dismiss"]


def test_export_import_merges_idempotently(repo: Repo, run_json: JsonRun, run_cli: RunCli,
                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    fps = checked(repo, run_json)
    run_cli("feedback", "accept", fps["RV101"][:6])
    run_cli("feedback", "dismiss", fps["RV601"][:6], "--reason", "trusted")
    exported = tmp_path / "out" / "alice.jsonl"
    code, out, err = run_cli("feedback", "export", "-o", str(exported))
    assert code == 0 and out == "" and "2 verdicts written" in err
    lines = exported.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(ln)["finding"] for ln in lines)
    _, stdout_export, _ = run_cli("feedback", "export")
    assert stdout_export == exported.read_text()

    # A teammate's repository with one verdict of its own.
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    from conftest import Repo as RepoClass

    mate = RepoClass(other)
    mate.write("util.py", CODE.replace("eval(cmd)", "eval(cmd + '')"))
    mate.stage("util.py")
    monkeypatch.setenv("REVIEWER_AUTHOR", "bob@example.com")
    _, report, _ = run_json()
    theirs = {f["rule_id"]: f["fingerprint"] for f in report["findings"]}
    run_cli("feedback", "dismiss", theirs["RV601"][:6], "--reason", "bob says no")
    code, out, err = run_cli("feedback", "import", str(exported))
    assert (code, out) == (0, "2 verdicts added, 0 already present.\n"), err
    code, out, _ = run_cli("feedback", "import", str(exported))
    assert out == "0 verdicts added, 2 already present.\n"
    _, out, _ = run_cli("feedback", "list", "--format", "json")
    merged = {(r["verdict"]["author"], r["verdict"]["verdict"]) for r in json.loads(out)}
    assert merged == {("alice@example.com", "accept"), ("alice@example.com", "dismiss"),
                      ("bob@example.com", "dismiss")}
    # The imported findings came with their snapshots: prefixes resolve in the new repo.
    code, out, _ = run_cli("feedback", "accept", fps["RV101"][:8])
    assert code == 0 and "RV101" in out


def test_malformed_import_changes_nothing(repo: Repo, run_json: JsonRun, run_cli: RunCli,
                                          tmp_path: Path) -> None:
    fps = checked(repo, run_json)
    run_cli("feedback", "accept", fps["RV101"][:6])
    good = tmp_path / "good.jsonl"
    run_cli("feedback", "export", "-o", str(good))
    record = json.loads(good.read_text())
    record["verdict"]["author"] = "carol"
    fresh = tmp_path / "fresh.jsonl"
    fresh.write_text(json.dumps(record) + "\n")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(record).replace("carol", "dave") + "\n\n{not json\n")
    before = _rows(db(repo))
    code, out, err = run_cli("feedback", "import", str(fresh), str(bad))
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and f"{bad}:3:" in err
    assert _rows(db(repo)) == before
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text('{"verdict": {"fingerprint": "ab", "verdict": "maybe", '
                     '"created_at": "x"}}\n')
    code, _, err = run_cli("feedback", "import", str(wrong))
    assert code == 2 and f"{wrong}:1:" in err and "maybe" in err
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00")
    code, _, err = run_cli("feedback", "import", str(binary))
    assert code == 2 and "not UTF-8" in err
    assert _rows(db(repo)) == before


def _rows(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT * FROM verdicts ORDER BY id").fetchall()
    finally:
        conn.close()


def test_text_output_shows_fingerprints_on_request(repo: Repo, run_json: JsonRun,
                                                   run_cli: RunCli) -> None:
    fps = checked(repo, run_json)
    _, plain, _ = run_cli("check")
    assert fps["RV101"][:12] not in plain
    code, out, _ = run_cli("check", "--show-fingerprints")
    assert code == 1
    line = next(ln for ln in out.splitlines() if " RV101 " in ln)
    assert line.startswith("util.py:4:39: RV101 ") and line.endswith(f"  [{fps['RV101'][:12]}]")
    shown = line.rsplit("[", 1)[1].rstrip("]")
    assert run_cli("feedback", "dismiss", shown)[0] == 0


def test_export_without_database_is_empty(repo: Repo, run_cli: RunCli, tmp_path: Path) -> None:
    assert run_cli("feedback", "export") == (0, "", "")
    target = tmp_path / "none.jsonl"
    code, _, err = run_cli("feedback", "export", "-o", str(target))
    assert code == 0 and target.read_text() == "" and "0 verdicts written" in err
    assert not db(repo).exists()
