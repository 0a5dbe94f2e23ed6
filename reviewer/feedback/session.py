"""``reviewer review``: walk the findings of a run and give each a verdict.

For each finding the session shows where it is, the rule's message, a code frame, the
model's explanation and the fix (the rule's deterministic fix or the model's validated
one) as a diff, then asks: [a]ccept, [d]ismiss (with a reason), [f]ix, [s]kip, [q]uit.

[f] applies the fix through :mod:`reviewer.autofix` (re-validated on the file as it is on
disk now: it must parse, lose the finding and gain no other; written atomically; a file
that fails any check is left as it was) and records an accept. Findings further down in a
fixed file are re-reviewed so their lines and fixes match the new text; one that the fix
made disappear is passed over.

Input is read a line at a time (an answer is its first letter or a whole word), so the
session runs the same on a terminal and with piped stdin; end of input quits cleanly.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import click

from reviewer.config import Config
from reviewer.engine import Job, Result
from reviewer.feedback.store import FeedbackStore, Verdict
from reviewer.findings import Finding, Fix

ACTIONS = {"a": "accept", "d": "dismiss", "f": "fix", "s": "skip", "q": "quit"}
FIXED_REASON = "fixed with `reviewer review`"


class SessionIO(Protocol):
    """Where the session writes and how it asks."""

    color: bool

    def show(self, text: str) -> None:
        """Write one or more lines."""

    def ask(self, prompt: str) -> str | None:
        """The answer to ``prompt`` (one line, without its newline); None at end of input."""


@dataclass
class TerminalIO:
    """stdout and stdin, line by line (works the same when stdin is a pipe)."""

    color: bool = False

    def show(self, text: str) -> None:
        click.echo(text)

    def ask(self, prompt: str) -> str | None:
        click.echo(prompt, nl=False)
        line = sys.stdin.readline()
        if not line:
            click.echo()
            return None
        answer = line.rstrip("\r\n")
        if not sys.stdin.isatty():
            click.echo(answer)  # piped answers show in the transcript as if typed
        return answer


@dataclass
class Tally:
    """What the session did."""

    accepted: int = 0
    dismissed: int = 0
    fixed: int = 0
    skipped: int = 0
    already: int = 0  # had a verdict before the session (not walked)
    gone: int = 0  # disappeared after a fix earlier in the session
    left: int = 0  # not reached (quit)

    def line(self, total: int) -> str:
        walked = total - self.already - self.left
        parts = [f"{self.accepted} accepted", f"{self.dismissed} dismissed",
                 f"{self.fixed} fixed", f"{self.skipped} skipped"]
        out = f"Reviewed {walked} of {total} finding{'s' if total != 1 else ''}: "
        out += ", ".join(parts)
        extra = []
        if self.gone:
            extra.append(f"{self.gone} gone after a fix")
        if self.already:
            extra.append(f"{self.already} already had a verdict")
        if self.left:
            extra.append(f"{self.left} left for later")
        return out + (f" ({'; '.join(extra)})" if extra else "") + "."


@dataclass
class Session:
    """One walk over the findings of ``result``."""

    root: Path
    cfg: Config
    job: Job
    result: Result
    store: FeedbackStore
    io: SessionIO
    author: str = ""
    all_verdicts: bool = False
    tally: Tally = field(default_factory=Tally)
    # Findings re-reviewed after a fix in their file (fingerprint -> finding, None: gone).
    refreshed: dict[str, Finding | None] = field(default_factory=dict)
    fixed_paths: set[str] = field(default_factory=set)

    # -- the walk ----------------------------------------------------------------------------
    def run(self) -> Tally:
        """Ask about every finding still without a verdict; print the summary line."""
        findings = sorted(self.result.findings, key=lambda f: f.sort_key)
        known = self.store.latest_many([f.fingerprint for f in findings])
        todo = []
        for f in findings:
            if f.fingerprint in known and not self.all_verdicts:
                self.tally.already += 1
                self.io.show(f"= {_short(f)}  [{_said(known[f.fingerprint])}]")
            else:
                todo.append(f)
        if not todo:
            self.io.show(f"Nothing to review: all {len(findings)} finding"
                         f"{'s' if len(findings) != 1 else ''} already have a verdict "
                         "(--all-verdicts walks them again).")
            return self.tally
        for index, original in enumerate(todo, 1):
            now = self.current(original)
            if now is None:
                self.tally.gone += 1
                self.io.show(f"- {_short(original)}: no longer reported after the fix above")
                continue
            self.io.show("")
            self.io.show(f"[{index}/{len(todo)}] {now.fingerprint[:12]}")
            self.io.show("\n".join(self.describe(now, known.get(now.fingerprint))))
            if not self.decide(now):
                self.tally.left = len(todo) - index + 1
                break
        self.io.show("")
        self.io.show(self.tally.line(len(findings)))
        return self.tally

    def current(self, f: Finding) -> Finding | None:
        """``f`` as it is now (re-reviewed when its file was fixed in this session)."""
        if f.path not in self.fixed_paths:
            return f
        return self.refreshed.get(f.fingerprint)

    def closing_notes(self) -> list[str]:
        """Warnings for after the session (fixed files are not staged)."""
        if self.fixed_paths and self.job.changes is not None:
            return ["the fixed files are not staged: review the changes and `git add` them"]
        return []

    # -- showing a finding -------------------------------------------------------------------
    def text_of(self, path: str) -> str | None:
        """The reviewed text of ``path`` (the file on disk once fixed in this session)."""
        from reviewer.report.text import Sources

        contents = {} if path in self.fixed_paths else self.job.contents
        return Sources(self.root, contents).text(path)

    def describe(self, f: Finding, before: Verdict | None) -> list[str]:
        """Location and message, code frame, explanation, earlier verdict and fix diff."""
        from reviewer.report.text import code_frame, fix_diff, headline

        colour = self.io.color
        lines = [headline(f, colour)]
        text = self.text_of(f.path)
        if text is not None:
            lines.extend(code_frame(f, text, colour))
        if f.explanation:
            lines.extend(f"    {ln}" for ln in f.explanation.strip().splitlines())
        if before is not None:
            lines.append(f"    earlier verdict: {_said(before)}")
        fix = fix_of(f)
        if fix is not None and text is not None:
            label = "fix" if fix.safe else "unsafe fix" if fix.origin == "rule" else (
                "suggested fix from the local model (validated)")
            lines.append(f"    {label}: {fix.description}")
            lines.extend(fix_diff(fix, text, colour))
        return lines

    # -- asking --------------------------------------------------------------------------
    def decide(self, f: Finding) -> bool:
        """Ask until an answer is carried out; False when the session should stop."""
        keys = [k for k in ACTIONS if k != "f" or fix_of(f) is not None]
        prompt = ", ".join(f"[{k}]{ACTIONS[k][1:]}" for k in keys) + "? "
        while True:
            answer = self.io.ask(prompt)
            if answer is None:
                return False
            action = _action(answer, keys)
            if action is None:
                choices = ", ".join(keys[:-1]) + f" or {keys[-1]}"
                self.io.show(f"Please answer {choices} ({', '.join(ACTIONS[k] for k in keys)}).")
                continue
            if action == "quit":
                return False
            if action == "skip":
                self.tally.skipped += 1
                return True
            if action == "accept":
                self.judge(f, "accept")
                return True
            if action == "dismiss":
                reason = self.io.ask("Reason (optional): ")
                if reason is None:
                    return False
                self.judge(f, "dismiss", reason.strip())
                return True
            if self.fix(f):
                return True

    def judge(self, f: Finding, kind: str, reason: str = "", fixed: bool = False) -> None:
        """Record a verdict with source ``review`` (``fixed``: counted as fixed instead)."""
        self.store.add_verdict(Verdict(fingerprint=f.fingerprint, verdict=kind, reason=reason,
                                       author=self.author, source="review"))
        if fixed:
            self.tally.fixed += 1
        elif kind == "accept":
            self.tally.accepted += 1
        else:
            self.tally.dismissed += 1
        self.io.show(f"{'accepted' if kind == 'accept' else 'dismissed'} "
                     f"{f.fingerprint[:12]}")

    def fix(self, f: Finding) -> bool:
        """Apply the validated fix of ``f``; False (the question is asked again) on failure."""
        from reviewer import autofix
        from reviewer.fileio import show_path

        report = autofix.plan(self.job, self.cfg, replace(self.result, findings=[f]),
                              unsafe=True)
        patches = [p for p in report.patches if p.fixed]
        if not patches:
            why = report.rejected[0][1] if report.rejected else "no fix applies"
            self.io.show(f"Not fixed: {show_path(f.path)} {why}.")
            return False
        problem = autofix.write(self.root, patches[0])
        if problem is not None:
            self.io.show(f"Not fixed: {show_path(f.path)} {problem}.")
            return False
        self.io.show(f"fixed {show_path(f.path)} ({f.rule_id}): re-validated, the file "
                     "parses, the finding is gone and nothing new appeared")
        self.judge(f, "accept", FIXED_REASON, fixed=True)
        self.rereview(f.path)
        return True

    def rereview(self, path: str) -> None:
        """Review ``path`` again (after a fix) so later findings match its new text."""
        from reviewer import engine
        from reviewer.targets import Mode, build_job, find_root

        _, is_git = find_root(self.root)
        job, _ = build_job(self.root, is_git, Mode(paths=(self.root / path,)))
        fresh = {g.fingerprint: g for g in engine.run(job, self.cfg, use_baseline=False).findings
                 if g.path == path}
        self.fixed_paths.add(path)
        for old in self.result.findings:
            if old.path != path:
                continue
            new = fresh.get(old.fingerprint)
            # The model's fix was made for the old text: only the rule's own fix carries over.
            self.refreshed[old.fingerprint] = (
                None if new is None else new.with_(explanation=old.explanation))


def fix_of(f: Finding) -> Fix | None:
    """The fix [f] would apply (the rule's safe fix, else the model's validated one)."""
    from reviewer.autofix import fix_of as _fix_of

    return _fix_of(f)


def _action(answer: str, keys: list[str]) -> str | None:
    word = answer.strip().lower()
    if not word:
        return None
    for key in keys:
        name = ACTIONS[key]
        if word == key or (len(word) > 1 and name.startswith(word)):
            return name
    return None


def _short(f: Finding) -> str:
    from reviewer.fileio import show_path

    return f"{show_path(f.path)}:{f.span.line}: {f.rule_id} {f.message}"


def _said(v: Verdict) -> str:
    past = "accepted" if v.verdict == "accept" else "dismissed"
    who = f" by {v.author}" if v.author else ""
    why = f": {v.reason}" if v.reason else ""
    return f"{past}{who}{why}"
