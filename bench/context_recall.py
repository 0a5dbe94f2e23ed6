"""Retrieval quality: for each call of a project function, is its definition retrieved?

Labels come from static analysis of the project (default flask): a call is labelled with the
definition it certainly refers to when that can be told without running the code:

- ``f()`` where ``f`` is a function or class defined at module level in the same file (and
  not a parameter or local of the calling function);
- ``f()`` where ``f`` was imported (``from pkg.mod import f``, relative imports included)
  from a project module that defines it, following one re-export (``from .app import Flask``
  in a package ``__init__``);
- ``mod.f()`` where ``mod`` is an imported project module that defines ``f``;
- ``self.m()`` inside a method of a class that itself defines ``m``.

Calls inside their own definition (recursion) are left out: that definition is the flagged
code itself. For every labelled call, the repository context for a finding on the call's
line is retrieved (the real index, the real model, no token budget) and the label counts as
found at k when the definition's own chunk (same file, same first line) is among the first k
items.
Target: recall@5 >= 0.9.

Usage: python bench/context_recall.py [--corpus flask] [--sample N] [--write]
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from context_index import WORK, fresh_copy, machine, write_doc  # noqa: E402

KS = (1, 3, 5, 10)


@dataclass(frozen=True)
class Label:
    """A call and the definition it refers to."""
    path: str  # the calling file
    line: int  # the call's line
    kind: str  # local, imported, module-attribute, self-method
    name: str
    def_path: str
    def_line: int  # first line of the definition (decorators included)
    def_end: int


@dataclass
class ModuleInfo:
    """One parsed module of the project."""
    path: str
    module: str
    tree: ast.Module
    source: str
    top: dict[str, ast.stmt]  # module-level functions and classes
    reexports: dict[str, tuple[str, str]]  # name -> (module, name) for `from .x import y`


def first_line(node: ast.stmt) -> int:
    """A definition's first line, decorators included (where its chunk starts)."""
    return min([node.lineno, *(int(d.lineno) for d in getattr(node, "decorator_list", []))])


def resolve_from(info: ModuleInfo, node: ast.ImportFrom) -> str:
    """The absolute module of ``from ... import`` in ``info``."""
    if not node.level:
        return node.module or ""
    package = info.module.split(".")
    if PurePosixPath(info.path).name != "__init__.py":
        package = package[:-1]
    base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
    return ".".join([*base, node.module] if node.module else base)


def load_modules(root: Path, files: Sequence[str]) -> dict[str, ModuleInfo]:
    """Every parsable Python module of the project, by dotted name."""
    from reviewer.context.chunks import module_name

    out: dict[str, ModuleInfo] = {}
    for rel in files:
        if not rel.endswith(".py"):
            continue
        source = (root / rel).read_text(encoding="utf-8")
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        top = {n.name: n for n in tree.body
               if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        info = ModuleInfo(rel, module_name(rel), tree, source, top, {})
        out[info.module] = info
    for info in out.values():
        for node in info.tree.body:
            if isinstance(node, ast.ImportFrom):
                src = resolve_from(info, node)
                for alias in node.names:
                    info.reexports[alias.asname or alias.name] = (src, alias.name)
    return out


def definition(modules: dict[str, ModuleInfo], module: str, name: str,
               hops: int = 2) -> tuple[ModuleInfo, ast.stmt] | None:
    """Where ``module.name`` is defined, following re-exports (None: unknown)."""
    info = modules.get(module)
    if info is None:
        return None
    if name in info.top:
        return info, info.top[name]
    if hops and name in info.reexports:
        src, orig = info.reexports[name]
        return definition(modules, src, orig, hops - 1)
    return None


class Labeller(ast.NodeVisitor):
    """Labels of one module's calls."""

    def __init__(self, info: ModuleInfo, modules: dict[str, ModuleInfo]) -> None:
        self.info = info
        self.modules = modules
        self.labels: list[Label] = []
        self.imported: dict[str, tuple[str, str]] = {}  # local -> (module, name)
        self.module_alias: dict[str, str] = {}  # local -> project module
        self.stack: list[ast.AST] = []
        for node in ast.walk(info.tree):
            if isinstance(node, ast.ImportFrom):
                src = resolve_from(info, node)
                for alias in node.names:
                    local = alias.asname or alias.name
                    if f"{src}.{alias.name}" in modules:
                        self.module_alias[local] = f"{src}.{alias.name}"
                    elif src in modules:
                        self.imported[local] = (src, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in modules and (alias.asname or "." not in alias.name):
                        self.module_alias[alias.asname or alias.name] = alias.name

    def locals_of(self) -> set[str]:
        """Names bound by the enclosing functions (they shadow module-level ones)."""
        names: set[str] = set()
        for fn in self.stack:
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                for node in ast.walk(fn):
                    if isinstance(node, ast.arg):
                        names.add(node.arg)
                    elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                        names.add(node.id)
                    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                           ast.ClassDef)) and node is not fn:
                        names.add(node.name)
        return names

    def generic_visit(self, node: ast.AST) -> None:
        """Visit the children, keeping the stack of enclosing nodes."""
        self.stack.append(node)
        super().generic_visit(node)
        self.stack.pop()

    def add(self, call: ast.Call, kind: str, name: str, where: ModuleInfo,
            target: ast.stmt) -> None:
        """Label ``call`` with ``target`` (not when the call is inside ``target``)."""
        if any(node is target for node in self.stack):
            return  # a call inside its own definition
        self.labels.append(Label(self.info.path, call.lineno, kind, name, where.path,
                                 first_line(target), target.end_lineno or target.lineno))

    def visit_Call(self, node: ast.Call) -> None:
        """Label the calls whose definition is certain."""
        func = node.func
        if isinstance(func, ast.Name) and func.id not in self.locals_of():
            self.name_call(node, func.id)
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            base = func.value.id
            if base in self.module_alias:
                found = definition(self.modules, self.module_alias[base], func.attr)
                if found:
                    self.add(node, "module-attribute", func.attr, *found)
            elif base == "self":
                self.self_call(node, func.attr)
        self.generic_visit(node)

    def name_call(self, node: ast.Call, name: str) -> None:
        """``name()``: defined in this module or imported from the project."""
        if name in self.info.top:
            self.add(node, "local", name, self.info, self.info.top[name])
        elif name in self.imported:
            found = definition(self.modules, *self.imported[name])
            if found:
                self.add(node, "imported", name, *found)

    def self_call(self, node: ast.Call, name: str) -> None:
        """``self.name()``: a method of the enclosing class itself."""
        klass = next((n for n in reversed(self.stack) if isinstance(n, ast.ClassDef)), None)
        if klass is None:
            return
        for member in klass.body:
            if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                    and member.name == name:
                self.add(node, "self-method", name, self.info, member)
                return


def labels_for(root: Path) -> list[Label]:
    """Every labelled call of the project at ``root``."""
    from reviewer.context.indexer import candidate_files

    modules = load_modules(root, candidate_files(root))
    out: list[Label] = []
    for info in modules.values():
        labeller = Labeller(info, modules)
        labeller.visit(info.tree)
        out.extend(labeller.labels)
    return sorted(set(out), key=lambda lb: (lb.path, lb.line, lb.name))


class CachingEmbedder:
    """The index's embedder, remembering vectors of texts already seen."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.memo: dict[str, list[float]] = {}

    @property
    def identity(self) -> str:
        """The inner embedder's identity (the cache changes no vector)."""
        return self.inner.identity  # type: ignore[attr-defined,no-any-return]

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors of ``texts``, each distinct text embedded once."""
        todo = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if todo:
            for t, v in zip(todo, self.inner.embed(todo), strict=True):  # type: ignore[attr-defined]
                self.memo[t] = v
        return [self.memo[t] for t in texts]


def evaluate(name: str, sample: int) -> list[str]:
    """Recall@k on a corpus; the result as Markdown lines."""
    from reviewer.config import Config
    from reviewer.context.indexer import ContextIndex, IndexSettings, make_embedder, update_index
    from reviewer.context.retrieve import Budget, retrieve

    root = WORK / name
    if not (root / ".reviewer/index/chroma").is_dir():
        root = fresh_copy(name)
    settings = IndexSettings.from_config(root, Config())
    index = ContextIndex.open(root, Config(), create=True)
    index.embedder = CachingEmbedder(make_embedder(settings))
    start = time.perf_counter()
    stats = update_index(index)
    print(f"index: {stats.summary()} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    labels = labels_for(root)
    if sample and len(labels) > sample:
        labels = random.Random(0).sample(labels, sample)
    hits: Counter[tuple[str, int]] = Counter()
    kinds: Counter[str] = Counter()
    misses: list[str] = []
    latencies: list[float] = []
    sources: dict[str, str] = {}
    for n, lb in enumerate(labels, 1):
        source = sources.setdefault(lb.path, (root / lb.path).read_text(encoding="utf-8"))
        t0 = time.perf_counter()
        items = retrieve(index, lb.path, source, (lb.line, lb.line), Budget(10**9))
        latencies.append(time.perf_counter() - t0)
        rank = next((i for i, it in enumerate(items, 1)
                     if it.path == lb.def_path and it.start == lb.def_line), None)
        kinds[lb.kind] += 1
        for k in KS:
            if rank is not None and rank <= k:
                hits[(lb.kind, k)] += 1
                hits[("all", k)] += 1
        if rank is None or rank > 5:
            misses.append(f"{lb.path}:{lb.line} {lb.kind} {lb.name} -> "
                          f"{lb.def_path}:{lb.def_line} (rank {rank})")
        if n % 100 == 0:
            print(f"{n}/{len(labels)} recall@5 so far "
                  f"{hits[('all', 5)] / n:.3f}", file=sys.stderr)
    total = len(labels)
    for line in misses[:15]:
        print("miss:", line, file=sys.stderr)
    rows = [f"| all | {total} | " + " | ".join(
        f"{hits[('all', k)] / total:.3f}" for k in KS) + " |"]
    for kind in sorted(kinds):
        rows.append(f"| {kind} | {kinds[kind]} | " + " | ".join(
            f"{hits[(kind, k)] / kinds[kind]:.3f}" for k in KS) + " |")
    return [
        f"Definition recall on {name}/ ({stats.files} files, {stats.chunks_total} chunks): "
        f"{total} calls labelled by static analysis"
        + (f" (a sample of {sample})" if sample else "") + f"; {machine()}:",
        "",
        "| calls | labels | recall@1 | recall@3 | recall@5 | recall@10 |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"Retrieval per call: median {statistics.median(latencies) * 1000:.0f} ms "
        f"(symbol table, caller and docs queries, one vector query; focus embeddings "
        f"cached per function).",
    ]


def main() -> int:
    """Run the benchmark; print (and with --write, record) its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="flask")
    parser.add_argument("--sample", type=int, default=0)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    lines = evaluate(args.corpus, args.sample)
    print("\n".join(lines))
    if args.write:
        write_doc("recall", lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
