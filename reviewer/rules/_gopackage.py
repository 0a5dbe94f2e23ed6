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
``.go`` files (a new file in the package may call a function with other arguments): the
engine reviews the file again when either changed. Files are parsed once per content and
process; bigger than 1 MB, or more than 200 siblings, and the package is unknown.
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
    listing = _project.folder_listing(root, str(folder), ".go")
    if listing is None or len(listing) > MAX_FILES:
        return None, []
    deps = [(_project.folder_key(str(folder), ".go"), _project.listing_digest(listing))]
    out: list[TSContext] = []
    for name in listing:
        other = str(folder / name) if str(folder) != "." else name
        if other == str(rel):
            continue
        parsed = _parse(root, other)
        if parsed is None:
            return None, []
        digest, sibling = parsed
        deps.append((other, digest))
        if sibling.package_name == ctx.package_name:
            out.append(sibling)
    return out, deps


def _parse(root: Path, rel: str) -> tuple[str, TSContext] | None:
    path = root / rel
    try:
        if path.is_symlink() and not path.resolve().is_relative_to(root.resolve()):
            return None
        st = path.stat()
        if st.st_size > _project.MAX_SIZE:
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        key = (str(root), rel)
        hit = _PARSED.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1], hit[2]
        data = path.read_bytes()
        source = data.decode("utf-8")
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    sibling, _ = GO.parse(rel, source)
    digest = _project.digest_of(data)
    _PARSED[key] = (stamp, digest, sibling)
    return digest, sibling
