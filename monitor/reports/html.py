"""Reports as ONE self-contained HTML file: inline CSS and SVG, no scripts, no external assets.

Readable on a phone (fluid SVG with viewBox, one column under 560 px) and on a desktop. Colours are
the Okabe-Ito palette, distinguishable with the common colour-vision deficiencies; every mark has a
<title> so that hovering or a screen reader tells what it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

import numpy as np

from monitor.core.timefmt import iso_time
from monitor.core.types import Posture, PostureCode
from monitor.reports.daily import BIN_LABELS, PROLONGED_S, DayStats, Run, runs
from monitor.reports.days import clock, local_date
from monitor.reports.trend import MIN_VALID_WEAR_S, DayReport, DaySummary, WeekReport
from monitor.reports.wording import duration, long_date, percent, plural, posture_name, sitting_word, summary

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
SIT_LIGHT = "#EDB48F"  # vermillion at ~50 % on white: the previous days in the trend
INK = "#1D2433"
MUTED = "#5B6475"
GRID = "#E4E0D8"
# The timeline is drawn at this resolution (majority label per slot): 1440 rectangles at most.
TIMELINE_SLOT_S = 60
WEEK_MEAN = "average of the worn days"
LEGEND_ORDER = (Posture.SIT, Posture.LIE, Posture.STAND, Posture.MOVE, Posture.CYCLE, Posture.NON_WEAR)

CSS = """
:root{--ink:#1D2433;--muted:#5B6475;--bg:#F6F4EF;--card:#FFFFFF;--line:#E4E0D8;--sit:#D55E00}
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
 font-variant-numeric:tabular-nums}
.stat .lbl{display:block;color:var(--muted);font-size:.85rem;margin-top:.35em;line-height:1.3}
.stat.key{background:var(--sit);color:#fff}
.stat.key .lbl{color:#FFF3EA}
.summary{font-size:1.08rem;line-height:1.55;margin:0}
svg{display:block;width:100%;height:auto}
svg text{font-family:inherit}
svg .t{font-size:21px}
svg .ts{font-size:18px}
.legend{display:flex;flex-wrap:wrap;gap:6px 14px;margin:10px 0 0;padding:0;list-style:none;
 font-size:.85rem;color:var(--muted)}
.legend li{display:flex;align-items:center;gap:6px}
.sw{display:inline-block;width:12px;height:12px;border-radius:3px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:14px}
.grid2 .card{margin:0}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
td,th{padding:5px 0;border-bottom:1px solid var(--line);text-align:left;font-weight:normal}
td.r,th.r{text-align:right}
tr:last-child td{border-bottom:0}
th{color:var(--muted);font-size:.85rem}
.bar{height:10px;border-radius:5px;background:var(--sit);min-width:2px}
.note{color:var(--muted);font-size:.88rem;margin:.6em 0 0}
.nums{display:grid;grid-template-columns:repeat(4,1fr);gap:6px;text-align:center}
.nums b{display:block;font-size:1.5rem;font-variant-numeric:tabular-nums}
.nums span{color:var(--muted);font-size:.8rem;line-height:1.2;display:block}
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
 svg .ts{font-size:32px}
}
"""


def _attr(text: str) -> str:
    return escape(text, quote=True)


def _title(text: str) -> str:
    return f"<title>{escape(text)}</title>"


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n</main>\n</body>\n</html>\n"
    )


def _svg(width: int, height: int, label: str, content: Sequence[str]) -> str:
    # Inline in HTML5 an <svg> needs no xmlns, and the file then names no URL at all.
    return (
        f'<svg viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_attr(label)}">{_title(label)}{"".join(content)}</svg>'
    )


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


def _hour_ticks(stats: DayStats, every: int = 3) -> list[tuple[int, str]]:
    ticks = [(h.hour.start, h.hour.label) for h in stats.hours if int(h.hour.label) % every == 0]
    seen: set[str] = set()
    unique = []
    for t, label in ticks:  # the repeated hour of an autumn DST day gets one tick
        if label not in seen:
            seen.add(label)
            unique.append((t, label))
    return [*unique, (stats.end, "24")]


def _text(
    x: float,
    y: float,
    body: str,
    *,
    cls: str = "ts",
    fill: str = MUTED,
    anchor: str = "middle",
    bold: bool = False,
    halo: bool = False,
) -> str:
    """Chart text. Its size comes from CSS classes, larger on phones where the chart is scaled down.
    A halo keeps a label legible where it crosses a line."""
    weight = ' font-weight="700"' if bold else ""
    ring = ' stroke="#FFFFFF" stroke-width="7" stroke-linejoin="round" paint-order="stroke"' if halo else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" fill="{fill}" text-anchor="{anchor}"{weight}{ring}>'
        f"{escape(body)}</text>"
    )


def timeline_svg(stats: DayStats, *, compact: bool = False) -> str:
    width, left, right = 1000, 10, 990
    top, bar_h = (8, 34) if compact else (30, 64)
    height = top + bar_h + (44 if compact else 50)
    span = right - left

    def x(t: float) -> float:
        return left + (t - stats.start) / stats.length_s * span

    parts = [
        f'<rect x="{left}" y="{top}" width="{span}" height="{bar_h}" rx="6" '
        f'fill="{COLOURS[Posture.UNKNOWN]}"/>',
        '<g shape-rendering="crispEdges">',
    ]
    for run in _slots(stats):
        if run.label is Posture.UNKNOWN:
            continue
        name = posture_name(run.label, stats.placement)
        when = f"{clock(run.start, stats.tz)}–{clock(run.end, stats.tz)}"
        tip = f"{name.capitalize()} {when} ({duration(run.duration)})"
        parts.append(
            f'<rect x="{x(run.start):.2f}" y="{top}" width="{max(x(run.end) - x(run.start), 0.6):.2f}" '
            f'height="{bar_h}" fill="{COLOURS[run.label]}">{_title(tip)}</rect>'
        )
    parts.append("</g>")
    if not compact:
        for bout in stats.prolonged:
            x0, x1 = x(bout.start), x(min(bout.end, stats.end))
            tip = (
                f"Prolonged {sitting_word(stats.placement)} {clock(bout.start, stats.tz)}–"
                f"{clock(bout.end, stats.tz)} ({duration(bout.duration)})"
            )
            parts.append(
                f'<g>{_title(tip)}<path d="M{x0 + 1:.1f} {top - 4}V{top - 16}H{x1 - 1:.1f}V{top - 4}" '
                f'fill="none" stroke="{INK}" stroke-width="4"/></g>'
            )
    label_y = top + bar_h + (38 if compact else 42)
    for t, label in _hour_ticks(stats, every=6 if compact else 3):
        tx = x(t)
        anchor = "start" if tx <= left else "end" if tx >= right else "middle"
        parts.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{top + bar_h}" y2="{top + bar_h + 8}" '
            f'stroke="{MUTED}" stroke-width="2"/>'
        )
        parts.append(_text(tx, label_y, label, anchor=anchor))
    label = f"Day timeline for {long_date(stats)}, coloured by posture"
    return _svg(width, height, label, parts)


def legend(stats: DayStats, *, prolonged_mark: bool = True) -> str:
    items = "".join(
        f'<li><span class="sw" style="background:{COLOURS[p]}"></span>'
        f"{escape(posture_name(p, stats.placement))}</li>"
        for p in LEGEND_ORDER
    )
    prolonged = (
        '<li><svg width="22" height="10" viewBox="0 0 22 10" aria-hidden="true" style="width:22px">'
        f'<path d="M1 9V2H21V9" fill="none" stroke="{INK}" stroke-width="2"/></svg>'
        f"{PROLONGED_S // 60}+ min {escape(sitting_word(stats.placement))}</li>"
    )
    return f'<ul class="legend">{items}{prolonged if prolonged_mark else ""}</ul>'


# -- hourly bars -----------------------------------------------------------------------------------


def hourly_svg(stats: DayStats) -> str:
    width, height = 1000, 300
    left, right, top, bottom = 78, 990, 20, 246
    plot_h = bottom - top
    slot = (right - left) / len(stats.hours)
    word = sitting_word(stats.placement)
    parts = []
    for tick in (0, 15, 30, 45, 60):
        y = bottom - tick / 60 * plot_h
        dash = ' stroke-dasharray="8 6" stroke-width="2"' if tick == 30 else ""
        colour = MUTED if tick == 30 else GRID
        parts.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}"{dash}/>')
        parts.append(_text(left - 12, y + 10, str(tick), anchor="end"))
    for i, h in enumerate(stats.hours):
        minutes = h.sit_s / 60
        bar_h = minutes / 60 * plot_h
        tip = f"{h.hour.label}:00 (UTC{h.hour.offset}): {round(minutes)} min {word}"
        if h.wear_s == 0:
            tip += ", not worn"
        parts.append(
            f'<rect x="{left + i * slot + slot * 0.14:.1f}" y="{bottom - bar_h:.1f}" '
            f'width="{slot * 0.72:.1f}" height="{bar_h:.1f}" rx="3" fill="{COLOURS[Posture.SIT]}">'
            f"{_title(tip)}</rect>"
        )
        repeated = i > 0 and stats.hours[i - 1].hour.label == h.hour.label
        if int(h.hour.label) % 3 == 0 and not repeated:
            parts.append(_text(left + (i + 0.5) * slot, bottom + 40, h.hour.label))
    label = f"{word.capitalize()} minutes in each hour; the dashed line marks 30 minutes"
    return _svg(width, height, label, parts)


# -- trend -----------------------------------------------------------------------------------------


def trend_svg(
    days: Sequence[DaySummary],
    today: date | None,
    mean_sit_s: float | None,
    word: str,
    *,
    mean_label: str = "average of the previous days",
    highlight_label: str | None = "Today",
) -> str:
    width, height = 1000, 350
    left, right, top, bottom = 10, 990, 56, 250
    slot = (right - left) / max(len(days), 1)
    peak = max([d.sit_s for d in days] + [mean_sit_s or 0, 3600])
    scale_max = -(-peak // 3600) * 3600  # the next whole hour
    plot_h = bottom - top
    parts = [f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="{GRID}" stroke-width="2"/>']
    # Behind the bars: it reads between them without striking through a value.
    if mean_sit_s is not None:
        y = bottom - mean_sit_s / scale_max * plot_h
        parts.append(
            f"<g>{_title(f'{mean_label.capitalize()}: {duration(mean_sit_s)}')}"
            f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{INK}" stroke-width="2.5" '
            f'stroke-dasharray="10 8"/></g>'
        )
    labels: list[str] = []
    for i, d in enumerate(days):
        bar_h = d.sit_s / scale_max * plot_h
        cx = left + (i + 0.5) * slot
        is_today = d.day == today
        colour = COLOURS[Posture.SIT] if is_today else SIT_LIGHT
        tip = (
            f"{d.day:%A %d %B}: {duration(d.sit_s)} {word} of {duration(d.wear_s)} worn, "
            f"{plural(d.prolonged, 'prolonged bout')}"
        )
        if d.wear_s == 0:
            tip = f"{d.day:%A %d %B}: not worn"
        elif not d.valid:
            colour = COLOURS[Posture.NON_WEAR]
            tip += f" (worn under {MIN_VALID_WEAR_S // 3600} h: not in the average)"
        parts.append(
            f'<rect x="{left + i * slot + slot * 0.18:.1f}" y="{bottom - bar_h:.1f}" '
            f'width="{slot * 0.64:.1f}" height="{bar_h:.1f}" rx="5" fill="{colour}">{_title(tip)}</rect>'
        )
        worn = d.wear_s > 0
        value = _hm(d.sit_s) if worn else "–"
        labels.append(_text(cx, bottom - bar_h - 12, value, cls="t", fill=INK, bold=is_today, halo=True))
        day_label = highlight_label if is_today and highlight_label else f"{d.day:%a}"
        parts.append(_text(cx, bottom + 40, day_label, cls="t", fill=INK, bold=is_today))
        parts.append(_text(cx, bottom + 82, f"{d.prolonged} long" if worn else ""))
    parts.extend(labels)
    label = f"{word.capitalize()} time per day over the last {len(days)} days"
    return _svg(width, height, label, parts)


def trend_note(mean_sit_s: float | None, mean_label: str) -> str:
    mean = "" if mean_sit_s is None else f"Dashed line: {mean_label}, {duration(mean_sit_s)}. "
    return (
        f'<p class="note">{escape(mean)}“Long”: bouts of {PROLONGED_S // 60} minutes or more. '
        f"Grey bars: worn under {MIN_VALID_WEAR_S // 3600} h, left out of averages.</p>"
    )


def _hm(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


# -- sections --------------------------------------------------------------------------------------


def _headline(stats: DayStats) -> str:
    word = sitting_word(stats.placement)
    prolonged = len(stats.prolonged)
    bouts_word = "bout" if prolonged == 1 else "bouts"
    return (
        '<section class="headline" aria-label="Headline">'
        f'<div class="stat key"><span class="num">{prolonged}</span><span class="lbl">prolonged {word} '
        f"{bouts_word} ({PROLONGED_S // 60} min or longer)</span></div>"
        f'<div class="stat"><span class="num">{escape(_hm(stats.sit_s))}</span><span class="lbl">'
        f"hours {word}</span></div>"
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
            f'<tr><td><span class="sw" style="background:{COLOURS[p]}"></span> '
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


def _bouts_card(stats: DayStats) -> str:
    word = sitting_word(stats.placement)
    top = max(*stats.bins, 1)
    rows = "".join(
        f'<tr><td style="width:4.5em">{escape(label)}</td><td>'
        f'<div class="bar" style="width:{count / top * 100:.0f}%"></div></td>'
        f'<td class="r" style="width:2.5em">{count}</td></tr>'
        for label, count in zip(BIN_LABELS, stats.bins, strict=True)
    )
    longest = stats.longest
    longest_text = (
        "none"
        if longest is None
        else f"{duration(longest.duration)}, {clock(longest.start, stats.tz)}–{clock(longest.end, stats.tz)}"
    )
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
    cells = (
        (n.sent, "nudges sent"),
        (n.followed, "followed within 10 min"),
        (n.snoozed, "snoozed"),
        (n.ignored, "ignored"),
    )
    extra = []
    if n.escalations:
        extra.append(plural(n.escalations, "firmer reminder"))
    if n.acked:
        extra.append(f"{n.acked} acknowledged")
    if n.expired:
        extra.append(f"{n.expired} never delivered")
    note = f'<p class="note">{escape(", ".join(extra))}.</p>' if extra else ""
    body = "".join(f"<div><b>{v}</b><span>{escape(k)}</span></div>" for v, k in cells)
    return f'<section class="card"><h2>Break nudges</h2><div class="nums">{body}</div>{note}</section>'


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
        f"{MIN_VALID_WEAR_S // 3600} h.</p>{wrist}"
        "<p>sitbreak is a reminder to move, not a medical device; it does not replace advice from a "
        "health professional.</p></footer>"
    )


def _day_label(report: DayReport) -> str | None:
    """'Today' under the report's own bar only when the report is about the day it was made on."""
    stats = report.stats
    return "Today" if local_date(report.as_of, stats.tz) == stats.day else None


def render_day(report: DayReport) -> str:
    stats = report.stats
    word = sitting_word(stats.placement)
    previous = list(report.trend.previous)
    week = [*previous, _summary_of(stats)]
    body = [
        "<header>",
        f'<p class="eyebrow">sitbreak · {escape(stats.wearable)}</p>',
        f"<h1>{escape(long_date(stats))}</h1>",
        f'<p class="sub">{escape(str(stats.tz))} · {_as_of(report)}</p>',
        "</header>",
        _headline(stats),
        f'<section class="card"><p class="summary">{escape(summary(report))}</p></section>',
        f'<section class="card"><h2>Your day</h2>{timeline_svg(stats)}{legend(stats)}</section>',
        f'<section class="card"><h2>{escape(word.capitalize())} minutes per hour</h2>'
        f"{hourly_svg(stats)}</section>",
        f'<section class="card"><h2>{escape(word.capitalize())} time, {_days_title(len(week))}</h2>'
        f"{trend_svg(week, stats.day, report.trend.mean_sit_s, word, highlight_label=_day_label(report))}"
        f"{trend_note(report.trend.mean_sit_s, 'average of the previous days')}</section>",
        f'<div class="grid2">{_postures_table(stats)}{_bouts_card(stats)}</div>',
        _nudges_card(stats),
        _footer(stats),
    ]
    return _page(f"Sitting report · {stats.wearable} · {long_date(stats)}", "\n".join(body))


def _as_of(report: DayReport) -> str:
    stats = report.stats
    if report.as_of >= stats.end:
        return "the whole day"
    return f'as of <time datetime="{iso_time(report.as_of, stats.tz)}">{clock(report.as_of, stats.tz)}</time>'


def _days_title(n: int) -> str:
    return "today" if n == 1 else f"last {n} days"


def _summary_of(stats: DayStats) -> DaySummary:
    return DaySummary.of(stats)


def render_week(report: WeekReport) -> str:
    last = report.days[-1]
    word = sitting_word(last.placement)
    overall = report.overall
    first_day = report.days[0].day
    title = f"{first_day:%d %B} – {last.day:%d %B %Y}"
    rows = []
    for d in report.days:
        longest = d.longest
        rows.append(
            f'<div class="day"><span class="d">{d.day:%a %d %b}</span>{timeline_svg(d, compact=True)}'
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
        f'<div class="stat"><span class="num">{escape("–" if mean is None else _hm(mean))}</span>'
        f'<span class="lbl">hours {escape(word)} a day</span></div>'
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
        f'<section class="card"><h2>{escape(word.capitalize())} time per day</h2>'
        f"{trend_svg(report.summaries, last.day, mean, word, mean_label=WEEK_MEAN, highlight_label=None)}"
        f"{trend_note(mean, WEEK_MEAN)}</section>",
        f'<section class="card"><h2>Day by day</h2>{"".join(rows)}'
        f"{legend(last, prolonged_mark=False)}</section>",
        _footer(last),
    ]
    return _page(f"Sitting report · {last.wearable} · week to {last.day:%d %B %Y}", "\n".join(body))


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}"
