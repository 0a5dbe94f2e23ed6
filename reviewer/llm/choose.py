"""The model a configuration names, where it was found, its format and the backend for it.

``model = "NAME"`` (or ``--model``) is resolved by :func:`reviewer.llm.backend.resolve_model`:
the embedded model, a path, a name in the reviewer's own folders, then a name in the
registry (other tools' folders, read-only). Its format, read from its content, picks the
backend when ``llm-backend`` is ``auto``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewer.models.detect import ModelFormatError, ModelInfo, detect, detect_url, is_url
from reviewer.models.fit import backend_for

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.hardware import MachineProfile, Settings


@dataclass(frozen=True)
class Chosen:
    spec: str  # what the configuration says ("" for the embedded model)
    path: str
    format: str
    backend: str  # "" when no backend reads it here
    found: str  # where the model was found
    why: str  # why this backend
    info: ModelInfo

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def where_found(spec: str, path: Path, root: Path) -> str:
    from reviewer.models.paths import EMBEDDED_NAMES, model_dirs

    if spec in EMBEDDED_NAMES:
        return "the embedded model (no model configured)" if not spec else "the embedded model"
    given = Path(spec).expanduser()
    if (given if given.is_absolute() else root / given).exists():
        return "the path given"
    for d in model_dirs():
        if path.parent == d:
            return f"found in the reviewer's model folder {d}"
    from reviewer.models.registry import discover

    for e in discover(embedded=False, read=False):
        if e.path == path:
            return f"found in the {e.source} as {e.name} (read-only)"
    return "found"


def choose(spec: str, root: Path, profile: MachineProfile | None = None,
           quick: bool = False) -> Chosen:
    """Resolve and detect ``spec``. Raises ModelUnavailable with one line.

    ``quick`` (a review run): a file is told by its magic only, without parsing its header
    (a 150k-token vocabulary takes a few tenths of a second); llama.cpp reads the rest.
    """
    from reviewer.llm.backend import ModelUnavailable, check_gguf, resolve_model

    if is_url(spec):
        info = detect_url(spec)
        return Chosen(spec, spec, "openai", "openai", "a server URL",
                      "an OpenAI-compatible server", info)
    path = resolve_model(spec, root)
    if quick and path.is_file():
        check_gguf(path)
        info = ModelInfo("gguf", str(path), path.stat().st_size)
        return Chosen(spec, str(path), "gguf", "llama_cpp", "", backend_for(info, False)[1],
                      info)
    try:
        info = detect(path)
    except ModelFormatError as exc:
        raise ModelUnavailable(str(exc)) from None
    if profile is not None:
        apple = profile.apple_silicon
    else:
        import platform

        apple = platform.system() == "Darwin" and platform.machine() == "arm64"
    backend, why = backend_for(info, apple)
    return Chosen(spec, str(path), info.format, backend, where_found(spec, path, root), why, info)


def by_format(config: Config) -> bool:
    """Whether the model's format picks the backend: ``llm-backend = "auto"``, no server,
    and a model other than the embedded one configured."""
    from reviewer.models.paths import EMBEDDED_NAMES

    return (config.llm_backend == "auto" and not config.server_url
            and config.model not in EMBEDDED_NAMES and not is_url(config.model))


def backend_for_config(config: Config, root: Path, settings: Settings | None = None) -> str:
    """The backend a config gets: by the model's format when :func:`by_format`, else
    :func:`reviewer.llm.backend.backend_name` (the machine's settings)."""
    from reviewer.llm.backend import LLMError, backend_name

    if by_format(config):
        try:
            chosen = choose(config.model, root, quick=True).backend
        except LLMError:
            chosen = ""  # make_backend and doctor report the missing or unreadable model
        if chosen:
            return chosen
    return backend_name(config, settings)
