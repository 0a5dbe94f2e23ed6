"""reviewer: a local code reviewer for engineering principles.

The package is layered (docs/architecture.md): ``cli`` on top, then the services
(``github``, ``feedback``), then the model, context, reporting and fix layer (``llm``,
``context``, ``report``, ``autofix``), the ``engine``, the ``rules``, the ``languages``, and the
base modules (``config``, ``findings``, ``diff``, ``fileio``, ``errors``, ``hardware``).
"""

import atexit

from reviewer import _codecache

__version__ = "0.1.0"

# The methods dataclasses writes for the package's classes are compiled once per Python
# build, not on every run (reviewer/_codecache.py); what a run compiled is kept at exit.
_codecache.install()
atexit.register(_codecache.save)
