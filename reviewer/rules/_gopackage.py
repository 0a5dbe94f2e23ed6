"""The other files of a Go file's package, for the data flow of reviewer/rules/_tsflow.py.

A Go package is one folder: every ``.go`` file there with the same ``package`` clause
(``_test.go`` files of that package included; an external ``p_test`` package is not the
package). Its unexported functions, and every function of ``package main`` (which no
other package can import), can only be called from these files, and its package-level
constants may be declared in any of them. So the whole package answers "is this
parameter only ever given constants?" and "what is this package-level name?".

The repository root comes from reviewer/rules/_project.py (:func:`_project.project`).
Without one (a rule's example, a snippet) the file is its own package. Each sibling file
read is recorded in :func:`_project.used` with its digest, and so is the folder's list of
``.go`` files (a new file of the package may declare or assign the name): the engine
reviews the file again when either changed. Links are not read. Files are parsed once
per content and process; with a file bigger than 1 MB, or more than 200 files, the
package is unknown.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from reviewer.languages.treesitter import GO, TSContext
from reviewer.rules import _project

MAX_FILES = 200
# (root, rel) -> (stat stamp, digest, parsed context) of a sibling file.
_PARSED: dict[tuple[str, str], tuple[tuple[int, int], str, TSContext]] = {}


def package_files(ctx: TSContext) -> list[TSContext] | None:
    """The package's other files, parsed ([] without a root; None when unknown)."""
    if "package_files" not in ctx.memo:
        found, deps = _read_package(ctx)
        ctx.memo["package_files"] = found
        _project.record(deps)
    files: list[TSContext] | None = ctx.memo["package_files"]
    return files


def _read_package(ctx: TSContext) -> tuple[list[TSContext] | None, list[tuple[str, str]]]:
    root = _project.root()
    if root is None:
        return [], []
    rel = PurePosixPath(ctx.path.removeprefix("./"))
    folder = rel.parent
    listing = _project.folder_files(root, str(folder), ".go")
    if listing is None or len(listing) > MAX_FILES:
        return None, []
    names = [name for name, _ in listing]
    deps = [(_project.folder_key(str(folder), ".go"), _project.listing_digest(names))]
    out: list[TSContext] = []
    for name, stamp in listing:
        other = str(folder / name) if str(folder) != "." else name
        if other == str(rel):
            continue
        parsed = _parse(root, other, stamp)
        if parsed is None:
            return None, []
        digest, sibling = parsed
        deps.append((other, digest))
        if sibling.package_name == ctx.package_name:
            out.append(sibling)
    return out, deps


def _parse(root: Path, rel: str, stamp: tuple[int, int]) -> tuple[str, TSContext] | None:
    """A sibling file's digest and parsed context (``stamp``: its stat stamp; a link is
    never listed, :func:`_project.folder_files`)."""
    if stamp[1] > _project.MAX_SIZE:
        return None
    key = (str(root), rel)
    hit = _PARSED.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1], hit[2]
    try:
        data = (root / rel).read_bytes()
        source = data.decode("utf-8")
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    sibling, _ = GO.parse(rel, source)
    digest = _project.digest_of(data)
    _PARSED[key] = (stamp, digest, sibling)
    return digest, sibling
