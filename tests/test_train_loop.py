"""The whole learning loop on the embedded model, for real: verdicts -> export-training ->
train (2 LoRA steps with mlx-lm on the CPU) -> fuse + GGUF (loaded by llama.cpp) -> eval of
base against tuned (the adapter loads in the MLX backend and answers) -> promotion.

Slow (minutes on a CPU): training steps are kept to two, without validation passes, and the
evaluation to one record with a few tokens per answer.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import Repo, RunResult

from reviewer.config import Config
from reviewer.feedback.store import FeedbackStore
from reviewer.llm.backend import GenParams, embedded_model_path, prompt_messages
from reviewer.llm.factory import make_backend
from reviewer.llm.llama_cpp import LlamaCppBackend
from reviewer.llm.mlx import MlxBackend

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        any(importlib.util.find_spec(m) is None
            for m in ("mlx", "mlx_lm", "transformers", "gguf", "llama_cpp"))
        or embedded_model_path() is None,
        reason="the mlx and llm extras are not installed",
    ),
]

LIB = '''"""Helpers."""


def add_item(item, items=[]):
    """Add an item."""
    items.append(item)
    return items


def load(path):
    """Read a file."""
    try:
        return open(path).read()
    except:
        return None
'''


@pytest.fixture
def cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(path))
    return path


def test_verdicts_export_train_fuse_eval(repo: Repo, run_cli: Callable[..., RunResult],
                                         cache: Path) -> None:
    # Verdicts on what `check` reported (the model's explanation recorded as --explain would).
    repo.write("lib.py", LIB)
    repo.stage("lib.py")
    assert run_cli("check", "--select", "RV101,RV201")[0] == 1
    db = repo.path / ".reviewer" / "feedback.db"
    with FeedbackStore.open(db) as store:
        found = {f.rule_id: f for f in store.findings()}
        store.record([replace(found["RV101"], explanation=(
            "The list default is shared by every call; default to None instead."))])
    assert run_cli("feedback", "accept", found["RV101"].fingerprint[:12])[0] == 0
    assert run_cli("feedback", "accept", found["RV201"].fingerprint[:12], "--explanation",
                   "A bare except also catches KeyboardInterrupt; catch OSError.")[0] == 0

    code, out, err = run_cli("export-training")
    assert code == 0, err
    assert "candidates: 1 accepted" in out and "0 broken" in out

    adapter = repo.path / ".reviewer" / "adapters" / "t"
    code, out, err = run_cli("train", "--iters", "2", "--grad-accum", "2", "--lora-layers", "1",
                             "--max-seq-length", "512", "--val-batches", "0",
                             "--adapter-path", str(adapter), "--fuse", "--gguf")
    assert code == 0, err
    assert "step 2/2: train loss" in out and "nan" not in out
    assert (adapter / "adapters.safetensors").is_file()
    info = json.loads((adapter / "reviewer-train.json").read_text())
    assert info["options"]["grad_accum"] == 2 and info["seconds_per_step"] > 0
    assert not list(adapter.glob("0*_adapters.safetensors"))

    # The fused GGUF is a model llama.cpp loads (the adapter named by llm-adapter).
    cfg = replace(Config(), llm_backend="llama_cpp", llm_adapter="t")
    tuned_cpp = make_backend(cfg, repo.path)
    assert isinstance(tuned_cpp, LlamaCppBackend)
    assert tuned_cpp.model_path == adapter / "fused" / "model.gguf"
    try:
        done = tuned_cpp.complete(prompt_messages("Say OK."), params=GenParams(max_tokens=4))
    finally:
        tuned_cpp.close()
    assert done.completion_tokens > 0

    # eval: base and tuned answer the validation record through the real explainer, on MLX
    # (the adapter itself; without --backend, eval would compare the GGUFs on llama.cpp).
    code, out, err = run_cli("eval", "--adapter", str(adapter), "--limit", "1",
                             "--max-tokens", "8", "--backend", "mlx", "--promote")
    assert code in (0, 1), err
    report = json.loads((adapter / "eval.json").read_text())
    assert [s["model"] for s in report["scores"]] == ["base", "tuned"]
    assert all(s["records"] == 1 and s["schema_valid"] == 1 for s in report["scores"])
    assert "| tuned | 1 |" in out and (adapter / "eval.md").is_file()
    default = repo.path / ".reviewer" / "adapters" / "default"
    if report["regressions"]:
        assert code == 1 and "not promoted" in out and not default.exists()
    else:
        assert code == 0 and default.read_text().strip() == "t"
        chosen = make_backend(replace(Config(), llm_backend="mlx"), repo.path)
        assert isinstance(chosen, MlxBackend) and chosen.adapter == adapter
