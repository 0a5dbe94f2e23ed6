"""What a model file, folder or URL is, told by its content (never by its name).

* GGUF: the magic and header (:mod:`reviewer.models.gguf`).
* MLX folder: ``config.json`` plus ``*.safetensors`` whose header metadata says
  ``"format": "mlx"`` (mlx-lm writes it; transformers writes ``"pt"``), or a ``quantization``
  block in ``config.json`` as mlx-lm writes it, or the older ``weights.npz``.
* Hugging Face folder: ``config.json`` plus safetensors or ``pytorch_model*.bin`` shards.
* An ``http(s)://`` URL: an OpenAI-compatible server (nothing is fetched to detect it).
"""

from __future__ import annotations

import contextlib
import json
import struct
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from reviewer.models.gguf import GGUFError, read_header

FORMATS = ("gguf", "mlx", "hf", "openai")


class ModelFormatError(ValueError):
    """Not a model the reviewer can read; ``str(exc)`` is one line naming the path."""


@dataclass(frozen=True)
class ModelInfo:
    """A model's format and what its files say about it (empty/0 where they say nothing)."""

    format: str  # one of FORMATS
    path: str
    size_bytes: int = 0
    architecture: str = ""
    parameters: int = 0
    quantization: str = ""
    context_length: int = 0
    chat_template: str = ""  # the family: chatml, llama3, mistral, gemma, phi, ... or ""
    display_name: str = ""  # general.name, or the folder's model type

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def params_label(self) -> str:
        return params_label(self.parameters)


def params_label(p: int) -> str:
    """135M, 1.5B, 272K ("" for 0)."""
    if not p:
        return ""
    if p >= 1e9:
        return f"{p / 1e9:.1f}B"
    return f"{p / 1e6:.0f}M" if p >= 1e6 else f"{p / 1e3:.0f}K"


def template_family(template: str) -> str:
    """The chat format a Jinja chat template writes (by the markers it uses)."""
    markers = (
        ("<|im_start|>", "chatml"), ("<|start_header_id|>", "llama3"),
        ("<start_of_turn>", "gemma"), ("[INST]", "mistral"), ("<|user|>", "phi"),
        ("<|User|>", "deepseek"), ("### Instruction", "alpaca"),
    )
    for marker, family in markers:
        if marker in template:
            return family
    return "other" if template else ""


def detect(path: Path) -> ModelInfo:
    """Detect the model at ``path``. Raises ModelFormatError with one line."""
    if not path.exists():
        raise ModelFormatError(f"{path}: no such file or folder")
    if path.is_dir():
        return _detect_folder(path)
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelFormatError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if magic != b"GGUF":
        kind = "empty file" if not magic else "unknown format: not GGUF"
        raise ModelFormatError(f"{path}: {kind} (a model is a GGUF file or a model folder)")
    try:
        h = read_header(path)
    except GGUFError as exc:
        raise ModelFormatError(f"{path}: {exc}") from None
    except OSError as exc:
        raise ModelFormatError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return ModelInfo(
        "gguf", str(path), path.stat().st_size, h.architecture, h.parameters, h.quantization,
        h.context_length, template_family(h.chat_template), str(h.get("general.name", "")),
    )


def detect_url(url: str) -> ModelInfo:
    """An OpenAI-compatible server URL (its models are whatever it serves)."""
    return ModelInfo("openai", url)


def is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


def safetensors_metadata(path: Path, bits: int = 0) -> tuple[dict[str, str], int]:
    """(``__metadata__``, parameter count) from a safetensors header (8-byte length + JSON).

    ``bits``: the folder is quantized by mlx-lm (weights packed ``32 / bits`` to a uint32,
    with ``.scales`` and ``.biases`` beside them, which are not parameters).
    """
    with path.open("rb") as fh:
        raw = fh.read(8)
        if len(raw) != 8:
            raise ModelFormatError(f"{path}: truncated safetensors file")
        (n,) = struct.unpack("<Q", raw)
        if n > 100 << 20:
            raise ModelFormatError(f"{path}: implausible safetensors header (corrupt file)")
        text = fh.read(n)
    if len(text) != n:
        raise ModelFormatError(f"{path}: truncated safetensors header")
    try:
        header = json.loads(text)
    except ValueError:
        raise ModelFormatError(f"{path}: unreadable safetensors header") from None
    if not isinstance(header, dict):
        raise ModelFormatError(f"{path}: unreadable safetensors header")
    meta = header.pop("__metadata__", None) or {}
    params = 0
    for name, info in header.items():
        if not isinstance(info, dict) or (bits and name.endswith((".scales", ".biases"))):
            continue
        count = 1
        for d in info.get("shape", []):
            count *= int(d)
        if bits and info.get("dtype") == "U32":
            count = count * 32 // bits
        params += count
    return {str(k): str(v) for k, v in meta.items()}, params


def _folder_size(path: Path) -> int:
    total = 0
    for f in path.rglob("*"):
        try:
            if f.is_file():
                total += f.stat().st_size  # follows symlinks (the HF cache links to blobs)
        except OSError:
            continue
    return total


def _detect_folder(path: Path) -> ModelInfo:
    config_file = path / "config.json"
    if not config_file.is_file():
        ggufs = sorted(path.glob("*.gguf"))
        hint = f" (it holds {ggufs[0].name}: name that file)" if ggufs else ""
        raise ModelFormatError(f"{path}: a model folder needs a config.json{hint}")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFormatError(f"{path}/config.json: unreadable ({exc})") from None
    if not isinstance(config, dict):
        raise ModelFormatError(f"{path}/config.json: not a JSON object")
    shards = sorted(path.glob("*.safetensors"))
    bins = sorted(path.glob("pytorch_model*.bin"))
    npz = (path / "weights.npz").is_file()
    if not shards and not bins and not npz:
        raise ModelFormatError(f"{path}: config.json but no weights (*.safetensors or *.bin)")
    fmt = "hf"
    params = 0
    q = config.get("quantization")
    bits = int(q.get("bits") or 0) if isinstance(q, dict) else 0
    for shard in shards:
        meta, count = safetensors_metadata(shard, bits)
        params += count
        if meta.get("format") == "mlx":
            fmt = "mlx"
    if npz or isinstance(config.get("quantization"), dict):
        fmt = "mlx"
    quant = ""
    if bits:
        quant = f"{bits}bit"
    elif isinstance(config.get("torch_dtype"), str):
        quant = str(config["torch_dtype"])
    elif isinstance(config.get("dtype"), str):
        quant = str(config["dtype"])
    template = ""
    tok_config = path / "tokenizer_config.json"
    if tok_config.is_file():
        try:
            tc = json.loads(tok_config.read_text(encoding="utf-8"))
            template = str(tc.get("chat_template") or "") if isinstance(tc, dict) else ""
        except (OSError, ValueError):
            template = ""
    jinja = path / "chat_template.jinja"  # transformers >= 4.50 writes the template here
    if not template and jinja.is_file():
        with contextlib.suppress(OSError):
            template = jinja.read_text(encoding="utf-8")
    archs = config.get("architectures")
    arch = str(config.get("model_type", "")) or (str(archs[0]) if archs else "")
    context = config.get("max_position_embeddings", 0)
    return ModelInfo(
        fmt, str(path), _folder_size(path), arch, params, quant,
        context if isinstance(context, int) else 0, template_family(template),
        str(config.get("_name_or_path", "")) or path.name,
    )
