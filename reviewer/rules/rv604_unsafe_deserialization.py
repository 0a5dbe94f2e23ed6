"""RV604: deserializing with pickle and friends, which run code from the data."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PyContext
from reviewer.rules._dataflow import Flow, calls, flow, keyword
from reviewer.rules.base import Invalid, Rule

_PICKLES = ("pickle", "cPickle", "_pickle", "dill", "cloudpickle")
# Qualified name -> what to call it in the message.
SINKS: dict[str, str] = {
    **{f"{m}.{f}": f"{m}.{f}" for m in _PICKLES for f in ("load", "loads", "Unpickler")},
    **{f"marshal.{f}": f"marshal.{f}" for f in ("load", "loads")},
    "shelve.open": "shelve.open",
    "shelve.DbfilenameShelf": "shelve.DbfilenameShelf",
    "jsonpickle.decode": "jsonpickle.decode",
    "jsonpickle.unpickler.decode": "jsonpickle.decode",
    "jsonpickle.unpickler.Unpickler": "jsonpickle.Unpickler",
    "pandas.read_pickle": "pandas.read_pickle",
    "joblib.load": "joblib.load",
    "sklearn.externals.joblib.load": "joblib.load",
}
# Safe only with a keyword set to a constant: name -> (keyword, value that makes it safe).
GUARDED: dict[str, tuple[str, bool]] = {
    "torch.load": ("weights_only", True),
    "numpy.load": ("allow_pickle", False),
}
# Serializers: data they just produced in this process is not untrusted input.
SERIALIZERS = frozenset(
    {f"{m}.dumps" for m in (*_PICKLES, "marshal")} | {"jsonpickle.encode", "jsonpickle.dumps"}
)
# Sinks whose first argument is the serialized data itself (not a file).
DATA_SINKS = frozenset(
    {f"{m}.loads" for m in (*_PICKLES, "marshal")}
    | {"jsonpickle.decode", "jsonpickle.unpickler.decode", "pandas.read_pickle"}
)
_LAST_NAMES = frozenset(n.rsplit(".", 1)[-1] for n in (*SINKS, *GUARDED))


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
    """

    id = "RV604"
    slug = "unsafe-deserialization"
    principle = "validate-input"
    severity = Severity.HIGH
    message = "Deserializing with pickle (or a format built on it) runs code from the data."
    counterparts = {"bandit": "B301, B614", "ruff": "S301"}
    options = {"strict": False}
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
    ]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        for call in calls(ctx):
            df = flow(ctx)
            if not df.may_call(call, _LAST_NAMES):
                continue
            name = df.qualified_name(call.func)
            if (
                name in DATA_SINKS
                and call.args
                and not self.settings["strict"]
                and _in_process(df, call.args[0])
            ):
                continue
            what = f"{SINKS[name]}()" if name in SINKS else None
            if what is None:
                what = _guarded(df, call, name)
                if what is None:
                    continue
            yield ctx.report(
                self,
                call,
                f"{what} runs code embedded in the data it loads;"
                " only use it on data as trusted as the code itself.",
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


def _guarded(df: Flow, call: ast.Call, name: str) -> str | None:
    """The sink's name when a guarded loader is called without its safe setting."""
    guard = GUARDED.get(name)
    if guard is None:
        return None
    kw, safe = guard
    value = keyword(call, kw)
    if value is None:
        return None if not safe else f"{name}() without {kw}=True"
    truth = df.truthiness(value)
    if truth is safe or truth is None:
        return None
    return f"{name}() with {kw}={not safe}"
