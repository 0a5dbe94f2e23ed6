"""Commands of issue 6 (learning from the team): work in progress."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add this module's commands to the CLI."""
