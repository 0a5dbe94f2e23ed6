"""Facts about the repository's other files that a per-file rule may use.

Three facts today: which functions and methods of the modules a file imports from the same
repository never return (``-> NoReturn``, bodies that always raise; see
:func:`reviewer.rules._handlers.never_returning`), so that a handler ending in
``self.environment.handle_exception()`` is known to re-raise when ``handle_exception`` is
defined in another module of the project (RV201, RV202); which functions of a module
the root ``pyproject.toml`` declares as console-script entry points (RV501); and which
functions of a module the top-level code of a package's ``__init__.py`` above it calls
while the package is imported, set-up run once (RV103).

A file's result then depends on other files: every imported file whose facts were read is
recorded, with the digest of its content, in :func:`used`. The engine stores that list with
the file's cached outcome and reviews the file again when one of them changed.

The repository root is set by whoever reviews (:func:`project`); without one (a fix being
validated, a snippet) nothing outside the file is read. Imported modules are resolved as
files under the root: relative imports from the file's folder, absolute ones from the root
and from ``src/``. Facts are computed once per file content and process. Other files are
read from the working tree (under pre-commit it equals the staged content); symlinks that
lead out of the repository are not read.
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from weakref import WeakKeyDictionary

from reviewer.digests import blake2b
from reviewer.languages.python import PyContext, dotted_name
from reviewer.rules._handlers import always_raises, never_returning

_ROOT: list[Path | None] = [None]
_USED: list[tuple[str, str]] = []
# What a facts table holds per (root, rel): (stat stamp, digest, the facts).
_Table = dict[tuple[str, str], tuple[tuple[int, int], str, frozenset[str]]]
_FACTS: _Table = {}  # the never-returning names of an imported file
_NAMES: WeakKeyDictionary[PyContext, frozenset[str]] = WeakKeyDictionary()
MAX_IMPORTED = 50  # imported files read per file, at most
MAX_SIZE = 1_000_000  # bytes; bigger imported files are not read


@contextmanager
def project(root: Path | None) -> Iterator[None]:
    """Review files of the repository at ``root`` (None: read no other file)."""
    old = _ROOT[0]
    _ROOT[0] = root
    try:
        yield
    finally:
        _ROOT[0] = old


def start_file() -> None:
    """Forget the other files used so far (called before each file is reviewed)."""
    _USED.clear()


def used() -> tuple[tuple[str, str], ...]:
    """(path, content digest) of every other file whose facts the last file used."""
    return tuple(sorted(set(_USED)))


def digest_of(data: bytes) -> str:
    return blake2b(data, digest_size=16).hexdigest()


def root() -> Path | None:
    """The repository root of the review under way (None: read no other file)."""
    return _ROOT[0]


def record(deps: Sequence[tuple[str, str]]) -> None:
    """Note other files (or folder listings, :func:`folder_key`) the file's result used."""
    _USED.extend(deps)


# A folder's list of files is a dependency too: "<folder>/*<suffix>" (a new Go file in a
# package may call its functions differently).
_LISTING = "/*"


def folder_key(folder: str, suffix: str) -> str:
    """The dependency key of the list of ``*suffix`` files in ``folder`` (root: ".")."""
    return f"{folder.rstrip('/') or '.'}{_LISTING}{suffix}"


def folder_listing(root: Path, folder: str, suffix: str) -> list[str] | None:
    """The sorted names of the plain ``*suffix`` files in ``folder`` (None: unreadable)."""
    found = folder_files(root, folder, suffix)
    return None if found is None else [name for name, _ in found]


def folder_files(root: Path, folder: str, suffix: str
                 ) -> list[tuple[str, tuple[int, int]]] | None:
    """(name, stat stamp) of the plain ``*suffix`` files in ``folder``, sorted by name;
    links are left out (None: the folder is unreadable)."""
    out: list[tuple[str, tuple[int, int]]] = []
    try:
        with os.scandir(root / folder) as entries:
            for entry in entries:
                if entry.name.endswith(suffix) and entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    out.append((entry.name, (st.st_mtime_ns, st.st_size)))
    except OSError:
        return None
    return sorted(out)


def listing_digest(names: Sequence[str]) -> str:
    return digest_of("\0".join(names).encode("utf-8"))


def current_digest(root: Path, rel: str) -> str | None:
    """What a dependency recorded by :func:`used` is now: a file's content digest, or a
    folder listing's (:func:`folder_key`); None when it cannot be read."""
    folder, sep, suffix = rel.rpartition(_LISTING)
    if sep and "/" not in suffix:
        names = folder_listing(root, folder, suffix)
        return None if names is None else listing_digest(names)
    try:
        return digest_of((root / rel).read_bytes())
    except OSError:
        return None


def ends_in_imported_noreturn(ctx: PyContext, body: Sequence[ast.stmt], exc: str = "") -> bool:
    """Whether ``body`` always raises once the imported modules' never-returning functions
    are known (only asked after the file's own facts did not decide)."""
    names = imported_noreturn(ctx)
    return bool(names) and always_raises(body, names | never_returning(ctx), exc)


def imported_noreturn(ctx: PyContext) -> frozenset[str]:
    """Names of functions and methods that never return in the repository modules ``ctx``
    imports, less the names the file defines itself (its own definitions win)."""
    cached = _NAMES.get(ctx)
    if cached is not None:
        _USED.extend(_deps_of(ctx))
        return cached
    root = _ROOT[0]
    names: set[str] = set()
    deps: list[tuple[str, str]] = []
    if root is not None:
        for rel in _imported_files(ctx.path, ctx.tree, root):
            facts = _facts(root, rel)
            if facts is not None:
                deps.append((rel, facts[0]))
                names |= facts[1]
    own = {fn.name for fn in ctx.functions()}
    result = frozenset(names - own)
    _NAMES[ctx] = result
    _DEPS[ctx] = tuple(deps)
    _USED.extend(deps)
    return result


_DEPS: WeakKeyDictionary[PyContext, tuple[tuple[str, str], ...]] = WeakKeyDictionary()


def _deps_of(ctx: PyContext) -> tuple[tuple[str, str], ...]:
    return _DEPS.get(ctx, ())


def _facts(root: Path, rel: str) -> tuple[str, frozenset[str]] | None:
    return _file_facts(root, rel, _FACTS,
                       lambda source, tree: never_returning(PyContext(rel, source, tree)))


def _file_facts(root: Path, rel: str, table: _Table,
                derive: Callable[[str, ast.Module], frozenset[str]]
                ) -> tuple[str, frozenset[str]] | None:
    """(content digest, ``derive(source, tree)``) of the repository's Python file ``rel``,
    kept in ``table`` by its stat stamp: each file is read and parsed once per version.
    None for a file that is missing, too big, not UTF-8 Python, or a link out of the
    repository (not the repository's code)."""
    path = root / rel
    try:
        if path.is_symlink() and not path.resolve().is_relative_to(root.resolve()):
            return None
        st = path.stat()
        if st.st_size > MAX_SIZE:
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        key = (str(root), rel)
        hit = table.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1], hit[2]
        data = path.read_bytes()
        source = data.decode("utf-8")
        tree = ast.parse(source)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
        return None
    digest = digest_of(data)
    facts = derive(source, tree)
    table[key] = (stamp, digest, facts)
    return digest, facts


def _imported_files(rel: str, tree: ast.Module, root: Path) -> list[str]:
    """The repository files (relative paths) of the modules ``tree`` imports."""
    here = PurePosixPath(rel).parent
    out: list[str] = []
    for node in ast.walk(tree):
        modules: list[tuple[PurePosixPath | None, str]] = []
        if isinstance(node, ast.Import):
            modules = [(None, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base: PurePosixPath | None = None
            if node.level:
                base = here
                for _ in range(node.level - 1):
                    base = base.parent
            mod = node.module or ""
            modules = [(base, mod)] + [
                (base, f"{mod}.{a.name}" if mod else a.name) for a in node.names
            ]
        for base, mod in modules:
            for cand in _candidates(base, mod):
                if cand not in out and cand != rel and (root / cand).is_file():
                    out.append(cand)
                    break
        if len(out) >= MAX_IMPORTED:
            break
    return out


def _candidates(base: PurePosixPath | None, module: str) -> list[str]:
    if not module:
        return [] if base is None else [str(base / "__init__.py")]
    parts = module.split(".")
    folders = [base] if base is not None else [PurePosixPath("."), PurePosixPath("src")]
    out = []
    for folder in folders:
        stem = folder.joinpath(*parts)
        out += [f"{stem}.py", str(stem / "__init__.py")]
    return [c.removeprefix("./") for c in out]


# -- import-time calls from the packages' __init__.py ---------------------------------------
# (root, rel) -> (stat stamp, digest, dotted names of the calls its top-level code makes).
_INIT_CALLS: _Table = {}


def package_init_calls(ctx: PyContext) -> frozenset[str]:
    """The functions of ``ctx``'s module that the top-level code of an ``__init__.py`` of a
    package above it calls (``config = utils.backends._setup()`` in ``pkg/__init__.py`` for
    ``pkg/utils/backends.py``, or a name imported from the module): set-up run once, while
    the package is imported. Each ``__init__.py`` read is recorded in :func:`used`."""
    root = _ROOT[0]
    rel = PurePosixPath(ctx.path.replace("\\", "/").removeprefix("./"))
    if root is None or rel.name == "__init__.py" or rel.suffix != ".py":
        return frozenset()
    found: set[str] = set()
    parts = (*rel.parent.parts, rel.stem)
    for depth in range(len(parts) - 1, 0, -1):
        init = PurePosixPath(*parts[:depth]) / "__init__.py"
        module = ".".join(parts[depth:])  # the module, seen from that package
        got = _init_calls(root, str(init))
        if got is None:
            continue
        _USED.append((str(init), got[0]))
        for dotted in got[1]:
            head, _, fn = dotted.rpartition(".")
            if head == module or head.endswith(f".{module}"):
                found.add(fn)
    return frozenset(found)


def _init_calls(root: Path, rel: str) -> tuple[str, frozenset[str]] | None:
    return _file_facts(root, rel, _INIT_CALLS,
                       lambda _source, tree: frozenset(_top_level_calls(tree)))


def _top_level_calls(tree: ast.Module) -> Iterator[str]:
    """Dotted names of the calls the module's own top-level code makes (not inside a
    function or class); a name imported with ``from M import f`` is given as ``M.f``."""
    imported: dict[str, str] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module:
            for a in stmt.names:
                imported[a.asname or a.name] = f"{stmt.module}.{a.name}"
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Call):
            name = dotted_name(node.func)
            if name:
                yield imported.get(name, name)
        stack.extend(ast.iter_child_nodes(node))


# -- console-script entry points --------------------------------------------------------------
_SCRIPT_TABLES = (("project", "scripts"), ("project", "gui-scripts"), ("tool", "poetry", "scripts"))
_SCRIPTS: dict[str, tuple[tuple[int, int], str, dict[str, frozenset[str]]]] = {}


def entry_points(ctx: PyContext) -> frozenset[str]:
    """The functions of ``ctx``'s module that ``pyproject.toml`` at the repository root
    declares as console (or GUI) scripts (``tool = "pkg.cli:main"`` names ``main`` in
    ``pkg/cli.py`` or ``src/pkg/cli.py``); recorded in :func:`used` when the file is read."""
    root = _ROOT[0]
    if root is None:
        return frozenset()
    got = _scripts(root)
    if got is None:
        return frozenset()
    digest, by_module = got
    _USED.append(("pyproject.toml", digest))
    rel = ctx.path.replace("\\", "/").removeprefix("./")
    rel = rel.removeprefix("src/")
    module = rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    return by_module.get(module, frozenset())


def _scripts(root: Path) -> tuple[str, dict[str, frozenset[str]]] | None:
    path = root / "pyproject.toml"
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        hit = _SCRIPTS.get(str(root))
        if hit is not None and hit[0] == stamp:
            return hit[1], hit[2]
        if st.st_size > MAX_SIZE:
            return None
        data = path.read_bytes()
        doc = _toml(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    by_module: dict[str, set[str]] = {}
    for keys in _SCRIPT_TABLES:
        table: object = doc
        for k in keys:
            table = table.get(k, {}) if isinstance(table, dict) else {}
        if not isinstance(table, dict):
            continue
        for target in table.values():
            if isinstance(target, str) and ":" in target:
                module, _, obj = target.partition(":")
                by_module.setdefault(module.strip(), set()).update(
                    p.strip() for p in obj.split("[", 1)[0].split(".") if p.strip()
                )
    result = {m: frozenset(names) for m, names in by_module.items()}
    digest = digest_of(data)
    _SCRIPTS[str(root)] = (stamp, digest, result)
    return digest, result


def _toml(text: str) -> dict[str, object]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    doc: dict[str, object] = tomllib.loads(text)
    return doc
