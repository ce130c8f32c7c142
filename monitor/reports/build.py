"""Assemble reports from plain inputs. Pure: the loader feeds it from the store, tests directly."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.reports.daily import DayInput, compute_day
from monitor.reports.trend import DayReport, DaySummary, WeekReport, trend

# "Comparison with the previous 7 days".
TREND_DAYS = 7


def day_report(today: DayInput, previous: Sequence[DayInput], as_of: float) -> DayReport:
    """Today's numbers against the given previous days (the loader passes the 7 before it)."""
    return DayReport(
        stats=compute_day(today),
        trend=trend([DaySummary.of(compute_day(d)) for d in previous]),
        as_of=as_of,
    )


def week_report(days: Sequence[DayInput], as_of: float) -> WeekReport:
    ordered = sorted(days, key=lambda d: d.day)
    return WeekReport(days=tuple(compute_day(d) for d in ordered), as_of=as_of)
