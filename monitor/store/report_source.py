"""Report inputs read from the store: the thin I/O side of `monitor.reports`.

The report computations are pure and know nothing of SQLite; this module is where the store hands
them a day's epochs and nudges (with CONTEXT_S either side, so bouts crossing midnight are whole).
"""

from __future__ import annotations

from datetime import date, timedelta, tzinfo

from monitor.core.records import LabelSpan
from monitor.core.types import Placement
from monitor.reports.build import TREND_DAYS, day_report, week_report
from monitor.reports.daily import CONTEXT_S, DayInput
from monitor.reports.days import day_bounds
from monitor.reports.settings import DEFAULT_MIN_BREAK_S
from monitor.reports.trend import DayReport, WeekReport
from monitor.store.store import Store


def _days_from_one_read(
    store: Store,
    wearable: str,
    days: list[date],
    tz: tzinfo,
    *,
    placement: Placement,
    min_break_s: int,
) -> list[DayInput]:
    """Consecutive days from one read of the store (with CONTEXT_S around), sliced per day."""
    first_start = day_bounds(days[0], tz)[0] - CONTEXT_S
    last_end = day_bounds(days[-1], tz)[1] + CONTEXT_S
    whole = store.epochs.read(wearable, first_start, last_end)
    nudges = store.nudges.history(wearable, first_start, last_end)
    inputs = []
    for day in days:
        start, end = day_bounds(day, tz)
        a, b = start - CONTEXT_S - whole.t0, end + CONTEXT_S - whole.t0
        inputs.append(
            DayInput(
                wearable=wearable,
                placement=placement,
                day=day,
                tz=tz,
                epochs=LabelSpan(whole.t0 + a, whole.labels[a:b]),
                nudges=[h for h in nudges if start <= h.nudge.ts < end],
                min_break_s=min_break_s,
            )
        )
    return inputs


def load_day_report(
    store: Store,
    wearable: str,
    day: date,
    tz: tzinfo,
    *,
    as_of: float,
    placement: Placement = Placement.THIGH,
    min_break_s: int = DEFAULT_MIN_BREAK_S,
) -> DayReport:
    days = [day - timedelta(days=k) for k in range(TREND_DAYS, -1, -1)]
    *previous, today = _days_from_one_read(
        store, wearable, days, tz, placement=placement, min_break_s=min_break_s
    )
    return day_report(today, previous, as_of)


def load_week_report(
    store: Store,
    wearable: str,
    last_day: date,
    tz: tzinfo,
    *,
    as_of: float,
    placement: Placement = Placement.THIGH,
    min_break_s: int = DEFAULT_MIN_BREAK_S,
) -> WeekReport:
    days = [last_day - timedelta(days=k) for k in range(TREND_DAYS - 1, -1, -1)]
    inputs = _days_from_one_read(store, wearable, days, tz, placement=placement, min_break_s=min_break_s)
    return week_report(inputs, as_of)
