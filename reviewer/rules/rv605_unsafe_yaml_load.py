"""RV605: yaml.load without a safe loader."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from reviewer.findings import Finding, Fix, Severity
from reviewer.languages.python import PyContext
from reviewer.rules import _cst
from reviewer.rules._dataflow import Flow, argument, calls, flow
from reviewer.rules.base import Invalid, Rule
from reviewer.sinks import catalogue

SAFE_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})
UNSAFE_LOADERS = frozenset(
    {"Loader", "UnsafeLoader", "CLoader", "CUnsafeLoader", "FullLoader", "CFullLoader"}
)
LOAD_FUNCTIONS = frozenset({"yaml.load", "yaml.load_all"})
# The catalogue's kind this rule reads: functions that always load with an unsafe loader.
KINDS = frozenset({"yaml"})
_LAST_NAMES = frozenset(n.rsplit(".", 1)[-1] for n in LOAD_FUNCTIONS)


class UnsafeYamlLoad(Rule):
    """YAML is loaded without a safe loader, so the document can build arbitrary objects.

    PyYAML's ``Loader``/``UnsafeLoader`` (and, less directly, ``FullLoader``) turn tags such
    as ``!!python/object/apply`` into calls of arbitrary Python callables: loading a
    crafted document runs code (CWE-502). ``yaml.load`` without a loader used this by
    default before PyYAML 6. Use ``yaml.safe_load`` or pass ``Loader=yaml.SafeLoader``
    (``CSafeLoader``, or a subclass of either). A loader chosen at run time that the data
    flow cannot resolve is not reported. ``yaml.unsafe_load``/``full_load`` (and their
    ``_all`` forms) come from the sink catalogue (``reviewer/sinks.toml``, kind
    ``yaml``; add your own with ``[[tool.reviewer.extra-sinks]]``).

    Fix: ``yaml.load(text)`` (the default loader) becomes ``yaml.safe_load(text)``, a safe
    fix; with an explicit unsafe loader, or ``unsafe_load``/``full_load``, the same rewrite
    is unsafe (a document that relied on Python tags no longer loads).
    """

    id = "RV605"
    slug = "unsafe-yaml-load"
    principle = "validate-input"
    severity = Severity.HIGH
    message = "yaml.load without a safe loader lets the document run code."
    counterparts = {"bandit": "B506", "ruff": "S506"}
    options = {"extra_sinks": ()}
    tags = ("security", "deserialization", "external/cwe/cwe-502")
    security_severity = 9.8
    fixable = True
    VALID = [
        "import yaml\n\ndata = yaml.safe_load(text)\n",
        "import yaml\nfrom ruamel.yaml import YAML\n\ndef read(path):\n"
        "    yaml = YAML(typ='safe')\n    return yaml.load(path)\n",
        "import yaml\n\ndocs = list(yaml.safe_load_all(stream))\n",
        "import yaml\n\ndata = yaml.load(text, Loader=yaml.SafeLoader)\n",
        "from yaml import CSafeLoader\nimport yaml\n\ndata = yaml.load(text, CSafeLoader)\n",
        "import yaml\n\nclass Strict(yaml.SafeLoader):\n    pass\n\n"
        "data = yaml.load(text, Loader=Strict)\n",
        "import yaml\n\ndef read(text, loader):\n    return yaml.load(text, Loader=loader)\n",
        "import yaml\n\nLoader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)\n"
        "data = yaml.load(text, Loader=Loader)\n",
        "import yaml\n\nLoader = yaml.SafeLoader\ndata = yaml.load(text, Loader)\n",
        "try:\n    from yaml import CSafeLoader as Loader\nexcept ImportError:\n"
        "    from yaml import SafeLoader as Loader\nimport yaml\n\n"
        "x = yaml.load(s, Loader=Loader)\n",
    ]
    INVALID = [
        Invalid("import yaml\n\ndef read(text):\n    return yaml.load(text)  # config\n",
                line=4,
                fixed="import yaml\n\ndef read(text):\n"
                      "    return yaml.safe_load(text)  # config\n"),
        Invalid("import yaml\n\ndocs = yaml.load_all(text, Loader=yaml.Loader)\n", line=3,
                fixed="import yaml\n\ndocs = yaml.safe_load_all(text)\n"),
        Invalid("from yaml import load, UnsafeLoader\n\nx = load(s, UnsafeLoader)\n", line=3),
        Invalid("import yaml as y\n\nx = y.unsafe_load(s)\n", line=3,
                fixed="import yaml as y\n\nx = y.safe_load(s)\n"),
        Invalid("import yaml\n\nx = yaml.full_load(s)\n", line=3),
        Invalid("import yaml\n\nLOADER = yaml.UnsafeLoader\nx = yaml.load(s, Loader=LOADER)\n",
                line=4),
    ]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        sinks = catalogue(KINDS, tuple(self.settings["extra_sinks"]))
        last_names = _LAST_NAMES | sinks.last_names
        for call in calls(ctx):
            df = flow(ctx)
            if not df.may_call(call, last_names):
                continue
            name = df.qualified_name(call.func)
            method = call.func.attr if isinstance(call.func, ast.Attribute) else None
            base = call.func.value if isinstance(call.func, ast.Attribute) else None
            if isinstance(base, ast.Name) and all(
                b is not None for b in df.bindings(base) or [None]
            ):
                continue  # yaml = YAML(typ="rt"): a variable named like the module, not it
            found = sinks.lookup(name, method) if name not in LOAD_FUNCTIONS else ()
            if found:
                loader = "FullLoader" if "full_load" in name else "UnsafeLoader"
            elif name in LOAD_FUNCTIONS:
                unsafe = _unsafe_loader(df, argument(call, 1, "Loader"))
                if unsafe is None:
                    continue
                loader = unsafe
            else:
                continue
            full = loader in ("FullLoader", "CFullLoader")
            fix = _fix(ctx, call, safe=loader == "the default loader") \
                if name.startswith("yaml.") else None
            yield ctx.report(
                self,
                call,
                f"{name.rsplit('.', 1)[-1]}() with {loader} lets the YAML document"
                f" {'build arbitrary objects' if full else 'run code'};"
                " use yaml.safe_load or Loader=yaml.SafeLoader.",
                severity=Severity.MEDIUM if full else None,
                fix=fix,
            )


_SAFE_NAMES = {"load": "safe_load", "unsafe_load": "safe_load", "full_load": "safe_load",
               "load_all": "safe_load_all", "unsafe_load_all": "safe_load_all",
               "full_load_all": "safe_load_all"}


def _fix(ctx: PyContext, call: ast.Call, safe: bool) -> Fix | None:
    """``yaml.load(s, Loader=...)`` -> ``yaml.safe_load(s)`` (libcst, formatting kept)."""
    if not isinstance(call.func, ast.Attribute) or call.func.attr not in _SAFE_NAMES:
        return None
    if len(call.args) > 2 or any(k.arg != "Loader" for k in call.keywords) \
            or any(isinstance(a, ast.Starred) for a in call.args) or not call.args:
        return None
    if not _cst.available(ctx):
        return None
    stmt, target = _cst.statement_of(ctx, call), _cst.source_of(ctx, call)
    if stmt is None or target is None:
        return None
    import libcst as cst

    new_name = _SAFE_NAMES[call.func.attr]

    def build(node: cst.Call) -> cst.Call | None:
        if not isinstance(node.func, cst.Attribute) or not node.args:
            return None
        first = node.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        func = node.func.with_changes(attr=cst.Name(new_name))
        return node.with_changes(func=func, args=[first])

    edit = _cst.rewrite(ctx, *_cst.lines_of(stmt), _cst.replace_node(target, build))
    return _cst.make_fix(f"Use yaml.{new_name}", edit, safe=safe)


def _unsafe_loader(df: Flow, loader: ast.expr | None, depth: int = 0) -> str | None:
    """The unsafe loader's name, or None when the loader is safe or unknown."""
    if loader is None:
        return "the default loader"
    if isinstance(loader, ast.Name):
        local = _local_class(df, loader)
        if local is not None:
            if depth > 5:
                return None
            for base in local.bases:
                if _unsafe_loader(df, base, depth + 1) is None:
                    return None  # a subclass of a safe (or unknown) loader
            return local.name if local.bases else None
        bound = df.bindings(loader) if loader.id not in df.imports else None
        if bound is not None:  # a variable: unsafe only when every value it gets is
            if depth > 5 or not bound:
                return None
            found = [_unsafe_loader(df, b, depth + 1) if b is not None else None for b in bound]
            return found[0] if all(found) else None
    last = df.qualified_name(loader).rsplit(".", 1)[-1]
    if last in SAFE_LOADERS:
        return None
    return last if last in UNSAFE_LOADERS else None


def _local_class(df: Flow, name: ast.Name) -> ast.ClassDef | None:
    """The class statement named ``name`` in this file, if there is one."""
    for node in df.ctx.nodes(ast.ClassDef):
        if isinstance(node, ast.ClassDef) and node.name == name.id:
            return node
    return None
