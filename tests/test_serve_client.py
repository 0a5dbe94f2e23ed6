"""The laptop side of ``reviewer serve``: ``check --explain --server-url`` detects a reviewer
server and sends ``/v1/review``; against a plain OpenAI-compatible server it drives the
model itself. Both paths give the same JSON for the same model answers.

The model is tests/model_fake.py's fixed-answer server (the embedded model cannot be made to
give one answer on demand); the reviewer server is a real ``reviewer serve`` subprocess
whose backend is that same model server.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Repo, RunResult
from model_fake import BROAD_FIX, EXPLANATION, serve_model
from serve_proc import serve

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("fastapi") is None, reason="the serve extra is not installed"
)

SOURCE = (
    "def load(path):\n"
    "    try:\n"
    "        return open(path).read()\n"
    "    except:\n"
    '        return ""\n'
)
TOKEN = "laptop-token"


def test_same_json_through_a_reviewer_server_and_a_plain_one(
    repo: Repo, run_cli: Callable[..., RunResult], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo.write("mod.py", SOURCE)
    box = tmp_path / "model-machine"
    box.mkdir()
    args = ("check", "mod.py", "--format", "json", "--explain", "--no-cache",
            "--select", "RV201,RV203")
    monkeypatch.setenv("REVIEWER_API_KEY", TOKEN)
    with serve_model(fixed_code=BROAD_FIX) as model, serve(
        box, "--backend", "openai", "--server-url", model.url,
        env={"REVIEWER_SERVE_TOKEN": TOKEN},
    ) as reviewer:
        code1, direct, err1 = run_cli(*args, "--server-url", model.url)
        asked_directly = list(model.prompts)
        code2, remote, err2 = run_cli(*args, "--server-url", reviewer.url + "/v1")
        asked_remotely = model.prompts[len(asked_directly):]
        metrics = reviewer.request("GET", "/metrics", token=TOKEN)[2]

        monkeypatch.delenv("REVIEWER_API_KEY")  # a laptop without the token
        code3, out3, err3 = run_cli(*args, "--server-url", reviewer.url)
    assert (code1, err1) == (code2, err2) and code1 == 1
    assert direct == remote
    finding = json.loads(remote)["findings"][0]
    assert finding["explanation"] == EXPLANATION
    assert BROAD_FIX.rstrip() in finding["model_fix"]["edits"][0]["text"]
    # The server built the same prompts the laptop builds, and was reached by /v1/review.
    assert asked_directly and [p["messages"] for p in asked_remotely] == \
        [p["messages"] for p in asked_directly]  # type: ignore[index]
    assert 'reviewer_requests_total{endpoint="/v1/review",status="200"} 1' in metrics
    # Refused by the server: the review stands, one warning says why.
    assert code3 == 1 and json.loads(out3)["findings"][0]["explanation"] is None
    assert "HTTP 401" in err3 and err3.count("reviewer: warning:") == 1


def test_detection(tmp_path: Path) -> None:
    from reviewer.serve.client import is_reviewer_server

    with serve_model() as model:
        assert not is_reviewer_server(model.url)  # a plain OpenAI-compatible server
    assert not is_reviewer_server("http://127.0.0.1:9/v1")  # nothing there
    with serve(tmp_path, "--backend", "none") as reviewer:
        assert is_reviewer_server(reviewer.url)
        assert is_reviewer_server(reviewer.url + "/v1/chat/completions")


def test_the_laptops_context_goes_with_the_request(
    repo: Repo, run_cli: Callable[..., RunResult], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo.write("mod.py", SOURCE)
    repo.write("pyproject.toml", "[tool.reviewer]\ncontext = true\n")
    assert run_cli("style")[0] == 0  # the style profile, learned on the laptop
    monkeypatch.setenv("PRE_COMMIT", "1")  # the index as it is (no embedding model)
    box = tmp_path / "model-machine"
    box.mkdir()
    args = ("check", "mod.py", "--format", "json", "--explain", "--no-cache",
            "--select", "RV201")
    with serve_model() as model, serve(
        box, "--backend", "openai", "--server-url", model.url) as reviewer:
        code1, direct, err1 = run_cli(*args, "--server-url", model.url)
        n = len(model.prompts)
        code2, remote, err2 = run_cli(*args, "--server-url", reviewer.url)
        prompts = model.prompts
    assert (code1, direct, err1) == (code2, remote, err2)
    assert len(prompts) == 2 * n
    # The prompt the model machine built carries the laptop's style lines.
    assert "Naming: functions snake_case" in json.dumps(prompts[n]["messages"])
    assert prompts[n]["messages"] == prompts[0]["messages"]  # type: ignore[index]
