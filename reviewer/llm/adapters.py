"""Where trained adapters live and which one a model run uses.

``reviewer train`` (in :mod:`reviewer.feedback.lora`) writes adapters under
``.reviewer/adapters/``; the backend factory reads them through this module, so the model
layer never imports the learning layer above it.
"""

from __future__ import annotations

import json
from pathlib import Path

from reviewer.llm.backend import ModelUnavailable

ADAPTERS_DIR = ".reviewer/adapters"
DEFAULT_LINK = "default"
INFO_FILE = "reviewer-train.json"
GGUF_NAME = "model.gguf"


def adapters_root(root: Path) -> Path:
    return root / ADAPTERS_DIR


def default_adapter(root: Path) -> Path | None:
    """The promoted adapter (``.reviewer/adapters/default`` names it), or None."""
    marker = adapters_root(root) / DEFAULT_LINK
    try:
        name = marker.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not name:
        return None
    path = Path(name) if Path(name).is_absolute() else adapters_root(root) / name
    return path if path.exists() else None


def resolve_adapter(setting: str, root: Path) -> Path | None:
    """The adapter for the ``llm-adapter`` setting: a path (absolute, relative to the root,
    or a name under ``.reviewer/adapters``), ``"none"`` for none, or ``""`` for the promoted
    default (none when nothing was promoted). Raises ModelUnavailable when it is missing."""
    if setting == "none":
        return None
    if not setting:
        return default_adapter(root)
    path = Path(setting).expanduser()
    for cand in ((path,) if path.is_absolute() else (root / path, adapters_root(root) / path)):
        if cand.exists():
            return cand
    raise ModelUnavailable(f"llm-adapter {setting!r} not found")


def trained_on(adapter: Path, model: Path) -> bool:
    """Whether ``adapter`` was trained on ``model`` (a GGUF file or a model folder), as far
    as its ``reviewer-train.json`` tells (True when it does not say)."""
    try:
        info = json.loads((adapter / INFO_FILE).read_text(encoding="utf-8"))
        base = Path(str(info["base_model"])).name
    except (OSError, ValueError, KeyError, TypeError):
        return True
    if model.is_dir():
        return base == model.name
    from reviewer.llm.mlx import converted_dir

    return base == converted_dir(model).name


def fused_gguf(adapter: Path) -> Path | None:
    """The GGUF that ``reviewer train --fuse --gguf`` wrote for ``adapter``, if any."""
    path = adapter / "fused" / GGUF_NAME
    return path if path.is_file() else None
