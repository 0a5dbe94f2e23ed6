"""Model explanations are checked before they are shown (reviewer.llm.judge), retried once
with the reason, and replaced by the reviewer's own explanation when they fail again."""

from __future__ import annotations

from pathlib import Path

import pytest
from model_fake import serve_model

from reviewer.config import Config
from reviewer.engine import review_source, selected_rules
from reviewer.llm.explain import explain_findings
from reviewer.llm.judge import FALLBACK_MARK, Facts, is_fallback, judge, rule_explanation
from reviewer.rules import all_rules

CODE = "def load_counts(path, counts={}):\n    counts[path] = 1\n    return counts\n"
FACTS = Facts(
    "def load_counts(path, counts={}):\n", "Mutable default argument 'counts'", "load_counts",
    copies=("python -O removes assert statements, so this check vanishes in production;"
            " test the value and raise ValueError.",),
)


@pytest.mark.parametrize(("text", "reason"), [
    # the demo's loop, cut off mid-word
    ("The default to load_counts is a dictionary with default values set to None, so the"
     " default to load_counts is a dictionary with default values set to None, so the defau",
     "repeats itself"),
    ("Bad.", "too short"),
    ("The dict in counts is created once when load_counts is defined " * 8 + ".", "longer"),
    ("The dict in counts is created once when load_counts is defined, so every call",
     "mid-sentence"),
    ("Callers share one object: a surprise waiting to happen.", "does not name"),
    ("python -O removes assert statements, so this check vanishes in production;"
     " test the value and raise ValueError.", "copies"),
    ("The code is fine: counts in load_counts is never shared.", "says the code is fine"),
    # Qwen2.5-Coder-1.5B on requests, repeating the validator's complaints
    ("The fixed_code has a syntax error. It should be `load_counts(path, counts=None)`.",
     "talks about the answer"),
    ("The explanation does not name anything in this code; mention load_counts, counts.",
     "talks about the answer"),
])
def test_bad_explanations_are_refused_with_a_reason(text: str, reason: str) -> None:
    why = judge(text, FACTS)
    assert why is not None and reason in why


def test_a_grounded_explanation_passes() -> None:
    text = ("The dict in counts is created once, when load_counts is defined, so every call"
            " without counts writes into the same dict.")
    assert judge(text, FACTS) is None


def test_the_rule_explanation_names_the_finding_and_is_marked() -> None:
    text = rule_explanation("Mutable default argument 'counts'.", "The default is shared by"
                            " every call. More text.", "load_counts")
    assert text.startswith(FALLBACK_MARK) and is_fallback(text)
    assert "load_counts" in text and "shared by every call." in text and "More" not in text
    facts = Facts("def load_counts(path, counts={}):\n", "m", "load_counts")
    assert judge(text.removeprefix(FALLBACK_MARK), facts) is None


def test_every_few_shot_explanation_names_its_own_code() -> None:
    from reviewer.llm.prompts import line_examples, rule_examples

    for rule in all_rules().values():
        for ex in line_examples(rule):
            assert judge(ex.explanation, Facts(ex.code, ex.message)) is None, (rule.id, ex)
        for full in rule_examples(rule):
            assert rule.rationale()[:40] not in full.answer, rule.id


def _explain(tmp_path: Path, explanation: str) -> tuple[str | None, dict[str, int], int]:
    findings = review_source("mod.py", CODE, {"python": selected_rules(Config())},
                             "python").findings
    findings = [f for f in findings if f.rule_id == "RV101"]
    with serve_model(explanation) as model:
        cfg = Config(llm_backend="openai", server_url=model.url, cache=False)
        out, report = explain_findings(
            findings, root=tmp_path, config=cfg, read=lambda _: CODE, want_fix=False
        )
        calls = len(model.prompts)
    counts = {"rejected": report.explanations_rejected,
              "fallback": report.explanations_fallback}
    return out[0].explanation, counts, calls


def test_a_degenerate_answer_is_asked_again_then_replaced(tmp_path: Path) -> None:
    loop = "the default to load_counts is a dict, so " * 6
    shown, counts, calls = _explain(tmp_path, loop)
    assert calls == 2  # the answer, then one retry with the reason
    assert shown is not None and is_fallback(shown) and "counts" in shown
    assert "so the default" not in shown
    assert counts == {"rejected": 2, "fallback": 1}


def test_a_good_answer_is_shown_as_given(tmp_path: Path) -> None:
    good = "The dict in counts is made once for load_counts, so calls share it."
    shown, counts, calls = _explain(tmp_path, good)
    assert (shown, calls) == (good, 1)
    assert counts == {"rejected": 0, "fallback": 0}
