"""The machine the model runs on, and the model settings that suit it.

Two halves, kept apart so the second can be table-tested with recorded machines:

* :func:`detect` looks at this machine (``sysctl`` on macOS, ``/proc`` and cgroups on
  Linux, ``nvidia-smi`` / ``/proc/driver/nvidia`` for CUDA, ``rocm-smi`` / ``/opt/rocm`` for
  ROCm) and returns a :class:`MachineProfile`. The text parsers it uses are pure functions.
* :func:`derive` is a pure function from a profile to :class:`Settings`: backend, threads,
  GPU layers, context and batch size and a model recommendation, each with the reason why.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

GIB = 1024**3

# -- the profile ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Gpu:
    """One accelerator: ``kind`` is "metal", "cuda" or "rocm"; memory 0 when unknown."""

    kind: str
    name: str
    memory_bytes: int = 0


@dataclass(frozen=True)
class MachineProfile:
    """What was detected about a machine (plain data; recorded profiles are test data)."""

    os: str  # "darwin", "linux", "windows", ...
    arch: str  # "arm64", "x86_64", ...
    cpu_name: str  # "Apple M2 Max", "AMD EPYC", ...
    logical_cores: int  # CPUs this process may use
    physical_cores: int
    performance_cores: int = 0  # Apple Silicon: hw.perflevel0 (0 when not applicable)
    efficiency_cores: int = 0  # Apple Silicon: hw.perflevel1
    memory_bytes: int = 0  # total usable memory (cgroup limit when lower)
    unified_memory: bool = False  # CPU and GPU share memory (Apple Silicon)
    gpus: tuple[Gpu, ...] = ()

    @property
    def apple_silicon(self) -> bool:
        return self.os == "darwin" and self.arch == "arm64"

    @property
    def memory_gib(self) -> float:
        return self.memory_bytes / GIB

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- the settings --------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelChoice:
    """A recommended model for the machine's memory tier."""

    name: str  # e.g. "Qwen2.5-Coder-7B-Instruct"
    params_b: float  # billions of parameters
    quant: str  # "Q4_K_M"
    gguf: str  # the usual GGUF file name
    size_bytes: int  # approximate file size (memory needed for the weights)


@dataclass(frozen=True)
class Settings:
    """Model settings derived from a profile. ``reasons`` maps each field name to why."""

    backend: str  # "llama_cpp", "mlx", "openai", "none"
    threads: int
    gpu_layers: int  # -1: all layers on the GPU; 0: CPU only
    context_size: int
    batch_size: int
    model: ModelChoice
    reasons: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["reasons"] = dict(self.reasons)
        return out


# Memory tiers (GiB available to hold the weights -> model). The thresholds sit between the
# usual machine sizes so that 8 GB -> 1.5B, 16 GB -> 7B, 32 GB -> 14B and 64 GB+ -> 32B.
MODEL_TIERS: tuple[tuple[float, ModelChoice], ...] = (
    (56.0, ModelChoice("Qwen2.5-Coder-32B-Instruct", 32.8, "Q4_K_M",
                       "qwen2.5-coder-32b-instruct-q4_k_m.gguf", int(19.9 * GIB))),
    (28.0, ModelChoice("Qwen2.5-Coder-14B-Instruct", 14.8, "Q4_K_M",
                       "qwen2.5-coder-14b-instruct-q4_k_m.gguf", int(9.0 * GIB))),
    (14.0, ModelChoice("Qwen2.5-Coder-7B-Instruct", 7.6, "Q4_K_M",
                       "qwen2.5-coder-7b-instruct-q4_k_m.gguf", int(4.7 * GIB))),
    (0.0, ModelChoice("Qwen2.5-Coder-1.5B-Instruct", 1.5, "Q4_K_M",
                      "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", int(1.1 * GIB))),
)
# Without a GPU, generation speed is bound by memory bandwidth and cores, not capacity.
CPU_ONLY_MAX_PARAMS_B = 8.0
FEW_CORES = 4


def derive(profile: MachineProfile) -> Settings:
    """The settings for ``profile`` (pure: no I/O, same input -> same output)."""
    reasons: dict[str, str] = {}
    gpu = _best_gpu(profile)

    backend = "llama_cpp"
    if gpu is not None and gpu.kind == "metal":
        reasons["backend"] = (
            "llama.cpp with Metal offload (the mlx backend is the alternative on Apple"
            " Silicon; it needs the model in Hugging Face format)"
        )
    elif gpu is not None:
        reasons["backend"] = f"llama.cpp with {gpu.kind.upper()} offload to {gpu.name}"
    else:
        reasons["backend"] = "llama.cpp on the CPU (no supported GPU found)"

    threads, reasons["threads"] = _threads(profile)
    model, reasons["model"] = _model(profile, gpu)
    gpu_layers, reasons["gpu_layers"] = _gpu_layers(profile, gpu, model)
    context, reasons["context_size"] = _context(profile)
    batch, reasons["batch_size"] = _batch(gpu)
    return Settings(backend, threads, gpu_layers, context, batch, model, reasons)


def _best_gpu(profile: MachineProfile) -> Gpu | None:
    if not profile.gpus:
        return None
    return max(profile.gpus, key=lambda g: g.memory_bytes)


def _threads(p: MachineProfile) -> tuple[int, str]:
    if p.performance_cores > 0:
        return p.performance_cores, (
            f"{p.performance_cores} performance cores; the {p.efficiency_cores} efficiency"
            " cores would hold the others back"
        )
    cores = max(1, min(p.physical_cores or p.logical_cores, p.logical_cores or 1))
    return cores, f"{cores} physical cores (hyper-threads do not speed up generation)"


def _vram_needed(model: ModelChoice) -> float:
    """Bytes of GPU memory a model needs: weights, KV cache and scratch buffers."""
    return model.size_bytes * 1.25 + GIB


def _model(p: MachineProfile, gpu: Gpu | None) -> tuple[ModelChoice, str]:
    if gpu is not None and gpu.memory_bytes and not p.unified_memory:
        vram = gpu.memory_bytes
        fitting = [m for _, m in MODEL_TIERS if _vram_needed(m) <= vram]
        choice = fitting[0] if fitting else MODEL_TIERS[-1][1]
        how = "the largest that fits" if fitting else "the smallest, partly offloaded"
        return choice, f"{vram / GIB:.0f} GB of GPU memory: {_tier_name(choice)} is {how}"
    mem = p.memory_gib
    what = f"{mem:.0f} GB unified memory" if p.unified_memory else (
        f"{mem:.0f} GB system memory" + ("" if gpu is not None else ", no GPU"))
    choice = next(m for limit, m in MODEL_TIERS if mem >= limit)
    reason = f"{what}: the {_tier_name(choice)} tier"
    if gpu is None and choice.params_b > CPU_ONLY_MAX_PARAMS_B:
        choice = next(m for _, m in MODEL_TIERS if m.params_b <= CPU_ONLY_MAX_PARAMS_B)
        reason += f", capped at {_tier_name(choice)}: without a GPU a bigger model is too slow"
    if gpu is None and p.physical_cores and p.physical_cores <= FEW_CORES and choice.params_b > 2:
        choice = MODEL_TIERS[-1][1]
        reason += (
            f", capped at {_tier_name(choice)}: {p.physical_cores} CPU cores give a few"
            " tokens/s at most on anything bigger"
        )
    return choice, reason


def _tier_name(m: ModelChoice) -> str:
    return f"{m.params_b:g}B {m.quant}"


def _gpu_layers(p: MachineProfile, gpu: Gpu | None, model: ModelChoice) -> tuple[int, str]:
    if gpu is None:
        return 0, "no GPU: every layer runs on the CPU"
    if p.unified_memory or gpu.kind == "metal":
        return -1, "unified memory: every layer on the GPU at no copy cost"
    if not gpu.memory_bytes:
        return -1, f"{gpu.name}: memory unknown, offloading every layer"
    need = _vram_needed(model)
    if gpu.memory_bytes >= need:
        return -1, f"the model fits in {gpu.memory_bytes / GIB:.0f} GB of GPU memory"
    layers = _typical_layers(model.params_b)
    part = max(1, int(layers * gpu.memory_bytes / need))
    return part, (
        f"{part} of ~{layers} layers fit in {gpu.memory_bytes / GIB:.0f} GB of GPU memory;"
        " the rest run on the CPU"
    )


def _typical_layers(params_b: float) -> int:
    return 28 if params_b < 3 else 28 if params_b < 10 else 48 if params_b < 20 else 64


def _context(p: MachineProfile) -> tuple[int, str]:
    gib = p.memory_gib
    if gib < 12:
        size = 2048
    elif gib < 24:
        size = 4096
    else:
        size = 8192
    return size, (
        f"{size} tokens: a finding's prompt (function, examples, context) fits well below"
        f" this; the KV cache stays small for {gib:.0f} GB"
    )


def _batch(gpu: Gpu | None) -> tuple[int, str]:
    if gpu is not None:
        return 512, "512: a GPU evaluates big prompt batches in one pass"
    return 256, "256: on the CPU larger prompt batches gain nothing and cost memory"


# -- detection -----------------------------------------------------------------------------

Runner = Callable[[list[str]], str | None]


def run_command(argv: list[str], timeout: float = 3.0) -> str | None:
    """stdout of a command, or None when it is missing, fails or hangs."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def read_text(path: str) -> str | None:
    """A small system file's text, or None."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


Reader = Callable[[str], str | None]


def detect(run: Runner = run_command, read: Reader = read_text) -> MachineProfile:
    """Profile this machine (never raises; unknown facts are 0 or empty)."""
    system = platform.system().lower()
    arch = _norm_arch(platform.machine())
    logical = _usable_cpus()
    if system == "darwin":
        return _detect_macos(run, arch, logical)
    if system == "linux":
        return _detect_linux(run, read, arch, logical)
    mem = _sysconf_memory()
    return MachineProfile(system, arch, platform.processor() or arch, logical, logical,
                          memory_bytes=mem, gpus=_detect_nvidia(run, read))


def _norm_arch(machine: str) -> str:
    m = machine.lower()
    return {"aarch64": "arm64", "amd64": "x86_64", "x64": "x86_64"}.get(m, m)


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _sysconf_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 0


def parse_sysctl(text: str) -> dict[str, str]:
    """``name: value`` lines of ``sysctl name...`` output."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


SYSCTL_KEYS = (
    "machdep.cpu.brand_string", "hw.memsize", "hw.physicalcpu", "hw.logicalcpu",
    "hw.perflevel0.physicalcpu", "hw.perflevel1.physicalcpu", "hw.optional.arm64",
)


def profile_from_sysctl(values: Mapping[str, str], arch: str) -> MachineProfile:
    """A macOS profile from ``sysctl`` values (pure)."""

    def num(key: str) -> int:
        try:
            return int(values.get(key, "0") or 0)
        except ValueError:
            return 0

    if num("hw.optional.arm64"):
        arch = "arm64"  # a Rosetta process still runs on Apple Silicon
    name = values.get("machdep.cpu.brand_string", "") or arch
    physical = num("hw.physicalcpu")
    logical = num("hw.logicalcpu") or physical
    mem = num("hw.memsize")
    apple = arch == "arm64"
    perf = num("hw.perflevel0.physicalcpu") if apple else 0
    eff = num("hw.perflevel1.physicalcpu") if apple else 0
    gpus = (Gpu("metal", f"{name} GPU", mem),) if apple else ()
    return MachineProfile("darwin", arch, name, logical, physical, perf, eff, mem, apple, gpus)


def _detect_macos(run: Runner, arch: str, logical: int) -> MachineProfile:
    out = run(["sysctl", *SYSCTL_KEYS]) or ""
    values = parse_sysctl(out)
    if not values:  # one missing key makes some sysctl versions fail: ask one by one
        for key in SYSCTL_KEYS:
            v = run(["sysctl", "-n", key])
            if v is not None:
                values[key] = v.strip()
    prof = profile_from_sysctl(values, arch)
    if not prof.logical_cores:
        prof = replace(prof, logical_cores=logical, physical_cores=prof.physical_cores or logical)
    return prof


def parse_meminfo(text: str) -> int:
    """MemTotal of /proc/meminfo in bytes (0 when absent)."""
    m = re.search(r"^MemTotal:\s+(\d+)\s*kB", text, re.MULTILINE)
    return int(m.group(1)) * 1024 if m else 0


def parse_cpuinfo(text: str) -> tuple[str, int]:
    """(CPU model name, physical core count) from /proc/cpuinfo (0 cores when unknown)."""
    name = ""
    cores: set[tuple[str, str]] = set()
    phys = core = ""
    for line in [*text.splitlines(), ""]:
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key in ("model name", "Model", "Hardware") and not name:
            name = value
        elif key == "physical id":
            phys = value
        elif key == "core id":
            core = value
        elif not line.strip():
            if core:
                cores.add((phys, core))
            phys = core = ""
    return name, len(cores)


def parse_cgroup_memory(text: str | None) -> int:
    """A cgroup v2 ``memory.max`` value in bytes (0: no limit)."""
    if not text or text.strip() in ("", "max"):
        return 0
    try:
        return int(text.strip())
    except ValueError:
        return 0


def parse_cgroup_cpus(text: str | None) -> int:
    """CPUs allowed by a cgroup v2 ``cpu.max`` (``quota period``; 0: no limit)."""
    if not text:
        return 0
    parts = text.split()
    if len(parts) != 2 or parts[0] == "max":
        return 0
    try:
        return max(1, -(-int(parts[0]) // int(parts[1])))
    except (ValueError, ZeroDivisionError):
        return 0


def _detect_linux(
    run: Runner, read: Reader, arch: str, logical: int
) -> MachineProfile:
    mem = parse_meminfo(read("/proc/meminfo") or "") or _sysconf_memory()
    limit = parse_cgroup_memory(read("/sys/fs/cgroup/memory.max"))
    if limit and (not mem or limit < mem):
        mem = limit
    cpu_limit = parse_cgroup_cpus(read("/sys/fs/cgroup/cpu.max"))
    if cpu_limit:
        logical = min(logical, cpu_limit)
    name, physical = parse_cpuinfo(read("/proc/cpuinfo") or "")
    physical = min(physical or logical, logical)
    gpus = _detect_nvidia(run, read) + _detect_rocm(run, read)
    return MachineProfile("linux", arch, name or arch, logical, physical,
                          memory_bytes=mem, gpus=gpus)


def parse_nvidia_smi(text: str) -> tuple[Gpu, ...]:
    """``nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits`` (MiB)."""
    gpus = []
    for line in text.splitlines():
        name, _, mem = line.rpartition(",")
        if not name.strip():
            continue
        try:
            mib = int(float(mem.strip()))
        except ValueError:
            mib = 0
        gpus.append(Gpu("cuda", name.strip(), mib * 1024 * 1024))
    return tuple(gpus)


def parse_nvidia_proc(text: str) -> Gpu | None:
    """A GPU from /proc/driver/nvidia/gpus/*/information (no memory size there)."""
    m = re.search(r"^Model:\s*(.+)$", text, re.MULTILINE)
    return Gpu("cuda", m.group(1).strip()) if m else None


def _detect_nvidia(run: Runner, read: Reader) -> tuple[Gpu, ...]:
    out = run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"])
    if out:
        gpus = parse_nvidia_smi(out)
        if gpus:
            return gpus
    base = Path("/proc/driver/nvidia/gpus")
    found = []
    if base.is_dir():
        for info in sorted(base.glob("*/information")):
            gpu = parse_nvidia_proc(read(str(info)) or "")
            if gpu is not None:
                found.append(gpu)
    return tuple(found)


def parse_rocm_smi(text: str) -> tuple[Gpu, ...]:
    """``rocm-smi --showproductname --showmeminfo vram --json`` output."""
    import json

    try:
        data = json.loads(text)
    except ValueError:
        return ()
    gpus = []
    if isinstance(data, dict):
        for card, info in sorted(data.items()):
            if not isinstance(info, dict) or not card.startswith("card"):
                continue
            name = str(info.get("Card series") or info.get("Card model") or card)
            try:
                mem = int(info.get("VRAM Total Memory (B)", 0))
            except (TypeError, ValueError):
                mem = 0
            gpus.append(Gpu("rocm", name, mem))
    return tuple(gpus)


def _detect_rocm(run: Runner, read: Reader) -> tuple[Gpu, ...]:
    out = run(["rocm-smi", "--showproductname", "--showmeminfo", "vram", "--json"])
    if out:
        gpus = parse_rocm_smi(out)
        if gpus:
            return gpus
    if not Path("/opt/rocm").is_dir():
        return ()
    # ROCm installed but rocm-smi silent: read the amdgpu VRAM size from sysfs.
    found = []
    for dev in sorted(Path("/sys/class/drm").glob("card[0-9]*/device/mem_info_vram_total")):
        try:
            mem = int((read(str(dev)) or "0").strip())
        except ValueError:
            mem = 0
        if mem:
            found.append(Gpu("rocm", f"AMD GPU ({dev.parent.parent.name})", mem))
    return tuple(found)


def describe(profile: MachineProfile) -> list[str]:
    """Human-readable lines about a profile (for ``reviewer doctor``)."""
    lines = [f"os/arch:  {profile.os} {profile.arch}", f"cpu:      {profile.cpu_name}"]
    cores = f"{profile.physical_cores} physical, {profile.logical_cores} usable"
    if profile.performance_cores:
        cores += (f" ({profile.performance_cores} performance +"
                  f" {profile.efficiency_cores} efficiency)")
    lines.append(f"cores:    {cores}")
    kind = "unified" if profile.unified_memory else "system"
    lines.append(f"memory:   {profile.memory_gib:.1f} GB {kind}")
    if not profile.gpus:
        lines.append("gpu:      none found")
    for g in profile.gpus:
        if g.kind == "metal":
            lines.append(f"gpu:      {g.name} (Metal, shares the unified memory)")
            continue
        mem = f", {g.memory_bytes / GIB:.0f} GB" if g.memory_bytes else ""
        lines.append(f"gpu:      {g.name} ({g.kind.upper()}{mem})")
    return lines
