"""``python -m reviewer``."""

from reviewer.cli import run

run()
