"""The local model: explanations of findings and fixes that are validated before anyone sees them.

Layout: :mod:`.backend` (the Backend protocol, errors, the factory), one module per backend
(:mod:`.llama_cpp`, :mod:`.openai_compat`, :mod:`.mlx`), :mod:`.prompts` (template files in
``reviewer/templates``), :mod:`.answer` (the JSON schema of an answer and its parser),
:mod:`.validate` (the in-memory validator), :mod:`.cache` (SQLite) and :mod:`.explain`
(the loop that ties them together). Nothing heavy is imported until a model is used.
"""

from __future__ import annotations
