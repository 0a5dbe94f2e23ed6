"""``reviewer serve`` with the embedded model, as a real subprocess on 127.0.0.1, spoken to
with the official ``openai`` client (models, a completion, a streamed completion, a
JSON-schema answer) and plain HTTP (auth, limits, bad input, the queue, disconnects)."""

from __future__ import annotations

import base64
import importlib.util
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import RunResult
from serve_proc import Server, serve

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("fastapi") is None
        or importlib.util.find_spec("openai") is None,
        reason="the llm and serve extras are not installed",
    ),
]

TOKEN = "s3cret-token"
MARKER = "SECRET_CODE_MARKER_42"
CODE = f'def f(x=[]):\n    {MARKER} = 1\n    return x\n'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve") / "repo"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.reviewer]\nfix-passes = 0\n")
    with serve(root, "--backend", "llama_cpp", "--queue-depth", "0", "--body-limit", "20000",
               env={"REVIEWER_SERVE_TOKEN": TOKEN}) as s:
        yield s


def client(server: Server, key: str = TOKEN) -> object:
    import openai

    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0,
                         timeout=120)


def test_models_completion_and_the_reviewer_object(server: Server) -> None:
    import openai

    api = client(server)
    models = api.models.list()  # type: ignore[attr-defined]
    model = models.data[0].id
    assert model.endswith(".gguf")
    done = api.chat.completions.create(  # type: ignore[attr-defined]
        model=model, messages=[{"role": "user", "content": "Say hello."}], max_tokens=8,
        temperature=0, stop=["\n\n"])
    choice = done.choices[0]
    assert isinstance(choice.message.content, str) and "\n\n" not in choice.message.content
    assert choice.finish_reason in ("stop", "length")
    assert done.usage.completion_tokens <= 8 and done.usage.prompt_tokens > 0
    info = done.model_extra["reviewer"]
    # The catalogue's principles went into the system prompt.
    assert "handle-exceptions" in info["principles_applied"]
    assert info["validation"]["iterations"] == 1
    with pytest.raises(openai.AuthenticationError):
        client(server, "wrong").models.list()  # type: ignore[attr-defined]


def test_streamed_completion(server: Server) -> None:
    api = client(server)
    stream = api.chat.completions.create(  # type: ignore[attr-defined]
        model="any", messages=[{"role": "user", "content": "Count: one, two,"}],
        max_tokens=8, temperature=0, stream=True)
    pieces, finish = [], None
    for chunk in stream:
        for c in chunk.choices:
            pieces.append(c.delta.content or "")
            finish = c.finish_reason or finish
    assert "".join(pieces).strip() and finish in ("stop", "length")
    assert len([p for p in pieces if p]) > 1  # token by token, not one piece


def test_json_schema_response(server: Server) -> None:
    api = client(server)
    schema = {"type": "object", "properties": {"safe": {"type": "boolean"}},
              "required": ["safe"], "additionalProperties": False}
    done = api.chat.completions.create(  # type: ignore[attr-defined]
        model="any", max_tokens=20, temperature=0,
        messages=[{"role": "user", "content": "Is eval(input()) safe? Answer in JSON."}],
        response_format={"type": "json_schema",
                         "json_schema": {"name": "verdict", "schema": schema}})
    answer = json.loads(done.choices[0].message.content)
    assert isinstance(answer["safe"], bool)


def test_auth_on_every_v1_route_but_not_health(server: Server) -> None:
    assert server.request("GET", "/health")[0] == 200
    for method, path in (("GET", "/v1/models"), ("GET", "/metrics"),
                         ("POST", "/v1/review"), ("POST", "/v1/chat/completions"),
                         ("POST", "/v1/code/validate-principles")):
        status, headers, body = server.request(method, path, {})
        assert status == 401, (path, body)
        assert body["error"]["type"] == "authentication_error"
        assert headers.get("www-authenticate") == "Bearer"


def test_limits_and_bad_input(server: Server) -> None:
    def post(path: str, body: object = None, raw: bytes | None = None) -> tuple[int, object]:
        status, _, got = server.request("POST", path, body, token=TOKEN, raw=raw)
        return status, got

    status, body = post("/v1/review", raw=b'{"request_id": "x", "files": [' + b" " * 30000)
    assert status == 413 and "20000-byte limit" in body["error"]["message"]  # type: ignore[index]
    status, body = post("/v1/review", {"files": []})
    assert status == 422 and "request_id" in body["error"]["message"]  # type: ignore[index]
    status, body = post("/v1/chat/completions", {"messages": []})
    assert status == 422 and "messages" in body["error"]["message"]  # type: ignore[index]
    status, body = post("/v1/review", raw=b"{not json")
    assert status == 422
    cases = [
        ({"path": "app.rb", "content": "puts 1"}, "app.rb: no reviewed language"),
        ({"path": "a.py", "content": "x = 1", "language": "cobol"},
         "a.py: unknown language 'cobol'"),
        ({"path": "latin.py", "content_base64": base64.b64encode(b"s = '\xe9'\n").decode()},
         "latin.py: not valid UTF-8"),
        ({"path": "../up.py", "content": "x = 1"}, "must be relative"),
    ]
    for file, message in cases:
        status, body = post("/v1/review", {"request_id": "r", "files": [file]})
        assert status == 400 and message in body["error"]["message"], body  # type: ignore[index]
    status, body = post("/v1/review", {"request_id": "r", "select": ["RV999"],
                                       "files": [{"path": "a.py", "content": "x = 1\n"}]})
    assert status == 400 and "unknown rule 'RV999'" in body["error"]["message"]  # type: ignore[index]


def test_review_and_validate_principles(server: Server) -> None:
    status, _, body = server.request("POST", "/v1/code/validate-principles",
                                     {"code": CODE, "language": "python"}, token=TOKEN)
    assert status == 200
    rules = {v["rule"] for v in body["violations"]}
    assert "RV101" in rules and body["score"] < 100
    assert all(v["principle"] for v in body["violations"])
    status, _, body = server.request("POST", "/v1/code/validate-principles",
                                     {"code": "x = 1\n", "language": "rust"}, token=TOKEN)
    assert status == 400 and "unknown language 'rust'" in body["error"]["message"]

    request = {"request_id": "req-1", "explain": True, "max_explained": 1, "max_tokens": 40,
               "select": ["RV101"], "files": [{"path": "mod.py", "content": CODE}]}
    status, _, body = server.request("POST", "/v1/review", request, token=TOKEN)
    assert status == 200, body
    assert body["request_id"] == "req-1"
    (finding,) = body["findings"]
    assert finding["rule_id"] == "RV101" and finding["fix"]["safe"] is True
    # The deterministic fix exists, so the model explains only (no fix to validate).
    # (a second pass when the first explanation was refused: llm/judge.py)
    assert finding["validation"]["passed"] is None
    assert finding["validation"]["iterations"] in (1, 2)
    assert finding["metadata"]["tokens"] > 0 and "llama_cpp" in finding["metadata"]["model"]
    # The request code never reaches the log.
    assert MARKER not in server.log.read_text()
    metrics = server.request("GET", "/metrics", token=TOKEN)[2]
    assert 'reviewer_requests_total{endpoint="/v1/review",status="200"} 1' in metrics
    assert "reviewer_tokens_generated_total" in metrics and "reviewer_queue_depth 0" in metrics


def _gauge(server: Server, name: str) -> int:
    text = server.request("GET", "/metrics", token=TOKEN)[2]
    line = next(x for x in text.splitlines() if x.startswith(name + " "))
    return int(line.split()[1])


def test_a_full_queue_answers_503_and_a_disconnect_frees_the_model(server: Server) -> None:
    body = json.dumps({"messages": [{"role": "user", "content": "Write a long story."}],
                       "max_tokens": 2000, "stream": True}).encode()
    req = urllib.request.Request(server.url + "/v1/chat/completions", data=body, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
    resp = urllib.request.urlopen(req, timeout=60)
    got_tokens = threading.Event()

    def read() -> None:
        for _ in range(3):
            resp.readline()
        got_tokens.set()

    reader = threading.Thread(target=read)
    reader.start()
    assert got_tokens.wait(60)
    assert _gauge(server, "reviewer_in_flight") == 1
    status, headers, err = server.request(
        "POST", "/v1/chat/completions",
        {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}, token=TOKEN)
    assert status == 503 and headers.get("retry-after") == "5", err
    assert err["error"]["code"] == "queue_full"
    resp.close()  # the client goes away: the generation stops long before 2000 tokens
    reader.join()
    deadline = time.monotonic() + 20
    while _gauge(server, "reviewer_in_flight") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _gauge(server, "reviewer_in_flight") == 0
    # Whether the stream was cancelled or ended on its own first depends on the model's
    # answer and the machine's load: the cancellation counters are asserted by
    # test_a_review_client_that_disconnects_stops_the_generation and tests/test_serve_stream.py.
    done = server.request("POST", "/v1/chat/completions",
                          {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2},
                          token=TOKEN)
    assert done[0] == 200


def test_a_review_client_that_disconnects_stops_the_generation(server: Server) -> None:
    import http.client

    before = _gauge(server, "reviewer_generations_cancelled_total")
    tokens_before = _gauge(server, "reviewer_cancelled_tokens_total")
    request = {"request_id": "gone", "explain": True, "max_explained": 1, "max_tokens": 1500,
               "fix_passes": 0, "select": ["RV101"],
               "files": [{"path": "mod.py", "content": CODE}]}
    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.request("POST", "/v1/review", body=json.dumps(request), headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
    deadline = time.monotonic() + 60
    while not _gauge(server, "reviewer_in_flight") and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2.0)  # generating the explanation
    conn.close()  # the client goes away mid-request
    deadline = time.monotonic() + 60
    while _gauge(server, "reviewer_generations_cancelled_total") == before and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    # Stopped in the token loop, long before the 1500 tokens it was allowed.
    assert _gauge(server, "reviewer_generations_cancelled_total") == before + 1
    assert _gauge(server, "reviewer_cancelled_tokens_total") - tokens_before < 1500
    deadline = time.monotonic() + 20
    while _gauge(server, "reviewer_in_flight") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _gauge(server, "reviewer_in_flight") == 0


def test_refuses_a_public_address_without_a_token(
    run_cli: Callable[..., RunResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REVIEWER_SERVE_TOKEN", raising=False)
    code, _, err = run_cli("serve", "--host", "0.0.0.0", "--port", "0")
    assert code == 2 and "refusing to listen on 0.0.0.0 without a token" in err
    assert err.count("\n") == 1
    empty = tmp_path / "token"
    empty.write_text("\n")
    code, _, err = run_cli("serve", "--token-file", str(empty))
    assert code == 2 and "is empty" in err
