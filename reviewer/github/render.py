"""Markdown for the PR review: inline comments, suggestion blocks, the summary comment.

Every comment carries hidden HTML markers, so a later run knows what it already said:
``<!-- reviewer:fp=<fingerprint> -->`` on each inline comment (plus
``<!-- reviewer:resolved -->`` once its finding is gone), and ``<!-- reviewer:summary -->``
on the one summary comment, whose ``<!-- reviewer:state=... -->`` lists every finding it
reported (fingerprint -> path, rule), so findings that disappear can be named as resolved.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reviewer.findings import Finding, Fix, Severity, apply_edits

SUMMARY_MARKER = "<!-- reviewer:summary -->"
RESOLVED_MARKER = "<!-- reviewer:resolved -->"
_FP = re.compile(r"<!-- reviewer:fp=([0-9A-Za-z_-]{1,64}) -->")
_STATE = re.compile(r"<!-- reviewer:state=(\{.*?\}) -->", re.DOTALL)
# GitHub refuses comment bodies over 65,536 characters.
MAX_BODY = 65_000
MAX_LISTED = 50
MAX_STATE = 30_000  # characters of the summary's memory of findings (the rest is text)

ICONS = {Severity.HIGH: "🔴", Severity.MEDIUM: "🟠", Severity.LOW: "🟡", Severity.INFO: "🔵"}

# fingerprint -> (path, "RV101 mutable-default-argument")
State = Mapping[str, tuple[str, str]]


# -- markers -------------------------------------------------------------------------------
def fp_marker(fp: str) -> str:
    """The hidden marker of an inline comment about the finding ``fp``."""
    return f"<!-- reviewer:fp={fp} -->"


def marked_fp(body: str | None) -> str | None:
    """The fingerprint marker of a comment body, if any."""
    m = _FP.search(body or "")
    return m.group(1) if m else None


def is_resolved(body: str | None) -> bool:
    """Whether an inline comment was already marked resolved."""
    return RESOLVED_MARKER in (body or "")


def is_summary(body: str | None) -> bool:
    """Whether an issue comment is reviewer's summary comment."""
    return (body or "").startswith(SUMMARY_MARKER)


def summary_state(body: str | None) -> dict[str, tuple[str, str]]:
    """The findings a summary comment reported (empty when unreadable)."""
    m = _STATE.search(body or "")
    if not m:
        return {}
    try:
        raw = json.loads(m.group(1))
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    return {str(k): (str(v[0]), str(v[1])) for k, v in raw.items()
            if isinstance(v, list) and len(v) == 2}


def _state_marker(state: State) -> str:
    # "<" and ">" escaped, so no path can close the HTML comment early.
    text = json.dumps({k: list(v) for k, v in sorted(state.items())}, ensure_ascii=True,
                      separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e")
    return f"<!-- reviewer:state={text} -->"


DESCRIPTION_MARKER = "<!-- reviewer:description -->"


def is_description(body: str | None) -> bool:
    """Whether a PR body is one reviewer wrote (so a later run may rewrite it)."""
    return DESCRIPTION_MARKER in (body or "")


def description_body(markdown: str) -> str:
    """A PR body holding reviewer's description (marked, so it is updated, not kept)."""
    text = markdown.strip()
    if len(text) > MAX_BODY - 100:
        text = text[: MAX_BODY - 120] + "\n\n… (truncated)"
    return f"{text}\n\n{DESCRIPTION_MARKER}"


# -- suggestions ---------------------------------------------------------------------------
def fence(text: str, char: str = "`") -> str:
    """A code fence longer than any run of ``char`` inside ``text`` (at least three)."""
    longest = max((len(run) for run in re.findall(re.escape(char) + "+", text)), default=0)
    return char * max(3, longest + 1)


@dataclass(frozen=True)
class Suggestion:
    """Lines ``first``..``last`` of the new file replaced by ``text`` (no final newline;
    empty with ``delete``: the lines are removed)."""

    first: int
    last: int
    text: str
    delete: bool = False


def suggestion(source: str, fix: Fix) -> Suggestion | None:
    """The whole-line replacement a fix makes, or None when it cannot be expressed.

    A suggestion block replaces the commented lines entirely, so the edits are widened to
    whole lines: from the first edited line to the last line an edit touches.
    """
    if not fix.edits:
        return None
    try:
        after = apply_edits(source, fix.edits)
    except ValueError:
        return None
    lines = source.splitlines(keepends=True)
    first = min(e.line for e in fix.edits)
    # An edit that ends at column 1 of a later line does not touch that line.
    last = max(e.end_line - 1 if e.end_col == 1 and e.end_line > e.line else e.end_line
               for e in fix.edits)
    if first < 1 or last > len(lines) or last < first:
        return None
    prefix = sum(len(ln) for ln in lines[: first - 1])
    suffix = sum(len(ln) for ln in lines[last:])
    if not after.startswith(source[:prefix]) or not after.endswith(source[len(source) - suffix:]):
        return None
    raw = after[prefix: len(after) - suffix]
    if suffix and raw and not raw.endswith("\n"):
        return None  # the replacement would join the next line onto the last one
    text = raw[:-1] if raw.endswith("\n") else raw
    return Suggestion(first, last, text.replace("\r\n", "\n"), delete=raw == "")


def suggestion_block(s: Suggestion) -> str:
    """A ```suggestion block; its fence is longer than any backtick run inside."""
    block = fence(s.text)
    content = "" if s.delete else s.text + "\n"
    return f"{block}suggestion\n{content}{block}"


# -- comments ------------------------------------------------------------------------------
def heading(f: Finding) -> str:
    """``🟠 **RV101 mutable-default-argument** (medium)``."""
    return f"{ICONS[f.severity]} **{f.rule_id} {f.slug}** ({f.severity.label})"


def inline_body(f: Finding, fix: Suggestion | None = None, note: str = "") -> str:
    """The inline comment for one finding: statement, explanation, suggestion, marker."""
    parts = [f"{heading(f)}: {f.message}"]
    if f.explanation:
        parts.append(f.explanation.strip())
    if fix is not None:
        parts.append(f"{note or 'Suggested fix'}:\n\n{suggestion_block(fix)}")
    parts.append(fp_marker(f.fingerprint))
    return "\n\n".join(parts)


def resolved_body(old: str, sha: str) -> str:
    """An inline comment whose finding disappeared: marked resolved, its markers kept."""
    first = old.split("\n\n", 1)[0].strip()
    fp = marked_fp(old)
    markers = RESOLVED_MARKER + (f"\n{fp_marker(fp)}" if fp else "")
    return (f"✅ **Resolved** in {sha[:7]}: reviewer no longer reports this.\n\n"
            f"~~{first}~~\n\n{markers}")


def state_of(findings: Sequence[Finding]) -> dict[str, tuple[str, str]]:
    """What a summary remembers about each finding."""
    out: dict[str, tuple[str, str]] = {}
    size = 0
    for f in sorted(findings, key=lambda f: (-f.severity, f.sort_key)):
        entry = (f.path, f"{f.rule_id} {f.slug}")
        size += len(f.fingerprint) + len(entry[0]) + len(entry[1]) + 12
        if size > MAX_STATE:
            break  # the most severe are remembered; the rest cannot be named as resolved
        if f.fingerprint:
            out[f.fingerprint] = entry
    return out


def _where(f: Finding) -> str:
    return f"`{f.path}:{f.span.line}`"


def _list(findings: Sequence[Finding], limit: int = MAX_LISTED) -> list[str]:
    rows = [f"- {_where(f)} {heading(f)}: {f.message}" for f in findings[:limit]]
    if len(findings) > limit:
        rows.append(f"- … and {len(findings) - limit} more (see the check run or the SARIF)")
    return rows


@dataclass(frozen=True)
class Summary:
    """What the summary comment reports."""

    sha: str
    findings: Sequence[Finding]
    inline: int  # findings that have an inline comment (new or from an earlier run)
    not_inline: Sequence[Finding]  # the rest: over the cap, or outside the diff
    resolved: Sequence[tuple[str, str]]  # (path, "RV101 slug") of findings that disappeared
    failing: int  # findings at or above the failure threshold
    notes: Sequence[str] = ()
    description: str = ""  # Markdown of `reviewer describe` for the PR (empty: none)


def summary_body(s: Summary) -> str:
    """The one summary comment (edited in place on every run)."""
    n = len(s.findings)
    files = len({f.path for f in s.findings})
    title = (f"### reviewer: {n} finding{'s' if n != 1 else ''} in {files} "
             f"file{'s' if files != 1 else ''}" if n else "### reviewer: no findings")
    lines = [SUMMARY_MARKER, f"{title} (commit {s.sha[:7]})"]
    if s.description:
        lines += ["", s.description.strip(), "", "---"]
    if n:
        counts = [f"{ICONS[sev]} {sev.label}: {c}" for sev in sorted(Severity, reverse=True)
                  if (c := sum(f.severity == sev for f in s.findings))]
        fail = (f"{s.failing} at or above the failure threshold" if s.failing
                else "none at or above the failure threshold")
        lines += ["", " · ".join(counts), "",
                  f"{s.inline} with an inline comment; {fail}."]
    if s.not_inline:
        lines += ["", f"<details><summary>Not commented inline ({len(s.not_inline)})"
                      "</summary>", "", *_list(s.not_inline), "", "</details>"]
    if s.resolved:
        shown = [f"- ~~`{path}` {rule}~~" for path, rule in s.resolved[:MAX_LISTED]]
        lines += ["", f"**Resolved since the last review ({len(s.resolved)})**", "", *shown]
    for note in s.notes:
        lines += ["", f"> {note}"]
    body = "\n".join(lines)
    marker = "\n\n" + _state_marker(state_of(s.findings))
    if len(body) + len(marker) > MAX_BODY:
        body = body[: MAX_BODY - len(marker) - 20] + "\n\n… (truncated)"
    return body + marker
