"""When each local day's report is due: `report.daily_at` on the wall clock of a time zone. Pure.

A report time is a local clock time ("21:30"), so across a DST change it is not 24 h after the day
before's: on the spring day it comes 23 h later, on the autumn day 25 h later. Two clock times need a
rule of their own (Python's `fold=0`, PEP 495):

- a `daily_at` inside the hour skipped in spring (02:30 where clocks jump from 02:00 to 03:00) is
  read on the offset before the jump, so that day's report goes out at 03:30 new time, as long after
  the jump as 02:30 would have been after 02:00;
- a `daily_at` inside the hour repeated in autumn (02:30 where clocks fall back from 03:00 to 02:00)
  is its first occurrence, in summer time; the second 02:30 an hour later sends nothing.

Either way every local date has exactly one report instant, and instants of consecutive dates
increase, so "the latest report time at or before now" always names one date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from monitor.reports.days import local_date


@dataclass(frozen=True, slots=True)
class ReportSchedule:
    """The daily report time `at` in zone `tz`; instants are data time (s since the Unix epoch)."""

    at: time
    tz: tzinfo

    @classmethod
    def daily_at(cls, text: str, tz: tzinfo) -> ReportSchedule:
        """From `report.daily_at` ("HH:MM", checked by `ReportSettings`)."""
        return cls(time.fromisoformat(text), tz)

    def report_time(self, day: date) -> float:
        """The instant the report for local `day` falls due (see the module doc for DST days)."""
        return datetime.combine(day, self.at, tzinfo=self.tz).timestamp()

    def due_date(self, now: float) -> date:
        """The local date whose report time is the latest at or before `now` (the day due now)."""
        today = local_date(now, self.tz)
        return today if self.report_time(today) <= now else today - timedelta(days=1)

    def next_time(self, now: float) -> float:
        """The first report time after `now`."""
        return self.report_time(self.due_date(now) + timedelta(days=1))


def last_reported(
    schedule: ReportSchedule, recorded: date | None, first_data_t: float | None, now: float
) -> date:
    """The day to count as already reported when the service starts at `now`.

    `recorded` is the last day the store marks as sent; `first_data_t` the time of its first epoch.
    With neither, this is a first run: days due before it are not reported (there is nothing to say
    about them). With data but no report yet (restarted on its first day, or a database from before
    reports were recorded), the days from the first data's on are reportable.
    """
    if recorded is not None:
        return recorded
    if first_data_t is None:
        return schedule.due_date(now)
    return local_date(first_data_t, schedule.tz) - timedelta(days=1)
