"""The numpy embedder against sentence-transformers, with the real all-MiniLM-L6-v2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from reviewer.config import Config
from reviewer.context import embed
from reviewer.context.embed import (
    LocalEmbedder,
    NumpyEmbedder,
    SentenceEmbedder,
    bundled_model_path,
    quick_embedder,
)
from reviewer.context.minilm import max_tokens, read_safetensors, supported

ROOT = Path(__file__).resolve().parent.parent
CODE = (ROOT / "reviewer" / "context" / "chunks.py").read_text(encoding="utf-8")
TEXTS = [
    "read the settings file",
    "pkg/util.py read_config\ndef read_config(path: str) -> dict:\n    return {}\n",
    "",  # only [CLS] [SEP]
    "   padded with blanks   \n\t",
    "Ünïcödé, 中文, emoji 🎉 and a URL https://example.com/a?b=c",
    "x",
    "word " * 700,  # far beyond the 256 word pieces: truncated
    CODE[:6000],  # long code: truncated
    *(CODE[i * 400:(i + 1) * 400 + i * 37] for i in range(12)),  # many lengths: padding
]


@pytest.fixture(scope="module")
def folder() -> Path:
    return bundled_model_path()


@pytest.fixture(scope="module")
def reference(folder: Path) -> np.ndarray:
    """sentence-transformers' vectors of TEXTS (one batch of 8: padding inside batches)."""
    model = embed.load_sentence_transformer(folder)
    vectors: np.ndarray = model.encode(TEXTS, batch_size=8, normalize_embeddings=True,
                                       convert_to_numpy=True, show_progress_bar=False)
    return vectors


def assert_same(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape
    assert float(np.abs(got - want).max()) < 1e-4
    assert float((got * want).sum(axis=1).min()) >= 0.9999


def test_numpy_vectors_are_sentence_transformers_vectors(folder: Path,
                                                         reference: np.ndarray) -> None:
    got = np.array(NumpyEmbedder(folder).embed(TEXTS), dtype=np.float32)
    assert_same(got, reference)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_batches_and_padding_do_not_change_a_vector(folder: Path,
                                                    reference: np.ndarray) -> None:
    alone = np.array([NumpyEmbedder(folder).embed([t])[0] for t in TEXTS[:8]],
                     dtype=np.float32)
    assert_same(alone, reference[:8])
    two = np.array(NumpyEmbedder(folder, batch_size=2).embed(TEXTS), dtype=np.float32)
    assert_same(two, reference)


def test_long_texts_are_cut_where_sentence_transformers_cuts_them(folder: Path) -> None:
    assert max_tokens(folder) == 256
    model = embed.load_minilm(folder)
    assert len(model.tokenizer.encode("word " * 700).ids) == 256
    # The first 254 words decide: what follows them changes nothing.
    a, b = NumpyEmbedder(folder).embed(["word " * 300 + "alpha", "word " * 300 + "omega"])
    assert np.allclose(a, b, atol=1e-6)
    c = NumpyEmbedder(folder).embed(["word " * 100 + "alpha"])[0]
    assert not np.allclose(a, c, atol=1e-3)


def test_every_engine_has_the_folders_identity(folder: Path) -> None:
    ids = {SentenceEmbedder(folder).identity, NumpyEmbedder(folder).identity,
           LocalEmbedder(folder).identity}
    assert len(ids) == 1
    assert ids.pop().startswith("model:")


def test_local_embedder_uses_numpy_for_a_few_texts(folder: Path) -> None:
    local = LocalEmbedder(folder, quick_max=2)
    assert local.numpy is not None
    local.embed(["one", "two"])
    assert not local.sentence.loaded and local.engine == "numpy"
    local.embed(["one", "two", "three"])  # more than quick_max: sentence-transformers
    assert local.sentence.loaded and local.engine == "sentence-transformers"
    vectors = local.embed(["one"])  # and it stays, once loaded
    assert len(vectors[0]) == 384


def test_the_weights_are_read_as_safetensors_reads_them(folder: Path) -> None:
    from safetensors.numpy import load_file

    mine = read_safetensors(folder / "model.safetensors")
    theirs = load_file(str(folder / "model.safetensors"))
    assert mine.keys() == theirs.keys()
    for name, tensor in theirs.items():
        assert mine[name].dtype == tensor.dtype and np.array_equal(mine[name], tensor), name


def model_copy(folder: Path, dest: Path) -> Path:
    """The model folder's small files copied, the big ones linked."""
    dest.mkdir()
    for item in folder.iterdir():
        if item.is_dir():
            shutil.copytree(item, dest / item.name)
        elif item.suffix == ".safetensors":
            (dest / item.name).symlink_to(item)
        else:
            shutil.copy(item, dest / item.name)
    return dest


@pytest.mark.parametrize(("file", "change"), [
    ("1_Pooling/config.json", {"pooling_mode_mean_tokens": False,
                               "pooling_mode_cls_token": True}),
    ("config.json", {"model_type": "roberta"}),
    ("config.json", {"hidden_act": "relu"}),
    ("config.json", {"position_embedding_type": "relative_key"}),
])
def test_other_models_go_to_sentence_transformers(folder: Path, tmp_path: Path, file: str,
                                                  change: dict[str, object]) -> None:
    other = model_copy(folder, tmp_path / "other")
    assert supported(other)
    data = json.loads((other / file).read_text(encoding="utf-8"))
    data.update(change)
    (other / file).write_text(json.dumps(data), encoding="utf-8")
    assert not supported(other)
    assert LocalEmbedder(other).numpy is None


def test_a_folder_without_normalisation_is_not_numpys(folder: Path, tmp_path: Path) -> None:
    other = model_copy(folder, tmp_path / "other")
    modules = json.loads((other / "modules.json").read_text(encoding="utf-8"))
    (other / "modules.json").write_text(json.dumps(modules[:2]), encoding="utf-8")
    assert not supported(other)


def test_quick_embedder_is_shared_and_configured(tmp_path: Path, folder: Path) -> None:
    first = quick_embedder(tmp_path)
    assert first is quick_embedder(tmp_path, Config())
    assert first.path == folder
    mine = model_copy(folder, tmp_path / "mine")
    other = quick_embedder(tmp_path, Config(embedding_model="mine", embedding_batch_size=4))
    assert other.path == mine and other.sentence.batch_size == 4
    assert other.identity != first.identity  # another folder (its name is in the identity)


def test_quick_embedder_needs_no_torch(tmp_path: Path) -> None:
    code = ("import sys; from pathlib import Path;"
            "from reviewer.context.embed import quick_embedder;"
            "v = quick_embedder(Path('.')).embed(['def f(): pass']);"
            "print(len(v[0]), sorted(m for m in ('torch', 'sentence_transformers', "
            "'transformers', 'chromadb') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "384 []"
