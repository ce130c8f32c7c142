"""Plain-text reports for a terminal: at most 80 columns, an hourly bar chart in Unicode blocks."""

from __future__ import annotations

import textwrap

from monitor.core.types import Posture
from monitor.reports.daily import BIN_LABELS, PROLONGED_S, DayStats
from monitor.reports.trend import MIN_VALID_WEAR_S, DayReport, WeekReport
from monitor.reports.wording import (
    THIS_DAY,
    duration,
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
            f"{duration(longest.duration)} ({time_span(longest.start, longest.end, stats.tz)})",
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
    if not n.rounds:
        return _row("Nudges", "none")
    outcomes = " · ".join(f"{count} {words}" for count, words in nudge_outcomes(n, stats.placement))
    return _row("Nudges", f"{nudge_total(n)}: {outcomes}")


def _trend(report: DayReport) -> list[str]:
    t = report.trend
    window = trend_window(t)
    label = "Compared"
    if not t.previous:
        return _row(label, "with no earlier days yet")
    if t.mean_sit_s is None or t.mean_prolonged is None:
        return _row(label, f"with {window}: none worn {MIN_VALID_WEAR_S // 3600} h or more yet")
    change = report.sit_change_s or 0.0
    direction = "more" if change > 0 else "less"
    return _row(
        label,
        f"with {window}: average {duration(t.mean_sit_s)} {sitting_word(report.stats.placement)} and "
        f"{t.mean_prolonged:.1f} prolonged bouts ({t.valid_days} of them worn "
        f"{MIN_VALID_WEAR_S // 3600} h or more); {THIS_DAY} {duration(abs(change))} {direction}",
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
    # Durations as everywhere else ("6 h 19 min", at most 11 characters): the table still fits 80.
    head = (
        f"  {'Day':<8}{'Worn':>11}{word.capitalize():>11}{'Share':>6}{'≥30 min':>8}"
        f"{'Longest':>11}{'Breaks/h':>9}"
    )
    lines = [
        f"sitbreak · {last.wearable} · week {report.days[0].day:%d %b} – {last.day:%d %b %Y}",
        f"({last.tz}, {last.placement} placement; breaks: upright ≥ {last.min_break_s} s)",
        _RULE,
        head,
    ]
    for d in report.days:
        longest = d.longest
        rate = d.breaks_per_sedentary_hour
        lines.append(
            f"  {short_day(d.day):<8}{duration(d.wear_s):>11}{duration(d.sit_s):>11}"
            f"{percent(d.sitting_share):>6}{len(d.prolonged):>8}"
            f"{duration(longest.duration) if longest else '–':>11}"
            f"{'–' if rate is None else f'{rate:.1f}':>9}"
        )
    overall = report.overall
    lines.append(_RULE)
    if overall.mean_sit_s is None or overall.mean_prolonged is None:
        lines += _wrap(f"No day this week was worn long enough ({MIN_VALID_WEAR_S // 3600} h) to average.")
    else:
        lines += _wrap(
            f"On {plural(overall.valid_days, 'worn day')} you averaged {duration(overall.mean_sit_s)} "
            f"{word} ({percent(overall.mean_sitting_share)} of wear time) and "
            f"{overall.mean_prolonged:.1f} prolonged bouts a day."
        )
    return "\n".join(line[:WIDTH].rstrip() for line in lines) + "\n"
