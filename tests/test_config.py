"""[tool.reviewer]: every key read, checked and applied; the docs list every key."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

import pytest
from conftest import JsonRun, Repo, RunResult, where

from reviewer import config as config_mod
from reviewer.config import Config
from reviewer.engine import is_excluded, selected_rules
from reviewer.errors import ReviewerError
from reviewer.findings import Severity

MUTABLE = "def f(x=[]):\n    return x\n"
LONG = "def long_one(a):\n    x = 1\n    y = 2\n    z = 3\n    return a\n"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_defaults_without_pyproject(tmp_path: Path) -> None:
    cfg = config_mod.load(tmp_path)
    assert cfg == Config()
    assert cfg.select == ("ALL",) and cfg.fail_on is Severity.LOW and cfg.diff_filter == "added"


def test_a_pyproject_that_never_names_the_tool_is_not_parsed(tmp_path: Path) -> None:
    """Other tools own such a file: defaults, and its TOML is not ours to judge."""
    (tmp_path / "pyproject.toml").write_text("[tool.black\nline-length = 99\n")
    assert config_mod.load(tmp_path) == Config(source=tmp_path / "pyproject.toml")
    (tmp_path / "pyproject.toml").write_text("[tool.reviewer\n")
    with pytest.raises(ReviewerError, match="not valid TOML"):
        config_mod.load(tmp_path)


def test_every_key_is_read_with_dashes_or_underscores(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.reviewer]\n"
        "select = ['RV1', 'RV301']\nignore = 'RV103'\nexclude = ['gen/']\n"
        "fail_on = 'high'\nmax-file-size = 10\ndiff-filter = 'context'\ncontext-lines = 5\n"
        "report-unused-suppressions = true\nbaseline = 'b.json'\ncache = false\n"
        "cache-dir = 'c'\njobs = 2\n"
        "per-file-ignores = { 'tests/*' = ['RV101'] }\n"
        "[tool.reviewer.rules.rv301]\nmax_statements = 7\n"
    )
    cfg = config_mod.load(tmp_path)
    assert cfg.warnings == ()
    assert cfg.select == ("RV1", "RV301") and cfg.ignore == ("RV103",)
    assert cfg.exclude == ("gen/",) and cfg.fail_on is Severity.HIGH
    assert (cfg.max_file_size, cfg.diff_filter, cfg.context_lines) == (10, "context", 5)
    assert cfg.report_unused_suppressions and not cfg.cache
    assert (cfg.baseline, cfg.cache_dir, cfg.jobs) == ("b.json", "c", 2)
    assert cfg.per_file_ignores == {"tests/*": ("RV101",)}
    assert cfg.rule_options == {"RV301": {"max_statements": 7}}
    assert cfg.source == tmp_path / "pyproject.toml"


def test_explicit_config_file(tmp_path: Path) -> None:
    (tmp_path / "reviewer.toml").write_text("select = ['RV101']\nfail-on = 'medium'\n")
    cfg = config_mod.load(tmp_path, tmp_path / "reviewer.toml")
    assert cfg.select == ("RV101",) and cfg.fail_on is Severity.MEDIUM
    (tmp_path / "other.toml").write_text("[tool.reviewer]\nselect = ['RV2']\n")
    assert config_mod.load(tmp_path, tmp_path / "other.toml").select == ("RV2",)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert config_mod.load(tmp_path).select == ("ALL",)


def test_wrong_types_are_errors() -> None:
    for table, message in [
        ({"jobs": True}, "jobs must be a non-negative integer"),
        ({"select": ["RV1", 2]}, "select must be a list of strings"),
        ({"rule-options": {"RV301": 3}}, "rule-options must be a table"),
        ({"baseline": 3}, "baseline must be a string"),
        ({"fail-on": 3}, "unknown severity '3'"),
    ]:
        with pytest.raises(ReviewerError, match=re.escape(message)):
            config_mod.from_mapping(table)


def test_selection_by_id_prefix_slug_and_ignore() -> None:
    def ids(**kw: object) -> list[str]:
        return [r.id for r in selected_rules(Config(**kw))]  # type: ignore[arg-type]

    assert ids(select=("RV101",)) == ["RV101"]
    assert ids(select=("mutable-default-argument",)) == ["RV101"]
    assert set(ids(select=("RV1",))) >= {"RV101", "RV102"}
    assert "RV101" not in ids(ignore=("RV1",))
    assert ids(select=("RV101", "RV301"), ignore=("too-many-statements",)) == ["RV101"]
    assert ids(select=("rv101",)) == ["RV101"]


def test_rule_options_reach_the_rule() -> None:
    rules = selected_rules(Config(select=("RV301",), rule_options={"RV301": {"max_statements": 2}}))
    assert rules[0].settings["max_statements"] == 2
    by_slug = Config(select=("RV301",), rule_options={"too-many-statements": {"max_statements": 4}})
    assert selected_rules(by_slug)[0].settings["max_statements"] == 4


@pytest.mark.parametrize(
    ("path", "pattern", "excluded"),
    [
        ("examples/a.py", "examples/", True),
        ("pkg/examples/a.py", "examples/", True),
        ("examples.py", "examples/", False),
        ("pkg/build/x.py", "build", True),
        ("pkg/gen_pb2.py", "*_pb2.py", True),
        ("setup.py", "/setup.py", True),
        ("pkg/setup.py", "/setup.py", False),
        ("src/gen/a.py", "src/gen/*.py", True),
        ("other/src/gen/a.py", "src/gen/*.py", False),
        ("a/b/fixtures/x.py", "**/fixtures", True),
        ("fixtures/x.py", "**/fixtures", True),
        ("tests/fixtures/x.py", "tests/fixtures/", True),
        ("tests/test_a.py", "test_*.py", True),
        ("tests/helper.py", "test_*.py", False),
    ],
)
def test_exclude_patterns(path: str, pattern: str, excluded: bool) -> None:
    assert is_excluded(path, [pattern]) is excluded


def test_exclude_applies_in_every_mode(repo: Repo, run_json: Callable[..., JsonRun]) -> None:
    repo.write("pyproject.toml", "[tool.reviewer]\nexclude = ['gen/', 'legacy_*.py']\n")
    repo.write("gen/a.py", MUTABLE)
    repo.write("legacy_x.py", MUTABLE)
    repo.write("kept.py", MUTABLE)
    repo.stage("gen/a.py", "legacy_x.py", "kept.py")
    for args in ([], ["--all"], ["gen/a.py", "legacy_x.py", "kept.py"]):
        _, report, _ = run_json(*args, "--select", "RV101")
        assert where(report) == [("kept.py", 1, "RV101")], args


def test_per_file_ignores(repo: Repo, run_json: Callable[..., JsonRun]) -> None:
    repo.write(
        "pyproject.toml",
        "[tool.reviewer]\nselect = ['RV101', 'RV301']\n"
        "per-file-ignores = { 'tests/*' = ['mutable-default-argument'], 'scripts/' = ['RV3'] }\n"
        "[tool.reviewer.rules.RV301]\nmax_statements = 2\n",
    )
    for rel in ("tests/t.py", "scripts/s.py", "lib.py"):
        repo.write(rel, MUTABLE + "\n\n" + LONG)
    _, report, _ = run_json("--all")
    assert sorted(where(report)) == [
        ("lib.py", 1, "RV101"), ("lib.py", 5, "RV301"),
        ("scripts/s.py", 1, "RV101"), ("tests/t.py", 5, "RV301"),
    ]


def test_thresholds_from_config(repo: Repo, run_json: Callable[..., JsonRun]) -> None:
    repo.write("a.py", LONG)
    _, report, _ = run_json("--all", "--select", "RV301")
    assert where(report) == []  # 4 statements, default limit 50
    repo.write(
        "pyproject.toml", "[tool.reviewer]\nrule-options = { RV301 = { max_statements = 3 } }\n"
    )
    _, report, _ = run_json("--all", "--select", "RV301")
    assert where(report) == [("a.py", 1, "RV301")]


def test_select_and_fail_on_from_config(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write("a.py", MUTABLE + "\n\nimport os\nos.system(input())\n")
    repo.write("pyproject.toml", "[tool.reviewer]\nselect = ['RV101']\nfail-on = 'high'\n")
    code, out, _ = run_cli("check", "--all")
    assert code == 0  # RV101 is medium, below fail-on
    assert "RV101" in out and "RV602" not in out
    code, out, _ = run_cli("check", "--all", "--select", "RV6")  # the command line wins
    assert code == 1 and "RV602" in out and "RV101" not in out


def test_docs_list_every_key_with_its_default() -> None:
    text = DOCS.read_text(encoding="utf-8")
    defaults = Config()
    for f in fields(Config):
        if f.name in ("warnings", "source"):
            continue
        key = f.name.replace("_", "-")
        assert f"`{key}`" in text, f"docs/configuration.md does not document {key}"
        value = getattr(defaults, f.name)
        if isinstance(value, (bool, int, float, str)) and not isinstance(value, Severity):
            shown = str(value).lower() if isinstance(value, bool) else (
                f'"{value}"' if isinstance(value, str) else str(value))
            assert shown in text, f"docs/configuration.md: default of {key} ({shown}) missing"
