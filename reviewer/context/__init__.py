"""Repository context for model prompts: an incremental index of the repository.

- :mod:`reviewer.context.chunks` splits files by syntax (no heavy imports);
- :mod:`reviewer.context.indexer` keeps the index in step with the files (``reviewer index``);
- :mod:`reviewer.context.store` is the ChromaDB side (embedded or a server);
- :mod:`reviewer.context.state` records what an embedded index holds (an unchanged
  ``reviewer index`` opens nothing);
- :mod:`reviewer.context.embed` computes embeddings offline: sentence-transformers for many
  texts, :mod:`reviewer.context.minilm` (the same model in numpy) for a few
  (``quick_embedder``);
- :mod:`reviewer.context.retrieve` chooses what a prompt gets for one finding
  (``retrieve_for_finding`` + ``render_context``; ``reviewer context FILE:LINE``);
- :mod:`reviewer.context.style` learns the repository's conventions (``reviewer style``).

Importing this package imports none of ChromaDB, sentence-transformers or torch.
"""

from __future__ import annotations
