"""Commands for the places reviews land: git hooks and GitHub.

``install-hooks`` installs the plain git hooks; ``github review`` publishes one PR review;
``github verdicts`` reads the team's reactions and replies on its comments as verdicts;
``github serve`` receives webhooks and reviews each pushed PR. Registered on the main group
by :func:`register` (PyGithub and the server code are imported only when used).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reviewer.cli.common import (
    SEVERITIES,
    api_url_option,
    find_root,
    load_config,
    warn,
    webhook_options,
)
from reviewer.cli.pipeline import explain_result, judge_result, llm_options, llm_overrides
from reviewer.cli.webhooks import REPO, github_token, learn, record
from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.engine import Job, Result


@click.command("install-hooks")
@click.option("--uninstall", is_flag=True,
              help="Remove reviewer's hooks and restore the ones they replaced.")
@click.option("-t", "--hook-type", "hook_types", multiple=True,
              type=click.Choice(["pre-commit", "pre-push"]),
              help="Which hooks (default: pre-commit and pre-push).")
def install_hooks(uninstall: bool, hook_types: tuple[str, ...]) -> None:
    """Install reviewer as plain git hooks (for teams without the pre-commit framework).

    The hooks go where git runs them (core.hooksPath is respected). An existing hook is
    kept as <name>.local and runs first; --uninstall puts it back. Running it again only
    updates reviewer's scripts.
    """
    from reviewer import githooks
    from reviewer.targets import find_root

    root, is_git = find_root(Path.cwd())
    if not is_git:
        raise ReviewerError(f"not a git repository: {root}")
    kinds = hook_types or githooks.HOOK_TYPES
    outcomes = githooks.uninstall(root, kinds) if uninstall else githooks.install(root, kinds)
    for outcome in outcomes:
        click.echo(outcome.message)


@click.group("github")
def github() -> None:
    """Publish reviews on GitHub: PR reviews, check runs, a webhook receiver."""


def _repo(value: str) -> str:
    if not REPO.match(value):
        raise click.BadParameter(f"expected OWNER/NAME, got {value!r}")
    return value


def pr_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options naming a pull request: --repo, --pr and --api-url."""
    func = api_url_option(func)
    func = click.option("--pr", "number", required=True, type=click.IntRange(min=1),
                        help="The pull request's number.")(func)
    return click.option("--repo", "repo", required=True, metavar="OWNER/NAME",
                        callback=lambda _c, _p, v: _repo(v),
                        help="The repository of the PR.")(func)


@github.command("review")
@pr_options
@click.option("--base", metavar="REF",
              help="Review changes since the merge base with REF (default: the PR's base).")
@click.option("--max-comments", type=click.IntRange(min=0), default=5, show_default=True,
              help="At most this many inline comments on the PR; the rest are summarized.")
@click.option("--fail-on", type=click.Choice(SEVERITIES),
              help="Threshold for the check run's conclusion (default: the config's).")
@click.option("--check-run/--no-check-run", default=True, show_default=True,
              help="Create a check run with annotations (app tokens only).")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Config file (default: pyproject.toml at the root).")
@click.option("--no-throttle", is_flag=True,
              help="No pauses between API requests (for local test servers only).")
@click.option("--describe/--no-describe", "describe_pr", default=None,
              help="Describe the change in the summary comment (default: describe-pr).")
@click.option("--fill-body/--no-fill-body", default=None,
              help="Write the description into an empty PR body (default: describe-fill-body).")
@llm_options
def github_review(repo: str, number: int, api_url: str, base: str | None, max_comments: int,
                  fail_on: str | None, check_run: bool, config_path: Path | None,
                  no_throttle: bool, describe_pr: bool | None, fill_body: bool | None,
                  **llm: Any) -> None:
    """Review the checked-out PR head and publish one review on pull request --pr.

    Inline comments go only on lines inside the PR's diff, at most --max-comments of them;
    a re-run never repeats a comment, marks comments whose finding is gone as resolved and
    edits the one summary comment. The token comes from GITHUB_TOKEN; a token that may not
    write (a fork's) gets the summary on stdout and in the job summary instead.
    """
    from reviewer.findings import Severity
    from reviewer.github.publish import Publisher, client
    from reviewer.github.review import Settings, run_review

    token = github_token()
    root, is_git = find_root(Path.cwd())
    if not is_git:
        raise ReviewerError(f"not a git repository: {root} (check out the PR first)")
    cfg = load_config(root, config_path,
                      fail_on=Severity.parse(fail_on) if fail_on else None,
                      **llm_overrides(llm))
    publisher = Publisher(client(token, api_url, throttle=not no_throttle), repo, number)
    settings = Settings(
        max_comments=max_comments, check_run=check_run, base=base,
        describe=cfg.describe_pr if describe_pr is None else describe_pr,
        fill_body=cfg.describe_fill_body if fill_body is None else fill_body)
    learned = learn(publisher, root, cfg, warn)

    def enrich(job: Job, result: Result) -> None:
        from reviewer.feedback.learned import apply_learned

        judge_result(result, job, cfg)  # taught principles, judged by the model
        for w in apply_learned(result, root, cfg, job.contents):  # the team's verdicts
            warn(w)
        explain_result(result, job, cfg)  # explanations and validated model fixes
        record(root, cfg, job, result, warn)

    outcome, result = run_review(publisher, root, cfg, settings, warn, enrich)
    if outcome.read_only:
        warn(f"the token may not write to {repo}#{number} (403): the summary follows")
        click.echo(outcome.summary)
        _job_summary(outcome.summary)
        return
    parts = [f"{len(result.findings)} finding{'s' if len(result.findings) != 1 else ''}",
             f"{outcome.review_comments} new inline comment"
             f"{'s' if outcome.review_comments != 1 else ''}",
             f"{outcome.resolved} resolved", f"summary comment {outcome.summary_comment}"]
    if outcome.body:
        parts.append(f"PR body {outcome.body}")
    if outcome.check_run:
        parts.append(f"check run {outcome.check_run}")
    if learned:
        parts.append(f"{learned} new verdict{'s' if learned != 1 else ''} from the PR")
    click.echo(f"reviewer: {repo}#{number}: {', '.join(parts)}.")
    for note in outcome.notes:
        warn(note)


@github.command("verdicts")
@pr_options
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Config file (default: pyproject.toml at the root).")
@click.option("--no-throttle", is_flag=True,
              help="No pauses between API requests (for local test servers only).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def github_verdicts(repo: str, number: int, api_url: str, config_path: Path | None,
                    no_throttle: bool, fmt: str) -> None:
    """Read reactions and replies on reviewer's PR comments as verdicts.

    A 👍 reaction accepts a finding, 👎 dismisses it; so does a reply in the comment's
    thread starting with `accept`, `dismiss`, `/reviewer accept|dismiss`, 👍/👎 or +1/-1
    (the rest of the reply is the reason). Stored with source `github` and the GitHub login
    as author; reading them again adds nothing. `github review` does this on every run.
    """
    import json
    from dataclasses import asdict

    from reviewer.feedback.store import FeedbackStore, db_path
    from reviewer.github.publish import Publisher, client
    from reviewer.github.verdicts import collect, save

    token = github_token()
    root, _ = find_root(Path.cwd())
    cfg = load_config(root, config_path)
    publisher = Publisher(client(token, api_url, throttle=not no_throttle), repo, number)
    found, comments = collect(publisher)
    with FeedbackStore.open(db_path(root, cfg.feedback_db)) as store:
        added, present = save(store, found, comments)
    if fmt == "json":
        click.echo(json.dumps({"added": added, "already_present": present,
                               "verdicts": [asdict(v) for v in found]}, indent=2,
                              ensure_ascii=False))
        return
    for v in found:
        reason = f": {v.reason}" if v.reason else ""
        click.echo(f"{v.fingerprint[:12]}  {v.verdict:<7}  {v.author} ({v.how}, "
                   f"{v.created_at}){reason}")
    click.echo(f"reviewer: {repo}#{number}: {len(found)} verdict"
               f"{'s' if len(found) != 1 else ''} on {len(comments)} comment"
               f"{'s' if len(comments) != 1 else ''}: {added} new, {present} already recorded.")


@github.command("serve")
@click.option("--repo", "repo", required=True, metavar="OWNER/NAME",
              callback=lambda _c, _p, v: _repo(v), help="The repository whose PRs to review.")
@click.option("--checkout", type=click.Path(path_type=Path, file_okay=False, exists=True),
              required=True, help="A clone of the repository (its `origin` is fetched).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8088, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--path", "url_path", default="/", show_default=True,
              help="The URL path GitHub posts to.")
@webhook_options
@llm_options
def github_serve(repo: str, checkout: Path, host: str, port: int, url_path: str,
                 secret_env: str, workers: int, api_url: str, max_comments: int,
                 check_run: bool, no_throttle: bool, **llm: Any) -> None:
    """Receive GitHub webhooks and review each pushed pull request.

    Verifies every request's X-Hub-Signature-256 with the secret from $REVIEWER_WEBHOOK_SECRET
    (never on the command line) and refuses anything unsigned. pull_request events (opened,
    synchronize, reopened) of --repo queue a review of the PR head in a temporary worktree
    of --checkout, published like `reviewer github review`; one review at a time per PR.
    Replies on reviewer's comments (pull_request_review_comment) and each review read the
    PR's verdicts into the checkout's verdicts database (see `github verdicts`).
    The token comes from GITHUB_TOKEN. Acknowledged deliveries are kept in a durable queue
    (.reviewer/webhook-queue.db in --checkout) and resumed after a restart; this is
    `reviewer serve --github-webhook` without the model routes (see docs/serve.md).
    Stop with Ctrl-C or SIGTERM (running reviews finish first).
    """
    from reviewer.cli.webhooks import WebhookReviewer, need_serve_extra

    receiver = WebhookReviewer(repo, checkout, secret_env=secret_env, workers=workers,
                               api_url=api_url, max_comments=max_comments,
                               check_run=check_run, no_throttle=no_throttle,
                               model=llm_overrides(llm))
    receiver.check()
    if not url_path.startswith("/"):
        raise click.BadParameter("must start with /", param_hint="--path")
    need_serve_extra("github serve")
    from reviewer.serve.run import bind, run
    from reviewer.serve.webhook import webhook_app

    # Acknowledged deliveries survive a crash: committed here before the 202 is sent.
    queue = receiver.queue()
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    if host not in ("127.0.0.1", "::1", "localhost"):
        warn(f"listening on {host}: put a TLS-terminating proxy in front of it")
    log = receiver.log
    log(f"reviewer: serving webhooks for {repo} on http://{host}:{bound}{url_path}")
    resumed = queue.resume()
    if resumed:
        log(f"reviewer: serve: resuming {resumed} pending review{'s' if resumed != 1 else ''}")
    try:
        run(webhook_app(receiver.secret, repo, queue, url_path,
                        on_reply=receiver.read_verdicts), sock,
            lambda: log("reviewer: serve: stopping; waiting for running reviews"))
    finally:
        queue.wait_idle(timeout=600)
        queue.close()


def _job_summary(text: str) -> None:
    """Append to the GitHub Actions job summary, when running in a job."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    except OSError as exc:
        raise ReviewerError(f"cannot write the job summary {path}: {exc.strerror}") from None


# What this module adds to the ``reviewer`` group.
COMMANDS: tuple[click.Command, ...] = (install_hooks, github)
