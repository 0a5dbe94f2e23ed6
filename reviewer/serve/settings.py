"""What one ``reviewer serve`` process is set up with (a frozen dataclass, no I/O)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from reviewer.errors import ReviewerError

TOKEN_ENV = "REVIEWER_SERVE_TOKEN"
DEFAULT_BODY_LIMIT = 2_000_000  # bytes of one request body
DEFAULT_QUEUE_DEPTH = 8  # requests waiting for the model beyond the ones running
DEFAULT_CONCURRENCY = 1  # requests generating at once (one model in one process)


@dataclass(frozen=True)
class ServeSettings:
    """Settings of the service (the model and the rules come from the repository's config)."""

    root: Path  # the repository whose config, taught principles, index and style are used
    host: str = "127.0.0.1"
    port: int = 8800
    token: str = ""  # "" = no bearer token (allowed on loopback only)
    body_limit: int = DEFAULT_BODY_LIMIT
    queue_depth: int = DEFAULT_QUEUE_DEPTH
    concurrency: int = DEFAULT_CONCURRENCY
    refine_passes: int = 0  # default refinement passes for chat answers (a request may ask)
    max_refine_passes: int = 3  # the most a request may ask for
    log_code: bool = False  # log request code (never by default)
    retry_after: int = 5  # seconds, the Retry-After of a 503
    model_name: str = ""  # the id /v1/models lists ("" = from the backend)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (or ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_token(token_file: Path | None, env: dict[str, str] | None = None) -> str:
    """The bearer token: the token file's first line, else ``$REVIEWER_SERVE_TOKEN``."""
    if token_file is not None:
        try:
            text = token_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ReviewerError(f"cannot read token file {token_file}:"
                                f" {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise ReviewerError(f"token file {token_file} is not UTF-8 text") from None
        token = text.strip().splitlines()[0].strip() if text.strip() else ""
        if not token:
            raise ReviewerError(f"token file {token_file} is empty")
        return token
    return (env if env is not None else dict(os.environ)).get(TOKEN_ENV, "").strip()


def check_bind(settings: ServeSettings) -> None:
    """Refuse settings that would expose the service without a token."""
    if not settings.token and not is_loopback(settings.host):
        raise ReviewerError(
            f"refusing to listen on {settings.host} without a token: set {TOKEN_ENV} or"
            " --token-file (or bind 127.0.0.1)"
        )
    for name, value in (("--body-limit", settings.body_limit),
                        ("--concurrency", settings.concurrency)):
        if value < 1:
            raise ReviewerError(f"{name} must be at least 1 (got {value})")
    if settings.queue_depth < 0:
        raise ReviewerError(f"--queue-depth must be 0 or more (got {settings.queue_depth})")
