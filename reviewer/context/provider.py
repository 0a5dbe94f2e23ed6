"""Repository context for model prompts, as one callable that never fails.

``PromptContext(root, config)(finding, source)`` returns the text for the prompt's
repository-context slot: the repository's conventions (from ``.reviewer/style.json``,
the topics that matter for the finding's rule first) and the retrieved context items. The
first time it sees a file it refreshes that file in the index (when no other process holds
the index lock), so a review sees its own edits.

Any problem (no index yet, a broken index, a missing library) disables retrieval for the
rest of the run and is kept in :attr:`PromptContext.failure` for one warning line; the
style lines still come when there is a profile. ``fast=True`` (e.g. under pre-commit) skips
the refresh and the vector queries, so the embedding model is never loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.context.indexer import ContextIndex
    from reviewer.findings import Finding


class PromptContext:
    """Callable ``(finding, source) -> str`` for the model layer."""

    def __init__(
        self, root: Path, config: Config, *, fast: bool = False, changed: Sequence[str] = ()
    ) -> None:
        self.root = root
        self.config = config
        self.fast = fast
        # Files of the review (``check``'s changed files): refreshed in the index together
        # with the first finding's file, so the prompt sees code the change just added.
        self.changed = list(changed)
        self.failure: str | None = None
        self._index: ContextIndex | None = None
        self._opened = False
        self._refreshed: set[str] = set()
        self._style: dict[str, Any] | None = None
        self._style_loaded = False

    def style_text(self, rule_id: str) -> str:
        """The style lines for a finding of ``rule_id`` ("" without a profile)."""
        from reviewer.context.style import load, render_style

        if not self._style_loaded:
            self._style, self._style_loaded = load(self.root), True
        return render_style(self._style, rule_id)

    def _open(self) -> ContextIndex | None:
        if not self._opened:
            self._opened = True
            from reviewer.context.indexer import ContextIndex

            try:
                self._index = ContextIndex.open(self.root, self.config, vectors=not self.fast)
            except ReviewerError as exc:
                self.failure = str(exc)
            # chromadb raises many types; none may stop a review: one warning line instead.
            except Exception as exc:  # reviewer: ignore[RV202]
                self.failure = f"the repository index failed: {_short(exc)}"
        return self._index

    def _refresh(self, index: ContextIndex, path: str) -> None:
        """Re-index ``path`` (and, the first time, the review's files) where they changed.

        Skipped while another writer holds the lock: the index is then used as it is.
        """
        if self.fast or index.embedder is None:
            return
        todo = [p for p in dict.fromkeys([*self.changed, path]) if p not in self._refreshed]
        if not todo:
            return
        self._refreshed.update(todo)
        from reviewer.context.indexer import update_index
        from reviewer.context.store import index_lock

        try:
            with index_lock(index.settings.index_dir, 0):
                update_index(index, paths=todo)
        except ReviewerError:  # another `reviewer index` is running: use the index as is
            return

    def __call__(self, finding: Finding, source: str) -> str:
        style = self.style_text(finding.rule_id)
        index = self._open()
        if index is None:
            return style
        from reviewer.context.retrieve import Budget, render_context, retrieve

        try:
            self._refresh(index, finding.path)
            lines = (finding.span.line, finding.span.last_line)
            items = retrieve(index, finding.path, source, lines,
                             Budget(self.config.context_tokens))
        except ReviewerError as exc:
            self.failure, self._index = str(exc), None
            return style
        # As above: retrieval problems never stop a review (one warning line instead).
        except Exception as exc:  # reviewer: ignore[RV202]
            self.failure, self._index = f"the repository index failed: {_short(exc)}", None
            return style
        return style + render_context(items)

    def warning(self) -> str | None:
        """One line for the user when retrieval was skipped, else None."""
        if self.failure is None:
            return None
        return f"repository context skipped: {self.failure}"


def _short(exc: BaseException) -> str:
    return (" ".join(str(exc).split()) or type(exc).__name__)[:200]


def refresh_files(root: Path, config: Config, paths: list[str]) -> str | None:
    """Bring ``paths`` up to date in the index (for ``check`` with ``context`` on).

    Only files whose content changed are embedded (the model loads only then). Returns a
    warning line when the index could not be refreshed (no index yet, another writer holds
    the lock, a broken index), else None. Never raises.
    """
    from reviewer.context.indexer import ContextIndex, IndexSettings, update_index
    from reviewer.context.store import index_lock

    settings = IndexSettings.from_config(root, config)
    try:
        with index_lock(settings.index_dir, 0):
            update_index(ContextIndex.open(root, config), paths=paths)
    except ReviewerError as exc:
        return f"repository index not refreshed: {exc}"
    # chromadb raises many types; none may stop a review: one warning line instead.
    except Exception as exc:  # reviewer: ignore[RV202]
        return f"repository index not refreshed: {_short(exc)}"
    return None
