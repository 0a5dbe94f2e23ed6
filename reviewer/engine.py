"""files -> read -> parse -> rules -> suppressions -> fingerprints -> diff filter -> result.

The engine never prints and never writes to a user's file; it returns a :class:`Result`
that reporters render and that owns the exit code. Large reviews fan out over worker
processes; per-file results are cached by content hash (see :mod:`reviewer.cache`).
"""

from __future__ import annotations

import fnmatch
import gc
import io
import os
import pickle
import stat
import sys
import time
import tokenize
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from reviewer import __version__
from reviewer.config import Config
from reviewer.digests import blake2b, sha256
from reviewer.errors import EXIT_CLEAN, EXIT_FINDINGS, ReviewerError
from reviewer.findings import Finding, fingerprint, split_lines
from reviewer.languages import Language, detect, languages
from reviewer.rules import all_rules
from reviewer.rules.base import Rule
from reviewer.suppressions import Unused, apply_inline, code_matches

if TYPE_CHECKING:
    from reviewer.cache import Cache, Stamp
    from reviewer.diff import Changes

# Below this many files to parse, worker processes cost more than they save.
PARALLEL_THRESHOLD = 40


@dataclass(frozen=True)
class Skipped:
    """A file that was not reviewed, and why (one line for the user)."""

    path: str
    reason: str


@dataclass
class FileOutcome:
    """What reviewing one file produced (cached per content hash)."""

    findings: list[Finding]
    unused: list[Unused]
    # (path, content digest) of the repository's other files whose facts the review used
    # (reviewer.rules._project); the cached outcome stands only while they are unchanged.
    depends: tuple[tuple[str, str], ...] = ()


@dataclass
class Result:
    """The outcome of a review. Owns the exit code."""

    findings: list[Finding]
    files_reviewed: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    unused_suppressions: list[Unused] = field(default_factory=list)
    hidden_by_baseline: int = 0
    filtered_by_diff: int = 0
    # Set by reviewer.feedback.learned (the team's verdicts), after the engine's review.
    hidden_by_verdicts: int = 0
    downgraded_by_verdicts: int = 0
    cache_hits: int = 0
    warnings: list[str] = field(default_factory=list)
    # Other files the results used (path -> content digest; see FileOutcome.depends).
    depends: dict[str, str] = field(default_factory=dict)

    def exit_code(self, config: Config) -> int:
        """1 when any finding is at or above the failure threshold (or an unused
        suppression is reported), else 0."""
        if any(f.severity >= config.fail_on for f in self.findings):
            return EXIT_FINDINGS
        if self.unused_suppressions:  # only present when they are reported (RUF100-like)
            return EXIT_FINDINGS
        return EXIT_CLEAN


# -- rule selection ------------------------------------------------------------------------
def _matches(rule: type[Rule], selectors: Iterable[str]) -> bool:
    for sel in selectors:
        s = sel.strip()
        if s.upper() == "ALL" or rule.id.startswith(s.upper()) or rule.slug == s.lower():
            return True
    return False


def known_selector(selector: str) -> bool:
    """Whether ``selector`` names at least one rule ("ALL", an ID, an ID prefix, a slug);
    taught principles' IDs ("T001", "T") always count (their file is read only when used)."""
    from reviewer.config import is_taught_selector

    s = selector.strip()
    rules = all_rules()
    return bool(s) and (
        s.upper() == "ALL"
        or is_taught_selector(s)
        or any(rid.startswith(s.upper()) for rid in rules)
        or any(cls.slug == s.lower() for cls in rules.values())
    )


def selected_rules(config: Config) -> list[Rule]:
    """Instantiate every enabled rule with its configured options.

    Unknown rule names anywhere in the configuration and invalid rule options are errors
    (exit code 2), whether or not the rule is enabled.
    """
    rules = all_rules()
    named = [*config.select, *config.ignore, *config.rule_options]
    for ids in config.per_file_ignores.values():
        named.extend(ids)
    for sel in named:
        if not known_selector(sel):
            raise ReviewerError(f"unknown rule {sel!r} in configuration (see `reviewer rules`)")
    out = []
    for rid, cls in rules.items():
        opts = config.rule_options.get(rid) or config.rule_options.get(cls.slug)
        enabled = _matches(cls, config.select) and not _matches(cls, config.ignore)
        if not enabled and not opts:
            continue
        try:
            rule = cls(opts)
        except ValueError as exc:
            raise ReviewerError(str(exc)) from None
        if enabled:
            out.append(rule)
    return out


def settings_key(config: Config, rules: Sequence[Rule], fixes: bool = True) -> str:
    """Identity of everything that changes per-file results (for the cache).

    The version, the cache format, the Python version (its ``ast`` differs), each enabled
    rule with its options, the size limit, whether the rules built their fixes, and the
    code of the checks themselves (so an edited rule in a development checkout does not
    serve stale results).
    """
    from reviewer.cache import FORMAT

    h = sha256(f"{__version__}:{FORMAT}:{sys.version_info[:2]}".encode())
    for r in rules:
        h.update(f"{r.id}:{sorted(r.settings.items())!r}".encode())
    h.update(f"{config.max_file_size}:{config.honor_foreign_suppressions}".encode())
    h.update(f"fixes:{fixes}".encode())  # results with or without libcst fixes
    h.update(code_stamp(RESULT_CODE).encode())
    return h.hexdigest()[:16]


def known_settings_key(config: Config, fixes: bool, folder: Path) -> str:
    """:func:`settings_key`, without importing the rules when this cache folder has seen
    the same settings and code before.

    The key needs every enabled rule's options, so every rule module; an unchanged re-run
    (which only replays the last report) would import them for that alone. The pairs
    (settings and code stamp -> key) are kept in ``settings-keys.marshal`` beside the
    results; the code stamp covers the rules' code, so an edited rule computes the key
    again.
    """
    import marshal

    fast = sha256(
        f"{__version__}:{sys.version_info[:2]}:{config!r}:{fixes}:"
        f"{code_stamp(RESULT_CODE)}".encode("utf-8", "surrogateescape")).hexdigest()
    memo = folder / _KEYS_FILE
    known: dict[str, str] = {}
    try:
        loaded = marshal.loads(memo.read_bytes())
        if isinstance(loaded, dict):
            known = loaded
    except (OSError, ValueError, EOFError, TypeError):
        pass
    key = known.get(fast)
    if isinstance(key, str):
        return key
    key = settings_key(config, selected_rules(config), fixes)
    known = {k: v for k, v in list(known.items())[-15:] if isinstance(v, str)}
    known[fast] = key
    try:
        from reviewer.fileio import replace_bytes

        folder.mkdir(parents=True, exist_ok=True)
        replace_bytes(memo, marshal.dumps(known))
    except OSError:
        pass  # a folder that cannot be written: the key is computed each time
    return key


_KEYS_FILE = "settings-keys.marshal"

# The parts of the package whose code decides per-file results: the top-level modules
# ("" : not its sub-packages) and these sub-packages with everything below them.
RESULT_CODE = ("", "rules", "languages")


@lru_cache(maxsize=4)
def code_stamp(parts: tuple[str, ...] | None = None) -> str:
    """A digest of (name, mtime, size) of reviewer's own code and data files: those of
    ``parts`` (see :data:`RESULT_CODE`), or of the whole package (None). Reads no content;
    computed once per process."""
    here = os.path.dirname(os.path.abspath(__file__))
    entries = []
    for folder, subdirs, names in os.walk(here):
        rel = os.path.relpath(folder, here).replace(os.sep, "/")
        top = "" if rel == "." else rel.split("/", 1)[0]
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__"
                            and (parts is None or (top == "" and d in parts) or top != ""))
        if parts is not None and top not in parts:
            continue
        for name in sorted(names):
            if name.endswith((".py", ".json", ".toml")):
                st = os.stat(os.path.join(folder, name))
                entries.append(f"{rel}/{name}:{st.st_mtime_ns}:{st.st_size}")
    text = "\n".join(entries)
    return sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


# -- reading files -------------------------------------------------------------------------
def read_source(
    root: Path, rel: str, max_size: int, data: bytes | None = None
) -> tuple[str, bytes] | Skipped:
    """The decoded text and raw bytes of a file, or why it cannot be reviewed.

    ``data``, when given, is reviewed instead of the file (e.g. its staged version). Links
    and folders leading outside ``root`` are not followed; only regular files are read.
    """
    if data is None:
        got = _read_bytes(root, rel, max_size)
        if isinstance(got, Skipped):
            return got
        data = got
    return _decode(rel, data, max_size)


def _read_bytes(root: Path, rel: str, max_size: int) -> bytes | Skipped:
    path = os.path.join(root, rel)
    try:
        problem = _refusal(str(root), path, max_size)
        if problem is not None:
            return Skipped(rel, problem)
        with open(path, "rb") as fh:
            return fh.read(max_size + 1)
    except FileNotFoundError:
        gone = "broken symbolic link" if os.path.islink(path) else "file does not exist (deleted?)"
        return Skipped(rel, gone)
    except PermissionError:
        return Skipped(rel, "permission denied")
    except OSError as exc:
        return Skipped(rel, f"cannot read: {exc.strerror or exc}")


def _refusal(root: str, path: str, max_size: int) -> str | None:
    """Why the file at ``path`` must not be read (None: it may be)."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        if not _inside(root, os.path.realpath(path)):
            return "symbolic link to outside the repository; not followed"
        st = os.stat(path)
    elif not _inside(root, _real_dir(os.path.dirname(path))):
        return "in a folder linked from outside the repository; not followed"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if st.st_size > max_size:
        return f"file is {st.st_size} bytes, above the {max_size}-byte limit"
    return None


@lru_cache(maxsize=4096)
def _real_dir(directory: str) -> str:
    return os.path.realpath(directory)


def _inside(root: str, real: str) -> bool:
    base = _real_dir(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def _decode(rel: str, data: bytes, max_size: int) -> tuple[str, bytes] | Skipped:
    if len(data) > max_size:
        return Skipped(rel, f"file is {len(data)} bytes, above the {max_size}-byte limit")
    if b"\0" in data[:8192]:
        return Skipped(rel, "binary file")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        return Skipped(rel, _encoding_problem(exc))
    return (text[1:] if text.startswith("\ufeff") else text), data


def _encoding_problem(exc: SyntaxError | LookupError | UnicodeDecodeError) -> str:
    """One line on why bytes could not be decoded as source text."""
    if isinstance(exc, UnicodeDecodeError):
        return f"not valid {exc.encoding.upper()} text (byte {exc.start}); not reviewed"
    if isinstance(exc, LookupError):
        return f"declares an unknown encoding ({exc}); not reviewed"
    reason = str(exc.msg)  # from detect_encoding: a bad first line or coding cookie
    if "unknown encoding" in reason:
        return f"declares an {reason.split(' for ')[0]}; not reviewed"
    return "not valid UTF-8 text and no coding declaration; not reviewed"


def is_excluded(rel: str, patterns: Iterable[str]) -> bool:
    """gitignore-like matching of a root-relative path.

    A pattern without a slash (``*.py``, ``build``) matches any file or folder name; one with
    a slash (``src/gen/*.py``, ``/setup.py``, ``**/fixtures``) matches from the root; a
    trailing slash (``examples/``) matches folders only. A folder match excludes every file
    below it. ``*`` also crosses ``/``.
    """
    parts = rel.replace(os.sep, "/").removeprefix("./").split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    for pat in patterns:
        body = pat.strip().strip("/")
        if not body:
            continue
        candidates = prefixes[:-1] if pat.strip().endswith("/") else prefixes
        anchored = "/" in body or pat.strip().startswith("/")
        for cand in candidates:
            if anchored:
                if fnmatch.fnmatchcase(cand, body) or (
                    body.startswith("**/") and fnmatch.fnmatchcase(cand, body[3:])
                ):
                    return True
            elif fnmatch.fnmatchcase(cand.rsplit("/", 1)[-1], body):
                return True
    return False


# -- per-file work (runs in workers) -------------------------------------------------------
def _rules_by_language(rules: Sequence[Rule], needed: Iterable[str] | None = None
                       ) -> dict[str, list[Rule]]:
    """The rules that check each language (``needed``: only these languages are asked
    for; Python alone needs no per-language implementation, which are then not loaded)."""
    wanted = set(needed) if needed is not None else None
    if wanted is not None and wanted <= {"python"}:
        return {"python": [r for r in rules if r.language == "python"]}
    out: dict[str, list[Rule]] = {}
    for r in rules:
        for language in r.languages():
            out.setdefault(language, []).append(r)
    return out


def review_source(
    rel: str, source: str, rules_by_lang: dict[str, list[Rule]], lang_name: str,
    foreign: bool = True, fixes: bool = True,
) -> FileOutcome:
    """Run one language's rules on one file (building their fixes unless ``fixes`` is
    False), apply inline suppressions, fingerprint."""
    from reviewer.rules import _project

    lang = languages()[lang_name]
    _project.start_file()
    raw = lang.review(rel, source, rules_by_lang.get(lang_name, []), fixes)
    kept, unused = apply_inline(raw, source, rel, foreign, lang_name)
    return FileOutcome(add_fingerprints(kept, source), unused, _project.used())


def add_fingerprints(findings: list[Finding], source: str) -> list[Finding]:
    """Sort findings and give each its line-independent fingerprint."""
    lines = split_lines(source)
    seen: Counter[tuple[str, str, str]] = Counter()
    out = []
    for f in sorted(findings, key=lambda f: f.sort_key):
        code = lines[f.span.line - 1] if 0 < f.span.line <= len(lines) else ""
        scope = f.symbol
        key = (f.rule_id, code.strip(), scope)
        occurrence = seen[key]
        seen[key] += 1
        out.append(f.with_(fingerprint=fingerprint(f.rule_id, f.path, code, scope, occurrence)))
    return out


@dataclass(frozen=True)
class _Task:
    """One file to read, hash and (unless its hash is the cached one) review."""

    rel: str
    language: str
    size: int  # for ordering: big files first
    stamp: Stamp | None  # stat stamp taken before reading (recorded with the result)
    known: str | None  # the content digest the cache holds for this path
    data: bytes | None  # content to review instead of the file (e.g. the staged version)


# (content digest, pickled outcome or None when the digest is the ``known`` one), or why the
# file was not reviewed.
_Done = tuple[str, bytes | None] | Skipped


@dataclass(frozen=True)
class _Setup:
    """What every task of one review shares (handed to worker processes once)."""

    root: Path
    max_size: int
    rules: dict[str, list[Rule]]
    foreign: bool = True  # honor other tools' suppression comments
    fixes: bool = True  # rules build their libcst fixes (the context's want_fixes)


_WORKER: dict[str, _Setup] = {}


def _do(task: _Task, setup: _Setup) -> _Done:
    """Read, decode and hash one file; review it unless the cache already has this content."""
    got = read_source(setup.root, task.rel, setup.max_size, task.data)
    if isinstance(got, Skipped):
        return got
    source, raw = got
    digest = blake2b(raw, digest_size=16).hexdigest()
    if digest == task.known:
        return digest, None
    from reviewer.rules._project import project

    with project(setup.root):
        outcome = review_source(task.rel, source, setup.rules, task.language, setup.foreign,
                                setup.fixes)
    return digest, _dump(outcome)


def _init_worker(setup: _Setup) -> None:
    _WORKER["setup"] = setup
    # Parsing allocates hundreds of thousands of acyclic objects per file; the cyclic
    # collector only slows that down (2-3x on big trees). A worker lives for one review.
    gc.disable()


def _work(batch: list[_Task]) -> list[tuple[str, _Done]]:
    """Do a batch of tasks in a worker process; outcomes go back pickled, as cached."""
    setup = _WORKER["setup"]
    return [(task.rel, _do(task, setup)) for task in batch]


def _dump(outcome: FileOutcome) -> bytes:
    return pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside (ASTs and findings hold no cycles)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# -- the review ----------------------------------------------------------------------------
@dataclass
class Job:
    """What to review: files relative to ``root`` and, for diff-aware modes, changed lines."""

    root: Path
    files: list[str]
    # path -> changed line numbers (None: treat the whole file as changed); None: no diff.
    changes: dict[str, set[int] | None] | None = None
    # The diff-filter name, overriding config (None: config's).
    diff_filter: str | None = None
    # Content to review instead of the file on disk (e.g. the staged version).
    contents: dict[str, bytes] = field(default_factory=dict)


def run(
    job: Job,
    config: Config,
    progress: Callable[[int, int], None] | None = None,
    use_baseline: bool = True,
    fixes: bool = True,
) -> Result:
    """Review the files of ``job`` and return the result (never prints).

    ``fixes=False`` skips the rules' libcst fixes (what ``reviewer check`` does: it only
    reports); the results are cached apart from those with fixes.
    """
    with _gc_paused():
        return _run(job, config, progress, use_baseline, fixes)


def _run(
    job: Job,
    config: Config,
    progress: Callable[[int, int], None] | None,
    use_baseline: bool,
    fixes: bool,
) -> Result:
    from reviewer import cache as cache_mod

    rules = selected_rules(config)
    store = None
    if config.cache:
        store = cache_mod.Cache.load(job.root / config.cache_dir,
                                     settings_key(config, rules, fixes))
    result = Result(findings=[])
    outcomes: dict[str, FileOutcome] = {}
    tasks = _plan(job, config, store, outcomes)
    result.cache_hits = len(outcomes)
    setup = _Setup(job.root, config.max_file_size,
                   _rules_by_language(rules, {t.language for t in tasks}),
                   config.honor_foreign_suppressions, fixes)
    workers = config.jobs or os.cpu_count() or 1
    if len(tasks) >= PARALLEL_THRESHOLD and workers > 1:
        done = _run_parallel(tasks, setup, workers, progress)
    elif workers > 1 and _forks_pay(tasks):
        done = _run_forked(tasks, setup, progress)
    else:
        done = _run_serial(tasks, setup, progress)
    _absorb(tasks, done, store, outcomes, result)
    _recheck_depends(job, tasks, done, setup, store, outcomes, result)
    result.files_reviewed = len(outcomes)
    if store is not None:
        try:
            store.save()
        except OSError as exc:
            result.warnings.append(f"cache not saved: {exc.strerror or exc}")
    result.findings = _kept_findings(job, config, outcomes, result, use_baseline)
    for out in outcomes.values():
        result.depends.update(out.depends)
    return result


def buffer_language(rel: str, text: str, language_id: str | None = None) -> str | None:
    """The name of the plug-in that reviews an in-memory buffer, or None.

    By the path (extension, then a ``#!`` line), else by the editor's language id when a
    plug-in has that name (untitled buffers). Whatever languages are registered count.
    """
    lang = detect(rel, text[:256].encode("utf-8", "surrogatepass") if text.startswith("#!")
                  else b"")
    if lang is not None:
        return lang.name
    if language_id and language_id in languages():
        return language_id
    return None


def review_buffer(  # reviewer: ignore[RV303] the options are keyword-only
    root: Path,
    rel: str,
    text: str,
    config: Config,
    *,
    language: str | None = None,
    changes: dict[str, set[int] | None] | None = None,
    rules: Sequence[Rule] | None = None,
    use_baseline: bool = True,
    fixes: bool = True,
) -> Result:
    """Review the text of an editor buffer as ``check`` would review the file ``rel``
    (building the rules' libcst fixes unless ``fixes`` is False).

    The same exclusions, rules, inline suppressions, per-file ignores, diff filter
    (``changes``, with the configured mode) and baseline; nothing is read from disk but
    the baseline, nothing is cached. ``language``: the plug-in (default: from ``rel``).
    A text the engine would not review (excluded, no plug-in, too big, NUL bytes) gives an
    empty result, with the reason in ``skipped`` when there is one.
    """
    result = Result(findings=[])
    if config.exclude and is_excluded(rel, config.exclude):
        return result
    lang = language or buffer_language(rel, text)
    if lang is None:
        return result
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > config.max_file_size:
        result.skipped.append(
            Skipped(rel, f"buffer is {size} bytes, above the {config.max_file_size}-byte limit"))
        return result
    if "\0" in text[:8192]:
        result.skipped.append(Skipped(rel, "binary content"))
        return result
    text = text[1:] if text.startswith("\ufeff") else text
    chosen = selected_rules(config) if rules is None else rules
    with _gc_paused():
        outcome = review_source(rel, text, _rules_by_language(chosen), lang,
                                config.honor_foreign_suppressions, fixes)
    result.files_reviewed = 1
    job = Job(root, [rel], changes=changes)
    result.findings = _kept_findings(job, config, {rel: outcome}, result, use_baseline)
    return result


def _run_serial(
    tasks: list[_Task], setup: _Setup, progress: Callable[[int, int], None] | None
) -> dict[str, _Done]:
    done: dict[str, _Done] = {}
    for i, task in enumerate(tasks, 1):
        done[task.rel] = _do(task, setup)
        if progress:
            progress(i, len(tasks))
    return done


# Below PARALLEL_THRESHOLD files a process pool costs more than it saves (its start-up,
# the imports of multiprocessing); from this many bytes of source, one forked child that
# reviews about half of them is worth its fork (a few milliseconds).
FORK_MIN_BYTES = 48_000


def _forks_pay(tasks: list[_Task]) -> bool:
    """Whether a small review is split with one forked child: Linux (fork is the default
    start method there; macOS is not fork-safe for every library), a single-threaded
    process (an editor or service process has other threads: forking them is unsafe),
    two files at least and enough source."""
    if len(tasks) < 2 or not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    import threading

    return threading.active_count() == 1 and sum(t.size for t in tasks) >= FORK_MIN_BYTES


def _run_forked(
    tasks: list[_Task], setup: _Setup, progress: Callable[[int, int], None] | None
) -> dict[str, _Done]:
    """Review about half the bytes in a forked child while this process reviews the
    rest; the child sends its results through a pipe. A child that fails or dies leaves
    its files to this process, so the result never depends on the split."""
    mine: list[_Task] = []
    theirs: list[_Task] = []
    weight = [0, 0]
    for task in sorted(tasks, key=lambda t: -t.size):  # biggest first, to the lighter side
        side = 0 if weight[0] <= weight[1] else 1
        (mine if side == 0 else theirs).append(task)
        weight[side] += task.size
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: review, send, and end without any cleanup of the parent's
        status = 1
        try:
            os.close(read_end)
            data = pickle.dumps(_run_serial(theirs, setup, None), pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    data = b""
    try:
        with os.fdopen(read_end, "rb") as inp:  # closed first on any error: the child ends
            done = _run_serial(mine, setup, None)
            data = inp.read()
    finally:
        _, status = os.waitpid(pid, 0)
    got: dict[str, _Done] | None = None
    if status == 0 and data:
        try:
            got = pickle.loads(data)
        except (pickle.UnpicklingError, EOFError, ValueError):
            got = None
    done.update(got if got is not None and set(got) == {t.rel for t in theirs}
                else _run_serial(theirs, setup, None))
    if progress:
        progress(len(done), len(tasks))
    return done


def _absorb(
    tasks: list[_Task],
    done: dict[str, _Done],
    store: Cache | None,
    outcomes: dict[str, FileOutcome],
    result: Result,
) -> None:
    """Take the tasks' results into ``outcomes``, the cache and the skipped list."""
    for task in tasks:
        got = done[task.rel]
        if isinstance(got, Skipped):
            result.skipped.append(got)
            continue
        digest, blob = got
        if blob is None:  # the content the cache has (the file was only touched)
            blob = store.get(task.rel, digest, task.stamp) if store is not None else None
            result.cache_hits += 1
        elif store is not None:
            store.put(task.rel, digest, task.stamp, blob)
        if blob is not None:
            outcomes[task.rel] = pickle.loads(blob)


def _recheck_depends(
    job: Job,
    tasks: list[_Task],
    done: dict[str, _Done],
    setup: _Setup,
    store: Cache | None,
    outcomes: dict[str, FileOutcome],
    result: Result,
) -> None:
    """Review again the cached outcomes whose other files (``depends``) changed."""
    fresh = {rel for rel, got in done.items() if not isinstance(got, Skipped) and got[1]}
    current: dict[str, str | None] = {}
    now = time.time_ns()
    for rel, out in list(outcomes.items()):
        if rel in fresh or not out.depends:
            continue
        if depends_unchanged(setup.root, out.depends, current):
            continue
        data = job.contents.get(rel)
        lang = _language(str(setup.root), rel, data)
        if lang is None:
            continue
        size, stamp = (len(data), None) if data is not None else _stamp(str(setup.root), rel, now)
        task = _Task(rel, lang.name, size, stamp, None, data)
        del outcomes[rel]
        result.cache_hits -= 1
        _absorb([task], {rel: _do(task, setup)}, store, outcomes, result)


def depends_unchanged(root: Path, depends: Iterable[tuple[str, str]],
                      memo: dict[str, str | None] | None = None) -> bool:
    """Whether every other file a review used (``depends``: path, content digest) still
    has that content; ``memo`` keeps each file's digest across calls (each read once)."""
    from reviewer.rules._project import current_digest

    seen = {} if memo is None else memo
    for rel, digest in depends:
        if rel not in seen:
            seen[rel] = current_digest(root, rel)
        if seen[rel] != digest:
            return False
    return True


def _kept_findings(
    job: Job,
    config: Config,
    outcomes: dict[str, FileOutcome],
    result: Result,
    use_baseline: bool,
) -> list[Finding]:
    """Per-file ignores, then the diff filter, then the baseline; sorted."""
    findings: list[Finding] = []
    for rel in job.files:
        out = outcomes.get(rel)
        if out is None:
            continue
        findings.extend(_per_file_ignores(out.findings, rel, config))
        result.unused_suppressions.extend(out.unused)

    if job.changes is not None:
        from reviewer.diff import filter_findings

        mode = job.diff_filter or config.diff_filter
        kept = filter_findings(findings, job.changes, mode, config.context_lines)
        result.filtered_by_diff = len(findings) - len(kept)
        findings = kept

    if use_baseline:
        from reviewer.baseline import load_baseline

        known = load_baseline(job.root / config.baseline)
        if known:
            before = len(findings)
            findings = [f for f in findings if f.fingerprint not in known]
            result.hidden_by_baseline = before - len(findings)
    return sorted(findings, key=lambda f: f.sort_key)


def _plan(
    job: Job, config: Config, store: Cache | None, outcomes: dict[str, FileOutcome]
) -> list[_Task]:
    """The files to read, in job order; unchanged files' outcomes come from the cache.

    Only files a language plug-in claims are considered. With a cache, a file whose stat
    stamp is the recorded one is taken as is (not even read); any other file becomes a
    task that reads and hashes it, and reviews it unless the hash is the cached one.
    """
    tasks: list[_Task] = []
    root = str(job.root)
    now = time.time_ns()
    exclude = config.exclude
    for rel in job.files:
        if exclude and is_excluded(rel, exclude):
            continue
        data = job.contents.get(rel)
        lang = _language(root, rel, data)
        if lang is None:
            continue  # not a language we review: never read, never reported
        size, stamp = (len(data), None) if data is not None else _stamp(root, rel, now)
        known = None
        if store is not None:
            blob = store.by_stamp(rel, stamp) if stamp is not None else None
            if blob is not None:
                outcomes[rel] = pickle.loads(blob)
                continue
            known = store.digest(rel)
        tasks.append(_Task(rel, lang.name, size, stamp, known, data))
    return tasks


def _language(root: str, rel: str, data: bytes | None) -> Language | None:
    """The plug-in for a file: by extension, else by the ``#!`` line of a file without an
    extension (the only files whose head is read for this). Files of other types are
    neither read nor reported."""
    lang = detect(rel, b"")
    if lang is not None:
        return lang
    if "." in rel.rsplit("/", 1)[-1].lstrip("."):
        return None
    if data is None:
        path = os.path.join(root, rel)
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                return None
            with open(path, "rb") as fh:
                data = fh.read(256)
        except OSError:
            return None
    return detect(rel, data[:256]) if data.startswith(b"#!") else None


# A file changed this recently may change again within the file system's time resolution
# without its stamp changing ("racy git"): such files are always read and hashed.
RACY_NS = 2_000_000_000


def _stamp(root: str, rel: str, now: int) -> tuple[int, Stamp | None]:
    """The size of a file (0 if unknown) and its stat stamp, or None for a stamp.

    Only a plain file inside the root, not modified in the last two seconds, has a stamp;
    anything else takes the full path through :func:`read_source` and the content hash.
    """
    path = os.path.join(root, rel)
    try:
        st = os.lstat(path)
    except OSError:
        return 0, None
    if not stat.S_ISREG(st.st_mode) or now - st.st_mtime_ns < RACY_NS:
        return st.st_size, None
    if not _inside(root, _real_dir(os.path.dirname(path))):
        return st.st_size, None
    return st.st_size, (st.st_mtime_ns, st.st_size)


def _per_file_ignores(findings: list[Finding], rel: str, config: Config) -> list[Finding]:
    if not config.per_file_ignores:
        return findings
    ignored: set[str] = set()
    for pattern, ids in config.per_file_ignores.items():
        if is_excluded(rel, [pattern]):
            ignored.update(ids)
    if not ignored:
        return findings
    return [f for f in findings if not any(code_matches(i, f.rule_id, f.slug) for i in ignored)]


def _run_parallel(
    tasks: list[_Task],
    setup: _Setup,
    workers: int,
    progress: Callable[[int, int], None] | None,
) -> dict[str, _Done]:
    """Do ``tasks`` in worker processes (fork where available), biggest files first."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ordered = sorted(tasks, key=lambda t: -t.size)
    n_batches = max(workers * 8, 1)
    batches: list[list[_Task]] = [[] for _ in range(n_batches)]
    for i, task in enumerate(ordered):
        batches[i % n_batches].append(task)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    done: dict[str, _Done] = {}
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(setup,)
    ) as pool:
        for batch_out in pool.map(_work, [b for b in batches if b]):
            done.update(batch_out)
            if progress:
                progress(len(done), len(tasks))
    return done


def unchanged_key(job: Job, config: Config, fixes: bool = True) -> str | None:
    """A digest of what the engine would review when every file is unchanged since it was
    cached (its stat stamp is the recorded one): the settings key and each file's content
    digest. None when any file is new, changed, touched in the last two seconds, skipped,
    or given as content (the staged version), or without a cache. Reads no file's content.
    """
    if not config.cache or job.contents:
        return None
    from reviewer import cache as cache_mod

    folder = job.root / config.cache_dir
    key = known_settings_key(config, fixes, folder)
    store = cache_mod.Cache.load(folder, key)
    if not store.entries:
        return None
    h = sha256(key.encode())
    root = str(job.root)
    now = time.time_ns()
    exclude = config.exclude
    for rel in job.files:
        if (exclude and is_excluded(rel, exclude)) or _language(root, rel, None) is None:
            continue
        _, stamp = _stamp(root, rel, now)
        if stamp is None or store.by_stamp(rel, stamp) is None:
            return None
        h.update(f"{rel}\0{store.digest(rel)}\0".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def reported_unused(
    unused: list[Unused], config: Config, taught_codes: Iterable[str],
    changes: Changes | None = None, mode: str | None = None,
) -> list[Unused]:
    """The unused suppression comments worth reporting (``report-unused-suppressions``):
    codes of enabled rules that hid nothing on their file and codes naming no rule at all;
    never the codes of taught principles (``taught_codes``: their IDs and slugs, judged only
    with the model). With ``changes`` (a diff review), only those on kept lines."""
    from reviewer.diff import line_kept
    from reviewer.suppressions import relevant_unused

    rules = selected_rules(config)

    def enabled(code: str, path: str) -> bool:
        ignored = [i for pat, ids in config.per_file_ignores.items()
                   if is_excluded(path, [pat]) for i in ids]
        return any(
            code_matches(code, r.id, r.slug)
            and not any(code_matches(i, r.id, r.slug) for i in ignored)
            for r in rules
        )

    taught = {c.lower() for c in taught_codes}

    def known(code: str) -> bool:
        return known_selector(code) or code.lower() in taught

    out = relevant_unused(unused, enabled, known)
    if changes is not None:
        kept_mode = mode or config.diff_filter
        out = [u for u in out
               if line_kept(u.path, u.line, changes, kept_mode, config.context_lines)]
    return out
