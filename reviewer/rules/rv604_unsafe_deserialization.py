"""RV604: deserializing with pickle and friends, which run code from the data."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PyContext
from reviewer.rules._dataflow import Flow, calls, flow, keyword
from reviewer.rules._sinks import Sink, catalogue
from reviewer.rules.base import Invalid, Rule

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

    The loaders come from the sink catalogue (``reviewer/rules/sinks.toml``, kind
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
        "import torch\n\nmodel = torch.load('w.pt', map_location='cpu', weights_only=True)\n",
        "import numpy as np\n\narr = np.load('a.npy')\n",
        "class Store:\n    def loads(self, data):\n        return data\n\nStore().loads(b'x')\n",
        "import pickle\n\ndef copy(obj):\n    return pickle.loads(pickle.dumps(obj))\n",
        "import pickle\n\ndef test_pickles(obj):\n    data = pickle.dumps(obj, 2)\n"
        "    assert pickle.loads(data) == obj\n",
        "import marshal\n\ndef code_bytes(fn):\n    return marshal.dumps(fn.__code__)\n",
        "import pandas as pd\n\ndf = pd.read_parquet('data.parquet')\n",
        "import numpy as np\n\narr = np.load('a.npy', allow_pickle=False)\n",
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


def _in_process(df: Flow, data: ast.expr, depth: int = 0) -> bool:
    """Whether ``data`` can only be what a serializer produced in this process."""
    if isinstance(data, ast.Call):
        return df.qualified_name(data.func) in SERIALIZERS
    if isinstance(data, ast.Name) and depth < 10:
        bound = df.bindings(data) or []
        return bool(bound) and all(
            b is not None and _in_process(df, b, depth + 1) for b in bound
        )
    return False


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
