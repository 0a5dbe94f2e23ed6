"""The principle-guided chat endpoint of ``reviewer serve``, with the official ``openai``
client: the system prompt it adds, the rules run on the answer's code blocks, refinement
(non-streamed and streamed), ``stop`` on a backend that answers in one piece.

The model is a stand-in OpenAI-compatible server on 127.0.0.1 that gives scripted answers
(the embedded model cannot be made to write flagged code and then fix it on demand);
tests/test_serve.py runs the same endpoint on the embedded model.
"""

from __future__ import annotations

import importlib.util
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from serve_proc import Server, serve

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("openai") is None,
    reason="the serve extra is not installed",
)

BAD = "Here:\n```python\ndef f():\n    try:\n        pass\n    except:\n        pass\n```\n"
GOOD = ('Fixed:\n```python\n"""Tools."""\n\n\ndef answer() -> int:\n'
        '    """Return the answer."""\n    return 42\n```\n')
QUESTION = "Why is this wrong?\n```python\ntry:\n    run()\nexcept:\n    pass\n```"


class Scripted:
    """Answers the n-th completion with ``answers[n]`` (the last one after that)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.answers: list[str] = [GOOD]
        self.prompts: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.active = self.most = 0  # requests being answered at once, and the most seen
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake.lock:
                    fake.prompts.append(body)
                    fake.active += 1
                    fake.most = max(fake.most, fake.active)
                time.sleep(delay)
                with fake.lock:
                    fake.active -= 1
                text = fake.answers[min(len(fake.prompts), len(fake.answers)) - 1]
                data = json.dumps({"choices": [{"message": {"content": text}}],
                                   "usage": {"prompt_tokens": 5, "completion_tokens": 7}})
                raw = data.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def script(self, *answers: str) -> None:
        self.answers, self.prompts = list(answers), []


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Scripted, Server]]:
    fake = Scripted()
    root = tmp_path_factory.mktemp("chat") / "repo"
    root.mkdir()
    try:
        with serve(root, "--backend", "openai", "--server-url", fake.url) as server:
            yield fake, server
    finally:
        fake.server.shutdown()
        fake.server.server_close()


def api(server: Server) -> Any:
    import openai

    return openai.OpenAI(base_url=server.url + "/v1", api_key="none", max_retries=0)


def test_principles_go_into_the_system_prompt(setup: tuple[Scripted, Server]) -> None:
    from reviewer.principles import catalogue

    fake, server = setup
    fake.script(BAD)
    done = api(server).chat.completions.create(
        model="m", messages=[{"role": "system", "content": "Be brief."},
                             {"role": "user", "content": QUESTION}])
    (system, user) = fake.prompts[0]["messages"]
    assert system["role"] == "system" and system["content"].endswith("Be brief.")
    assert catalogue()["handle-exceptions"].statement in system["content"]
    assert user == {"role": "user", "content": QUESTION}
    info = done.model_extra["reviewer"]
    # The question's own code breaks handle-exceptions: that principle comes first.
    assert info["principles_applied"][0] == "handle-exceptions"
    # No refinement: the answer's code is reviewed and reported as it is.
    assert done.choices[0].message.content == BAD
    assert info["validation"]["passed"] is False and info["validation"]["iterations"] == 1
    assert {f["rule"] for f in info["validation"]["findings"]} >= {"RV201"}

    fake.script(GOOD)
    api(server).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}],
        extra_body={"reviewer": {"principles": False}})
    assert [m["role"] for m in fake.prompts[0]["messages"]] == ["user"]


def test_refinement_until_the_code_passes(setup: tuple[Scripted, Server]) -> None:
    fake, server = setup
    fake.script(BAD, GOOD)
    done = api(server).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "Write f."}],
        extra_body={"reviewer": {"refine": 3}})
    assert done.choices[0].message.content == GOOD
    validation = done.model_extra["reviewer"]["validation"]
    assert validation == {"passed": True, "code_blocks": 1, "iterations": 2, "findings": []}
    retry = fake.prompts[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": BAD}
    assert "RV201" in retry[-1]["content"] and retry[-1]["role"] == "user"
    assert done.usage.completion_tokens == 14  # both passes

    fake.script(BAD)  # never passes: N passes, then the last answer as it is
    done = api(server).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "Write f."}],
        extra_body={"reviewer": {"refine": 2}})
    assert len(fake.prompts) == 3
    assert done.model_extra["reviewer"]["validation"]["iterations"] == 3


def test_streamed_refinement_streams_the_validated_answer(
    setup: tuple[Scripted, Server]
) -> None:
    fake, server = setup
    fake.script(BAD, GOOD)
    stream = api(server).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "Write f."}], stream=True,
        extra_body={"reviewer": {"refine": 1}})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == GOOD
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["reviewer"]["validation"]["passed"] is True


def test_stop_on_a_backend_that_answers_in_one_piece(setup: tuple[Scripted, Server]) -> None:
    fake, server = setup
    fake.script(GOOD)
    done = api(server).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "x"}], stop=["```"])
    assert done.choices[0].message.content == "Fixed:\n"
    metrics = server.request("GET", "/metrics")[2]
    assert 'reviewer_validations_total{outcome="passed"}' in metrics


def test_a_bad_response_format_is_422(setup: tuple[Scripted, Server]) -> None:
    _, server = setup
    status, _, body = server.request("POST", "/v1/chat/completions", {
        "messages": [{"role": "user", "content": "x"}],
        "response_format": {"type": "yaml"}})
    assert status == 422 and "response_format.type 'yaml'" in body["error"]["message"]


def test_concurrency_in_front_of_an_upstream_server(tmp_path: Path) -> None:
    fake = Scripted(delay=1.0)
    try:
        with serve(tmp_path, "--backend", "openai", "--server-url", fake.url,
                   "--concurrency", "3", "--queue-depth", "0") as server:
            def ask(_: int) -> int:
                return server.request("POST", "/v1/chat/completions", {
                    "messages": [{"role": "user", "content": "x"}]})[0]

            with ThreadPoolExecutor(3) as pool:
                statuses = list(pool.map(ask, range(3)))
    finally:
        fake.server.shutdown()
        fake.server.server_close()
    assert statuses == [200, 200, 200]
    assert fake.most == 3  # three slots: the upstream server saw them all at once
