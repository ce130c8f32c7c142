"""Plain-text reports for a terminal: at most 80 columns, an hourly bar chart in Unicode blocks."""

from __future__ import annotations

import textwrap

from monitor.core.types import Posture
from monitor.reports.daily import BIN_LABELS, PROLONGED_S, DayStats
from monitor.reports.days import clock
from monitor.reports.trend import DayReport, WeekReport
from monitor.reports.wording import duration, long_date, percent, plural, posture_name, sitting_word, summary

WIDTH = 80
# Four text rows of eighth blocks: 32 steps for 60 minutes, under 2 min per step.
CHART_ROWS = 4
_EIGHTHS = " ▁▂▃▄▅▆▇█"
_RULE = "─" * (WIDTH - 2)
_LABEL_W = 14


def _wrap(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent)


def _row(label: str, value: str) -> list[str]:
    """'  Label         value', continuation lines aligned under the value."""
    return textwrap.wrap(
        f"  {label:<{_LABEL_W - 1}} {value}",
        WIDTH,
        subsequent_indent=" " * (_LABEL_W + 2),
    )


def _hm(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def hourly_chart(stats: DayStats) -> list[str]:
    """Sitting minutes per local hour, one 3-column slot per hour (25 slots fit on DST days)."""
    full = 3600
    levels = [round(h.sit_s / full * CHART_ROWS * 8) for h in stats.hours]
    lines = []
    for row in range(CHART_ROWS, 0, -1):
        axis = {CHART_ROWS: "60┤", CHART_ROWS // 2: "30┤"}.get(row, "  │")
        cells = []
        for level in levels:
            fill = min(8, max(0, level - (row - 1) * 8))
            cells.append(_EIGHTHS[fill] * 2 + " ")
        lines.append(f" {axis}{''.join(cells)}".rstrip())
    lines.append("   └" + "─" * (3 * len(levels) - 1))
    lines.append("    " + "".join(f"{h.hour.label:<3}" for h in stats.hours).rstrip())
    return lines


def _postures(stats: DayStats) -> list[str]:
    wear = stats.wear_s
    lines = _row("Worn", duration(wear))
    for posture in (Posture.SIT, Posture.STAND, Posture.MOVE, Posture.CYCLE, Posture.LIE):
        seconds = stats.posture_s[posture]
        share = (
            f"{percent(seconds / wear if wear else None):>5} of wear time" if posture is Posture.SIT else ""
        )
        lines += _row(posture_name(posture, stats.placement).capitalize(), f"{duration(seconds):<12}{share}")
    return lines


def _bouts(stats: DayStats) -> list[str]:
    word = sitting_word(stats.placement)
    bins = "   ".join(f"{label}: {count}" for label, count in zip(BIN_LABELS, stats.bins, strict=True))
    lines = _row(f"{word.capitalize()} bouts", f"{bins}   (minutes)")
    longest = stats.longest
    if longest is not None:
        lines += _row(
            "Longest",
            f"{duration(longest.duration)} ({clock(longest.start, stats.tz)}–{clock(longest.end, stats.tz)})",
        )
    rate = stats.breaks_per_sedentary_hour
    rate_text = "–" if rate is None else f"{rate:.1f}"
    lines += _row(
        "Breaks",
        f"{rate_text} per {word} hour ({plural(stats.breaks, 'break')}, upright ≥ {stats.min_break_s} s); "
        f"{plural(stats.transitions, 'sit-to-stand transition')}",
    )
    return lines


def _nudges(stats: DayStats) -> list[str]:
    n = stats.nudges
    text = f"{n.sent} sent · {n.followed} followed within 10 min · {n.snoozed} snoozed · {n.ignored} ignored"
    if n.escalations:
        text += f" · {plural(n.escalations, 'escalation')}"
    if n.expired:
        text += f" · {n.expired} expired"
    return _row("Nudges", text)


def _trend(report: DayReport) -> list[str]:
    t = report.trend
    if t.mean_sit_s is None or t.mean_prolonged is None:
        return _row("Last 7 days", "not enough worn days yet to compare")
    change = report.sit_change_s or 0.0
    direction = "more" if change > 0 else "less"
    return _row(
        "Last 7 days",
        f"average {duration(t.mean_sit_s)} {sitting_word(report.stats.placement)}, "
        f"{t.mean_prolonged:.1f} prolonged bouts ({plural(t.valid_days, 'day')}); "
        f"today {duration(abs(change))} {direction}",
    )


def render_day(report: DayReport) -> str:
    stats = report.stats
    word = sitting_word(stats.placement)
    prolonged = len(stats.prolonged)
    lines = [
        f"sitbreak · {stats.wearable} · {long_date(stats)}"[:WIDTH],
        f"({stats.tz}, {stats.placement} placement)",
        _RULE,
        f"  {plural(prolonged, f'prolonged {word} bout')} (≥ {PROLONGED_S // 60} min)  ·  "
        f"{duration(stats.sit_s)} {word}",
        "",
        *_wrap(summary(report)),
        "",
        *_postures(stats),
        "",
        *_bouts(stats),
        *_nudges(stats),
        *_trend(report),
        "",
        f"  {word.capitalize()} minutes per hour",
        *hourly_chart(stats),
    ]
    return "\n".join(line[:WIDTH].rstrip() for line in lines) + "\n"


def render_week(report: WeekReport) -> str:
    last = report.days[-1]
    word = sitting_word(last.placement)
    head = (
        f"  {'Day':<11}{'Worn':>8}{word.capitalize():>9}{'Share':>7}{'≥30 min':>9}"
        f"{'Longest':>9}{'Breaks/h':>10}"
    )
    lines = [
        f"sitbreak · {last.wearable} · week {report.days[0].day:%d %b} – {last.day:%d %b %Y}",
        f"({last.tz}, {last.placement} placement; times in h:mm; breaks: upright ≥ {last.min_break_s} s)",
        _RULE,
        head,
    ]
    for d in report.days:
        longest = d.longest
        rate = d.breaks_per_sedentary_hour
        lines.append(
            f"  {d.day:%a %d %b} {_hm(d.wear_s):>8}{_hm(d.sit_s):>9}{percent(d.sitting_share):>7}"
            f"{len(d.prolonged):>9}{_hm(longest.duration) if longest else '–':>9}"
            f"{'–' if rate is None else f'{rate:.1f}':>10}"
        )
    overall = report.overall
    lines.append(_RULE)
    if overall.mean_sit_s is None or overall.mean_prolonged is None:
        lines += _wrap("No day this week was worn long enough (4 h) to average.")
    else:
        lines += _wrap(
            f"On {plural(overall.valid_days, 'worn day')} you averaged {duration(overall.mean_sit_s)} "
            f"{word} ({percent(overall.mean_sitting_share)} of wear time) and "
            f"{overall.mean_prolonged:.1f} prolonged bouts a day."
        )
    return "\n".join(line[:WIDTH].rstrip() for line in lines) + "\n"
