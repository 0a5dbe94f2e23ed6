"""The OpenAI-compatible backend against a real ``python -m llama_cpp.server`` on 127.0.0.1
serving the embedded model (started once for this module, stopped at teardown)."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reviewer.config import Config
from reviewer.engine import Job, run
from reviewer.llm.answer import answer_schema, parse_answer
from reviewer.llm.backend import GenParams, embedded_model_path
from reviewer.llm.explain import explain_findings
from reviewer.llm.openai_compat import OpenAICompatBackend

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("uvicorn") is None,
        reason="llama-cpp-python[server] is not installed",
    ),
]

RunCli = Callable[..., tuple[int, str, str]]
CODE = '''\
"""Expressions."""


def run(expr: str) -> object:
    """Evaluate an expression."""
    return eval(expr)
'''
READY_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a llama_cpp.server serving the embedded model."""
    model = embedded_model_path()
    assert model is not None
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
             "--n_threads", "2"],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url + "/models", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not become ready")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_models_and_a_constrained_answer(server: str) -> None:
    backend = OpenAICompatBackend(server)
    models = backend.models()
    assert models and models[0].endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    done = backend.complete(
        [{"role": "user", "content": "Why is eval(expr) unsafe? Answer in JSON."}],
        json_schema=answer_schema("return"), params=GenParams(max_tokens=120), timeout=120,
    )
    # The schema's shape (or its repairable prefix), whatever the model chose to say.
    answer = parse_answer(done.text)
    assert done.text.replace(' ', '').startswith('{"explanation"')
    assert isinstance(answer.explanation, str)
    assert answer.fixed_code is None or answer.fixed_code.startswith("return")
    # llama-cpp-python's server rejects the OpenAI "json_schema" form: the backend fell
    # back to the reviewer's own grammar, which the server takes, and keeps it.
    assert backend.flavour == "grammar"
    assert done.first_token_s is not None and done.completion_tokens > 0


def test_explain_through_the_server_and_rerun_from_cache(server: str, tmp_path: Path) -> None:
    (tmp_path / "expr.py").write_text(CODE, encoding="utf-8")
    cfg = replace(Config(), llm_backend="openai", server_url=server, llm_max_tokens=120,
                  fix_passes=0, select=("RV601",))
    result = run(Job(tmp_path, ["expr.py"]), replace(cfg, cache=False))
    read: Callable[[str], str | None] = lambda rel: (tmp_path / rel).read_text()  # noqa: E731
    out, rep = explain_findings(result.findings, root=tmp_path, config=cfg, read=read)
    assert rep.model_calls == 1 and rep.failure is None, rep.warnings()
    # Whether the tiny model's answer held an explanation is its choice, not the plumbing's.
    again, rep2 = explain_findings(result.findings, root=tmp_path, config=cfg, read=read)
    assert rep2.model_calls == 0 and again == out


def test_check_explain_with_the_server(server: str, repo: Any, run_cli: RunCli) -> None:
    repo.write("expr.py", CODE)
    repo.write("pyproject.toml", "[tool.reviewer]\nllm-max-tokens = 120\nfix-passes = 0\n")
    code, out, err = run_cli("check", "expr.py", "--format", "json", "--explain",
                             "--backend", "openai", "--server-url", server)
    assert code == 1, err
    finding = next(f for f in json.loads(out)["findings"] if f["rule_id"] == "RV601")
    # The model was asked and answered (or its answer was counted as unusable): no failure.
    assert "explanation" in finding and "skipped" not in err, err


def test_a_tiny_timeout_lets_the_review_through(
    server: str, repo: Any, run_cli: RunCli
) -> None:
    repo.write("expr.py", CODE)
    code0, out0, _ = run_cli("check", "expr.py", "--select", "RV601")
    code, out, err = run_cli("check", "expr.py", "--select", "RV601", "--explain",
                             "--no-cache", "--backend", "openai", "--server-url", server,
                             "--llm-timeout", "0.05")
    assert (code, out) == (code0, out0)
    assert "(--llm-timeout)" in err and err.count("reviewer: warning:") == 1


def test_doctor_sees_the_server(server: str, repo: Any, run_cli: RunCli) -> None:
    code, out, _ = run_cli("doctor", "--backend", "openai", "--server-url", server)
    assert code == 0
    assert f"ok openai     {server} answers; models:" in out
