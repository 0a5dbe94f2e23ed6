"""Changed files and line ranges from git, and the diff filters (reviewdog's names).

Filters: ``added`` keeps findings whose first line was added or changed, plus whole-function
findings (those with a ``scope``) whose function has an added or changed line; ``context``
also keeps findings within ``context_lines`` lines of a change; ``file`` keeps every finding
in a changed file; ``none`` keeps everything, changed files or not.

Git is always run from the repository root with settings that make its output stable
whatever the user's configuration (no pager, no colour, no external diff or textconv,
fixed ``a/``/``b/`` prefixes, NUL-separated names where git offers it).
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from reviewer.errors import ReviewerError
from reviewer.findings import Finding

# path -> changed line numbers of the new version (None: the whole file counts as changed).
Changes = dict[str, set[int] | None]

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
# Added, copied, modified, renamed, type-changed: the files that have a new version to review.
_REVIEWABLE = "--diff-filter=ACMRT"
_DIFF_OPTS = ("--no-color", "--no-ext-diff", "--no-textconv", "--ignore-submodules=all",
              "--src-prefix=a/", "--dst-prefix=b/", "-M")


def filter_findings(
    findings: list[Finding], changes: Changes, mode: str, context_lines: int = 3
) -> list[Finding]:
    """Keep the findings the diff filter ``mode`` lets through."""
    if mode == "none":
        return findings
    return [f for f in findings if _keep(f, changes, mode, context_lines)]


def _keep(f: Finding, changes: Changes, mode: str, context_lines: int) -> bool:
    if f.path not in changes:
        return False
    lines = changes[f.path]
    if mode == "file" or lines is None or f.rule_id == "RV000":
        return True
    first, last = f.span.line, f.span.line
    if mode == "context":
        first, last = first - context_lines, f.span.last_line + context_lines
    if f.scope is not None:
        first, last = min(first, f.scope[0]), max(last, f.scope[1])
    # A grouped finding (several places of one problem) is kept when any of them changed.
    related = {s.line for s in f.related}
    return any(first <= ln <= last or ln in related for ln in lines)


def line_kept(path: str, line: int, changes: Changes, mode: str, context_lines: int = 3) -> bool:
    """Whether the diff filter ``mode`` keeps something reported at ``path:line``."""
    if mode == "none":
        return True
    if path not in changes:
        return False
    lines = changes[path]
    if mode == "file" or lines is None:
        return True
    reach = context_lines if mode == "context" else 0
    return any(line - reach <= ln <= line + reach for ln in lines)


# -- running git -----------------------------------------------------------------------------
_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__",
                       ".tox", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache",
                       ".reviewer", "build", "dist", ".eggs"})


_GIT_CONFIG = ("--literal-pathspecs", "-c", "core.quotepath=false",
               "-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false",
               "-c", "color.ui=false")


def _git_env() -> dict[str, str]:
    return {**os.environ, "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0", "GIT_PAGER": "cat"}


def git(
    root: Path | None, *args: str, check: bool = True, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run git with stable, script-friendly settings; raise ReviewerError on failure."""
    try:
        proc = subprocess.run(["git", *_GIT_CONFIG, *args], cwd=root, capture_output=True,
                              check=False, env=_git_env(), input=stdin)
    except FileNotFoundError:
        raise ReviewerError("git is not installed or not on PATH") from None
    except OSError as exc:  # cwd vanished, too many arguments...
        raise ReviewerError(f"cannot run git: {exc.strerror or exc}") from None
    return _checked(proc, args, check)


def _checked(proc: subprocess.CompletedProcess[bytes], args: Sequence[str],
             check: bool) -> subprocess.CompletedProcess[bytes]:
    if check and proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = msg[-1] if msg else f"exit status {proc.returncode}"
        raise ReviewerError(f"git {args[0]} failed: {detail}")
    return proc


def git_together(root: Path, *commands: Sequence[str]) -> list[bytes]:
    """The output of several git commands run at the same time (each must succeed): a
    staged review's two diffs cost one git start-up of waiting, not two."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for args in commands:
            procs.append(subprocess.Popen(
                ["git", *_GIT_CONFIG, *args], cwd=root, env=_git_env(),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        outs = []
        for args, proc in zip(commands, procs, strict=True):
            out, err = proc.communicate()
            _checked(subprocess.CompletedProcess(args, proc.returncode, out, err), args, True)
            outs.append(out)
        return outs
    except FileNotFoundError:
        raise ReviewerError("git is not installed or not on PATH") from None
    except OSError as exc:
        raise ReviewerError(f"cannot run git: {exc.strerror or exc}") from None
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def repo_root(start: Path) -> Path | None:
    """The top of the git work tree containing ``start``; None outside one (or without git)."""
    try:
        proc = git(start, "rev-parse", "--show-toplevel", check=False)
    except ReviewerError:
        return None
    if proc.returncode != 0 or not proc.stdout.strip():
        return None  # not a repository, or inside .git / a bare repository
    return Path(os.fsdecode(proc.stdout.rstrip(b"\n")))


def _split_z(out: bytes) -> list[str]:
    return [os.fsdecode(p) for p in out.split(b"\0") if p]


# -- parsing ---------------------------------------------------------------------------------
def _unquote(raw: bytes) -> bytes:
    """Undo git's C-style quoting of a path (``"a\\tb"``, ``"\\303\\251"``)."""
    if not (raw.startswith(b'"') and raw.endswith(b'"') and len(raw) >= 2):
        return raw
    body = raw[1:-1]
    out = bytearray()
    simple = {b"n": b"\n", b"t": b"\t", b'"': b'"', b"\\": b"\\", b"a": b"\a", b"b": b"\b",
              b"f": b"\f", b"r": b"\r", b"v": b"\v"}
    i = 0
    while i < len(body):
        c = body[i:i + 1]
        nxt = body[i + 1:i + 2]
        if c == b"\\" and nxt in simple:
            out += simple[nxt]
            i += 2
        elif c == b"\\" and body[i + 1:i + 4].isdigit() and len(body[i + 1:i + 4]) == 3:
            out.append(int(body[i + 1:i + 4], 8) & 0xFF)
            i += 4
        else:
            out += c
            i += 1
    return bytes(out)


def _target_path(line: bytes) -> str | None:
    """The new path of a ``+++ b/path`` line (None for ``/dev/null``)."""
    raw = line[4:]
    if not raw.startswith(b'"'):
        # Git appends a tab to names containing spaces; an unquoted name has no tab itself.
        raw = raw.split(b"\t")[0]
    target = _unquote(raw)
    if target == b"/dev/null":
        return None
    return os.fsdecode(target[2:] if target.startswith(b"b/") else target)


def parse_unified_zero(diff: bytes) -> Changes:
    """Added line numbers per new path, from ``git diff -U0`` output.

    Hunk bodies are skipped by their line counts, so an added line that itself starts with
    ``++ `` or ``@@`` is never mistaken for a header.
    """
    changes: Changes = {}
    current: str | None = None
    remaining = 0  # body lines left in the current hunk
    for line in diff.split(b"\n"):
        if remaining:
            if not line.startswith(b"\\"):  # "\ No newline at end of file" is not counted
                remaining -= 1
            continue
        if line.startswith(b"diff --git "):
            current = None
        elif line.startswith(b"+++ "):
            current = _target_path(line)
            if current is not None:
                changes.setdefault(current, set())
        elif line.startswith(b"@@ "):
            m = _HUNK.match(line)
            if m is None:
                continue
            old = int(m.group(1)) if m.group(1) is not None else 1
            start = int(m.group(2))
            new = int(m.group(3)) if m.group(3) is not None else 1
            remaining = old + new
            lines = changes.get(current) if current is not None else None
            if lines is not None:
                lines.update(range(start, start + new))
    return changes


def _name_status(out: bytes) -> list[str]:
    """New names of the files added/copied/modified/renamed/type-changed, in diff order,
    from ``git diff --name-status -z`` output."""
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


def _changes(root: Path, *args: str, unstaged: bool = False
             ) -> tuple[list[str], Changes, set[str]]:
    """The files and added lines of a diff (with ``unstaged``, also which files the work
    tree changes beyond the index: three git commands run at once)."""
    commands: list[tuple[str, ...]] = [
        ("diff", "--name-status", "-z", *_DIFF_OPTS, _REVIEWABLE, *args),
        ("diff", "-U0", *_DIFF_OPTS, _REVIEWABLE, *args),
    ]
    if unstaged:
        commands.append(_UNSTAGED)
    outs = git_together(root, *commands)
    files = _name_status(outs[0])
    lines = parse_unified_zero(outs[1])
    dirty = set(_split_z(outs[2])) & set(files) if unstaged else set()
    return files, {f: lines.get(f, set()) for f in files}, dirty


_UNSTAGED = ("diff", "--name-only", "-z", "--no-ext-diff", "--no-textconv",
             "--ignore-submodules=all")


# -- what changed ----------------------------------------------------------------------------
def has_head(root: Path) -> bool:
    """Whether the repository has a commit yet."""
    return git(root, "rev-parse", "--verify", "-q", "HEAD", check=False).returncode == 0


def staged_review(root: Path) -> tuple[list[str], Changes, set[str]]:
    """Files in the index that differ from HEAD, their added lines (index numbering), and
    which of them also have changes not yet staged (the disk differs from the index).
    ``git diff --cached`` with no commit compares with HEAD, or with nothing before the
    first commit, so no question about HEAD comes first."""
    return _changes(root, "--cached", unstaged=True)


def _resolve_commit(root: Path, ref: str) -> str | None:
    proc = git(root, "rev-parse", "--verify", "-q", "--end-of-options", f"{ref}^{{commit}}",
               check=False)
    return proc.stdout.strip().decode() if proc.returncode == 0 else None


def _is_shallow(root: Path) -> bool:
    out = git(root, "rev-parse", "--is-shallow-repository", check=False).stdout.strip()
    return out == b"true"


_FETCH_HINT = "; fetch more history (e.g. actions/checkout with fetch-depth: 0)"


def _commit_or_error(root: Path, ref: str, what: str) -> str:
    if not ref or ref.startswith("-"):
        raise ReviewerError(f"invalid {what} {ref!r}")
    sha = _resolve_commit(root, ref)
    if sha is None:
        hint = f": this is a shallow clone{_FETCH_HINT}" if _is_shallow(root) else ""
        raise ReviewerError(f"{what} {ref!r} not found{hint}")
    return sha


def merge_base(root: Path, ref: str, head: str = "HEAD") -> str:
    """The merge base of ``ref`` and ``head`` (a clear error when history is missing)."""
    sha = _commit_or_error(root, ref, "base ref")
    mb = git(root, "merge-base", sha, head, check=False)
    if mb.returncode != 0:
        why = "the history is cut by a shallow clone" if _is_shallow(root) else (
            "unrelated histories"
        )
        raise ReviewerError(f"no merge base between {ref!r} and {head} ({why}){_FETCH_HINT}")
    return mb.stdout.strip().decode()


def base_changes(root: Path, ref: str) -> tuple[list[str], Changes]:
    """Files changed since the merge base of ``ref`` and HEAD, working tree included."""
    if not has_head(root):
        raise ReviewerError("--base needs at least one commit (this repository has none)")
    files, changes, _ = _changes(root, merge_base(root, ref))
    return files, changes


def range_changes(root: Path, from_ref: str, to_ref: str) -> tuple[list[str], Changes, str]:
    """Files changed between the merge base of the two refs and ``to_ref`` (a push).

    Returns the files, their changes and the commit ``to_ref`` names.
    """
    to_sha = _commit_or_error(root, to_ref, "ref")
    base = merge_base(root, from_ref, to_sha)
    files, changes, _ = _changes(root, base, to_sha)
    return files, changes, to_sha


def blobs(root: Path, rels: Iterable[str], treeish: str = "") -> dict[str, bytes]:
    """File contents from the index (``treeish`` "") or from a commit, read in one batch.

    Paths missing there are left out.
    """
    wanted = set(rels)
    if not wanted:
        return {}
    # Whole listings, filtered here: no pathspecs, so no argument-length limit.
    if treeish:
        out = git(root, "ls-tree", "-r", "-z", "--full-tree", treeish).stdout
        entries = [e.split(b"\t", 1) for e in out.split(b"\0") if b"\t" in e]
        ids = {os.fsdecode(name): meta.split()[2].decode() for meta, name in entries
               if meta.startswith(b"100")}  # regular files: not links, not submodules
    else:
        out = git(root, "ls-files", "-z", "--stage").stdout
        entries = [e.split(b"\t", 1) for e in out.split(b"\0") if b"\t" in e]
        ids = {os.fsdecode(name): meta.split()[1].decode() for meta, name in entries
               if meta.split()[2] == b"0" and meta.startswith(b"100")}
    ids = {k: v for k, v in ids.items() if k in wanted}
    if not ids:
        return {}
    order = sorted(ids)
    out = git(root, "cat-file", "--batch", stdin="".join(ids[r] + "\n" for r in order).encode()
              ).stdout
    contents: dict[str, bytes] = {}
    pos = 0
    for rel in order:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        contents[rel] = out[header_end + 1:header_end + 1 + size]
        pos = header_end + 1 + size + 1
    return contents


# -- listing files ---------------------------------------------------------------------------
def tracked_files(root: Path, under: list[str] | None = None) -> list[str]:
    """Tracked and untracked-but-not-ignored files present on disk (git), in path order.

    Files deleted from the working tree and submodules are left out.
    """
    out = git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--",
              *(under or [])).stdout
    found = []
    base = os.fspath(root)
    for rel in sorted(set(_split_z(out))):
        try:  # one lstat per file: links (even broken ones) and files yes, folders no
            mode = os.lstat(os.path.join(base, rel)).st_mode
        except OSError:
            continue  # deleted from the working tree
        if not stat.S_ISDIR(mode):
            found.append(rel)
    return found


def walk_files(root: Path, under: list[str] | None = None) -> list[str]:
    """Every file below ``root`` (or below each of ``under``), skipping tool folders."""
    out = []
    starts = [root / u for u in under] if under else [root]
    for start in starts:
        if not start.is_dir() or start.is_symlink():
            out.append(Path(os.path.relpath(start, root)).as_posix())
            continue
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(d for d in dirnames
                                 if d not in SKIP_DIRS and not d.startswith("."))
            for name in filenames:
                out.append(Path(os.path.relpath(Path(dirpath) / name, root)).as_posix())
    return sorted(set(out))
