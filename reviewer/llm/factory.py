"""The backend factory: the configured backend for a run, with its adapter.

Kept apart from :mod:`reviewer.llm.backend` (the interface the backends import) so that no
backend module and the interface import each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from reviewer.llm.adapters import fused_gguf, resolve_adapter, trained_on
from reviewer.llm.backend import Backend, ModelUnavailable, backend_name, resolve_model
from reviewer.llm.choose import by_format, choose

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.hardware import Settings


def make_backend(config: Config, root: Path, settings: Settings | None = None) -> Backend | None:
    """The configured backend (None for "none"). Loads nothing yet.

    Raises ModelUnavailable when the configuration points at something that cannot work
    (no model file, no server URL).
    """
    from reviewer import hardware

    if settings is None:
        settings = hardware.derive(hardware.detect())
    if by_format(config):
        chosen = choose(config.model, root, quick=True)  # the format picks the backend
        if not chosen.backend:
            raise ModelUnavailable(f"{chosen.path}: {chosen.why}")
        name = chosen.backend
    else:
        name = backend_name(config, settings)
    if name == "none":
        return None
    if name == "openai":
        from reviewer.llm.openai_compat import OpenAICompatBackend

        url_model = config.model.startswith(("http://", "https://"))
        url = config.server_url or (config.model if url_model else "")
        if not url:
            raise ModelUnavailable("llm-backend is openai but server-url is not set")
        return OpenAICompatBackend(url, "" if url_model else config.model)

    path = resolve_model(config.model, root)
    adapter = resolve_adapter(config.llm_adapter, root)
    if adapter is not None and not config.llm_adapter and not trained_on(adapter, path):
        adapter = None  # the promoted adapter belongs to another model
    if name == "mlx":
        from reviewer.llm.mlx import MlxBackend

        return MlxBackend(path, adapter=adapter)
    from reviewer.llm.llama_cpp import LlamaCppBackend

    lora: Path | None = None
    fused_from: Path | None = None
    if adapter is not None:
        # llama.cpp takes a GGUF LoRA file, or the GGUF of a fused adapter as the model; an
        # mlx-only adapter that was promoted (llm-adapter "") is for the mlx backend only.
        fused = fused_gguf(adapter) if adapter.is_dir() else None
        if fused is not None:
            path, fused_from = fused, adapter
        elif adapter.is_file():
            lora = adapter
        elif config.llm_adapter:
            raise ModelUnavailable(
                f"adapter {adapter} has no GGUF for llama.cpp (reviewer train --fuse --gguf,"
                " or --backend mlx)"
            )
    return LlamaCppBackend(
        path,
        threads=settings.threads,
        gpu_layers=settings.gpu_layers,
        context_size=settings.context_size,
        batch_size=settings.batch_size,
        lora_path=lora,
        adapter=fused_from,
    )
