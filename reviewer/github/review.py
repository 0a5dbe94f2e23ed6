"""``reviewer github review``: review a PR's checkout and publish the result.

The working tree must hold the PR's head commit (``actions/checkout`` with
``ref: ${{ github.event.pull_request.head.sha }}``): findings are reviewed there against the
merge base with the PR's base commit, exactly as ``reviewer check --base BASE`` would, and
their line numbers are the new side of the PR diff.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reviewer.config import Config
from reviewer.engine import Job, Result
from reviewer.findings import Finding
from reviewer.github import render
from reviewer.github.publish import Outcome, Publisher


@dataclass(frozen=True)
class Settings:
    """How to review and publish."""

    max_comments: int = 5
    check_run: bool = True
    base: str | None = None  # default: the PR's base commit
    describe: bool = True  # the description of the change in the summary comment
    fill_body: bool = False  # ...and in an empty PR body


def review_checkout(root: Path, cfg: Config, base: str) -> tuple[Job, Result]:
    """Review the changes of the checkout at ``root`` since its merge base with ``base``."""
    from reviewer import engine
    from reviewer.targets import Mode, build_job

    job, _ = build_job(root, True, Mode(base=base))
    return job, engine.run(job, cfg)


def suggester(job: Job, cfg: Config, result: Result) -> Callable[[Finding], Any]:
    """Suggestion blocks only for fixes that pass validation, one finding at a time.

    A rule's fix must pass the same validation as ``reviewer fix`` on its own (the file
    parses, the finding goes, nothing new appears); a model fix is only ever attached to a
    finding after the model layer validated it.
    """
    from reviewer import autofix
    from reviewer.engine import read_source

    def suggest(f: Finding) -> tuple[render.Suggestion, str] | None:
        got = read_source(job.root, f.path, cfg.max_file_size, job.contents.get(f.path))
        if not isinstance(got, tuple):
            return None
        source = got[0]
        if f.fix is not None and f.fix.safe:
            report = autofix.plan(job, cfg, replace(result, findings=[f]))
            if any(p.fixed for p in report.patches):
                s = render.suggestion(source, f.fix)
                if s is not None:
                    return s, f"Fix ({f.fix.description})"
        if f.model_fix is not None:
            s = render.suggestion(source, f.model_fix)
            if s is not None:
                return s, f"Suggested fix from the local model ({f.model_fix.description})"
        if f.fix is not None and not f.fix.safe:  # the rule's own unsafe fix, validated
            report = autofix.plan(job, cfg, replace(result, findings=[f]), unsafe=True)
            if any(p.fixed for p in report.patches):
                s = render.suggestion(source, f.fix)
                if s is not None:
                    return s, f"Unsafe fix, review it ({f.fix.description})"
        return None

    return suggest


def head_warning(root: Path, head_sha: str) -> str | None:
    """A warning when the checkout is not the PR's head commit (comments could misplace)."""
    from reviewer import diff

    proc = diff.git(root, "rev-parse", "HEAD", check=False)
    here = proc.stdout.decode().strip()
    if proc.returncode == 0 and here and here != head_sha:
        return (f"the checkout is at {here[:7]}, not the PR's head {head_sha[:7]}: check out "
                "the head commit so inline comments land on the right lines")
    return None


Enrich = Callable[[Job, Result], None]


def run_review(publisher: Publisher, root: Path, cfg: Config, settings: Settings,
               warn: Callable[[str], None], enrich: Enrich | None = None
               ) -> tuple[Outcome, Result]:
    """Review the checkout at ``root`` as PR ``publisher.number`` and publish it.

    ``enrich`` may add findings (taught principles judged by the model), hide or downgrade
    findings by the team's verdicts, and add the model's explanations and validated fixes
    (``reviewer.cli.pipeline.explain_result``).
    """
    info = publisher.info()
    note = head_warning(root, info.head_sha)
    if note:
        warn(note)
    job, result = review_checkout(root, cfg, settings.base or info.base_sha)
    for w in result.warnings:
        warn(w)
    if enrich is not None:
        enrich(job, result)
    notes = [f"{len(result.skipped)} file(s) not reviewed"] if result.skipped else []
    description = ""
    if settings.describe or settings.fill_body:
        description = describe_pr(root, cfg, settings.base or info.base_sha, warn)
    outcome = publisher.publish(
        info, sorted(result.findings, key=lambda f: f.sort_key),
        suggest=suggester(job, cfg, result), max_comments=settings.max_comments,
        fail_on=cfg.fail_on, check_run=settings.check_run, notes=notes,
        description=description if settings.describe else "",
        body_text=description if settings.fill_body else "",
    )
    return outcome, result


def describe_pr(root: Path, cfg: Config, base: str, warn: Callable[[str], None]) -> str:
    """The Markdown description of the PR's change (``reviewer describe --base BASE``);
    the findings are in the summary already, so the rules are not run again."""
    from reviewer.describe import changes, describe
    from reviewer.describe.render import markdown

    got = describe(changes.since(root, base), cfg, findings=False)
    for w in got.facts.warnings:
        warn(w)
    if got.description.rejected:
        warn(f"the model's description was not used ({got.description.rejected})")
    return markdown(got.facts, got.description, heading="####")


def review_in_worktree(clone: Path, event: Any, review: Callable[[Path], None]) -> None:
    """Fetch PR ``event`` into ``clone`` and call ``review`` on a temporary worktree of its head.

    ``event`` is a :class:`reviewer.github.webhook.PullEvent`. The PR head comes from
    ``refs/pull/N/head`` and the base from its branch, both fetched from ``origin``; the
    worktree is removed afterwards, whatever happens.
    """
    import tempfile

    from reviewer import diff
    from reviewer.errors import ReviewerError

    n = event.number
    diff.git(clone, "fetch", "--no-tags", "--quiet", "origin",
             f"+refs/pull/{n}/head:refs/reviewer/pull/{n}/head",
             f"+refs/heads/{event.base_ref}:refs/reviewer/pull/{n}/base")
    if diff.git(clone, "cat-file", "-e", f"{event.head_sha}^{{commit}}", check=False).returncode:
        raise ReviewerError(f"{event.head_sha[:7]} is not in refs/pull/{n}/head any more "
                            "(a newer push will be reviewed)")
    with tempfile.TemporaryDirectory(prefix=f"reviewer-pr{n}-") as tmp:
        tree = Path(tmp) / "tree"
        diff.git(clone, "worktree", "add", "--quiet", "--detach", str(tree), event.head_sha)
        try:
            review(tree)
        finally:
            diff.git(clone, "worktree", "remove", "--force", str(tree), check=False)
            diff.git(clone, "worktree", "prune", check=False)
