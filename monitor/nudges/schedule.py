"""When nudges may count and be sent: active hours per weekday, quiet hours, holidays, in one time zone.

Ranges are wall-clock times in the configured IANA zone and are converted to data time (UTC seconds)
day by day, so a DST day is 23 or 25 hours long and "08:00" stays 08:00 on the clock. A local time that
does not exist on the spring-forward day (inside the skipped hour) is read with the offset in force
before the jump, as `zoneinfo` does (02:30 -> 03:30 summer time); an ambiguous time on the fall-back day
means its first occurrence.

Pure: no I/O, no clock. The caller builds the `tzinfo` (ZoneInfo) once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

MINUTES_PER_DAY = 24 * 60
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Words that mean "no range this day" in a schedule string.
OFF_WORDS = frozenset({"", "off", "none", "-"})
# How far ahead/behind a span lookup searches for the next change. A week covers every weekly
# pattern; a schedule that is always on (or always off) reports a span of this length and is
# simply looked up again when it runs out.
_SEARCH_DAYS = 8

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class DailyRange:
    """[start, end) in minutes after local midnight; end <= start means it runs past midnight."""

    start_min: int
    end_min: int

    @property
    def wraps(self) -> bool:
        return self.end_min <= self.start_min

    def __str__(self) -> str:
        return f"{_hhmm(self.start_min)}-{_hhmm(self.end_min)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_ranges(text: str, where: str) -> tuple[DailyRange, ...]:
    """Parse "08:00-12:00, 13:00-17:30" (or "off"). `where` names the setting in error messages.

    A range may run past midnight ("22:00-07:00"); "24:00" is allowed as an end. An empty string or
    "off" means no range.
    """
    if text.strip().lower() in OFF_WORDS:
        return ()
    ranges: list[DailyRange] = []
    for part in text.split(","):
        m = _RANGE.match(part)
        if m is None:
            raise ValueError(
                f"{where}: {part.strip()!r} is not a time range; write HH:MM-HH:MM, "
                'e.g. "08:00-18:00", several separated by commas, or "off"'
            )
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 23 or m1 > 59 or m2 > 59 or end > MINUTES_PER_DAY:
            raise ValueError(f"{where}: {part.strip()!r} has an impossible time (00:00 to 24:00)")
        if start == end:
            raise ValueError(f"{where}: {part.strip()!r} is empty (start equals end)")
        ranges.append(DailyRange(start, end))
    return tuple(ranges)


def parse_holidays(values: Iterable[str], where: str) -> frozenset[date]:
    days: set[date] = set()
    for value in values:
        try:
            days.add(date.fromisoformat(value.strip()))
        except ValueError:
            raise ValueError(f"{where}: {value!r} is not a date; write YYYY-MM-DD, e.g. 2026-12-25") from None
    return frozenset(days)


@dataclass(frozen=True, slots=True)
class Span:
    """A maximal stretch [start, end) of data time in which the state (`on`) does not change.

    start/end may be +-inf when no change lies within the search horizon on that side.
    """

    start: float
    end: float
    on: bool

    def __contains__(self, t: float) -> bool:
        return self.start <= t < self.end


def _local_instant(day: date, minute: int, tz: tzinfo) -> float:
    """Data time of wall-clock `minute` after midnight of `day` (minute may be 1440 = next midnight)."""
    extra_days, minute = divmod(minute, MINUTES_PER_DAY)
    d = day + timedelta(days=extra_days)
    return datetime.combine(d, time(minute // 60, minute % 60), tzinfo=tz).timestamp()


def _merge(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue  # a range swallowed by a DST jump
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class _DailyCalendar:
    """Intervals produced by per-day ranges, with a cached span lookup."""

    __slots__ = ("_cache", "_ranges_on", "_tz")

    def __init__(self, ranges_on: Callable[[date], tuple[DailyRange, ...]], tz: tzinfo) -> None:
        self._ranges_on = ranges_on
        self._tz = tz
        self._cache: Span | None = None

    def _intervals(self, first: date, last: date) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        day = first
        while day <= last:
            for r in self._ranges_on(day):
                end = r.end_min + (MINUTES_PER_DAY if r.wraps else 0)
                out.append((_local_instant(day, r.start_min, self._tz), _local_instant(day, end, self._tz)))
            day += timedelta(days=1)
        return _merge(out)

    def span(self, t: float) -> Span:
        cached = self._cache
        if cached is not None and t in cached:
            return cached
        today = datetime.fromtimestamp(t, self._tz).date()
        merged = self._intervals(today - timedelta(days=_SEARCH_DAYS), today + timedelta(days=_SEARCH_DAYS))
        horizon_lo = _local_instant(today - timedelta(days=_SEARCH_DAYS - 1), 0, self._tz)
        horizon_hi = _local_instant(today + timedelta(days=_SEARCH_DAYS - 1), 0, self._tz)
        prev_end = -math.inf
        span = Span(prev_end, math.inf, False)
        for start, end in merged:
            if start <= t < end:
                span = Span(start, end, True)
                break
            if start > t:
                span = Span(prev_end, start, False)
                break
            prev_end = end
        else:
            span = Span(prev_end, math.inf, False)
        # An unbroken span may go on past what we searched; clip it so that a lookup past the
        # horizon searches again instead of trusting an invented boundary.
        span = Span(max(span.start, horizon_lo), min(span.end, horizon_hi), span.on)
        self._cache = span
        return span


class Schedule:
    """Active hours per weekday (minus holidays) and daily quiet hours, in one time zone.

    weekly: seven tuples of ranges, Monday first. A range that runs past midnight belongs to the day
    it starts on (a holiday drops the ranges that start on it). Touching ranges merge, so
    "00:00-24:00" every day is one unbroken active span.
    """

    __slots__ = ("_active", "_quiet", "holidays", "quiet", "tz", "weekly")

    def __init__(
        self,
        weekly: Sequence[tuple[DailyRange, ...]],
        quiet: tuple[DailyRange, ...],
        holidays: frozenset[date],
        tz: tzinfo,
    ) -> None:
        if len(weekly) != len(WEEKDAYS):
            raise ValueError(f"Schedule: need 7 weekday entries (Monday first), got {len(weekly)}")
        self.weekly = tuple(weekly)
        self.quiet = quiet
        self.holidays = holidays
        self.tz = tz
        self._active = _DailyCalendar(self._active_ranges_on, tz)
        self._quiet = _DailyCalendar(lambda _day: quiet, tz)

    def _active_ranges_on(self, day: date) -> tuple[DailyRange, ...]:
        if day in self.holidays:
            return ()
        return self.weekly[day.weekday()]

    def active_span(self, t: float) -> Span:
        """The stretch around data time `t` that is wholly inside (on) or outside active hours."""
        return self._active.span(t)

    def quiet_span(self, t: float) -> Span:
        """The stretch around `t` that is wholly inside (on) or outside quiet hours."""
        return self._quiet.span(t)

    def local(self, t: float) -> datetime:
        return datetime.fromtimestamp(t, self.tz)
