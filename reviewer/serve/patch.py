"""Applying a unified diff to base contents (``/v1/review`` with ``diff``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import pairwise

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class PatchError(ValueError):
    """A diff that does not apply; the message names the file."""


def _path(line: str) -> str:
    name = line[4:].split("\t", 1)[0].strip()
    return name[2:] if name[:2] in ("a/", "b/") else name


def apply_diff(diff: str, base: Mapping[str, str]) -> dict[str, tuple[str, set[int]]]:
    """path -> (new content, changed line numbers) for every file the diff touches
    (deleted files are left out). New files need no base content."""
    out: dict[str, tuple[str, set[int]]] = {}
    lines = diff.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        if not lines[i].startswith("--- "):
            i += 1
            continue
        if i + 1 >= len(lines) or not lines[i + 1].startswith("+++ "):
            raise PatchError("malformed diff: '---' without '+++'")
        old, new = _path(lines[i]), _path(lines[i + 1])
        i += 2
        if new == "/dev/null":
            while i < len(lines) and not lines[i].startswith("--- "):
                i += 1
            continue
        if old != "/dev/null" and old not in base:
            raise PatchError(f"{old}: the diff changes it but no base content was sent")
        src = base.get(old, "").splitlines(keepends=True) if old != "/dev/null" else []
        result: list[str] = []
        changed: set[int] = set()
        pos = 0
        while i < len(lines) and not lines[i].startswith("--- "):
            m = _HUNK.match(lines[i])
            if not m:
                i += 1
                continue
            start = int(m.group(1)) - (0 if m.group(2) == "0" else 1)
            if start < pos or start > len(src):
                raise PatchError(f"{new}: hunk at line {m.group(1)} does not apply")
            result.extend(src[pos:start])
            pos = start
            i += 1
            while i < len(lines) and lines[i][:1] in (" ", "-", "+", "\\"):
                tag, body = lines[i][:1], lines[i][1:]
                if tag == "\\":
                    if result and result[-1].endswith("\n"):
                        result[-1] = result[-1][:-1]
                elif tag == "+":
                    result.append(body)
                    changed.add(len(result))
                else:
                    if pos >= len(src) or src[pos].rstrip("\r\n") != body.rstrip("\r\n"):
                        raise PatchError(f"{new}: the diff does not match the base content"
                                         f" at line {pos + 1}")
                    if tag == " ":
                        result.append(src[pos])
                    pos += 1
                i += 1
        result.extend(src[pos:])
        out[new] = ("".join(result), changed)
    return out


def deleted_paths(diff: str) -> set[str]:
    """The files ``diff`` deletes (``+++ /dev/null``)."""
    lines = diff.splitlines()
    return {_path(old) for old, new in pairwise(lines)
            if old.startswith("--- ") and new.startswith("+++ ") and _path(new) == "/dev/null"}
