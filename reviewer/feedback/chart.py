"""Charts of ``reviewer stats``: a self-contained HTML page (inline SVG) or a PNG.

Neither needs a plotting library. The HTML page has no script and loads nothing (styles
inline, no fonts, no links out), so it can be attached to a PR or opened offline. The PNG is
drawn here, pixel by pixel, with a 3x5 bitmap font and written with zlib: bars of accepted
and dismissed verdicts per rule, and the acceptance rate per week.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from html import escape

from reviewer.feedback.stats import RuleStats, Stats, WeekStats, percent, table

ACCEPT = "#2e7d32"
DISMISS = "#c62828"
GRID = "#bdbdbd"
INK = "#212121"
MAX_RULES = 30
MAX_WEEKS = 26


# -- HTML ----------------------------------------------------------------------------------
def html_page(stats: Stats) -> str:
    """The whole page: summary, a bar per rule, the weekly trend, the table."""
    period = f"since {stats.since[:10]}" if stats.since else "all time"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>reviewer stats</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;color:#212121}"
        "pre{background:#f5f5f5;padding:1em;overflow:auto}h2{margin-top:1.5em}"
        ".key span{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 1em}</style>",
        "</head><body>",
        "<h1>What the team said about the reviewer's findings</h1>",
        f"<p>{stats.judged} verdicts ({escape(period)}): {stats.accepted} accepted, "
        f"{stats.dismissed} dismissed; acceptance rate (the precision the team experiences) "
        f"<strong>{percent(stats.rate)}</strong>.</p>",
        f'<p class="key"><span style="background:{ACCEPT}"></span>accepted'
        f'<span style="background:{DISMISS}"></span>dismissed</p>',
        "<h2>Per rule</h2>",
        rules_svg(stats),
        "<h2>Per week</h2>",
        weeks_svg(stats),
        "<h2>Table</h2>",
        f"<pre>{escape(table(stats))}</pre>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def rules_svg(stats: Stats) -> str:
    """Horizontal bars: accepted and dismissed verdicts of each rule, with the rate."""
    rules = [r for r in stats.rules if r.judged][:MAX_RULES]
    if not rules:
        return "<p>No rule has verdicts.</p>"
    row, label_w, bar_w = 24, 260, 420
    most = max(r.judged for r in rules)
    height = row * len(rules) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 140}" '
           f'height="{height}" role="img" aria-label="verdicts per rule">']
    for n, r in enumerate(rules):
        y = 5 + n * row
        acc = bar_w * r.accepted / most
        dis = bar_w * r.dismissed / most
        name = escape(f"{r.rule_id} {r.slug}".strip())
        out += [
            f'<text x="0" y="{y + 15}" font-size="13" fill="{INK}">{name}</text>',
            f'<rect x="{label_w}" y="{y + 3}" width="{acc:.1f}" height="16" fill="{ACCEPT}">'
            f"<title>{r.accepted} accepted</title></rect>",
            f'<rect x="{label_w + acc:.1f}" y="{y + 3}" width="{dis:.1f}" height="16" '
            f'fill="{DISMISS}"><title>{r.dismissed} dismissed</title></rect>',
            f'<text x="{label_w + acc + dis + 6:.1f}" y="{y + 15}" font-size="13" '
            f'fill="{INK}">{percent(r.rate)} of {r.judged}</text>',
        ]
    out.append("</svg>")
    return "\n".join(out)


def weeks_svg(stats: Stats) -> str:
    """Vertical bars: the acceptance rate of each week (the number judged above)."""
    weeks = list(stats.weeks)[-MAX_WEEKS:]
    if not weeks:
        return "<p>No dated verdicts.</p>"
    col, top, plot_h = 44, 20, 160
    width = 40 + col * len(weeks)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{top + plot_h + 40}" '
           'role="img" aria-label="acceptance rate per week">']
    for pct in (0, 50, 100):
        y = top + plot_h - plot_h * pct / 100
        out.append(f'<line x1="34" y1="{y:.1f}" x2="{width}" y2="{y:.1f}" stroke="{GRID}" '
                   'stroke-width="1"/>')
        out.append(f'<text x="0" y="{y + 4:.1f}" font-size="11" fill="{INK}">{pct}%</text>')
    for n, w in enumerate(weeks):
        x = 40 + n * col
        label = escape(w.week[5:])
        out.append(f'<text x="{x}" y="{top + plot_h + 16}" font-size="11" '
                   f'fill="{INK}">{label}</text>')
        if w.rate is None:
            continue
        h = plot_h * w.rate
        out += [
            f'<rect x="{x}" y="{top + plot_h - h:.1f}" width="{col - 10}" height="{h:.1f}" '
            f'fill="{ACCEPT}"><title>{escape(w.week)}: {percent(w.rate)} of {w.judged}'
            "</title></rect>",
            f'<text x="{x}" y="{top + plot_h - h - 4:.1f}" font-size="11" '
            f'fill="{INK}">{w.judged}</text>',
        ]
    out.append("</svg>")
    return "\n".join(out)


# -- PNG -----------------------------------------------------------------------------------
_FONT_ROWS = {
    "0": "###/#.#/#.#/#.#/###", "1": ".#./##./.#./.#./###", "2": "###/..#/###/#../###",
    "3": "###/..#/###/..#/###", "4": "#.#/#.#/###/..#/..#", "5": "###/#../###/..#/###",
    "6": "###/#../###/#.#/###", "7": "###/..#/..#/.#./.#.", "8": "###/#.#/###/#.#/###",
    "9": "###/#.#/###/..#/###", "A": ".#./#.#/###/#.#/#.#", "B": "##./#.#/##./#.#/##.",
    "C": ".##/#../#../#../.##", "D": "##./#.#/#.#/#.#/##.", "E": "###/#../##./#../###",
    "F": "###/#../##./#../#..", "G": ".##/#../#.#/#.#/.##", "H": "#.#/#.#/###/#.#/#.#",
    "I": "###/.#./.#./.#./###", "J": "..#/..#/..#/#.#/.#.", "K": "#.#/#.#/##./#.#/#.#",
    "L": "#../#../#../#../###", "M": "#.#/###/###/#.#/#.#", "N": "##./#.#/#.#/#.#/#.#",
    "O": ".#./#.#/#.#/#.#/.#.", "P": "##./#.#/##./#../#..", "Q": ".#./#.#/#.#/##./.##",
    "R": "##./#.#/##./#.#/#.#", "S": ".##/#../.#./..#/##.", "T": "###/.#./.#./.#./.#.",
    "U": "#.#/#.#/#.#/#.#/###", "V": "#.#/#.#/#.#/#.#/.#.", "W": "#.#/#.#/###/###/#.#",
    "X": "#.#/#.#/.#./#.#/#.#", "Y": "#.#/#.#/.#./.#./.#.", "Z": "###/..#/.#./#../###",
    "%": "#.#/..#/.#./#../#.#", "-": ".../.../###/.../...", ".": ".../.../.../.../.#.",
    ":": ".../.#./.../.#./...", "/": "..#/..#/.#./#../#..", "(": ".#./#../#../#../.#.",
    ")": ".#./..#/..#/..#/.#.", "_": ".../.../.../.../###", " ": ".../.../.../.../...",
}
FONT = {ch: [row == "#" for rows in spec.split("/") for row in rows]
        for ch, spec in _FONT_ROWS.items()}
RGB = tuple[int, int, int]


def _rgb(colour: str) -> RGB:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


class Canvas:
    """An RGB raster with rectangles and 3x5 bitmap text, encoded as PNG."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.pixels = bytearray(b"\xff" * (width * height * 3))

    def rect(self, x0: int, y0: int, x1: int, y1: int, colour: RGB) -> None:
        """Fill [x0, x1) x [y0, y1), clipped to the canvas."""
        x0, x1 = max(0, x0), min(self.width, x1)
        if x1 <= x0:
            return
        line = bytes(colour) * (x1 - x0)
        for y in range(max(0, y0), min(self.height, y1)):
            start = (y * self.width + x0) * 3
            self.pixels[start:start + len(line)] = line

    def text(self, x: int, y: int, text: str, colour: RGB, scale: int = 2) -> int:
        """Draw ``text`` (upper-cased; unknown characters as blanks); returns the end x."""
        for ch in text.upper():
            bits = FONT.get(ch, FONT[" "])
            for i, on in enumerate(bits):
                if on:
                    px, py = x + (i % 3) * scale, y + (i // 3) * scale
                    self.rect(px, py, px + scale, py + scale, colour)
            x += 4 * scale
        return x

    def png(self) -> bytes:
        """The canvas as a PNG file (8-bit RGB, no filter, zlib level 9)."""
        stride = self.width * 3
        raw = b"".join(b"\x00" + bytes(self.pixels[y * stride:(y + 1) * stride])
                       for y in range(self.height))

        def chunk(kind: bytes, data: bytes) -> bytes:
            return (struct.pack(">I", len(data)) + kind + data
                    + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def png_chart(stats: Stats) -> bytes:
    """Bars per rule (accepted / dismissed) above the weekly acceptance rate."""
    rules = [r for r in stats.rules if r.judged][:MAX_RULES]
    weeks = list(stats.weeks)[-MAX_WEEKS:]
    row, label_w, bar_w, col, plot_h = 22, 130, 460, 40, 140
    width = max(label_w + bar_w + 150, 60 + col * len(weeks))
    height = 60 + row * max(1, len(rules)) + 60 + plot_h + 40
    c = Canvas(width, height)
    ink, acc_c, dis_c, grid = _rgb(INK), _rgb(ACCEPT), _rgb(DISMISS), _rgb(GRID)
    c.text(10, 10, f"ACCEPTANCE {percent(stats.rate)} OF {stats.judged} VERDICTS", ink, 3)
    y = 44
    c.text(10, y, "PER RULE:", ink)
    x = c.text(150, y, "ACCEPTED", acc_c)
    c.text(x + 16, y, "DISMISSED", dis_c)
    y += 22
    _rule_bars(c, rules, y, (row, label_w, bar_w))
    y += row * max(1, len(rules)) + 24
    c.text(10, y, "ACCEPTANCE PER WEEK:", ink)
    _week_bars(c, weeks, y + 24, (col, plot_h), grid)
    return c.png()


def _rule_bars(c: Canvas, rules: Sequence[RuleStats], top: int,
               geometry: tuple[int, int, int]) -> None:
    row, label_w, bar_w = geometry
    most = max((r.judged for r in rules), default=1)
    ink, acc_c, dis_c = _rgb(INK), _rgb(ACCEPT), _rgb(DISMISS)
    for n, r in enumerate(rules):
        y = top + n * row
        c.text(10, y + 3, r.rule_id[:14], ink)
        acc = round(bar_w * r.accepted / most)
        dis = round(bar_w * r.dismissed / most)
        c.rect(label_w, y, label_w + acc, y + 16, acc_c)
        c.rect(label_w + acc, y, label_w + acc + dis, y + 16, dis_c)
        c.text(label_w + acc + dis + 8, y + 3, f"{percent(r.rate)} OF {r.judged}", ink)


def _week_bars(c: Canvas, weeks: Sequence[WeekStats], top: int, geometry: tuple[int, int],
               grid: RGB) -> None:
    col, plot_h = geometry
    ink, acc_c = _rgb(INK), _rgb(ACCEPT)
    for pct in (0, 50, 100):
        y = top + plot_h - plot_h * pct // 100
        c.rect(50, y, 50 + col * max(1, len(weeks)), y + 1, grid)
        c.text(4, y - 4, f"{pct}%", ink)
    for n, w in enumerate(weeks):
        x = 56 + n * col
        c.text(x, top + plot_h + 8, w.week[5:], ink)
        if w.rate is not None:
            h = round(plot_h * w.rate)
            c.rect(x, top + plot_h - h, x + col - 12, top + plot_h, acc_c)
