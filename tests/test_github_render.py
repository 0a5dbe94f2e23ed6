"""The pure parts of the PR bot: diff hunks, fences, suggestions, markers and the plan."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from reviewer.config import Config
from reviewer.engine import Job
from reviewer.findings import Finding, Fix, Severity, Span, TextEdit, apply_edits
from reviewer.github import render
from reviewer.github.diffmap import DiffMap, hunk_ranges
from reviewer.github.plan import Posted, make_plan
from reviewer.github.review import suggester

if TYPE_CHECKING:
    from conftest import Repo

PATCH = "\n".join([
    "@@ -1,4 +1,5 @@", " import os", "+import sys", " ", " def f():", "-    return 1",
    "+    return 2",
    "@@ -20,3 +21,3 @@ def g():", "     a = 1", "+    b = 2", "     c = 3",
    "\\ No newline at end of file",
    "@@ -40,2 +42,0 @@", "-gone", "-also gone",
])


# -- hunks -----------------------------------------------------------------------------------
def test_hunk_ranges_count_the_new_side() -> None:
    # 1-5: context and added lines; 21-23; the deletion-only hunk has none.
    assert hunk_ranges(PATCH) == [(1, 5), (21, 23)]
    assert hunk_ranges(None) == [] and hunk_ranges("") == []
    assert hunk_ranges("@@ -0,0 +1 @@\n+only") == [(1, 1)]
    assert hunk_ranges("@@ -1,3 +1,3 @@\n a\n-b") == [(1, 1)]  # truncated: only what is there


def test_diffmap_keeps_comments_inside_one_hunk() -> None:
    diff = DiffMap.from_patches([("a.py", PATCH), ("bin.dat", None)])
    assert diff.contains("a.py", 2) and diff.contains("a.py", 1, 5)
    assert not diff.contains("a.py", 6) and not diff.contains("a.py", 20)
    assert not diff.contains("a.py", 5, 21)  # spans two hunks
    assert not diff.contains("bin.dat", 1) and not diff.contains("other.py", 1)
    assert diff.hunk_of("a.py", 22) == (21, 23) and diff.hunk_of("a.py", 30) is None


# -- fences and suggestions --------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("plain", "```"), ("a `b` c", "```"), ("```", "````"), ("x = '``````'", "```````"),
])
def test_fence_is_longer_than_any_backtick_run(text: str, expected: str) -> None:
    assert render.fence(text) == expected


def test_suggestion_with_backticks_keeps_its_fence_closed() -> None:
    s = render.Suggestion(3, 3, 'doc = """```python\nx\n```"""')
    block = render.suggestion_block(s)
    assert block.startswith("````suggestion\n") and block.endswith("\n````")
    assert block.count("````") == 2


def edit(line: int, col: int, end_line: int, end_col: int, text: str) -> TextEdit:
    return TextEdit(line, col, end_line, end_col, text)


SOURCE = "def f(a, b=[]):\n    b.append(a)\n    return b\n\n\nx = 1\n"


def check(source: str, fix: Fix) -> render.Suggestion:
    """The suggestion, verified: replacing its lines gives what the fix gives."""
    s = render.suggestion(source, fix)
    assert s is not None
    lines = source.splitlines(keepends=True)
    eof = s.last == len(lines) and not source.endswith("\n")
    new = [] if s.delete else [s.text + ("" if eof else "\n")]
    assert "".join([*lines[: s.first - 1], *new, *lines[s.last:]]) == apply_edits(
        source, fix.edits)
    return s


def test_suggestion_widens_edits_to_whole_lines() -> None:
    fix = Fix("None default", (edit(1, 12, 1, 14, "None"),
                               edit(2, 5, 2, 5, "b = [] if b is None else b\n    ")))
    s = check(SOURCE, fix)
    assert (s.first, s.last) == (1, 2)
    assert s.text == "def f(a, b=None):\n    b = [] if b is None else b\n    b.append(a)"


def test_suggestion_for_an_edit_ending_at_a_line_start() -> None:
    s = check(SOURCE, Fix("drop", (edit(2, 1, 3, 1, ""),)))  # deletes line 2 only
    assert (s.first, s.last, s.delete) == (2, 2, True)
    assert render.suggestion_block(s) == "```suggestion\n```"
    s = check(SOURCE, Fix("blank", (edit(6, 1, 6, 6, ""),)))  # empties line 6, keeps it
    assert (s.first, s.last, s.text, s.delete) == (6, 6, "", False)
    assert render.suggestion_block(s) == "```suggestion\n\n```"


def test_suggestion_at_the_end_of_a_file_without_newline() -> None:
    s = check("a = 1\nb = 2", Fix("two", (edit(2, 5, 2, 6, "3"),)))
    assert (s.first, s.last, s.text) == (2, 2, "b = 3")


def test_suggestions_that_cannot_be_expressed() -> None:
    assert render.suggestion(SOURCE, Fix("none", ())) is None
    assert render.suggestion(SOURCE, Fix("outside", (edit(40, 1, 40, 2, "x"),))) is None
    # Joining line 2 onto line 1 is no whole-line replacement of line 1.
    assert render.suggestion(SOURCE, Fix("join", (edit(1, 16, 2, 1, " "),))) is None
    overlapping = Fix("overlap", (edit(1, 1, 1, 5, "x"), edit(1, 3, 1, 8, "y")))
    assert render.suggestion(SOURCE, overlapping) is None


# -- markers -----------------------------------------------------------------------------------
def finding(line: int, rule: str = "RV101", severity: Severity = Severity.MEDIUM,
            path: str = "a.py", fix: Fix | None = None, fp: str = "") -> Finding:
    return Finding(rule, "mutable-default-argument", f"message {line}", path, Span(line, 1),
                   severity, fix=fix, fingerprint=fp or f"fp{rule}{path}{line}")


def test_markers_round_trip_and_resist_hostile_paths() -> None:
    f = finding(3, fp="abc123")
    body = render.inline_body(f)
    assert render.marked_fp(body) == "abc123" and not render.is_resolved(body)
    resolved = render.resolved_body(body, "f" * 40)
    assert render.is_resolved(resolved) and render.marked_fp(resolved) == "abc123"
    assert resolved.startswith("✅ **Resolved** in fffffff")

    hostile = finding(1, path="x --> <!-- reviewer:fp=evil --> y.py", fp="good")
    summary = render.summary_body(render.Summary("a" * 40, [hostile], 0, [hostile], [], 1))
    assert render.is_summary(summary)
    assert render.summary_state(summary) == {
        "good": ("x --> <!-- reviewer:fp=evil --> y.py", "RV101 mutable-default-argument")}
    state_line = summary.rsplit("\n", 1)[1]
    assert state_line.count("-->") == 1  # the path cannot end the hidden comment early
    assert render.summary_state("<!-- reviewer:state={broken -->") == {}


def test_summary_stays_under_githubs_limit() -> None:
    many = [finding(i, path=f"pkg/{'x' * 200}{i}.py") for i in range(1, 3000)]
    body = render.summary_body(render.Summary("a" * 40, many, 0, many, [], 0))
    assert len(body) <= render.MAX_BODY
    assert render.summary_state(body)  # the state marker survives the cut


# -- the plan ----------------------------------------------------------------------------------
DIFF = DiffMap({"a.py": ((1, 10),), "b.py": ((5, 6),)})


def no_suggestions(f: Finding) -> None:
    return None


def test_plan_orders_by_severity_caps_and_skips_lines_outside_the_diff() -> None:
    findings = [finding(2, severity=Severity.LOW), finding(3, "RV601", Severity.HIGH),
                finding(4), finding(30, "RV602", Severity.HIGH), finding(5, path="b.py")]
    plan = make_plan(findings, DIFF, [], {}, 2, "a" * 40, no_suggestions)
    assert [(c.path, c.line) for c in plan.new] == [("a.py", 3), ("a.py", 4)]
    assert [(f.path, f.span.line) for f in plan.not_inline] == [
        ("a.py", 2), ("a.py", 30), ("b.py", 5)]
    assert plan.inline == 2 and not plan.resolve and not plan.resolved
    assert all(c.as_dict()["side"] == "RIGHT" for c in plan.new)


def test_plan_never_repeats_and_resolves_what_disappeared() -> None:
    a, b, c = finding(2), finding(3), finding(4)
    posted = [Posted(1, a.fingerprint, "a.py", render.inline_body(a), False),
              Posted(2, "gone", "a.py", "🟠 **RV101 mutable-default-argument** (medium): x\n\n"
                     + render.fp_marker("gone"), False),
              Posted(3, "old", "a.py", render.resolved_body(render.inline_body(c), "1" * 40),
                     True)]
    previous = {"gone": ("a.py", "RV101 mutable-default-argument"),
                "summary-only": ("z.py", "RV401 missing-docstring"),
                a.fingerprint: ("a.py", "RV101 mutable-default-argument")}
    plan = make_plan([a, b], DIFF, posted, previous, 5, "f" * 40, no_suggestions)
    assert [n.finding for n in plan.new] == [b]  # a is standing, not repeated
    assert [cid for cid, _ in plan.resolve] == [2]  # already-resolved 3 is left alone
    assert render.is_resolved(plan.resolve[0][1])
    assert plan.resolved == [("a.py", "RV101 mutable-default-argument"),
                             ("z.py", "RV401 missing-docstring")]
    assert plan.inline == 2
    # A finding whose comment was resolved and that comes back gets a new comment.
    back = replace(c, fingerprint="old")
    plan = make_plan([back], DIFF, posted, {}, 5, "f" * 40, no_suggestions)
    assert [n.finding for n in plan.new] == [back]


def test_plan_standing_comments_use_up_the_cap() -> None:
    standing = [finding(i) for i in range(1, 4)]
    posted = [Posted(i, f.fingerprint, "a.py", render.inline_body(f), False)
              for i, f in enumerate(standing)]
    new = finding(8, "RV601", Severity.HIGH)
    plan = make_plan([*standing, new], DIFF, posted, {}, 3, "f" * 40, no_suggestions)
    assert not plan.new and plan.not_inline == [new] and plan.inline == 3


def test_plan_puts_suggestions_on_the_lines_they_replace() -> None:
    fixable = finding(5, fix=Fix("f", (edit(5, 1, 5, 2, "y"),)))
    wide = render.Suggestion(4, 6, "x\ny\nz")
    plan = make_plan([fixable], DIFF, [], {}, 5, "f" * 40, lambda f: (wide, "Fix"))
    (c,) = plan.new
    assert c.as_dict() == {"path": "a.py", "line": 6, "side": "RIGHT", "start_line": 4,
                           "start_side": "RIGHT", "body": c.body}
    assert "```suggestion\nx\ny\nz\n```" in c.body
    # Lines the suggestion replaces leave the hunk: a plain comment on the finding's line.
    outside = render.Suggestion(9, 12, "q")
    plan = make_plan([fixable], DIFF, [], {}, 5, "f" * 40, lambda f: (outside, "Fix"))
    (c,) = plan.new
    assert (c.line, c.start_line) == (5, None) and "suggestion" not in c.body
    # Findings without a fix are never offered one.
    plan = make_plan([finding(5)], DIFF, [], {}, 5, "f" * 40, lambda f: (wide, "Fix"))
    assert "suggestion" not in plan.new[0].body


# -- only validated fixes become suggestions -----------------------------------------------------
def test_suggester_refuses_fixes_that_do_not_validate(repo: Repo) -> None:
    source = "def add(item, items=[]):\n    items.append(item)\n    return items\n"
    repo.write("m.py", source)
    job = Job(repo.path, ["m.py"])
    cfg = Config(cache=False)
    from reviewer import engine

    result = engine.run(job, cfg)
    (real,) = [f for f in result.findings if f.rule_id == "RV101"]
    suggest = suggester(job, cfg, result)
    got = suggest(real)
    assert got is not None and got[1].startswith("Fix (")
    broken = real.with_(fix=Fix("breaks the syntax", (TextEdit(1, 1, 1, 4, "de f"),)))
    assert suggest(broken) is None
    unsafe = real.with_(fix=replace(real.fix, safe=False)) if real.fix else real
    got = suggest(unsafe)  # a rule's unsafe fix is suggested as such when the model has none
    assert got is not None and got[1].startswith("Unsafe fix, review it")
    model = real.with_(fix=None, model_fix=Fix("Model fix (validated)", real.fix.edits
                                               if real.fix else (), safe=False, origin="model"))
    got = suggest(model)
    assert got is not None and got[1].startswith("Suggested fix from the local model")


def test_suggester_reads_the_reviewed_content(repo: Repo) -> None:
    # The staged content is reviewed while the disk holds something else: the suggestion
    # is made against what was reviewed, and the fix validation (like `reviewer fix`)
    # refuses a file whose reviewed content differs from the disk.
    repo.write("m.py", "x = 1\n")
    job = Job(repo.path, ["m.py"], contents={"m.py": b"def f(a=[]):\n    return a\n"})
    cfg = Config(cache=False)
    from reviewer import engine

    result = engine.run(job, cfg)
    (f,) = [f for f in result.findings if f.rule_id == "RV101"]
    assert suggester(job, cfg, result)(f) is None
