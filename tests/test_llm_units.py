"""The model layer's parts that need no model: answers, prompts, targets, validator, cache."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from reviewer.config import Config, from_mapping
from reviewer.engine import selected_rules
from reviewer.errors import ReviewerError
from reviewer.findings import Finding, Severity, Span, apply_edits
from reviewer.languages.python import PYTHON
from reviewer.llm import answer as ans
from reviewer.llm.backend import (
    ModelUnavailable,
    budget_for,
    check_gguf,
    embedded_model_path,
    estimate_tokens,
    resolve_model,
    timeout_for,
)
from reviewer.llm.cache import AnswerCache, cache_key
from reviewer.llm.openai_compat import base_url
from reviewer.llm.prompts import (
    PromptBuilder,
    find_target,
    load_template,
    parse_template,
    rule_examples,
)
from reviewer.llm.validate import FileValidator, dropped_names, region_fix
from reviewer.rules import all_rules

SOURCE = '''\
"""Tools."""


class Store:
    """A store."""

    def add(self, item: int, items: list[int] = []) -> list[int]:
        """Add an item."""
        items.append(item)
        return items


def load(path: str) -> str:
    """Read a file."""
    try:
        return open(path).read()
    except:
        return ""
'''


def findings(source: str = SOURCE, path: str = "tools.py") -> list[Finding]:
    return PYTHON.review(path, source, selected_rules(Config()))  # type: ignore[return-value]


def one(rule_id: str, source: str = SOURCE) -> Finding:
    return next(f for f in findings(source) if f.rule_id == rule_id)


# -- answers -------------------------------------------------------------------------------
def test_parse_answer_accepts_the_schema_shape() -> None:
    a = ans.parse_answer('{"explanation": "Shared list.", "fixed_code": "x = 1"}')
    assert a == ans.Answer("Shared list.", "x = 1\n")
    assert ans.parse_answer('{"explanation": "e", "fixed_code": null}').fixed_code is None
    fenced = '{"explanation": "e", "fixed_code": "```python\\n    y = 2\\n```"}'
    assert ans.parse_answer(fenced).fixed_code == "y = 2\n"
    assert ans.parse_answer('Sure! {"explanation": "e", "fixed_code": ""} done').fixed_code is None
    cut = '{"explanation": "Shared.", "fixed_code": "def f(a=None):\\n    if a'
    assert ans.parse_answer(cut) == ans.Answer("Shared.", None)


@pytest.mark.parametrize("garbage", [
    "", "not json", "[1, 2]", '{"explanation": 3, "fixed_code": null}',
    '{"explanation": "e", "fixed_code": 5}', '{"explanation": "cut off', '{"fixed_code": null}',
])
def test_parse_answer_rejects_garbage(garbage: str) -> None:
    with pytest.raises(ans.BadAnswer):
        ans.parse_answer(garbage)


def test_repetitive_explanations_are_tidied() -> None:
    text = "It is shared. It is shared. It is shared. Use None. Create it inside. More. Cut"
    assert ans.tidy_explanation(text) == "It is shared. Use None. Create it inside."


def test_code_prefix_and_schema() -> None:
    assert ans.code_prefix("def add(self, x):\n    pass\n") == "def add("
    assert ans.code_prefix("async def f(x):") == "async def f("
    assert ans.code_prefix("class A:\n") == "class A"
    assert ans.code_prefix("except:\n    pass\n") == "except"
    assert ans.code_prefix("x=1") is None
    assert ans.code_prefix("subprocess.run(cmd, shell=True)") == "subprocess"
    assert ans.code_prefix("async\tdef f(x):") is None
    schema = ans.answer_schema("def add(")
    assert schema["properties"]["fixed_code"]["anyOf"][0]["pattern"] == "^def add\\(.*$"
    assert ans.schema_prefix(schema) == "def add("
    assert ans.answer_schema(None) is ans.ANSWER_SCHEMA
    assert "pattern" not in json.dumps(ans.without_patterns(schema))


# -- templates and prompts -----------------------------------------------------------------
def test_template_file_is_versioned_and_complete() -> None:
    t = load_template()
    assert t.id == "explain-fix@3" and len(t.digest) == 12
    assert {"system", "user", "context", "retry"} <= set(t.sections)
    with pytest.raises(ValueError, match="header"):
        parse_template("## system\nhi\n")


def test_targets_are_the_flagged_statements_with_the_function_as_context() -> None:
    t = find_target(SOURCE, one("RV101"))
    assert (t.region.start, t.region.end, t.region.indent) == (7, 7, "    ")
    assert t.region.code.startswith("def add(self")
    assert t.context is not None and (t.context.start, t.context.end) == (7, 10)
    bare = find_target(SOURCE, one("RV201"))
    assert bare.region.code == "except:\n" and bare.context is not None


def test_prompt_has_principle_examples_code_and_fits_the_budget() -> None:
    rule = all_rules()["RV101"]
    f = one("RV101")
    builder = PromptBuilder(estimate_tokens, context_size=4096, max_tokens=256)
    prompt = builder.build(rule, f, SOURCE, find_target(SOURCE, f))
    system, *turns, last = prompt.messages
    assert "No hidden shared state" in system["content"] and "RV101" in system["content"]
    assert len(turns) == 2 * len(rule_examples(rule)) >= 2  # few-shot pairs
    assert json.loads(turns[1]["content"])["fixed_code"]  # the example's fixed code
    assert "tools.py:7" in last["content"] and "items.append(item)" in last["content"]
    # A tiny context window: the code is cut to a window around the finding.
    small = PromptBuilder(estimate_tokens, context_size=1100, max_tokens=256)
    big = SOURCE.replace("        items.append(item)\n", "        items.append(item)\n" * 200)
    f2 = one("RV101", big)
    p2 = small.build(rule, f2, big, find_target(big, f2))
    assert p2.region.code.startswith("def add(")
    assert estimate_tokens(p2.messages[-1]["content"]) < 1100 - 256


# -- validator -----------------------------------------------------------------------------
GOOD = (
    "def add(self, item: int, items: list[int] | None = None) -> list[int]:\n"
    '    """Add an item."""\n'
    "    if items is None:\n"
    "        items = []\n"
    "    items.append(item)\n"
    "    return items\n"
)


def test_validator_accepts_a_real_fix_and_applies_it_in_place() -> None:
    f = one("RV101")
    target = find_target(SOURCE, f)
    assert target.context is not None
    fix = region_fix(target.context, GOOD, SOURCE, f.rule_id)
    assert not fix.safe and fix.origin == "model"
    v = FileValidator("tools.py", SOURCE, selected_rules(Config()))
    assert v.check(f, fix, target.context.code) is None
    patched = apply_edits(SOURCE, fix.edits)
    assert "        if items is None:\n            items = []\n" in patched
    assert not [x for x in findings(patched) if x.rule_id == "RV101"]


@pytest.mark.parametrize(("code", "complaint"), [
    ("def add(self, item: int, items: list[int] = []) -> list[int]:\n    "
     '"""Add an item."""\n    items.append(item)\n    return items\n', "same as the original"),
    ("def add(self, item: int, items=None:\n    pass\n", "does not parse"),
    ("def add(self, item: int, items: list[int] = {}) -> list[int]:\n    "
     '"""Add an item."""\n    items.append(item)\n    return items\n', "RV101 still applies"),
    ("def add(self, item, items=None) -> list[int]:\n    "
     '"""Add an item."""\n    items = items or []\n    items.append(item)\n    return items\n',
     "new problem, RV402"),
    ("def add(self, item: int, items: None = None) -> None:\n    pass\n", "removes code"),
])
def test_validator_complaints(code: str, complaint: str) -> None:
    f = one("RV101")
    target = find_target(SOURCE, f)
    assert target.context is not None
    fix = region_fix(target.context, code, SOURCE, f.rule_id)
    v = FileValidator("tools.py", SOURCE, selected_rules(Config()))
    got = v.check(f, fix, target.context.code)
    assert got is not None and complaint in got, got


def test_a_fix_must_not_use_undefined_names() -> None:
    src = '"""M."""\n\n\ndef run(expr: str) -> object:\n    """Run."""\n    return eval(expr)\n'
    f = one("RV601", src)
    t = find_target(src, f)
    v = FileValidator("tools.py", src, selected_rules(Config()))
    fix = region_fix(t.region, "return ast.literal_eval(expr)\n", src, "RV601")
    assert v.check(f, fix, t.region.code) == (
        "ast is not defined in the file; import or define what the fix uses"
    )
    ok = src.replace('"""M."""\n', '"""M."""\n\nimport ast\n')
    f2 = one("RV601", ok)
    t2 = find_target(ok, f2)
    v2 = FileValidator("tools.py", ok, selected_rules(Config()))
    assert v2.check(f2, region_fix(t2.region, "return ast.literal_eval(expr)\n", ok, "RV601"),
                    t2.region.code) is None


def test_dropped_names() -> None:
    assert dropped_names("return eval(expr)", "return ast.literal_eval(expr)") == []
    assert dropped_names("a = b + c + d", "pass") == ["a", "b", "c", "d"]
    assert dropped_names("x = run(y)", "x = go(y)", strict=True) == ["run"]
    # String contents are not code: replacing a hard-coded secret drops no name.
    assert dropped_names("PASSWORD = 'Winter2024 admin'", "PASSWORD = os.environ['PW']") == []


def test_region_fix_keeps_a_missing_final_newline() -> None:
    src = "def f(a=[]):\n    return a"
    f = one("RV101", src)
    t = find_target(src, f)
    fix = region_fix(t.region, "def f(a=None):", src, "RV101")
    assert apply_edits(src, fix.edits) == "def f(a=None):\n    return a"


# -- cache ---------------------------------------------------------------------------------
def test_cache_round_trip_and_broken_cache(tmp_path: Path) -> None:
    key = cache_key("m", {"b": 1, "a": 2}, [1, 2])
    assert key == cache_key("m", {"a": 2, "b": 1}, [1, 2]) and key != cache_key("n")
    with AnswerCache.in_dir(tmp_path / "c") as cache:
        assert cache.get(key) is None
        cache.put(key, "text", {"region": [1, 2, "lines"]})
        assert cache.get(key) == ("text", {"region": [1, 2, "lines"]})
    with AnswerCache.in_dir(tmp_path / "c") as cache:
        assert cache.get(key) is not None and cache.hits == 1
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "llm-answers.sqlite3").write_bytes(b"not a database at all" * 100)
    with AnswerCache.in_dir(bad) as cache:  # unusable: ignored, never an error
        cache.put(key, "t")
        assert cache.get(key) is None


# -- model files and settings --------------------------------------------------------------
def test_resolve_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    embedded = embedded_model_path()
    assert embedded is not None and embedded.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert resolve_model("", tmp_path) == embedded
    (tmp_path / "m.gguf").write_bytes(b"GGUF....")
    assert resolve_model("m.gguf", tmp_path) == tmp_path / "m.gguf"
    models = tmp_path / "models"
    models.mkdir()
    (models / "coder.gguf").write_bytes(b"GGUF")
    monkeypatch.setenv("REVIEWER_MODELS", str(models))
    assert resolve_model("coder", tmp_path) == models / "coder.gguf"
    with pytest.raises(ModelUnavailable, match="not found"):
        resolve_model("missing/model.gguf", tmp_path)


def test_check_gguf(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelUnavailable, match="not a GGUF"):
        check_gguf(bad)
    with pytest.raises(ModelUnavailable, match="does not exist"):
        check_gguf(tmp_path / "none.gguf")


def test_config_keys_and_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = from_mapping({"llm-backend": "openai", "llm-timeout": 2.5, "max-explained": 3,
                        "explain": True, "server-url": "http://h:1/v1"})
    assert (cfg.llm_backend, cfg.llm_timeout, cfg.max_explained) == ("openai", 2.5, 3)
    with pytest.raises(ReviewerError, match="llm-backend"):
        from_mapping({"llm-backend": "gpt"})
    with pytest.raises(ReviewerError, match="non-negative number"):
        from_mapping({"llm-timeout": "soon"})
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    assert timeout_for(Config()) == 60.0
    monkeypatch.setenv("PRE_COMMIT", "1")
    assert timeout_for(Config()) == 10.0
    assert timeout_for(replace(Config(), llm_timeout=3.0)) == 3.0
    assert budget_for(Config()) == 3  # the small pre-commit default
    assert budget_for(replace(Config(), max_explained=7)) == 7
    monkeypatch.delenv("PRE_COMMIT")
    assert budget_for(Config()) == 10


def test_base_url() -> None:
    assert base_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080/v1"
    assert base_url("http://h/v1/") == "http://h/v1"
    assert base_url("http://h/v1/chat/completions") == "http://h/v1"


def test_rule_examples_pass_their_own_validation() -> None:
    """Every few-shot pair shown to the model is a fix the validator would accept."""
    for rule in all_rules().values():
        for ex in rule_examples(rule):
            fixed = json.loads(ex.answer)["fixed_code"]
            assert not [
                f for f in PYTHON.review(ex.location.split(":")[0], fixed, [rule()])
                if f.rule_id == rule.id
            ], rule.id


def test_severity_order_used_for_the_budget() -> None:
    assert Severity.HIGH > Severity.LOW  # explain_all sorts most severe first
    f = Finding("RV101", "s", "m", "a.py", Span(1), Severity.LOW)
    assert f.with_(explanation="x").fingerprint == f.fingerprint
