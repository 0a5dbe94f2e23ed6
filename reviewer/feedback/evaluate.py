"""``reviewer eval``: the base model against the tuned one, on the validation split.

Every validation record is replayed through the real explanation loop
(:class:`reviewer.llm.explain.Explainer`, one pass, no retry, no cache): the record's code
stands in for the file, the rule is re-run on it to get the finding, the model answers, and a
proposed fix is applied and checked by the real validator (:mod:`reviewer.llm.validate`).
Three figures per model:

- **schema-valid**: answers that parse as the answer schema's JSON object;
- **validated fixes**: records whose proposed fix passed the validator;
- **agreement**: token F1 between the model's explanation and the accepted (or corrected)
  one, averaged over the records: lower-cased word tokens, F1 of the bag-of-words overlap
  (SQuAD-style). Cheap, deterministic and rough: it rewards saying the same things in the
  same words, which is what fine-tuning on the team's explanations should move.

An adapter *does not regress* when none of the three figures is below the base model's; only
then does ``--promote`` make it the default.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.findings import Finding
    from reviewer.llm.backend import Backend
    from reviewer.rules.base import Rule

_TOKEN = re.compile(r"[a-z0-9_]+")


def token_f1(got: str, want: str) -> float:
    """F1 of the word tokens two texts share (0.0 when either is empty)."""
    a, b = _TOKEN.findall(got.lower()), _TOKEN.findall(want.lower())
    if not a or not b:
        return 0.0
    common = sum((Counter(a) & Counter(b)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


@dataclass
class Score:
    """One model's figures on the validation split."""

    model: str
    records: int = 0
    schema_valid: int = 0
    fixes_proposed: int = 0
    fixes_validated: int = 0
    agreement_sum: float = 0.0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def schema_rate(self) -> float:
        return self.schema_valid / self.records if self.records else 0.0

    @property
    def fix_rate(self) -> float:
        return self.fixes_validated / self.records if self.records else 0.0

    @property
    def agreement(self) -> float:
        return self.agreement_sum / self.records if self.records else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "schema_rate": round(self.schema_rate, 4),
                "fix_rate": round(self.fix_rate, 4), "agreement": round(self.agreement, 4)}


def regressions(base: Score, tuned: Score) -> list[str]:
    """The figures where ``tuned`` is worse than ``base`` (empty: it does not regress)."""
    out = []
    if tuned.schema_rate < base.schema_rate:
        out.append("schema-valid answers")
    if tuned.fix_rate < base.fix_rate:
        out.append("validated fixes")
    if tuned.agreement + 1e-9 < base.agreement:
        out.append("agreement")
    return out


def score(backend: Backend, records: Sequence[dict[str, Any]], *, max_tokens: int,
          label: str, progress: Callable[[str], None] | None = None) -> Score:
    """Replay ``records`` through the explainer with ``backend``."""
    import time

    from reviewer.config import Config
    from reviewer.engine import selected_rules
    from reviewer.llm.backend import GenParams, LLMError
    from reviewer.llm.explain import Explainer
    from reviewer.rules import all_rules

    rules = all_rules()
    enabled = selected_rules(Config())
    result = Score(label)
    start = time.perf_counter()
    for n, record in enumerate(records, 1):
        meta = record.get("meta") or {}
        rule = rules.get(str(meta.get("rule_id", "")))
        if rule is None or not isinstance(meta.get("source"), str):
            continue
        finding = _finding(rule, meta)
        # Each model gets the prompt style it gets in `check` (a model with an adapter: full).
        explainer = Explainer(backend, rules=enabled, params=GenParams(max_tokens=max_tokens),
                              fix_passes=0)
        source = str(meta["source"])
        result.records += 1
        try:
            out = explainer.explain_all([finding], _reader(source), budget=1)[0]
        except LLMError as exc:
            result.errors.append(str(exc))
            continue
        report = explainer.report
        if report.failure:
            raise ReviewerError(f"{label} model failed: {report.failure}")
        if report.bad_answers == 0 and report.errors == 0:
            result.schema_valid += 1
        result.fixes_proposed += min(1, report.fixes_proposed)
        result.fixes_validated += out.model_fix is not None
        result.agreement_sum += token_f1(out.explanation or "", str(meta.get("explanation", "")))
        if progress is not None:
            progress(f"{label}: {n}/{len(records)}")
    result.seconds = round(time.perf_counter() - start, 2)
    return result


def _reader(source: str) -> Callable[[str], str | None]:
    def read(_path: str) -> str | None:
        return source

    return read


def _finding(rule: type[Rule], meta: dict[str, Any]) -> Finding:
    from reviewer.feedback.training import finding_at

    return finding_at(rule, str(meta.get("path", "example.py")), str(meta["source"]),
                      int(meta.get("line", 1)), str(meta.get("message", rule.message)))


def table(scores: Sequence[Score]) -> str:
    """The comparison as a Markdown table."""
    head = ("| model | records | schema-valid | fixes proposed | validated fixes | "
            "agreement (token F1) | seconds |")
    rows = [head, "|---|---:|---:|---:|---:|---:|---:|"]
    for s in scores:
        rows.append(
            f"| {s.model} | {s.records} | {s.schema_valid} ({s.schema_rate:.0%}) | "
            f"{s.fixes_proposed} | {s.fixes_validated} ({s.fix_rate:.0%}) | "
            f"{s.agreement:.3f} | {s.seconds:.1f} |")
    return "\n".join(rows) + "\n"


def write_report(adapter: Path, scores: Sequence[Score], regressed: list[str]) -> Path:
    """``eval.json`` and ``eval.md`` in the adapter folder (atomic writes)."""
    from reviewer.fileio import atomic_write_text

    data = {"scores": [s.as_dict() for s in scores], "regressions": regressed}
    try:
        atomic_write_text(adapter / "eval.json", json.dumps(data, indent=2) + "\n")
        atomic_write_text(adapter / "eval.md", table(scores))
    except OSError as exc:
        raise ReviewerError(f"cannot write the evaluation to {adapter}: "
                            f"{exc.strerror or exc}") from None
    return adapter / "eval.md"
