"""The deterministic facts of a change: files, definitions, signatures and their callers,
dependencies, tests, scope, size and the findings of ``check`` on the changed lines.

Definitions are matched by qualified name across the whole change, so a function that
left one file for another is "moved", and one whose body reappears under a new name is
"renamed", rather than removed + added.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewer import diff
from reviewer.describe.changes import Change, FileDiff
from reviewer.describe.classify import category, scope
from reviewer.describe.deps import DepChange, compare, is_manifest
from reviewer.describe.readers import reader_for
from reviewer.describe.symbols import Region, Signature, Symbol, SymbolReader

if TYPE_CHECKING:
    from reviewer.config import Config

SCHEMA_VERSION = 1
MAX_CALLERS = 20  # caller locations listed per definition (the count is always complete)
MAX_LISTED_FINDINGS = 10


@dataclass(frozen=True)
class FileFact:
    path: str
    status: str
    category: str
    added: int | None
    deleted: int | None
    old_path: str | None = None
    language: str | None = None
    binary: bool = False


@dataclass
class SymbolFact:
    path: str
    qualname: str
    kind: str
    change: str  # "added", "removed", "changed", "moved", "renamed"
    line: int
    public: bool
    in_tests: bool = False
    old_path: str | None = None
    old_qualname: str | None = None
    old_signature: str | None = None
    signature: str | None = None
    signature_changes: list[str] = field(default_factory=list)
    callers: list[str] = field(default_factory=list)
    callers_total: int = 0

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]


@dataclass
class TestFacts:
    changed_tests: list[str] = field(default_factory=list)
    # qualname -> changed test files that import its module or name it
    tested_alongside: dict[str, list[str]] = field(default_factory=dict)
    # changed public functions no test in the repository names (tested behaviour)
    untested: list[str] = field(default_factory=list)


@dataclass
class Facts:
    change: str
    base: str | None
    files: list[FileFact]
    symbols: list[SymbolFact] = field(default_factory=list)
    dependencies: list[DepChange] = field(default_factory=list)
    tests: TestFacts = field(default_factory=TestFacts)
    scope: str = "empty"
    callers_from: str = "syntax scan"
    findings: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def size(self) -> dict[str, int]:
        return {"files": len(self.files), "added": sum(f.added or 0 for f in self.files),
                "deleted": sum(f.deleted or 0 for f in self.files)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": SCHEMA_VERSION, "change": self.change, "base": self.base,
            "scope": self.scope, "size": self.size,
            "files": [asdict(f) for f in self.files],
            "symbols": [asdict(s) for s in self.symbols],
            "dependencies": [asdict(d) for d in self.dependencies],
            "tests": asdict(self.tests), "callers_from": self.callers_from,
            "findings": self.findings, "warnings": self.warnings,
        }

    def names(self) -> set[str]:
        """Every name the facts mention (what a model's summary may name)."""
        out: set[str] = set()
        for f in self.files:
            for p in (f.path, f.old_path):
                if p:
                    out.add(p)
                    out.add(p.rsplit("/", 1)[-1])
                    out.add(p.rsplit("/", 1)[-1].rsplit(".", 1)[0])
        for s in self.symbols:
            for q in (s.qualname, s.old_qualname):
                if q:
                    out.add(q)
                    out.update(q.split("."))
            for sig in (s.signature, s.old_signature):
                out.update(re.findall(r"[A-Za-z_]\w*", sig or ""))
        for d in self.dependencies:
            out.add(d.name)
            out.add(d.manifest)
        for row in (self.findings or {}).get("listed", []):
            out.update(re.findall(r"[A-Za-z_]\w*", row))
        return out


# -- computing -----------------------------------------------------------------------------
def _decode(data: bytes | None) -> str | None:
    if data is None or b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def collect(change: Change, config: Config | None = None, *, findings: bool = True) -> Facts:
    """The facts of ``change`` (``findings``: also run ``check``'s rules on it)."""
    diffs = change.files()
    olds = change.old_blobs([d.old_path or d.path for d in diffs if d.status != "added"])
    news = change.new_blobs([d.path for d in diffs if d.status != "removed"])
    facts = Facts(change.label, change.old, [], warnings=list(change.warnings))
    texts: dict[str, tuple[str | None, str | None]] = {}
    for d in diffs:
        old_rel = d.old_path or d.path
        old = _decode(olds.get(old_rel)) if d.status != "added" else None
        new = _decode(news.get(d.path)) if d.status != "removed" else None
        texts[d.path] = (old, new)
        reader = reader_for(d.path) or reader_for(old_rel)
        facts.files.append(FileFact(
            d.path, d.status, category(d.path), d.added, d.deleted, d.old_path,
            reader.name if reader else None, d.binary))
        if d.binary:
            facts.warnings.append(f"{d.path}: binary file, compared by status only")
        if is_manifest(d.path) and not d.binary:
            facts.dependencies.extend(compare(d.path, old, new))
    if facts.dependencies:  # a pyproject.toml without dependency changes is configuration
        dep_paths = {x.manifest for x in facts.dependencies}
        facts.files = [f if f.category != "dependencies" or f.path in dep_paths
                       else FileFact(**{**asdict(f), "category": "config"})
                       for f in facts.files]
    else:
        facts.files = [FileFact(**{**asdict(f), "category": "config"})
                       if f.category == "dependencies" and f.path.endswith("pyproject.toml")
                       else f for f in facts.files]
    facts.scope = scope([f.category for f in facts.files])
    facts.symbols = _symbols(diffs, texts, change.hunks(), facts.warnings)
    sources = _Sources(change, {p: t[1] for p, t in texts.items() if t[1] is not None})
    facts.callers_from = _callers(change, config, facts.symbols, sources)
    facts.tests = _tests(facts, texts, sources)
    if findings and config is not None:
        facts.findings = _findings(change, diffs, news, config, facts.warnings)
    return facts


def _symbols(diffs: list[FileDiff], texts: Mapping[str, tuple[str | None, str | None]],
             hunks: Mapping[str, tuple[set[int], set[int]]],
             warnings: list[str]) -> list[SymbolFact]:
    removed: list[tuple[str, Symbol, SymbolReader]] = []
    added: list[tuple[str, Symbol, SymbolReader]] = []
    out: list[SymbolFact] = []
    for d in diffs:
        reader = reader_for(d.path) or reader_for(d.old_path or d.path)
        if reader is None or d.binary:
            continue
        old_text, new_text = texts[d.path]
        if (d.status != "added" and old_text is None) or (
                d.status != "removed" and new_text is None):
            warnings.append(f"{d.path}: not UTF-8 text (or too large to read); its "
                            "definitions are not compared")
            continue
        old_near, new_near = _near(reader, old_text, new_text, hunks.get(d.path))
        old = _read_symbols(reader, old_text, d.old_path or d.path, "old", warnings, old_near)
        new = _read_symbols(reader, new_text, d.path, "new", warnings, new_near)
        if old is None or new is None:
            continue
        in_tests = reader.is_test(d.path)
        for q, sym in new.items():
            before = old.get(q)
            if before is None:
                added.append((d.path, sym, reader))
            elif before.body_hash != sym.body_hash or before.signature != sym.signature:
                out.append(_fact(d.path, sym, "changed", in_tests, before))
        removed.extend((d.old_path or d.path, sym, reader) for q, sym in old.items()
                       if q not in new)
    out += _match(removed, added)
    out.sort(key=lambda s: (s.path, s.line, s.qualname))
    return out


def _near(reader: SymbolReader, old: str | None, new: str | None,
          touched: tuple[set[int], set[int]] | None
          ) -> tuple[list[Region] | None, list[Region] | None]:
    """The top-level regions of both versions the diff touches, plus those defining the
    same names on the other side (None: read the whole version).

    A definition outside them has no changed line, so it cannot have changed: only what
    the diff touches is parsed, which keeps a small change of a large file cheap.
    """
    if old is None or new is None or touched is None:
        return None, None
    old_all, new_all = reader.regions(old), reader.regions(new)
    if not old_all or not new_all:
        return None, None
    old_sel, new_sel = _touched(old_all, new_all, touched)
    # Inside a touched class, only the touched members (and their namesakes) are parsed.
    old_out: list[Region] = [r for r in old_sel if r.kind != "class"]
    new_out: list[Region] = [r for r in new_sel if r.kind != "class"]
    for name in sorted({r.name for r in (*old_sel, *new_sel) if r.kind == "class" and r.name}):
        olds = [r for r in old_sel if r.name == name]
        news = [r for r in new_sel if r.name == name]
        inner = _members(reader, old, olds), _members(reader, new, news)
        if inner[0] is None or inner[1] is None:
            old_out += olds
            new_out += news
            continue
        picked = _touched(inner[0], inner[1], touched)
        old_out += [Region(r.start, r.end, name, "class-own", name) for r in olds] + picked[0]
        new_out += [Region(r.start, r.end, name, "class-own", name) for r in news] + picked[1]
    return old_out, new_out


def _members(reader: SymbolReader, source: str, classes: list[Region]) -> list[Region] | None:
    if len(classes) > 1:
        return None  # a class defined twice: read it whole
    out: list[Region] = []
    for r in classes:
        got = reader.members(source, r)
        if got is None:
            return None
        out += got
    return out


def _touched(old_all: list[Region], new_all: list[Region],
             touched: tuple[set[int], set[int]]) -> tuple[list[Region], list[Region]]:
    """The regions holding a touched line, plus those of the same names on the other side."""
    old_sel = [r for r in old_all if any(r.start <= ln <= r.end for ln in touched[0])]
    new_sel = [r for r in new_all if any(r.start <= ln <= r.end for ln in touched[1])]
    names = {r.name for r in (*old_sel, *new_sel) if r.name}
    old_sel += [r for r in old_all if r.name in names and r not in old_sel]
    new_sel += [r for r in new_all if r.name in names and r not in new_sel]
    return old_sel, new_sel


def _read_symbols(reader: SymbolReader, text: str | None, path: str, side: str,
                  warnings: list[str], near: list[Region] | None = None
                  ) -> dict[str, Symbol] | None:
    if text is None:
        return {}
    got = reader.symbols(text, near)
    if got is None:
        warnings.append(f"{path}: the {side} version does not parse; its definitions are "
                        "not compared")
    return got


def _fact(path: str, sym: Symbol, change: str, in_tests: bool,
          before: Symbol | None = None, old_path: str | None = None) -> SymbolFact:
    fact = SymbolFact(path, sym.qualname, sym.kind, change, sym.line, sym.public, in_tests,
                      signature=sym.signature.text() if sym.signature else None)
    if before is not None:
        if before.qualname != sym.qualname:
            fact.old_qualname = before.qualname
        if old_path is not None and old_path != path:
            fact.old_path = old_path
        if before.signature and sym.signature and before.signature != sym.signature:
            fact.old_signature = before.signature.text()
            fact.signature_changes = signature_changes(before.signature, sym.signature)
    return fact


def _match(removed: list[tuple[str, Symbol, SymbolReader]],
           added: list[tuple[str, Symbol, SymbolReader]]) -> list[SymbolFact]:
    """Moved (same qualified name, another file) and renamed (same body, another name)."""
    out: list[SymbolFact] = []
    by_name: dict[str, list[int]] = defaultdict(list)
    for i, (_, sym, _r) in enumerate(added):
        by_name[sym.qualname].append(i)
    used: set[int] = set()
    left: list[tuple[str, Symbol, SymbolReader]] = []
    for path, sym, reader in removed:
        hits = [i for i in by_name.get(sym.qualname, [])
                if i not in used and _kin(reader, added[i][2])]
        if len(hits) == 1:
            i = hits[0]
            used.add(i)
            new_path, new_sym, _ = added[i]
            out.append(_fact(new_path, new_sym, "moved", reader.is_test(new_path), sym, path))
        else:
            left.append((path, sym, reader))
    by_body: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, (_, sym, _r) in enumerate(added):
        if i not in used:
            by_body[(sym.kind, sym.body_hash)].append(i)
    for path, sym, reader in left:
        hits = [i for i in by_body.get((sym.kind, sym.body_hash), [])
                if i not in used and _kin(reader, added[i][2])]
        if len(hits) == 1:
            i = hits[0]
            used.add(i)
            new_path, new_sym, _ = added[i]
            out.append(_fact(new_path, new_sym, "renamed", reader.is_test(new_path), sym, path))
        else:
            out.append(SymbolFact(path, sym.qualname, sym.kind, "removed", sym.line, sym.public,
                                  reader.is_test(path),
                                  signature=sym.signature.text() if sym.signature else None))
    for i, (path, sym, reader) in enumerate(added):
        if i not in used:
            out.append(_fact(path, sym, "added", reader.is_test(path)))
    return out


def _kin(a: SymbolReader, b: SymbolReader) -> bool:
    """Whether a definition can move between files of these readers (one language family)."""
    js = ("javascript", "typescript")
    return a.name == b.name or (a.name in js and b.name in js)


def signature_changes(old: Signature, new: Signature) -> list[str]:
    """What changed in a signature, one phrase each (parameters by name)."""
    out: list[str] = []
    before = {p.name: p for p in old.params}
    after = {p.name: p for p in new.params}
    gone = [p.name for p in old.params if p.name not in after]
    came = [p.name for p in new.params if p.name not in before]
    renamed: list[tuple[str, str]] = []
    if len(old.params) == len(new.params):
        for a, b in zip(old.params, new.params, strict=True):
            if a.name != b.name and a.name in gone and b.name in came and a.kind == b.kind:
                renamed.append((a.name, b.name))
    for was, now in renamed:
        out.append(f"parameter {was} renamed to {now}")
        gone.remove(was)
        came.remove(now)
    out += [f"parameter {n} removed" for n in gone]
    for n in came:
        p = after[n]
        optional = p.default is not None or p.kind in ("*args", "**kwargs")
        out.append(f"parameter {n} added" + ("" if optional else " (required)"))
    common_old = [p.name for p in old.params if p.name in after]
    common_new = [p.name for p in new.params if p.name in before]
    if common_old != common_new:
        out.append(f"parameters reordered: ({', '.join(common_old)}) -> "
                   f"({', '.join(common_new)})")
    for n in common_new:
        a, b = before[n], after[n]
        if a.default != b.default:
            out.append(f"default of {n}: {a.default or 'none'} -> {b.default or 'none'}")
        if a.kind != b.kind:
            out.append(f"parameter {n}: {a.kind} -> {b.kind}")
        if a.annotation != b.annotation:
            out.append(f"annotation of {n}: {a.annotation or 'none'} -> "
                       f"{b.annotation or 'none'}")
    if old.returns != new.returns:
        out.append(f"return annotation: {old.returns or 'none'} -> {new.returns or 'none'}")
    return out


# -- callers and tests ---------------------------------------------------------------------
class _Sources:
    """The repository's files of a language, new versions, read once on demand."""

    def __init__(self, change: Change, changed: Mapping[str, str]) -> None:
        self.change = change
        self.changed = changed
        self._files: list[str] | None = None
        self._text: dict[str, str | None] = {}

    def files(self) -> list[str]:
        if self._files is None:
            listed = (diff.tracked_files(self.change.root) if self.change.new == "worktree"
                      else _index_files(self.change.root))
            self._files = [f for f in listed if reader_for(f) is not None]
        return self._files

    def text(self, rel: str) -> str | None:
        if rel in self.changed:
            return self.changed[rel]
        if rel not in self._text:
            try:
                self._text[rel] = (self.change.root / rel).read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                self._text[rel] = None
        return self._text[rel]


def _index_files(root: Path) -> list[str]:
    out = diff.git(root, "ls-files", "-z", "--cached").stdout
    return sorted({p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p})


def _wants_callers(s: SymbolFact) -> bool:
    return (s.public and not s.in_tests and s.kind in ("function", "method")
            and (bool(s.signature_changes) or s.change in ("removed", "renamed")))


def _callers(change: Change, config: Config | None, symbols: list[SymbolFact],
             sources: _Sources) -> str:
    wanted = [s for s in symbols if _wants_callers(s)]
    if not wanted:
        return "syntax scan"
    names = sorted({_callee(s) for s in wanted})
    found = _index_callers(change.root, config, names) if config is not None else None
    source = "context index"
    scanned: dict[tuple[str, str], list[str]] = {}
    if found is None:
        source = "syntax scan"
        by_family: dict[str, set[str]] = defaultdict(set)
        for s in wanted:
            by_family[_family(s.path)].add(_callee(s))
        for fam, fam_names in sorted(by_family.items()):
            got = _scan_callers(sources, sorted(fam_names), fam)
            scanned.update(((fam, n), hits) for n, hits in got.items())
    for s in wanted:
        name = _callee(s)
        every = (found.get(name, []) if found is not None
                 else scanned.get((_family(s.path), name), []))
        hits = [h for h in every if not h.startswith(f"{s.path}:{s.line}")]
        s.callers_total = len(hits)
        s.callers = hits[:MAX_CALLERS]
    return source


def _callee(s: SymbolFact) -> str:
    return (s.old_qualname or s.qualname).rsplit(".", 1)[-1]


def _family(path: str) -> str:
    """The language family whose files can call a definition of ``path`` (JavaScript and
    TypeScript call each other)."""
    reader = reader_for(path)
    name = reader.name if reader is not None else ""
    return "js" if name in ("javascript", "typescript") else name


def _scan_callers(sources: _Sources, names: list[str], family: str) -> dict[str, list[str]]:
    """Calls of ``names`` in the repository's files of one language family: the files that
    mention a name followed by ``(`` are parsed and their call expressions matched."""
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\s*\(")
    found: dict[str, list[str]] = defaultdict(list)
    for rel in sources.files():
        if _family(rel) != family:
            continue
        text = sources.text(rel)
        if text is None or not any(n in text for n in names):
            continue
        hits: dict[str, set[int]] = defaultdict(set)
        for m in pattern.finditer(text):
            hits[m.group(1)].add(text.count("\n", 0, m.start()) + 1)
        reader = reader_for(rel)
        if not hits or reader is None:
            continue
        outline = reader.regions(text)
        for name in sorted(hits):
            near = [r for r in outline if any(r.start <= ln <= r.end for ln in hits[name])]
            found[name].extend(f"{rel}:{ln}" for ln in reader.calls(text, name, near or None))
    return found


def _index_callers(root: Path, config: Config, names: list[str]) -> dict[str, list[str]] | None:
    """Callers from the context index (None: no index, or it cannot be read)."""
    if config.chroma_url == "" and not (root / config.index_dir).is_dir():
        return None
    from reviewer.errors import ReviewerError

    try:
        from reviewer.context.indexer import ContextIndex

        index = ContextIndex.open(root, config, vectors=False)
        found: dict[str, list[str]] = {}
        for name in names:
            chunks = index.store.get(where={"calls": {"$contains": name}}, limit=200)
            found[name] = sorted({f"{c.path}:{c.start}" for c in chunks})
        return found
    except (ReviewerError, ImportError, OSError, ValueError, RuntimeError, KeyError):
        return None


def _module(path: str) -> str:
    stem = path.rsplit(".", 1)[0]
    parts = [p for p in stem.split("/") if p not in ("src", "lib")]
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports_module(imported: str, module: str) -> bool:
    """Whether an import names ``module`` (or something inside it)."""
    return imported == module or imported.startswith(module + ".")


def _tests(facts: Facts, texts: Mapping[str, tuple[str | None, str | None]],
           sources: _Sources) -> TestFacts:
    out = TestFacts(changed_tests=[f.path for f in facts.files if f.category == "tests"])
    changed_tests = {p: texts[p][1] or "" for p in out.changed_tests if p in texts}
    imports = {}
    for p, text in changed_tests.items():
        reader = reader_for(p)
        imports[p] = reader.imports(text) if reader is not None else set()
    code = [s for s in facts.symbols
            if not s.in_tests and s.public and s.change != "removed"]
    named = {p: _words(text, {s.name for s in code}) for p, text in changed_tests.items()}
    for s in code:
        module = _module(s.path)
        tests = sorted(p for p in changed_tests
                       if s.name in named[p]
                       or any(_imports_module(m, module) for m in imports[p]))
        if tests:
            out.tested_alongside[s.qualname] = tests
    functions = [s for s in code if s.kind in ("function", "method")
                 and not s.name.startswith("__") and s.qualname not in out.tested_alongside]
    if functions:
        seen: set[str] = set()
        for text in _test_corpus(sources):
            seen |= _words(text, {s.name for s in functions} - seen)
        out.untested = sorted({s.qualname for s in functions if s.name not in seen})
    return out


def _words(text: str, names: set[str]) -> set[str]:
    """Which of ``names`` occur in ``text`` as whole words."""
    present = {n for n in names if n in text}
    if not present:
        return set()
    pattern = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, sorted(present))) + r")(?!\w)")
    return set(pattern.findall(text))


def _test_corpus(sources: _Sources) -> list[str]:
    texts = []
    for rel in sources.files():
        reader = reader_for(rel)
        if reader is not None and reader.is_test(rel):
            text = sources.text(rel)
            if text:
                texts.append(text)
    return texts


# -- findings ------------------------------------------------------------------------------
def _findings(change: Change, diffs: Iterable[FileDiff], news: Mapping[str, bytes],
              config: Config, warnings: list[str]) -> dict[str, Any]:
    from reviewer import engine
    from reviewer.rules import all_rules

    files = [d.path for d in diffs if d.status != "removed" and not d.binary]
    against = change.old or diff.EMPTY_TREE
    args = ["--cached", against] if change.new == "index" else [against]
    raw = diff.git(change.root, "diff", "-U0", "--no-color", "--no-ext-diff", "--no-textconv",
                   "--ignore-submodules=all", "--src-prefix=a/", "--dst-prefix=b/", "-M",
                   "--diff-filter=ACMRT", *args).stdout
    lines = diff.parse_unified_zero(raw)
    changes: diff.Changes = {f: lines.get(f, set()) for f in files}
    contents = {f: news[f] for f in files if f in news} if change.new == "index" else {}
    job = engine.Job(change.root, files, changes=changes, contents=contents)
    result = engine.run(job, config)
    warnings.extend(f"{s.path}: {s.reason}" for s in result.skipped
                    if reader_for(s.path) is not None)
    principle = {rid: r.principle for rid, r in all_rules().items()}
    by_principle: dict[str, Counter[str]] = defaultdict(Counter)
    for f in result.findings:
        by_principle[principle.get(f.rule_id, "taught")][f.severity.label] += 1
    by_severity = Counter(f.severity.label for f in result.findings)
    ordered = sorted(result.findings, key=lambda f: (-f.severity, f.sort_key))
    return {
        "total": len(result.findings),
        "by_severity": dict(sorted(by_severity.items())),
        "by_principle": {k: dict(sorted(v.items())) for k, v in sorted(by_principle.items())},
        "listed": [f"{f.path}:{f.span.line} {f.rule_id} {f.slug} ({f.severity.label})"
                   for f in ordered[:MAX_LISTED_FINDINGS]],
    }
