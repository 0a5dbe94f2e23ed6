"""``reviewer serve``: the review service for a team's model machine (the ``serve`` extra).

FastAPI and uvicorn are imported only when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from reviewer.cli.common import find_root, load_config, webhook_options
from reviewer.cli.pipeline import llm_options, llm_overrides
from reviewer.cli.webhooks import need_serve_extra
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
@click.option("--github-webhook", is_flag=True,
              help="Also receive GitHub webhooks on POST /github/webhook and review each"
              " pushed PR of --repo (a durable queue; see docs/serve.md).")
@click.option("--repo", "gh_repo", metavar="OWNER/NAME",
              help="With --github-webhook: the repository whose PRs to review.")
@click.option("--checkout", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="With --github-webhook: a clone of the repository (its origin is fetched).")
@click.option("--queue-db", type=click.Path(path_type=Path, dir_okay=False),
              help="With --github-webhook: the webhook queue (default:"
              " .reviewer/webhook-queue.db in --checkout).")
@webhook_options
@llm_options
def serve(host: str, port: int, token_file: Path | None, body_limit: int, queue_depth: int,
          concurrency: int, refine: int, model_name: str, log_code: bool,
          config_path: Path | None, github_webhook: bool, gh_repo: str | None,
          checkout: Path | None, secret_env: str, queue_db: Path | None, workers: int,
          api_url: str, max_comments: int, check_run: bool, no_throttle: bool,
          **llm: Any) -> None:
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
    explain = overrides.pop("explain", None)  # for the webhook's reviews only
    cfg = load_config(root, config_path, **overrides)
    settings = ServeSettings(
        root=root, host=host, port=port, token=read_token(token_file), body_limit=body_limit,
        queue_depth=queue_depth, concurrency=concurrency, refine_passes=refine,
        log_code=log_code, model_name=model_name,
    )
    check_bind(settings)
    hook = None
    if github_webhook:  # the receiver of `github serve`, as one more route
        from reviewer.cli.webhooks import WebhookReviewer

        hook = WebhookReviewer(gh_repo, checkout, secret_env=secret_env, workers=workers,
                               api_url=api_url, max_comments=max_comments,
                               check_run=check_run, no_throttle=no_throttle,
                               model={**overrides, "explain": explain})
        hook.check("--github-webhook")
    need_serve_extra("reviewer serve")
    from reviewer.llm.backend import LLMError
    from reviewer.llm.factory import make_backend
    from reviewer.serve.app import create_app

    try:
        backend = make_backend(cfg, root)
    except LLMError as exc:
        raise ReviewerError(f"no model to serve: {exc}") from None
    from reviewer.serve.run import bind, run

    sock = bind(host, port)
    bound = sock.getsockname()[1]
    queue = hook.queue(queue_db) if hook is not None else None
    app = create_app(settings, cfg, backend,
                     extra=hook.route(queue) if hook is not None and queue else None,
                     limits=hook.limits() if hook is not None else None)
    where = f"[{host}]" if ":" in host else host
    click.echo(f"reviewer: serving on http://{where}:{bound} (model: "
               f"{backend.identity() if backend else 'none'}"
               f"{', token required' if settings.token else ', no token'})", err=True)
    if queue is not None:
        resumed = queue.resume()
        if resumed:
            click.echo(f"reviewer: serve: resuming {resumed} pending review"
                       f"{'s' if resumed != 1 else ''}", err=True)

    def stopping() -> None:
        click.echo("reviewer: serve: stopping" + ("; waiting for running reviews"
                                                  if queue is not None else ""), err=True)

    try:
        run(app, sock, stopping)
    finally:
        if queue is not None:
            queue.wait_idle(timeout=600)
            queue.close()
        if backend is not None:
            backend.close()


COMMANDS: tuple[click.Command, ...] = (serve,)
