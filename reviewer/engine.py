"""files -> read -> parse -> rules -> suppressions -> fingerprints -> diff filter -> result.

The engine never prints and never writes to a user's file; it returns a :class:`Result`
that reporters render and that owns the exit code. Large reviews fan out over worker
processes; per-file results are cached by content hash (see :mod:`reviewer.cache`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import os
import tokenize
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from reviewer import __version__
from reviewer.config import Config
from reviewer.errors import EXIT_CLEAN, EXIT_FINDINGS, ReviewerError
from reviewer.findings import Finding, fingerprint
from reviewer.languages import detect, languages
from reviewer.rules import all_rules
from reviewer.rules.base import Rule
from reviewer.suppressions import Unused, apply_inline

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


@dataclass
class Result:
    """The outcome of a review. Owns the exit code."""

    findings: list[Finding]
    files_reviewed: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    unused_suppressions: list[Unused] = field(default_factory=list)
    hidden_by_baseline: int = 0
    filtered_by_diff: int = 0
    cache_hits: int = 0
    warnings: list[str] = field(default_factory=list)

    def exit_code(self, config: Config) -> int:
        """1 when any finding is at or above the failure threshold, else 0."""
        if any(f.severity >= config.fail_on for f in self.findings):
            return EXIT_FINDINGS
        return EXIT_CLEAN


# -- rule selection ------------------------------------------------------------------------
def _matches(rule: type[Rule], selectors: Iterable[str]) -> bool:
    for sel in selectors:
        s = sel.strip()
        if s.upper() == "ALL" or rule.id.startswith(s.upper()) or rule.slug == s.lower():
            return True
    return False


def selected_rules(config: Config) -> list[Rule]:
    """Instantiate every enabled rule with its configured options."""
    rules = all_rules()
    known = set(rules) | {r.slug for r in rules.values()}
    for sel in (*config.select, *config.ignore, *config.rule_options):
        s = sel.strip()
        if s.upper() != "ALL" and s not in known and not any(
            r.startswith(s.upper()) for r in rules
        ):
            raise ReviewerError(f"unknown rule {sel!r} in configuration (see `reviewer rules`)")
    out = []
    for rid, cls in rules.items():
        if _matches(cls, config.select) and not _matches(cls, config.ignore):
            opts = config.rule_options.get(rid) or config.rule_options.get(cls.slug)
            try:
                out.append(cls(opts))
            except ValueError as exc:
                raise ReviewerError(str(exc)) from None
    return out


def settings_key(config: Config, rules: Sequence[Rule]) -> str:
    """Identity of everything that changes per-file results (for the cache)."""
    h = hashlib.sha256(__version__.encode())
    for r in rules:
        h.update(f"{r.id}:{sorted(r.settings.items())!r}".encode())
    h.update(str(config.max_file_size).encode())
    return h.hexdigest()[:16]


# -- reading files -------------------------------------------------------------------------
def read_source(
    root: Path, rel: str, max_size: int, data: bytes | None = None
) -> tuple[str, bytes] | Skipped:
    """The decoded text and raw bytes of a file, or why it cannot be reviewed."""
    if data is not None:
        return _decode(rel, data, max_size)
    path = root / rel
    try:
        if path.is_symlink():
            target = path.resolve()
            try:
                target.relative_to(root.resolve())
            except ValueError:
                return Skipped(rel, "symlink points outside the repository; not followed")
        if not path.exists():
            return Skipped(rel, "file does not exist (deleted?)")
        if not path.is_file():
            return Skipped(rel, "not a regular file")
        size = path.stat().st_size
        if size > max_size:
            return Skipped(rel, f"file is {size} bytes, above the {max_size}-byte limit")
        data = path.read_bytes()
    except PermissionError:
        return Skipped(rel, "permission denied")
    except OSError as exc:
        return Skipped(rel, f"cannot read: {exc.strerror or exc}")
    return _decode(rel, data, max_size)


def _decode(rel: str, data: bytes, max_size: int) -> tuple[str, bytes] | Skipped:
    if len(data) > max_size:
        return Skipped(rel, f"file is {len(data)} bytes, above the {max_size}-byte limit")
    if b"\0" in data[:8192]:
        return Skipped(rel, "binary file")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError) as exc:
        return Skipped(rel, f"cannot determine the text encoding: {exc}")
    except UnicodeDecodeError as exc:
        return Skipped(rel, f"not valid {exc.encoding} text (byte {exc.start}); not reviewed")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, data


def is_excluded(rel: str, patterns: Iterable[str]) -> bool:
    """gitignore-like matching: "dir/" excludes a folder, globs match path or basename."""
    rel = rel.replace(os.sep, "/")
    name = rel.rsplit("/", 1)[-1]
    for pat in patterns:
        if pat.endswith("/"):
            d = pat.rstrip("/")
            if rel.startswith(d + "/") or f"/{d}/" in f"/{rel}":
                return True
        elif fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(name, pat):
            return True
    return False


# -- per-file work (runs in workers) -------------------------------------------------------
_WORKER_RULES: dict[str, list[Rule]] = {}


def _rules_by_language(rules: Sequence[Rule]) -> dict[str, list[Rule]]:
    out: dict[str, list[Rule]] = {}
    for r in rules:
        out.setdefault(r.language, []).append(r)
    return out


def review_source(
    rel: str, source: str, rules_by_lang: dict[str, list[Rule]], lang_name: str
) -> FileOutcome:
    """Run one language's rules on one file, apply inline suppressions, fingerprint."""
    lang = languages()[lang_name]
    raw = lang.review(rel, source, rules_by_lang.get(lang_name, []))
    kept, unused = apply_inline(raw, source, rel)
    return FileOutcome(add_fingerprints(kept, source), unused)


def add_fingerprints(findings: list[Finding], source: str) -> list[Finding]:
    """Sort findings and give each its line-independent fingerprint."""
    lines = source.splitlines()
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


def _init_worker(rules: list[Rule]) -> None:
    _WORKER_RULES["rules"] = rules


def _work(batch: list[tuple[str, str, str]]) -> list[tuple[str, FileOutcome]]:
    by_lang = _rules_by_language(_WORKER_RULES["rules"])
    return [(rel, review_source(rel, src, by_lang, lang)) for rel, src, lang in batch]


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
) -> Result:
    """Review the files of ``job`` and return the result (never prints)."""
    from reviewer import cache as cache_mod

    rules = selected_rules(config)
    by_lang = _rules_by_language(rules)
    key = settings_key(config, rules)
    store = cache_mod.Cache.load(job.root / config.cache_dir, key) if config.cache else None

    result = Result(findings=[])
    todo: list[tuple[str, str, str]] = []
    hashes: dict[str, str] = {}
    outcomes: dict[str, FileOutcome] = {}
    for rel in job.files:
        if is_excluded(rel, config.exclude):
            continue
        got = read_source(job.root, rel, config.max_file_size, job.contents.get(rel))
        if isinstance(got, Skipped):
            result.skipped.append(got)
            continue
        source, data = got
        lang = detect(rel, data[:256])
        if lang is None:
            continue
        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        hashes[rel] = digest
        cached = store.get(rel, digest) if store is not None else None
        if cached is not None:
            outcomes[rel] = cached
            result.cache_hits += 1
        else:
            todo.append((rel, source, lang.name))
    result.files_reviewed = len(hashes)

    workers = config.jobs or os.cpu_count() or 1
    if len(todo) >= PARALLEL_THRESHOLD and workers > 1:
        _run_parallel(todo, rules, workers, outcomes, progress)
    else:
        for i, (rel, source, lang_name) in enumerate(todo, 1):
            outcomes[rel] = review_source(rel, source, by_lang, lang_name)
            if progress:
                progress(i, len(todo))

    if store is not None:
        for rel, _src, _lang in todo:
            store.put(rel, hashes[rel], outcomes[rel])
        try:
            store.save()
        except OSError as exc:
            result.warnings.append(f"cache not saved: {exc.strerror or exc}")

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

    result.findings = sorted(findings, key=lambda f: f.sort_key)
    return result


def _per_file_ignores(findings: list[Finding], rel: str, config: Config) -> list[Finding]:
    if not config.per_file_ignores:
        return findings
    ignored: set[str] = set()
    for pattern, ids in config.per_file_ignores.items():
        if is_excluded(rel, [pattern]):
            ignored.update(ids)
    if not ignored:
        return findings
    return [
        f for f in findings
        if not any(f.rule_id.startswith(i) or f.slug == i for i in ignored)
    ]


def _run_parallel(
    todo: list[tuple[str, str, str]],
    rules: list[Rule],
    workers: int,
    outcomes: dict[str, FileOutcome],
    progress: Callable[[int, int], None] | None,
) -> None:
    import multiprocessing

    # Largest files first so no worker is left with a big one at the end.
    ordered = sorted(todo, key=lambda t: -len(t[1]))
    n_batches = max(workers * 8, 1)
    batches: list[list[tuple[str, str, str]]] = [[] for _ in range(n_batches)]
    for i, item in enumerate(ordered):
        batches[i % n_batches].append(item)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    done = 0
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(rules,)
    ) as pool:
        for batch_out in pool.map(_work, [b for b in batches if b]):
            for rel, out in batch_out:
                outcomes[rel] = out
            done += len(batch_out)
            if progress:
                progress(done, len(todo))
