"""Every model the reviewer can use here: its own folders, and other tools' (read-only).

Own folders (:func:`reviewer.models.paths.model_dirs`): ``$REVIEWER_MODELS`` (``:``-separated)
and ``~/.local/share/reviewer/models/``; ``reviewer models add`` writes to the first. Other
tools' folders are only read, never written:

* the Hugging Face cache (``$HF_HUB_CACHE``, ``$HF_HOME/hub``, ``~/.cache/huggingface/hub``):
  ``models--ORG--NAME/snapshots/REV/`` (``refs/main`` names the revision); mlx-community
  repositories live here too and are told apart by content;
* LM Studio (``~/.lmstudio/models/``, ``~/.cache/lm-studio/models/``): ``PUBLISHER/REPO/``
  with GGUF files or an MLX folder;
* Ollama (``$OLLAMA_MODELS``, ``~/.ollama/models/``): ``manifests/REGISTRY/NS/MODEL/TAG``
  JSON whose model layer names a GGUF blob ``blobs/sha256-HEX``.

Names: own models by file or folder name; the others prefixed ``hf:``, ``lmstudio:`` and
``ollama:``. :func:`resolve` also takes a name without its prefix when only one matches.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewer.models.detect import ModelFormatError, ModelInfo, detect

MANIFEST = ".reviewer-models.json"
PARTIAL = ".partial"
OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"


@dataclass(frozen=True)
class Entry:
    """One model found: where, what it is (None with ``error`` when it cannot be read)."""

    name: str
    source: str  # "embedded", "reviewer", "hf-cache", "lmstudio", "ollama"
    path: Path
    info: ModelInfo | None
    error: str = ""
    managed: bool = False  # put there by `reviewer models add` (listed in the manifest)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "source": self.source, "path": str(self.path),
            "info": self.info.to_dict() if self.info else None, "error": self.error,
            "managed": self.managed,
        }


@dataclass(frozen=True)
class Locations:
    """The folders searched (built from the environment; tests point them at tmp dirs)."""

    own: tuple[Path, ...]
    hf_cache: tuple[Path, ...]
    lmstudio: tuple[Path, ...]
    ollama: tuple[Path, ...]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Locations:
        env = os.environ if env is None else env
        home = Path(env.get("HOME") or str(Path.home()))
        dirs: list[Path] = [Path(p) for p in env.get("REVIEWER_MODELS", "").split(os.pathsep) if p]
        data = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
        dirs.append(data / "reviewer" / "models")
        cache = Path(env.get("XDG_CACHE_HOME") or home / ".cache")
        if env.get("HF_HUB_CACHE"):
            hf = [Path(env["HF_HUB_CACHE"])]
        elif env.get("HF_HOME"):
            hf = [Path(env["HF_HOME"]) / "hub"]
        else:
            hf = [cache / "huggingface" / "hub"]
        lms = [home / ".lmstudio" / "models", cache / "lm-studio" / "models"]
        ollama = [Path(env["OLLAMA_MODELS"])] if env.get("OLLAMA_MODELS") else [
            home / ".ollama" / "models", Path("/usr/share/ollama/.ollama/models")]
        return cls(tuple(dirs), tuple(hf), tuple(lms), tuple(ollama))

    @property
    def target(self) -> Path:
        """Where ``add`` puts models (the first own folder)."""
        return self.own[0]


def _entry(name: str, source: str, path: Path, managed: bool = False,
           read: bool = True) -> Entry:
    if not read:
        return Entry(name, source, path, None, managed=managed)
    try:
        return Entry(name, source, path, detect(path), managed=managed)
    except ModelFormatError as exc:
        return Entry(name, source, path, None, str(exc), managed)


def read_manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """``add``'s record of what it put into ``folder`` (name -> entry); {} when none."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    models = data.get("models") if isinstance(data, dict) else None
    return {str(k): v for k, v in models.items() if isinstance(v, dict)} if isinstance(
        models, dict) else {}


def write_manifest(folder: Path, models: Mapping[str, Mapping[str, Any]]) -> None:
    """Write the manifest atomically (a rename over the old one)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps({"version": 1, "models": dict(models)}, indent=2, sort_keys=True)
                   + "\n", encoding="utf-8")
    tmp.replace(folder / MANIFEST)


def _own(folder: Path, read: bool) -> Iterator[Entry]:
    if not folder.is_dir():
        return
    manifest = read_manifest(folder)
    managed = {str(v.get("file", "")): k for k, v in manifest.items()}
    for child in sorted(folder.iterdir()):
        if child.name.startswith(".") or child.name.endswith(PARTIAL):
            continue
        if child.is_file() and child.suffix != ".gguf":
            with child.open("rb") as fh:
                if fh.read(4) != b"GGUF":
                    continue  # notes, checksums, ...: not models
        name = managed.get(child.name) or (child.stem if child.suffix == ".gguf" else child.name)
        yield _entry(name, "reviewer", child, child.name in managed, read=read)


def _hf_snapshot(repo: Path) -> Path | None:
    snaps = repo / "snapshots"
    try:
        rev = (repo / "refs" / "main").read_text(encoding="utf-8").strip()
    except OSError:
        rev = ""
    if rev and (snaps / rev).is_dir():
        return snaps / rev
    found = sorted((p for p in snaps.glob("*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def _hf_cache(cache: Path, read: bool) -> Iterator[Entry]:
    if not cache.is_dir():
        return
    for repo in sorted(cache.glob("models--*")):
        snap = _hf_snapshot(repo)
        if snap is None:
            continue
        repo_name = repo.name[len("models--"):].replace("--", "/")
        if (snap / "config.json").is_file():
            yield _entry(f"hf:{repo_name}", "hf-cache", snap, read=read)
        for gguf in sorted(snap.rglob("*.gguf")):
            yield _entry(f"hf:{repo_name}/{gguf.relative_to(snap)}", "hf-cache", gguf, read=read)


def _lmstudio(root: Path, read: bool) -> Iterator[Entry]:
    if not root.is_dir():
        return
    for repo in sorted(p for p in root.glob("*/*") if p.is_dir()):
        base = f"lmstudio:{repo.parent.name}/{repo.name}"
        if (repo / "config.json").is_file():
            yield _entry(base, "lmstudio", repo, read=read)
        for gguf in sorted(repo.rglob("*.gguf")):
            yield _entry(f"{base}/{gguf.relative_to(repo)}", "lmstudio", gguf, read=read)


def _ollama(root: Path, read: bool) -> Iterator[Entry]:
    manifests = root / "manifests"
    if not manifests.is_dir():
        return
    for tag in sorted(p for p in manifests.rglob("*") if p.is_file()):
        parts = tag.relative_to(manifests).parts  # (registry, namespace, model, tag)
        if len(parts) != 4:
            continue
        registry, namespace, model, label = parts
        if registry == "registry.ollama.ai" and namespace == "library":
            name = f"ollama:{model}:{label}"
        else:
            name = f"ollama:{registry}/{namespace}/{model}:{label}"
        try:
            data = json.loads(tag.read_text(encoding="utf-8"))
            layers = data.get("layers", []) if isinstance(data, dict) else []
            digest = next(str(la["digest"]) for la in layers
                          if isinstance(la, dict) and la.get("mediaType") == OLLAMA_MODEL_LAYER)
        except (OSError, ValueError, KeyError, StopIteration):
            yield Entry(name, "ollama", tag, None, f"{tag}: manifest has no model layer")
            continue
        blob = root / "blobs" / digest.replace(":", "-")
        yield _entry(name, "ollama", blob, read=read)


def discover(loc: Locations | None = None, embedded: bool = True,
             read: bool = True) -> list[Entry]:
    """Every model found, own folders first, then the embedded one, then other tools'.

    ``read=False``: names and paths only, no file is opened beyond the Ollama manifests
    (what :func:`resolve` needs).
    """
    from reviewer.models.paths import embedded_model_path

    loc = loc or Locations.from_env()
    out: list[Entry] = []
    seen: set[Path] = set()

    def add(entries: Iterator[Entry]) -> None:
        for e in entries:
            key = e.path.resolve() if e.path.exists() else e.path
            if key not in seen:
                seen.add(key)
                out.append(e)

    for folder in loc.own:
        add(_own(folder, read))
    path = embedded_model_path() if embedded else None
    if path is not None:
        add(iter([_entry("embedded", "embedded", path, read=read)]))
    for cache in loc.hf_cache:
        add(_hf_cache(cache, read))
    for lms in loc.lmstudio:
        add(_lmstudio(lms, read))
    for oll in loc.ollama:
        add(_ollama(oll, read))
    return out


class NotFound(LookupError):
    """No model of that name; ``str(exc)`` is one line."""


def _bare(name: str) -> str:
    for prefix in ("hf:", "lmstudio:", "ollama:"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def resolve(name: str, entries: list[Entry]) -> Entry:
    """The entry called ``name``: exact, or without the source prefix, or a GGUF file's stem,
    when only one matches. Raises NotFound."""
    for e in entries:
        if e.name == name:
            return e
    hits = [e for e in entries if _bare(e.name) == name or (
        e.path.suffix == ".gguf" and e.path.stem == Path(name).stem == name)]
    if not hits:  # an Ollama model without its tag means ":latest"
        hits = [e for e in entries if e.name == f"ollama:{name}:latest"]
    if len(hits) == 1:
        return hits[0]
    if hits:
        names = ", ".join(e.name for e in hits[:4])
        raise NotFound(f"model {name!r} is ambiguous: {names} (use the full name)")
    from reviewer.models.catalogue import find

    if find(name) is not None:
        raise NotFound(f"model {name!r} is not added yet: `reviewer models add {name}`"
                       " (`reviewer models recommend` says where it is published)")
    raise NotFound(f"model {name!r} not found (`reviewer models list` shows what there is)")
