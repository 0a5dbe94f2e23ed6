"""The laptop side of ``reviewer serve``: detect a reviewer server behind ``server-url``
and have it explain, fix and validate a review's findings through ``POST /v1/review``.

Plain ``urllib`` (the core install has no HTTP client). A server is a reviewer server when
its ``/health`` says ``"service": "reviewer"`` (or its ``/v1/models`` entries carry a
``reviewer`` object) with a protocol this client speaks; anything else (llama.cpp server,
vLLM, Ollama) gets today's behaviour, the client driving the model itself.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from reviewer.findings import Finding, Fix, TextEdit

if TYPE_CHECKING:
    from reviewer.config import Config

PROTOCOL = 1
PROBE_TIMEOUT = 3.0
_detected: dict[str, bool] = {}


class RemoteError(Exception):
    """The reviewer server failed; ``str()`` is one line for a warning."""


def _roots(url: str) -> tuple[str, str]:
    """(server root, ``.../v1``) of a configured server URL."""
    from reviewer.llm.openai_compat import base_url

    v1 = base_url(url)
    return v1[: -len("/v1")], v1


def _key() -> str:
    return os.environ.get("REVIEWER_API_KEY", "")


def _get_json(url: str, timeout: float) -> Any:
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    if _key():
        req.add_header("Authorization", f"Bearer {_key()}")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.load(resp)


def is_reviewer_server(url: str) -> bool:
    """Whether ``url`` is a ``reviewer serve`` speaking this protocol (asked once per URL
    and process; any failure means "a plain OpenAI-compatible server")."""
    if url in _detected:
        return _detected[url]
    root, v1 = _roots(url)
    found = False
    try:
        health = _get_json(root + "/health", PROBE_TIMEOUT)
        found = isinstance(health, dict) and health.get("service") == "reviewer" \
            and health.get("protocol") == PROTOCOL
    except (OSError, ValueError):
        pass
    if not found:
        try:
            models = _get_json(v1 + "/models", PROBE_TIMEOUT)
            items = models.get("data", []) if isinstance(models, dict) else []
            found = any(isinstance(m, dict) and isinstance(m.get("reviewer"), dict)
                        and m["reviewer"].get("protocol") == PROTOCOL for m in items)
        except (OSError, ValueError, AttributeError):
            pass
    _detected[url] = found
    return found


def _fix(data: Any) -> Fix | None:
    if not isinstance(data, dict):
        return None
    edits = tuple(TextEdit(int(e["line"]), int(e["col"]), int(e["end_line"]),
                           int(e["end_col"]), str(e["text"])) for e in data["edits"])
    return Fix(str(data["description"]), edits, bool(data["safe"]), str(data["origin"]))


def request_body(findings: Sequence[Finding], read: Callable[[str], str | None],
                 config: Config, budget: int, want_fix: bool,
                 context: Callable[[Finding, str], str] | None = None) -> dict[str, Any]:
    """The /v1/review request for a review's findings: their files (whole: the findings
    are named by fingerprint, so the server's diff filter cannot drop one), their rules."""
    paths = sorted({f.path for f in findings})
    files = []
    for path in paths:
        text = read(path)
        if text is not None:
            files.append({"path": path, "content": text})
    by_finding: dict[str, str] = {}
    if context is not None:  # the laptop's own retrieval, for the findings within budget
        texts = {f["path"]: f["content"] for f in files}
        order = sorted(findings, key=lambda f: -int(f.severity))
        from reviewer.rules import all_rules

        known = all_rules()
        eligible = [f for f in order if f.rule_id in known and f.rule_id != "RV000"
                    and f.path in texts]
        for f in eligible[:budget]:
            by_finding[f.fingerprint] = context(f, texts[f.path])
    return {
        "context": {"by_finding": by_finding} if by_finding else None,
        "request_id": uuid.uuid4().hex,
        "files": files,
        "select": sorted({f.rule_id for f in findings}),
        "findings": [f.fingerprint for f in findings],
        "explain": True,
        "fixes": want_fix,
        "max_explained": budget,
        "fix_passes": config.fix_passes,
        "max_tokens": config.llm_max_tokens,
    }


def remote_explain(
    findings: Sequence[Finding], *, url: str, config: Config,
    read: Callable[[str], str | None], budget: int, want_fix: bool = True, timeout: float = 600.0,
    context: Callable[[Finding, str], str] | None = None,
) -> tuple[list[Finding], list[str]]:
    """The findings with the server's explanations and validated fixes, and its warnings.

    Findings are matched by fingerprint; raises RemoteError when the server fails.
    """
    _, v1 = _roots(url)
    body = request_body(findings, read, config, budget, want_fix, context)
    data = json.dumps(body).encode("utf-8")
    req = urllib.request.Request(v1 + "/review", data=data, method="POST",
                                 headers={"Content-Type": "application/json"})
    if _key():
        req.add_header("Authorization", f"Bearer {_key()}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            answer = json.load(resp)
    except urllib.error.HTTPError as exc:
        raise RemoteError(f"reviewer server {v1}: HTTP {exc.code}: {_detail(exc)}") from None
    except (OSError, ValueError) as exc:
        raise RemoteError(f"reviewer server {v1} failed: {exc}") from None
    by_fp = {item.get("fingerprint"): item for item in answer.get("findings", [])
             if isinstance(item, dict)}
    out = []
    for f in findings:
        item = by_fp.get(f.fingerprint)
        if item is None:
            out.append(f)
            continue
        try:
            fix = _fix(item.get("model_fix"))
        except (KeyError, TypeError, ValueError):
            fix = None
        expl = item.get("explanation")
        out.append(f.with_(explanation=expl if isinstance(expl, str) else None,
                           model_fix=fix))
    warnings = [str(w) for w in answer.get("model_warnings", [])]
    return out, warnings


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        data = json.loads(exc.read(2000))
        return str(data["error"]["message"])
    except (OSError, ValueError, KeyError, TypeError):
        return str(exc.reason)
