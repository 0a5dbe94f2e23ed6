"""Well-formed model files and folders for tests: a GGUF writer (the format as specified,
written by hand so the reader is not checked against itself), safetensors files, and the
folder layouts of the Hugging Face cache, LM Studio and Ollama."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import Any


def _str(s: str) -> bytes:
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def _value(v: Any) -> bytes:
    if isinstance(v, bool):
        return struct.pack("<I?", 7, v)
    if isinstance(v, int):
        return struct.pack("<II", 4, v)
    if isinstance(v, float):
        return struct.pack("<If", 6, v)
    if isinstance(v, str):
        return struct.pack("<I", 8) + _str(v)
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return struct.pack("<IIQ", 9, 8, len(v)) + b"".join(_str(x) for x in v)
    if isinstance(v, list):
        return struct.pack("<IIQ", 9, 5, len(v)) + b"".join(struct.pack("<i", x) for x in v)
    raise TypeError(v)


def gguf_bytes(
    meta: dict[str, Any], tensors: list[tuple[str, list[int], int]] | None = None,
    version: int = 3,
) -> bytes:
    """A GGUF v3 file: ``tensors`` are (name, shape, ggml type 0=F32/1=F16), zero-filled."""
    tensors = tensors if tensors is not None else [("tok_embd.weight", [64, 16], 0)]
    out = bytearray(b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(meta)))
    for k, v in meta.items():
        out += _str(k) + _value(v)
    sizes = {0: 4, 1: 2}
    offset = 0
    datas = []
    for name, shape, ttype in tensors:
        n = 1
        for d in shape:
            n *= d
        out += _str(name) + struct.pack("<I", len(shape))
        out += b"".join(struct.pack("<Q", d) for d in shape)
        out += struct.pack("<IQ", ttype, offset)
        nbytes = n * sizes[ttype]
        datas.append(nbytes)
        offset += -(-nbytes // 32) * 32
    out += b"\0" * (-len(out) % 32)
    for nbytes in datas:
        out += b"\0" * (-(-nbytes // 32) * 32)
    return bytes(out)


QWEN_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}"
                 "<|im_end|>{% endfor %}")
LLAMA3_TEMPLATE = "<|start_header_id|>{{ role }}<|end_header_id|>{{ content }}<|eot_id|>"


def write_gguf(path: Path, arch: str = "qwen2", name: str = "Tiny Coder", ftype: int = 15,
               ctx: int = 32768, template: str = QWEN_TEMPLATE, **kw: Any) -> Path:
    meta = {"general.architecture": arch, "general.name": name, "general.file_type": ftype,
            f"{arch}.context_length": ctx, "tokenizer.ggml.tokens": ["a", "b", "c"],
            "tokenizer.chat_template": template}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gguf_bytes(meta, **kw))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def safetensors_bytes(tensors: dict[str, tuple[str, list[int]]], fmt: str = "pt") -> bytes:
    """A safetensors file: {name: (dtype, shape)} zero-filled, ``__metadata__.format``."""
    sizes = {"F32": 4, "F16": 2, "BF16": 2, "U32": 4}
    header: dict[str, Any] = {"__metadata__": {"format": fmt}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        n = sizes[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + b"\0" * offset


def write_hf_folder(path: Path, mlx: bool = False) -> Path:
    """A Hugging Face (or, with ``mlx``, an mlx-lm 4-bit) model folder."""
    path.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"],
                              "max_position_embeddings": 32768, "torch_dtype": "bfloat16"}
    if mlx:
        config["quantization"] = {"group_size": 64, "bits": 4}
        tensors = {"model.layers.0.mlp.weight": ("U32", [64, 8]),
                   "model.layers.0.mlp.scales": ("F16", [64, 1]),
                   "model.layers.0.mlp.biases": ("F16", [64, 1])}
    else:
        tensors = {"model.layers.0.mlp.weight": ("BF16", [64, 64])}
    (path / "config.json").write_text(json.dumps(config))
    (path / "tokenizer_config.json").write_text(json.dumps({"chat_template": QWEN_TEMPLATE}))
    (path / "model.safetensors").write_bytes(
        safetensors_bytes(tensors, "mlx" if mlx else "pt"))
    return path


def hf_cache_repo(cache: Path, repo: str, rev: str = "abc123") -> Path:
    """``models--ORG--NAME`` with ``refs/main`` and an empty snapshot; returns the snapshot."""
    base = cache / ("models--" + repo.replace("/", "--"))
    snap = base / "snapshots" / rev
    snap.mkdir(parents=True)
    (base / "refs").mkdir()
    (base / "refs" / "main").write_text(rev)
    (base / "blobs").mkdir()
    return snap


def hf_cache_link(snap: Path, name: str, data: bytes) -> Path:
    """A snapshot file as the hub writes it: a symlink to the blob named by its hash."""
    blobs = snap.parent.parent / "blobs"
    blob = blobs / hashlib.sha256(data).hexdigest()
    blob.write_bytes(data)
    link = snap / name
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(blob)
    return link


def ollama_model(root: Path, model: str, tag: str, data: bytes) -> Path:
    """An Ollama store: the GGUF as ``blobs/sha256-HEX`` and its manifest."""
    digest = hashlib.sha256(data).hexdigest()
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    blob = root / "blobs" / f"sha256-{digest}"
    blob.write_bytes(data)
    config = b'{"model_format":"gguf"}'
    cdigest = hashlib.sha256(config).hexdigest()
    (root / "blobs" / f"sha256-{cdigest}").write_bytes(config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "digest": f"sha256:{cdigest}", "size": len(config)},
        "layers": [
            {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}",
             "size": len(data)},
            {"mediaType": "application/vnd.ollama.image.template",
             "digest": "sha256:" + "0" * 64, "size": 10},
        ],
    }
    path = root / "manifests" / "registry.ollama.ai" / "library" / model / tag
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest))
    return blob
