"""The GGUF header, read without llama.cpp: metadata, tensor table, and a truncation check.

A GGUF file is ``b"GGUF"``, a version (1-3), the tensor and metadata counts, the metadata
key/value pairs, one info record per tensor (name, shape, type, offset) and then, aligned,
the tensor data. Everything this module needs is in the header; the data is never read.
Token lists (``tokenizer.ggml.*``, 150k strings for Qwen) are skipped, not kept.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

MAGIC = b"GGUF"
MAX_STRING = 1 << 26  # a metadata string longer than 64 MiB means a corrupt header
MAX_COUNT = 1 << 32

# GGUF metadata value types: (struct format, size) for the fixed-size ones.
_SCALARS: dict[int, tuple[str, int]] = {
    0: ("B", 1), 1: ("b", 1), 2: ("H", 2), 3: ("h", 2), 4: ("I", 4), 5: ("i", 4),
    6: ("f", 4), 7: ("?", 1), 10: ("Q", 8), 11: ("q", 8), 12: ("d", 8),
}
_STRING, _ARRAY = 8, 9

# ggml tensor types: (elements per block, bytes per block), as in ggml.h / gguf-py.
TENSOR_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 40),
    10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74), 18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2),
    26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17), 40: ("NVFP4", 64, 36), 41: ("Q1_0", 128, 18),
}

# general.file_type (llama_ftype) -> the quantization name people use.
FILE_TYPES: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
    38: "MXFP4_MOE", 39: "NVFP4", 40: "Q1_0",
}


class GGUFError(ValueError):
    """The file is not a readable GGUF file; ``str(exc)`` is one line."""


@dataclass(frozen=True)
class GGUFHeader:
    """What a GGUF header says (arrays are kept as their length only)."""

    version: int
    metadata: Mapping[str, Any]
    tensor_count: int
    parameters: int  # elements over all tensors
    data_end: int  # the byte the last tensor ends at (0 when a tensor type is unknown)
    tensor_types: Mapping[str, int] = field(default_factory=dict)  # type name -> tensors

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    @property
    def architecture(self) -> str:
        return str(self.get("general.architecture", ""))

    @property
    def context_length(self) -> int:
        value = self.get(f"{self.architecture}.context_length", 0)
        return int(value) if isinstance(value, int) else 0

    @property
    def quantization(self) -> str:
        ftype = self.get("general.file_type")
        if isinstance(ftype, int) and ftype in FILE_TYPES:
            return FILE_TYPES[ftype]
        if self.tensor_types:  # the most common type among the weights
            return max(self.tensor_types.items(), key=lambda kv: kv[1])[0]
        return ""

    @property
    def chat_template(self) -> str:
        value = self.get("tokenizer.chat_template", "")
        return value if isinstance(value, str) else ""


class _Reader:
    def __init__(self, fh: BinaryIO, endian: str) -> None:
        self.fh = fh
        self.endian = endian
        self.wide = True  # counts and string lengths are uint64 (v2+); uint32 in v1

    def take(self, n: int) -> bytes:
        data = self.fh.read(n)
        if len(data) != n:
            raise GGUFError("the header is cut off (truncated file)")
        return data

    def scalar(self, fmt: str, size: int) -> Any:
        return struct.unpack(self.endian + fmt, self.take(size))[0]

    def count(self) -> int:
        n = int(self.scalar("Q", 8) if self.wide else self.scalar("I", 4))
        if n > MAX_COUNT:
            raise GGUFError(f"implausible count {n} in the header (corrupt file)")
        return n

    def string(self) -> str:
        n = self.count()
        if n > MAX_STRING:
            raise GGUFError(f"implausible string length {n} in the header (corrupt file)")
        return self.take(n).decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        n = self.count()
        if n > MAX_STRING:
            raise GGUFError(f"implausible string length {n} in the header (corrupt file)")
        self.fh.seek(n, 1)

    def value(self, vtype: int, keep: bool = True) -> Any:
        if vtype in _SCALARS:
            return self.scalar(*_SCALARS[vtype])
        if vtype == _STRING:
            if keep:
                return self.string()
            self.skip_string()
            return None
        if vtype == _ARRAY:
            etype = int(self.scalar("I", 4))
            n = self.count()
            if etype in _SCALARS:
                self.fh.seek(n * _SCALARS[etype][1], 1)
            else:
                for _ in range(n):
                    self.value(etype, keep=False)
            return n  # the length is enough (token lists, merges, ...)
        raise GGUFError(f"unknown metadata value type {vtype} (corrupt file)")


def read_header(path: Path) -> GGUFHeader:
    """Parse the header of the GGUF file at ``path``. Raises GGUFError or OSError."""
    with path.open("rb") as fh:
        size = path.stat().st_size
        if fh.read(4) != MAGIC:
            raise GGUFError("not a GGUF file (no GGUF magic)")
        raw = fh.read(4)
        if len(raw) != 4:
            raise GGUFError("the header is cut off (truncated file)")
        endian = "<"
        version = struct.unpack("<I", raw)[0]
        if version > 0xFFFF:  # a big-endian file
            endian, version = ">", struct.unpack(">I", raw)[0]
        if version not in (1, 2, 3):
            raise GGUFError(f"unsupported GGUF version {version}")
        r = _Reader(fh, endian)
        r.wide = version >= 2
        tensors = r.count()
        n_kv = r.count()
        meta: dict[str, Any] = {}
        for _ in range(n_kv):
            key = r.string()
            vtype = int(r.scalar("I", 4))
            meta[key] = r.value(vtype)
        params = 0
        types: dict[str, int] = {}
        ends: list[int] = []
        known = True
        for _ in range(tensors):
            r.skip_string()
            n_dims = int(r.scalar("I", 4))
            if n_dims > 8:
                raise GGUFError(f"implausible tensor rank {n_dims} (corrupt file)")
            dims = [int(r.scalar("Q", 8) if r.wide else r.scalar("I", 4)) for _ in range(n_dims)]
            ttype = int(r.scalar("I", 4))
            offset = int(r.scalar("Q", 8))
            elements = 1
            for d in dims:
                elements *= d
            params += elements
            info = TENSOR_TYPES.get(ttype)
            if info is None:
                known = False
                continue
            name, block, nbytes = info
            types[name] = types.get(name, 0) + 1
            ends.append(offset + -(-elements // block) * nbytes)
        align = meta.get("general.alignment", 32)
        align = align if isinstance(align, int) and align > 0 else 32
        start = -(-fh.tell() // align) * align
        data_end = start + max(ends, default=0) if known else 0
    if data_end and size < data_end:
        raise GGUFError(
            f"truncated: the tensors end at byte {data_end} but the file has {size} bytes"
        )
    return GGUFHeader(version, meta, tensors, params, data_end, types)
