"""Which backend reads a model of a given format here, and whether it fits in memory (pure)."""

from __future__ import annotations

from reviewer.hardware import GIB, MachineProfile
from reviewer.models.detect import ModelInfo

# Of unified memory, the share macOS lets the GPU wire by default (about 3/4 above 36 GB,
# 2/3 below); of system memory, what a model may take beside the OS and the editor.
UNIFIED_SHARE_BIG, UNIFIED_SHARE_SMALL = 0.75, 0.66
SYSTEM_SHARE = 0.8


def memory_needed(size_bytes: int) -> int:
    """Bytes a model of this file size needs loaded: weights, KV cache, scratch buffers (the
    same estimate as :mod:`reviewer.hardware` uses for GPU offload)."""
    return int(size_bytes * 1.25 + GIB)


def fits(size_bytes: int, profile: MachineProfile) -> tuple[str, str]:
    """("gpu" | "memory" | "no", why) for a model of ``size_bytes`` on ``profile``."""
    need = memory_needed(size_bytes)
    need_gb = need / GIB
    if profile.unified_memory:
        share = UNIFIED_SHARE_BIG if profile.memory_gib > 36 else UNIFIED_SHARE_SMALL
        budget = profile.memory_bytes * share
        if need <= budget:
            return "gpu", f"needs {need_gb:.1f} GB of {budget / GIB:.0f} GB the GPU may use"
        return "no", f"needs {need_gb:.1f} GB; the GPU may use {budget / GIB:.0f} GB"
    gpus = [g for g in profile.gpus if g.memory_bytes]
    vram = max((g.memory_bytes for g in gpus), default=0)
    if vram and need <= vram:
        return "gpu", f"needs {need_gb:.1f} GB of {vram / GIB:.0f} GB GPU memory"
    budget = profile.memory_bytes * SYSTEM_SHARE
    if profile.memory_bytes and need <= budget + vram:
        where = "GPU and system memory, partly offloaded" if vram else "system memory"
        return "memory", f"needs {need_gb:.1f} GB: fits in {where}"
    if not profile.memory_bytes:
        return "memory", f"needs {need_gb:.1f} GB (this machine's memory is unknown)"
    return "no", f"needs {need_gb:.1f} GB; {budget / GIB:.0f} GB of memory is available"


def backend_for(info: ModelInfo, apple_silicon: bool) -> tuple[str, str]:
    """(backend, why) that reads ``info`` (on Apple Silicon or not); "" when none can."""
    if info.format == "gguf":
        return "llama_cpp", "a GGUF file: llama.cpp reads it"
    if info.format == "openai":
        return "openai", "a server URL: the OpenAI-compatible client"
    if info.format == "mlx":
        if apple_silicon:
            return "mlx", "an MLX folder: mlx-lm runs it on the GPU"
        return "mlx", "an MLX folder: mlx-lm (mlx[cpu] off Apple Silicon, slow)"
    if info.format == "hf":
        if apple_silicon:
            return "mlx", "a Hugging Face folder: mlx-lm loads it on Apple Silicon"
        return "", (
            "a Hugging Face folder: llama.cpp needs GGUF (convert it with llama.cpp's"
            " convert_hf_to_gguf.py), or pass --backend mlx to run it with mlx[cpu]"
        )
    return "", f"unknown format {info.format!r}"
