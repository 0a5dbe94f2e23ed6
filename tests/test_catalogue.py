"""The principle catalogue (rules/*.toml) and its loader, reviewer.principles."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from reviewer import principles
from reviewer.principles import (
    CatalogueError,
    catalogue,
    checks_by_principle,
    load_catalogue,
    parse_principle,
)
from reviewer.rules import all_rules

ROOT = Path(__file__).resolve().parent.parent
PRINCIPLE_IDS = {
    "validate-input", "handle-exceptions", "small-functions", "document-public-api",
    "type-public-surface", "no-hidden-state", "log-dont-print", "least-privilege",
    "dependency-injection", "naming", "tested-behaviour", "no-assert-validation",
}
MODEL_JUDGED = {"dependency-injection", "naming", "tested-behaviour"}

RunCli = Callable[..., tuple[int, str, str]]

GOOD = """\
id = "example"
title = "An example"
statement = "Say what the principle is."
rationale = "Say why it matters."
judged_by = "checks"
methods = ["One method."]
references = [{ title = "PEP 8", url = "https://peps.python.org/pep-0008/" }]
"""


def test_catalogue_holds_exactly_the_principles() -> None:
    assert set(catalogue()) == PRINCIPLE_IDS
    assert {p.name for p in (ROOT / "rules").glob("*.toml")} == {
        f"{pid}.toml" for pid in PRINCIPLE_IDS
    }


def test_every_catalogue_file_parses_on_its_own() -> None:
    for path in sorted((ROOT / "rules").glob("*.toml")):
        p = parse_principle(path.read_text(encoding="utf-8"), path.name, expected_id=path.stem)
        assert p.statement.endswith(".") and len(p.rationale) > len(p.statement), path.name
        assert all(ref.url.startswith("https://") for ref in p.references)


def test_installed_catalogue_is_the_checkout() -> None:
    assert load_catalogue(ROOT / "rules") == catalogue()


def test_every_rule_names_a_principle_of_the_catalogue() -> None:
    known = set(catalogue())
    unknown = {rid: cls.principle for rid, cls in all_rules().items() if cls.principle not in known}
    assert not unknown, f"rules naming principles missing from rules/*.toml: {unknown}"


def test_principles_judged_by_checks_have_checks() -> None:
    checks = checks_by_principle()
    for pid, p in catalogue().items():
        if not p.model_judged:
            assert checks.get(pid), f"{pid} says judged_by = 'checks' but no rule enforces it"
    assert {pid for pid, p in catalogue().items() if p.model_judged} == MODEL_JUDGED


def test_checks_are_derived_from_the_rules() -> None:
    by_principle = checks_by_principle()
    assert sorted(rid for ids in by_principle.values() for rid in ids) == sorted(all_rules())
    for pid, ids in by_principle.items():
        assert all(all_rules()[rid].principle == pid for rid in ids)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("id = 'example'\ntitle = \n", "not valid TOML"),
        (GOOD.replace('title = "An example"\n', ""), "'title' must be a non-empty string"),
        (GOOD + 'checks = ["RV101"]\n', "unknown key(s) checks"),
        (GOOD.replace('id = "example"', 'id = "other"'), "does not match the file name"),
        (GOOD.replace('"checks"', '"people"'), "'judged_by' must be one of checks, model"),
        (GOOD.replace('["One method."]', "[]"), "'methods' must be a non-empty list"),
        (GOOD.replace("https://peps", "http://peps"), "url must start with https://"),
        (GOOD.replace(', url = "https://peps.python.org/pep-0008/"', ""),
         "references[0] must have exactly 'title' and 'url'"),
    ],
)
def test_malformed_file_is_a_clear_error(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "example.toml").write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        load_catalogue(tmp_path)
    message = str(info.value)
    assert message.startswith("principle catalogue example.toml: ") and problem in message
    assert "\n" not in message and info.value.exit_code == 3


def test_good_file_and_other_files(tmp_path: Path) -> None:
    (tmp_path / "example.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "README.md").write_text("not a principle\n", encoding="utf-8")
    (loaded,) = load_catalogue(tmp_path).values()
    assert loaded.id == "example" and loaded.methods == ("One method.",)
    assert loaded.references[0].title == "PEP 8" and not loaded.model_judged


def test_empty_catalogue_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="no principle files"):
        load_catalogue(tmp_path)


def test_missing_data_package_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, run_cli: RunCli
) -> None:
    principles._installed.cache_clear()
    monkeypatch.setattr(principles, "PACKAGE", "reviewer.no_such_catalogue")
    try:
        code, out, err = run_cli("principles")
    finally:
        principles._installed.cache_clear()
    assert code == 3 and out == ""
    assert err == (
        "reviewer: error: principle catalogue reviewer.no_such_catalogue:"
        " the data package is not installed\n"
    )


def test_principles_command_json(run_cli: RunCli) -> None:
    code, out, _ = run_cli("principles", "--format", "json")
    assert code == 0
    entries = {e["id"]: e for e in json.loads(out)}
    assert set(entries) == PRINCIPLE_IDS
    assert entries["no-hidden-state"]["checks"][0] == "RV101"
    assert entries["naming"]["judged_by"] == "model"
    assert all(e["methods"] and e["references"] and e["rationale"] for e in entries.values())


def test_principles_command_text(run_cli: RunCli) -> None:
    code, out, _ = run_cli("principles")
    assert code == 0
    assert "no-hidden-state" in out and "checks: RV101" in out
    naming = out[out.index("\nnaming ") :].splitlines()
    assert naming[3].endswith("judged by the model (planned)")


def test_rules_listing_shows_each_principle(run_cli: RunCli) -> None:
    code, out, _ = run_cli("rules")
    assert code == 0
    assert out.count("principle: ") == len(all_rules())
    assert "principle: no-hidden-state" in out
    code, out, _ = run_cli("rules", "--format", "json")
    assert {m["id"]: m["principle"] for m in json.loads(out)} == {
        rid: cls.principle for rid, cls in all_rules().items()
    }
