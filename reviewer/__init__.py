"""reviewer: a local code reviewer for engineering principles.

The package is layered (docs/architecture.md): ``cli`` on top, then the services
(``github``, ``feedback``), then the model, context, reporting and fix layer (``llm``,
``context``, ``report``, ``autofix``), the ``engine``, the ``rules``, the ``languages``, and the
base modules (``config``, ``findings``, ``diff``, ``fileio``, ``errors``, ``hardware``).
"""

__version__ = "0.1.0"
