"""Workspace folders, the repositories documents belong to, and their configuration.

A document belongs to the git repository that holds it (its top level), found from the
document's folder; a file outside every workspace folder is reviewed all the same, with the
configuration of its own repository. Each repository's configuration is loaded once, again
when ``pyproject.toml`` or ``.reviewer/`` changes, and a configuration that fails to load
keeps the last good one (the error is returned once for the client to show).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from reviewer.config import Config
from reviewer.errors import ReviewerError


@dataclass(frozen=True)
class Place:
    """Where a document's file lies: its repository root and its root-relative path."""

    root: Path
    rel: str
    in_workspace: bool


@dataclass
class Folders:
    """The workspace folders and one configuration per repository root."""

    folders: list[Path] = field(default_factory=list)
    configs: dict[Path, Config] = field(default_factory=dict)
    _roots: dict[Path, Path] = field(default_factory=dict)  # folder of a file -> root

    def set_folders(self, paths: list[Path]) -> None:
        """Replace the workspace folders (files are placed again: a folder that is not a
        repository is the root of the files below it)."""
        self.folders = [p.resolve() for p in paths]
        self._roots.clear()

    def place(self, path: Path) -> Place:
        """The repository and relative path of a file (which need not exist on disk)."""
        path = Path(os.path.abspath(path))
        folder = path.parent
        root = self._roots.get(folder)
        if root is None:
            root = _root_of(folder, self.folders)
            self._roots[folder] = root
        try:
            rel = path.relative_to(root).as_posix()
        except ValueError:
            rel = path.name
        inside = any(_is_within(path, f) for f in self.folders)
        return Place(root, rel, inside)

    def config(self, root: Path) -> tuple[Config, str | None]:
        """The configuration of ``root`` and, on its first load only, the error that made
        it fall back to the defaults (later failures keep the last good one)."""
        got = self.configs.get(root)
        if got is not None:
            return got, None
        cfg, problem = _load(root)
        self.configs[root] = cfg
        return cfg, problem

    def reload(self, root: Path) -> str | None:
        """Read ``root``'s configuration again; on failure keep the last good one and return
        the one-line error."""
        cfg, problem = _load(root)
        if problem is None or root not in self.configs:
            self.configs[root] = cfg
        return problem

    def roots_for(self, changed: Path) -> list[Path]:
        """The loaded roots a changed ``pyproject.toml`` or ``.reviewer/`` file belongs to."""
        changed = Path(os.path.abspath(changed))
        return [r for r in self.configs if _is_within(changed, r)]


def _load(root: Path) -> tuple[Config, str | None]:
    from reviewer import config as config_mod
    from reviewer.engine import selected_rules

    try:
        cfg = config_mod.load(root, None)
        selected_rules(cfg)  # unknown rules and bad rule options fail here, not per keystroke
    except ReviewerError as exc:
        return Config(), " ".join(str(exc).splitlines())
    return cfg, None


def _root_of(folder: Path, workspace: list[Path]) -> Path:
    """The git top level above ``folder``; else the workspace folder holding it; else it."""
    from reviewer.diff import repo_root

    probe = folder
    while not probe.is_dir() and probe != probe.parent:
        probe = probe.parent
    found = repo_root(probe) if probe.is_dir() else None
    if found is not None:
        return found.resolve()
    holders = [w for w in workspace if _is_within(folder, w)]
    if holders:
        return max(holders, key=lambda w: len(w.parts))
    return folder


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents
