"""Learned suppressions: get quieter where the team said the reviewer was wrong.

After the engine's review and before anything is explained, recorded or reported:

1. A finding that itself has a verdict keeps it: latest verdict *dismiss* -> hidden (a
   dismissed finding stays dismissed, by fingerprint, whatever ``learned-suppression``
   says); *accept* -> never made quieter.
2. With ``learned-suppression`` = ``hide`` or ``downgrade``, a finding without a verdict is
   compared with the dismissed findings of the same rule (those whose latest verdict, of any
   author, is *dismiss*): when the cosine similarity of the flagged code (the embedding of
   :func:`reviewer.feedback.snapshot.flagged_code`) is at least ``learn-similarity`` for at
   least ``learn-min-dismissed`` of them, the finding is hidden or downgraded to ``info``,
   with a note saying why.

Cost: the database is opened only when it exists, and the embedding model is loaded only
when some rule of the current findings has at least ``learn-min-dismissed`` dismissed
findings. Vectors are cached in the database per embedding model, so a dismissed finding is
embedded once. A missing model or a broken database never fails the run: the findings stay
as the engine reported them, and one warning line says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reviewer.errors import ReviewerError
from reviewer.findings import Finding, Severity, split_lines

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.context.embed import Embedder
    from reviewer.engine import Result
    from reviewer.feedback.store import FeedbackStore, Judged

MODES = ("hide", "downgrade", "off")
NOTE_DISMISSED = "dismissed earlier (reviewer feedback)"
MAX_REASON = 80

EmbedderFactory = Callable[[Path, "Config"], "Embedder"]


@dataclass(frozen=True)
class Example:
    """A dismissed finding the team gave a verdict on: its code and why it was dismissed."""

    fingerprint: str
    rule_id: str
    code: str
    reason: str


@dataclass(frozen=True)
class Match:
    """How similar a new finding is to the dismissed findings of its rule."""

    similar: int  # dismissed findings at or above the threshold
    best: float  # the highest similarity
    reason: str  # the reason given for the most similar one ("" when none)


def default_embedder(root: Path, cfg: Config) -> Embedder:
    """The configured embedding model (``embedding-model``; "" = the bundled MiniLM): the
    process-wide quick embedder of the context package (numpy for the few texts a run
    usually embeds, no torch import; sentence-transformers for other model shapes)."""
    from reviewer.context.embed import quick_embedder

    found: Embedder = quick_embedder(root, cfg)
    return found


def apply_learned(result: Result, root: Path, cfg: Config,
                  contents: Mapping[str, bytes] | None = None,
                  embedder: EmbedderFactory | None = None,
                  db_root: Path | None = None) -> list[str]:
    """Hide or downgrade ``result.findings`` by the team's verdicts (in place).

    ``contents`` holds the reviewed text of files not read from disk (staged blobs);
    ``db_root`` is where the database lives when it is not ``root`` (the PR bot reviews a
    temporary worktree of its checkout).
    Returns warning lines (at most one); never raises for a missing model or a broken
    database.
    """
    from reviewer.feedback.snapshot import RECORD_WAIT_S
    from reviewer.feedback.store import FeedbackStore, db_path

    path = db_path(db_root or root, cfg.feedback_db)
    if not result.findings or not path.is_file():
        return []
    import sqlite3  # here: a run with no findings or no verdicts database never needs it

    make = embedder or default_embedder

    def codes(findings: Sequence[Finding]) -> dict[str, str]:
        return candidate_codes(findings, root, contents or {})

    try:
        with FeedbackStore.open(path, create=False, wait=RECORD_WAIT_S) as store:
            _apply(result, store, cfg, codes, lambda: make(root, cfg))
    except (ReviewerError, OSError, sqlite3.Error, ValueError) as exc:
        return [f"learned suppressions skipped: {exc}"]
    return []


def _apply(result: Result, store: FeedbackStore, cfg: Config,
           codes_of: Callable[[Sequence[Finding]], dict[str, str]],
           embedder: Callable[[], Embedder]) -> None:
    latest = store.latest_many([f.fingerprint for f in result.findings if f.fingerprint])
    verdict_of = {fp: v.verdict for fp, v in latest.items()}
    kept = [f for f in result.findings if verdict_of.get(f.fingerprint) != "dismiss"]
    result.hidden_by_verdicts += len(result.findings) - len(kept)
    result.findings = kept
    if cfg.learned_suppression not in ("hide", "downgrade"):
        return
    open_ = [f for f in kept if f.fingerprint and f.fingerprint not in verdict_of]
    examples = dismissed_examples(store, {f.rule_id for f in open_})
    rules = {r for r, ex in examples.items() if len(ex) >= max(1, cfg.learn_min_dismissed)}
    candidates = [f for f in open_ if f.rule_id in rules]
    if not candidates:
        return  # the cost rule: no model is loaded
    model = embedder()
    codes = codes_of(candidates)
    wanted = [e for r in rules for e in examples[r]]
    vectors = cached_vectors(store, model, {e.fingerprint: e.code for e in wanted} | codes)
    matches = {}
    for f in candidates:
        m = match(vectors.get(f.fingerprint), examples[f.rule_id], vectors, cfg.learn_similarity)
        if m.similar >= cfg.learn_min_dismissed:
            matches[f.fingerprint] = m
    _quieten(result, matches, cfg.learned_suppression)


def dismissed_examples(store: FeedbackStore, rule_ids: set[str]) -> dict[str, list[Example]]:
    """The dismissed findings (latest verdict of anybody is *dismiss*) of ``rule_ids``."""
    out: dict[str, list[Example]] = {}
    for rule_id in sorted(rule_ids):
        last: dict[str, Judged] = {}
        for judged in store.verdicts(rule_id=rule_id, latest=False):
            last[judged.verdict.fingerprint] = judged  # oldest first: the last one wins
        out[rule_id] = [
            Example(fp, rule_id, j.finding.code, j.verdict.reason)
            for fp, j in last.items()
            if j.verdict.verdict == "dismiss" and j.finding is not None and j.finding.code.strip()
        ]
    return out


def candidate_codes(findings: Sequence[Finding], root: Path,
                    contents: Mapping[str, bytes]) -> dict[str, str]:
    """fingerprint -> the flagged code of each finding (as the store records it)."""
    from reviewer.feedback.snapshot import flagged_code

    lines: dict[str, list[str]] = {}
    out: dict[str, str] = {}
    for f in findings:
        if f.path not in lines:
            data = contents.get(f.path)
            if data is None:
                try:
                    data = (root / f.path).read_bytes()
                except OSError:
                    data = b""
            lines[f.path] = split_lines(data.decode("utf-8", "replace").removeprefix("\ufeff"))
        code = flagged_code(f, lines[f.path])
        if code.strip():
            out[f.fingerprint] = code
    return out


def cached_vectors(store: FeedbackStore, model: Embedder,
                   codes: Mapping[str, str]) -> dict[str, list[float]]:
    """Vectors of ``codes`` (fingerprint -> code): from the store, the missing ones
    embedded now and stored under the model's identity."""
    identity = f"learned:{model.identity}"
    have = store.vectors(identity, list(codes))
    missing = [fp for fp in codes if fp not in have]
    if missing:
        fresh = model.embed([codes[fp] for fp in missing])
        store.put_vectors(identity, dict(zip(missing, fresh, strict=True)))
        have.update(zip(missing, fresh, strict=True))
    return have


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors (0.0 when either is zero)."""
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na = sum(x * x for x in a) ** 0.5
    nb = sum(y * y for y in b) ** 0.5
    return dot / (na * nb) if na and nb else 0.0


def match(vector: Sequence[float] | None, examples: Sequence[Example],
          vectors: Mapping[str, Sequence[float]], threshold: float) -> Match:
    """How many of ``examples`` are at least ``threshold`` similar to ``vector``."""
    if vector is None:
        return Match(0, 0.0, "")
    scored = sorted(((cosine(vector, vectors[e.fingerprint]), e) for e in examples
                     if e.fingerprint in vectors), key=lambda s: -s[0])
    similar = [s for s in scored if s[0] >= threshold]
    if not scored:
        return Match(0, 0.0, "")
    return Match(len(similar), scored[0][0], scored[0][1].reason)


def note_for(m: Match, mode: str) -> str:
    """The note a quietened finding carries (``Finding.notes``)."""
    what = "hidden" if mode == "hide" else "downgraded to info"
    text = (f"{what}: similar to {m.similar} dismissed finding{'s' if m.similar != 1 else ''} "
            f"of this rule ({m.best:.2f})")
    reason = " ".join(m.reason.split())
    if reason:
        cut = reason if len(reason) <= MAX_REASON else reason[:MAX_REASON - 3] + "..."
        text += f"; the closest was dismissed as: {cut}"
    return text


def _quieten(result: Result, matches: Mapping[str, Match], mode: str) -> None:
    out: list[Finding] = []
    for f in result.findings:
        m = matches.get(f.fingerprint)
        if m is None:
            out.append(f)
        elif mode == "hide":
            result.hidden_by_verdicts += 1
        else:
            result.downgraded_by_verdicts += 1
            out.append(f.with_(severity=Severity.INFO, notes=(*f.notes, note_for(m, mode))))
    result.findings = out
