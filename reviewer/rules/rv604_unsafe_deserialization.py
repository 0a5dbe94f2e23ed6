"""RV604: deserializing with pickle and friends, which run code from the data."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PyContext
from reviewer.rules._dataflow import Flow, calls, flow, keyword
from reviewer.rules.base import Invalid, Rule
from reviewer.sinks import Sink, catalogue

_PICKLES = ("pickle", "cPickle", "_pickle", "dill", "cloudpickle")
# The catalogue's kind this rule reads (a sink with a guard is safe with guard=<safe>).
KINDS = frozenset({"deserialization"})
# Serializers: data they just produced in this process is not untrusted input.
SERIALIZERS = frozenset(
    {f"{m}.dumps" for m in (*_PICKLES, "marshal")} | {"jsonpickle.encode", "jsonpickle.dumps"}
)
# Sinks whose first argument is the serialized data itself (not a file).
DATA_SINKS = frozenset(
    {f"{m}.loads" for m in (*_PICKLES, "marshal")}
    | {"jsonpickle.decode", "jsonpickle.unpickler.decode", "pandas.read_pickle"}
)


class UnsafeDeserialization(Rule):
    """Data is deserialized with pickle (or a format built on it), which runs code from it.

    Unpickling calls whatever callables the data names: a crafted pickle, shelf, marshal,
    dill or jsonpickle payload, a pandas pickle or a ``torch.load`` checkpoint runs arbitrary
    code when loaded (CWE-502). Only load such data from a source as trusted as the code
    itself; for anything else use JSON, ``torch.load(..., weights_only=True)`` or
    ``numpy.load`` without ``allow_pickle``.

    The finding is on the call that deserializes, not on ``import pickle`` (bandit's B403):
    importing the module, or calling ``pickle.dumps``, is harmless, and the call is where the
    decision about trust is made and where a fix goes. A round trip inside the process,
    ``pickle.loads(pickle.dumps(obj))`` or ``data = pickle.dumps(obj)`` then
    ``pickle.loads(data)`` in the same scope (the usual deep copy or pickling test), loads
    nothing from outside and is not reported (``strict = true`` reports it, as bandit does).
    Nor is the object's own private state when this file only ever stores a serializer's
    output there: ``self._meta = dumps(meta)`` then ``loads(self._meta)``, or an in-memory
    cache whose ``self._cache[key]`` only ever holds ``pickle.dumps(...)`` (also through a
    private helper, ``self._set(key, pickled)``). A private attribute is written by its own
    module only, so its value never came from a file, a socket or a caller. A cache that
    stores its pickles outside the process (files, a database, redis) is still reported:
    whoever can write there can run code in the process. Data written in the source
    (``jsonpickle.decode('{"a": 1}')``, a module constant) is as trusted as the code
    around it and is not reported either.

    The loaders come from the sink catalogue (``reviewer/sinks.toml``, kind
    ``deserialization``; add your own with ``[[tool.reviewer.extra-sinks]]``): ``pickle``,
    ``cPickle``, ``_pickle``, ``dill``, ``cloudpickle``, ``marshal``, ``shelve``,
    ``jsonpickle``, ``pandas.read_pickle``, ``joblib.load``, ``torch.load`` without
    ``weights_only=True`` and ``numpy.load`` with ``allow_pickle=True``.
    """

    id = "RV604"
    local_fix = False  # data from elsewhere needs another format, not a local edit
    slug = "unsafe-deserialization"
    principle = "validate-input"
    severity = Severity.HIGH
    message = "Deserializing with pickle (or a format built on it) runs code from the data."
    counterparts = {"bandit": "B301, B614", "ruff": "S301"}
    options = {"strict": False, "extra_sinks": ()}
    tags = ("security", "deserialization", "external/cwe/cwe-502")
    security_severity = 9.8
    VALID = [
        "import pickle\n\ndef save(obj):\n    return pickle.dumps(obj)\n",
        "import json\n\ndef load(text):\n    return json.loads(text)\n",
        "import jsonpickle\n\nDEFAULT = jsonpickle.decode('{\"a\": 1}')\n",
        "import torch\n\nmodel = torch.load('w.pt', map_location='cpu', weights_only=True)\n",
        "import numpy as np\n\narr = np.load('a.npy')\n",
        "class Store:\n    def loads(self, data):\n        return data\n\nStore().loads(b'x')\n",
        "import pickle\n\ndef copy(obj):\n    return pickle.loads(pickle.dumps(obj))\n",
        "import pickle\n\ndef test_pickles(obj):\n    data = pickle.dumps(obj, 2)\n"
        "    assert pickle.loads(data) == obj\n",
        "import marshal\n\ndef code_bytes(fn):\n    return marshal.dumps(fn.__code__)\n",
        "import pandas as pd\n\ndf = pd.read_parquet('data.parquet')\n",
        "import numpy as np\n\narr = np.load('a.npy', allow_pickle=False)\n",
        # The object's own private state, only ever filled by a serializer in this file.
        "from marshal import dumps, loads\n\nclass Style:\n    def __init__(self, meta=None):\n"
        "        self._meta = None if meta is None else dumps(meta)\n\n"
        "    def combine(self, other):\n        new = Style()\n"
        "        new._meta = self._meta or other._meta\n        return new\n\n"
        "    @property\n    def meta(self):\n"
        "        return {} if self._meta is None else loads(self._meta)\n",
        "import pickle\n\nclass MemCache:\n    def __init__(self):\n        self._cache = {}\n\n"
        "    def set(self, key, value):\n        pickled = pickle.dumps(value)\n"
        "        self._set(key, pickled)\n\n    def _set(self, key, value):\n"
        "        self._cache[key] = value\n\n    def get(self, key):\n"
        "        pickled = self._cache[key]\n        return pickle.loads(pickled)\n\n"
        "    def incr(self, key):\n        pickled = self._cache[key]\n"
        "        value = pickle.loads(pickled) + 1\n        pickled = pickle.dumps(value)\n"
        "        self._cache[key] = pickled\n",
    ]
    INVALID = [
        Invalid("import pickle\n\ndef load(data):\n    return pickle.loads(data)\n", line=4),
        Invalid("from pickle import loads as lp\n\nobj = lp(blob)\n", line=3),
        Invalid("import dill\n\nwith open('f', 'rb') as fh:\n    obj = dill.load(fh)\n", line=4),
        Invalid("import shelve\n\nwith shelve.open('db') as db:\n    print(db['k'])\n", line=3),
        Invalid("import torch\n\nstate = torch.load('w.pt')\n", line=3),
        Invalid("import torch\n\nstate = torch.load('w.pt', weights_only=False)\n", line=3),
        Invalid("import pandas as pd\n\ndf = pd.read_pickle(path)\n", line=3),
        Invalid("import jsonpickle\n\ndef load(text):\n    return jsonpickle.decode(text)\n",
                line=4),
        Invalid("import numpy\n\nx = numpy.load(f, allow_pickle=True)\n", line=3),
        Invalid(
            "import pickle\n\ndata = pickle.dumps(obj)\ndata = receive()\n"
            "obj = pickle.loads(data)\n",
            line=5,
        ),
        Invalid(
            "import pickle\n\nclone = pickle.loads(pickle.dumps(obj))\n",
            line=3, options={"strict": True},
        ),
        Invalid("import marshal\n\ndef load(blob):\n    return marshal.loads(blob)\n", line=4),
        Invalid("import cPickle\n\ndef load(fh):\n    return cPickle.load(fh)\n", line=4),
        Invalid("import joblib\n\nmodel = joblib.load(path)\n", line=3),
        Invalid("import shelve\n\ndb = shelve.DbfilenameShelf(path)\n", line=3),
        Invalid("import _pickle\n\ndef f(b):\n    return _pickle.Unpickler(b).load()\n", line=4),
        # Own state, but one store is not a serializer's output (a caller's bytes, a file).
        Invalid(
            "import pickle\n\nclass MemCache:\n    def put_raw(self, key, blob):\n"
            "        self._cache[key] = blob\n\n    def set(self, key, value):\n"
            "        self._cache[key] = pickle.dumps(value)\n\n    def get(self, key):\n"
            "        return pickle.loads(self._cache[key])\n",
            line=11,
        ),
        Invalid(
            "import pickle\n\nclass Disk:\n    def load(self):\n"
            "        self._blob = open(self.p, 'rb').read()\n"
            "        return pickle.loads(self._blob)\n",
            line=6,
        ),
        Invalid(
            "import pickle\n\nclass C:\n    def __init__(self, data):\n"
            "        self.state = pickle.dumps(data)\n    def get(self):\n"
            "        return pickle.loads(self.state)\n",
            line=7,
        ),
    ]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        sinks = catalogue(KINDS, tuple(self.settings["extra_sinks"]))
        for call in calls(ctx):
            df = flow(ctx)
            if not df.may_call(call, sinks.last_names):
                continue
            name = df.qualified_name(call.func)
            method = call.func.attr if isinstance(call.func, ast.Attribute) else None
            found = sinks.lookup(name, method)
            if not found:
                continue
            sink = found[0]
            if (
                name in DATA_SINKS
                and name.endswith(("loads", "decode"))
                and call.args
                and not self.settings["strict"]
                and df.is_constant(call.args[0])
            ):
                continue  # data written in the source is as trusted as the code around it
            if (
                name in DATA_SINKS
                and call.args
                and not self.settings["strict"]
                and _in_process(df, call.args[0])
            ):
                continue
            what = f"{name}()" if not sink.guard else _guarded(df, call, name, sink)
            if what is None:
                continue
            fix = sink.fix or "only use it on data as trusted as the code itself"
            yield ctx.report(
                self, call, f"{what} runs code embedded in the data it loads; {fix}.",
                severity=sink.severity,
            )


def _in_process(df: Flow, data: ast.expr, depth: int = 0,
                assume: frozenset[str] = frozenset()) -> bool:
    """Whether ``data`` can only be what a serializer produced in this process: a
    serializer's output, a name bound only to such values, or the object's own private
    state that this file only ever fills with them (see ``_own_state``; ``assume``: the
    attributes being checked, whose own values count as made in this process)."""
    if depth > 10:
        return False
    if isinstance(data, ast.Call):
        return df.qualified_name(data.func) in SERIALIZERS
    if isinstance(data, ast.Name):
        bound = df.bindings(data) or []
        return bool(bound) and all(
            _in_process(df, b, depth + 1, assume) if b is not None
            else _parameter_in_process(df, data, depth + 1, assume)
            for b in bound
        )
    return _own_state(df, data, depth + 1, assume)


def _private_attribute(node: ast.expr) -> tuple[str, bool] | None:
    """(``_a``, whether an item of it is meant) for ``x._a`` and ``x._a[k]``."""
    item = isinstance(node, ast.Subscript)
    if isinstance(node, ast.Subscript):
        node = node.value
    if (
        isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
    ):
        return node.attr, item
    return None


def _own_state(df: Flow, data: ast.expr, depth: int, assume: frozenset[str]) -> bool:
    """``self._meta`` or ``self._cache[key]``, where every value this file stores there is
    a serializer's output (or None, or the same attribute of another object). A private
    attribute is written by its own module only, so the data never came from outside."""
    found = _private_attribute(data)
    if found is None:
        return False
    attr, item = found
    if attr in assume:
        return True  # a value read back from the state being checked
    assume = assume | {attr}
    stored = 0
    for node in df.ctx.nodes(ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Call):
        if not isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            assert isinstance(node, ast.Call)
            f = node.func
            if (
                isinstance(f, ast.Attribute)
                and f.attr in ("update", "setdefault", "__setitem__", "insert", "append")
                and _private_attribute(f.value) == (attr, False)
            ):
                return False  # filled in a way this check does not follow
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            at = _private_attribute(target) if isinstance(target, ast.expr) else None
            if at is None or at[0] != attr:
                continue
            if at[1] != item:
                if item:
                    continue  # the container itself is (re)bound: its items are what count
                return False
            if isinstance(node, ast.AugAssign) or node.value is None:
                return False
            if not _stored_in_process(df, node.value, attr, depth, assume):
                return False
            stored += 1
    return stored > 0


def _stored_in_process(df: Flow, value: ast.expr, attr: str, depth: int,
                       assume: frozenset[str]) -> bool:
    if isinstance(value, ast.Constant) and value.value is None:
        return True
    if isinstance(value, ast.Attribute) and value.attr == attr:
        return True  # copied from another object of the same kind
    if isinstance(value, ast.BoolOp):
        return all(_stored_in_process(df, v, attr, depth, assume) for v in value.values)
    if isinstance(value, ast.IfExp):
        return all(_stored_in_process(df, v, attr, depth, assume)
                   for v in (value.body, value.orelse))
    return _in_process(df, value, depth, assume)


def _parameter_in_process(df: Flow, name: ast.Name, depth: int,
                          assume: frozenset[str]) -> bool:
    """A parameter of a private method (``_set(self, key, value)``) that every call of it in
    this file (``self._set(key, pickled)``) passes a value made in this process."""
    fn = next((s for s in df.ctx.scopes(name)
               if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if fn is None or not fn.name.startswith("_") or fn.name.startswith("__"):
        return False
    params = [p.arg for p in (*fn.args.posonlyargs, *fn.args.args)]
    if name.id not in params:
        return False
    index = params.index(name.id) - (1 if params and params[0] in ("self", "cls") else 0)
    calls_seen = 0
    for call in df.ctx.nodes(ast.Call):
        assert isinstance(call, ast.Call)
        f = call.func
        if not (isinstance(f, ast.Attribute) and f.attr == fn.name):
            continue
        arg = next((k.value for k in call.keywords if k.arg == name.id), None)
        if arg is None and 0 <= index < len(call.args):
            arg = call.args[index]
        if arg is None or isinstance(arg, ast.Starred) or not _in_process(df, arg, depth, assume):
            return False
        calls_seen += 1
    return calls_seen > 0


def _guarded(df: Flow, call: ast.Call, name: str, sink: Sink) -> str | None:
    """The sink's name when a guarded loader is called without its safe setting."""
    kw, safe = sink.guard, sink.safe
    value = keyword(call, kw)
    if value is None:
        return None if not safe else f"{name}() without {kw}=True"
    truth = df.truthiness(value)
    if truth is safe or truth is None:
        return None
    return f"{name}() with {kw}={not safe}"
