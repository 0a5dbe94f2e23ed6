"""Running an application with uvicorn on a socket bound beforehand (port 0 works, a bind
error is one line), stopping on SIGTERM as on Ctrl-C so the caller's clean-up runs."""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable
from typing import Any

from reviewer.errors import ReviewerError


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; ReviewerError when it cannot be had."""
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


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(app: Any, sock: socket.socket, on_stop: Callable[[], None] | None = None) -> None:
    """Serve ``app`` until SIGTERM or Ctrl-C; ``on_stop`` runs when asked to stop.

    uvicorn shuts down gracefully on either signal and then raises it again; with
    SIGTERM mapped to KeyboardInterrupt that ends here, so the caller's ``finally`` runs.
    """
    import uvicorn

    signal.signal(signal.SIGTERM, _interrupt)  # service managers stop with SIGTERM
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                           timeout_graceful_shutdown=10))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        if on_stop is not None:
            on_stop()
    finally:
        sock.close()
