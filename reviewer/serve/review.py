"""``POST /v1/review`` and ``/v1/code/validate-principles`` as plain functions (no web
framework here): files in, findings out exactly as ``reviewer check --format json`` gives
them, each with its explanation, validated fix, ``validation`` and ``metadata``."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewer.findings import Finding

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.llm.backend import Backend
    from reviewer.llm.explain import Explainer, _Job


class BadFile(ValueError):
    """A request file that cannot be reviewed; the message names the file."""


@dataclass(frozen=True)
class SourceFile:
    """One file of a review request, decoded."""

    path: str
    text: str
    language: str


@dataclass
class ReviewOutcome:
    """The response body of /v1/review, and what the model did (for metrics)."""

    body: dict[str, Any]
    tokens: int = 0
    model_seconds: float = 0.0
    validated: dict[str, int] = field(default_factory=dict)


def decode_file(path: str, data: bytes, language: str | None) -> SourceFile:
    """Check one request file: a safe relative path, UTF-8 text, a reviewed language."""
    from reviewer.serve.guide import UnknownLanguage, language_name

    parts = path.replace("\\", "/").split("/")
    if not path or path.startswith("/") or ".." in parts or "\0" in path:
        raise BadFile(f"{path!r}: a file path must be relative, without '..'")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadFile(f"{path}: not valid UTF-8 (byte {exc.start})") from None
    try:
        lang = language_name(language, path)
    except UnknownLanguage as exc:
        raise BadFile(f"{path}: {exc}") from None
    return SourceFile(path, text[1:] if text.startswith("\ufeff") else text, lang)


def _metered(explainer: Explainer, per: dict[str, dict[str, Any]]) -> None:
    """Wrap ``explainer.explain_one`` so each finding's model work is recorded in ``per``
    (by fingerprint): iterations (model answers, cached or not), seconds, tokens."""
    inner = explainer.explain_one
    rep = explainer.report

    def one(job: _Job, want_fix: bool = True, repo_context: str = "") -> Finding:
        before = (rep.model_calls + rep.cache_hits, rep.model_seconds, rep.completion_tokens,
                  rep.fixes_proposed)
        try:
            return inner(job, want_fix, repo_context)
        finally:
            per[job.finding.fingerprint] = {
                "iterations": rep.model_calls + rep.cache_hits - before[0],
                "seconds": rep.model_seconds - before[1],
                "tokens": rep.completion_tokens - before[2],
                "proposed": rep.fixes_proposed > before[3],
            }

    explainer.explain_one = one  # type: ignore[method-assign]


@lru_cache(maxsize=1)
def _machine_context_size() -> int:
    from reviewer import hardware

    return hardware.derive(hardware.detect()).context_size


def run_review(
    root: Path,
    config: Config,
    files: Sequence[SourceFile],
    *,
    changes: Mapping[str, set[int] | None] | None,
    backend: Backend | None,
    explain: bool,
    max_explained: int | None,
    fix_passes: int | None = None,
    max_tokens: int | None = None,
    client_context: str = "",
    deadline_s: float | None = None,
    only: Sequence[str] | None = None,
    want_fix: bool = True,
    finding_context: Mapping[str, str] | None = None,
) -> ReviewOutcome:
    """Review ``files`` (rules, then the model on the findings) into a response body."""
    from reviewer.engine import Job, run, selected_rules
    from reviewer.llm.backend import GenParams, timeout_for
    from reviewer.llm.cache import AnswerCache
    from reviewer.llm.explain import Explainer
    from reviewer.report.json_report import finding_dict

    job = Job(root, [f.path for f in files],
              changes=dict(changes) if changes is not None else None,
              contents={f.path: f.text.encode("utf-8") for f in files})
    result = run(job, replace(config, cache=False), use_baseline=False)
    texts = {f.path: f.text for f in files}
    findings = list(result.findings)
    if only is not None:
        keep = set(only)
        findings = [f for f in findings if f.fingerprint in keep]
    per: dict[str, dict[str, Any]] = {}
    warnings = list(result.warnings)
    model_warnings: list[str] = []
    model_id = backend.identity() if backend is not None else ""
    outcome = ReviewOutcome({})
    if explain and findings and backend is not None:
        cache_dir = root / config.cache_dir if config.cache else None
        cache = AnswerCache.in_dir(cache_dir) if cache_dir is not None else AnswerCache(None)
        context: Callable[[Finding, str], str] | None = None
        if client_context or finding_context:
            by_fp = dict(finding_context or {})
            context = lambda f, _s: by_fp.get(f.fingerprint, client_context)  # noqa: E731
        size = getattr(backend, "context_size", None)
        if size is None:  # as explain_findings does on the client
            size = _machine_context_size()
        explainer = Explainer(
            backend, rules=selected_rules(config), cache=cache,
            context_size=int(size),
            params=GenParams(max_tokens=max_tokens or config.llm_max_tokens),
            fix_passes=config.fix_passes if fix_passes is None else fix_passes,
            deadline=time.perf_counter() + (deadline_s or timeout_for(config)),
            repo_context=context,
            min_fix_params=config.model_fix_min_params,
        )
        _metered(explainer, per)
        try:
            findings = explainer.explain_all(
                findings, texts.get,
                budget=config.max_explained if max_explained is None else max_explained,
                want_fix=want_fix,
            )
        finally:
            cache.close()
        model_warnings = explainer.report.warnings()
        warnings += model_warnings
        outcome.tokens = explainer.report.completion_tokens
        outcome.model_seconds = explainer.report.model_seconds
    items = []
    for f in findings:
        item = finding_dict(f)
        got = per.get(f.fingerprint)
        passed: bool | None = None
        if got is not None and got["proposed"]:
            passed = f.model_fix is not None
            key = "fix_validated" if passed else "fix_rejected"
            outcome.validated[key] = outcome.validated.get(key, 0) + 1
        item["validation"] = {"passed": passed,
                              "iterations": got["iterations"] if got else 0}
        item["metadata"] = {
            "model": model_id if got else None,
            "generation_seconds": round(got["seconds"], 4) if got else 0.0,
            "tokens": got["tokens"] if got else 0,
        }
        items.append(item)
    outcome.body = {
        "findings": items,
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
        "warnings": warnings,
        "model_warnings": model_warnings,
        "summary": {"findings": len(items), "files_reviewed": result.files_reviewed},
    }
    return outcome


def validate_principles(config: Config, code: str, language: str) -> dict[str, Any]:
    """Violations, suggestions and the principle score of one snippet."""
    from reviewer.engine import selected_rules
    from reviewer.serve.guide import (
        checked_principles,
        review_snippet,
        score,
        suggestions,
        violation,
    )

    rules = selected_rules(config)
    found = review_snippet(code, language, rules)
    checked = checked_principles(rules, language)
    return {
        "language": language,
        "violations": [violation(f) for f in found],
        "suggestions": suggestions(found),
        "principles_checked": checked,
        "score": score(found, checked),
    }
