"""``reviewer doctor``: the machine, the model settings derived from it, and whether the
model loads. (The model options of ``check``/``fix`` live in :mod:`reviewer.cli.pipeline`.)
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reviewer.cli.pipeline import llm_options, llm_overrides

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.hardware import MachineProfile, Settings


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
        url_model = config.model.startswith(("http://", "https://"))  # model = a server URL
        url = config.server_url or (config.model if url_model else "")
        if not url:
            return False, "no server-url configured"
        from reviewer.llm.backend import LLMError
        from reviewer.llm.openai_compat import OpenAICompatBackend

        backend = OpenAICompatBackend(url, "" if url_model else config.model)
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
        from reviewer.models.detect import ModelFormatError, detect
        from reviewer.models.fit import backend_for

        try:
            info = detect(path)
        except ModelFormatError as exc:
            return False, str(exc)
        label = "MLX folder" if info.format == "mlx" else "Hugging Face folder"
        if name == "llama_cpp":
            return False, f"{path}: {backend_for(info, False)[1]}"
        return True, f"{path} ({label}, {info.size_bytes / 1e6:.0f} MB)"
    from reviewer.models.detect import ModelFormatError, detect

    try:
        check_gguf(path)
        detect(path)  # the header: truncated, corrupt
    except LLMError as exc:
        return False, str(exc)
    except ModelFormatError as exc:
        return False, str(exc)
    size = path.stat().st_size / 1e6
    label = "embedded SmolLM2-135M-Instruct" if not config.model else "GGUF"
    return True, f"{path} ({label}, {size:.0f} MB)"


def model_choice(config: Config, root: Path, profile: MachineProfile,
                 chosen_by: str) -> dict[str, Any]:
    """The chosen model, where it was found, its format and why its backend (no loading)."""
    from reviewer.llm.backend import LLMError
    from reviewer.llm.choose import choose

    out: dict[str, Any] = {"model": config.model or "embedded", "chosen_by": chosen_by}
    if config.llm_backend == "openai" or config.server_url or config.model.startswith(
            ("http://", "https://")):
        out.update(format="openai", backend="openai", found="served by the server",
                   why="an OpenAI-compatible server (server-url)")
        return out
    try:
        chosen = choose(config.model, root, profile)
    except LLMError as exc:
        out.update(format="", backend="", found="", why=str(exc))
        return out
    info = chosen.info
    facts = [f for f in (info.architecture, info.params_label, info.quantization,
                         f"context {info.context_length}" if info.context_length else "",
                         f"{info.chat_template} chat template" if info.chat_template else "")
             if f]
    out.update(path=chosen.path, format=chosen.format, facts=", ".join(facts),
               backend=chosen.backend, found=chosen.found, why=chosen.why)
    if config.llm_backend != "auto":
        out["why"] += f" (llm-backend = {config.llm_backend} was asked for)"
    return out


def try_load(config: Config, root: Path, settings: Settings) -> tuple[bool, str]:
    """Load the configured model for real and generate a few tokens."""
    from reviewer.llm.backend import GenParams, LLMError, prompt_messages
    from reviewer.llm.factory import make_backend

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
    config: Config, root: Path, load: bool, profile: MachineProfile | None = None,
    chosen_by: str = "",
) -> dict[str, Any]:
    """Everything ``reviewer doctor`` reports, as plain data."""
    from reviewer import hardware
    from reviewer.llm.choose import backend_for_config

    profile = profile or hardware.detect()
    settings = hardware.derive(profile)
    chosen = backend_for_config(config, root, settings)
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
        "choice": model_choice(config, root, profile, chosen_by or (
            "default: no model configured" if not config.model else "configured")),
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
    ch = data.get("choice", {})
    if ch:
        lines.append(f"  chosen:      {ch['model']} ({ch['chosen_by']})")
        if ch.get("found"):
            lines.append(f"  found:       {ch['found']}")
        if ch.get("format"):
            facts = f": {ch['facts']}" if ch.get("facts") else ""
            lines.append(f"  format:      {ch['format']}{facts}")
        lines.append(f"  backend:     {ch.get('backend') or 'none'} ({ch['why']})")
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
    if "model" in changes:
        chosen_by = "--model"
    elif cfg.model:
        chosen_by = f"model in {cfg.source.name if cfg.source else 'the configuration'}"
    else:
        chosen_by = "default: no model configured"
    profile = hardware.detect()
    data = doctor_data(cfg, root, load, profile, chosen_by)
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(format_doctor(data, profile), nl=False)
    raise SystemExit(0 if data["ok"] else 1)


# What this module adds to the ``reviewer`` group.
COMMANDS: tuple[click.Command, ...] = (doctor,)
