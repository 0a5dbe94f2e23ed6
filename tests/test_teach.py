"""`reviewer teach`: the taught-principles catalogue (add, list, remove, bad input) and the
model judging changed functions against it, shown in every output format.

The model is tests/model_fake.py, a local OpenAI-compatible stand-in that answers the
judge's schema with a violation on line 2 of the function shown (the embedded 135M model
cannot be made to flag on demand; tests/test_teach_llama.py runs the real one).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import Repo, RunResult
from model_fake import JUDGE_EXPLANATION
from model_fake import serve_model as _serve_model

from reviewer.config import Config
from reviewer.feedback import taught
from reviewer.feedback.judge import (
    JUDGE_SCHEMA,
    Judge,
    Ruling,
    flagged_line,
    functions,
    parse_ruling,
)
from reviewer.feedback.store import FeedbackStore, Recorded, Verdict
from reviewer.llm.answer import BadAnswer
from reviewer.llm.backend import GenParams

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

RunCli = Callable[..., RunResult]
ROOT = Path(__file__).resolve().parents[1]
JSON_SCHEMA = json.loads((ROOT / "reviewer" / "report" / "json_schema.json").read_text("utf-8"))
SARIF_SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
PRINCIPLES = ".reviewer/principles.toml"
TEXT = "Prefer pathlib over os.path"

APP = '''\
"""Paths."""
import os


def data_file(name: str) -> str:
    """The data file called ``name``."""
    return os.path.join("data", name)


def other(x: int) -> int:
    """One more."""
    return x + 1
'''


# The functions of APP break the principle on their third line (after the docstring).
JUDGE = {"violates": True, "line": 3, "explanation": JUDGE_EXPLANATION}


def serve_model(**kwargs: Any) -> Any:
    """The stand-in model, flagging line 3 of every function unless told otherwise."""
    return _serve_model(**{"judge": JUDGE, **kwargs})


def judge_prompts(model: Any) -> list[list[dict[str, str]]]:
    """The message lists of the requests that asked the judge's question."""
    out = []
    for body in model.prompts:
        fmt = body.get("response_format", {})
        schema = fmt.get("json_schema", {}).get("schema") or fmt.get("schema") or {}
        if "violates" in schema.get("properties", {}):
            out.append(body["messages"])
    return out


def teach_pathlib(run_cli: RunCli, *extra: str) -> None:
    code, out, err = run_cli("teach", TEXT, *extra)
    assert code == 0, err
    assert out.startswith("T001 prefer-pathlib-over-os-path: taught")


def check(run_cli: RunCli, model: Any, *args: str) -> RunResult:
    return run_cli("check", "--explain", "--server-url", model.url, "--max-explained", "0",
                   "--no-cache", *args)


# -- the catalogue ---------------------------------------------------------------------------
def test_teach_list_remove_round_trip_never_reuses_ids(repo: Repo, run_cli: RunCli) -> None:
    repo.write("bad.py", "import os\np = os.path.join(a, 'b')\n")
    teach_pathlib(run_cli, "--example-bad", "bad.py", "--example-good", "p = Path(a) / 'b'")
    code, out, err = run_cli("teach", "add", "Log with logging, never print", "--severity",
                             "medium", "--path", "src/**")
    assert code == 0 and out.startswith("T002 log-with-logging-never-print: taught"), err

    code, out, _ = run_cli("teach", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("T001  prefer-pathlib-over-os-path") and "2 examples" in lines[0]
    assert lines[1].startswith("T002") and "medium" in lines[1] and "paths: src/**" in lines[1]
    assert run_cli("teach", "--list")[1] == out  # the flag form lists too
    assert run_cli("teach")[1] == out  # and so does the bare group

    code, out, _ = run_cli("teach", "remove", "t001")  # IDs are case-insensitive
    assert code == 0 and out == "T001 prefer-pathlib-over-os-path: removed\n"
    code, out, _ = run_cli("teach", "Use dataclasses for records")
    assert out.startswith("T003 ")  # T001 is gone but never given out again
    run_cli("teach", "remove", "T003")
    code, out, _ = run_cli("teach", "Prefer pathlib over os.path")
    assert out.startswith("T004 prefer-pathlib-over-os-path:")  # the slug is free again

    doc = tomllib.loads((repo.path / PRINCIPLES).read_text("utf-8"))
    assert doc["next_id"] == 5
    assert [p["id"] for p in doc["principle"]] == ["T002", "T004"]
    code, out, _ = run_cli("teach", "list", "--format", "json")
    listed = json.loads(out)
    assert [(p["id"], p["taught"], p["severity"]) for p in listed] == [
        ("T002", True, "medium"), ("T004", True, "low")]
    assert listed[0]["paths"] == ["src/**"]


def test_examples_from_files_and_text_survive_the_file(repo: Repo, run_cli: RunCli) -> None:
    bad = 'import os\n\ndef f(a):\n\treturn os.path.join(a, "x\\\\y", """q""")\n'
    repo.write("bad.py", bad)
    code, _, err = run_cli("teach", 'Say "no" to os.path \\ use pathlib', "--example-bad",
                           "bad.py", "--example-good", "p = Path(a) / 'x'")
    assert code == 0, err
    (p,) = taught.load(repo.path / PRINCIPLES).principles
    assert p.text == 'Say "no" to os.path \\ use pathlib'
    assert p.examples_bad == (bad,) and p.examples_good == ("p = Path(a) / 'x'\n",)
    assert p.slug == "say-no-to-os-path-use"


def test_serialisation_round_trips_odd_text() -> None:
    odd = 'a "quoted" \\ back\\slash\ttab """ triple\n\nline \x01 ctl \u00e9\r\n'
    p = taught.Principle("T001", "odd", odd.strip(), examples_bad=(odd, "x = 1\n"),
                         examples_good=('"""doc"""\n',), paths=("src/**", "a b/*.py"))
    cat = taught.Catalogue((p,), next_id=3)
    back = taught.from_data(tomllib.loads(taught.dumps(cat)))
    assert back == cat


@pytest.mark.parametrize("args, message", [
    (("teach", ""), "the principle is empty"),
    (("teach", "add", "   "), "the principle is empty"),
    (("teach", "remove", "T042"), "no taught principle 'T042' (taught: T001)"),
    (("teach", TEXT), "already taught as T001"),
    (("teach", "Other", "--severity", "urgent"), "'urgent' is not one of"),
    (("teach", "Other", "--example-bad", ""), "an example is empty"),
])
def test_bad_input_is_one_line_and_leaves_the_file(
    repo: Repo, run_cli: RunCli, args: tuple[str, ...], message: str
) -> None:
    teach_pathlib(run_cli)
    before = (repo.path / PRINCIPLES).read_bytes()
    code, out, err = run_cli(*args)
    assert code == 2 and not out
    assert err.startswith("reviewer: error: ") and err.count("\n") == 1, err
    assert message in err
    assert (repo.path / PRINCIPLES).read_bytes() == before


@pytest.mark.parametrize("content, message", [
    ("[[principle]\nid = 1\n", "is not valid TOML"),
    ('[[principle]]\nid = "X1"\ntext = "t"\n', "id must look like T001"),
    ('[[principle]]\nid = "T001"\ntext = ""\n', "text must be a non-empty string"),
    ('[[principle]]\nid = "T001"\ntext = "t"\nseverity = "huge"\n', "unknown severity"),
    ('[[principle]]\nid = "T001"\ntext = "a"\n[[principle]]\nid = "T001"\ntext = "b"\n',
     "two principles have the id 'T001'"),
    ('colour = "red"\n', "unknown key(s) colour"),
    (b"\xff\xfe", "is not UTF-8 text"),
])
def test_corrupt_principles_file_is_one_line_exit_2_and_untouched(
    repo: Repo, run_cli: RunCli, content: str | bytes, message: str
) -> None:
    path = repo.write(PRINCIPLES, content)
    before = path.read_bytes()
    repo.write("app.py", APP)
    for args in (("teach", "list"), ("teach", "New one"), ("teach", "remove", "T001"),
                 ("check", "--explain", "--backend", "none", "app.py")):
        code, out, err = run_cli(*args)
        assert code == 2 and not out, (args, out)
        assert err.startswith("reviewer: error: ") and err.count("\n") == 1, err
        assert message in err and PRINCIPLES in err
    assert path.read_bytes() == before
    code, out, _ = run_cli("rules")  # listing the rules is not broken by it
    assert code == 0 and "RV101" in out


def test_rules_lists_taught_principles(repo: Repo, run_cli: RunCli) -> None:
    teach_pathlib(run_cli, "--severity", "medium")
    code, out, _ = run_cli("rules")
    assert code == 0
    assert "T001   prefer-pathlib-over-os-path      medium Prefer pathlib over os.path [taught]" \
        in out
    code, out, _ = run_cli("rules", "--format", "json")
    metas = {m["id"]: m for m in json.loads(out)}
    assert metas["T001"]["taught"] is True and metas["T001"]["message"] == TEXT
    assert "RV101" in metas


# -- the judge -------------------------------------------------------------------------------
def test_functions_are_the_unnested_ones() -> None:
    src = ("class A:\n    @staticmethod\n    def m():\n        def inner():\n"
           "            pass\n\n\nasync def top():\n    pass\n")
    units = functions("a.py", src)
    assert [(u.symbol, u.start, u.def_line, u.end) for u in units] == [
        ("A.m", 2, 3, 5), ("top", 8, 8, 9)]


def test_flagged_line_follows_the_quoted_code() -> None:
    (unit,) = functions("a.py", "def f(a):\n    b = 1\n    return os.path.join(a, b)\n")
    def at(line: int, why: str) -> int:
        return flagged_line(unit, Ruling(True, line, why))

    assert at(2, "It calls `os.path.join`.") == 3  # one line off: moved to the quoted code
    assert at(3, "It calls `os.path.join`.") == 3
    assert at(2, "Bad style.") == 2  # nothing quoted: the line named
    assert at(2, "`f` is bad and `nothing here`.") == 2  # quoted code nowhere
    assert at(0, "It calls `os.path.join`.") == 1  # no line: the def line
    assert at(9, "x") == 1


def test_parse_ruling() -> None:
    r = parse_ruling('Sure: {"violates": true, "line": 3, "explanation": "Uses os.path."}')
    assert (r.violates, r.line, r.explanation) == (True, 3, "Uses os.path.")
    assert parse_ruling('{"violates": false, "line": -2, "explanation": ""}').line == 0
    for bad in ("", "[]", '{"violates": "yes", "line": 1, "explanation": ""}',
                '{"violates": true, "line": 1'):
        with pytest.raises(BadAnswer):
            parse_ruling(bad)


def test_taught_finding_in_json_output(repo: Repo, run_cli: RunCli) -> None:
    teach_pathlib(run_cli, "--severity", "medium")
    repo.write_staged("app.py", APP)
    with serve_model() as model:
        code, out, err = check(run_cli, model, "--format", "json")
        asked = judge_prompts(model)
    assert code == 1, err
    doc = json.loads(out)
    jsonschema.validators.validator_for(JSON_SCHEMA)(JSON_SCHEMA).validate(doc)
    taught_findings = [f for f in doc["findings"] if f["rule_id"] == "T001"]
    assert [(f["symbol"], f["line"], f["scope"]) for f in taught_findings] == [
        ("data_file", 7, [5, 7]), ("other", 12, [10, 12])]
    f = taught_findings[0]
    assert f["slug"] == "prefer-pathlib-over-os-path" and f["message"] == TEXT
    assert f["severity"] == "medium" and f["explanation"] == JUDGE_EXPLANATION
    assert f["col"] == 5 and len(f["fingerprint"]) == 20
    assert len(asked) == 2  # one question per (function, principle)
    system = asked[0][0]["content"]
    assert TEXT in system
    assert "  3|     return os.path.join" in asked[0][-1]["content"]


def test_taught_finding_in_sarif_validates(repo: Repo, run_cli: RunCli) -> None:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"SARIF schema not found at {SARIF_SCHEMA}")
    teach_pathlib(run_cli, "--example-bad", "p = os.path.join(a, 'b')")
    repo.write_staged("app.py", APP)
    with serve_model() as model:
        code, out, err = check(run_cli, model, "--format", "sarif")
    assert code == 1, err
    log = json.loads(out)
    schema = json.loads(SARIF_SCHEMA.read_text("utf-8"))
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(log))
    assert not errors, [e.message for e in errors[:5]]
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    (desc,) = [r for r in rules if r["id"] == "T001"]
    assert desc["fullDescription"]["text"] == TEXT
    assert desc["shortDescription"]["text"] == TEXT
    assert desc["name"] == "PreferPathlibOverOsPath"
    assert "p = os.path.join(a, 'b')" in desc["help"]["text"]
    assert desc["properties"]["taught"] is True
    results = [r for r in run["results"] if r["ruleId"] == "T001"]
    assert len(results) == 2
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == "T001"
        assert r["message"]["text"] == f"{TEXT}\n\n{JUDGE_EXPLANATION}"  # principle first
        assert r["partialFingerprints"]["reviewer/v1"]


def test_taught_finding_in_text_and_github_output(repo: Repo, run_cli: RunCli) -> None:
    teach_pathlib(run_cli)
    repo.write_staged("app.py", APP)
    with serve_model() as model:
        code, out, err = check(run_cli, model)
        _, gh, _ = check(run_cli, model, "--format", "github")
    assert code == 1, err
    assert f"app.py:7:5: T001 {TEXT}\n    {JUDGE_EXPLANATION}\n" in out
    assert "::notice file=app.py,line=7,endLine=7,col=5" in gh
    assert f"title=T001 prefer-pathlib-over-os-path::{TEXT}%0A%0A{JUDGE_EXPLANATION}" in gh


def test_only_changed_functions_are_judged(repo: Repo, run_cli: RunCli) -> None:
    repo.write("app.py", APP)
    repo.commit_all("base")
    teach_pathlib(run_cli)
    repo.write("app.py", APP.replace("return x + 1", "return x + 2"))
    repo.stage("app.py")
    with serve_model() as model:
        code, out, err = check(run_cli, model, "--format", "json")
        asked = judge_prompts(model)
    assert code == 1, err
    assert len(asked) == 1 and "Function `other` in app.py" in asked[0][-1]["content"]
    assert [f["symbol"] for f in json.loads(out)["findings"] if f["rule_id"] == "T001"] == [
        "other"]


def test_path_scope_limits_where_a_principle_applies(repo: Repo, run_cli: RunCli) -> None:
    teach_pathlib(run_cli, "--path", "src/")
    repo.write("app.py", APP)
    repo.write("src/lib.py", APP)
    repo.stage("app.py", "src/lib.py")
    with serve_model() as model:
        _code, out, err = check(run_cli, model, "--format", "json")
    paths = {f["path"] for f in json.loads(out)["findings"] if f["rule_id"] == "T001"}
    assert paths == {"src/lib.py"}, err


@pytest.mark.parametrize("how", ["def-line", "flagged-line", "file"])
def test_inline_suppressions_work_for_taught_ids(
    repo: Repo, run_cli: RunCli, how: str
) -> None:
    teach_pathlib(run_cli)
    source = {
        "def-line": APP.replace("name: str) -> str:", "name: str) -> str:  # reviewer: "
                                "ignore[T001]"),
        "flagged-line": APP.replace('name)\n', 'name)  # reviewer: ignore[prefer-pathlib-'
                                    'over-os-path] legacy\n'),
        "file": "# reviewer: ignore-file[T001]\n" + APP,
    }[how]
    repo.write_staged("app.py", source)
    with serve_model() as model:
        _code, out, err = check(run_cli, model, "--format", "json", "--show-unused-suppressions")
        asked = judge_prompts(model)
    symbols = [f["symbol"] for f in json.loads(out)["findings"] if f["rule_id"] == "T001"]
    assert symbols == ([] if how == "file" else ["other"]), err
    assert json.loads(out)["unused_suppressions"] == []
    # A suppression that hides the whole function is honoured before asking the model.
    assert len(asked) == {"def-line": 1, "flagged-line": 2, "file": 0}[how]


def test_select_ignore_and_switches(repo: Repo, run_cli: RunCli) -> None:
    teach_pathlib(run_cli)
    repo.write_staged("app.py", APP)
    with serve_model() as model:
        code, out, err = check(run_cli, model, "--format", "json", "--select", "T001")
        assert code == 1, err
        assert {f["rule_id"] for f in json.loads(out)["findings"]} == {"T001"}
        for off in (("--ignore", "T001"), ("--ignore", "T"), ("--no-taught",),
                    ("--select", "RV")):
            n = len(model.prompts)
            code, out, err = check(run_cli, model, "--format", "json", *off)
            assert code in (0, 1), err
            assert not [f for f in json.loads(out)["findings"] if f["rule_id"] == "T001"]
            assert not judge_prompts(type(model)(prompts=model.prompts[n:])), off
        n = len(model.prompts)
        code, out, err = run_cli("check", "--server-url", model.url, "--format", "json")
        assert not judge_prompts(type(model)(prompts=model.prompts[n:]))  # no --explain
        assert not [f for f in json.loads(out)["findings"] if f["rule_id"] == "T001"]


def test_per_file_ignores_and_the_verdicts_loop(repo: Repo, run_cli: RunCli) -> None:
    teach_pathlib(run_cli)
    repo.write("pyproject.toml", '[tool.reviewer.per-file-ignores]\n"legacy/*" = ["T001"]\n')
    repo.write("app.py", APP)
    repo.write("legacy/old.py", APP)
    repo.stage("app.py", "legacy/old.py")
    with serve_model() as model:
        code, out, err = check(run_cli, model, "--format", "json")
        assert len(judge_prompts(model)) == 2  # legacy/ is never asked about
    taught_findings = [f for f in json.loads(out)["findings"] if f["rule_id"] == "T001"]
    assert {f["path"] for f in taught_findings} == {"app.py"}, err
    # check records what it reports, so `reviewer feedback` can take verdicts on them.
    with FeedbackStore.open(repo.feedback_db, create=False) as store:
        recorded = {r.fingerprint: r for r in store.findings("T001")}
    assert set(recorded) == {f["fingerprint"] for f in taught_findings}
    snap = recorded[taught_findings[0]["fingerprint"]]
    # check records the function's lines; its text is filled in when a verdict is given.
    assert snap.function == "" and snap.function_start > 0
    assert snap.explanation == JUDGE_EXPLANATION
    code, out, err = run_cli("feedback", "dismiss", taught_findings[0]["fingerprint"][:8],
                             "--reason", "data files are strings here")
    assert code == 0, err
    with FeedbackStore.open(repo.feedback_db, create=False) as store:
        judged = store.finding(taught_findings[0]["fingerprint"])
    assert judged is not None and judged.function.startswith("def data_file(")
    with serve_model() as model:
        check(run_cli, model, "--format", "json")
        (messages, _) = judge_prompts(model)  # the dismissed finding is now an example
    shown = [m["content"] for m in messages if m["role"] == "assistant"]
    assert json.dumps({"violates": False, "line": 0,
                       "explanation": "data files are strings here"}) in shown


def test_budget_and_cache(repo: Repo, run_cli: RunCli) -> None:
    teach_pathlib(run_cli)
    repo.write("pyproject.toml", "[tool.reviewer]\nmax-judged = 1\n")
    repo.write_staged("app.py", APP)
    with serve_model() as model:
        args = ("check", "--explain", "--server-url", model.url, "--max-explained", "0",
                "--format", "json")
        _, out, err = run_cli(*args)
        first = json.loads(out)
        assert len(judge_prompts(model)) == 1
        assert "the model judged 1 of 2 function/principle pairs (max-judged 1)" in err
        n = len(model.prompts)
        _code, out, _ = run_cli(*args)  # cached: the same finding, no model call
        assert len(model.prompts) == n
    t1 = [f for f in first["findings"] if f["rule_id"] == "T001"]
    assert len(t1) == 1
    assert [f for f in json.loads(out)["findings"] if f["rule_id"] == "T001"] == t1


def test_model_failure_is_one_warning_and_rules_still_stand(
    repo: Repo, run_cli: RunCli
) -> None:
    teach_pathlib(run_cli)
    repo.write("app.py", APP + "\n\ndef add(item, items=[]):\n    return items\n")
    repo.stage("app.py")
    code, out, err = run_cli("check", "--explain", "--server-url", "http://127.0.0.1:9/v1",
                             "--llm-timeout", "5", "--format", "json")
    assert code == 1
    assert "RV101" in {f["rule_id"] for f in json.loads(out)["findings"]}
    judged = [ln for ln in err.splitlines() if "taught principles not judged" in ln]
    assert len(judged) == 1, err


def test_unusable_answers_are_one_warning(repo: Repo, run_cli: RunCli) -> None:
    teach_pathlib(run_cli)
    repo.write_staged("app.py", APP)
    with serve_model(judge={"verdict": "maybe"}) as model:
        code, out, err = check(run_cli, model, "--format", "json")
    assert code == 0, err
    assert "the model gave 2 unusable answers on taught principles" in err
    assert not [f for f in json.loads(out)["findings"] if f["rule_id"] == "T001"]


def test_few_shot_prompt_holds_the_teams_verdicts(repo: Repo, run_cli: RunCli) -> None:
    teach_pathlib(run_cli, "--example-bad", "p = os.path.join(a, 'b')",
                  "--example-good", "p = Path(a) / 'b'")
    accepted = Recorded(
        fingerprint="a" * 20, rule_id="T001", slug="prefer-pathlib-over-os-path",
        message=TEXT, path="old.py", line=3, symbol="cfg_path",
        code="    return os.path.expanduser('~/.cfg')",
        function="def cfg_path():\n    '''Config.'''\n    return os.path.expanduser('~/.cfg')",
        explanation="os.path.expanduser: use Path.home() / '.cfg'.")
    dismissed = Recorded(
        fingerprint="b" * 20, rule_id="T001", slug="prefer-pathlib-over-os-path",
        message=TEXT, path="old.py", line=7, symbol="sep",
        code="    return os.sep", function="def sep():\n    return os.sep")
    with FeedbackStore.open(repo.feedback_db) as store:
        store.record([accepted, dismissed])
        store.add_verdict(Verdict("a" * 20, "accept", author="ann"))
        store.add_verdict(Verdict("b" * 20, "dismiss", reason="os.sep is no path handling.",
                                  author="bob"))
    repo.write_staged("app.py", APP)
    with serve_model() as model:
        code, _, err = check(run_cli, model, "--select", "T001")
        asked = judge_prompts(model)
    assert code == 1, err
    messages = asked[0]
    assert [m["role"] for m in messages] == ["system", *["user", "assistant"] * 4, "user"]
    assert TEXT in messages[0]["content"]
    # The principle's own examples first: the good one, then the bad one...
    assert "Example code" in messages[1]["content"]
    assert "  1| p = Path(a) / 'b'" in messages[1]["content"]
    assert json.loads(messages[2]["content"])["violates"] is False
    assert "  1| p = os.path.join(a, 'b')" in messages[3]["content"]
    assert json.loads(messages[4]["content"]) == {
        "violates": True, "line": 1,
        "explanation": f"Line 1, `p = os.path.join(a, 'b')`, breaks the principle: {TEXT}."}
    # ... then the team's verdicts: the dismissed finding, then the accepted one.
    assert "Function `sep` in old.py" in messages[5]["content"]
    no = json.loads(messages[6]["content"])
    assert no == {"violates": False, "line": 0, "explanation": "os.sep is no path handling."}
    assert "Function `cfg_path` in old.py" in messages[7]["content"]
    yes = json.loads(messages[8]["content"])
    assert yes == {"violates": True, "line": 3,
                   "explanation": "os.path.expanduser: use Path.home() / '.cfg'."}
    for m in messages[2:9:2]:
        jsonschema.validate(json.loads(m["content"]), JUDGE_SCHEMA)
    assert "Function `data_file` in app.py" in messages[9]["content"]


def test_selection_helpers() -> None:
    a = taught.Principle("T001", "prefer-pathlib", "Prefer pathlib")
    b = taught.Principle("T002", "log-dont-print", "Log", paths=("src/",))
    cat = taught.Catalogue((a, b), 3)
    assert taught.selected(cat, Config()) == [a, b]
    assert taught.selected(cat, Config(ignore=("prefer-pathlib",))) == [b]
    assert taught.selected(cat, Config(select=("RV",))) == []
    assert b.applies_to("src/x.py") and not b.applies_to("app.py")
    assert taught.is_taught_selector("T") and taught.is_taught_selector("t001")
    assert not taught.is_taught_selector("TX1")
    assert taught.make_slug("Prefer pathlib!", ["prefer-pathlib"]) == "prefer-pathlib-2"


def test_prompt_fits_a_small_context() -> None:
    """A long function is cut to fit the context instead of overflowing it."""

    class Counting:
        name = "count"

        def count_tokens(self, text: str) -> int:
            return len(text) // 3

    big = "def big(a):\n" + "".join(f"    a = os.path.join(a, '{i}')\n" for i in range(400))
    (unit,) = functions("big.py", big)
    backend: Any = Counting()
    judge = Judge(backend, context_size=1024, params=GenParams(max_tokens=128))
    principle = taught.Principle("T001", "prefer-pathlib", TEXT, examples_bad=("x = 1\n",))
    messages = judge.messages(principle, unit, [])
    assert messages is not None
    assert sum(len(m["content"]) // 3 for m in messages) < 1024 - 128
    assert "more lines)" in messages[-1]["content"]


def test_judging_and_explaining_share_one_model(
        repo: Repo, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewer.llm import factory as backend_mod

    made: list[object] = []
    real = backend_mod.make_backend

    def counting(*args: Any, **kwargs: Any) -> Any:
        made.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(backend_mod, "make_backend", counting)
    teach_pathlib(run_cli)
    repo.write("app.py", APP)
    repo.write("bad.py", '"""Doc."""\n\n\ndef f(x: str) -> object:\n    """F."""\n'
               '    return eval(x)\n')
    repo.stage("app.py", "bad.py")
    with serve_model() as model:
        code, out, err = run_cli("check", "--explain", "--server-url", model.url,
                                 "--max-explained", "2", "--no-cache", "--format", "json")
    assert code == 1, err
    doc = json.loads(out)
    assert any(f["rule_id"] == "T001" for f in doc["findings"])
    assert any(f["explanation"] for f in doc["findings"] if f["rule_id"] != "T001")
    assert len(made) == 1  # one backend (one model load) for the judge and the explanations
