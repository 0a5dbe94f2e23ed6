"""The repository's own conventions, learned from its Python files.

Per file, a few counts are taken with ``ast`` (naming, docstrings and their style, type
hints, how errors are raised and caught, logging, tests, async code, string formatting);
they are cached by content hash (``style-cache.json`` in the index folder), so a refresh
parses only changed files. The summed counts become a profile stored in
``.reviewer/style.json``; :func:`render_style` turns it into a few lines for model prompts
(the docstring rule's fix then follows the repository's docstring style, and so on).
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.context.indexer import IndexSettings

STYLE_FILE = ".reviewer/style.json"
CACHE_NAME = "style-cache.json"
FACTS_VERSION = 2
# A convention is named when at least this share of the cases follows it.
MAJORITY = 0.6

Facts = dict[str, Any]  # counts (int) and name counters (dict[str, int])

_SNAKE = re.compile(r"^_{0,2}[a-z][a-z0-9_]*$")
_CAMEL = re.compile(r"^_{0,2}[a-z]+[A-Z][A-Za-z0-9]*$")
_PASCAL = re.compile(r"^_{0,2}[A-Z][a-zA-Z0-9]*$")
_UPPER = re.compile(r"^_{0,2}[A-Z][A-Z0-9_]*$")
_GOOGLE = re.compile(r"^\s*(Args|Arguments|Returns|Raises|Yields|Attributes|Example|Examples):\s*$",
                     re.M)
_NUMPY = re.compile(r"^\s*(Parameters|Returns|Raises|Yields|Attributes)\s*\n\s*-{3,}\s*$", re.M)
_REST = re.compile(r"^\s*:(param|type|returns?|rtype|raises?)\b[^:]*:", re.M)
_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical"})


# -- one file ------------------------------------------------------------------------------
def _bump(facts: Facts, key: str, n: int = 1) -> None:
    facts[key] = facts.get(key, 0) + n


def _name(facts: Facts, key: str, name: str) -> None:
    bucket = facts.setdefault(key, {})
    bucket[name] = bucket.get(name, 0) + 1


def _docstring_style(doc: str) -> str:
    if _NUMPY.search(doc):
        return "numpy"
    if _GOOGLE.search(doc):
        return "google"
    if _REST.search(doc):
        return "rest"
    return "plain"


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return ""


class _FileFacts(ast.NodeVisitor):
    def __init__(self, is_test: bool) -> None:
        self.facts: Facts = {"files": 1, "test_files": int(is_test)}
        self.is_test = is_test

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        f = self.facts
        _bump(f, "functions")
        public = not node.name.startswith("_")
        name = node.name
        if not (name.startswith("__") and name.endswith("__")):
            if _SNAKE.match(name):
                _bump(f, "functions_snake")
            elif _CAMEL.match(name):
                _bump(f, "functions_camel")
        if isinstance(node, ast.AsyncFunctionDef):
            _bump(f, "async_functions")
        self._docstring(node, public)
        self._annotations(node)
        if self.is_test and name.startswith("test"):
            _bump(f, "test_functions")
        for d in node.decorator_list:
            if _dotted(d).endswith("fixture"):
                _bump(f, "pytest_fixtures")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def _docstring(self, node: ast.AST, public: bool) -> None:
        doc = ast.get_docstring(node, clean=True)  # type: ignore[arg-type]
        if public and not self.is_test:
            _bump(self.facts, "public_defs")
            if doc:
                _bump(self.facts, "public_documented")
        if doc and "\n" in doc:
            _bump(self.facts, f"doc_{_docstring_style(doc)}")

    def _annotations(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        args = [a for a in args if a.arg not in ("self", "cls")]
        if node.args.vararg:
            args.append(node.args.vararg)
        if node.args.kwarg:
            args.append(node.args.kwarg)
        typed = sum(a.annotation is not None for a in args) + (node.returns is not None)
        total = len(args) + 1
        key = "typed_full" if typed == total else "typed_partial" if typed else "typed_none"
        if not self.is_test:
            _bump(self.facts, key)
        for ann in [a.annotation for a in args] + [node.returns]:
            if ann is not None:
                self._annotation_style(ann)

    def _annotation_style(self, ann: ast.expr) -> None:
        for sub in ast.walk(ann):
            if isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.BitOr):
                _bump(self.facts, "union_pipe")
            elif isinstance(sub, ast.Subscript):
                base = _dotted(sub.value).rsplit(".", 1)[-1]
                if base in ("Optional", "Union"):
                    _bump(self.facts, "union_typing")
                elif base in ("List", "Dict", "Set", "Tuple", "FrozenSet", "Type"):
                    _bump(self.facts, "generics_typing")
                elif base in ("list", "dict", "set", "tuple", "frozenset", "type"):
                    _bump(self.facts, "generics_builtin")
            elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                # A string annotation: look inside it too.
                if "|" in sub.value:
                    _bump(self.facts, "union_pipe")
                elif "Optional[" in sub.value:
                    _bump(self.facts, "union_typing")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        f = self.facts
        _bump(f, "classes")
        if _PASCAL.match(node.name):
            _bump(f, "classes_pascal")
        self._docstring(node, not node.name.startswith("_"))
        bases = [_dotted(b) for b in node.bases]
        if any(re.search(r"(Error|Exception|Warning)$", b) for b in bases):
            _name(f, "exceptions_defined", node.name)
            for b in bases:
                _name(f, "exception_bases", b.rsplit(".", 1)[-1])
        if any(b.endswith("TestCase") for b in bases):
            _bump(f, "unittest_classes")
        self.generic_visit(node)

    def visit_Raise(self, node: ast.Raise) -> None:
        if node.exc is not None:
            _bump(self.facts, "raises")
            name = _dotted(node.exc)
            if name and not self.is_test:
                _name(self.facts, "raised", name.rsplit(".", 1)[-1])
            if node.cause is not None:
                _bump(self.facts, "raises_from")
        self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        f = self.facts
        _bump(f, "handlers")
        caught = _dotted(node.type) if node.type is not None else ""
        if node.type is None:
            _bump(f, "bare_except")
        elif caught in ("Exception", "BaseException"):
            _bump(f, "broad_except")
        if all(isinstance(s, (ast.Pass, ast.Continue)) for s in node.body):
            _bump(f, "swallowed")
        if any(isinstance(s, ast.Raise) for s in ast.walk(node)):
            _bump(f, "handlers_reraise")
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._imported(alias.name)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module == "__future__" and any(a.name == "annotations" for a in node.names):
            _bump(self.facts, "future_annotations")
        if node.module and not node.level:
            self._imported(node.module)
        self.generic_visit(node)

    def _imported(self, module: str) -> None:
        top = module.split(".")[0]
        if top in ("pytest", "unittest", "asyncio", "trio", "anyio", "logging", "structlog",
                   "loguru", "typing", "attr", "attrs", "dataclasses", "pydantic", "click",
                   "argparse"):
            _name(self.facts, "imports", top)

    def visit_Assign(self, node: ast.Assign) -> None:
        value = node.value
        if isinstance(value, ast.Call) and _dotted(value.func).endswith("getLogger"):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    _name(self.facts, "logger_names", t.id)
            args = value.args
            arg = _dotted(args[0]) if args else ""
            _name(self.facts, "getlogger_args", arg or "(literal)" if args else "()")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        f = self.facts
        func = node.func
        if isinstance(func, ast.Name) and func.id == "print" and not self.is_test:
            _bump(f, "prints")
        if isinstance(func, ast.Attribute):
            if func.attr in _LOG_METHODS and isinstance(func.value, (ast.Name, ast.Attribute)):
                owner = _dotted(func.value).rsplit(".", 1)[-1].lower()
                if "log" in owner:
                    _bump(f, "log_calls")
                    first = node.args[0] if node.args else None
                    if isinstance(first, ast.JoinedStr):
                        _bump(f, "log_fstring")
                    elif len(node.args) > 1:
                        _bump(f, "log_percent_args")
            if func.attr == "format" and isinstance(func.value, ast.Constant):
                _bump(f, "str_format")
            if self.is_test and func.attr.startswith("assert") and _dotted(func.value) == "self":
                _bump(f, "unittest_asserts")
        self.generic_visit(node)

    def visit_Await(self, node: ast.Await) -> None:
        _bump(self.facts, "awaits")
        self.generic_visit(node)

    def visit_Assert(self, node: ast.Assert) -> None:
        if self.is_test:
            _bump(self.facts, "plain_asserts")
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        _bump(self.facts, "fstrings")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) \
                and isinstance(node.left.value, str):
            _bump(self.facts, "percent_format")
        self.generic_visit(node)


def _is_literal(node: ast.expr | None) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_is_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(_is_literal(e) for e in [*node.keys, *node.values])
    return False


def file_facts(path: str, text: str) -> Facts | None:
    """Counts for one Python file (None when it does not parse)."""
    from reviewer.context.chunks import label_of

    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    visitor = _FileFacts(label_of(path, "python") == "test")
    visitor.visit(tree)
    for node in tree.body:  # module-level names bound to literals: constants
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and _is_literal(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name) and not t.id.startswith("__"):
                    _bump(visitor.facts, "constants_upper" if _UPPER.match(t.id)
                          else "module_names_lower")
    return visitor.facts


def merge(all_facts: Iterable[Facts]) -> Facts:
    """Sum the counts (and name counters) of many files."""
    total: Facts = {}
    for facts in all_facts:
        for key, value in facts.items():
            if isinstance(value, dict):
                bucket: Counter[str] = total.setdefault(key, Counter())
                bucket.update(value)
            else:
                total[key] = total.get(key, 0) + value
    return {k: dict(v) if isinstance(v, Counter) else v for k, v in total.items()}


# -- the profile ---------------------------------------------------------------------------
def _share(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 0.0


def _majority(counts: Mapping[str, int], default: str = "mixed") -> str:
    total = sum(counts.values())
    if not total:
        return "none"
    best = max(counts, key=lambda k: (counts[k], k))
    return best if counts[best] / total >= MAJORITY else default


def _top(counter: Mapping[str, int] | None, n: int = 5) -> list[str]:
    items = sorted((counter or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    return [k for k, _ in items[:n]]


def _project_exceptions(c: Facts, n: int = 8) -> list[str]:
    """The exceptions the project defines, the most used (as a base, raised) first."""
    defined = c.get("exceptions_defined") or {}
    bases, raised = c.get("exception_bases") or {}, c.get("raised") or {}
    return _top({k: 1 + 2 * bases.get(k, 0) + raised.get(k, 0) for k in defined}, n)


def conclude(c: Facts) -> dict[str, Any]:
    """The profile (conventions with the shares behind them) from summed counts."""
    g = c.get
    imports = g("imports", {})
    typed = g("typed_full", 0) + g("typed_partial", 0) + g("typed_none", 0)
    docs = {k: g(f"doc_{k}", 0) for k in ("google", "numpy", "rest", "plain")}
    structured = {k: v for k, v in docs.items() if k != "plain"}
    doc_style = _majority(structured) if sum(structured.values()) >= 2 else (
        "plain" if docs["plain"] else "none")
    framework_counts = {"pytest": g("plain_asserts", 0) + 5 * g("pytest_fixtures", 0)
                        + 5 * imports.get("pytest", 0),
                        "unittest": 5 * g("unittest_classes", 0) + g("unittest_asserts", 0)}
    test_framework = _majority(framework_counts) if g("test_files", 0) else "none"
    return {
        "version": FACTS_VERSION,
        "python_files": g("files", 0),
        "test_files": g("test_files", 0),
        "naming": {
            "functions": _majority({"snake_case": g("functions_snake", 0),
                                    "camelCase": g("functions_camel", 0)}),
            "classes": _majority({"PascalCase": g("classes_pascal", 0),
                                  "other": g("classes", 0) - g("classes_pascal", 0)}),
            "constants": _majority({"UPPER_CASE": g("constants_upper", 0),
                                    "lower_case": g("module_names_lower", 0)}),
        },
        "docstrings": {
            "style": doc_style,
            "public_coverage": _share(g("public_documented", 0), g("public_defs", 0)),
            "counts": docs,
        },
        "typing": {
            "annotated_share": _share(g("typed_full", 0), typed),
            "partly_annotated_share": _share(g("typed_partial", 0), typed),
            "future_annotations_share": _share(g("future_annotations", 0), g("files", 0)),
            "optional": _majority({"X | None": g("union_pipe", 0),
                                   "Optional[X]": g("union_typing", 0)}),
            "generics": _majority({"list[int]": g("generics_builtin", 0),
                                   "List[int]": g("generics_typing", 0)}),
        },
        "errors": {
            "project_exceptions": _project_exceptions(c),
            "most_raised": _top(g("raised"), 6),
            "raise_from_share": _share(g("raises_from", 0), g("raises", 0)),
            "handlers": g("handlers", 0),
            "bare_except": g("bare_except", 0),
            "broad_except": g("broad_except", 0),
            "swallowed": g("swallowed", 0),
        },
        "logging": {
            "library": _top({k: v for k, v in imports.items()
                             if k in ("logging", "structlog", "loguru")}, 1) or ["none"],
            "logger_name": (_top(g("logger_names"), 1) or [""])[0],
            "get_logger_arg": (_top(g("getlogger_args"), 1) or [""])[0],
            "log_calls": g("log_calls", 0),
            "message_format": _majority({"%-style arguments": g("log_percent_args", 0),
                                         "f-strings": g("log_fstring", 0)}),
            "prints_outside_tests": g("prints", 0),
        },
        "tests": {"framework": test_framework, "fixtures": g("pytest_fixtures", 0),
                  "test_functions": g("test_functions", 0)},
        "async": {
            "share": _share(g("async_functions", 0), g("functions", 0)),
            "library": _majority({k: imports.get(k, 0) for k in ("asyncio", "trio", "anyio")}),
        },
        "strings": {"formatting": _majority({"f-strings": g("fstrings", 0),
                                             "str.format": g("str_format", 0),
                                             "%-formatting": g("percent_format", 0)})},
    }


# -- storage -------------------------------------------------------------------------------
def style_path(root: Path) -> Path:
    """Where the profile is stored."""
    return root / STYLE_FILE


def load(root: Path) -> dict[str, Any] | None:
    """The stored profile, or None (missing or unreadable)."""
    try:
        data = json.loads(style_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == FACTS_VERSION else None


def refresh(root: Path, config: Config,
            files: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Learn the profile from the repository's Python files (cached per file) and store it.

    ``files``: every indexable file with its content hash, as an index run just found them
    (``IndexStats.hashes``): the files are then not listed and read again, and when none of
    the Python ones changed the stored profile is returned as it is.
    """
    from reviewer.context.indexer import IndexSettings

    settings = IndexSettings.from_config(root, config)
    cache_file = settings.index_dir / CACHE_NAME
    cache = _read_cache(cache_file)
    fresh, parsed = _facts(root, settings, cache, files)
    if not parsed and fresh.keys() == cache.keys():
        stored = load(root)
        if stored is not None:
            return stored
    from reviewer.fileio import atomic_write_text

    profile = conclude(merge(f for _, f in fresh.values()))
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(cache_file, json.dumps(
        {"version": FACTS_VERSION, "files": {k: [h, f] for k, (h, f) in fresh.items()}}))
    style_path(root).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(style_path(root), json.dumps(profile, indent=2, sort_keys=True) + "\n")
    return profile


def _facts(root: Path, settings: IndexSettings, cache: Mapping[str, tuple[str, Facts]],
           files: Mapping[str, str] | None) -> tuple[dict[str, tuple[str, Facts]], int]:
    """(path -> (hash, facts) of every Python file, how many files were parsed anew)."""
    from reviewer.context.indexer import candidate_files, content_hash, read_text

    if files is None:
        rels = [r for r in candidate_files(root, settings.exclude) if r.endswith(".py")]
    else:
        rels = sorted(r for r in files if r.endswith(".py"))
    fresh: dict[str, tuple[str, Facts]] = {}
    parsed = 0
    for rel in rels:
        hit = cache.get(rel)
        if files is not None and hit is not None and hit[0] == files[rel]:
            fresh[rel] = hit
            continue
        text, _ = read_text(root, rel, settings.max_file_size)
        if text is None:
            continue
        digest = content_hash(text)
        if hit is not None and hit[0] == digest:
            fresh[rel] = hit
            continue
        parsed += 1
        # A file that does not parse counts for nothing, and is not parsed again until it
        # changes: empty facts.
        fresh[rel] = (digest, file_facts(rel, text) or {})
    return fresh, parsed


def _read_cache(path: Path) -> dict[str, tuple[str, Facts]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != FACTS_VERSION:
        return {}
    files = data.get("files", {})
    return {k: (v[0], v[1]) for k, v in files.items()
            if isinstance(v, list) and len(v) == 2 and isinstance(v[1], dict)}


# -- for people and for prompts ------------------------------------------------------------
_DOC_EXAMPLES = {
    "google": "Google style (a summary line, then Args:, Returns:, Raises: sections)",
    "numpy": "NumPy style (a summary line, then Parameters / Returns sections underlined "
             "with dashes)",
    "rest": "reST style (a summary line, then :param x:, :returns:, :raises: fields)",
    "plain": "plain prose (a one-line summary, then a short paragraph; no sections)",
}


Profile = Mapping[str, Any]


def _naming(p: Profile) -> str:
    n = p["naming"]
    return (f"Naming: functions {n['functions']}, classes {n['classes']}, "
            f"constants {n['constants']}.")


def _docstrings(p: Profile) -> str:
    d = p["docstrings"]
    if d["style"] not in _DOC_EXAMPLES:
        return ""
    return (f"Docstrings: {_DOC_EXAMPLES[d['style']]}; {d['public_coverage']:.0%} of public "
            "functions and classes have one.")


def _typing(p: Profile) -> str:
    t = p["typing"]
    if not (t["annotated_share"] or t["partly_annotated_share"]):
        return ""
    extra = []
    if t["optional"] in ("X | None", "Optional[X]"):
        extra.append(f"write {t['optional']}")
    if t["generics"] in ("list[int]", "List[int]"):
        extra.append(t["generics"])
    if t["future_annotations_share"] >= MAJORITY:
        extra.append("files start with `from __future__ import annotations`")
    tail = f" ({'; '.join(extra)})" if extra else ""
    return f"Type hints: {t['annotated_share']:.0%} of functions are fully annotated{tail}."


def _errors(p: Profile) -> str:
    e = p["errors"]
    parts = []
    if e["project_exceptions"]:
        parts.append("the project's own exceptions: " + ", ".join(e["project_exceptions"][:4]))
    if e["most_raised"]:
        parts.append("most raised: " + ", ".join(e["most_raised"][:4]))
    if e["raise_from_share"] >= 0.3:
        parts.append("re-raise with `raise ... from`")
    return "Errors: " + "; ".join(parts) + "." if parts else ""


def _logging(p: Profile) -> str:
    log = p["logging"]
    library = log["library"][0]
    if library == "none":
        return ""
    name, arg = log["logger_name"] or "logger", log["get_logger_arg"] or "__name__"
    how = f"`{name} = logging.getLogger({arg})`" if library == "logging" else library
    fmt = "" if log["message_format"] in ("none", "mixed") \
        else f", messages with {log['message_format']}"
    return f"Logging: {how}{fmt}; no print() in library code."


def _tests(p: Profile) -> str:
    t = p["tests"]
    if t["framework"] in ("none", "mixed"):
        return ""
    return f"Tests: {t['framework']}" + (" with fixtures." if t["fixtures"] else ".")


def _async(p: Profile) -> str:
    a = p["async"]
    if a["share"] < 0.05:
        return ""
    return f"Async: {a['share']:.0%} of functions are async ({a['library']})."


_TOPICS = {"naming": _naming, "docstrings": _docstrings, "typing": _typing,
           "errors": _errors, "logging": _logging, "tests": _tests, "async": _async}


def _lines(p: Profile) -> dict[str, str]:
    """One prompt line per topic that has something to say."""
    lines = {topic: line(p) for topic, line in _TOPICS.items()}
    return {k: v for k, v in lines.items() if v}


# Which topics matter most for a rule (by ID prefix): listed first in the prompt.
_RULE_TOPICS = {
    "RV401": ("docstrings",), "RV402": ("typing",), "RV2": ("errors", "logging"),
    "RV501": ("logging",), "RV3": ("naming",), "RV6": ("errors",),
}


def render_style(profile: Mapping[str, Any] | None, rule_id: str = "",
                 max_lines: int = 4) -> str:
    """A few lines on the repository's conventions for a model prompt ("" without one).

    The topics that matter for ``rule_id`` come first (the docstring style for RV401).
    """
    if not profile or not profile.get("python_files"):
        return ""
    lines = _lines(profile)
    first = next((topics for prefix, topics in sorted(_RULE_TOPICS.items(),
                                                       key=lambda kv: -len(kv[0]))
                  if rule_id.startswith(prefix)), ())
    order = [t for t in first if t in lines] + [t for t in lines if t not in first]
    chosen = [lines[t] for t in order[:max_lines]]
    return "Conventions of this repository (follow them):\n" + "\n".join(
        f"- {line}" for line in chosen) + "\n"


def describe(profile: Mapping[str, Any]) -> str:
    """The profile for people (``reviewer style``)."""
    lines = _lines(profile)
    head = (f"Learned from {profile['python_files']} Python files "
            f"({profile['test_files']} test files).")
    errors = profile["errors"]
    lines["handlers"] = (f"Exception handlers: {errors['handlers']} "
                         f"({errors['broad_except']} catch Exception, {errors['bare_except']} "
                         f"bare, {errors['swallowed']} swallow the error).")
    lines["strings"] = f"String formatting: {profile['strings']['formatting']}."
    return "\n".join([head, *lines.values()])
