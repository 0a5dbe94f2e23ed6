"""``reviewer serve``: the review service for a team's model machine (the ``serve`` extra).

FastAPI and uvicorn are imported only when the command runs.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import click

from reviewer.cli.common import find_root, load_config
from reviewer.cli.pipeline import llm_options, llm_overrides
from reviewer.errors import ReviewerError


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (anything but loopback needs a token).")
@click.option("--port", type=click.IntRange(0, 65535), default=8800, show_default=True,
              help="Port to listen on (0: any free port, printed at start).")
@click.option("--token-file", type=click.Path(path_type=Path, dir_okay=False),
              help="File whose first line is the bearer token (else $REVIEWER_SERVE_TOKEN).")
@click.option("--body-limit", type=click.IntRange(min=1), default=2_000_000,
              show_default=True, metavar="BYTES", help="Largest request body (413 beyond).")
@click.option("--queue-depth", type=click.IntRange(min=0), default=8, show_default=True,
              help="Requests waiting for the model beyond the running ones (503 beyond).")
@click.option("--concurrency", type=click.IntRange(min=1), default=1, show_default=True,
              help="Requests using the model at once.")
@click.option("--refine", "refine", type=click.IntRange(0, 10), default=0, show_default=True,
              metavar="N", help="Refinement passes for chat answers whose code the rules"
              " flag (a request may ask for its own).")
@click.option("--model-name", default="", help="The model id /v1/models lists.")
@click.option("--log-code", is_flag=True,
              help="Log request bodies, code included (never logged otherwise).")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Config file (default: pyproject.toml at the repository root).")
@llm_options
def serve(host: str, port: int, token_file: Path | None, body_limit: int, queue_depth: int,
          concurrency: int, refine: int, model_name: str, log_code: bool,
          config_path: Path | None, **llm: Any) -> None:
    """Serve reviews and a principle-guided model over HTTP (OpenAI-compatible).

    Routes: GET /health, GET /metrics, GET /v1/models, POST /v1/chat/completions,
    POST /v1/review, POST /v1/code/validate-principles. The repository around the current
    directory gives the configuration, the model ([tool.reviewer] llm-backend, model,
    server-url), the taught principles, the index and the style profile. Every /v1 route
    needs the bearer token when one is set; binding a non-loopback address without one is
    refused. See docs/serve.md.
    """
    from reviewer.serve.settings import ServeSettings, check_bind, read_token

    root, _ = find_root(Path.cwd())
    overrides = llm_overrides(llm)
    overrides.pop("explain", None)
    cfg = load_config(root, config_path, **overrides)
    settings = ServeSettings(
        root=root, host=host, port=port, token=read_token(token_file), body_limit=body_limit,
        queue_depth=queue_depth, concurrency=concurrency, refine_passes=refine,
        log_code=log_code, model_name=model_name,
    )
    check_bind(settings)
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise ReviewerError(f"reviewer serve needs the serve extra (pip install"
                            f" 'reviewer[serve]'): {exc}") from None
    from reviewer.llm.backend import LLMError
    from reviewer.llm.factory import make_backend
    from reviewer.serve.app import create_app

    try:
        backend = make_backend(cfg, root)
    except LLMError as exc:
        raise ReviewerError(f"no model to serve: {exc}") from None
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    app = create_app(settings, cfg, backend)
    where = f"[{host}]" if ":" in host else host
    click.echo(f"reviewer: serving on http://{where}:{bound} (model: "
               f"{backend.identity() if backend else 'none'}"
               f"{', token required' if settings.token else ', no token'})", err=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                           timeout_graceful_shutdown=10))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        if backend is not None:
            backend.close()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ReviewerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


COMMANDS: tuple[click.Command, ...] = (serve,)
