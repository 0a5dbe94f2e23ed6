"""Changed files and line ranges from git, and the diff filters (reviewdog's names).

Filters: ``added`` keeps findings on added/changed lines plus whole-function findings whose
function was touched; ``context`` also keeps findings within a few lines of a change;
``file`` keeps every finding in a changed file; ``none`` keeps everything.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from reviewer.errors import ReviewerError
from reviewer.findings import Finding

Changes = dict[str, set[int] | None]


def filter_findings(
    findings: list[Finding], changes: Changes, mode: str, context_lines: int = 3
) -> list[Finding]:
    """Keep the findings the diff filter ``mode`` lets through."""
    if mode == "none":
        return findings
    out = []
    for f in findings:
        if f.path not in changes:
            continue
        lines = changes[f.path]
        if mode == "file" or lines is None or f.rule_id == "RV000":
            out.append(f)
            continue
        first, last = f.span.line, f.span.last_line
        if mode == "context":
            first, last = first - context_lines, last + context_lines
        if f.scope is not None:
            first, last = min(first, f.scope[0]), max(last, f.scope[1])
        else:
            last = first if mode == "added" else last
        if any(first <= ln <= last for ln in lines):
            out.append(f)
    return out


# -- git -------------------------------------------------------------------------------------
_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__",
                       ".tox", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache",
                       ".reviewer", "build", "dist", ".eggs"})


def git(root: Path | None, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Run git with stable, script-friendly settings; raise ReviewerError on failure."""
    cmd = ["git", "-c", "core.quotepath=false", "-c", "diff.noprefix=false", *args]
    try:
        proc = subprocess.run(
            cmd, cwd=root, capture_output=True, check=False,
            env={**os.environ, "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"},
        )
    except FileNotFoundError:
        raise ReviewerError("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ReviewerError(f"git {args[0]} failed: {msg[-1] if msg else 'exit ' + str(proc.returncode)}")
    return proc


def repo_root(start: Path) -> Path | None:
    """The top of the git work tree containing ``start``, or None outside a repository."""
    proc = git(start, "rev-parse", "--show-toplevel", check=False)
    if proc.returncode != 0:
        return None
    return Path(os.fsdecode(proc.stdout.rstrip(b"\n")))


def _unquote(raw: bytes) -> bytes:
    """Undo git's C-style quoting of a path ("a\\tb", octal escapes)."""
    if not raw.startswith(b'"'):
        return raw
    body = raw[1:-1]
    out = bytearray()
    i = 0
    simple = {b"n": b"\n", b"t": b"\t", b'"': b'"', b"\\": b"\\", b"a": b"\a", b"b": b"\b",
              b"f": b"\f", b"r": b"\r", b"v": b"\v"}
    while i < len(body):
        c = body[i:i + 1]
        if c == b"\\":
            nxt = body[i + 1:i + 2]
            if nxt in simple:
                out += simple[nxt]
                i += 2
                continue
            if nxt.isdigit():
                out.append(int(body[i + 1:i + 4], 8))
                i += 4
                continue
        out += c
        i += 1
    return bytes(out)


def parse_unified_zero(diff: bytes) -> Changes:
    """Added line numbers per new path from ``git diff -U0`` output."""
    changes: Changes = {}
    current: str | None = None
    for line in diff.split(b"\n"):
        if line.startswith(b"+++ "):
            target = _unquote(line[4:].split(b"\t")[0])
            if target == b"/dev/null":
                current = None
            else:
                current = os.fsdecode(target[2:] if target.startswith(b"b/") else target)
                changes.setdefault(current, set())
        elif line.startswith(b"@@") and current is not None:
            m = _HUNK.match(line)
            if m:
                start = int(m.group(1))
                count = int(m.group(2)) if m.group(2) is not None else 1
                lines = changes[current]
                if lines is not None:
                    lines.update(range(start, start + count))
    return changes


def _name_status(root: Path, *args: str) -> list[str]:
    """Paths added/copied/modified/renamed (new names) from ``git diff --name-status -z``."""
    out = git(root, "diff", "--name-status", "-z", "-M", "--diff-filter=ACMR", *args).stdout
    parts = out.split(b"\0")
    files = []
    i = 0
    while i < len(parts) and parts[i]:
        status = parts[i]
        if status[:1] in (b"R", b"C"):
            files.append(os.fsdecode(parts[i + 2]))
            i += 3
        else:
            files.append(os.fsdecode(parts[i + 1]))
            i += 2
    return files


def staged_changes(root: Path) -> tuple[list[str], Changes]:
    """Files in the index that differ from HEAD, and their added lines."""
    has_head = git(root, "rev-parse", "--verify", "-q", "HEAD", check=False).returncode == 0
    against = [] if has_head else ["4b825dc642cb6eb9a060e54bf8d69288fbee4904"]  # empty tree
    files = _name_status(root, "--cached", *against)
    diff = git(root, "diff", "--cached", "-U0", "--no-color", "--no-ext-diff", "-M",
               "--diff-filter=ACMR", *against).stdout
    changes = parse_unified_zero(diff)
    return files, {f: changes.get(f, set()) for f in files}


def unstaged_files(root: Path, files: list[str]) -> set[str]:
    """Which of ``files`` also have changes not yet staged (disk differs from the index)."""
    if not files:
        return set()
    out = git(root, "diff", "--name-only", "-z", "--no-ext-diff").stdout
    changed = {os.fsdecode(p) for p in out.split(b"\0") if p}
    return changed & set(files)


def index_content(root: Path, rel: str) -> bytes:
    """The staged version of a file."""
    return git(root, "show", f":{rel}").stdout


def base_changes(root: Path, ref: str) -> tuple[list[str], Changes]:
    """Files changed since the merge base of ``ref`` and HEAD (working tree included)."""
    if ref.startswith("-"):
        raise ReviewerError(f"invalid base ref {ref!r}")
    if git(root, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False).returncode:
        shallow = git(root, "rev-parse", "--is-shallow-repository", check=False).stdout.strip()
        hint = (
            " (this is a shallow clone: fetch the base, e.g. actions/checkout with"
            " fetch-depth: 0)" if shallow == b"true" else ""
        )
        raise ReviewerError(f"base ref {ref!r} not found{hint}")
    mb = git(root, "merge-base", ref, "HEAD", check=False)
    if mb.returncode != 0:
        raise ReviewerError(
            f"no merge base between {ref!r} and HEAD (unrelated histories or a shallow clone;"
            " fetch more history, e.g. fetch-depth: 0)"
        )
    base = mb.stdout.strip().decode()
    files = _name_status(root, base)
    diff = git(root, "diff", "-U0", "--no-color", "--no-ext-diff", "-M", "--diff-filter=ACMR",
               base).stdout
    changes = parse_unified_zero(diff)
    return files, {f: changes.get(f, set()) for f in files}


def tracked_files(root: Path, under: list[str] | None = None) -> list[str]:
    """Tracked and untracked-but-not-ignored files (git), else a filesystem walk."""
    if (root / ".git").exists() or repo_root(root) == root:
        out = git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--",
                  *(under or [])).stdout
        return sorted({os.fsdecode(p) for p in out.split(b"\0") if p})
    return walk_files(root, under)


def walk_files(root: Path, under: list[str] | None = None) -> list[str]:
    """Every file below ``root`` (or below each of ``under``), skipping tool folders."""
    out = []
    starts = [root / u for u in under] if under else [root]
    for start in starts:
        if start.is_file():
            out.append(start.relative_to(root).as_posix())
            continue
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
            for name in filenames:
                out.append((Path(dirpath) / name).relative_to(root).as_posix())
    return sorted(set(out))
