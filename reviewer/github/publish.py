"""Publish a review on a pull request with PyGithub (imported here, only when publishing).

One run makes at most one review (only when there is something new to comment inline),
edits the comments of findings that disappeared, edits the one summary comment in place
(creating it the first time), and creates a check run whose annotations go out 50 per
request. A token that may not write (a fork's read-only token: 403) degrades to the
summary alone, returned for the caller to print or write to the job summary.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reviewer.errors import ReviewerError
from reviewer.findings import Finding, Severity
from reviewer.github import render
from reviewer.github.diffmap import DiffMap
from reviewer.github.plan import Plan, Posted, Suggest, make_plan

CHECK_NAME = "reviewer"
ANNOTATIONS_PER_REQUEST = 50  # GitHub's limit per create/update of a check run
ANNOTATION_LEVELS = {Severity.HIGH: "failure", Severity.MEDIUM: "warning",
                     Severity.LOW: "notice", Severity.INFO: "notice"}


@dataclass(frozen=True)
class PullInfo:
    """What a review needs to know about the PR."""

    number: int
    head_sha: str
    base_sha: str
    diff: DiffMap


@dataclass
class Outcome:
    """What a publish did (for the one-line report and tests)."""

    review_comments: int = 0
    resolved: int = 0
    summary: str = ""
    summary_comment: str = ""  # "created", "edited" or "" (not posted)
    check_run: str = ""  # "created" or why not
    read_only: bool = False
    notes: list[str] = field(default_factory=list)
    body: str = ""  # the PR body: "filled", "updated" or "" (left as it was)


def client(token: str, api_url: str, *, throttle: bool = True) -> Any:
    """A PyGithub client for ``api_url`` (GitHub Enterprise: https://HOST/api/v3).

    ``throttle`` keeps PyGithub's pauses between requests (GitHub's advice against
    secondary rate limits); tests against a local server turn them off.
    """
    try:
        from github import Auth, Github
    except ImportError:
        raise ReviewerError(
            "GitHub support needs PyGithub: pip install 'reviewer[github]'"
        ) from None
    # PyGithub logs every refused request to stderr itself (INFO, on a handler it installs);
    # reviewer reports failures once, as one line or a fallback.
    logging.getLogger("github").setLevel(logging.ERROR)
    pauses: dict[str, Any] = {} if throttle else {
        "seconds_between_requests": None, "seconds_between_writes": None, "retry": None}
    return Github(auth=Auth.Token(token), base_url=api_url.rstrip("/"), timeout=30, **pauses)


def _api_error(exc: Exception, what: str) -> ReviewerError:
    status = getattr(exc, "status", None)
    data = getattr(exc, "data", None)
    message = data.get("message") if isinstance(data, dict) else None
    detail = f"{status} {message}" if message else str(status or exc)
    return ReviewerError(f"GitHub API: {what} failed: {detail}")


def _status(exc: Exception) -> int | None:
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None


class Publisher:
    """reviewer's view of one pull request through PyGithub."""

    def __init__(self, gh: Any, repo: str, number: int) -> None:
        from github import GithubException

        self.error: type[Exception] = GithubException
        self.gh = gh
        try:
            self.repo = gh.get_repo(repo)
            self.pull = self.repo.get_pull(number)
        except GithubException as exc:
            raise _api_error(exc, f"reading {repo}#{number}") from None
        self.number = number
        self._trusted: Callable[[Any], bool] | None = None

    def info(self) -> PullInfo:
        """The PR's head and base commits and the hunks of its diff."""
        try:
            files = [(f.filename, f.patch) for f in self.pull.get_files()]
        except self.error as exc:
            raise _api_error(exc, "listing the PR's files") from None
        return PullInfo(self.number, self.pull.head.sha, self.pull.base.sha,
                        DiffMap.from_patches(files))

    # -- what is already there ------------------------------------------------------------
    def _is_trusted(self, user: Any) -> bool:
        """Comments by the token's own user (or, when it cannot be known, by bots) count."""
        if self._trusted is None:
            try:
                me = self.gh.get_user().login
            except self.error:
                me = None  # an app installation token (Actions) cannot read /user
            if me:
                self._trusted = lambda u: getattr(u, "login", None) == me
            else:
                self._trusted = lambda u: getattr(u, "type", None) == "Bot"
        return self._trusted(user)

    def trusted(self, user: Any) -> bool:
        """Whether ``user`` is reviewer's own account (its comments, not people's answers)."""
        return self._is_trusted(user)

    def posted(self) -> list[Posted]:
        """reviewer's earlier inline comments on the PR."""
        out = []
        try:
            for c in self.pull.get_review_comments():
                fp = render.marked_fp(c.body)
                if fp and self._is_trusted(c.user):
                    out.append(Posted(c.id, fp, c.path, c.body, render.is_resolved(c.body)))
        except self.error as exc:
            raise _api_error(exc, "listing review comments") from None
        return out

    def summary_comment(self) -> Any | None:
        """reviewer's summary comment on the PR, if there is one."""
        try:
            for c in self.pull.get_issue_comments():
                if render.is_summary(c.body) and self._is_trusted(c.user):
                    return c
        except self.error as exc:
            raise _api_error(exc, "listing comments") from None
        return None

    # -- publishing -------------------------------------------------------------------------
    def publish(
        self,
        info: PullInfo,
        findings: Sequence[Finding],
        *,
        suggest: Suggest,
        max_comments: int,
        fail_on: Severity,
        check_run: bool = True,
        notes: Sequence[str] = (),
        description: str = "",
        body_text: str = "",
    ) -> Outcome:
        """Post this run's review, resolutions, summary and check run.

        ``description``: Markdown describing the change, put in the summary comment;
        ``body_text``: the same for an empty PR body (or one reviewer wrote; empty: leave
        the body alone).
        """
        out = Outcome(notes=list(notes))
        summary = self.summary_comment()
        previous = render.summary_state(summary.body) if summary is not None else {}
        plan = make_plan(findings, info.diff, self.posted(), previous, max_comments,
                         info.head_sha, suggest)
        failing = sum(f.severity >= fail_on for f in findings)
        try:
            self._review(info, plan, out)
            for comment_id, body in plan.resolve:
                self.pull.get_review_comment(comment_id).edit(body)
                out.resolved += 1
        except self.error as exc:
            if _status(exc) != 403:
                raise _api_error(exc, "posting the review") from None
            out.read_only = True
        body = render.summary_body(render.Summary(
            info.head_sha, findings, plan.inline, plan.not_inline, plan.resolved, failing,
            tuple(out.notes), description))
        out.summary = body
        if not out.read_only:
            self._summary(summary, body, out)
        if body_text and not out.read_only:
            self._fill_body(body_text, out)
        if check_run and not out.read_only:
            self._check_run(info, findings, failing, out)
        return out

    def _review(self, info: PullInfo, plan: Plan, out: Outcome) -> None:
        if not plan.new:
            return
        commit = self.repo.get_commit(info.head_sha)
        n = len(plan.new)
        body = (f"reviewer: {n} new finding{'s' if n != 1 else ''} on the changed lines "
                f"(commit {info.head_sha[:7]}); the summary comment lists everything.")
        try:
            self.pull.create_review(commit=commit, body=body, event="COMMENT",
                                    comments=[c.as_dict() for c in plan.new])
        except self.error as exc:
            if _status(exc) != 422:
                raise
            # The diff moved under us (a newer push): keep the findings in the summary.
            plan.not_inline = sorted([*plan.not_inline, *(c.finding for c in plan.new)],
                                     key=lambda f: f.sort_key)
            plan.inline -= n
            out.notes.append("GitHub refused the inline comments (422: the PR changed "
                             "meanwhile?); they are listed here instead.")
            return
        out.review_comments = n

    def _summary(self, existing: Any | None, body: str, out: Outcome) -> None:
        try:
            if existing is not None:
                existing.edit(body)
                out.summary_comment = "edited"
            else:
                self.pull.create_issue_comment(body)
                out.summary_comment = "created"
        except self.error as exc:
            if _status(exc) != 403:
                raise _api_error(exc, "writing the summary comment") from None
            out.read_only = True

    def _fill_body(self, description: str, out: Outcome) -> None:
        """Write the description into an empty PR body (or one reviewer wrote before)."""
        current = self.pull.body or ""
        if current.strip() and not render.is_description(current):
            return  # the author wrote it: never touched
        body = render.description_body(description)
        if current == body:
            return
        try:
            self.pull.edit(body=body)
        except self.error as exc:
            if _status(exc) != 403:
                raise _api_error(exc, "writing the PR body") from None
            out.notes.append("the token may not edit the PR body (403)")
            return
        out.body = "updated" if current.strip() else "filled"

    def _check_run(self, info: PullInfo, findings: Sequence[Finding], failing: int,
                   out: Outcome) -> None:
        annotations = [annotation(f) for f in findings]
        n = len(findings)
        title = f"{n} finding{'s' if n != 1 else ''}" if n else "No findings"
        summary = (f"{failing} at or above the failure threshold." if failing
                   else "Nothing at or above the failure threshold.")
        batches = [annotations[i:i + ANNOTATIONS_PER_REQUEST]
                   for i in range(0, len(annotations), ANNOTATIONS_PER_REQUEST)] or [[]]
        try:
            run = self.repo.create_check_run(
                name=CHECK_NAME, head_sha=info.head_sha, status="completed",
                conclusion="failure" if failing else "success",
                output={"title": title, "summary": summary, "annotations": batches[0]},
            )
            for batch in batches[1:]:  # each update appends its annotations
                run.edit(output={"title": title, "summary": summary, "annotations": batch})
        except self.error as exc:
            if _status(exc) not in (403, 404):
                raise _api_error(exc, "creating the check run") from None
            out.check_run = "not created: this token may not create check runs (403)"
            return
        out.check_run = "created"


def annotation(f: Finding) -> dict[str, str | int]:
    """A check-run annotation for one finding."""
    end = f.span.end_line if f.span.end_line is not None else f.span.line
    out: dict[str, str | int] = {
        "path": f.path, "start_line": f.span.line, "end_line": max(end, f.span.line),
        "annotation_level": ANNOTATION_LEVELS[f.severity],
        "title": f"{f.rule_id} {f.slug}", "message": f.message[:64_000],
    }
    if end == f.span.line and f.span.end_col is not None and f.span.end_col > f.span.col:
        out["start_column"] = f.span.col
        out["end_column"] = f.span.end_col
    return out
