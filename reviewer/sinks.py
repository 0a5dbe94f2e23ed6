"""The sink catalogue of the security rules: ``sinks.toml`` plus the user's extra sinks.

A sink is a call whose argument, if an attacker controls it, does harm: a shell command, an
SQL statement, code, serialized data, or (for credentials) a secret written into the
source. The catalogue is data, one ``[[sink]]`` table per call (see the comment at the top
of ``sinks.toml``), so a sink is added by a few lines; users add their own under
``[[tool.reviewer.extra-sinks]]``, which reach the rules as their ``extra_sinks`` option.
"""

from __future__ import annotations

import marshal
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from reviewer.fileio import replace_bytes
from reviewer.findings import Severity

# Sink kind -> the rule that reads it.
KINDS: dict[str, str] = {
    "shell": "RV602", "process": "RV602", "code": "RV601", "import": "RV601",
    "sql": "RV603", "deserialization": "RV604", "yaml": "RV605", "credential": "RV606",
}
_FIELDS = {
    "call": str, "kind": str, "arg": int, "keyword": str, "severity": str, "fix": str,
    "guard": str, "safe": bool, "sqlish": bool,
}


class SinkError(ValueError):
    """A malformed sink entry (the message names the entry and what is wrong)."""


@dataclass(frozen=True)
class Sink:
    """One dangerous call and where its dangerous value goes."""

    call: str  # qualified name; "*.name": a method of any receiver
    kind: str
    arg: int = 0  # -1: by keyword only
    keyword: str = ""
    severity: Severity | None = None
    fix: str = ""
    guard: str = ""  # deserialization: the keyword that makes the call safe...
    safe: bool = True  # ...when set to this value
    sqlish: bool = False  # sql: only for text that looks like SQL

    @property
    def method(self) -> str | None:
        """The method name of a ``*.name`` sink (None for a qualified name)."""
        return self.call[2:] if self.call.startswith("*.") else None

    @property
    def last_name(self) -> str:
        return self.call.rsplit(".", 1)[-1]


def parse_sink(entry: Any, where: str) -> Sink:
    """A Sink from one TOML table; :class:`SinkError` names what is wrong."""
    if not isinstance(entry, Mapping):
        raise SinkError(f"{where}: a sink must be a table, got {entry!r}")
    for key, value in entry.items():
        expected = _FIELDS.get(key)
        if expected is None:
            raise SinkError(
                f"{where}: unknown sink field {key!r} (known: {', '.join(sorted(_FIELDS))})"
            )
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise SinkError(
                f"{where}: sink field {key!r} must be {expected.__name__}, got {value!r}"
            )
    call, kind = entry.get("call"), entry.get("kind")
    if not call or not isinstance(call, str):
        raise SinkError(f"{where}: a sink needs call = \"module.function\" or \"*.method\"")
    if kind not in KINDS:
        raise SinkError(
            f"{where}: sink {call!r} has kind {kind!r}; one of {', '.join(KINDS)}"
        )
    severity = None
    if "severity" in entry:
        try:
            severity = Severity.parse(entry["severity"])
        except ValueError as exc:
            raise SinkError(f"{where}: sink {call!r}: {exc}") from None
    arg = int(entry.get("arg", 0))
    if arg < -1:
        raise SinkError(f"{where}: sink {call!r}: arg must be a position >= 0 (or -1)")
    if arg == -1 and not entry.get("keyword"):
        raise SinkError(f"{where}: sink {call!r}: arg = -1 needs a keyword")
    return Sink(
        call=call, kind=str(kind), arg=arg, keyword=str(entry.get("keyword", "")),
        severity=severity, fix=str(entry.get("fix", "")), guard=str(entry.get("guard", "")),
        safe=bool(entry.get("safe", True)), sqlish=bool(entry.get("sqlish", False)),
    )


@lru_cache(maxsize=1)
def builtin_sinks() -> tuple[Sink, ...]:
    """The catalogue shipped in the package."""
    entries = _builtin_entries()
    return tuple(parse_sink(e, f"sinks.toml entry {i + 1}") for i, e in enumerate(entries))


def _builtin_entries() -> list[Any]:
    """The ``[[sink]]`` tables of ``sinks.toml``. Parsing the TOML takes longer than the
    rest of a one-file review's start-up, so the tables are kept beside the package's
    bytecode (``__pycache__``, marshal format, named by the file's size and modification
    time as a ``.pyc`` is) and parsed again only when the file changes; a folder that
    cannot be written only costs the parse."""
    here = Path(__file__).with_name("sinks.toml")
    try:
        st = here.stat()
    except OSError:  # pragma: no cover - a zipped package
        from importlib import resources

        return _parse_entries(
            resources.files("reviewer").joinpath("sinks.toml").read_text(encoding="utf-8"))
    cache = here.parent / "__pycache__" / f"sinks.{st.st_size}.{st.st_mtime_ns}.marshal"
    try:
        entries = marshal.loads(cache.read_bytes())
        if isinstance(entries, list):
            return entries
    except (OSError, ValueError, EOFError, TypeError):
        pass
    entries = _parse_entries(here.read_text(encoding="utf-8"))
    _keep(cache, marshal.dumps(entries))
    return entries


def _parse_entries(text: str) -> list[Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    entries = tomllib.loads(text).get("sink", [])
    return entries if isinstance(entries, list) else []


def _keep(cache: Path, data: bytes) -> None:
    """Write the parsed catalogue (atomically; older versions removed), or do nothing."""
    try:
        cache.parent.mkdir(exist_ok=True)
        replace_bytes(cache, data, mode=0o644)  # beside the bytecode, read by every user
        for old in cache.parent.glob("sinks.*.marshal"):
            if old != cache:
                old.unlink(missing_ok=True)
    except OSError:
        pass


def encode(entry: Mapping[str, Any]) -> str:
    """One user sink as the string a rule option carries (JSON, keys sorted)."""
    import json  # only with user sinks: not on every review's start

    return json.dumps(dict(entry), sort_keys=True)


@lru_cache(maxsize=64)
def _extra(encoded: tuple[str, ...]) -> tuple[Sink, ...]:
    if not encoded:
        return ()
    import json

    return tuple(parse_sink(json.loads(e), "extra-sinks") for e in encoded)


@dataclass(frozen=True)
class Catalogue:
    """The sinks of some kinds, indexed for the rules' per-call lookups."""

    by_name: Mapping[str, tuple[Sink, ...]]
    by_method: Mapping[str, tuple[Sink, ...]]
    last_names: frozenset[str]

    def lookup(self, qualified: str, method: str | None) -> tuple[Sink, ...]:
        """The sinks a call matches: by its qualified name, else by its method name."""
        found = self.by_name.get(qualified)
        if found:
            return found
        return self.by_method.get(method, ()) if method else ()


@lru_cache(maxsize=64)
def catalogue(kinds: frozenset[str], extra: tuple[str, ...] = ()) -> Catalogue:
    """Built-in plus extra sinks of ``kinds`` (``extra``: a rule's ``extra_sinks`` option)."""
    sinks = [s for s in (*builtin_sinks(), *_extra(extra)) if s.kind in kinds]
    return _index(sinks)


def _index(sinks: Iterable[Sink]) -> Catalogue:
    by_name: dict[str, list[Sink]] = {}
    by_method: dict[str, list[Sink]] = {}
    for s in sinks:
        method = s.method
        if method is not None:
            by_method.setdefault(method, []).append(s)
        else:
            by_name.setdefault(s.call, []).append(s)
    names = {n.rsplit(".", 1)[-1] for n in by_name} | set(by_method)
    return Catalogue(
        {k: tuple(v) for k, v in by_name.items()},
        {k: tuple(v) for k, v in by_method.items()},
        frozenset(names),
    )


def rule_options(entries: Any, where: str) -> dict[str, dict[str, tuple[str, ...]]]:
    """``[[tool.reviewer.extra-sinks]]`` as rule options: {rule: {"extra_sinks": (...)}}.

    Every entry is checked here, so a malformed one is a configuration error.
    """
    if isinstance(entries, Mapping):
        entries = [entries]
    if not isinstance(entries, list):
        raise SinkError(f"{where} must be an array of tables ([[tool.reviewer.extra-sinks]])")
    out: dict[str, list[str]] = {}
    for i, entry in enumerate(entries):
        sink = parse_sink(entry, f"{where} entry {i + 1}")
        out.setdefault(KINDS[sink.kind], []).append(encode(entry))
    return {rule: {"extra_sinks": tuple(v)} for rule, v in out.items()}
