"""`reviewer train` / `eval` without training: clean errors, and how the backends pick an
adapter (llm-adapter, the promoted default, fused GGUFs) and name it in their identity."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import Repo, RunResult

from reviewer.config import Config
from reviewer.feedback import evaluate, lora
from reviewer.hardware import ModelChoice, Settings
from reviewer.llm import adapters
from reviewer.llm.backend import ModelUnavailable, embedded_model_path
from reviewer.llm.factory import make_backend
from reviewer.llm.llama_cpp import LlamaCppBackend
from reviewer.llm.mlx import MlxBackend, converted_dir

pytestmark = pytest.mark.skipif(embedded_model_path() is None,
                                reason="the embedded model is not installed")

SETTINGS = Settings(backend="llama_cpp", threads=1, gpu_layers=0, context_size=2048,
                    batch_size=64, model=ModelChoice("SmolLM2", 0.135, "Q4_1", "x.gguf", 1))


def _adapter(root: Path, name: str, base: str | None = None) -> Path:
    """A folder shaped like an mlx-lm adapter (no model is loaded in these tests)."""
    path = root / ".reviewer" / "adapters" / name
    path.mkdir(parents=True)
    (path / "adapters.safetensors").write_bytes(b"weights of " + name.encode())
    (path / "adapter_config.json").write_text("{}")
    if base is not None:
        (path / adapters.INFO_FILE).write_text(json.dumps({"base_model": base}))
    return path


def _backend(root: Path, backend: str = "mlx", adapter: str = "") -> object:
    cfg = replace(Config(), llm_backend=backend, llm_adapter=adapter)
    return make_backend(cfg, root, SETTINGS)


def test_no_adapter_by_default(repo: Repo) -> None:
    b = _backend(repo.path)
    assert isinstance(b, MlxBackend) and b.adapter is None
    assert "adapter" not in b.identity()


def test_configured_adapter_changes_the_identity(repo: Repo) -> None:
    base = _backend(repo.path)
    one = _adapter(repo.path, "one")
    two = _adapter(repo.path, "two")
    a = _backend(repo.path, adapter="one")  # a name under .reviewer/adapters
    b = _backend(repo.path, adapter=str(two))
    assert isinstance(a, MlxBackend) and a.adapter == one
    ids = {base.identity(), a.identity(), b.identity()}  # type: ignore[attr-defined]
    assert len(ids) == 3  # the answer cache never mixes base and tuned answers
    with pytest.raises(ModelUnavailable, match="not found"):
        _backend(repo.path, adapter="missing")


def test_promoted_adapter_is_the_default(repo: Repo) -> None:
    gguf = embedded_model_path()
    assert gguf is not None
    good = _adapter(repo.path, "good", base=str(converted_dir(gguf)))
    other = _adapter(repo.path, "other", base="/somewhere/else-model")
    lora.promote(repo.path, good)
    assert (repo.path / ".reviewer" / "adapters" / "default").read_text() == "good\n"
    b = _backend(repo.path)
    assert isinstance(b, MlxBackend) and b.adapter == good
    assert isinstance(_backend(repo.path, adapter="none"), MlxBackend)
    assert _backend(repo.path, adapter="none").adapter is None  # type: ignore[attr-defined]
    lora.promote(repo.path, other)  # trained on another model: not applied by default
    assert _backend(repo.path).adapter is None  # type: ignore[attr-defined]
    explicit = _backend(repo.path, adapter="other")
    assert explicit.adapter == other  # type: ignore[attr-defined]


def test_llama_cpp_uses_the_fused_gguf_or_a_lora_file(repo: Repo) -> None:
    tuned = _adapter(repo.path, "tuned")
    with pytest.raises(ModelUnavailable, match=r"no GGUF for llama\.cpp"):
        _backend(repo.path, "llama_cpp", "tuned")
    lora.promote(repo.path, tuned)  # an mlx-only default: llama.cpp keeps the base model
    base = _backend(repo.path, "llama_cpp")
    assert isinstance(base, LlamaCppBackend) and base.model_path == embedded_model_path()
    fused = tuned / "fused" / adapters.GGUF_NAME
    fused.parent.mkdir()
    fused.write_bytes(b"GGUF fused")
    b = _backend(repo.path, "llama_cpp", "tuned")
    assert isinstance(b, LlamaCppBackend) and b.model_path == fused and b.adapter == tuned
    from reviewer.llm.explain import prompt_style

    assert prompt_style(b) == "full" and prompt_style(base) == "small"  # what it was tuned on
    lora_file = repo.write("lora.gguf", b"GGUF lora")
    c = _backend(repo.path, "llama_cpp", "lora.gguf")
    assert isinstance(c, LlamaCppBackend) and c.lora_path == lora_file
    assert c.identity() != base.identity() and ":lora=" in c.identity()


def test_train_errors(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    code, _, err = run_cli("train", "--iters", "1")
    assert code == 2 and "no training data" in err and "export-training" in err
    code, _, err = run_cli("train", "--gguf")
    assert code == 2 and "--gguf needs --fuse" in err
    code, _, err = run_cli("eval")
    assert code == 2 and "no adapter" in err
    _adapter(repo.path, "a")
    code, _, err = run_cli("eval", "--adapter", ".reviewer/adapters/a")
    assert code == 2 and "valid.jsonl" in err
    (repo.path / ".reviewer" / "training").mkdir(parents=True)
    (repo.path / ".reviewer" / "training" / "valid.jsonl").write_text(
        json.dumps({"messages": [], "meta": {}}) + "\n")
    code, _, err = run_cli("eval", "--backend", "llama_cpp")
    assert code == 2 and "has no fused GGUF" in err
    code, _, err = run_cli("eval", "--adapter", "nowhere")
    assert code == 2 and "not an adapter folder" in err


def test_train_without_mlx_lm(repo: Repo, run_cli: Callable[..., RunResult],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mlx_lm" else real(name, *a))
    code, _, err = run_cli("train")
    assert code == 2 and "training needs mlx_lm" in err and "reviewer[mlx]" in err


def test_token_f1_and_regressions() -> None:
    assert evaluate.token_f1("Use None as the default.", "use None as the default") == 1.0
    assert evaluate.token_f1("", "x") == 0.0
    assert 0 < evaluate.token_f1("catch OSError here", "catch the OSError") < 1
    base = evaluate.Score("base", records=4, schema_valid=4, fixes_validated=1,
                          agreement_sum=1.0)
    same = replace(base, model="tuned")
    worse = replace(base, model="tuned", fixes_validated=0, agreement_sum=2.0)
    assert evaluate.regressions(base, same) == []
    assert evaluate.regressions(base, worse) == ["validated fixes"]
    table = evaluate.table([base, worse])
    assert "| base | 4 | 4 (100%) |" in table and "| tuned |" in table
