"""Read report inputs from the store (the thin I/O side of reports)."""

from __future__ import annotations

from datetime import date, timedelta, tzinfo

from monitor.pipeline.types import Placement
from monitor.reports.build import TREND_DAYS, day_report, week_report
from monitor.reports.daily import CONTEXT_S, DayInput
from monitor.reports.days import day_bounds
from monitor.reports.settings import DEFAULT_MIN_BREAK_S
from monitor.reports.trend import DayReport, WeekReport
from monitor.store import Store


def load_day(
    store: Store,
    wearable: str,
    day: date,
    tz: tzinfo,
    *,
    placement: Placement = Placement.THIGH,
    min_break_s: int = DEFAULT_MIN_BREAK_S,
) -> DayInput:
    """The day's epochs with CONTEXT_S either side (bouts crossing midnight) and its nudges."""
    start, end = day_bounds(day, tz)
    return DayInput(
        wearable=wearable,
        placement=placement,
        day=day,
        tz=tz,
        epochs=store.epochs.read(wearable, start - CONTEXT_S, end + CONTEXT_S),
        nudges=store.nudges.history(wearable, start, end),
        min_break_s=min_break_s,
    )


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
    today = load_day(store, wearable, day, tz, placement=placement, min_break_s=min_break_s)
    previous = [
        load_day(store, wearable, day - timedelta(days=k), tz, placement=placement, min_break_s=min_break_s)
        for k in range(TREND_DAYS, 0, -1)
    ]
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
    days = [
        load_day(
            store, wearable, last_day - timedelta(days=k), tz, placement=placement, min_break_s=min_break_s
        )
        for k in range(TREND_DAYS - 1, -1, -1)
    ]
    return week_report(days, as_of)
