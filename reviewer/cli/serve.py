"""``reviewer serve``: the review service for a team's model machine (the ``serve`` extra).

FastAPI and uvicorn are imported only when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reviewer.cli.common import find_root, load_config
from reviewer.cli.pipeline import llm_options, llm_overrides
from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.engine import Job, Result


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
@click.option("--secret-env", default="REVIEWER_WEBHOOK_SECRET", show_default=True,
              metavar="NAME", help="Environment variable holding the webhook secret.")
@click.option("--queue-db", type=click.Path(path_type=Path, dir_okay=False),
              help="The webhook queue (default: .reviewer/webhook-queue.db in --checkout).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="With --github-webhook: reviews running at once (never two for one PR).")
@click.option("--api-url", envvar="GITHUB_API_URL", default="https://api.github.com",
              show_default=True, help="API root (GitHub Enterprise: https://HOST/api/v3).")
@click.option("--max-comments", type=click.IntRange(min=0), default=5, show_default=True,
              help="At most this many inline comments on a PR; the rest are summarized.")
@click.option("--check-run/--no-check-run", default=True, show_default=True,
              help="Create check runs with annotations (app tokens only).")
@click.option("--no-throttle", is_flag=True,
              help="No pauses between API requests (for local test servers only).")
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
    overrides.pop("explain", None)
    cfg = load_config(root, config_path, **overrides)
    settings = ServeSettings(
        root=root, host=host, port=port, token=read_token(token_file), body_limit=body_limit,
        queue_depth=queue_depth, concurrency=concurrency, refine_passes=refine,
        log_code=log_code, model_name=model_name,
    )
    check_bind(settings)
    hook = None
    if github_webhook:
        hook = WebhookSetup(gh_repo, checkout, secret_env, queue_db, workers, api_url,
                            max_comments, check_run, no_throttle, overrides)
        hook.check()
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
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
    from reviewer.serve.run import bind, run

    sock = bind(host, port)
    bound = sock.getsockname()[1]
    queue = hook.queue() if hook is not None else None
    app = create_app(settings, cfg, backend,
                     extra=hook.routes(queue) if hook is not None and queue else None,
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


class WebhookSetup:
    """The GitHub webhook part of ``serve --github-webhook``: checks, queue, review."""

    def __init__(self, repo: str | None, checkout: Path | None, secret_env: str,
                 queue_db: Path | None, workers: int, api_url: str, max_comments: int,
                 check_run: bool, no_throttle: bool, model: dict[str, Any]) -> None:
        self.repo, self.checkout, self.secret_env = repo, checkout, secret_env
        self.queue_db, self.workers, self.api_url = queue_db, workers, api_url
        self.max_comments, self.check_run, self.no_throttle = max_comments, check_run, \
            no_throttle
        self.model = model
        self.secret = b""
        self.token = ""
        self.root = Path()

    def check(self) -> None:
        """One-line errors for a set-up that cannot work (before the model loads)."""
        import os
        import re

        from reviewer.cli.common import find_root

        if not self.repo or not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", self.repo):
            raise ReviewerError("--github-webhook needs --repo OWNER/NAME")
        if self.checkout is None:
            raise ReviewerError("--github-webhook needs --checkout (a clone of the repository)")
        secret = os.environ.get(self.secret_env, "")
        if not secret:
            raise ReviewerError(f"${self.secret_env} is not set: the webhook secret"
                                " configured on GitHub")
        self.secret = secret.encode()
        self.token = os.environ.get("GITHUB_TOKEN", "").strip()
        if not self.token:
            raise ReviewerError("GITHUB_TOKEN is not set")
        root, is_git = find_root(self.checkout)
        if not is_git:
            raise ReviewerError(f"--checkout {self.checkout} is not a git repository")
        self.root = root

    def queue(self) -> Any:
        from reviewer.serve.queue import DurableQueue

        path = self.queue_db or self.root / ".reviewer" / "webhook-queue.db"
        return DurableQueue(path, self.review, workers=self.workers,
                            log=lambda line: click.echo(line, err=True))

    def routes(self, queue: Any) -> Any:
        from reviewer.serve.webhook import add_webhook

        assert self.repo is not None
        repo = self.repo
        return lambda app: add_webhook(app, self.secret, repo, queue)

    def limits(self) -> dict[str, int]:
        """GitHub sends payloads of up to 25 MB: the webhook's own body limit."""
        from reviewer.github.webhook import MAX_BODY
        from reviewer.serve.webhook import PATH

        return {PATH: MAX_BODY}

    def review(self, event: Any) -> None:
        """Review one PR head in a worktree of the checkout and publish it."""
        from reviewer.cli.pipeline import explain_result
        from reviewer.github.publish import Publisher, client
        from reviewer.github.review import Settings, review_in_worktree, run_review

        settings = Settings(max_comments=self.max_comments, check_run=self.check_run)

        def warn_line(w: str) -> None:
            click.echo(f"reviewer: serve: warning: {w}", err=True)

        def in_tree(tree: Path) -> None:
            cfg = load_config(tree, None, quiet=True, **self.model)
            publisher = Publisher(client(self.token, self.api_url,
                                         throttle=not self.no_throttle),
                                  event.repo, event.number)

            def enrich(job: Job, result: Result) -> None:
                explain_result(result, job, cfg, quiet=True)

            outcome, result = run_review(publisher, tree, cfg, settings, warn_line, enrich)
            click.echo(f"reviewer: serve: {event.describe()}: {len(result.findings)} findings,"
                       f" {outcome.review_comments} new inline, {outcome.resolved} resolved",
                       err=True)

        review_in_worktree(self.root, event, in_tree)


COMMANDS: tuple[click.Command, ...] = (serve,)
