"""The charts, as inline SVG: the day timeline coloured by posture and the sitting minutes per hour,
both drawn over the worn part of the day (`worn_window`; `week_window` lines up a week's days), and the
legend.

Every mark has a <title> for hovering and screen readers; since a phone has no hover, the same words
are also on the page: `timeline_details` and `hourly_details` write them out or put them behind a
<details> to tap open.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

from monitor.core.types import Posture, PostureCode
from monitor.reports.daily import PROLONGED_S, DayStats, HourStats, Run, runs
from monitor.reports.html.theme import COLOURS, LIGHT
from monitor.reports.wording import clock_time, duration, long_date, posture_name, sitting_word, time_span

# The timeline is drawn at this resolution (majority label per slot): 1440 rectangles at most.
TIMELINE_SLOT_S = 60
# The timeline and the hourly bars show the worn part of the day, from the whole hour at least this
# much before the first worn second to the one at least this much after the last; a day worn from 9
# to 17 then fills a phone's width instead of a third of it.
WINDOW_MARGIN_S = 15 * 60
# ... and never less than this, so that an hour worn alone is not drawn a phone wide.
MIN_WINDOW_S = 4 * 3600
LEGEND_ORDER = (Posture.SIT, Posture.LIE, Posture.STAND, Posture.MOVE, Posture.CYCLE, Posture.NON_WEAR)
_NOT_WORN = (Posture.NON_WEAR, Posture.UNKNOWN)


def _attr(text: str) -> str:
    return escape(text, quote=True)


def _title(text: str) -> str:
    return f"<title>{escape(text)}</title>"


def _svg(width: int, height: int, label: str, content: Sequence[str]) -> str:
    # Inline in HTML5 an <svg> needs no xmlns, and the file then names no URL at all.
    return (
        f'<svg viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_attr(label)}">{_title(label)}{"".join(content)}</svg>'
    )


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


def week_window(days: Sequence[DayStats]) -> tuple[int, int]:
    """One window for every day of a week, as seconds from each day's start, so the days line up:
    from the earliest worn hour of any day to the latest."""
    spans = [worn_window(d) for d in days if d.wear_s]
    if not spans:
        return 0, max(d.length_s for d in days)
    starts = [w0 - d.start for d, (w0, _) in zip([d for d in days if d.wear_s], spans, strict=True)]
    ends = [w1 - d.start for d, (_, w1) in zip([d for d in days if d.wear_s], spans, strict=True)]
    return min(starts), max(ends)


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


def timeline_details(stats: DayStats, window: tuple[int, int]) -> str:
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


def hourly_details(stats: DayStats, window: tuple[int, int]) -> str:
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
