"""Local calendar days and hours in data time, following an IANA zone through DST changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

HOUR_S = 3600


@dataclass(frozen=True, slots=True)
class LocalHour:
    """One hour of a local day, [start, end) in data time. On the autumn DST day one clock hour
    happens twice: `label` repeats and `offset` tells them apart."""

    start: int
    end: int
    label: str  # "09"
    offset: str  # "+01:00"


def day_bounds(day: date, tz: tzinfo) -> tuple[int, int]:
    """[start, end) of the local day in data time: 86 400 s, or 82 800 / 90 000 on DST days."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return int(start.timestamp()), int(end.timestamp())


def local_date(t: float, tz: tzinfo) -> date:
    return datetime.fromtimestamp(t, tz).date()


def clock(t: float, tz: tzinfo) -> str:
    return datetime.fromtimestamp(t, tz).strftime("%H:%M")


def _offset(moment: datetime) -> str:
    text = moment.strftime("%z")  # "+0100"
    return f"{text[:3]}:{text[3:]}"


def local_hours(day: date, tz: tzinfo) -> list[LocalHour]:
    """The hours of the local day: 23 on the spring DST day, 25 in autumn."""
    start, end = day_bounds(day, tz)
    hours = []
    for t in range(start, end, HOUR_S):
        moment = datetime.fromtimestamp(t, tz)
        hours.append(LocalHour(t, min(t + HOUR_S, end), moment.strftime("%H"), _offset(moment)))
    return hours
