"""The JSON report: real output validates against reviewer/report/json_schema.json, and
docs/json-format.md documents exactly the fields of that schema."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest

from reviewer.config import Config
from reviewer.engine import Result
from reviewer.findings import Finding, Fix, Severity, Span, TextEdit
from reviewer.report import ReportContext, json_report

if TYPE_CHECKING:
    from conftest import Repo

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "reviewer" / "report" / "json_schema.json").read_text("utf-8"))
DOC = (ROOT / "docs" / "json-format.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def validator() -> Any:
    cls = jsonschema.validators.validator_for(SCHEMA)
    cls.check_schema(SCHEMA)
    return cls(SCHEMA)


def assert_valid(validator: Any, doc: object) -> None:
    errors = list(validator.iter_errors(doc))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_real_run_matches_the_schema(
    repo: Repo, run_cli: Callable[..., tuple[int, str, str]], validator: Any
) -> None:
    repo.write("app.py", "def add(item, items=[]):\n    items.append(item)\n    return items\n")
    repo.write("broken.py", "def broken(:\n")
    repo.write("blob.py", b"\x00\x00binary")
    repo.write("ok.py", "x = 1  # reviewer: ignore[RV101]\n")
    repo.stage("app.py", "broken.py", "blob.py", "ok.py")
    code, out, err = run_cli(
        "check", "--staged", "--format", "json", "--no-cache", "--show-unused-suppressions"
    )
    assert code == 1, err
    doc = json.loads(out)
    assert_valid(validator, doc)
    assert doc["version"] == 1 and doc["tool"]["name"] == "reviewer"
    assert doc["summary"]["findings"] == len(doc["findings"])
    assert doc["summary"]["files_skipped"] == len(doc["skipped"]) == 1
    assert doc["summary"]["exit_code"] == 1
    rules = {f["rule_id"] for f in doc["findings"]}
    assert {"RV000", "RV101"} <= rules
    fixed = [f for f in doc["findings"] if f["fix"]]
    assert fixed and fixed[0]["fix"]["safe"] is True and fixed[0]["fix"]["edits"]
    assert doc["unused_suppressions"] == [{"path": "ok.py", "line": 1, "codes": ["RV101"]}]


def test_model_fields_and_warnings_match_the_schema(tmp_path: Path, validator: Any) -> None:
    f = Finding(
        "RV301", "too-many-statements", "Function too long.", "a.py", Span(1, 1, 30, 5),
        Severity.LOW, scope=(1, 30), symbol="C.run", fingerprint="abc",
        explanation="Split it.", notes=("downgraded",),
        model_fix=Fix("Extract", (TextEdit(2, 1, 2, 1, "x\n"),), safe=False, origin="model"),
    )
    result = Result(findings=[f], files_reviewed=1, warnings=["model timed out"])
    out = json_report.render(result, ReportContext(root=tmp_path, config=Config()))
    doc = json.loads(out)
    assert_valid(validator, doc)
    assert doc["findings"][0]["scope"] == [1, 30]
    assert doc["warnings"] == ["model timed out"]
    assert doc["summary"]["by_severity"] == {"low": 1}


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref:
        target: Any = SCHEMA
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        return _resolve(target)
    return node


def schema_fields(node: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted field paths (``findings[].fix.edits[].line``) of every schema property."""
    node = _resolve(node)
    for branch in node.get("oneOf", []):
        yield from schema_fields(branch, prefix)
    if "items" in node:
        yield from schema_fields(node["items"], prefix + "[]")
    for name, sub in node.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        yield path
        yield from schema_fields(sub, path)


def test_doc_lists_exactly_the_schema_fields() -> None:
    documented = set(re.findall(r"^\| `([^`]+)` \|", DOC, flags=re.MULTILINE))
    in_schema = set(schema_fields(SCHEMA))
    # model_fix shares the fix object; the doc says so instead of repeating the table.
    assert "`findings[].model_fix` has exactly the same fields as `findings[].fix`" in DOC
    in_schema = {
        p for p in in_schema if not p.startswith("findings[].model_fix.")
    }
    assert documented == in_schema


def _doc_example() -> Any:
    match = re.search(r"```json\n(.*?)```", DOC, flags=re.DOTALL)
    assert match
    return json.loads(match.group(1))


def test_doc_example_matches_the_schema(validator: Any) -> None:
    assert_valid(validator, _doc_example())


def test_unknown_fields_are_caught(validator: Any) -> None:
    # The schema is closed, so a field added to the reporter without documenting it fails.
    doc = _doc_example()
    doc["findings"][0]["new_field"] = 1
    assert list(validator.iter_errors(doc))
