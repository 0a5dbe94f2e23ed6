"""Dependencies declared by one version of a manifest, and what changed between two.

Manifests: ``pyproject.toml`` (PEP 621 ``dependencies`` and optional dependencies, Poetry's
tables), ``requirements*.txt`` (and ``*.in``), ``package.json`` (dependencies, dev, peer and
optional) and ``go.mod`` (``require``). A manifest that does not parse declares nothing.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass

_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")
_GO_REQ = re.compile(r"^\s*([^\s()]+)\s+(v[^\s]+)")


@dataclass(frozen=True)
class DepChange:
    """One dependency added, removed or bumped in a manifest."""

    manifest: str
    name: str
    change: str  # "added", "removed", "bumped"
    old: str | None = None
    new: str | None = None


def is_manifest(path: str) -> bool:
    """Whether ``path`` is a dependency manifest this module reads."""
    base = path.rsplit("/", 1)[-1]
    return (base in ("pyproject.toml", "package.json", "go.mod")
            or (base.startswith("requirements") and base.endswith((".txt", ".in"))))


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement(line: str) -> tuple[str, str] | None:
    line = line.split(" #", 1)[0].split(";", 1)[0].strip()
    if not line or line.startswith(("#", "-")):
        return None
    m = _REQ.match(line)
    if m is None:
        return None
    return _norm(m.group(1)), m.group(3).strip().replace(" ", "")


def _pyproject(text: str) -> dict[str, str]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return {}
    out: dict[str, str] = {}
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    lists = [project.get("dependencies") or []]
    optional = project.get("optional-dependencies") or {}
    if isinstance(optional, dict):
        lists += list(optional.values())
    groups = data.get("dependency-groups") or {}
    if isinstance(groups, dict):
        lists += list(groups.values())
    for items in lists:
        for item in items if isinstance(items, list) else []:
            got = _requirement(item) if isinstance(item, str) else None
            if got:
                out[got[0]] = got[1]
    poetry = (data.get("tool") or {}).get("poetry") or {}
    tables = [poetry.get("dependencies") or {}, poetry.get("dev-dependencies") or {}]
    for group in (poetry.get("group") or {}).values():
        if isinstance(group, dict):
            tables.append(group.get("dependencies") or {})
    for table in tables:
        for name, spec in table.items() if isinstance(table, dict) else []:
            if name == "python":
                continue
            version = spec.get("version", "") if isinstance(spec, dict) else str(spec)
            out[_norm(name)] = str(version)
    return out


def _requirements(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        got = _requirement(line)
        if got:
            out[got[0]] = got[1]
    return out


def _package_json(text: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    out: dict[str, str] = {}
    if not isinstance(data, dict):
        return out
    for key in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        table = data.get(key)
        if isinstance(table, dict):
            out.update({str(k): str(v) for k, v in table.items()})
    return out


def _go_mod(text: str) -> dict[str, str]:
    out = {}
    block = False
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if line.startswith("require ("):
            block = True
            continue
        if block and line == ")":
            block = False
            continue
        if block or line.startswith("require "):
            m = _GO_REQ.match(line[len("require "):] if line.startswith("require ") else line)
            if m:
                out[m.group(1)] = m.group(2)
    return out


def declared(path: str, text: str) -> dict[str, str]:
    """name -> version specifier ("" when none) of the manifest ``path``."""
    base = path.rsplit("/", 1)[-1]
    if base == "pyproject.toml":
        return _pyproject(text)
    if base == "package.json":
        return _package_json(text)
    if base == "go.mod":
        return _go_mod(text)
    return _requirements(text)


def compare(path: str, old: str | None, new: str | None) -> list[DepChange]:
    """What changed in the manifest ``path`` (None: the file does not exist on that side)."""
    before = declared(path, old) if old is not None else {}
    after = declared(path, new) if new is not None else {}
    out = []
    for name in sorted(set(before) | set(after)):
        if name not in before:
            out.append(DepChange(path, name, "added", None, after[name]))
        elif name not in after:
            out.append(DepChange(path, name, "removed", before[name], None))
        elif before[name] != after[name]:
            out.append(DepChange(path, name, "bumped", before[name], after[name]))
    return out
