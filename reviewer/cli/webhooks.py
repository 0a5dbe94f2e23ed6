"""The one webhook receiver behind ``reviewer github serve`` and ``reviewer serve
--github-webhook``: its set-up checks, its durable queue, the review of a pushed PR head and
the reading of verdicts when someone replies. Both commands build a :class:`WebhookReviewer`
and differ only in the application that carries the route.

Also :func:`learn` and :func:`record`, shared with ``reviewer github review``: the PR's
verdicts read into the verdicts database, the reviewed findings remembered for them.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reviewer.cli.common import find_root, load_config
from reviewer.cli.pipeline import explain_result, judge_result
from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from reviewer.config import Config
    from reviewer.engine import Job, Result
    from reviewer.github.publish import Publisher
    from reviewer.github.webhook import PullEvent, ReplyEvent
    from reviewer.serve.queue import DurableQueue

REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def github_token() -> str:
    """``$GITHUB_TOKEN``; ReviewerError when it is not set."""
    token = os.environ.get("GITHUB_TOKEN", "").strip()
    if not token:
        raise ReviewerError("GITHUB_TOKEN is not set (a token that may read the repository "
                            "and write pull requests)")
    return token


def learn(publisher: Publisher, root: Path, cfg: Config, warn: Callable[[str], None]) -> int:
    """Store the PR's reactions and replies as verdicts; a failure is one warning line."""
    import sqlite3

    from reviewer.feedback.store import FeedbackStore, db_path
    from reviewer.github.verdicts import collect, save

    try:
        found, comments = collect(publisher)
        if not found:
            return 0
        with FeedbackStore.open(db_path(root, cfg.feedback_db)) as store:
            return save(store, found, comments)[0]
    except (ReviewerError, OSError, sqlite3.Error) as exc:
        warn(f"verdicts from the PR not read: {exc}")
        return 0


def record(root: Path, cfg: Config, job: Job, result: Result, warn: Callable[[str], None],
           db_root: Path | None = None) -> None:
    """Remember what the review of the tree at ``root`` reported, so verdicts given on the
    PR have their findings (in the database under ``db_root``, default ``root``)."""
    if cfg.record_findings and result.findings:
        from reviewer.feedback.snapshot import record_run
        from reviewer.feedback.store import db_path

        db = str(db_path(db_root or root, cfg.feedback_db))
        problem = record_run(root, db, result.findings, job.contents)
        if problem:
            warn(problem)


class WebhookReviewer:
    """Reviews what GitHub's webhooks announce for ``repo``, in worktrees of ``checkout``.

    A pushed PR head: the PR's verdicts are read first (into the checkout's database), then
    the review runs with the taught principles judged by the model, the learned
    suppressions applied and the explanations added, and is published like
    ``reviewer github review``. A reply on a comment reads the PR's verdicts at once.
    """

    def __init__(self, repo: str | None, checkout: Path | None, *, secret_env: str,
                 workers: int, api_url: str, max_comments: int, check_run: bool,
                 no_throttle: bool, model: dict[str, Any],
                 log: Callable[[str], None] | None = None) -> None:
        self.repo, self.checkout, self.secret_env = repo or "", checkout, secret_env
        self.workers, self.api_url, self.throttle = workers, api_url, not no_throttle
        self.max_comments, self.check_run = max_comments, check_run
        self.model = model  # the command line's model overrides
        self.log = log or (lambda line: click.echo(line, err=True))
        self.secret = b""
        self.token = ""
        self.root = Path()

    def check(self, flag: str = "") -> None:
        """One-line errors for a set-up that cannot work (before any model loads)."""
        needs = f"{flag} needs " if flag else "needs "
        if not REPO.match(self.repo):
            raise ReviewerError(f"{needs}--repo OWNER/NAME" if not self.repo
                                else f"--repo: expected OWNER/NAME, got {self.repo!r}")
        if self.checkout is None:
            raise ReviewerError(f"{needs}--checkout (a clone of the repository)")
        secret = os.environ.get(self.secret_env, "")
        if not secret:
            raise ReviewerError(f"${self.secret_env} is not set: the webhook secret"
                                " configured on GitHub")
        self.secret = secret.encode()
        self.token = github_token()
        root, is_git = find_root(self.checkout)
        if not is_git:
            raise ReviewerError(f"--checkout {self.checkout} is not a git repository")
        self.root = root

    def queue(self, path: Path | None = None) -> DurableQueue:
        """The durable queue (default: .reviewer/webhook-queue.db in the checkout)."""
        from reviewer.serve.queue import DurableQueue

        return DurableQueue(path or self.root / ".reviewer" / "webhook-queue.db", self.review,
                            workers=self.workers, log=self.log)

    def route(self, queue: DurableQueue) -> Callable[[FastAPI], None]:
        """What adds ``POST /github/webhook`` to the service's application."""
        from reviewer.serve.webhook import add_webhook

        def add(app: FastAPI) -> None:
            add_webhook(app, self.secret, self.repo, queue, on_reply=self.read_verdicts)

        return add

    @staticmethod
    def limits() -> dict[str, int]:
        """GitHub sends payloads of up to 25 MB: the webhook route's own body limit."""
        from reviewer.github.webhook import MAX_BODY
        from reviewer.serve.webhook import PATH

        return {PATH: MAX_BODY}

    def _warn(self, line: str) -> None:
        self.log(f"reviewer: serve: warning: {line}")

    def _publisher(self, repo: str, number: int) -> Publisher:
        from reviewer.github.publish import Publisher, client

        return Publisher(client(self.token, self.api_url, throttle=self.throttle), repo,
                         number)

    def review(self, event: PullEvent) -> None:
        """Review one PR head in a temporary worktree of the checkout and publish it."""
        from reviewer.github.review import Settings, review_in_worktree, run_review

        settings = Settings(max_comments=self.max_comments, check_run=self.check_run)
        root, warn_line = self.root, self._warn

        def in_tree(tree: Path) -> None:
            cfg = load_config(tree, None, quiet=True, **self.model)
            publisher = self._publisher(event.repo, event.number)
            learned = learn(publisher, root, cfg, warn_line)  # the checkout's database

            def enrich(job: Job, result: Result) -> None:
                from reviewer.feedback.learned import apply_learned

                before = len(result.warnings)
                judge_result(result, job, cfg, quiet=True)  # taught principles
                for w in apply_learned(result, tree, cfg, job.contents, db_root=root):
                    warn_line(w)
                explain_result(result, job, cfg, quiet=True)
                record(tree, cfg, job, result, warn_line, db_root=root)
                for w in result.warnings[before:]:
                    warn_line(w)

            # The reviewed tree's settings say whether to describe the change.
            described = replace(settings, describe=cfg.describe_pr,
                                fill_body=cfg.describe_fill_body)
            outcome, result = run_review(publisher, tree, cfg, described, warn_line, enrich)
            state = "summary only (read-only token)" if outcome.read_only else (
                f"{outcome.review_comments} new inline, {outcome.resolved} resolved")
            if learned:
                state += f", {learned} new verdict{'s' if learned != 1 else ''}"
            self.log(f"reviewer: serve: {event.describe()}: {len(result.findings)} findings, "
                     f"{state}")

        review_in_worktree(root, event, in_tree)

    def read_verdicts(self, reply: ReplyEvent) -> str:
        """A reply on the PR may be a verdict: read the PR's verdicts in the background."""

        def work() -> None:
            try:
                cfg = load_config(self.root, None, quiet=True)
                n = learn(self._publisher(reply.repo, reply.number), self.root, cfg,
                          self._warn)
            except (ReviewerError, OSError) as exc:
                self.log(f"reviewer: serve: {reply.describe()}: verdicts not read: {exc}")
                return
            self.log(f"reviewer: serve: {reply.repo}#{reply.number}: {n} new verdict"
                     f"{'s' if n != 1 else ''} from the PR")

        threading.Thread(target=work, daemon=True, name=f"verdicts-{reply.number}").start()
        return "reading verdicts"


def need_serve_extra(command: str) -> None:
    """ReviewerError naming the extra when FastAPI or uvicorn is missing."""
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ReviewerError(f"{command} needs the serve extra (pip install"
                            f" 'reviewer[serve]'): {exc}") from None
