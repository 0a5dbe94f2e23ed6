"""The registry: own model folders and the layouts of the Hugging Face cache, LM Studio and
Ollama, built in temp dirs; names resolved for `model = "NAME"`."""

from __future__ import annotations

from pathlib import Path

import pytest
from model_layouts import gguf_bytes, hf_cache_link, hf_cache_repo, ollama_model, write_gguf
from model_layouts import write_hf_folder as hf_folder

from reviewer.llm.backend import ModelUnavailable, resolve_model
from reviewer.models.registry import Locations, NotFound, discover, resolve

QWEN_META = {"general.architecture": "qwen2", "general.file_type": 15,
             "qwen2.context_length": 32768}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A home with nothing in it, and every location variable pointing into tmp_path."""
    home = tmp_path / "home"
    home.mkdir()
    values = {"HOME": str(home), "REVIEWER_MODELS": str(tmp_path / "models")}
    for key in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "HF_HOME", "HF_HUB_CACHE", "OLLAMA_MODELS"):
        monkeypatch.delenv(key, raising=False)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def test_locations_follow_the_environment(tmp_path: Path) -> None:
    loc = Locations.from_env({"HOME": "/h", "REVIEWER_MODELS": "/a:/b"})
    assert loc.own == (Path("/a"), Path("/b"), Path("/h/.local/share/reviewer/models"))
    assert loc.hf_cache == (Path("/h/.cache/huggingface/hub"),)
    assert loc.lmstudio[0] == Path("/h/.lmstudio/models")
    assert loc.ollama[0] == Path("/h/.ollama/models")
    loc = Locations.from_env({"HOME": "/h", "HF_HOME": "/hf", "OLLAMA_MODELS": "/o",
                              "XDG_DATA_HOME": "/d"})
    assert loc.own == (Path("/d/reviewer/models"),) and loc.target == Path("/d/reviewer/models")
    assert loc.hf_cache == (Path("/hf/hub"),) and loc.ollama == (Path("/o"),)


def test_every_layout_is_found(env: dict[str, str], tmp_path: Path) -> None:
    home = Path(env["HOME"])
    own = tmp_path / "models"
    write_gguf(own / "coder.gguf")
    hf_folder(own / "mlx-coder", mlx=True)
    (own / "README.txt").write_text("notes")  # not a model: not listed
    (own / "half.gguf.partial").write_bytes(b"GGUF")  # a download in progress: not listed
    snap = hf_cache_repo(home / ".cache" / "huggingface" / "hub", "Qwen/Coder-GGUF")
    hf_cache_link(snap, "coder-q4_k_m.gguf", gguf_bytes(QWEN_META))
    snap = hf_cache_repo(home / ".cache" / "huggingface" / "hub", "mlx-community/Coder-4bit")
    hf_folder(snap, mlx=True)
    write_gguf(home / ".lmstudio" / "models" / "lmstudio-community" / "Coder-GGUF" / "c.gguf")
    ollama_model(home / ".ollama" / "models", "qwen2.5-coder", "7b", gguf_bytes(QWEN_META))

    found = {e.name: e for e in discover()}
    assert set(found) == {
        "coder", "mlx-coder", "embedded", "hf:Qwen/Coder-GGUF/coder-q4_k_m.gguf",
        "hf:mlx-community/Coder-4bit", "lmstudio:lmstudio-community/Coder-GGUF/c.gguf",
        "ollama:qwen2.5-coder:7b",
    } - ({"embedded"} if "embedded" not in found else set())
    assert {n: e.source for n, e in found.items()}["ollama:qwen2.5-coder:7b"] == "ollama"
    formats = {n: e.info.format for n, e in found.items() if e.info}
    assert formats["mlx-coder"] == formats["hf:mlx-community/Coder-4bit"] == "mlx"
    assert formats["ollama:qwen2.5-coder:7b"] == "gguf"
    assert found["ollama:qwen2.5-coder:7b"].info.quantization == "Q4_K_M"  # type: ignore[union-attr]
    assert all(not e.error for e in found.values())


def test_a_broken_model_is_listed_with_its_error(env: dict[str, str], tmp_path: Path) -> None:
    own = tmp_path / "models"
    own.mkdir()
    (own / "bad.gguf").write_bytes(b"GGUF\x03\0\0\0")
    (own / "folder").mkdir()
    entries = {e.name: e for e in discover(embedded=False)}
    assert entries["bad"].info is None
    assert "cut off" in entries["bad"].error
    assert "config.json" in entries["folder"].error


def test_ollama_manifest_without_a_model_layer(env: dict[str, str]) -> None:
    root = Path(env["HOME"]) / ".ollama" / "models"
    tag = root / "manifests" / "registry.ollama.ai" / "library" / "x" / "latest"
    tag.parent.mkdir(parents=True)
    tag.write_text('{"layers": []}')
    (entry,) = discover(embedded=False)
    assert entry.name == "ollama:x:latest" and "no model layer" in entry.error


def test_resolve_by_name(env: dict[str, str], tmp_path: Path) -> None:
    home = Path(env["HOME"])
    write_gguf(tmp_path / "models" / "coder.gguf")
    ollama_model(home / ".ollama" / "models", "qwen2.5-coder", "latest", gguf_bytes(QWEN_META))
    snap = hf_cache_repo(home / ".cache" / "huggingface" / "hub", "Qwen/Coder-GGUF")
    hf_cache_link(snap, "coder-q4_k_m.gguf", gguf_bytes(QWEN_META))
    entries = discover(embedded=False)
    assert resolve("coder", entries).source == "reviewer"
    assert resolve("ollama:qwen2.5-coder:latest", entries).source == "ollama"
    assert resolve("qwen2.5-coder", entries).source == "ollama"  # an untagged name is :latest
    assert resolve("Qwen/Coder-GGUF/coder-q4_k_m.gguf", entries).source == "hf-cache"
    assert resolve("coder-q4_k_m", entries).source == "hf-cache"  # a GGUF file's stem
    with pytest.raises(NotFound, match="not found"):
        resolve("nothing", entries)
    # `model = "NAME"` goes through the same registry
    blob = resolve_model("ollama:qwen2.5-coder:latest", tmp_path)
    assert blob.name.startswith("sha256-") and blob.parent.name == "blobs"
    assert resolve_model("hf:Qwen/Coder-GGUF/coder-q4_k_m.gguf", tmp_path).is_symlink()
    with pytest.raises(ModelUnavailable, match="`reviewer models list`"):
        resolve_model("nothing", tmp_path)
    with pytest.raises(ModelUnavailable, match="not added yet: `reviewer models add qwen2"):
        resolve_model("qwen2.5-coder-7b-instruct-q4_k_m", tmp_path)


def test_ambiguous_names_are_refused(env: dict[str, str], tmp_path: Path) -> None:
    home = Path(env["HOME"])
    for repo in ("A/X-GGUF", "B/X-GGUF"):
        snap = hf_cache_repo(home / ".cache" / "huggingface" / "hub", repo)
        hf_cache_link(snap, "x.gguf", gguf_bytes(QWEN_META) + repo.encode())
    with pytest.raises(NotFound, match=r"ambiguous: hf:A/X-GGUF/x.gguf, hf:B/X-GGUF/x.gguf"):
        resolve("x", discover(embedded=False))
