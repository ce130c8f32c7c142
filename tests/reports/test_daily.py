"""Report numbers on tiny synthetic days, with exact expectations."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from monitor.core.records import LabelSpan, NudgeHistory, NudgeLevel, NudgeOutcome, NudgeRecord, OutcomeRecord
from monitor.core.types import Placement, Posture
from monitor.reports.daily import CONTEXT_S, DayInput, compute_day, day_totals, sitting_bouts
from monitor.reports.days import day_bounds, local_hours
from monitor.reports.trend import DaySummary, trend
from tests.reports.synth import labels, span

SIT, LIE, STAND, MOVE, CYCLE = Posture.SIT, Posture.LIE, Posture.STAND, Posture.MOVE, Posture.CYCLE
NON_WEAR, UNKNOWN = Posture.NON_WEAR, Posture.UNKNOWN
UTC = ZoneInfo("UTC")
CPH = ZoneInfo("Europe/Copenhagen")
DAY = date(2026, 11, 24)
F, IGN, E = NudgeOutcome.FOLLOWED, NudgeOutcome.IGNORED, NudgeOutcome.EXPIRED
A, S = NudgeOutcome.ACKED, NudgeOutcome.SNOOZED


def day_of(*pieces: tuple[Posture, int], tz: ZoneInfo = UTC, day: date = DAY, **kw) -> DayInput:
    start, end = day_bounds(day, tz)
    return DayInput("w1", Placement.THIGH, day, tz, span(start, *pieces, total=end - start), **kw)


def test_bin_edges_on_both_sides() -> None:
    pieces: list[tuple[Posture, int]] = []
    for d in (599, 600, 1799, 1800, 3599, 3600):
        pieces += [(SIT, d), (STAND, 60)]
    stats = compute_day(day_of(*pieces))
    assert [b.duration for b in stats.bouts] == [599, 600, 1799, 1800, 3599, 3600]
    assert stats.bins == (1, 2, 2, 1)
    assert [b.duration for b in stats.prolonged] == [1800, 3599, 3600]
    assert stats.prolonged_s == 8999
    assert stats.longest is not None and stats.longest.duration == 3600
    assert stats.sit_s == 599 + 600 + 1799 + 1800 + 3599 + 3600


def test_posture_times_wear_and_sitting_share() -> None:
    stats = compute_day(
        day_of((NON_WEAR, 3600), (SIT, 1200), (LIE, 600), (STAND, 300), (MOVE, 240), (CYCLE, 60), (SIT, 600))
    )
    assert stats.length_s == 86_400
    assert stats.posture_s == {
        SIT: 1800,
        LIE: 600,
        STAND: 300,
        MOVE: 240,
        CYCLE: 60,
        NON_WEAR: 3600,
        UNKNOWN: 86_400 - 3600 - 3000,
    }
    assert stats.wear_s == 3000
    assert stats.upright_s == 600
    assert stats.sitting_share == pytest.approx(0.6)


def test_not_worn_day_has_no_share_and_no_rate() -> None:
    stats = compute_day(day_of((NON_WEAR, 86_400)))
    assert stats.wear_s == 0
    assert stats.sitting_share is None
    assert stats.breaks_per_sedentary_hour is None
    assert stats.bouts == () and stats.longest is None


def test_short_lying_or_missing_data_inside_sitting_does_not_split_a_bout() -> None:
    stats = compute_day(
        day_of(
            (SIT, 600),
            (LIE, 30),
            (UNKNOWN, 30),
            (SIT, 600),
            (STAND, 60),  # bridged: 60 s in between
            (SIT, 600),
            (LIE, 61),
            (SIT, 600),
            (STAND, 60),  # 61 s: two bouts
            (SIT, 600),
            (STAND, 1),
            (SIT, 600),
            (STAND, 60),  # standing always splits
        )
    )
    assert [b.duration for b in stats.bouts] == [1260, 600, 600, 600, 600]
    assert stats.sit_s == 600 * 6


def test_breaks_need_the_minimum_upright_time_and_transitions_do_not() -> None:
    day = day_of(
        (SIT, 300),
        (STAND, 4),
        (SIT, 300),
        (STAND, 5),
        (SIT, 300),
        (MOVE, 3),
        (STAND, 3),  # 6 s upright in two labels
        (SIT, 300),
        (NON_WEAR, 10),  # not a transition
        (SIT, 300),
        (LIE, 100),  # lying is not upright
    )
    stats = compute_day(day)
    assert [b.upright_after_s for b in stats.bouts] == [4, 5, 6, 0, 0]
    assert stats.transitions == 3
    assert stats.breaks == 2
    assert stats.min_break_s == 5
    assert stats.breaks_per_sedentary_hour == pytest.approx(2 / (1500 / 3600))
    strict = compute_day(DayInput(day.wearable, day.placement, day.day, day.tz, day.epochs, min_break_s=6))
    assert strict.breaks == 1


def test_a_bout_crossing_midnight_belongs_to_the_day_it_starts() -> None:
    start, _end = day_bounds(DAY, UTC)
    before = 23 * 3600 + 50 * 60  # 23:50
    full = span(start, (UNKNOWN, before), (SIT, 2400), (STAND, 60), total=2 * 86_400)
    today = compute_day(DayInput("w1", Placement.THIGH, DAY, UTC, full))
    assert [b.duration for b in today.bouts] == [2400]
    assert len(today.prolonged) == 1
    assert today.sit_s == 600, "time totals stop at midnight"
    tomorrow = compute_day(DayInput("w1", Placement.THIGH, date(2026, 11, 25), UTC, full))
    assert tomorrow.bouts == ()
    assert tomorrow.sit_s == 1800


def test_epochs_must_cover_the_day() -> None:
    start, _end = day_bounds(DAY, UTC)
    short = LabelSpan(start + 1, np.zeros(86_400, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"epochs cover \[.*\) but the day 2026-11-24 needs"):
        compute_day(DayInput("w1", Placement.THIGH, DAY, UTC, short))


def test_spring_forward_day_has_23_hours() -> None:
    day = date(2026, 3, 29)
    start, end = day_bounds(day, CPH)
    assert end - start == 23 * 3600
    hours = local_hours(day, CPH)
    assert [h.label for h in hours] == [f"{h:02d}" for h in range(24) if h != 2]
    assert hours[1].offset == "+01:00" and hours[2].offset == "+02:00"
    stats = compute_day(day_of((SIT, 23 * 3600), tz=CPH, day=day))
    assert stats.sit_s == stats.wear_s == 82_800
    assert len(stats.hours) == 23
    assert [b.duration for b in stats.bouts] == [82_800]


def test_fall_back_day_has_25_hours_and_hour_02_twice() -> None:
    day = date(2026, 10, 25)
    start, end = day_bounds(day, CPH)
    assert end - start == 25 * 3600
    hours = local_hours(day, CPH)
    assert [h.label for h in hours][:5] == ["00", "01", "02", "02", "03"]
    assert [h.offset for h in hours][2:4] == ["+02:00", "+01:00"]
    # Sitting during the second 02:00 hour only (after the clocks went back).
    stats = compute_day(day_of((STAND, 3 * 3600), (SIT, 3600), (STAND, 21 * 3600), tz=CPH, day=day))
    assert [h.sit_s for h in stats.hours][2:4] == [0, 3600]
    assert stats.wear_s == 90_000
    assert stats.breaks == 1


def test_hourly_bars_follow_local_clock_hours() -> None:
    day = date(2026, 7, 1)  # CEST, +02:00
    start, _ = day_bounds(day, CPH)
    nine = int(datetime.combine(day, time(9), tzinfo=CPH).timestamp())
    stats = compute_day(day_of((UNKNOWN, nine - start), (SIT, 1800), (MOVE, 900), tz=CPH, day=day))
    hour9 = stats.hours[9]
    assert (hour9.hour.label, hour9.sit_s, hour9.upright_s, hour9.wear_s) == ("09", 1800, 900, 2700)
    assert sum(h.sit_s for h in stats.hours) == 1800
    assert stats.timeline[1].start == nine and stats.timeline[1].label is SIT


def _prompt(
    nid: str, ts: int, level: NudgeLevel = NudgeLevel.NUDGE, *outs: tuple[NudgeOutcome, int, float | None]
) -> NudgeHistory:
    """A stored prompt and its outcomes as (outcome, seconds after the prompt, delay_s)."""
    return NudgeHistory(
        NudgeRecord(nid, "w1", ts, level), tuple(OutcomeRecord(nid, ts + dt, o, d) for o, dt, d in outs)
    )


def test_nudge_rounds_each_counted_under_one_outcome() -> None:
    """Timed as the policy records them: endings (followed, ignored, expired) on a round's first
    prompt, answers (acked, snoozed) on the prompt answered, reminders 10 min apart."""
    start, end = day_bounds(DAY, UTC)
    h = 3600
    esc = NudgeLevel.ESCALATION
    nudges = [
        _prompt("yesterday", start - 60),
        _prompt("a", start + 8 * h, NudgeLevel.NUDGE, (F, 240, 240.0)),  # followed in 4 min
        _prompt("b", start + 9 * h, NudgeLevel.NUDGE, (A, 30, None), (IGN, 1800, None)),  # Done, sat on
        # snoozed, reminded, then a break 25 min after the first prompt
        _prompt("c", start + 10 * h, NudgeLevel.NUDGE, (S, 20, None), (F, 1500, 1500.0)),
        _prompt("c2", start + 10 * h + 620),
        # no answer to three prompts
        _prompt("d", start + 11 * h, NudgeLevel.NUDGE, (IGN, 2400, None)),
        _prompt("d2", start + 11 * h + 600, esc),
        _prompt("d3", start + 11 * h + 1200, esc),
        # snoozed, reminded, Done on the escalation: the last answer was Done
        _prompt("e", start + 12 * h, NudgeLevel.NUDGE, (S, 5, None), (IGN, 2400, None)),
        _prompt("e2", start + 12 * h + 600),
        _prompt("e3", start + 12 * h + 1200, esc, (A, 10, None)),
        # Done, then a snooze asked for on the reminder: the last answer was the snooze
        _prompt("f", start + 13 * h, NudgeLevel.NUDGE, (A, 5, None), (IGN, 1800, None)),
        _prompt("f2", start + 13 * h + 600, NudgeLevel.NUDGE, (S, 5, None)),
        _prompt("g", start + 14 * h, NudgeLevel.NUDGE, (E, 900, None)),  # sensor taken off
        _prompt("h", start + 15 * h, NudgeLevel.NUDGE, (F, 601, 601.0)),  # just past 10 min
        _prompt("i", start + 16 * h),  # open when the report was made
        _prompt("i2", start + 16 * h + 600, esc),
        _prompt("tomorrow", end),
    ]
    n = compute_day(day_of((SIT, 60), nudges=nudges)).nudges
    assert (n.rounds, n.prompts, n.escalations) == (9, 16, 4)
    assert (n.followed, n.followed_later, n.acknowledged, n.snoozed, n.no_response) == (1, 2, 2, 1, 1)
    assert (n.expired, n.open) == (1, 1)
    outcomes = (n.followed, n.followed_later, n.acknowledged, n.snoozed, n.no_response, n.expired, n.open)
    assert sum(outcomes) == n.rounds


def test_done_then_kept_sitting_is_acknowledged_not_ignored() -> None:
    """The demo's morning as the store holds it: snooze, a reminder, an escalation answered Done,
    then the round runs out. The person answered every time: not "ignored", not "no response"."""
    start, _ = day_bounds(DAY, UTC)
    t0 = start + 9 * 3600
    nudges = [
        _prompt(
            "n1", t0, NudgeLevel.NUDGE, (NudgeOutcome.SNOOZED, 3, None), (NudgeOutcome.IGNORED, 1875, None)
        ),
        _prompt("n2", t0 + 603),
        _prompt("n3", t0 + 1203, NudgeLevel.ESCALATION, (NudgeOutcome.ACKED, 12, None)),
    ]
    n = compute_day(day_of((SIT, 60), nudges=nudges)).nudges
    assert (n.rounds, n.acknowledged, n.no_response, n.snoozed, n.followed) == (1, 1, 0, 0, 0)
    assert not hasattr(n, "ignored")


def test_trend_averages_valid_days_only() -> None:
    days = [
        DaySummary(date(2026, 11, 20), 8 * 3600, 4 * 3600, 3, 2.0),
        DaySummary(date(2026, 11, 18), 10 * 3600, 6 * 3600, 5, 1.0),
        DaySummary(date(2026, 11, 19), 4 * 3600 - 1, 3600, 0, None),  # too little wear
    ]
    t = trend(days)
    assert [d.day.day for d in t.previous] == [18, 19, 20]
    assert t.valid_days == 2
    assert t.mean_sit_s == 5 * 3600
    assert t.mean_prolonged == 4
    assert t.mean_sitting_share == pytest.approx((0.5 + 0.6) / 2)
    assert trend([days[2]]).mean_sit_s is None


def test_sitting_bouts_at_the_edges_of_the_span() -> None:
    bouts = sitting_bouts(LabelSpan(10, labels((SIT, 5), (STAND, 2), (SIT, 3))))
    assert [(b.start, b.end, b.upright_after_s) for b in bouts] == [(10, 15, 2), (17, 20, 0)]


def test_day_totals_are_the_reports_numbers() -> None:
    """`day_totals` is where the report's time per posture, bouts, breaks and nudge counts come from."""
    start, end = day_bounds(DAY, UTC)
    nudge = NudgeHistory(NudgeRecord("n1", "w1", start + 1900, NudgeLevel.NUDGE))
    inp = day_of((SIT, 1800), (STAND, 30), (SIT, 600), (MOVE, 3), (LIE, 300), (CYCLE, 120), nudges=[nudge])
    stats = compute_day(inp)
    totals = day_totals(inp.epochs, start, end, inp.nudges, inp.min_break_s)
    assert totals.posture_s == stats.posture_s
    assert totals.bouts == stats.bouts
    assert (totals.transitions, totals.breaks, totals.nudges) == (
        stats.transitions,
        stats.breaks,
        stats.nudges,
    )
    assert (totals.transitions, totals.breaks, totals.nudges.prompts) == (2, 1, 1)


def test_day_totals_of_a_day_in_progress_count_what_is_there() -> None:
    """Labels that stop before the day's end (the live day): the rest is no data, and a bout from
    before midnight (in the context before the day) is yesterday's."""
    start, end = day_bounds(DAY, UTC)
    before = labels((SIT, 1200))
    today = labels((SIT, 300), (STAND, 60), (SIT, 900), (MOVE, 4))
    span = LabelSpan(start - 1200, np.concatenate((before, today)))
    totals = day_totals(span, start, end, (), min_break_s=5)
    assert totals.posture_s[SIT] == 1200 and totals.posture_s[STAND] == 60 and totals.posture_s[MOVE] == 4
    assert totals.posture_s[UNKNOWN] == end - start - 1264, "seconds not yet lived are no data"
    assert [(b.start - start, b.duration) for b in totals.bouts] == [(360, 900)]
    assert (totals.transitions, totals.breaks) == (1, 0)  # 4 s of moving is not a break
    # The same labels with the context a report reads around the day give the same numbers.
    padded = LabelSpan(start - CONTEXT_S, np.full(end - start + 2 * CONTEXT_S, UNKNOWN.code, dtype=np.uint8))
    padded.labels[CONTEXT_S - 1200 : CONTEXT_S + today.size] = span.labels
    report = compute_day(DayInput("w1", Placement.THIGH, DAY, UTC, padded))
    assert (report.bouts, report.transitions, report.breaks) == (totals.bouts, 1, 0)
    assert report.posture_s == totals.posture_s
