"""SARIF output of real runs, validated against the OASIS SARIF 2.1.0 schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import jsonschema
import pytest

from reviewer.config import Config
from reviewer.engine import Result, Skipped
from reviewer.findings import Finding, Fix, Severity, Span, TextEdit
from reviewer.report import ReportContext, sarif
from reviewer.rules import all_rules
from reviewer.rules.base import Invalid, Rule

if TYPE_CHECKING:
    from conftest import Repo

# ../shared/schemas next to the checkout (GUIDE.md section 4).
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "sarif-schema-2.1.0.json"

# Several kinds of findings: whatever rules exist fire on some of this; RV101 (with a fix)
# always does.
APP = '''\
import os
import subprocess

CACHE = {}


def add(item, items=[]):
    items.append(item)
    return items


def run(cmd, data):
    try:
        subprocess.call(cmd, shell=True)
        return eval(data)
    except:
        pass


def remember(key, value):
    global CACHE
    CACHE[key] = value
    print("remembered", key)
'''


@pytest.fixture(scope="module")
def validator() -> Any:
    if not SCHEMA_PATH.is_file():
        pytest.skip(f"SARIF schema not found at {SCHEMA_PATH}")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    # The schema says draft-04; check_schema() is skipped on purpose (GUIDE.md section 4:
    # its run.language pattern is not a Python-compatible regex).
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft4Validator
    return cls(schema)


def assert_valid(validator: Any, log: dict[str, Any]) -> None:
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def _run_sarif(run_cli: Callable[..., tuple[int, str, str]], *args: str) -> dict[str, Any]:
    code, out, err = run_cli("check", "--format", "sarif", "--no-cache", *args)
    assert code in (0, 1), err
    log: dict[str, Any] = json.loads(out)
    return log


def _results_by_rule(log: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in log["runs"][0]["results"]:
        out.setdefault(r["ruleId"], []).append(r)
    return out


@pytest.fixture
def sample(repo: Repo) -> Repo:
    repo.write("app.py", APP)
    repo.write("broken.py", "def broken(:\n    pass\n")
    repo.write("data.py", b"\x00\x01\x02binary")
    repo.write("dir with space/m\u00f6dule.py", "def f(seen=set()):\n    return seen\n")
    repo.stage("app.py", "broken.py", "data.py", "dir with space/m\u00f6dule.py")
    repo.commit("start")
    return repo


def test_real_run_validates_with_rule_metadata(
    sample: Repo, run_cli: Callable[..., tuple[int, str, str]], validator: Any
) -> None:
    log = _run_sarif(run_cli, "--all")
    assert_valid(validator, log)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    assert "language" not in run
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")

    driver = run["tool"]["driver"]
    assert driver["name"] == "reviewer" and driver["version"] and driver["informationUri"]
    ids = [d["id"] for d in driver["rules"]]
    assert ids == list(all_rules())
    for desc in driver["rules"]:
        cls = all_rules()[desc["id"]]
        assert desc["name"] == sarif.pascal_case(cls.slug)
        assert desc["shortDescription"]["text"] == cls.summary()
        assert desc["fullDescription"]["text"]
        assert desc["helpUri"].endswith(f"docs/rules.md#{cls.id.lower()}")
        assert desc["defaultConfiguration"]["level"] == cls.severity.sarif_level
        # The rule's own examples are its help.
        first_invalid = cls.INVALID[0].code.strip().splitlines()[0]
        assert first_invalid in desc["help"]["markdown"]
        assert first_invalid.strip() in desc["help"]["text"]
        props = desc["properties"]
        assert 0 < len(props["tags"]) <= 20
        assert props["precision"] in ("very-high", "high", "medium", "low")
        assert props["problem.severity"] in ("error", "warning", "recommendation")
        if cls.security_severity is not None:
            assert isinstance(props["security-severity"], str)
            assert 0.1 <= float(props["security-severity"]) <= 10
            assert "security" in props["tags"]
        else:
            assert "security-severity" not in props


def test_results_locations_fixes_and_notifications(
    sample: Repo, run_cli: Callable[..., tuple[int, str, str]], validator: Any
) -> None:
    log = _run_sarif(run_cli, "--all")
    run = log["runs"][0]
    by_rule = _results_by_rule(log)
    # Several kinds: a syntax error, a fixable finding, exception handling, security.
    assert {"RV000", "RV101", "RV201", "RV601", "RV602"} <= set(by_rule)
    security = [d for d in run["tool"]["driver"]["rules"] if d["id"] in ("RV601", "RV602")]
    assert all(isinstance(d["properties"]["security-severity"], str) for d in security)

    rules = run["tool"]["driver"]["rules"]
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] in ("none", "note", "warning", "error")
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not loc["artifactLocation"]["uri"].startswith(("/", "file:"))
        assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1
        assert set(r["partialFingerprints"]) == {sarif.FINGERPRINT_KEY}

    (syntax,) = by_rule["RV000"]
    assert syntax["level"] == "error"
    assert syntax["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.py"
    assert syntax["locations"][0]["physicalLocation"]["region"]["startLine"] == 1

    uris = {
        unquote(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
        for r in by_rule["RV101"]
    }
    assert uris == {"app.py", "dir with space/m\u00f6dule.py"}
    encoded = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in by_rule["RV101"]
    ]
    assert "dir%20with%20space/m%C3%B6dule.py" in encoded

    app = next(
        r for r in by_rule["RV101"]
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app.py"
    )
    assert app["message"]["text"].startswith("Mutable default argument items=[]")
    assert app["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 7, "startColumn": 21, "endLine": 7, "endColumn": 23,
    }
    (fix,) = app["fixes"]
    change = fix["artifactChanges"][0]
    assert change["artifactLocation"] == {"uri": "app.py", "uriBaseId": "%SRCROOT%"}
    deleted = [rep["deletedRegion"] for rep in change["replacements"]]
    inserted = [rep["insertedContent"]["text"] for rep in change["replacements"]]
    assert {"startLine": 7, "startColumn": 21, "endLine": 7, "endColumn": 23} in deleted
    assert "None" in inserted and "    if items is None:\n        items = []\n" in inserted
    assert fix["properties"] == {"safe": True, "origin": "rule"}

    inv = run["invocations"][0]
    assert inv["executionSuccessful"] is True
    assert inv["exitCode"] == 1
    (note,) = [
        n for n in inv["toolExecutionNotifications"] if n["descriptor"]["id"] == sarif.SKIPPED_FILE
    ]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "data.py"
    assert "binary" in note["message"]["text"]


def test_output_file_and_determinism(
    sample: Repo, run_cli: Callable[..., tuple[int, str, str]], validator: Any
) -> None:
    code, _, err = run_cli("check", "--all", "--format", "sarif", "-o", "out.sarif")
    assert code == 1, err
    first = (sample.path / "out.sarif").read_text(encoding="utf-8")
    assert_valid(validator, json.loads(first))
    code, second, _ = run_cli("check", "--all", "--format", "sarif")
    assert second == first  # cached or not, identical bytes


def _fingerprints(log: dict[str, Any]) -> dict[str, tuple[str, int]]:
    out = {}
    for r in log["runs"][0]["results"]:
        loc = r["locations"][0]["physicalLocation"]
        key = f'{r["ruleId"]}:{unquote(loc["artifactLocation"]["uri"])}:{r["message"]["text"]}'
        out[key] = (r["partialFingerprints"][sarif.FINGERPRINT_KEY], loc["region"]["startLine"])
    return out


def test_fingerprints_repeat_and_survive_line_moves(
    sample: Repo, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    first = _fingerprints(_run_sarif(run_cli, "--all"))
    assert first == _fingerprints(_run_sarif(run_cli, "--all"))
    assert len({fp for fp, _ in first.values()}) == len(first)  # all distinct

    sample.write("app.py", '"""Module doc."""\n\nimport sys\n\n' + APP)
    moved = _fingerprints(_run_sarif(run_cli, "--all"))
    key = (
        "RV101:app.py:Mutable default argument items=[]:"
        " the default object is shared between calls."
    )
    assert moved[key][1] == first[key][1] + 4  # the finding moved down ...
    assert moved[key][0] == first[key][0]  # ... and kept its fingerprint
    assert {k for k in first if k.startswith(("RV000", "RV101"))} <= set(moved)
    for k, (fp, _line) in first.items():
        if k in moved:
            assert moved[k][0] == fp, k


def _finding(
    rule_id: str = "RV101", line: int = 3, severity: Severity = Severity.MEDIUM, **kw: Any
) -> Finding:
    base: dict[str, Any] = {
        "rule_id": rule_id, "slug": "mutable-default-argument",
        "message": "Mutable default argument: the default object is shared between calls.",
        "path": "pkg/a.py", "span": Span(line, 5, line, 9), "severity": severity,
        "fingerprint": f"fp{rule_id}{line}",
    }
    base.update(kw)
    return Finding(**base)


def _ctx(root: Path, **cfg: Any) -> ReportContext:
    return ReportContext(root=root, config=Config(**cfg))


def test_model_explanation_and_model_fix(tmp_path: Path, validator: Any) -> None:
    model_fix = Fix("Use a tuple", (TextEdit(3, 5, 3, 9, "()"),), safe=False, origin="model")
    f = _finding(explanation="The list is created once.\nEvery call shares it.",
                 model_fix=model_fix, symbol="add", notes=("downgraded",))
    log = sarif.build_log(Result(findings=[f], files_reviewed=1), _ctx(tmp_path))
    assert_valid(validator, log)
    (r,) = log["runs"][0]["results"]
    text = r["message"]["text"]
    assert text.startswith(f.message)  # the rule's statement first ...
    assert text.endswith("Every call shares it.")  # ... model text after it
    assert r["partialFingerprints"] == {"reviewer/v1": "fpRV1013"}  # no model text in it
    (fix,) = r["fixes"]
    assert fix["properties"] == {"safe": False, "origin": "model"}
    assert r["properties"] == {"severity": "medium", "symbol": "add", "notes": ["downgraded"]}


def test_truncates_at_the_results_limit(
    tmp_path: Path, validator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sarif, "MAX_RESULTS", 2)
    findings = [
        _finding(line=1, severity=Severity.LOW),
        _finding("RV000", line=2, severity=Severity.HIGH, slug="syntax-error"),
        _finding(line=3, severity=Severity.MEDIUM),
    ]
    log = sarif.build_log(Result(findings=findings), _ctx(tmp_path))
    assert_valid(validator, log)
    run = log["runs"][0]
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in run["results"]]
    assert lines == [2, 3]  # the most severe kept, in file order
    notes = run["invocations"][0]["toolExecutionNotifications"]
    (trunc,) = [n for n in notes if n["descriptor"]["id"] == sarif.RESULTS_TRUNCATED]
    assert trunc["message"]["text"].startswith("1 of 3 results left out")


def test_unknown_rule_config_overrides_and_warnings(tmp_path: Path, validator: Any) -> None:
    f = _finding("XY900", slug="plugin-check")
    result = Result(findings=[f], skipped=[Skipped("big.py", "too large")], warnings=["no model"])
    ctx = _ctx(tmp_path, ignore=("RV101",), warnings=("unknown key 'x'",))
    log = sarif.build_log(result, ctx)
    assert_valid(validator, log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    (r,) = run["results"]
    assert rules[r["ruleIndex"]]["id"] == "XY900"
    assert rules[r["ruleIndex"]]["name"] == "PluginCheck"
    inv = run["invocations"][0]
    assert inv["exitCode"] == 1
    overrides = {o["descriptor"]["id"]: o for o in inv["ruleConfigurationOverrides"]}
    assert overrides["RV101"]["configuration"] == {"enabled": False}
    assert rules[overrides["RV101"]["descriptor"]["index"]]["id"] == "RV101"
    kinds = [n["descriptor"]["id"] for n in inv["toolExecutionNotifications"]]
    assert kinds == [sarif.SKIPPED_FILE, sarif.TOOL_WARNING]
    assert inv["toolConfigurationNotifications"][0]["message"]["text"] == "unknown key 'x'"


class _SecurityRule(Rule):
    """Summary line of a security rule.

    Rationale paragraph.
    """

    id = "RV999"
    slug = "made-up-security"
    principle = "validate-input"
    severity = Severity.HIGH
    message = "Made up."
    tags = tuple(f"tag{i}" for i in range(30))
    security_severity = 8.8
    VALID = ["x = 1\n"]
    INVALID = [Invalid("``` = 2\n", line=1)]


def test_security_rule_descriptor(validator: Any) -> None:
    desc = sarif.rule_descriptor(_SecurityRule)
    props = desc["properties"]
    assert props["security-severity"] == "8.8"
    assert props["tags"][0] == "security" and len(props["tags"]) == 20
    assert props["problem.severity"] == "error"
    assert desc["fullDescription"]["text"] == "Rationale paragraph."
    assert "\n````python\n``` = 2\n````" in desc["help"]["markdown"]  # fence outgrows backticks
    log = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rules": [desc]}}}]}
    assert_valid(validator, log)


def test_region_drops_inconsistent_ends() -> None:
    assert sarif.region(3, 5, 2, 1) == {"startLine": 3, "startColumn": 5}
    assert sarif.region(3, 5, 3, 2) == {"startLine": 3, "startColumn": 5, "endLine": 3}
    assert sarif.region(3, 5, 3, 5) == {
        "startLine": 3, "startColumn": 5, "endLine": 3, "endColumn": 5,
    }
    assert sarif.region(3, 5, 4, 1)["endColumn"] == 1


def test_columns_count_code_points(
    repo: Repo, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    repo.write("u.py", 's = "\u00e9\u00e9"; lam = lambda acc=[]: acc\n')
    log = _run_sarif(run_cli, "u.py")
    (r,) = _results_by_rule(log)["RV101"]
    assert r["locations"][0]["physicalLocation"]["region"]["startColumn"] == 28
