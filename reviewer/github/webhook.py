"""GitHub webhooks: the signature check and the events a review needs.

Every request must carry GitHub's ``X-Hub-Signature-256`` HMAC of its exact body under the
shared secret (:func:`verify`); anything else is refused before its body is parsed.
``pull_request`` events (opened, synchronize, reopened) become a :class:`PullEvent`, replies
in a review comment thread a :class:`ReplyEvent`. The receiver itself is a route of the
review service (:mod:`reviewer.serve.webhook`, with the durable queue of
:mod:`reviewer.serve.queue`), used by ``reviewer github serve`` and
``reviewer serve --github-webhook``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

MAX_BODY = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB
ACTIONS = ("opened", "synchronize", "reopened")
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_REF = re.compile(r"^[^\x00-\x20\x7f~^:?*\[\\]+$")


class BadEvent(ValueError):
    """A payload that is not a usable pull_request event."""


@dataclass(frozen=True)
class PullEvent:
    """The parts of a pull_request event a review needs."""

    repo: str
    number: int
    action: str
    head_sha: str
    base_sha: str
    base_ref: str

    @property
    def key(self) -> tuple[str, int]:
        return self.repo, self.number

    def describe(self) -> str:
        return f"{self.repo}#{self.number} {self.action} {self.head_sha[:7]}"


@dataclass(frozen=True)
class ReplyEvent:
    """A reply in a review comment thread (maybe a verdict on one of reviewer's comments)."""

    repo: str
    number: int
    comment_id: int
    in_reply_to: int

    def describe(self) -> str:
        return f"{self.repo}#{self.number} reply {self.comment_id} to {self.in_reply_to}"


def signature(secret: bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the HMAC-SHA256 of ``body`` (compared in constant time)."""
    if not secret or not header:
        return False
    expected = signature(secret, body).encode("ascii")
    return hmac.compare_digest(expected, header.strip().encode("utf-8", "replace"))


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            raise BadEvent(f"missing {'.'.join(path)}")
        data = data[key]
    return data


def parse_pull_request(body: bytes) -> PullEvent:
    """The PullEvent of a ``pull_request`` payload; BadEvent when it is malformed."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadEvent("the body is not JSON") from None
    action = _get(data, "action")
    number = _get(data, "pull_request", "number")
    repo = _get(data, "repository", "full_name")
    head = _get(data, "pull_request", "head", "sha")
    base = _get(data, "pull_request", "base", "sha")
    base_ref = _get(data, "pull_request", "base", "ref")
    if not isinstance(action, str) or not isinstance(repo, str) or "/" not in repo:
        raise BadEvent("bad action or repository")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise BadEvent("bad pull request number")
    for sha in (head, base):
        if not isinstance(sha, str) or not _SHA.match(sha):
            raise BadEvent("bad commit sha")
    if not isinstance(base_ref, str) or not _valid_branch(base_ref):
        raise BadEvent("bad base ref")
    return PullEvent(repo, number, action, head, base, base_ref)


def parse_review_comment(body: bytes) -> ReplyEvent | None:
    """The ReplyEvent of a ``pull_request_review_comment`` payload; None when the event is
    not a new reply; BadEvent when the payload is malformed."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadEvent("the body is not JSON") from None
    action = _get(data, "action")
    repo = _get(data, "repository", "full_name")
    number = _get(data, "pull_request", "number")
    comment = _get(data, "comment")
    if not isinstance(action, str) or not isinstance(repo, str) or "/" not in repo:
        raise BadEvent("bad action or repository")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise BadEvent("bad pull request number")
    if not isinstance(comment, dict):
        raise BadEvent("bad comment")
    cid, target = comment.get("id"), comment.get("in_reply_to_id")
    if action != "created" or target is None:
        return None
    if not isinstance(cid, int) or not isinstance(target, int):
        raise BadEvent("bad comment id")
    return ReplyEvent(repo, number, cid, target)


def _valid_branch(name: str) -> bool:
    """A branch name git accepts (``git check-ref-format`` rules), not starting with ``-``."""
    return (bool(_REF.match(name)) and ".." not in name and "@{" not in name
            and "//" not in name and not name.startswith(("-", "/", "."))
            and not name.endswith(("/", ".", ".lock")))
