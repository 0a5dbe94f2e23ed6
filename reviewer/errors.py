"""The one fatal error type the CLI turns into a short message and an exit code."""

from __future__ import annotations

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class ReviewerError(Exception):
    """A problem the user can fix (bad option, bad config, no repository...).

    The CLI prints ``reviewer: error: <message>`` on one line and exits with ``exit_code``
    (2 unless stated otherwise). Never carries a traceback to the user.
    """

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code
