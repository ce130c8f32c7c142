"""The daily report's instants: one per local date, at `daily_at` on the local clock, across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.reports.schedule import ReportSchedule, last_reported

CPH = ZoneInfo("Europe/Copenhagen")
SPRING = date(2026, 3, 29)  # 02:00 CET -> 03:00 CEST: a 23 h day
AUTUMN = date(2026, 10, 25)  # 03:00 CEST -> 02:00 CET: a 25 h day
HOUR = 3600.0


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()


def test_an_ordinary_day() -> None:
    schedule = ReportSchedule.daily_at("21:30", UTC)
    at = utc(2026, 11, 25, 21, 30)
    assert schedule.report_time(date(2026, 11, 25)) == at
    assert schedule.due_date(at - 1) == date(2026, 11, 24)
    assert schedule.due_date(at) == date(2026, 11, 25)
    assert schedule.due_date(at + 23 * HOUR) == date(2026, 11, 25)
    assert schedule.next_time(at - 1) == at
    assert schedule.next_time(at) == at + 24 * HOUR


def test_the_23_hour_day_has_its_report_23_hours_after_the_one_before() -> None:
    schedule = ReportSchedule.daily_at("21:30", CPH)
    before = schedule.report_time(SPRING - timedelta(days=1))
    on = schedule.report_time(SPRING)
    assert before == utc(2026, 3, 28, 20, 30)  # 21:30 CET
    assert on == utc(2026, 3, 29, 19, 30)  # 21:30 CEST
    assert on - before == 23 * HOUR
    assert schedule.next_time(before) == on
    assert schedule.due_date(on - 1) == SPRING - timedelta(days=1)
    assert schedule.due_date(on) == SPRING


def test_the_25_hour_day_has_its_report_25_hours_after_the_one_before() -> None:
    schedule = ReportSchedule.daily_at("21:30", CPH)
    before = schedule.report_time(AUTUMN - timedelta(days=1))
    on = schedule.report_time(AUTUMN)
    assert before == utc(2026, 10, 24, 19, 30)  # 21:30 CEST
    assert on == utc(2026, 10, 25, 20, 30)  # 21:30 CET
    assert on - before == 25 * HOUR
    assert schedule.next_time(before) == on
    assert schedule.due_date(on - 1) == AUTUMN - timedelta(days=1)
    assert schedule.due_date(on) == AUTUMN


def test_a_report_time_in_the_skipped_hour_is_read_on_the_offset_before_the_jump() -> None:
    schedule = ReportSchedule.daily_at("02:30", CPH)
    on = schedule.report_time(SPRING)
    # 02:30 CET does not exist that night: the report goes out at 03:30 CEST, an hour after the jump.
    assert on == utc(2026, 3, 29, 1, 30)
    assert datetime.fromtimestamp(on, CPH).time() == time(3, 30)
    assert schedule.due_date(on - 1) == SPRING - timedelta(days=1)
    assert schedule.due_date(on) == SPRING
    # The neighbours keep their 02:30: 24 h before (CET), 23 h after (CEST).
    assert on - schedule.report_time(SPRING - timedelta(days=1)) == 24 * HOUR
    assert schedule.report_time(SPRING + timedelta(days=1)) - on == 23 * HOUR


def test_a_report_time_in_the_repeated_hour_is_its_first_occurrence() -> None:
    schedule = ReportSchedule.daily_at("02:30", CPH)
    on = schedule.report_time(AUTUMN)
    assert on == utc(2026, 10, 25, 0, 30)  # 02:30 CEST, the first of the two
    second = utc(2026, 10, 25, 1, 30)  # 02:30 CET, an hour later: nothing new is due
    assert datetime.fromtimestamp(second, CPH).time() == time(2, 30)
    assert schedule.due_date(on - 1) == AUTUMN - timedelta(days=1)
    assert schedule.due_date(on) == schedule.due_date(second) == AUTUMN
    assert schedule.next_time(second) == schedule.report_time(AUTUMN + timedelta(days=1))
    assert schedule.report_time(AUTUMN + timedelta(days=1)) - on == 25 * HOUR


@pytest.mark.parametrize("daily_at", ["00:00", "02:00", "02:30", "03:00", "21:30", "23:59"])
def test_every_date_of_a_year_has_one_increasing_report_instant(daily_at: str) -> None:
    schedule = ReportSchedule.daily_at(daily_at, CPH)
    day = date(2026, 1, 1)
    previous = schedule.report_time(day - timedelta(days=1))
    while day.year == 2026:
        at = schedule.report_time(day)
        assert at - previous in (23 * HOUR, 24 * HOUR, 25 * HOUR), day
        assert schedule.due_date(at) == day
        assert schedule.due_date(at - 1) == day - timedelta(days=1)
        assert schedule.next_time(previous) == at
        previous = at
        day += timedelta(days=1)


def test_the_day_counted_as_reported_at_start() -> None:
    schedule = ReportSchedule.daily_at("21:30", UTC)
    now = utc(2026, 11, 25, 12, 0)
    # The store remembers the last day sent: that wins.
    assert last_reported(schedule, date(2026, 11, 20), utc(2026, 11, 1), now) == date(2026, 11, 20)
    # A first run: the day due now (yesterday) and the ones before are not reported.
    assert last_reported(schedule, None, None, now) == date(2026, 11, 24)
    assert last_reported(schedule, None, None, utc(2026, 11, 25, 21, 30)) == date(2026, 11, 25)
    # Data but no report yet: from the first data's day on.
    assert last_reported(schedule, None, utc(2026, 11, 23, 8, 0), now) == date(2026, 11, 22)
