"""GBNF grammars for the JSON schemas the reviewer sends, written here, not by a converter.

llama-cpp-python's schema converter changes between releases, and two of its habits broke
answers: its string rule admits raw control characters (a raw newline inside a JSON string
is invalid JSON, and a small model that writes one runs on to the token limit), and it
spells ``maxLength: 320`` as 320 nested optional rules. The schemas the reviewer sends are
small (objects with fixed keys; strings, null, booleans, integers; ``anyOf``; a literal
prefix as ``pattern``), so this module compiles exactly that subset:

- strings admit only what JSON admits inside a string: no raw control characters or
  ``DEL``, newlines and tabs only escaped (``\\n``, ``\\t``), ``\\uXXXX`` escapes;
- ``maxLength``/``minLength`` become llama.cpp's own bounded repetition (``char{0,320}``);
- a ``pattern`` of the form ``^PREFIX.*$`` or ``^PREFIX.{0,N}$`` (what
  :func:`reviewer.llm.answer.answer_schema` writes) becomes a literal prefix followed by
  bounded string characters.

Anything else raises :class:`Unsupported`, and the caller falls back (and says so once).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# One character of a JSON string: anything but '"', '\\' and the control characters, or an
# escape. Raw newlines are exactly what JSON forbids and what a cut-off answer trips on.
CHAR = (
    'char ::= [^"\\\\\\x7F\\x00-\\x1F] | "\\\\" (["\\\\/bfnrt] | "u" [0-9a-fA-F]{4})'
)
# Whitespace between tokens: at most one space (models waste tokens on indentation).
WS = "ws ::= [ ]?"
# At most 16 digits: a line number or a count, never a runaway.
INTEGER = 'integer ::= "-"? ([0-9] | [1-9] [0-9]{1,15})'
NUMBER = 'number ::= integer ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,4})?'
BOOLEAN = 'boolean ::= "true" | "false"'
NULL = 'null ::= "null"'

_PATTERN = re.compile(r"^\^(?P<prefix>(?:[^\\.^$*+?{}\[\]|()]|\\.)*)\.(?:\*|\{0,(?P<n>\d+)\})\$$")


class Unsupported(ValueError):
    """The schema uses something this compiler does not translate."""


def literal(value: str | int | bool | None) -> str:
    """A GBNF literal matching exactly the JSON encoding of ``value``."""
    return _quote(json.dumps(value))  # the quotes and escapes the model must write


def _quote(text: str) -> str:
    """``text`` as a GBNF string literal (backslashes and quotes escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Compiler:
    def __init__(self) -> None:
        self.rules: dict[str, str] = {}
        self.used: set[str] = set()

    def rule(self, name: str, body: str) -> str:
        base, n = name, 1
        while name in self.rules and self.rules[name] != body:
            n += 1
            name = f"{base}{n}"
        self.rules[name] = body
        return name

    def value(self, schema: Any, name: str) -> str:
        """The GBNF expression for a value of ``schema`` (rules added as needed)."""
        if not isinstance(schema, Mapping):
            raise Unsupported(f"schema at {name} is not an object")
        if "enum" in schema:
            return self._enum(schema["enum"], name)
        if "const" in schema:
            return self._enum([schema["const"]], name)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [self.value(s, f"{name}-{i}") for i, s in enumerate(schema[key])]
                if not options:
                    raise Unsupported(f"empty {key} at {name}")
                return "(" + " | ".join(options) + ")"
        kind = schema.get("type")
        if isinstance(kind, list):
            return "(" + " | ".join(
                self.value({**schema, "type": k}, f"{name}-{k}") for k in kind) + ")"
        if kind == "object":
            return self.rule(name, self._object(schema, name))
        if kind == "string":
            return self.rule(name, self._string(schema, name))
        if kind in ("integer", "number", "boolean", "null"):
            self.used.add(kind)
            if kind == "number":
                self.used.add("integer")
            return str(kind)
        raise Unsupported(f"type {kind!r} at {name}")

    def _enum(self, values: Any, name: str) -> str:
        if not isinstance(values, list) or not values:
            raise Unsupported(f"enum at {name}")
        out = []
        for v in values:
            if not isinstance(v, (str, int, bool)) and v is not None:
                raise Unsupported(f"enum value {v!r} at {name}")
            out.append(literal(v))
        return "(" + " | ".join(out) + ")"

    def _object(self, schema: Mapping[str, Any], name: str) -> str:
        props = schema.get("properties") or {}
        required = list(schema.get("required") or [])
        if set(required) != set(props):
            # Optional keys need a grammar of every subset; the reviewer never sends them.
            raise Unsupported(f"object at {name} has optional properties")
        if schema.get("additionalProperties", False) not in (False, None):
            raise Unsupported(f"object at {name} allows additional properties")
        if not props:
            return '"{" ws "}"'
        parts = []
        for key, sub in props.items():
            value = self.value(sub, f"{name}-{_ident(key)}")
            parts.append(f'{literal(key)} ws ":" ws {value}')
        return '"{" ws ' + ' ws "," ws '.join(parts) + ' ws "}"'

    def _string(self, schema: Mapping[str, Any], name: str) -> str:
        low = schema.get("minLength", 0)
        high = schema.get("maxLength")
        prefix = ""
        pattern = schema.get("pattern")
        if pattern is not None:
            m = _PATTERN.match(pattern) if isinstance(pattern, str) else None
            if m is None:
                raise Unsupported(f"pattern {pattern!r} at {name}")
            prefix = re.sub(r"\\(.)", r"\1", m.group("prefix"))
            if m.group("n") is not None:
                bound = int(m.group("n")) + len(prefix)
                high = bound if high is None else min(high, bound)
        if not isinstance(low, int) or (high is not None and not isinstance(high, int)):
            raise Unsupported(f"string bounds at {name}")
        self.used.add("char")
        low = max(0, low - len(prefix))
        rest = None if high is None else max(0, high - len(prefix))
        if rest is not None and rest < low:
            raise Unsupported(f"string at {name} cannot be that short and that long")
        if rest is None:
            body = "char*" if low == 0 else f"char{{{low},}}"
        elif rest == 0:
            body = ""
        else:
            body = f"char{{{low},{rest}}}"
        parts = ['"\\""']
        if prefix:
            parts.append(_quote(json.dumps(prefix)[1:-1]))
        if body:
            parts.append(body)
        parts.append('"\\""')
        return " ".join(parts)


def _ident(key: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9]+", "-", key).strip("-")
    return clean or "key"


_SHARED = {"char": CHAR, "integer": INTEGER, "number": NUMBER, "boolean": BOOLEAN,
           "null": NULL}


def compile_schema(schema: Mapping[str, Any]) -> str:
    """The GBNF grammar (``root`` rule first) for ``schema``; raises :class:`Unsupported`."""
    c = _Compiler()
    top = c.value(schema, "root")
    rules = dict(c.rules)
    root = rules.pop("root") if top == "root" else top
    lines = [f"root ::= {root}"] + [f"{name} ::= {body}" for name, body in rules.items()]
    lines.append(WS)
    lines += [_SHARED[k] for k in ("char", "integer", "number", "boolean", "null")
              if k in c.used]
    return "\n".join(lines) + "\n"
