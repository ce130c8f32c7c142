"""Active hours, quiet hours, holidays and DST (the 23 h and 25 h days get their own tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.nudges import EventKind, PolicySettings
from monitor.nudges.schedule import Span
from tests.nudges.scenario import BERLIN, run

ALL_DAY = {f"active_{d}": "00:00-24:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def at(y: int, mo: int, d: int, h: int, mi: int) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN)


WED = (2026, 11, 25)

CASES = [
    # Fairness at the start of the day: sitting before 08:00 never counts -> first nudge 08:30.
    pytest.param(
        at(*WED, 7, 45), "S60m", {}, ["45:00 nudge", "55:00 escalation"], id="start-of-active-hours"
    ),
    pytest.param(at(*WED, 17, 45), "S30m", {}, [], id="timer-freezes-at-end-of-active-hours"),
    pytest.param(
        at(*WED, 17, 40),
        "S20m S14h S40m",  # sits through the evening and night (lying), then at the desk
        {},
        ["860:00 timer_reset active_hours_started", "890:00 nudge", "900:00 escalation"],
        id="new-window-starts-fresh",
    ),
    pytest.param(
        at(*WED, 17, 20),
        "S40m S14h S31m",
        {},
        [
            "30:00 nudge",
            "40:00 suppressed outside_active_hours",
            "880:00 expired active_hours_started",
            "880:00 timer_reset active_hours_started",
            "910:00 nudge",
        ],
        id="open-nudge-expires-at-next-window",
    ),
    pytest.param(
        at(*WED, 17, 20),
        "S40m M3m",
        {},
        ["30:00 nudge", "40:00 suppressed outside_active_hours", "42:00 break_credited", "42:00 followed"],
        id="break-after-active-hours-still-follows",
    ),
    pytest.param(
        at(*WED, 9, 0),
        "S60m",
        {"quiet_hours": "09:20-09:40"},
        ["30:00 suppressed quiet_hours", "40:00 nudge", "50:00 escalation", "60:00 escalation"],
        id="quiet-hours-hold-then-send",
    ),
    pytest.param(
        at(*WED, 17, 0),
        "S61m",
        {"quiet_hours": "17:50-18:30"},
        [
            "30:00 nudge",
            "40:00 escalation",
            "50:00 suppressed quiet_hours",
            "60:00 suppressed outside_active_hours",
        ],
        id="held-prompt-at-end-of-active-hours",
    ),
    pytest.param(
        at(*WED, 21, 20),
        "S60m",
        {**ALL_DAY, "quiet_hours": "22:00-07:00"},
        ["30:00 nudge", "40:00 suppressed quiet_hours"],
        id="quiet-hours-across-midnight",
    ),
    pytest.param(at(*WED, 9, 0), "S60m", {"holidays": ("2026-11-25",)}, [], id="holiday-no-nudges"),
    pytest.param(at(2026, 11, 28, 9, 0), "S60m", {}, [], id="weekend-off-by-default"),
    pytest.param(
        at(*WED, 11, 40),
        "S110m",
        {"active_wed": "08:00-12:00, 13:00-17:00"},
        ["80:00 timer_reset active_hours_started", "110:00 nudge"],
        id="split-day-lunch-gap",
    ),
    pytest.param(
        at(*WED, 23, 50),
        "S40m",
        {"active_wed": "22:00-06:00", "active_thu": "off", "holidays": ("2026-11-26",)},
        ["30:00 nudge", "40:00 escalation"],
        id="night-shift-window-across-midnight",
    ),
]


@pytest.mark.parametrize(("start", "script", "settings", "expected"), CASES)
def test_schedule_scenarios(
    start: datetime, script: str, settings: dict[str, object], expected: list[str]
) -> None:
    r = run(script, start=start, settings=PolicySettings(**settings))  # type: ignore[arg-type]
    assert r.lines() == expected


def test_counted_bout_starts_with_active_hours() -> None:
    r = run("S60m", start=at(*WED, 7, 45))
    (nudge,) = r.of(EventKind.NUDGE)
    assert nudge.bout_start == at(*WED, 8, 0).timestamp()
    assert nudge.sitting_s == 30 * 60


def _local(t: float) -> datetime:
    return datetime.fromtimestamp(t, BERLIN)


# ---- DST: Europe/Berlin springs forward on 2026-03-29 and falls back on 2026-10-25 (Sundays) ------


def test_spring_forward_day_is_23_hours() -> None:
    sched = PolicySettings(active_sun="00:00-24:00").schedule(BERLIN)
    span = sched.active_span(at(2026, 3, 29, 12, 0).timestamp())
    assert span.on and span.end - span.start == 23 * 3600


def test_fall_back_day_is_25_hours() -> None:
    sched = PolicySettings(active_sun="00:00-24:00").schedule(BERLIN)
    span = sched.active_span(at(2026, 10, 25, 12, 0).timestamp())
    assert span.on and span.end - span.start == 25 * 3600


def test_timer_runs_in_real_seconds_over_the_spring_jump() -> None:
    r = run("S30m", start=at(2026, 3, 29, 1, 45), settings=PolicySettings(active_sun="00:00-24:00"))
    (nudge,) = r.of(EventKind.NUDGE)
    local = _local(nudge.t)
    # 01:45 CET + 30 real minutes: the clock jumped 02:00 -> 03:00, so it reads 03:15 CEST.
    assert (local.hour, local.minute) == (3, 15)
    assert local.utcoffset() == timedelta(hours=2)


def test_timer_runs_in_real_seconds_over_the_fall_back() -> None:
    r = run("S30m", start=at(2026, 10, 25, 2, 45), settings=PolicySettings(active_sun="00:00-24:00"))
    (nudge,) = r.of(EventKind.NUDGE)
    local = _local(nudge.t)
    # 02:45 summer time + 30 min = 02:15 again, now winter time (the hour repeats).
    assert (local.hour, local.minute) == (2, 15)
    assert local.utcoffset() == timedelta(hours=1)


def test_quiet_hour_that_repeats_lasts_two_real_hours() -> None:
    settings = PolicySettings(active_sun="00:00-24:00", active_sat="00:00-24:00", quiet_hours="02:00-03:00")
    r = run("S150m", start=at(2026, 10, 25, 1, 30), settings=settings)
    assert r.lines() == ["30:00 suppressed quiet_hours", "150:00 nudge"]
    (nudge,) = r.of(EventKind.NUDGE)
    assert _local(nudge.t).strftime("%H:%M %z") == "03:00 +0100"


def test_quiet_hour_that_does_not_exist_is_empty() -> None:
    settings = PolicySettings(active_sun="00:00-24:00", quiet_hours="02:00-03:00")
    sched = settings.schedule(BERLIN)
    jump = datetime(2026, 3, 29, 1, 0, tzinfo=UTC).timestamp()  # 02:00 CET == 03:00 CEST
    assert not sched.quiet_span(jump - 1).on and not sched.quiet_span(jump).on
    r = run("S40m", start=at(2026, 3, 29, 1, 40), settings=settings)
    assert r.lines() == ["30:00 nudge", "40:00 escalation"]


@pytest.mark.parametrize("monday", [(2026, 3, 23), (2026, 3, 30), (2026, 10, 19), (2026, 10, 26)])
def test_active_hours_follow_the_wall_clock_across_dst(monday: tuple[int, int, int]) -> None:
    r = run("S45m", start=at(*monday, 7, 50))
    (nudge,) = r.of(EventKind.NUDGE)
    assert _local(nudge.t).strftime("%H:%M") == "08:30"


def test_span_is_cached_and_correct_at_boundaries() -> None:
    sched = PolicySettings().schedule(BERLIN)
    start = at(*WED, 8, 0).timestamp()
    end = at(*WED, 18, 0).timestamp()
    assert sched.active_span(start) == Span(start, end, True)
    assert not sched.active_span(start - 1).on
    assert sched.active_span(start - 1).end == start
    assert not sched.active_span(end).on
    # Wednesday 18:00 to Thursday 08:00 is one "off" span
    assert sched.active_span(end).end == at(2026, 11, 26, 8, 0).timestamp()


def test_always_on_schedule_never_resets_at_midnight() -> None:
    r = run("S23h", start=at(*WED, 12, 0), settings=PolicySettings(**ALL_DAY))  # type: ignore[arg-type]
    assert EventKind.TIMER_RESET not in {e.kind for e in r.events}
    assert r.policy.sitting_s == 23 * 3600


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"quiet_hours": "12:00-13:30, 16:45-17:15"},
        {"active_wed": "07:30-11:00,14:00-19:00", "active_thu": "09:00-09:40", "quiet_hours": "10:00-10:20"},
        {**ALL_DAY, "quiet_hours": "22:00-07:00"},
    ],
)
def test_nothing_is_sent_outside_active_hours_or_in_quiet_hours(settings: dict[str, object]) -> None:
    # Three days of long sits with occasional short and real breaks.
    script = " ".join(["S50m U1m S70m M3m S95m U30s"] * 12)
    r = run(script, start=at(*WED, 6, 0), settings=PolicySettings(**settings))  # type: ignore[arg-type]
    sched = r.policy.schedule
    prompts = [e for e in r.events if e.is_prompt]
    assert prompts
    for e in prompts:
        assert sched.active_span(e.t).on, _local(e.t)
        assert not sched.quiet_span(e.t).on, _local(e.t)
