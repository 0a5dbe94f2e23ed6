"""What the model should see of the repository for one finding.

For the flagged code (the function, method or statements around the finding's line) four
kinds of context are gathered from the index:

- ``definition``: where the names the flagged code uses are defined, found in the index's
  symbol table (each chunk's ``defines``); names on the flagged lines weigh most, and a
  definition in the module the name was imported from ranks above a namesake elsewhere;
- ``caller``: call sites of the flagged function (chunks whose ``calls`` hold its name);
- ``similar``: the nearest chunks by embedding (how the repository does the same thing);
- ``docs``: documentation sections that mention the flagged function or the names it uses.

The items are ranked by score, deduplicated and trimmed to a token budget (characters / 4
unless a tokenizer is given); :func:`render_context` turns them into prompt text.
"""

from __future__ import annotations

import ast
import builtins
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from reviewer.context.chunks import Chunk, chunk_file, module_name
from reviewer.context.indexer import ContextIndex as ContextIndex
from reviewer.findings import split_lines

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.context.store import Store, StoredChunk
    from reviewer.findings import Finding

TokenCounter = Callable[[str], int]
KINDS = ("definition", "caller", "similar", "docs")
# Names looked up in the symbol table per finding (the heaviest first).
MAX_NAMES = 24
SIMILAR_RESULTS = 8
CALLER_RESULTS = 4
DOCS_RESULTS = 3
# Per item in the rendered text: the header line.
ITEM_OVERHEAD_TOKENS = 12
# An item is cut to fit the budget only if at least this many tokens of it remain.
MIN_PARTIAL_TOKENS = 48
# The largest share of the budget one item may take.
ITEM_SHARE = 0.4
_BUILTINS = frozenset(dir(builtins)) | {"self", "cls", "__name__", "__file__"}


def approx_tokens(text: str) -> int:
    """Characters / 4, rounded up: close enough for English and code."""
    return (len(text) + 3) // 4


@dataclass(frozen=True)
class ContextItem:
    """One piece of repository context, with why it was chosen."""

    kind: str  # definition, caller, similar or docs
    path: str
    start: int
    end: int
    name: str  # qualified name or section title
    label: str  # code, test, docs or config
    text: str
    score: float  # higher first; about 0..1
    why: str
    chunk_id: str = ""
    truncated: bool = False

    @property
    def location(self) -> str:
        """``path:start-end``."""
        return f"{self.path}:{self.start}-{self.end}"

    def as_dict(self) -> dict[str, Any]:
        """The item as plain data (``reviewer context --format json``)."""
        return {"kind": self.kind, "path": self.path, "start": self.start, "end": self.end,
                "name": self.name, "label": self.label, "score": round(self.score, 4),
                "why": self.why, "truncated": self.truncated, "text": self.text}


# -- the flagged code ----------------------------------------------------------------------
@dataclass
class Focus:
    """The code around a finding and the names it uses."""

    path: str
    start: int
    end: int
    text: str
    label: str
    name: str = ""  # qualified name of the enclosing function/class ("" at module level)
    callable_name: str = ""  # the function whose callers are wanted
    klass: str = ""  # qualified name of the enclosing class
    weights: dict[str, float] = field(default_factory=dict)  # used name -> weight
    origins: dict[str, str] = field(default_factory=dict)  # name -> module it comes from
    module: str = ""

    def top_names(self, n: int = MAX_NAMES) -> list[str]:
        """The ``n`` heaviest names."""
        return sorted(self.weights, key=lambda k: (-self.weights[k], k))[:n]


def _innermost(chunks: Sequence[Chunk], line: int) -> Chunk | None:
    inside = [c for c in chunks if c.start <= line <= c.end]
    return min(inside, key=lambda c: (c.end - c.start, -c.start)) if inside else None


def focus_at(path: str, source: str, line: int, end_line: int | None = None,
             root: Path | None = None) -> Focus:
    """The flagged code at ``path:line`` (``end_line``: the last flagged line).

    ``root``: the repository, to tell its own modules from external imports.
    """
    last = max(line, end_line or line)
    chunks = chunk_file(path, source)
    chunk = _innermost([c for c in chunks if c.kind != "class"], line) \
        or _innermost(chunks, line)
    if chunk is None:
        lines = split_lines(source, keepends=True)
        a, b = max(1, line - 10), min(len(lines), last + 10)
        text = "".join(lines[a - 1:b])
        focus = Focus(path, a, b, text, "code")
    else:
        focus = Focus(path, chunk.start, chunk.end, chunk.text, chunk.label, module=chunk.module)
        if chunk.kind in ("function", "method", "class"):
            focus.name = chunk.name
            focus.callable_name = chunk.name.rsplit(".", 1)[-1]
        if chunk.kind == "method":
            focus.klass = chunk.name.rsplit(".", 1)[0]
        elif chunk.kind == "class":
            focus.klass = chunk.name
    if PurePosixPath(path).suffix in (".py", ".pyi"):
        _python_names(focus, source, line, last, root)
    else:
        _plain_names(focus, line, last)
    return focus


def _plain_names(focus: Focus, line: int, last: int) -> None:
    """Identifiers of a non-Python focus (flagged lines weigh more)."""
    import re

    for n, text in enumerate(focus.text.splitlines(), focus.start):
        weight = 3.0 if line <= n <= last else 1.0
        for ident in re.findall(r"[A-Za-z_][A-Za-z0-9_]{2,}", text):
            focus.weights[ident] = max(focus.weights.get(ident, 0.0), weight)


class _Project:
    """Which dotted module names belong to the repository (by the files at its root)."""

    def __init__(self, root: Path | None) -> None:
        self.bases = [root, root / "src", root / "lib"] if root is not None else []
        self._tops: dict[str, bool] = {}

    def owns(self, name: str) -> bool:
        """Whether ``name``'s top-level package or module is the repository's."""
        top = name.split(".")[0]
        if top and top not in self._tops:
            self._tops[top] = any((b / top).is_dir() or (b / f"{top}.py").is_file()
                                  for b in self.bases)
        return bool(top) and self._tops[top]

    def has_module(self, name: str) -> bool:
        """Whether ``name`` is one of the repository's modules (a file or a package)."""
        rel = Path(*name.split("."))
        return any((b / rel).with_suffix(".py").is_file() or (b / rel / "__init__.py").is_file()
                   for b in self.bases)


class _Imports:
    """What each imported name of a module refers to, and which imports are external."""

    def __init__(self, tree: ast.Module, module: str, is_package: bool,
                 project: _Project) -> None:
        self.origin: dict[str, str] = {}  # local name -> module (project modules only)
        self.original: dict[str, str] = {}  # local name -> the imported name (`as` aliases)
        self.modules: dict[str, str] = {}  # alias of an imported project module -> module
        self.external: set[str] = set()  # local names bound to external modules/names
        base = module.split(".") if module else []
        self.package = base if is_package else base[:-1]
        self.project = project
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                self.add_import(node)
            elif isinstance(node, ast.ImportFrom):
                self.add_import_from(node)

    def add_import(self, node: ast.Import) -> None:
        """``import a.b`` / ``import a.b as c``."""
        for alias in node.names:
            local = alias.asname or alias.name.split(".")[0]
            if self.project.owns(alias.name):
                self.modules[local] = alias.name if alias.asname else local
            else:
                self.external.add(local)

    def add_import_from(self, node: ast.ImportFrom) -> None:
        """``from x import y``: y is a project module, a project name or external."""
        source = node.module or ""
        if node.level:
            package = self.package
            up = package[:len(package) - (node.level - 1)] if node.level > 1 else package
            source = ".".join([*up, source] if source else up)
        for alias in node.names:
            local = alias.asname or alias.name
            if not (node.level or self.project.owns(source)):
                self.external.add(local)
            elif self.project.has_module(f"{source}.{alias.name}".strip(".")):
                self.modules[local] = f"{source}.{alias.name}".strip(".")
            else:
                self.origin[local] = source
                self.original[local] = alias.name


def _python_names(focus: Focus, source: str, line: int, last: int,
                  root: Path | None = None) -> None:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        _plain_names(focus, line, last)
        return
    is_package = PurePosixPath(focus.path).name == "__init__.py"
    imports = _Imports(tree, module_name(focus.path), is_package, _Project(root))
    region = [n for n in ast.walk(tree)
              if isinstance(n, ast.stmt) and focus.start <= n.lineno
              and (n.end_lineno or n.lineno) <= focus.end]
    collector = _Collector(focus, imports, _locally_bound(region), (line, last))
    for stmt in region:
        for node in ast.iter_child_nodes(stmt):
            collector.collect(node)


def _locally_bound(region: Sequence[ast.stmt]) -> set[str]:
    """Parameters and names assigned inside the flagged code (not definitions to look up)."""
    out: set[str] = set()
    for stmt in region:
        for node in ast.walk(stmt):
            if isinstance(node, ast.arg):
                out.add(node.arg)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                out.add(node.id)
    return out


class _Collector:
    """Adds the names used below a node to a Focus, weighted."""

    def __init__(self, focus: Focus, imports: _Imports, local: set[str],
                 flagged: tuple[int, int]) -> None:
        self.focus = focus
        self.imports = imports
        self.local = local
        self.flagged = flagged

    def collect(self, node: ast.AST) -> None:
        """Weigh every name used below ``node``."""
        calls = {id(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)}
        first, last = self.flagged
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
                name = self.plain_name(sub.id)
            elif isinstance(sub, ast.Attribute):
                name = self.attribute(sub)
            else:
                continue
            if name is None or name.startswith("__"):
                continue
            weight = 3.0 if first <= getattr(sub, "lineno", 0) <= last else 1.0
            if id(sub) in calls:
                weight *= 1.5
            self.focus.weights[name] = self.focus.weights.get(name, 0.0) + weight

    def plain_name(self, ident: str) -> str | None:
        """The name to look up for a plain name (None: local, external or builtin)."""
        imports = self.imports
        if ident in self.local or ident in imports.external or ident in imports.modules:
            return None
        if ident in _BUILTINS and ident not in imports.origin:
            return None  # a builtin, unless a project module's name shadows it
        name = imports.original.get(ident, ident)
        if ident in imports.origin:
            self.focus.origins[name] = imports.origin[ident]
        return name

    def attribute(self, node: ast.Attribute) -> str | None:
        """The name to look up for ``base.attr`` (None when base is external)."""
        base = node.value.id if isinstance(node.value, ast.Name) else ""
        imports = self.imports
        if base in imports.external:
            return None
        if base in imports.modules:
            self.focus.origins[node.attr] = imports.modules[base]
        return node.attr


# -- the index ------------------------------------------------------------------------------
def shared_index(root: Path, config: Config) -> ContextIndex:
    """The index of ``root``, opened once per process (with its embedding model)."""
    return _open_shared(str(root), config.index_dir, config.chroma_url,
                        config.embedding_model, config.embedding_batch_size)


@lru_cache(maxsize=4)
def _open_shared(root: str, index_dir: str, chroma_url: str, model: str,
                 batch_size: int) -> ContextIndex:
    from reviewer.config import Config

    config = Config(index_dir=index_dir, chroma_url=chroma_url, embedding_model=model,
                    embedding_batch_size=batch_size)
    return ContextIndex.open(Path(root), config)


# -- retrieval ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Budget:
    """How much context a prompt takes: tokens, counted by ``count``."""

    tokens: int
    count: TokenCounter = approx_tokens


def retrieve_for_finding(root: Path, finding: Finding, source: str,
                         budget_tokens: int | None = None,
                         config: Config | None = None) -> list[ContextItem]:
    """Repository context for ``finding`` (whose file reads ``source``), best first.

    ``budget_tokens`` defaults to ``context-tokens`` of ``config``. The index is opened
    once per process. Raises ReviewerError (IndexMissing when ``reviewer index`` never
    ran, or a broken index or embedding model); callers that must not fail catch it.
    """
    from reviewer.config import Config

    cfg = config or Config()
    budget = Budget(cfg.context_tokens if budget_tokens is None else budget_tokens)
    lines = (finding.span.line, finding.span.last_line)
    return retrieve(shared_index(root, cfg), finding.path, source, lines, budget)


def retrieve(index: ContextIndex, path: str, source: str, lines: tuple[int, int],
             budget: Budget) -> list[ContextItem]:
    """Repository context for lines ``lines`` (first, last) of ``path``, best first."""
    focus = focus_at(path, source, lines[0], lines[1], index.settings.root)
    return trim(rank(gather(index, focus)), budget.tokens, budget.count)


def gather(index: ContextIndex, focus: Focus) -> list[ContextItem]:
    """Every candidate item (unranked, possibly repeated)."""
    store = index.store
    items = _definitions(store, focus)
    vector = index.vector(f"{focus.path} {focus.name}\n{focus.text}")
    if focus.callable_name:
        items += _callers(store, focus, vector)
    if vector is not None:
        items += _similar(store, focus, vector)
    items += _docs(store, focus, vector)
    return items


def _overlaps(c: StoredChunk, focus: Focus) -> bool:
    return c.path == focus.path and c.start <= focus.end and focus.start <= c.end


def _item(c: StoredChunk, kind: str, score: float, why: str) -> ContextItem:
    return ContextItem(kind, c.path, c.start, c.end, c.name, c.label, c.text, score, why, c.id)


def _or(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def _definitions(store: Store, focus: Focus) -> list[ContextItem]:
    """Definitions of the names the flagged code uses, and its enclosing class."""
    names = focus.top_names()
    items: list[ContextItem] = []
    if names:
        top = max(focus.weights.values())
        for name, chunks in _defined(store, names).items():
            items.extend(_definition(c, name, focus, focus.weights[name] / top, len(chunks))
                         for c in chunks if not _overlaps(c, focus))
    if focus.klass:
        for c in store.get(where={"$and": [{"path": focus.path}, {"name": focus.klass}]}):
            if c.name != focus.name:
                items.append(_item(c, "definition", 0.62, "the enclosing class"))
    return items


def _defined(store: Store, names: list[str]) -> dict[str, list[StoredChunk]]:
    """name -> the chunks that define it (the symbol table)."""
    found = store.get(where=_or([{"defines": {"$contains": n}} for n in names]))
    wanted = set(names)
    out: dict[str, list[StoredChunk]] = {}
    for c in found:
        for n in c.defines:
            if n in wanted:
                out.setdefault(n, []).append(c)
    return out


def _definition(c: StoredChunk, name: str, focus: Focus, weight: float,
                namesakes: int) -> ContextItem:
    resolution, how = _resolution(c, name, focus)
    score = 0.55 + 0.25 * weight + 0.2 * resolution - 0.04 * math.log2(namesakes)
    if c.label == "test" and focus.label != "test":
        score -= 0.15
    return _item(c, "definition", score, f"defines `{name}`{how}")


def _resolution(c: StoredChunk, name: str, focus: Focus) -> tuple[float, str]:
    """How surely ``c`` is the definition the flagged code means: (-0.5..1, reason)."""
    if focus.klass and c.path == focus.path and c.name == f"{focus.klass}.{name}":
        return 1.0, " in the same class"
    origin = focus.origins.get(name)
    if origin:
        return _module_match(c.module, origin)
    return (0.7, " in the same file") if c.path == focus.path else (0.0, "")


def _module_match(module: str, origin: str) -> tuple[float, str]:
    """How well a definition's module matches the module a name was imported from."""
    if module == origin:
        return 1.0, f", imported from {origin}"
    if module.startswith(origin + "."):
        return 0.6, f" (re-exported by {origin})"
    if origin.startswith(module + "."):
        return 0.6, f", from {module}"
    return -0.5, ""


def _callers(store: Store, focus: Focus, vector: list[float] | None) -> list[ContextItem]:
    name = focus.callable_name
    where = {"calls": {"$contains": name}}
    if vector is not None:
        found = store.query(vector, CALLER_RESULTS + 2, where=where)
    else:
        found = store.get(where=where, limit=CALLER_RESULTS + 2)
    items = []
    for c in found:
        if _overlaps(c, focus):
            continue
        similarity = 1.0 - c.distance if c.distance is not None else 0.5
        items.append(_item(c, "caller", 0.45 + 0.3 * similarity, f"calls `{name}`"))
    return items[:CALLER_RESULTS]


def _similar(store: Store, focus: Focus, vector: list[float]) -> list[ContextItem]:
    labels = ["code", "test"] if focus.label in ("code", "test") else [focus.label]
    where = {"label": {"$in": labels}}
    items = []
    for c in store.query(vector, SIMILAR_RESULTS + 2, where=where):
        if _overlaps(c, focus):
            continue
        similarity = 1.0 - (c.distance or 0.0)
        items.append(_item(c, "similar", 0.7 * similarity, f"similar code ({similarity:.2f})"))
    return items[:SIMILAR_RESULTS]


def _docs(store: Store, focus: Focus, vector: list[float] | None) -> list[ContextItem]:
    terms = [focus.callable_name] if focus.callable_name else []
    terms += [n for n in focus.top_names(4) if n not in terms and len(n) > 3]
    if not terms:
        return []
    where_doc = _or([{"$contains": t} for t in terms[:4]])
    where = {"label": "docs"}
    if vector is not None:
        found = store.query(vector, DOCS_RESULTS, where=where, where_document=where_doc)
    else:
        found = store.get(where=where, where_document=where_doc, limit=DOCS_RESULTS)
    items = []
    for c in found:
        mentioned = [t for t in terms if t in c.text]
        similarity = 1.0 - c.distance if c.distance is not None else 0.5
        items.append(_item(c, "docs", 0.35 + 0.3 * similarity,
                           "mentions " + ", ".join(f"`{t}`" for t in mentioned[:3])))
    return items


# -- ranking and the budget ----------------------------------------------------------------
def rank(items: Iterable[ContextItem]) -> list[ContextItem]:
    """Best first; one item per chunk (its best score, all its reasons)."""
    best: dict[str, ContextItem] = {}
    reasons: dict[str, list[str]] = {}
    for item in items:
        key = item.chunk_id or f"{item.path}:{item.start}"
        reasons.setdefault(key, [])
        if item.why not in reasons[key]:
            reasons[key].append(item.why)
        if key not in best or item.score > best[key].score:
            best[key] = item
    out = [replace(it, why="; ".join(reasons[k])) for k, it in best.items()]
    out.sort(key=lambda it: (-it.score, KINDS.index(it.kind), it.path, it.start))
    return out


def trim(items: Sequence[ContextItem], budget: int,
         count_tokens: TokenCounter = approx_tokens) -> list[ContextItem]:
    """The best items that fit in ``budget`` tokens.

    No item takes more than ``ITEM_SHARE`` of the budget (a long one is cut to its first
    lines), so one big class cannot crowd out everything else.
    """
    out: list[ContextItem] = []
    left = budget
    cap = max(MIN_PARTIAL_TOKENS, int(budget * ITEM_SHARE))
    for item in items:
        room = min(cap, left) - ITEM_OVERHEAD_TOKENS
        if room < MIN_PARTIAL_TOKENS and count_tokens(item.text) > room:
            continue
        if count_tokens(item.text) > room:
            if item.kind == "similar":  # an excerpt of look-alike code helps little
                continue
            text = _cut(item.text, room, count_tokens)
            if not text:
                continue
            end = item.start + text.count("\n") - 1
            item = replace(item, text=text, end=max(item.start, end), truncated=True)
        out.append(item)
        left -= count_tokens(item.text) + ITEM_OVERHEAD_TOKENS
    return out


def _cut(text: str, tokens: int, count_tokens: TokenCounter) -> str:
    """Whole leading lines of ``text`` within ``tokens``."""
    kept: list[str] = []
    used = 0
    for line in text.splitlines(keepends=True):
        cost = count_tokens(line)
        if used + cost > tokens:
            break
        kept.append(line)
        used += cost
    return "".join(kept)


def render_context(items: Sequence[ContextItem]) -> str:
    """Prompt text for the items ("" when there are none)."""
    if not items:
        return ""
    parts = ["Context from this repository (for reference only; rewrite only the code "
             "shown after it):"]
    titles = {"definition": "definition", "caller": "caller", "similar": "similar code",
              "docs": "docs"}
    for it in items:
        cut = " (cut)" if it.truncated else ""
        parts.append(f"[{titles[it.kind]}] {it.location} {it.name}{cut}")
        parts.append(it.text.rstrip("\n"))
    return "\n".join(parts) + "\n"
