"""``/v1/review`` with ``describe: true`` answers the change's description in the JSON of
``reviewer describe --format json``: the facts always, the model's part when the request
explains. A real ``reviewer serve`` on 127.0.0.1, spoken to with httpx; the model is a
fixed-answer OpenAI-compatible server on 127.0.0.1 (tests/test_describe_model.py's)."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from serve_proc import serve
from test_describe_model import GOOD, change
from test_describe_model import serve as serve_model

if TYPE_CHECKING:
    from conftest import Repo

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("httpx") is None,
    reason="the serve extra or httpx is not installed",
)
RunCli = Callable[..., tuple[int, str, str]]
OLD = "def area(width, height):\n    return width * height\n"


def without_where(got: dict[str, Any]) -> dict[str, Any]:
    """The description less what names the place of the change (label and base commit)."""
    facts = {k: v for k, v in got["facts"].items() if k not in ("change", "base")}
    return {**got, "facts": facts}


def test_review_returns_the_description_of_reviewer_describe(
        repo: Repo, run_cli: RunCli, tmp_path: Path) -> None:
    import httpx

    change(repo)
    new = (repo.path / "pkg" / "core.py").read_text()
    service = tmp_path / "service"
    service.mkdir()
    with serve_model(GOOD) as (url, seen):
        code, out, err = run_cli("describe", "--format", "json", "--explain",
                                 "--server-url", url)
        assert code == 0, err
        expected = json.loads(out)
        assert expected["description"]["source"] == "model" and len(seen) == 1
        with serve(service, "--backend", "openai", "--server-url", url) as server:
            request = {"request_id": "d-1", "max_explained": 0, "describe": True,
                       "files": [{"path": "pkg/core.py", "content": new}],
                       "base": [{"path": "pkg/core.py", "content": OLD}]}
            with httpx.Client(base_url=server.url, timeout=120) as http:
                with_model = http.post("/v1/review", json={**request, "explain": True})
                facts_only = http.post("/v1/review", json=request)
                plain = http.post("/v1/review", json={**request, "describe": False})
            assert with_model.status_code == 200, with_model.text
            assert facts_only.status_code == 200, facts_only.text
    got = with_model.json()["description"]
    assert (got["facts"]["change"], got["facts"]["base"]) == ("in the request", None)
    assert without_where(got) == without_where(expected)  # the model's part included
    assert len(seen) == 2  # one model call for the description, none for findings
    only = facts_only.json()["description"]
    assert only["description"]["source"] == "facts" and only["description"]["model_calls"] == 0
    assert only["facts"] == got["facts"]
    assert "perimeter" in only["description"]["title"]  # the rules' title
    assert "description" not in plain.json()


def test_a_diff_request_describes_what_it_adds_and_removes(tmp_path: Path) -> None:
    import httpx

    service = tmp_path / "service"
    service.mkdir()
    diff = ("--- a/old.py\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-x = 1\n"
            "--- /dev/null\n+++ b/pkg/new.py\n@@ -0,0 +1,2 @@\n+def shout(text):\n"
            "+    return text.upper()\n")
    with serve(service, "--backend", "none") as server:
        resp = httpx.post(server.url + "/v1/review", timeout=60, json={
            "request_id": "d-2", "describe": True, "diff": diff,
            "base": [{"path": "old.py", "content": "x = 1\n"}]})
    assert resp.status_code == 200, resp.text
    facts = resp.json()["description"]["facts"]
    assert {(f["path"], f["status"]) for f in facts["files"]} == {
        ("old.py", "removed"), ("pkg/new.py", "added")}
    (symbol,) = resp.json()["description"]["facts"]["symbols"]
    assert (symbol["qualname"], symbol["change"]) == ("shout", "added")
