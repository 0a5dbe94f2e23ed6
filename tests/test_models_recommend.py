"""`reviewer models recommend`: the catalogue and the table of picks for the recorded machine
tiers of tests/test_hardware.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from test_hardware import LINUX_CUDA, LINUX_SMALL_GPU, M1_AIR, M2_MAX, M3_ULTRA, THIS_LINUX_CPU_BOX

from reviewer.hardware import GIB, MachineProfile
from reviewer.models import catalogue
from reviewer.models.catalogue import recommend, tier, tokens_per_s
from reviewer.models.fit import fits

RunCli = Callable[..., tuple[int, str, str]]

# (tier, fix, explain, train) names
TABLE = [
    ("Apple M1, 8 GB unified", M1_AIR, "qwen2.5-coder-1.5b-instruct-q4_k_m",
     "qwen2.5-coder-1.5b-instruct-q4_k_m", "qwen2.5-coder-1.5b-instruct-mlx-4bit"),
    ("Apple M2 Max, 32 GB unified", M2_MAX, "qwen2.5-coder-14b-instruct-q4_k_m",
     "qwen2.5-coder-14b-instruct-q4_k_m", "qwen2.5-coder-14b-instruct-mlx-4bit"),
    ("Apple M3 Ultra, 192 GB unified", M3_ULTRA, "qwen2.5-coder-32b-instruct-q4_k_m",
     "qwen2.5-coder-32b-instruct-q4_k_m", "qwen2.5-coder-14b-instruct-mlx-4bit"),
    ("linux CUDA (NVIDIA GeForce RTX 4090 24 GB), 64 GB RAM", LINUX_CUDA,
     "qwen2.5-coder-14b-instruct-q4_k_m", "qwen2.5-coder-14b-instruct-q4_k_m",
     "smollm2-135m-instruct-q4_1"),
    ("linux CPU only, 2 cores, 24 GB RAM", THIS_LINUX_CPU_BOX,
     "qwen2.5-coder-1.5b-instruct-q4_k_m", "qwen2.5-coder-0.5b-instruct-q4_k_m",
     "smollm2-135m-instruct-q4_1"),
]


@pytest.mark.parametrize(("name", "profile", "fix", "explain", "train"), TABLE,
                         ids=[t[0] for t in TABLE])
def test_recommendation_table(name: str, profile: MachineProfile, fix: str, explain: str,
                              train: str) -> None:
    assert tier(profile) == name
    picks = {p.role: p for p in recommend(profile)}
    assert (picks["fix"].model.name, picks["explain"].model.name,
            picks["train"].model.name) == (fix, explain, train)
    for p in picks.values():
        assert p.why and p.tokens_s > 0
        if p.role != "train":  # what is recommended to run fits this machine
            assert fits(p.model.size_bytes, profile)[0] != "no"
    assert recommend(profile) == recommend(profile)  # pure


def test_reasons_name_the_budget_and_the_speed() -> None:
    picks = {p.role: p for p in recommend(M1_AIR)}
    assert "5 GB of 8 GB unified" in picks["fix"].why and "tokens/s" in picks["fix"].why
    assert "mlx-lm LoRA on the GPU" in picks["train"].why
    cpu = {p.role: p for p in recommend(THIS_LINUX_CPU_BOX)}
    assert "2 CPU cores" in cpu["fix"].why
    assert "mlx[cpu] off Apple Silicon trains slowly" in cpu["train"].why
    assert cpu["fix"].command == "reviewer models add qwen2.5-coder-1.5b-instruct-q4_k_m"
    assert cpu["train"].command.startswith("pip install")  # the embedded model


def test_speed_estimates_follow_bandwidth() -> None:
    m = catalogue.find("qwen2.5-coder-7b-instruct-q4_k_m")
    assert m is not None
    assert tokens_per_s(m, M2_MAX) > tokens_per_s(m, M1_AIR) > tokens_per_s(m, THIS_LINUX_CPU_BOX)
    # a model that does not fit the small GPU runs from system memory
    assert fits(m.size_bytes, LINUX_SMALL_GPU)[0] == "memory"
    assert fits(40 * GIB, M1_AIR) == ("no", "needs 51.0 GB; the GPU may use 5 GB")
    assert fits(m.size_bytes, LINUX_CUDA)[0] == "gpu"


def test_the_catalogue() -> None:
    models = catalogue.load()
    names = [m.name for m in models]
    assert len(names) == len(set(names))
    for size in ("0.5b", "1.5b", "7b", "14b", "32b"):
        assert f"qwen2.5-coder-{size}-instruct-q4_k_m" in names
        assert f"qwen2.5-coder-{size}-instruct-mlx-4bit" in names
    for m in models:
        assert m.format in ("gguf", "mlx") and m.prompt_style in ("full", "small")
        assert not m.sha256 or len(m.sha256) == 64
        assert set(m.roles) <= set(catalogue.ROLES) and m.template
    known = {m.name: m.sha256 for m in models if m.sha256}
    assert known["qwen2.5-coder-1.5b-instruct-q4_k_m"].startswith("cc324af0")
    assert known["qwen2.5-coder-0.5b-instruct-q4_k_m"].startswith("1d961463")


def test_the_command_on_this_machine(run_cli: RunCli, nogit: Path) -> None:
    code, out, err = run_cli("models", "recommend")
    assert code == 0 and err == ""
    assert out.startswith("This machine: ")
    for label in ("explanations only:", "fixes:", "training:", "get it:", "why:"):
        assert label in out
    code, out, _ = run_cli("models", "recommend", "--format", "json")
    data = json.loads(out)
    assert code == 0 and [p["role"] for p in data["picks"]] == ["fix", "explain", "train"]
    assert all(p["command"] and p["expected_tokens_s"] > 0 for p in data["picks"])
