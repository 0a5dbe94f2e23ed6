"""`reviewer stats` on a seeded verdicts database: table, JSON, HTML and PNG charts."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest
from conftest import Repo, RunResult

from reviewer.feedback.stats import parse_since, summarise
from reviewer.feedback.store import FeedbackStore, Recorded, Verdict

# (fingerprint, rule, slug); verdicts below: (fingerprint, verdict, author, when)
FINDINGS = [
    ("aaaa000000000000000a", "RV501", "print-in-library"),
    ("aaaa000000000000000b", "RV501", "print-in-library"),
    ("aaaa000000000000000c", "RV501", "print-in-library"),
    ("aaaa000000000000000d", "RV501", "print-in-library"),
    ("bbbb000000000000000a", "RV202", "broad-except"),
    ("bbbb000000000000000b", "RV202", "broad-except"),
    ("cccc000000000000000a", "RV101", "mutable-default-argument"),
]
VERDICTS = [
    ("aaaa000000000000000a", "dismiss", "alice", "2026-11-02T09:00:00Z"),  # week 45
    ("aaaa000000000000000b", "dismiss", "alice", "2026-11-03T09:00:00Z"),
    ("aaaa000000000000000c", "dismiss", "bob", "2026-11-04T09:00:00Z"),
    ("aaaa000000000000000c", "accept", "alice", "2026-11-04T10:00:00Z"),  # two authors
    ("bbbb000000000000000a", "accept", "bob", "2026-11-05T09:00:00Z"),
    ("bbbb000000000000000b", "dismiss", "bob", "2026-11-16T09:00:00Z"),  # week 47
    ("bbbb000000000000000b", "accept", "bob", "2026-11-17T09:00:00Z"),  # changed mind
]


def seed(root: Path) -> Path:
    path = root / ".reviewer" / "feedback.db"
    with FeedbackStore.open(path) as store:
        store.record(Recorded(fp, rule, slug, "message", "lib/x.py", n + 1, code="x = 1",
                              seen_at="2026-11-01T00:00:00Z")
                     for n, (fp, rule, slug) in enumerate(FINDINGS))
        for fp, verdict, author, when in VERDICTS:
            store.add_verdict(Verdict(fp, verdict, author=author, created_at=when))
    return path


@pytest.fixture
def seeded(repo: Repo) -> Repo:
    seed(repo.path)
    return repo


def test_table(seeded: Repo, run_cli: Callable[..., RunResult]) -> None:
    code, out, err = run_cli("stats")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == ("Verdicts (all time, 2026-11-02 .. 2026-11-17): 6 from 2 authors, "
                        "3 accepted, 3 dismissed; acceptance 50%.")
    rows = [ln.split() for ln in lines[2:7]]
    assert rows == [
        ["rule", "slug", "judged", "accepted", "dismissed", "acceptance", "reported"],
        ["RV501", "print-in-library", "4", "1", "3", "25%", "4"],
        ["RV202", "broad-except", "2", "2", "0", "100%", "2"],
        ["RV101", "mutable-default-argument", "0", "0", "0", "-", "1"],
        ["all", "6", "3", "3", "50%", "7"],
    ]
    assert "2026-W45  2026-11-02       5         2          3         40%" in out
    assert "2026-W46  2026-11-09       0         0          0           -" in out
    assert lines[-1] == "Most dismissed: RV501 print-in-library (3 of 4 dismissed)."


def test_json_and_since(seeded: Repo, run_cli: Callable[..., RunResult]) -> None:
    code, out, _ = run_cli("stats", "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["totals"] == {"judged": 6, "accepted": 3, "dismissed": 3, "acceptance_rate": 0.5}
    assert [(r["rule_id"], r["acceptance_rate"]) for r in doc["rules"]] == [
        ("RV501", 0.25), ("RV202", 1.0), ("RV101", None)]
    assert [(w["week"], w["judged"]) for w in doc["weeks"]] == [
        ("2026-W45", 5), ("2026-W46", 0), ("2026-W47", 1)]
    assert doc["most_dismissed"] == ["RV501"]

    code, out, _ = run_cli("stats", "--format", "json", "--since", "2026-11-10")
    doc = json.loads(out)
    assert doc["since"] == "2026-11-10"
    assert doc["totals"]["judged"] == 1 and doc["weeks"][0]["week"] == "2026-W47"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links += [v or "" for k, v in attrs if k in ("src", "href")]


def test_html_chart_is_self_contained(seeded: Repo,
                                      run_cli: Callable[..., RunResult]) -> None:
    code, out, _ = run_cli("stats", "--chart", "stats.html")
    assert code == 0 and "chart written to stats.html" in out
    page = (seeded.path / "stats.html").read_text(encoding="utf-8")
    parser = _Page()
    parser.feed(page)
    assert page.startswith("<!DOCTYPE html>")
    assert parser.tags.count("svg") == 2
    assert "script" not in parser.tags and "link" not in parser.tags
    assert parser.links == []  # nothing loaded from anywhere
    assert "@import" not in page and "url(" not in page
    for svg in page.split("<svg")[1:]:  # each chart is well-formed XML
        ElementTree.fromstring("<svg" + svg.split("</svg>")[0] + "</svg>")
    assert "RV501 print-in-library" in page and "25% of 4" in page


def test_png_chart(seeded: Repo, run_cli: Callable[..., RunResult]) -> None:
    code, _, _ = run_cli("stats", "--chart", "stats.png")
    data = (seeded.path / "stats.png").read_bytes()
    assert code == 0 and data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (depth, colour) == (8, 2)
    idat = data[data.index(b"IDAT") + 4:data.index(b"IEND") - 8]
    raw = zlib.decompress(idat)
    assert len(raw) == height * (1 + 3 * width)
    assert b"\x2e\x7d\x32" in raw and b"\xc6\x28\x28" in raw  # accepted and dismissed bars


def test_empty_database(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    code, out, err = run_cli("stats")
    assert (code, err) == (0, "")
    assert out.startswith("No verdicts yet: accept or dismiss findings")
    assert not (repo.path / ".reviewer").exists()
    FeedbackStore.open(repo.path / ".reviewer" / "feedback.db").close()
    code, out, _ = run_cli("stats", "--format", "json")
    assert code == 0 and json.loads(out)["totals"]["judged"] == 0


def test_bad_input(seeded: Repo, run_cli: Callable[..., RunResult]) -> None:
    code, _, err = run_cli("stats", "--since", "last tuesday")
    assert code == 2 and "--since 'last tuesday' is not a date" in err
    code, _, err = run_cli("stats", "--chart", "stats.svg")
    assert code == 2 and "must end in .html or .png" in err
    assert not (seeded.path / "stats.svg").exists()
    (seeded.path / ".reviewer" / "feedback.db").write_bytes(b"not a database " * 100)
    code, out, err = run_cli("stats")
    assert code == 2 and out == "" and err.startswith("reviewer: error: cannot open")


def test_since_accepts_iso_times() -> None:
    assert parse_since("2026-11-10") == "2026-11-10"
    assert parse_since("2026-11-10T12:00:00+02:00") == "2026-11-10T10:00:00Z"


def test_verdicts_without_snapshot_count_under_unknown_rule() -> None:
    from reviewer.feedback.store import Judged

    stats = summarise([Judged(Verdict("ffff", "dismiss", author="a",
                                      created_at="2026-11-02T00:00:00Z"), None)], [])
    assert [(r.rule_id, r.dismissed) for r in stats.rules] == [("?", 1)]
