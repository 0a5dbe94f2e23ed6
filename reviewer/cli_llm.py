"""Commands and options for the local model: ``reviewer doctor`` and ``check --explain``.

:func:`register` adds ``doctor`` to the main group; :func:`llm_options` adds the model
options to a command (``check``, ``fix``); :func:`explain_result` runs the model over a
review's findings and never changes what the review decided.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.engine import Job, Result
    from reviewer.findings import Finding
    from reviewer.hardware import MachineProfile, Settings
    from reviewer.llm.backend import Backend
    from reviewer.llm.explain import ExplainReport

F = TypeVar("F", bound=Callable[..., Any])
BACKENDS = ("auto", "llama_cpp", "mlx", "openai", "none")


def _warn(message: str) -> None:
    click.echo(f"reviewer: warning: {message}", err=True)


# -- options for check / fix ----------------------------------------------------------------
def llm_options(func: F) -> F:
    """Add --explain, --max-explained, --llm-timeout, --backend, --model, --server-url."""
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
    ]
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


LLM_KEYS = ("explain", "max_explained", "llm_timeout", "llm_backend", "model", "server_url")


def llm_overrides(opts: dict[str, Any]) -> dict[str, Any]:
    """Config overrides from the options :func:`llm_options` added (removed from ``opts``)."""
    return {key: opts.pop(key, None) for key in LLM_KEYS}


def read_for(job: Job, config: Config) -> Callable[[str], str | None]:
    """A reader of the reviewed text of a file (the staged version when reviewing --staged)."""
    from reviewer.engine import Skipped, read_source

    def read(rel: str) -> str | None:
        got = read_source(job.root, rel, config.max_file_size, job.contents.get(rel))
        return None if isinstance(got, Skipped) else got[0]

    return read


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
    remote = _remote_explain(result, job, config, want_fix)
    if remote is not None:
        result.findings, warnings = remote
        for w in warnings:
            result.warnings.append(w)
            if not quiet:
                _warn(w)
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
            _warn(w)
    return report


def _remote_explain(
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
    try:
        return remote_explain(
            result.findings, url=config.server_url, config=config,
            read=read_for(job, config), budget=budget_for(config),
            want_fix=want_fix,
        )
    except RemoteError as exc:
        n = min(len(result.findings), budget_for(config))
        return list(result.findings), [
            f"model explanations skipped for {n} finding{'s' if n != 1 else ''}: {exc}"
        ]


@contextlib.contextmanager
def run_backend(root: Path, config: Config) -> Iterator[Backend | None]:
    """One model for a whole run (taught principles and explanations share it, so it loads
    once); None when the model is off or cannot be set up (each step then reports why)."""
    if not config.explain:
        yield None
        return
    from reviewer.llm.backend import LLMError, make_backend

    try:
        backend = make_backend(config, root)
    except LLMError:
        backend = None
    try:
        yield backend
    finally:
        if backend is not None:
            backend.close()


# -- doctor ---------------------------------------------------------------------------------
def backend_status(name: str, config: Config, root: Path) -> tuple[bool, str]:
    """(usable, one line) for a backend: its library, and for openai the server."""
    import importlib

    if name == "none":
        return True, "always available (rules only)"
    if name == "llama_cpp":
        try:
            mod = importlib.import_module("llama_cpp")
        except ImportError as exc:
            return False, f"llama-cpp-python not installed ({exc})"
        return True, f"llama-cpp-python {getattr(mod, '__version__', '?')}"
    if name == "mlx":
        try:
            mod = importlib.import_module("mlx_lm")
        except ImportError as exc:
            return False, f"mlx-lm not installed ({exc})"
        return True, f"mlx-lm {getattr(mod, '__version__', '?')}"
    if name == "openai":
        if not config.server_url:
            return False, "no server-url configured"
        from reviewer.llm.backend import LLMError
        from reviewer.llm.openai_compat import OpenAICompatBackend

        backend = OpenAICompatBackend(config.server_url, config.model)
        try:
            models = backend.models(timeout=3.0)
        except LLMError as exc:
            return False, str(exc)
        listed = ", ".join(models[:3]) + (" ..." if len(models) > 3 else "")
        return True, f"{backend.url} answers; models: {listed or 'none listed'}"
    return False, f"unknown backend {name!r}"


def model_status(name: str, config: Config, root: Path) -> tuple[bool, str]:
    """Whether the configured model for backend ``name`` is there (no loading)."""
    from reviewer.llm.backend import LLMError, check_gguf, resolve_model

    if name in ("none", "openai"):
        return True, "served by the server" if name == "openai" else "no model"
    try:
        path = resolve_model(config.model, root)
    except LLMError as exc:
        return False, str(exc)
    if path.is_dir():
        ok = (path / "config.json").is_file()
        return ok, f"{path} ({'Hugging Face folder' if ok else 'no config.json'})"
    try:
        check_gguf(path)
    except LLMError as exc:
        return False, str(exc)
    size = path.stat().st_size / 1e6
    label = "embedded SmolLM2-135M-Instruct" if not config.model else "GGUF"
    return True, f"{path} ({label}, {size:.0f} MB)"


def try_load(config: Config, root: Path, settings: Settings) -> tuple[bool, str]:
    """Load the configured model for real and generate a few tokens."""
    from reviewer.llm.backend import GenParams, LLMError, make_backend, prompt_messages

    start = time.perf_counter()
    try:
        backend = make_backend(config, root, settings)
        if backend is None:
            return True, "backend none: nothing to load"
        try:
            done = backend.complete(
                prompt_messages("Say OK."), params=GenParams(max_tokens=4), timeout=120.0
            )
        finally:
            backend.close()
    except LLMError as exc:
        return False, str(exc)
    took = time.perf_counter() - start
    return True, (
        f"loaded and generated {done.completion_tokens} tokens in {took:.1f}s"
        f" ({done.text.strip()[:30]!r})"
    )


def doctor_data(
    config: Config, root: Path, load: bool, profile: MachineProfile | None = None
) -> dict[str, Any]:
    """Everything ``reviewer doctor`` reports, as plain data."""
    from reviewer import hardware
    from reviewer.llm.backend import backend_name

    profile = profile or hardware.detect()
    settings = hardware.derive(profile)
    chosen = backend_name(config, settings)
    backends = {}
    for name in ("llama_cpp", "mlx", "openai", "none"):
        ok, line = backend_status(name, config, root)
        backends[name] = {"ok": ok, "detail": line}
    model_ok, model_line = model_status(chosen, config, root)
    data: dict[str, Any] = {
        "profile": profile.to_dict(),
        "settings": settings.to_dict(),
        "configured": {
            "llm_backend": config.llm_backend,
            "backend": chosen,
            "model": config.model or "embedded",
            "server_url": config.server_url,
            "explain": config.explain,
            "max_explained": config.max_explained,
        },
        "backends": backends,
        "model": {"ok": model_ok, "detail": model_line},
    }
    if load:
        ok, line = try_load(config, root, settings)
        data["load"] = {"ok": ok, "detail": line}
    data["ok"] = bool(
        backends[chosen]["ok"] and model_ok and data.get("load", {"ok": True})["ok"]
    ) if chosen in backends else False
    return data


def format_doctor(data: dict[str, Any], profile: MachineProfile) -> str:
    """The text report of :func:`doctor_data`."""
    from reviewer import hardware

    s = data["settings"]
    r = s["reasons"]
    m = s["model"]
    lines = ["Machine", *(f"  {ln}" for ln in hardware.describe(profile)), "", "Settings"]
    for key, label in (("backend", "backend"), ("threads", "threads"),
                       ("gpu_layers", "gpu layers"), ("context_size", "context"),
                       ("batch_size", "batch")):
        lines.append(f"  {label + ':':<12} {s[key]!s:<10} {r[key]}")
    lines.append(f"  {'model:':<12} {m['name']} {m['quant']} ({m['gguf']})")
    lines.append(f"  {'':<12} {r['model']}")
    c = data["configured"]
    lines += ["", "Configured"]
    lines.append(f"  backend:     {c['llm_backend']} -> {c['backend']}")
    lines.append(f"  model:       {c['model']}")
    if c["server_url"]:
        lines.append(f"  server-url:  {c['server_url']}")
    lines.append(f"  explain:     {'on' if c['explain'] else 'off'}"
                 f" (at most {c['max_explained']} per run)")
    lines += ["", "Backends"]
    for name, b in data["backends"].items():
        mark = "ok " if b["ok"] else "-- "
        lines.append(f"  {mark}{name:<10} {b['detail']}")
    lines += ["", "Model"]
    lines.append(f"  {'ok ' if data['model']['ok'] else '-- '}{data['model']['detail']}")
    if "load" in data:
        lines.append(f"  {'ok ' if data['load']['ok'] else '-- '}{data['load']['detail']}")
    else:
        lines.append("  (run `reviewer doctor --load` to load it and generate a few tokens)")
    return "\n".join(lines) + "\n"


@click.command()
@click.option("--load", is_flag=True, help="Load the configured model and generate a few tokens.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file.")
@llm_options
def doctor(load: bool, fmt: str, config_path: Path | None, **opts: Any) -> None:
    """Show the machine, the model settings derived from it and whether the model can load.

    Exit 1 when the configured backend or model cannot be used.
    """
    from dataclasses import replace

    from reviewer import config as config_mod
    from reviewer import hardware
    from reviewer.targets import find_root

    root, _ = find_root(Path.cwd())
    cfg = config_mod.load(root, config_path)
    changes = {k: v for k, v in llm_overrides(opts).items() if v is not None}
    cfg = replace(cfg, **changes) if changes else cfg
    profile = hardware.detect()
    data = doctor_data(cfg, root, load, profile)
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(format_doctor(data, profile), nl=False)
    raise SystemExit(0 if data["ok"] else 1)


def register(cli: click.Group) -> None:
    """Add the model commands to the main group."""
    cli.add_command(doctor)
