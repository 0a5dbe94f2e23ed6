"""The review pipeline the commands share: build the job from the mode options, run the
engine, then the model steps (taught principles, learned verdicts, explanations).

Imports :mod:`reviewer.cli.common` only; ``check``, ``fix``, ``feedback review`` and
``github review`` call it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reviewer.cli.common import (
    F,
    ProgressBar,
    find_root,
    load_config,
    root_and_config,
    split_values,
    warn,
)
from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.engine import Job, Result
    from reviewer.feedback.judge import JudgeReport
    from reviewer.findings import Finding
    from reviewer.llm.backend import Backend
    from reviewer.llm.explain import ExplainReport

# Reviews of more files than this show a progress bar on a terminal.
PROGRESS_MIN_FILES = 200
BACKENDS = ("auto", "llama_cpp", "mlx", "openai", "none")
LLM_KEYS = ("explain", "max_explained", "llm_timeout", "llm_backend", "model", "server_url")


# -- the rules -------------------------------------------------------------------------------
def prepare(
    opts: dict[str, Any], **overrides: Any
) -> tuple[Path, Config, Job, str | None]:
    """Root, settings and Job for the mode options of ``check``/``fix``; plus a note."""
    from reviewer.findings import Severity
    from reviewer.targets import Mode, build_job

    root, is_git = find_root(Path.cwd())
    cfg = load_config(
        root, opts["config_path"], opts["quiet"],
        select=split_values(opts["select"]), ignore=split_values(opts["ignore"]),
        fail_on=Severity.parse(opts["fail_on"]) if opts["fail_on"] else None,
        cache=False if opts["no_cache"] else None,
        jobs=opts["jobs"],
        **overrides,
    )
    mode = Mode(opts["staged"], opts["base"], opts["all_files"], tuple(opts["paths"]))
    job, note = build_job(root, is_git, mode)
    job.diff_filter = opts["diff_filter"]
    return root, cfg, job, note


def review(job: Job, cfg: Config, quiet: bool, use_baseline: bool,
           fixes: bool = True) -> Result:
    """Run the engine (with a progress bar for long reviews on a terminal); ``fixes=False``
    when nothing will apply a fix (the rules then skip their libcst fixes)."""
    from reviewer import engine

    progress = None
    if not quiet and len(job.files) > PROGRESS_MIN_FILES and sys.stderr.isatty():
        progress = ProgressBar()
    try:
        result = engine.run(job, cfg, progress=progress, use_baseline=use_baseline,
                            fixes=fixes)
    finally:
        if progress is not None:
            progress.close()
    settle_unused(result, job, cfg)
    if not quiet:
        from reviewer.targets import show_path

        for s in result.skipped:
            warn(f"{show_path(s.path)}: {s.reason}")
        for w in result.warnings:
            warn(w)
    return result


def settle_unused(result: Result, job: Job, cfg: Config) -> None:
    """Keep the unused suppressions worth reporting (none unless asked for)."""
    if not cfg.report_unused_suppressions:
        result.unused_suppressions = []
        return
    from reviewer.engine import reported_unused
    from reviewer.feedback.taught import taught_rules

    taught = [c for p in taught_rules(job.root, cfg) for c in (p.id, p.slug)]
    result.unused_suppressions = reported_unused(
        result.unused_suppressions, cfg, taught, job.changes, job.diff_filter)


# -- the model ---------------------------------------------------------------------------------
def llm_options(func: F) -> F:
    """Add --explain, --max-explained, --llm-timeout, --backend, --model, --server-url,
    --model-fixes."""
    decorators = [
        click.option("--explain/--no-explain", default=None,
                     help="Have the local model explain findings and propose validated fixes."),
        click.option("--max-explained", type=click.IntRange(min=0), metavar="N",
                     help="Explain at most N findings per run (default 10)."),
        click.option("--llm-timeout", type=click.FloatRange(min=0), metavar="SECONDS",
                     help="Time the model may take in one run (default 60, 10 under pre-commit)."),
        click.option("--backend", "llm_backend", type=click.Choice(BACKENDS),
                     help="Model backend (default: auto, from the machine)."),
        click.option("--model", metavar="PATH|NAME",
                     help="GGUF file, MLX folder or served model name (default: embedded)."),
        click.option("--server-url", metavar="URL",
                     help="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1."),
        click.option("--model-fixes", is_flag=True, default=None,
                     help="Ask the model for fixes even when it is too small to write them"
                          " reliably (model-fix-min-params; by default such a model"
                          " only explains)."),
    ]
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


def llm_overrides(opts: dict[str, Any]) -> dict[str, Any]:
    """Config overrides from the options :func:`llm_options` added (removed from ``opts``)."""
    out = {key: opts.pop(key, None) for key in LLM_KEYS}
    # --model-fixes: no size gate on model fixes (reviewer.llm.explain.fix_gate).
    out["model_fix_min_params"] = 0 if opts.pop("model_fixes", None) else None
    return out


def read_for(job: Job, config: Config) -> Callable[[str], str | None]:
    """A reader of the reviewed text of a file (the staged version when reviewing --staged)."""
    from reviewer.engine import Skipped, read_source

    def read(rel: str) -> str | None:
        got = read_source(job.root, rel, config.max_file_size, job.contents.get(rel))
        return None if isinstance(got, Skipped) else got[0]

    return read


@contextlib.contextmanager
def run_backend(root: Path, config: Config) -> Iterator[Backend | None]:
    """One model for a whole run (taught principles and explanations share it, so it loads
    once); None when the model is off or cannot be set up (each step then reports why)."""
    if not config.explain:
        yield None
        return
    from reviewer.llm.backend import LLMError
    from reviewer.llm.factory import make_backend

    try:
        backend = make_backend(config, root)
    except LLMError:
        backend = None
    try:
        yield backend
    finally:
        if backend is not None:
            backend.close()


def explain_result(
    result: Result, job: Job, config: Config, *, quiet: bool = False, want_fix: bool = True,
    backend: Backend | None = None,
) -> ExplainReport | None:
    """Add the model's explanations and validated fixes to ``result.findings`` in place.

    Does nothing unless ``config.explain``. Model problems become warnings on ``result``
    (printed here unless ``quiet``); the findings and the exit code stay what they were.
    ``backend`` is a model the caller already holds (see :func:`run_backend`).
    """
    if not config.explain or not result.findings:
        return None
    remote = remote_explain_result(result, job, config, want_fix)
    if remote is not None:
        result.findings, warnings = remote
        for w in warnings:
            result.warnings.append(w)
            if not quiet:
                warn(w)
        return None
    from reviewer.llm.explain import explain_findings

    findings, report = explain_findings(
        result.findings, root=job.root, config=config, read=read_for(job, config),
        want_fix=want_fix, changed=job.files, backend=backend,
    )
    result.findings = findings
    for w in report.warnings():
        result.warnings.append(w)
        if not quiet:
            warn(w)
    return report


def remote_explain_result(
    result: Result, job: Job, config: Config, want_fix: bool
) -> tuple[list[Finding], list[str]] | None:
    """With a ``reviewer serve`` behind ``server-url``: its explanations and validated
    fixes (through /v1/review) and its warnings; None for any other server (the model is
    then driven from here, as before)."""
    from reviewer.llm.backend import backend_name, budget_for

    if not config.server_url or backend_name(config) != "openai":
        return None
    from reviewer.serve.client import RemoteError, is_reviewer_server, remote_explain

    if not is_reviewer_server(config.server_url):
        return None
    from reviewer.llm.explain import _repo_context

    # Retrieval and the style profile stay on this machine: their text goes in the request.
    provider = _repo_context(job.root, config, job.files)
    try:
        findings, warnings = remote_explain(
            result.findings, url=config.server_url, config=config,
            read=read_for(job, config), budget=budget_for(config), want_fix=want_fix,
            context=provider,
        )
    except RemoteError as exc:
        n = min(len(result.findings), budget_for(config))
        return list(result.findings), [
            f"model explanations skipped for {n} finding{'s' if n != 1 else ''}: {exc}"
        ]
    skipped = provider.warning() if provider is not None else None
    return findings, warnings + ([skipped] if skipped else [])


def judge_result(
    result: Result, job: Job, config: Config, *, quiet: bool = False, use_baseline: bool = True,
    backend: Backend | None = None,
) -> JudgeReport | None:
    """Add the model's findings on taught principles to ``result`` (in place).

    Does nothing unless the model is in use (``explain``), ``taught`` is on and the
    repository has selected taught principles. A broken principles file is a usage error
    (exit 2); model problems are warnings and never change what the rules found.
    """
    if not (config.explain and config.taught and config.max_judged):
        return None
    from reviewer.feedback import taught

    catalogue = taught.load(taught.taught_path(job.root, config))
    principles = taught.selected(catalogue, config)
    if not principles:
        return None
    from reviewer.feedback.judge import judge_result as _judge

    before = len(result.warnings)
    report = _judge(result, job, config, principles, read_for(job, config),
                    use_baseline=use_baseline, backend=backend)
    if not quiet:
        for w in result.warnings[before:]:
            warn(w)
    return report


def enrich(result: Result, job: Job, cfg: Config, *, quiet: bool, use_baseline: bool,
           learned: bool = True) -> bool:
    """What follows the rules, on one model: findings on taught principles, the team's
    verdicts (dismissed findings hidden, similar ones quieter; unless ``learned`` is
    False), then the model's explanations and validated fixes. Returns whether the
    verdicts database could not be read (a warning line said so already)."""
    from reviewer.feedback.learned import apply_learned

    unreadable = False
    with run_backend(job.root, cfg) as backend:
        judge_result(result, job, cfg, quiet=quiet, use_baseline=use_baseline, backend=backend)
        if learned:
            for skipped in apply_learned(result, job.root, cfg, job.contents):
                unreadable = True
                if not quiet:
                    warn(skipped)
        explain_result(result, job, cfg, quiet=quiet, backend=backend)
    return unreadable


def taught_listing(fmt: str) -> list[Any]:
    """The taught principles of the current repository for ``reviewer rules`` (metadata
    dicts for json, lines for text); empty when there are none or the file is broken."""
    from reviewer.feedback.taught import taught_rules

    try:
        root, cfg = root_and_config(None)
    except ReviewerError:
        return []
    principles = taught_rules(root, cfg)
    if fmt == "json":
        return [p.metadata() for p in principles]
    out = []
    for p in principles:
        out.append(f"{p.id:<5}  {p.slug:<32} {p.severity.label:<6} {p.summary()} [taught]")
        out.append(f"       taught by the team ({cfg.taught_file})")
    return out
