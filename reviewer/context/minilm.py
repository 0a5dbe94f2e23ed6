"""A sentence-transformers BERT model (all-MiniLM-L6-v2) computed with numpy alone.

Importing torch and sentence-transformers and loading the model takes seconds; a command
that embeds a handful of chunks (``reviewer index`` after an edit, a refresh in ``check``)
would spend nearly all its time there. This module reads the same folder (the weights
mapped from ``model.safetensors`` without copying them, the word pieces with the
``tokenizers`` library from ``tokenizer.json``) and runs the same computation as
sentence-transformers: the BERT encoder, mean pooling over the attention mask, L2
normalisation, texts cut at the folder's ``max_seq_length`` word pieces. The vectors
agree with sentence-transformers' to float32 rounding (tests compare them), so an index
built by either is the other's.

Only folders of exactly that shape are accepted (:func:`supported`): a BERT encoder with
absolute positions and GELU, mean pooling, normalisation, safetensors weights and a fast
tokenizer file; any other model goes through sentence-transformers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[np.float32]

# Word pieces per text when the folder does not say (sentence-transformers' own default is
# the tokenizer's limit; all-MiniLM-L6-v2 says 256).
DEFAULT_MAX_TOKENS = 256
_MODULES = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
            "sentence_transformers.models.Normalize"]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def supported(folder: Path) -> bool:
    """Whether :class:`MiniLM` computes exactly what sentence-transformers does for
    ``folder`` (BERT + mean pooling + normalisation, safetensors weights, tokenizer.json)."""
    modules = _read_json(folder / "modules.json")
    config = _read_json(folder / "config.json")
    if not isinstance(modules, list) or not isinstance(config, dict):
        return False
    if [m.get("type") for m in modules if isinstance(m, dict)] != _MODULES:
        return False
    if modules[0].get("path", "") != "":
        return False
    pooling = _read_json(folder / str(modules[1].get("path", "")) / "config.json")
    if not isinstance(pooling, dict) or not pooling.get("pooling_mode_mean_tokens") or any(
            pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                     "pooling_mode_mean_sqrt_len_tokens",
                                     "pooling_mode_weightedmean_tokens",
                                     "pooling_mode_lasttoken")):
        return False
    st_config = _read_json(folder / "sentence_bert_config.json")
    if isinstance(st_config, dict) and st_config.get("do_lower_case"):
        return False  # the tokenizer's own normaliser decides the case; keep it simple
    return (config.get("model_type") == "bert"
            and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and _plain_safetensors(folder / "model.safetensors")
            and (folder / "tokenizer.json").is_file())


def _plain_safetensors(path: Path) -> bool:
    """A safetensors file whose tensors are all of a dtype :func:`read_safetensors` maps."""
    try:
        with open(path, "rb") as fh:
            size = int.from_bytes(fh.read(8), "little")
            header = json.loads(fh.read(size)) if 0 < size < 100_000_000 else None
    except (OSError, ValueError):
        return False
    return isinstance(header, dict) and all(
        name == "__metadata__" or (isinstance(info, dict) and info.get("dtype") in _DTYPES)
        for name, info in header.items())


def max_tokens(folder: Path) -> int:
    """Word pieces per text: ``max_seq_length`` of the folder, at most the model's positions."""
    st_config = _read_json(folder / "sentence_bert_config.json")
    config = _read_json(folder / "config.json")
    limit = DEFAULT_MAX_TOKENS
    if isinstance(st_config, dict) and isinstance(st_config.get("max_seq_length"), int):
        limit = st_config["max_seq_length"]
    if isinstance(config, dict) and isinstance(config.get("max_position_embeddings"), int):
        limit = min(limit, config["max_position_embeddings"])
    return max(2, limit)


@dataclass(frozen=True)
class _Layer:
    """One encoder layer's weights as stored, (out, in): used as ``x @ w.T`` (BLAS reads
    the transposed view without a copy). The 1/sqrt(d) of attention is folded into the
    query rows of ``qkv``."""

    qkv: Array
    qkv_bias: Array
    out: Array
    out_bias: Array
    norm1: tuple[Array, Array]
    up: Array
    up_bias: Array
    down: Array
    down_bias: Array
    norm2: tuple[Array, Array]


_DTYPES = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8", "I32": "<i4"}


def read_safetensors(path: Path) -> dict[str, Any]:
    """The tensors of a ``.safetensors`` file as numpy arrays over a read-only memory map
    (nothing is copied; pages are read when used). The format: an 8-byte little-endian
    header length, a JSON header (dtype, shape, byte offsets per tensor), the data."""
    import mmap

    import numpy as np

    with open(path, "rb") as fh:
        size = int.from_bytes(fh.read(8), "little")
        header = json.loads(fh.read(size))
        data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    base = 8 + size
    out: dict[str, Any] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = np.dtype(_DTYPES[info["dtype"]])
        begin, end = info["data_offsets"]
        count = (end - begin) // dtype.itemsize
        out[name] = np.frombuffer(data, dtype=dtype, count=count,
                                  offset=base + begin).reshape(info["shape"])
    return out


class MiniLM:
    """Sentence embeddings of a BERT sentence-transformers folder (see :func:`supported`)."""

    def __init__(self, folder: Path) -> None:
        import numpy as np
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.max_tokens = max_tokens(folder)
        weights = read_safetensors(folder / "model.safetensors")
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""

        def w(name: str) -> Array:
            arr: Array = weights[prefix + name].astype(np.float32, copy=False)
            return arr

        self.words = w("embeddings.word_embeddings.weight")
        self.positions = w("embeddings.position_embeddings.weight")
        self.type0 = w("embeddings.token_type_embeddings.weight")[0]
        self.norm0 = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        scale = np.float32(1.0 / np.sqrt(self.words.shape[1] // self.heads))
        self.layers = [self._layer(w, f"encoder.layer.{i}.", scale)
                       for i in range(int(config["num_hidden_layers"]))]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_tokens)

    @staticmethod
    def _layer(w: Any, p: str, scale: Any) -> _Layer:
        import numpy as np

        att = p + "attention."
        qkv = np.concatenate([w(att + "self.query.weight") * scale, w(att + "self.key.weight"),
                              w(att + "self.value.weight")])
        qkv_bias = np.concatenate([w(att + "self.query.bias") * scale,
                                   w(att + "self.key.bias"), w(att + "self.value.bias")])
        return _Layer(
            qkv, qkv_bias, w(att + "output.dense.weight"), w(att + "output.dense.bias"),
            (w(att + "output.LayerNorm.weight"), w(att + "output.LayerNorm.bias")),
            w(p + "intermediate.dense.weight"), w(p + "intermediate.dense.bias"),
            w(p + "output.dense.weight"), w(p + "output.dense.bias"),
            (w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias")),
        )

    @property
    def dimension(self) -> int:
        """Length of the vectors."""
        return int(self.words.shape[1])

    def encode(self, texts: Sequence[str], batch_size: int = 8) -> Array:
        """Unit-length vectors of ``texts`` (rows in the order of ``texts``)."""
        import numpy as np

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=True)
        ids = [e.ids for e in encodings]
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))  # little padding
        for lo in range(0, len(order), max(1, batch_size)):
            part = order[lo:lo + max(1, batch_size)]
            out[part] = self._batch([ids[i] for i in part])
        return out

    def _batch(self, ids: list[list[int]]) -> Array:
        """Pooled, normalised vectors of one batch of word-piece ids."""
        import numpy as np

        batch, length = len(ids), max(len(x) for x in ids)
        tokens = np.zeros((batch, length), dtype=np.int64)
        mask = np.zeros((batch, length), dtype=np.float32)
        for row, seq in enumerate(ids):
            tokens[row, :len(seq)] = seq
            mask[row, :len(seq)] = 1.0
        x = self.words[tokens] + self.positions[:length] + self.type0
        x = _layer_norm(x.reshape(batch * length, -1), *self.norm0, self.eps)
        # Padding is left out of attention as BERT does: a very negative score before softmax.
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for layer in self.layers:
            x = self._encoder_layer(x, layer, bias, batch)
        hidden = x.reshape(batch, length, -1)
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(
            mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        result: Array = (pooled / norms).astype(np.float32)
        return result

    def _encoder_layer(self, x: Array, layer: _Layer, bias: Array, batch: int) -> Array:
        """One layer on activations of shape (batch x length, hidden)."""
        import numpy as np

        rows, hidden = x.shape
        length, head = rows // batch, hidden // self.heads
        qkv = (x @ layer.qkv.T + layer.qkv_bias).reshape(batch, length, 3, self.heads, head)
        q, k, v = (qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3))
        scores = q @ k.transpose(0, 1, 3, 2) + bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(rows, hidden)
        x = _layer_norm(context @ layer.out.T + layer.out_bias + x, *layer.norm1, self.eps)
        up = _gelu(x @ layer.up.T + layer.up_bias)
        return _layer_norm(up @ layer.down.T + layer.down_bias + x, *layer.norm2, self.eps)


def _layer_norm(x: Array, weight: Array, bias: Array, eps: float) -> Array:
    import numpy as np

    mean = x.mean(axis=-1, keepdims=True)
    centred: Array = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    centred /= np.sqrt(var + np.float32(eps))
    centred *= weight
    centred += bias
    return centred


# Abramowitz & Stegun 7.1.26: erf to 1.5e-7 absolute, in float32 with numpy alone.
_ERF_P = 0.3275911
_ERF_A = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)


def _erf(x: Array) -> Array:
    import numpy as np

    a = np.abs(x)
    t = 1.0 / (1.0 + np.float32(_ERF_P) * a)
    poly = np.full_like(x, _ERF_A[0])
    for coef in _ERF_A[1:]:
        poly *= t
        poly += np.float32(coef)
    poly *= t
    np.negative(a, out=a)
    a *= np.abs(x)
    np.exp(a, out=a)  # exp(-x^2)
    poly *= a
    result: Array = np.copysign(1.0 - poly, x)
    return result


def _gelu(x: Array) -> Array:
    """The exact (erf) GELU of BERT's "gelu"."""
    import numpy as np

    y = _erf(x * np.float32(1.0 / np.sqrt(2.0)))
    y += 1.0
    y *= x
    y *= np.float32(0.5)
    return y
