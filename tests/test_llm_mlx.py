"""The MLX backend with the real embedded model, converted once to Hugging Face format
(``mlx[cpu]`` on Linux; Metal on Apple Silicon)."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from reviewer.config import Config
from reviewer.engine import Job, run
from reviewer.llm.answer import answer_schema, parse_answer
from reviewer.llm.backend import GenParams, ModelUnavailable, embedded_model_path
from reviewer.llm.explain import explain_findings
from reviewer.llm.mlx import MlxBackend, converted_dir

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        any(importlib.util.find_spec(m) is None for m in ("mlx", "mlx_lm", "transformers")),
        reason="the mlx extra is not installed",
    ),
]

CODE = '''\
"""Expressions."""


def run(expr: str) -> object:
    """Evaluate an expression."""
    return eval(expr)
'''


@pytest.fixture(scope="module")
def mlx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def _cache_env(mlx_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(mlx_cache))


@pytest.fixture(scope="module")
def backend(mlx_cache: Path) -> Iterator[MlxBackend]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(mlx_cache))
        path = embedded_model_path()
        assert path is not None
        b = MlxBackend(path)
        b.model_dir()  # converts the GGUF once for the whole module
        yield b
        b.close()


def test_the_gguf_is_converted_locally_once(backend: MlxBackend) -> None:
    folder = converted_dir(backend.model_path)
    assert folder == backend.model_dir()
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= names
    assert json.loads((folder / "config.json").read_text())["model_type"] == "llama"
    assert backend.identity().startswith("mlx:SmolLM2-135M-Instruct.Q4_1.gguf@")
    assert backend.count_tokens("def add(item, items=[]):") > 5


def test_answers_always_have_the_schema_shape(backend: MlxBackend) -> None:
    done = backend.complete(
        [{"role": "user", "content": "Why is eval(expr) unsafe? Fix: return eval(expr)"}],
        json_schema=answer_schema("return"), params=GenParams(max_tokens=60), timeout=300,
    )
    data = json.loads(done.text)  # assembled field by field: always valid JSON
    assert set(data) == {"explanation", "fixed_code"}
    answer = parse_answer(done.text)
    assert answer.fixed_code is None or answer.fixed_code.startswith("return")
    assert done.completion_tokens > 0


def test_explain_with_the_mlx_backend(backend: MlxBackend, tmp_path: Path) -> None:
    (tmp_path / "expr.py").write_text(CODE, encoding="utf-8")
    cfg = replace(Config(), llm_backend="mlx", llm_max_tokens=60, fix_passes=0, llm_timeout=600,
                  select=("RV601",))
    result = run(Job(tmp_path, ["expr.py"]), replace(cfg, cache=False))
    out, rep = explain_findings(
        result.findings, root=tmp_path, config=cfg,
        read=lambda rel: (tmp_path / rel).read_text(), backend=backend,
    )
    # One call, or two when the first explanation was refused and asked again (llm/judge.py).
    assert rep.model_calls in (1, 2) and rep.failure is None
    # An answer was used or counted as unusable: whether the tiny model explained is its
    # choice (bench/llm_fixes.py measures what models say).
    assert rep.explained + rep.bad_answers == 1 and out[0].rule_id == "RV601"


def test_a_folder_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="not a Hugging Face model folder"):
        MlxBackend(tmp_path).count_tokens("x")


def test_the_converted_folders_are_detected_by_content(backend: MlxBackend, tmp_path: Path) -> None:
    """The Hugging Face folder converted from the embedded GGUF, and an mlx-lm 4-bit folder
    made from it, are told apart by their content (reviewer models, issue 17)."""
    import mlx_lm

    from reviewer.models.detect import detect
    from reviewer.models.fit import backend_for

    hf = detect(converted_dir(backend.model_path))
    assert (hf.format, hf.architecture, hf.parameters) == ("hf", "llama", 134_515_008)
    assert (hf.context_length, hf.chat_template) == (8192, "chatml")
    assert backend_for(hf, True)[0] == "mlx" and backend_for(hf, False)[0] == ""
    mlx_lm.convert(str(converted_dir(backend.model_path)), mlx_path=str(tmp_path / "q4"),
                   quantize=True)
    q4 = detect(tmp_path / "q4")
    assert (q4.format, q4.quantization, q4.parameters) == ("mlx", "4bit", 134_515_008)
    assert q4.size_bytes < hf.size_bytes / 4
    assert backend_for(q4, False)[0] == "mlx"


def test_free_text_streams_token_by_token_and_stops_when_cancelled(
        backend: MlxBackend) -> None:
    from reviewer.llm.backend import Hooks

    pieces: list[str] = []
    messages = [{"role": "user", "content": "Count from 1 to 50, one number a line."}]
    done = backend.stream(messages, params=GenParams(max_tokens=40),
                          hooks=Hooks(on_text=pieces.append))
    assert len(pieces) > 5 and "".join(pieces) == done.text and not done.cancelled
    pieces.clear()
    stopped = backend.stream(messages, params=GenParams(max_tokens=40),
                             hooks=Hooks(on_text=pieces.append,
                                         cancelled=lambda: len(pieces) >= 3))
    assert stopped.cancelled and stopped.completion_tokens < done.completion_tokens
