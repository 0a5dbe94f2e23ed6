"""Verdicts from the pull request: reactions and replies on reviewer's own inline comments.

Every inline comment reviewer posts carries ``<!-- reviewer:fp=FINGERPRINT -->``. People
answer it on GitHub, and those answers become verdicts (source ``github``, author = the
GitHub login, time = when the reaction or reply was made):

- a 👍 (``+1``) reaction on the comment accepts the finding, a 👎 (``-1``) dismisses it;
  other reactions mean nothing here;
- a reply in the comment's thread whose first word is a verdict::

      accept [reason]          dismiss [reason]
      /reviewer accept ...     /reviewer dismiss ...
      👍 [reason]  +1 ...      👎 [reason]  -1 ...

  (case-insensitive; ``:``, ``-`` or ``,`` may follow the word; the rest of the reply is the
  reason). Any other reply is conversation and is left alone.

Reactions and replies by reviewer's own account are ignored. Reading them again adds
nothing (a verdict is unique per fingerprint, verdict, author and time), so each run of
``reviewer github review`` can collect them first. A removed reaction or an edited reply
does not take a verdict back: a later, opposite answer does (the latest verdict counts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from reviewer.feedback.store import FeedbackStore, Recorded, Verdict
from reviewer.github import render
from reviewer.github.publish import Publisher, _api_error

REACTIONS = {"+1": "accept", "-1": "dismiss"}
_WORDS = {"accept": "accept", "dismiss": "dismiss", "+1": "accept", "-1": "dismiss",
          "\N{THUMBS UP SIGN}": "accept", "\N{THUMBS DOWN SIGN}": "dismiss"}
_REPLY = re.compile(
    r"^(?:/reviewer\s+)?(accept|dismiss|\+1|-1|\N{THUMBS UP SIGN}|\N{THUMBS DOWN SIGN})"
    r"[\U0001F3FB-\U0001F3FF\uFE0F]*(?=$|[\s:,.!-])[\s:,.!-]*(.*)\Z",
    re.IGNORECASE | re.DOTALL)
_HEADING = re.compile(r"\*\*([A-Z]+\d+) ([\w-]+)\*\* \((\w+)\): ([^\n]*)")


@dataclass(frozen=True)
class PRVerdict:
    """One answer on the PR that is a verdict."""

    fingerprint: str
    verdict: str
    reason: str
    author: str
    created_at: str
    comment_id: int  # reviewer's comment it answers
    how: str  # "reaction" or "reply"

    def as_verdict(self) -> Verdict:
        return Verdict(fingerprint=self.fingerprint, verdict=self.verdict, reason=self.reason,
                       author=self.author, source="github", created_at=self.created_at)


def parse_reply(body: str | None) -> tuple[str, str] | None:
    """(verdict, reason) when a reply is a verdict by the grammar above, else None."""
    text = (body or "").strip()
    m = _REPLY.match(text)
    if m is None:
        return None
    word = m.group(1).lower()
    reason = " ".join(m.group(2).split())
    return _WORDS[word], reason


def iso(when: datetime | None) -> str:
    """``2026-11-22T05:40:00Z`` (UTC) for a time GitHub gave."""
    if when is None:
        return ""
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class BotComment:
    """One of reviewer's inline comments (what the verdicts are about)."""

    id: int
    fingerprint: str
    path: str
    line: int
    body: str


def collect(publisher: Publisher) -> tuple[list[PRVerdict], list[BotComment]]:
    """The verdicts given on the PR so far, and reviewer's comments they answer.

    One request lists the
    review comments; reactions are listed only for reviewer's comments whose reaction
    counts show a 👍 or 👎. Raises ReviewerError (one line) when GitHub refuses.
    """
    ours: dict[int, tuple[BotComment, Any]] = {}
    replies: list[Any] = []
    try:
        for c in publisher.pull.get_review_comments():
            raw = _raw(c)
            fp = render.marked_fp(raw.get("body"))
            mine = publisher.trusted(c.user)
            if fp and mine:
                line = raw.get("line") or raw.get("original_line") or 0
                ours[c.id] = (BotComment(c.id, fp, str(raw.get("path", "")), int(line),
                                         str(raw.get("body", ""))), c)
            elif not mine and raw.get("in_reply_to_id"):
                replies.append(raw)
        found = [v for raw in replies if (v := _from_reply(raw, ours)) is not None]
        for bot, comment in ours.values():
            found.extend(_from_reactions(publisher, bot, comment))
    except publisher.error as exc:
        raise _api_error(exc, "reading reactions and replies") from None
    return dated(found), [bot for bot, _ in ours.values()]


def _raw(obj: Any) -> dict[str, Any]:
    """The JSON PyGithub got for an object, read without its lazy completion request
    (reading a field a list left out would otherwise cost one GET per comment)."""
    data = getattr(obj, "_rawData", None)
    return data if isinstance(data, dict) else {}


def _from_reply(raw: dict[str, Any], ours: dict[int, tuple[BotComment, Any]]
                ) -> PRVerdict | None:
    target = ours.get(raw.get("in_reply_to_id") or 0)
    said = parse_reply(raw.get("body"))
    if target is None or said is None:
        return None
    user = raw.get("user") or {}
    return PRVerdict(target[0].fingerprint, said[0], said[1], str(user.get("login") or "ghost"),
                     _iso_text(raw.get("created_at")), target[0].id, "reply")


def _from_reactions(publisher: Publisher, bot: BotComment, comment: Any) -> list[PRVerdict]:
    counts = _raw(comment).get("reactions")
    if isinstance(counts, dict) and not (counts.get("+1") or counts.get("-1")):
        return []
    out = []
    for r in comment.get_reactions():
        raw = _raw(r)
        kind = REACTIONS.get(str(raw.get("content", "")))
        if kind is None or publisher.trusted(r.user):
            continue
        user = raw.get("user") or {}
        out.append(PRVerdict(bot.fingerprint, kind, "", str(user.get("login") or "ghost"),
                             _iso_text(raw.get("created_at")), bot.id, "reaction"))
    return out


def _iso_text(value: Any) -> str:
    """GitHub's ``2026-11-22T05:40:00Z`` (or with an offset) normalised to UTC seconds."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        return iso(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return ""


def snapshot(bot: BotComment, seen_at: str) -> Recorded:
    """A finding record from reviewer's comment alone (when no run recorded it here)."""
    m = _HEADING.search(bot.body)
    rule_id, slug, severity, message = m.groups() if m else ("", "", "low", "")
    return Recorded(fingerprint=bot.fingerprint, rule_id=rule_id, slug=slug,
                    message=message.strip(), path=bot.path, line=bot.line,
                    severity=severity.lower(), seen_at=seen_at)


def save(store: FeedbackStore, found: Sequence[PRVerdict],
         comments: Iterable[BotComment]) -> tuple[int, int]:
    """Store the verdicts (and minimal snapshots of unrecorded findings): (added, present)."""
    from reviewer.feedback.store import now_iso

    by_fp = {c.fingerprint: c for c in comments}
    added = 0
    with store.transaction():
        missing = [by_fp[v.fingerprint] for v in found
                   if v.fingerprint in by_fp and store.finding(v.fingerprint) is None]
        unique = {c.fingerprint: c for c in missing}
        if unique:
            now = now_iso()
            store.record(snapshot(c, now) for c in unique.values())
        for v in found:
            added += store.add_verdict(v.as_verdict())
    return added, len(found) - added


def dated(found: Sequence[PRVerdict]) -> list[PRVerdict]:
    """The verdicts with a time (without one a re-run could not tell it was stored)."""
    return [v for v in found if v.created_at]
