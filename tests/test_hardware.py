"""Machine detection parsers and the pure derivation, table-tested with recorded machines."""

from __future__ import annotations

import platform

import pytest

from reviewer import hardware as hw
from reviewer.hardware import GIB, Gpu, MachineProfile

# -- recorded machines ---------------------------------------------------------------------
# `sysctl machdep.cpu.brand_string hw.memsize hw.physicalcpu hw.logicalcpu
#  hw.perflevel0.physicalcpu hw.perflevel1.physicalcpu hw.optional.arm64` on each Mac.
SYSCTL_M1_AIR_8GB = """\
machdep.cpu.brand_string: Apple M1
hw.memsize: 8589934592
hw.physicalcpu: 8
hw.logicalcpu: 8
hw.perflevel0.physicalcpu: 4
hw.perflevel1.physicalcpu: 4
hw.optional.arm64: 1
"""
SYSCTL_M2_MAX_32GB = """\
machdep.cpu.brand_string: Apple M2 Max
hw.memsize: 34359738368
hw.physicalcpu: 12
hw.logicalcpu: 12
hw.perflevel0.physicalcpu: 8
hw.perflevel1.physicalcpu: 4
hw.optional.arm64: 1
"""
SYSCTL_M3_ULTRA_192GB = """\
machdep.cpu.brand_string: Apple M3 Ultra
hw.memsize: 206158430208
hw.physicalcpu: 28
hw.logicalcpu: 28
hw.perflevel0.physicalcpu: 20
hw.perflevel1.physicalcpu: 8
hw.optional.arm64: 1
"""
# An Intel Mac (no perflevels, no arm64): no Metal offload recommendation.
SYSCTL_INTEL_MAC_16GB = """\
machdep.cpu.brand_string: Intel(R) Core(TM) i7-9750H CPU @ 2.60GHz
hw.memsize: 17179869184
hw.physicalcpu: 6
hw.logicalcpu: 12
"""
# A Linux workstation with CUDA: `nvidia-smi --query-gpu=name,memory.total
# --format=csv,noheader,nounits`.
NVIDIA_SMI_RTX_4090 = "NVIDIA GeForce RTX 4090, 24564\n"
LINUX_CUDA = MachineProfile(
    os="linux", arch="x86_64", cpu_name="AMD Ryzen 9 7950X 16-Core Processor",
    logical_cores=32, physical_cores=16, memory_bytes=64 * GIB,
    gpus=hw.parse_nvidia_smi(NVIDIA_SMI_RTX_4090),
)
# A laptop with a small GPU: the smallest model only partly fits.
LINUX_SMALL_GPU = MachineProfile(
    os="linux", arch="x86_64", cpu_name="Intel(R) Core(TM) i5-8300H", logical_cores=8,
    physical_cores=4, memory_bytes=16 * GIB, gpus=(Gpu("cuda", "GeForce MX150", 2 * GIB),),
)
# This machine (the CI/dev VM), as `reviewer.hardware.detect()` reported it.
THIS_LINUX_CPU_BOX = MachineProfile(
    os="linux", arch="x86_64", cpu_name="AMD EPYC", logical_cores=2, physical_cores=2,
    performance_cores=0, efficiency_cores=0, memory_bytes=25276510208,
    unified_memory=False, gpus=(),
)


def mac(text: str) -> MachineProfile:
    return hw.profile_from_sysctl(hw.parse_sysctl(text), "arm64")


M1_AIR = mac(SYSCTL_M1_AIR_8GB)
M2_MAX = mac(SYSCTL_M2_MAX_32GB)
M3_ULTRA = mac(SYSCTL_M3_ULTRA_192GB)


# -- detection parsers ---------------------------------------------------------------------
def test_apple_silicon_profile_from_sysctl() -> None:
    assert MachineProfile(
        os="darwin", arch="arm64", cpu_name="Apple M2 Max", logical_cores=12,
        physical_cores=12, performance_cores=8, efficiency_cores=4,
        memory_bytes=32 * GIB, unified_memory=True,
        gpus=(Gpu("metal", "Apple M2 Max GPU", 32 * GIB),),
    ) == M2_MAX
    assert M3_ULTRA.memory_gib == 192
    assert (M3_ULTRA.performance_cores, M3_ULTRA.efficiency_cores) == (20, 8)


def test_intel_mac_has_no_metal_offload_or_perf_levels() -> None:
    prof = hw.profile_from_sysctl(hw.parse_sysctl(SYSCTL_INTEL_MAC_16GB), "x86_64")
    assert prof.gpus == () and not prof.unified_memory
    assert prof.performance_cores == 0
    settings = hw.derive(prof)
    assert settings.gpu_layers == 0 and settings.threads == 6


def test_linux_parsers() -> None:
    meminfo = "MemTotal:       24684092 kB\nMemFree:        23898760 kB\n"
    assert hw.parse_meminfo(meminfo) == 24684092 * 1024
    cpuinfo = (
        "processor\t: 0\nmodel name\t: AMD EPYC\nphysical id\t: 0\ncore id\t\t: 0\n\n"
        "processor\t: 1\nmodel name\t: AMD EPYC\nphysical id\t: 0\ncore id\t\t: 1\n\n"
        "processor\t: 2\nmodel name\t: AMD EPYC\nphysical id\t: 0\ncore id\t\t: 0\n"
    )
    assert hw.parse_cpuinfo(cpuinfo) == ("AMD EPYC", 2)
    assert hw.parse_cgroup_memory("max\n") == 0
    assert hw.parse_cgroup_memory("4294967296\n") == 4 * GIB
    assert hw.parse_cgroup_cpus("max 100000") == 0
    assert hw.parse_cgroup_cpus("150000 100000") == 2


def test_gpu_parsers() -> None:
    assert hw.parse_nvidia_smi(NVIDIA_SMI_RTX_4090) == (
        Gpu("cuda", "NVIDIA GeForce RTX 4090", 24564 * 1024 * 1024),
    )
    assert hw.parse_nvidia_smi("") == ()
    proc = "Model: \t\t NVIDIA A100-SXM4-80GB\nIRQ:   \t\t 31\n"
    assert hw.parse_nvidia_proc(proc) == Gpu("cuda", "NVIDIA A100-SXM4-80GB")
    rocm = (
        '{"card0": {"Card series": "AMD Instinct MI210", "VRAM Total Memory (B)":'
        ' "68702699520"}, "system": {"Driver version": "6.7"}}'
    )
    assert hw.parse_rocm_smi(rocm) == (Gpu("rocm", "AMD Instinct MI210", 68702699520),)
    assert hw.parse_rocm_smi("not json") == ()


def test_detect_on_this_machine() -> None:
    prof = hw.detect()
    assert prof.os == platform.system().lower()
    assert prof.logical_cores >= 1 and prof.physical_cores >= 1
    assert prof.memory_bytes > 0
    settings = hw.derive(prof)
    assert settings.threads >= 1
    assert set(settings.reasons) == {
        "backend", "threads", "model", "gpu_layers", "context_size", "batch_size"
    }


def test_detect_uses_the_runner_for_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "system", lambda: "Linux")

    def runner(argv: list[str]) -> str | None:
        return NVIDIA_SMI_RTX_4090 if argv[0] == "nvidia-smi" else None

    prof = hw.detect(run=runner)
    assert prof.gpus == (Gpu("cuda", "NVIDIA GeForce RTX 4090", 24564 * 1024 * 1024),)


# -- derivation ----------------------------------------------------------------------------
# machine -> (backend, threads, gpu_layers, context, batch, recommended model params)
TABLE = [
    ("M1 Air 8 GB", M1_AIR, ("llama_cpp", 4, -1, 2048, 512, 1.5)),
    ("M2 Max 32 GB", M2_MAX, ("llama_cpp", 8, -1, 8192, 512, 14.8)),
    ("M3 Ultra 192 GB", M3_ULTRA, ("llama_cpp", 20, -1, 8192, 512, 32.8)),
    ("Linux + RTX 4090", LINUX_CUDA, ("llama_cpp", 16, -1, 8192, 512, 14.8)),
    ("Linux + 2 GB GPU", LINUX_SMALL_GPU, ("llama_cpp", 4, 23, 4096, 512, 1.5)),
    ("this Linux CPU box", THIS_LINUX_CPU_BOX, ("llama_cpp", 2, 0, 4096, 256, 1.5)),
]


@pytest.mark.parametrize(("name", "profile", "expected"), TABLE, ids=[t[0] for t in TABLE])
def test_derive_table(
    name: str, profile: MachineProfile, expected: tuple[str, int, int, int, int, float]
) -> None:
    s = hw.derive(profile)
    got = (s.backend, s.threads, s.gpu_layers, s.context_size, s.batch_size, s.model.params_b)
    assert got == expected, name
    assert all(s.reasons[k] for k in ("backend", "threads", "model", "gpu_layers"))
    assert s.model.quant == "Q4_K_M"
    assert hw.derive(profile) == s  # pure: the same machine always gives the same answer


def test_memory_tiers() -> None:
    def model_for(gib: int) -> float:
        prof = MachineProfile("darwin", "arm64", "Apple M", 10, 10, 8, 2, gib * GIB, True,
                              (Gpu("metal", "Apple M GPU", gib * GIB),))
        return hw.derive(prof).model.params_b

    assert [model_for(g) for g in (8, 16, 24, 32, 48, 64, 128)] == [
        1.5, 7.6, 7.6, 14.8, 14.8, 32.8, 32.8
    ]


def test_reasons_explain_the_choice() -> None:
    s = hw.derive(THIS_LINUX_CPU_BOX)
    assert "2 CPU cores" in s.reasons["model"]
    assert "no supported GPU" in s.reasons["backend"]
    s = hw.derive(M1_AIR)
    assert "4 performance cores" in s.reasons["threads"]
    assert "Metal" in s.reasons["backend"]
    s = hw.derive(LINUX_SMALL_GPU)
    assert "23 of ~28 layers" in s.reasons["gpu_layers"]


def test_describe() -> None:
    text = "\n".join(hw.describe(M2_MAX))
    assert "Apple M2 Max" in text and "8 performance + 4 efficiency" in text
    assert "32.0 GB unified" in text and "Metal" in text
    assert "RTX 4090 (CUDA, 24 GB)" in "\n".join(hw.describe(LINUX_CUDA))
