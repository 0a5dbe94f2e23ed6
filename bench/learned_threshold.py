"""How similar is the flagged code of findings of the same pattern, and of different ones?

Picks the default of ``learn-similarity`` (learned suppressions) from real findings: the
reviewer's own findings on the perf corpora (requests, flask, click, rich and django's
``django/db`` + ``django/core``, from ``../shared/eval/perf_corpus.sh`` in
/tmp/reviewer-perf/src or bench/.work/perf/src), each reduced to what the store records
(:func:`reviewer.feedback.snapshot.flagged_code`) and embedded with the bundled
all-MiniLM-L6-v2, exactly as ``reviewer check`` does.

The labels need no person: two findings of the same rule are the **same pattern** when
their flagged code has the same token shape once names, strings and numbers are
abstracted (``print(f"saved {n}")`` / ``print(f"loaded {count}")``: a type-2 clone, the
kind of repetition a team that dismissed one would dismiss again) while the text differs;
they are a **different pattern** when the shapes differ. Pairs come from different files.
For each threshold the table gives the share of same-pattern pairs at or above it (what
learned suppressions can catch) and of different-pattern pairs (what they would wrongly
quieten; suppression needs ``learn-min-dismissed`` = 3 such matches, so the rate of a
wrong suppression is far lower than the pair rate). A third line, **different rule**,
shows how close unrelated findings come.

Usage: python bench/learned_threshold.py [--per-rule N] [--pairs N] [--write]
(``--write`` replaces the learned-threshold block of docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import io
import keyword
import random
import sys
import time
import tokenize
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOC = ROOT / "docs" / "benchmarks.md"
SOURCES = [Path("/tmp/reviewer-perf/src"), HERE / ".work" / "perf" / "src"]
CORPORA = {"requests": ["src"], "flask": ["src"], "click": ["src"], "rich": ["rich"],
           "django": ["django/db", "django/core"]}
# f-string tokens exist from Python 3.12 on (before, an f-string is one STRING token).
FSTRING_START = getattr(tokenize, "FSTRING_START", -1)
FSTRING_PARTS = (getattr(tokenize, "FSTRING_MIDDLE", -1), getattr(tokenize, "FSTRING_END", -1))
THRESHOLDS = (0.70, 0.75, 0.80, 0.85, 0.90, 0.95)


@dataclass(frozen=True)
class Snippet:
    """One finding as learned suppressions see it."""

    corpus: str
    rule_id: str
    path: str
    code: str
    shape: tuple[str, ...]


def shape(code: str) -> tuple[str, ...]:
    """The pattern of ``code``: its tokens with variables, strings and numbers abstracted.

    Names that are called or looked up as attributes (``yaml.load(``, ``print(``,
    ``def save(``, ``except Exception``) are kept: they are what the pattern is about;
    the other names (variables, parameters) become ``N``.
    """
    try:
        toks = [t for t in tokenize.generate_tokens(io.StringIO(code + "\n").readline)
                if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                                  tokenize.DEDENT, tokenize.COMMENT, tokenize.ENDMARKER)]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return ("?", code)
    if toks and toks[0].string == "except":  # `except E as err:` is `except E:`
        cut = [n for n, t in enumerate(toks) if t.string == "as"]
        toks = toks[:cut[0]] + toks[cut[0] + 2:] if cut else toks
    out: list[str] = []
    for n, tok in enumerate(toks):
        after = toks[n + 1].string if n + 1 < len(toks) else ""
        before = toks[n - 1].string if n else ""
        if tok.type == tokenize.NAME:
            kept = (keyword.iskeyword(tok.string) or after == "(" or before in (".", "except")
                    or tok.string in ("self", "cls"))
            out.append(tok.string if kept else "N")
        elif tok.type in (tokenize.STRING, FSTRING_START):
            out.append("S")
        elif tok.type == tokenize.NUMBER:
            out.append("0")
        elif tok.type not in FSTRING_PARTS:
            out.append(tok.string)
    return tuple(out)


def corpus_root() -> Path:
    """The folder holding the perf corpora (exits with a hint when there is none)."""
    for src in SOURCES:
        if all((src / name).is_dir() for name in CORPORA):
            return src
    sys.exit("perf corpora not found: run ../shared/eval/perf_corpus.sh (see bench/speed.py)")


def collect(per_rule: int, seed: int) -> list[Snippet]:
    """The findings of every corpus (at most ``per_rule`` per rule and corpus)."""
    from reviewer import config as config_mod
    from reviewer import engine
    from reviewer.feedback.snapshot import flagged_code
    from reviewer.findings import split_lines

    rng = random.Random(seed)
    base = corpus_root()
    out: list[Snippet] = []
    for name, folders in CORPORA.items():
        root = base / name
        files = sorted(p.relative_to(root).as_posix() for f in folders
                       for p in (root / f).rglob("*.py"))
        cfg = replace(config_mod.load(root, None), cache=False, jobs=1)
        result = engine.run(engine.Job(root=root, files=files), cfg, use_baseline=False)
        by_rule: dict[str, list[Snippet]] = defaultdict(list)
        texts: dict[str, list[str]] = {}
        for f in result.findings:
            if f.path not in texts:
                texts[f.path] = split_lines((root / f.path).read_text("utf-8", "replace"))
            code = flagged_code(f, texts[f.path])
            if code.strip():
                by_rule[f.rule_id].append(Snippet(name, f.rule_id, f"{name}/{f.path}", code,
                                                  shape(code)))
        for items in by_rule.values():
            rng.shuffle(items)
            out.extend(items[:per_rule])
    return out


Pair = tuple[int, int]


def pairs(snippets: Sequence[Snippet], limit: int, seed: int) -> dict[str, list[Pair]]:
    """Same-pattern, different-pattern (same rule) and different-rule pairs (sampled)."""
    rng = random.Random(seed)
    groups: dict[tuple[str, tuple[str, ...]], list[int]] = defaultdict(list)
    by_rule: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(snippets):
        groups[(s.rule_id, s.shape)].append(i)
        by_rule[s.rule_id].append(i)
    same = [(a, b) for members in groups.values() for n, a in enumerate(members)
            for b in members[n + 1:]
            if snippets[a].path != snippets[b].path and snippets[a].code != snippets[b].code]
    rng.shuffle(same)
    other: list[Pair] = []
    cross: list[Pair] = []
    everyone = list(range(len(snippets)))
    for _ in range(limit * 20):
        if len(other) >= limit and len(cross) >= limit:
            break
        a = rng.choice(everyone)
        b = rng.choice(by_rule[snippets[a].rule_id])
        c = rng.choice(everyone)
        if (len(other) < limit and snippets[a].shape != snippets[b].shape
                and snippets[a].path != snippets[b].path):
            other.append((a, b))
        if len(cross) < limit and snippets[a].rule_id != snippets[c].rule_id:
            cross.append((a, c))
    return {"same pattern": same[:limit], "different pattern": other,
            "different rule": cross}


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def table(sims: dict[str, list[float]]) -> list[str]:
    """Markdown rows: quantiles and the share at or above each threshold, per kind."""
    head = "| pairs | n | p10 | median | p90 | " + " | ".join(
        f">= {t:.2f}" for t in THRESHOLDS) + " |"
    lines = [head, "|---|---:|---:|---:|---:|" + "---:|" * len(THRESHOLDS)]
    for label, values in sims.items():
        if not values:
            continue
        shares = " | ".join(
            f"{100 * sum(v >= t for v in values) / len(values):.1f}%" for t in THRESHOLDS)
        lines.append(f"| {label} | {len(values)} | {percentile(values, 0.1):.2f} | "
                     f"{percentile(values, 0.5):.2f} | {percentile(values, 0.9):.2f} | "
                     f"{shares} |")
    return lines


def three_of(snippets: Sequence[Snippet], vectors: Sequence[Sequence[float]],
             seed: int, trials: int = 400) -> list[str]:
    """Simulate the rule itself (3 of the dismissed findings at or above the threshold).

    Wrongly quietened: the dismissed findings are 10 random findings of the new one's rule
    with other patterns. Rightly quietened: 3 findings of the new one's pattern (from other
    files) among 7 random others of the rule.
    """
    import numpy as np

    rng = random.Random(seed)
    by_rule: dict[str, list[int]] = defaultdict(list)
    by_shape: dict[tuple[str, tuple[str, ...]], list[int]] = defaultdict(list)
    for i, s in enumerate(snippets):
        by_rule[s.rule_id].append(i)
        by_shape[(s.rule_id, s.shape)].append(i)
    mat = np.asarray(vectors, dtype=np.float32)
    lines = []
    for label, same in (("wrongly quietened: 3 of 10 dismissed of other patterns", 0),
                        ("rightly quietened: 3 of its pattern among 10 dismissed", 3)):
        fired = dict.fromkeys(THRESHOLDS, 0)
        done = 0
        for _ in range(trials * 50):
            if done >= trials:
                break
            new = rng.randrange(len(snippets))
            s = snippets[new]
            twins = [i for i in by_shape[(s.rule_id, s.shape)]
                     if snippets[i].path != s.path and snippets[i].code != s.code]
            others = [i for i in by_rule[s.rule_id] if snippets[i].shape != s.shape]
            if len(twins) < same or len(others) < 10 - same:
                continue
            pool = rng.sample(twins, same) + rng.sample(others, 10 - same)
            sims = mat[pool] @ mat[new]
            for t in THRESHOLDS:
                fired[t] += int((sims >= t).sum() >= 3)
            done += 1
        shares = " | ".join(f"{100 * fired[t] / max(1, done):.1f}%" for t in THRESHOLDS)
        lines.append(f"| {label} | {done} | | | | {shares} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Collect, embed, compare, print (and with --write, update docs/benchmarks.md)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per-rule", type=int, default=150,
                    help="findings per rule and corpus (sampled, seeded)")
    ap.add_argument("--pairs", type=int, default=3000, help="pairs per kind")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args(argv)

    from reviewer.context.embed import SentenceEmbedder, bundled_model_path

    start = time.perf_counter()
    snippets = collect(args.per_rule, args.seed)
    kinds = pairs(snippets, args.pairs, args.seed)
    needed = sorted({i for ps in kinds.values() for p in ps for i in p} | set(range(len(snippets))))
    model = SentenceEmbedder(bundled_model_path())
    t0 = time.perf_counter()
    vectors = model.embed([snippets[i].code for i in needed])
    embed_s = time.perf_counter() - t0
    vec = dict(zip(needed, vectors, strict=True))
    sims = {label: [float(sum(x * y for x, y in zip(vec[a], vec[b], strict=True)))
                    for a, b in ps] for label, ps in kinds.items()}
    rules = len({s.rule_id for s in snippets})
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by "
        f"`python bench/learned_threshold.py` (seed {args.seed}): {len(snippets)} findings of "
        f"{rules} rules on {', '.join(CORPORA)} (at most {args.per_rule} per rule and corpus), "
        f"flagged code embedded with {model.identity} ({embed_s:.1f} s for {len(needed)} "
        f"snippets on the CPU; {time.perf_counter() - start:.0f} s in all).",
        "",
        *table(sims),
        *three_of(snippets, [vec[i] for i in range(len(snippets))], args.seed),
    ]
    print("\n".join(lines))
    if args.write:
        write_doc(lines)
    return 0


def write_doc(lines: list[str]) -> None:
    """Replace the learned-threshold block of docs/benchmarks.md with ``lines``."""
    text = DOC.read_text(encoding="utf-8")
    begin, end = "<!-- learned-threshold:begin -->", "<!-- learned-threshold:end -->"
    if begin not in text or end not in text:
        sys.exit(f"{DOC} has no {begin} ... {end} block")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    body = "\n".join(lines)
    DOC.write_text(f"{head}{begin}\n{body}\n{end}{tail}", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
