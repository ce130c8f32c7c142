"""Reports as ONE self-contained HTML file: inline CSS and SVG, no scripts, no external assets.

Readable on a phone (fluid SVG with viewBox, one column under 560 px) and on a desktop, in light and
dark (`prefers-color-scheme`). Colours are the Okabe-Ito palette, distinguishable with the common
colour-vision deficiencies. Every mark has a <title> for hovering and screen readers; since a phone
has no hover, the same words are also on the page, written out or behind a <details> to tap open.
All words, durations and clock times come from `monitor.reports.wording`, like the text report's.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

from monitor.core.timefmt import iso_time
from monitor.core.types import Posture, PostureCode
from monitor.reports.daily import BIN_LABELS, PROLONGED_S, DayStats, HourStats, Run, runs
from monitor.reports.trend import MIN_VALID_WEAR_S, DayReport, DaySummary, WeekReport
from monitor.reports.wording import (
    NBSP,
    clock_time,
    duration,
    duration_parts,
    long_date,
    nudge_outcomes,
    nudge_total,
    percent,
    plural,
    posture_name,
    short_day,
    sitting_word,
    summary,
    time_span,
    trend_window,
)

# Okabe & Ito (2008) colour-blind safe palette; sitting gets the warm, attention-drawing vermillion.
COLOURS: dict[Posture, str] = {
    Posture.SIT: "#D55E00",
    Posture.LIE: "#CC79A7",
    Posture.STAND: "#56B4E9",
    Posture.MOVE: "#009E73",
    Posture.CYCLE: "#0072B2",
    Posture.NON_WEAR: "#BDBDBD",
    Posture.UNKNOWN: "#EAE7E1",
}
# On the dark card (#1B1F27) the palette keeps its hues and at least 3:1 contrast (WCAG's floor for
# graphics); only the two greys change, as light grey would glare and outshine the postures.
DARK_COLOURS: dict[Posture, str] = COLOURS | {Posture.NON_WEAR: "#6B7280", Posture.UNKNOWN: "#2A2F39"}
SIT_LIGHT = "#EDB48F"  # vermillion at ~50 % on white: the other days in the trend
SIT_LIGHT_DARK = "#A0613A"  # the same on the dark card, still 3:1
# Page colours, light and dark. Text reaches 4.5:1 (muted) and 7:1 (ink) on its card in both; the
# key figure's card is a darker vermillion so that white text on it reads (5.3:1; #D55E00 gives 3.9).
LIGHT = {
    "ink": "#1D2433",
    "muted": "#5B6475",
    "bg": "#F6F4EF",
    "card": "#FFFFFF",
    "line": "#E4E0D8",
    "key": "#B34D00",
    "key-ink": "#FFFFFF",
    "sit-light": SIT_LIGHT,
}
DARK = {
    "ink": "#E8EAF0",
    "muted": "#A3AAB8",
    "bg": "#121419",
    "card": "#1B1F27",
    "line": "#2E3440",
    "key": "#B34D00",
    "key-ink": "#FFFFFF",
    "sit-light": SIT_LIGHT_DARK,
}
# The timeline is drawn at this resolution (majority label per slot): 1440 rectangles at most.
TIMELINE_SLOT_S = 60
# The timeline and the hourly bars show the worn part of the day, from the whole hour at least this
# much before the first worn second to the one at least this much after the last; a day worn from 9
# to 17 then fills a phone's width instead of a third of it.
WINDOW_MARGIN_S = 15 * 60
# ... and never less than this, so that an hour worn alone is not drawn a phone wide.
MIN_WINDOW_S = 4 * 3600
WEEK_MEAN = "average of the worn days"
LEGEND_ORDER = (Posture.SIT, Posture.LIE, Posture.STAND, Posture.MOVE, Posture.CYCLE, Posture.NON_WEAR)
_NOT_WORN = (Posture.NON_WEAR, Posture.UNKNOWN)


def _vars(colours: dict[str, str], postures: dict[Posture, str]) -> str:
    named = [f"--{k}:{v}" for k, v in colours.items()]
    named += [f"--p-{p.value}:{c}" for p, c in postures.items()]
    return ";".join(named)


# Chart marks take their colours from classes, so the dark media query recolours the SVG too.
_POSTURE_CSS = "".join(
    f".k-{p.value}{{fill:var(--p-{p.value});background:var(--p-{p.value})}}" for p in Posture
)

CSS = (
    f":root{{{_vars(LIGHT, COLOURS)};color-scheme:light dark}}\n"
    f"@media (prefers-color-scheme:dark){{:root{{{_vars(DARK, DARK_COLOURS)}}}"
    ".card,.stat{box-shadow:none}}\n"
    + _POSTURE_CSS
    + """
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
 font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 -webkit-text-size-adjust:100%}
main{max-width:760px;margin:0 auto;padding:22px 14px 40px}
header{padding:4px 4px 10px}
.eyebrow{margin:0;color:var(--muted);font-size:.85rem;letter-spacing:.06em;text-transform:uppercase}
h1{margin:.1em 0 0;font-size:clamp(1.55rem,6vw,2.3rem);line-height:1.15;letter-spacing:-.01em}
h2{margin:0 0 .6em;font-size:1.05rem}
.sub{margin:.2em 0 0;color:var(--muted);font-size:.9rem}
.card{background:var(--card);border-radius:16px;padding:16px 18px;margin:14px 0;
 box-shadow:0 1px 2px rgba(29,36,51,.06),0 4px 14px rgba(29,36,51,.04)}
.headline{display:grid;grid-template-columns:repeat(3,1fr);gap:10px;margin:8px 0}
.stat{background:var(--card);border-radius:16px;padding:14px 14px 12px;
 box-shadow:0 1px 2px rgba(29,36,51,.06)}
.stat .num{display:block;font-size:clamp(1.6rem,7vw,2.4rem);font-weight:700;line-height:1.05;
 font-variant-numeric:tabular-nums;white-space:nowrap}
.stat .num small{font-size:.55em;font-weight:600;margin-right:.15em}
.stat .lbl{display:block;color:var(--muted);font-size:.85rem;margin-top:.35em;line-height:1.3}
.stat.key{background:var(--key);color:var(--key-ink)}
.stat.key .lbl{color:var(--key-ink)}
.summary{font-size:1.08rem;line-height:1.55;margin:0}
svg{display:block;width:100%;height:auto}
svg text{font-family:inherit}
svg .t{font-size:21px}
svg .ts{font-size:18px}
.tx{fill:var(--muted)}
.tx.ink{fill:var(--ink)}
.halo{stroke:var(--card);stroke-width:7px;stroke-linejoin:round;paint-order:stroke}
.ln{stroke:var(--ink)}
.grid{stroke:var(--line)}
.axis{stroke:var(--muted)}
.legend{display:flex;flex-wrap:wrap;gap:6px 14px;margin:10px 0 0;padding:0;list-style:none;
 font-size:.85rem;color:var(--muted)}
.legend li{display:flex;align-items:center;gap:6px}
.legend svg{width:22px;height:10px}
.sw{display:inline-block;width:12px;height:12px;border-radius:3px;flex:none}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:14px}
.grid2 .card{margin:0}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
td,th{padding:5px 0;border-bottom:1px solid var(--line);text-align:left;font-weight:normal}
td.r,th.r{text-align:right}
td+td,th+th{padding-left:10px}
tr:last-child td{border-bottom:0}
th{color:var(--muted);font-size:.85rem}
.bar{height:10px;border-radius:5px;background:var(--p-sit);min-width:2px}
.note{color:var(--muted);font-size:.88rem;margin:.6em 0 0}
.lead{margin:0 0 .4em}
.spans{display:grid;grid-template-columns:repeat(auto-fill,minmax(10.5em,1fr));gap:6px;
 margin:.5em 0 0;padding:0;list-style:none}
.spans li{border:1px solid var(--line);border-radius:8px;padding:2px 8px;font-size:.88rem;
 font-variant-numeric:tabular-nums;white-space:nowrap}
details{margin:.8em 0 0;font-size:.9rem}
summary{cursor:pointer;color:var(--muted);padding:6px 0}
summary:focus-visible{outline:2px solid var(--ink);outline-offset:2px;border-radius:4px}
details table{margin-top:.3em}
details .scroll{max-height:24em;overflow-y:auto}
.trend{margin:0;padding:0;list-style:none}
.trend li{display:grid;grid-template-columns:4.2em 1fr 6.6em;gap:0 10px;align-items:center;
 padding:4px 0}
.trend .d{color:var(--muted);white-space:nowrap}
.trend .track{position:relative;height:22px}
.trend .fill{position:absolute;left:0;top:3px;bottom:3px;border-radius:4px;
 background:var(--sit-light);min-width:2px}
.trend .mean{position:absolute;top:-4px;bottom:-4px;border-left:2px dashed var(--ink)}
.trend .v{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums;line-height:1.2}
.trend .v small{display:block;color:var(--muted);font-size:.78rem;white-space:normal}
.trend .this .d,.trend .this .v{color:var(--ink);font-weight:700}
.trend .this .fill{background:var(--p-sit)}
.trend .short .fill{background:var(--p-non_wear)}
.day{display:grid;grid-template-columns:7.5em 1fr;gap:4px 12px;align-items:center;padding:6px 0;
 border-bottom:1px solid var(--line)}
.day:last-child{border-bottom:0}
.day .d{font-weight:600}
.day .m{grid-column:2;color:var(--muted);font-size:.85rem}
footer{color:var(--muted);font-size:.85rem;padding:6px 4px}
footer p{margin:.5em 0}
@media (max-width:560px){
 .grid2{grid-template-columns:1fr}
 .headline{grid-template-columns:1fr 1fr}
 .headline .stat.key{grid-column:1/3}
 .day{grid-template-columns:1fr}
 .day .m{grid-column:1}
 svg .t{font-size:38px}
 svg .ts{font-size:36px}
 svg .minor{display:none}
}
"""
)


def _attr(text: str) -> str:
    return escape(text, quote=True)


def _title(text: str) -> str:
    return f"<title>{escape(text)}</title>"


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n</main>\n</body>\n</html>\n"
    )


def _svg(width: int, height: int, label: str, content: Sequence[str]) -> str:
    # Inline in HTML5 an <svg> needs no xmlns, and the file then names no URL at all.
    return (
        f'<svg viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_attr(label)}">{_title(label)}{"".join(content)}</svg>'
    )


def duration_html(seconds: float) -> str:
    """`wording.duration` with its units set small, for the big figures: the same words once the
    tags are stripped ("6 h 19 min"), narrow enough for half a phone's width."""
    return " ".join(f"{n}{NBSP}<small>{unit}</small>" for n, unit in duration_parts(seconds))


# -- the worn part of the day ----------------------------------------------------------------------


def _bounds(stats: DayStats) -> list[int]:
    """The day's hour boundaries in data time, its end included (23, 24 or 25 hours)."""
    return [h.hour.start for h in stats.hours] + [stats.end]


def worn_window(stats: DayStats) -> tuple[int, int]:
    """[start, end) the timeline and the hourly bars show: the worn part of the day with
    WINDOW_MARGIN_S around it, out to whole local hours, at least MIN_WINDOW_S (as far as the day
    allows); the whole day when it was not worn at all."""
    worn = [r for r in stats.timeline if r.label not in _NOT_WORN]
    if not worn:
        return stats.start, stats.end
    bounds = _bounds(stats)
    first = max(worn[0].start - WINDOW_MARGIN_S, stats.start)
    last = min(worn[-1].end + WINDOW_MARGIN_S, stats.end)
    i = max(k for k, b in enumerate(bounds) if b <= first)
    j = min(k for k, b in enumerate(bounds) if b >= last)
    while bounds[j] - bounds[i] < MIN_WINDOW_S and (i > 0 or j < len(bounds) - 1):
        # Widen an hour at a time, later hours first: the wear then starts near the left edge.
        if j < len(bounds) - 1:
            j += 1
        if bounds[j] - bounds[i] < MIN_WINDOW_S and i > 0:
            i -= 1
    return bounds[i], bounds[j]


def _tick_steps(window_s: int, compact: bool) -> tuple[int, int]:
    """Hours between hour labels (desktop, phone). A desktop has room for every hour; a phone for
    about eight labels at its larger chart font. The phone hides the others with CSS (`.minor`)."""
    hours = window_s / 3600
    phone = 1 if hours <= 8 else 2 if hours <= 16 else 3
    return (2, phone * 2) if compact else (1, phone)


def _hour_ticks(stats: DayStats, window: tuple[int, int]) -> list[tuple[int, str | None]]:
    """(time, label) for each hour boundary in the window, the day's end labelled '24'. The repeated
    hour of an autumn DST day is labelled once (None the second time)."""
    w0, w1 = window
    ticks: list[tuple[int, str | None]] = []
    seen: set[str] = set()
    for h in stats.hours:
        if w0 <= h.hour.start <= w1:
            label = h.hour.label
            ticks.append((h.hour.start, None if label in seen else label))
            seen.add(label)
    if w1 == stats.end:
        ticks.append((stats.end, "24"))
    return ticks


def _hour_label_class(label: str, steps: tuple[int, int]) -> str | None:
    """CSS class of an hour's label: None when not drawn at all, 'minor' when hidden on a phone."""
    desktop, phone = steps
    hour = int(label)
    if hour % desktop:
        return None
    return "ts" if hour % phone == 0 else "ts minor"


# -- day timeline ----------------------------------------------------------------------------------


def _slots(stats: DayStats) -> list[Run]:
    """The day's runs at TIMELINE_SLOT_S resolution (majority label per slot), merged again."""
    codes = np.zeros(stats.length_s, dtype=np.uint8)
    for run in stats.timeline:
        codes[run.start - stats.start : run.end - stats.start] = run.label.code
    n_slots = -(-codes.size // TIMELINE_SLOT_S)
    padded = np.full(n_slots * TIMELINE_SLOT_S, PostureCode.UNKNOWN, dtype=np.uint8)
    padded[: codes.size] = codes
    per_slot = padded.reshape(n_slots, TIMELINE_SLOT_S)
    counts = np.stack([(per_slot == c).sum(axis=1) for c in PostureCode], axis=1)
    majority = counts.argmax(axis=1).astype(np.uint8)
    merged = runs(0, majority)
    return [
        Run(
            stats.start + r.start * TIMELINE_SLOT_S,
            min(stats.end, stats.start + r.end * TIMELINE_SLOT_S),
            r.label,
        )
        for r in merged
    ]


def drawn_runs(stats: DayStats, window: tuple[int, int]) -> list[Run]:
    """The runs the timeline draws, whole (the picture clips them to the window, the words do not):
    whole minutes, 'no data' left blank."""
    w0, w1 = window
    return [r for r in _slots(stats) if r.end > w0 and r.start < w1 and r.label is not Posture.UNKNOWN]


def run_words(run: Run, stats: DayStats) -> str:
    """'Sitting 09:12–10:24 (1 h 12 min)': a mark's tooltip, and its row in the list to tap open."""
    name = posture_name(run.label, stats.placement).capitalize()
    return f"{name} {time_span(run.start, run.end, stats.tz)} ({duration(run.duration)})"


def bout_words(start: int, end: int, stats: DayStats) -> str:
    """'09:12–10:24 (1 h 12 min)' for a prolonged bout (its full length, also past midnight)."""
    return f"{time_span(start, end, stats.tz)} ({duration(end - start)})"


def _text(
    x: float,
    y: float,
    body: str,
    *,
    cls: str = "ts",
    ink: bool = False,
    anchor: str = "middle",
    bold: bool = False,
    halo: bool = False,
) -> str:
    """Chart text. Its size comes from CSS classes, larger on phones where the chart is scaled down;
    its colour too, so that dark mode recolours it. A halo keeps a label legible over a line."""
    weight = ' font-weight="700"' if bold else ""
    classes = " ".join(c for c in (cls, "tx", "ink" if ink else "", "halo" if halo else "") if c)
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" class="{classes}" text-anchor="{anchor}"{weight}>'
        f"{escape(body)}</text>"
    )


def timeline_svg(stats: DayStats, *, compact: bool = False, window: tuple[int, int] | None = None) -> str:
    w0, w1 = window or worn_window(stats)
    width, left, right = 1000, 10, 990
    top, bar_h = (8, 34) if compact else (30, 64)
    height = top + bar_h + (48 if compact else 54)
    span = right - left

    def x(t: float) -> float:
        return left + (t - w0) / (w1 - w0) * span

    parts = [
        f'<rect x="{left}" y="{top}" width="{span}" height="{bar_h}" rx="6" class="k-unknown" '
        f'fill="{COLOURS[Posture.UNKNOWN]}"/>',
        '<g shape-rendering="crispEdges">',
    ]
    for run in drawn_runs(stats, (w0, w1)):
        x0, x1 = x(max(run.start, w0)), x(min(run.end, w1))
        parts.append(
            f'<rect x="{x0:.2f}" y="{top}" width="{max(x1 - x0, 0.6):.2f}" '
            f'height="{bar_h}" class="k-{run.label.value}" fill="{COLOURS[run.label]}">'
            f"{_title(run_words(run, stats))}</rect>"
        )
    parts.append("</g>")
    if not compact:
        word = sitting_word(stats.placement).capitalize()
        for bout in stats.prolonged:
            x0, x1 = x(max(bout.start, w0)), x(min(bout.end, w1))
            tip = f"Prolonged {word.lower()} {bout_words(bout.start, bout.end, stats)}"
            parts.append(
                f'<g>{_title(tip)}<path d="M{x0 + 1:.1f} {top - 4}V{top - 16}H{x1 - 1:.1f}V{top - 4}" '
                f'fill="none" class="ln" stroke="{LIGHT["ink"]}" stroke-width="4"/></g>'
            )
    label_y = top + bar_h + (42 if compact else 46)
    steps = _tick_steps(w1 - w0, compact)
    for t, hour in _hour_ticks(stats, (w0, w1)):
        tx = x(t)
        cls = None if hour is None else _hour_label_class(hour, steps)
        major = cls == "ts"
        y2 = top + bar_h + (10 if major else 5)
        parts.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{top + bar_h}" y2="{y2}" '
            f'class="axis" stroke="{LIGHT["muted"]}" stroke-width="2"/>'
        )
        if hour is not None and cls is not None:
            anchor = "start" if tx <= left + 1 else "end" if tx >= right - 1 else "middle"
            parts.append(_text(tx, label_y, hour, cls=cls, anchor=anchor))
    label = f"Day timeline for {long_date(stats)}, {time_span(w0, w1, stats.tz)}, coloured by posture"
    return _svg(width, height, label, parts)


def legend(stats: DayStats, *, prolonged_mark: bool = True) -> str:
    items = "".join(
        f'<li><span class="sw k-{p.value}"></span>{escape(posture_name(p, stats.placement))}</li>'
        for p in LEGEND_ORDER
    )
    prolonged = (
        '<li><svg viewBox="0 0 22 10" aria-hidden="true">'
        f'<path d="M1 9V2H21V9" fill="none" class="ln" stroke="{LIGHT["ink"]}" stroke-width="2"/></svg>'
        f"{PROLONGED_S // 60}+ min {escape(sitting_word(stats.placement))}</li>"
    )
    return f'<ul class="legend">{items}{prolonged if prolonged_mark else ""}</ul>'


def _timeline_details(stats: DayStats, window: tuple[int, int]) -> str:
    """What the timeline's marks say on hover, for a finger: the prolonged bouts written out, and
    every drawn stretch behind a tap."""
    word = sitting_word(stats.placement)
    w0, w1 = window
    worn = [r for r in stats.timeline if r.label not in _NOT_WORN]
    parts = []
    if worn:
        shown = (
            ""
            if (w0, w1) == (stats.start, stats.end)
            else f" (the picture shows {time_span(w0, w1, stats.tz)})"
        )
        parts.append(
            f'<p class="note">Worn from {clock_time(worn[0].start, stats.tz)} to '
            f"{clock_time(worn[-1].end, stats.tz)}{escape(shown)}.</p>"
        )
    if stats.prolonged:
        chips = "".join(f"<li>{escape(bout_words(b.start, b.end, stats))}</li>" for b in stats.prolonged)
        parts.append(
            f'<p class="note">Prolonged {escape(word)}, {PROLONGED_S // 60} minutes or longer:</p>'
            f'<ul class="spans">{chips}</ul>'
        )
    rows = "".join(
        f'<tr><td><span class="sw k-{r.label.value}"></span> '
        f"{escape(posture_name(r.label, stats.placement).capitalize())}</td>"
        f'<td class="r">{escape(time_span(r.start, r.end, stats.tz))}</td>'
        f'<td class="r">{escape(duration(r.duration))}</td></tr>'
        for r in drawn_runs(stats, window)
    )
    if rows:
        parts.append(
            "<details><summary>Every stretch of the day, minute by minute</summary>"
            f'<div class="scroll"><table>{rows}</table></div></details>'
        )
    return "".join(parts)


# -- hourly bars -----------------------------------------------------------------------------------


def hourly_svg(stats: DayStats, window: tuple[int, int] | None = None) -> str:
    w0, w1 = window or worn_window(stats)
    hours = [h for h in stats.hours if w0 <= h.hour.start and h.hour.end <= w1]
    width, height = 1000, 300
    left, right, top, bottom = 78, 990, 20, 246
    plot_h = bottom - top
    slot = (right - left) / max(len(hours), 1)
    word = sitting_word(stats.placement)
    steps = _tick_steps(w1 - w0, compact=False)
    parts = []
    for tick in (0, 15, 30, 45, 60):
        y = bottom - tick / 60 * plot_h
        if tick == 30:
            style = f'class="axis" stroke="{LIGHT["muted"]}" stroke-dasharray="8 6" stroke-width="2"'
        else:
            style = f'class="grid" stroke="{LIGHT["line"]}"'
        parts.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" {style}/>')
        parts.append(_text(left - 12, y + 10, str(tick), anchor="end"))
    for i, h in enumerate(hours):
        minutes = h.sit_s / 60
        bar_h = minutes / 60 * plot_h
        parts.append(
            f'<rect x="{left + i * slot + slot * 0.14:.1f}" y="{bottom - bar_h:.1f}" '
            f'width="{slot * 0.72:.1f}" height="{bar_h:.1f}" rx="3" class="k-sit" '
            f'fill="{COLOURS[Posture.SIT]}">{_title(hour_words(h, stats))}</rect>'
        )
        repeated = i > 0 and hours[i - 1].hour.label == h.hour.label
        cls = _hour_label_class(h.hour.label, steps)
        if cls is not None and not repeated:
            parts.append(_text(left + (i + 0.5) * slot, bottom + 44, h.hour.label, cls=cls))
    label = f"{word.capitalize()} minutes in each hour; the dashed line marks 30 minutes"
    return _svg(width, height, label, parts)


def hour_words(h: HourStats, stats: DayStats) -> str:
    """'09:00–10:00: 48 min sitting': a bar's tooltip; its row in the table says the same."""
    text = f"{_hour_span(h, stats)}: {duration(h.sit_s)} {sitting_word(stats.placement)}"
    return text + (", not worn" if h.wear_s == 0 else "")


def _hour_span(h: HourStats, stats: DayStats) -> str:
    """'09:00–10:00'; the repeated hour of an autumn DST day also names its UTC offset."""
    span = time_span(h.hour.start, h.hour.end, stats.tz)
    repeated = sum(1 for o in stats.hours if o.hour.label == h.hour.label) > 1
    return f"{span} (UTC{h.hour.offset})" if repeated else span


def _hourly_details(stats: DayStats, window: tuple[int, int]) -> str:
    w0, w1 = window
    word = sitting_word(stats.placement)
    rows = "".join(
        f'<tr><td>{escape(_hour_span(h, stats))}</td><td class="r">{escape(duration(h.sit_s))}</td>'
        f'<td class="r">{escape(duration(h.upright_s))}</td>'
        f'<td class="r">{escape(duration(h.wear_s))}</td></tr>'
        for h in stats.hours
        if w0 <= h.hour.start and h.hour.end <= w1
    )
    return (
        "<details><summary>The numbers, hour by hour</summary><table>"
        f'<tr><th>hour</th><th class="r">{escape(word)}</th><th class="r">upright</th>'
        f'<th class="r">worn</th></tr>{rows}</table></details>'
    )


# -- trend -----------------------------------------------------------------------------------------


def trend_rows(
    days: Sequence[DaySummary],
    mean_sit_s: float | None,
    *,
    this_day: DaySummary | None = None,
) -> str:
    """Sitting per day as rows of bars with the numbers written out beside them (a phone has no
    hover), oldest first; `this_day`, last and highlighted, is the report's own day. The dashed
    mark in every row is `mean_sit_s`."""
    rows = [*days, *([this_day] if this_day is not None else [])]
    peak = max([d.sit_s for d in rows] + [mean_sit_s or 0, 3600])
    scale = -(-peak // 3600) * 3600  # the next whole hour
    mean = "" if mean_sit_s is None else f'<i class="mean" style="left:{mean_sit_s / scale * 100:.1f}%"></i>'
    items = []
    for d in rows:
        is_this = this_day is not None and d is this_day
        classes = ["this"] if is_this else []
        if d.wear_s and not d.valid:
            classes.append("short")
        label = short_day(d.day)
        if d.wear_s == 0:
            value, extra, fill = "not worn", "", ""
        else:
            value = duration(d.sit_s)
            extra = f"{d.prolonged} long" if d.valid else f"worn {duration(d.wear_s)}"
            fill = f'<span class="fill" style="width:{d.sit_s / scale * 100:.1f}%"></span>'
        cls = f' class="{" ".join(classes)}"' if classes else ""
        items.append(
            f'<li{cls}><span class="d">{escape(label)}</span><span class="track">{fill}{mean}</span>'
            f'<span class="v">{escape(value)}<small>{escape(extra)}</small></span></li>'
        )
    return f'<ol class="trend">{"".join(items)}</ol>'


def trend_note(days: Sequence[DaySummary], mean_sit_s: float | None, mean_label: str) -> str:
    """What the marks of `trend_rows` mean: the dashed line, "long", and grey bars when there are."""
    mean = "" if mean_sit_s is None else f"Dashed line: {mean_label}, {duration(mean_sit_s)}. "
    short = any(d.wear_s and not d.valid for d in days)
    grey = f" Grey bars: worn under {MIN_VALID_WEAR_S // 3600} h, left out of averages." if short else ""
    return f'<p class="note">{escape(mean)}“Long”: bouts of {PROLONGED_S // 60} minutes or more.{grey}</p>'


# -- sections --------------------------------------------------------------------------------------


def _headline(stats: DayStats) -> str:
    word = sitting_word(stats.placement)
    prolonged = len(stats.prolonged)
    bouts_word = "bout" if prolonged == 1 else "bouts"
    return (
        '<section class="headline" aria-label="Headline">'
        f'<div class="stat key"><span class="num">{prolonged}</span><span class="lbl">prolonged {word} '
        f"{bouts_word} ({PROLONGED_S // 60} min or longer)</span></div>"
        f'<div class="stat"><span class="num">{duration_html(stats.sit_s)}</span><span class="lbl">'
        f"{escape(word)}</span></div>"
        f'<div class="stat"><span class="num">{escape(percent(stats.sitting_share))}</span>'
        f'<span class="lbl">of {escape(duration(stats.wear_s))} worn</span></div>'
        "</section>"
    )


def _postures_table(stats: DayStats) -> str:
    rows = []
    wear = stats.wear_s or 1
    for p in (Posture.SIT, Posture.STAND, Posture.MOVE, Posture.CYCLE, Posture.LIE):
        s = stats.posture_s[p]
        rows.append(
            f'<tr><td><span class="sw k-{p.value}"></span> '
            f"{escape(posture_name(p, stats.placement).capitalize())}</td>"
            f'<td class="r">{escape(duration(s))}</td><td class="r">{escape(percent(s / wear))}</td></tr>'
        )
    rows.append(
        f'<tr><td>Worn</td><td class="r">{escape(duration(stats.wear_s))}</td><td class="r"></td></tr>'
    )
    return (
        '<div class="card"><h2>Time by posture</h2><table>'
        '<tr><th></th><th class="r">time</th><th class="r">of wear</th></tr>'
        f"{''.join(rows)}</table></div>"
    )


def _bar(share: float) -> str:
    """A bar for a table row; none for zero (a sliver would read as "a few")."""
    return f'<div class="bar" style="width:{share * 100:.0f}%"></div>' if share > 0 else ""


def _bouts_card(stats: DayStats) -> str:
    word = sitting_word(stats.placement)
    top = max(*stats.bins, 1)
    rows = "".join(
        f'<tr><td style="width:4.5em">{escape(label)}</td><td>'
        f"{_bar(count / top)}</td>"
        f'<td class="r" style="width:2.5em">{count}</td></tr>'
        for label, count in zip(BIN_LABELS, stats.bins, strict=True)
    )
    longest = stats.longest
    longest_text = "none" if longest is None else bout_words(longest.start, longest.end, stats)
    rate = stats.breaks_per_sedentary_hour
    rate_text = "–" if rate is None else f"{rate:.1f}"
    return (
        f'<div class="card"><h2>{escape(word.capitalize())} bouts (minutes)</h2><table>{rows}</table>'
        f'<p class="note">Longest: <b>{escape(longest_text)}</b>.<br>'
        f"<b>{rate_text}</b> breaks per {escape(word)} hour (standing or moving for at least "
        f"{stats.min_break_s} s); {plural(stats.transitions, 'sit-to-stand transition')}.</p></div>"
    )


def _nudges_card(stats: DayStats) -> str:
    n = stats.nudges
    if not n.rounds:
        return '<section class="card"><h2>Break nudges</h2><p class="note">No nudges this day.</p></section>'
    rows = "".join(
        f'<tr><td>{escape(words)}</td><td style="width:30%">{_bar(count / n.rounds)}</td>'
        f'<td class="r" style="width:2.5em">{count}</td></tr>'
        for count, words in nudge_outcomes(n, stats.placement)
    )
    unknown = (
        " “Outcome unknown”: the sensor was taken off, or active hours ended, before a break or the "
        "last reminder."
        if n.expired
        else ""
    )
    return (
        f'<section class="card"><h2>Break nudges</h2><p class="lead">{escape(nudge_total(n))}; what came '
        f"of them:</p><table>{rows}</table>"
        '<p class="note">A nudge is followed when you stand or move for a break; “Done” only stops '
        f"its reminders.{escape(unknown)}</p></section>"
    )


def _footer(stats: DayStats) -> str:
    word = sitting_word(stats.placement)
    wrist = (
        "<p>Worn on the wrist, the sensor sees activity but not posture, so this report speaks of "
        "“inactive” time rather than sitting.</p>"
        if word == "inactive"
        else ""
    )
    return (
        "<footer>"
        f"<p>A {escape(word)} bout ends when you stand or move; lying or missing data for up to a minute "
        f"inside it does not end it. A bout belongs to the day it starts. Breaks count when upright time "
        f"after {escape(word)} lasts at least {stats.min_break_s} s. Averages use days worn at least "
        f"{MIN_VALID_WEAR_S // 3600} h. Times are rounded to the nearest minute.</p>{wrist}"
        "<p>sitbreak is a reminder to move, not a medical device; it does not replace advice from a "
        "health professional.</p></footer>"
    )


def render_day(report: DayReport) -> str:
    stats = report.stats
    word = sitting_word(stats.placement)
    window = worn_window(stats)
    t = report.trend
    mean_label = f"average of {trend_window(t)}"
    if t.mean_sit_s is not None:
        mean_label += f" ({t.valid_days} of them worn {MIN_VALID_WEAR_S // 3600}{NBSP}h or more)"
    body = [
        "<header>",
        f'<p class="eyebrow">sitbreak · {escape(stats.wearable)}</p>',
        f"<h1>{escape(long_date(stats))}</h1>",
        f'<p class="sub">{escape(str(stats.tz))} · {_as_of(report)}</p>',
        "</header>",
        _headline(stats),
        f'<section class="card"><p class="summary">{escape(summary(report))}</p></section>',
        f'<section class="card"><h2>Your day</h2>{timeline_svg(stats, window=window)}{legend(stats)}'
        f"{_timeline_details(stats, window)}</section>",
        f'<section class="card"><h2>{escape(word.capitalize())} minutes per hour</h2>'
        f"{hourly_svg(stats, window)}{_hourly_details(stats, window)}</section>",
        f'<section class="card"><h2>{escape(word.capitalize())} per day{escape(_trend_title(report))}</h2>'
        f"{_trend_section(report, mean_label)}</section>",
        f'<div class="grid2">{_postures_table(stats)}{_bouts_card(stats)}</div>',
        _nudges_card(stats),
        _footer(stats),
    ]
    return _page(f"Sitting report · {stats.wearable} · {long_date(stats)}", "\n".join(body))


def _trend_section(report: DayReport, mean_label: str) -> str:
    """The day and the days before it as rows; when none of those was worn (the first week of use),
    the day alone and one line saying so rather than seven rows of "not worn"."""
    t = report.trend
    this = DaySummary.of(report.stats)
    if t.previous and not any(d.wear_s for d in t.previous):
        rows = trend_rows([], None, this_day=this)
        return f'{rows}<p class="note">None of {escape(trend_window(t))} was worn.</p>'
    rows = trend_rows(t.previous, t.mean_sit_s, this_day=this)
    return rows + trend_note([*t.previous, this], t.mean_sit_s, mean_label)


def _trend_title(report: DayReport) -> str:
    """': Tue 24 and the 7 days before' (nothing when there are no days before)."""
    t = report.trend
    return f": {short_day(report.stats.day)} and {trend_window(t)}" if t.previous else ""


def _as_of(report: DayReport) -> str:
    stats = report.stats
    if report.as_of >= stats.end:
        return "the whole day"
    return (
        f'as of <time datetime="{iso_time(report.as_of, stats.tz)}">'
        f"{clock_time(report.as_of, stats.tz)}</time>"
    )


def week_window(days: Sequence[DayStats]) -> tuple[int, int]:
    """One window for every day of a week, as seconds from each day's start, so the days line up:
    from the earliest worn hour of any day to the latest."""
    spans = [worn_window(d) for d in days if d.wear_s]
    if not spans:
        return 0, max(d.length_s for d in days)
    starts = [w0 - d.start for d, (w0, _) in zip([d for d in days if d.wear_s], spans, strict=True)]
    ends = [w1 - d.start for d, (_, w1) in zip([d for d in days if d.wear_s], spans, strict=True)]
    return min(starts), max(ends)


def render_week(report: WeekReport) -> str:
    last = report.days[-1]
    word = sitting_word(last.placement)
    overall = report.overall
    first_day = report.days[0].day
    title = f"{first_day:%d %B} – {last.day:%d %B %Y}"
    off0, off1 = week_window(report.days)
    rows = []
    for d in report.days:
        longest = d.longest
        window = (d.start + off0, min(d.start + off1, d.end))
        rows.append(
            f'<div class="day"><span class="d">{d.day:%a %d %b}</span>'
            f"{timeline_svg(d, compact=True, window=window)}"
            f'<span class="m">{escape(duration(d.sit_s))} {escape(word)} of '
            f"{escape(duration(d.wear_s))} worn · "
            f"{plural(len(d.prolonged), 'prolonged bout')} · longest "
            f"{escape(duration(longest.duration) if longest else '–')}</span></div>"
        )
    mean = overall.mean_sit_s
    headline = (
        '<section class="headline" aria-label="Headline">'
        f'<div class="stat key"><span class="num">{_fmt(overall.mean_prolonged)}</span>'
        f'<span class="lbl">prolonged {escape(word)} bouts a day, on average</span></div>'
        f'<div class="stat"><span class="num">{"–" if mean is None else duration_html(mean)}</span>'
        f'<span class="lbl">{escape(word)} a day</span></div>'
        f'<div class="stat"><span class="num">{escape(percent(overall.mean_sitting_share))}</span>'
        f'<span class="lbl">of wear time, over {plural(overall.valid_days, "worn day")}</span></div>'
        "</section>"
    )
    body = [
        "<header>",
        f'<p class="eyebrow">sitbreak · {escape(last.wearable)} · week</p>',
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">{escape(str(last.tz))}</p>',
        "</header>",
        headline,
        f'<section class="card"><h2>{escape(word.capitalize())} per day</h2>'
        f"{trend_rows(report.summaries, mean)}"
        f"{trend_note(report.summaries, mean, WEEK_MEAN)}</section>",
        f'<section class="card"><h2>Day by day</h2>{"".join(rows)}'
        f"{legend(last, prolonged_mark=False)}</section>",
        _footer(last),
    ]
    return _page(f"Sitting report · {last.wearable} · week to {last.day:%d %B %Y}", "\n".join(body))


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}"
