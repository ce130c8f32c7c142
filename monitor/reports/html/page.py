"""The daily and weekly pages: the HTML frame with the CSS inline, the headline figures, the cards
(postures, bouts, nudges), the trend rows and the footer around the charts of `charts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from monitor.core.timefmt import iso_time
from monitor.core.types import Posture
from monitor.reports.daily import BIN_LABELS, PROLONGED_S, DayStats
from monitor.reports.html.charts import (
    bout_words,
    hourly_details,
    hourly_svg,
    legend,
    timeline_details,
    timeline_svg,
    week_window,
    worn_window,
)
from monitor.reports.html.theme import CSS
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
    trend_window,
)

WEEK_MEAN = "average of the worn days"


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n</main>\n</body>\n</html>\n"
    )


def duration_html(seconds: float) -> str:
    """`wording.duration` with its units set small, for the big figures: the same words once the
    tags are stripped ("6 h 19 min"), narrow enough for half a phone's width."""
    return " ".join(f"{n}{NBSP}<small>{unit}</small>" for n, unit in duration_parts(seconds))


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
        f"{timeline_details(stats, window)}</section>",
        f'<section class="card"><h2>{escape(word.capitalize())} minutes per hour</h2>'
        f"{hourly_svg(stats, window)}{hourly_details(stats, window)}</section>",
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
