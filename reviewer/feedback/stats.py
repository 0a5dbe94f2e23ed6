"""What the team's verdicts say about each rule: ``reviewer stats``.

The acceptance rate of a rule is accepted / judged: the precision the team experiences.
Each author's latest verdict on a finding counts once (a finding two people judged counts
twice; a changed mind counts as the new verdict only). The trend groups those verdicts by
the ISO week they were given in. Rules that reported findings nobody judged are listed too
(judged 0), so the table also shows where verdicts are missing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.feedback.store import FeedbackStore, Judged, Recorded

UNKNOWN_RULE = "?"
MOST_DISMISSED = 5
EMPTY = ("No verdicts yet: accept or dismiss findings with `reviewer feedback accept|dismiss "
         "FINGERPRINT` or `reviewer review`, then run `reviewer stats` again.")


class _Tally:
    """``judged`` and ``rate`` of a dataclass with ``accepted`` and ``dismissed`` counts."""

    accepted: int
    dismissed: int

    @property
    def judged(self) -> int:
        """Verdicts counted (accepted + dismissed)."""
        return self.accepted + self.dismissed

    @property
    def rate(self) -> float | None:
        """accepted / judged, None when nothing was judged."""
        return self.accepted / self.judged if self.judged else None


@dataclass(frozen=True)
class RuleStats(_Tally):
    """The verdicts on one rule's findings."""

    rule_id: str
    slug: str
    accepted: int
    dismissed: int
    reported: int  # findings of the rule `check` recorded (in the period)


@dataclass(frozen=True)
class WeekStats(_Tally):
    """The verdicts given in one ISO week (``2026-W47``, starting on ``monday``)."""

    week: str
    monday: str
    accepted: int
    dismissed: int


@dataclass(frozen=True)
class Stats:
    """Everything ``reviewer stats`` shows."""

    since: str  # "" = from the start
    first: str  # the first and last verdict counted ("" when none)
    last: str
    authors: int
    rules: tuple[RuleStats, ...]
    weeks: tuple[WeekStats, ...]

    @property
    def accepted(self) -> int:
        """Accepted verdicts counted."""
        return sum(r.accepted for r in self.rules)

    @property
    def dismissed(self) -> int:
        """Dismissed verdicts counted."""
        return sum(r.dismissed for r in self.rules)

    @property
    def judged(self) -> int:
        """Verdicts counted."""
        return self.accepted + self.dismissed

    @property
    def rate(self) -> float | None:
        """The overall acceptance rate."""
        return self.accepted / self.judged if self.judged else None

    @property
    def most_dismissed(self) -> list[RuleStats]:
        """The rules with most dismissals (ties: the lower acceptance rate first)."""
        ranked = sorted((r for r in self.rules if r.dismissed),
                        key=lambda r: (-r.dismissed, r.rate or 0.0, r.rule_id))
        return ranked[:MOST_DISMISSED]


def parse_since(text: str) -> str:
    """A ``--since`` date (``YYYY-MM-DD`` or an ISO time) as the ISO prefix to compare.

    Raises ReviewerError (one line) for anything else.
    """
    value = text.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ReviewerError(f"--since {text!r} is not a date (expected YYYY-MM-DD)") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def compute(store: FeedbackStore, since: str = "") -> Stats:
    """The statistics of the verdicts given at or after ``since`` (see parse_since)."""
    judged = [j for j in store.verdicts(latest=True) if j.verdict.created_at >= since]
    findings = [f for f in store.findings() if f.seen_at >= since]
    return summarise(judged, findings, since)


def summarise(judged: Sequence[Judged], findings: Iterable[Recorded], since: str = "") -> Stats:
    """Stats from verdicts (each author's latest per finding) and recorded findings."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    slugs: dict[str, str] = {}
    for f in findings:
        counts[f.rule_id]["reported"] += 1
        slugs.setdefault(f.rule_id, f.slug)
    weeks: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    for j in judged:
        rule = j.finding.rule_id if j.finding is not None else UNKNOWN_RULE
        if j.finding is not None:
            slugs.setdefault(rule, j.finding.slug)
        counts[rule][j.verdict.verdict] += 1
        weeks[_iso_week(j.verdict.created_at)][j.verdict.verdict] += 1
    rules = sorted(
        (RuleStats(r, slugs.get(r, ""), c["accept"], c["dismiss"], c["reported"])
         for r, c in counts.items()),
        key=lambda r: (-r.judged, r.rule_id))
    times = sorted(j.verdict.created_at for j in judged)
    return Stats(
        since=since, first=times[0] if times else "", last=times[-1] if times else "",
        authors=len({j.verdict.author for j in judged}), rules=tuple(rules),
        weeks=tuple(_weeks(weeks)),
    )


def _iso_week(created_at: str) -> tuple[int, int]:
    try:
        day = date.fromisoformat(created_at[:10])
    except ValueError:
        return (0, 0)
    year, week, _ = day.isocalendar()
    return (year, week)


def _weeks(weeks: dict[tuple[int, int], Counter[str]]) -> list[WeekStats]:
    """Every week from the first to the last one with verdicts (empty weeks included)."""
    known = sorted(k for k in weeks if k != (0, 0))
    if not known:
        return []
    out = []
    monday = date.fromisocalendar(known[0][0], known[0][1], 1)
    end = date.fromisocalendar(known[-1][0], known[-1][1], 1)
    while monday <= end:
        year, week, _ = monday.isocalendar()
        c = weeks.get((year, week), Counter())
        out.append(WeekStats(f"{year}-W{week:02d}", monday.isoformat(), c["accept"],
                             c["dismiss"]))
        monday += timedelta(days=7)
    return out


# -- rendering -----------------------------------------------------------------------------
def percent(rate: float | None) -> str:
    """``75%``, or ``-`` when nothing was judged."""
    return "-" if rate is None else f"{100 * rate:.0f}%"


def to_dict(stats: Stats) -> dict[str, Any]:
    """The statistics as JSON data (``reviewer stats --format json``)."""
    def rule(r: RuleStats) -> dict[str, Any]:
        return {"rule_id": r.rule_id, "slug": r.slug, "judged": r.judged,
                "accepted": r.accepted, "dismissed": r.dismissed, "reported": r.reported,
                "acceptance_rate": None if r.rate is None else round(r.rate, 4)}

    return {
        "since": stats.since or None,
        "first_verdict": stats.first or None,
        "last_verdict": stats.last or None,
        "authors": stats.authors,
        "totals": {"judged": stats.judged, "accepted": stats.accepted,
                   "dismissed": stats.dismissed,
                   "acceptance_rate": None if stats.rate is None else round(stats.rate, 4)},
        "rules": [rule(r) for r in stats.rules],
        "weeks": [{"week": w.week, "monday": w.monday, "judged": w.judged,
                   "accepted": w.accepted, "dismissed": w.dismissed,
                   "acceptance_rate": None if w.rate is None else round(w.rate, 4)}
                  for w in stats.weeks],
        "most_dismissed": [r.rule_id for r in stats.most_dismissed],
    }


def _columns(rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
                      for i, cell in enumerate(row)).rstrip() for row in rows]


def table(stats: Stats) -> str:
    """The plain-text report: per rule, per week, most dismissed."""
    period = f"since {stats.since[:10]}" if stats.since else "all time"
    span = f", {stats.first[:10]} .. {stats.last[:10]}" if stats.first else ""
    authors = f"{stats.authors} author{'s' if stats.authors != 1 else ''}"
    lines = [f"Verdicts ({period}{span}): {stats.judged} from {authors}, "
             f"{stats.accepted} accepted, {stats.dismissed} dismissed; acceptance "
             f"{percent(stats.rate)}.", ""]
    rows = [["rule", "slug", "judged", "accepted", "dismissed", "acceptance", "reported"]]
    rows += [[r.rule_id, r.slug, str(r.judged), str(r.accepted), str(r.dismissed),
              percent(r.rate), str(r.reported)] for r in stats.rules]
    rows.append(["all", "", str(stats.judged), str(stats.accepted), str(stats.dismissed),
                 percent(stats.rate), str(sum(r.reported for r in stats.rules))])
    lines += _columns(rows, right={2, 3, 4, 5, 6})
    if stats.weeks:
        lines += ["", "Per week:"]
        week_rows = [["week", "from", "judged", "accepted", "dismissed", "acceptance"]]
        week_rows += [[w.week, w.monday, str(w.judged), str(w.accepted), str(w.dismissed),
                       percent(w.rate)] for w in stats.weeks]
        lines += _columns(week_rows, right={2, 3, 4, 5})
    worst = stats.most_dismissed
    if worst:
        lines += ["", "Most dismissed: " + ", ".join(
            f"{r.rule_id} {r.slug} ({r.dismissed} of {r.judged} dismissed)" for r in worst) + "."]
    return "\n".join(lines) + "\n"
