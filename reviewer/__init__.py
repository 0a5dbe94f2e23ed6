"""reviewer: a local code reviewer for engineering principles."""

__version__ = "0.1.0"
