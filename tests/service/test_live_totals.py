"""The `today` block of the live `state` message equals the daily report's numbers: both come from
`monitor.reports.daily.day_totals`, the service's from what it saw come in (`TodayTally`), the
report's from the store. Real parts: the nudge policy deciding on the labels, a real SQLite file."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from monitor.core.types import EpochBlock, Posture
from monitor.mqtt.convert import LiveState, TodayCounts, state_payload
from monitor.nudges import ExerciseLibrary, NudgePolicy, PolicySettings
from monitor.reports.daily import CONTEXT_S
from monitor.reports.days import day_bounds
from monitor.reports.payload import daily_json
from monitor.service.today_tally import TodayTally
from monitor.store import Store
from monitor.store.report_source import load_day_report
from tests.reports.synth import labels as pieces
from tests.reports.synth import office_day

W = "w1"
CPH = ZoneInfo("Europe/Copenhagen")
DAY = date(2026, 11, 24)
MIN_BREAK_S = 5
ALL_DAY = "00:00-24:00"
EVENING_S = 3 * 3600


def _policy() -> NudgePolicy:
    days = {f"active_{d}": ALL_DAY for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    return NudgePolicy(PolicySettings(**days), ExerciseLibrary.default(), CPH, wearable_id=W)  # type: ignore[arg-type]


def _labels(start: int) -> tuple[int, np.ndarray]:
    """The evening before (a sit that runs over midnight: yesterday's bout), then an office day
    that starts sitting, with a short lie and a data gap inside sitting (bridged into one bout)."""
    evening = pieces((Posture.MOVE, 3600), (Posture.SIT, EVENING_S - 3600))
    day = office_day(start, seed=3)
    day[:1500] = Posture.SIT.code
    day[1500:1700] = Posture.STAND.code
    day[40_000:40_040] = Posture.LIE.code
    day[40_100:40_130] = Posture.UNKNOWN.code
    return start - EVENING_S, np.concatenate((evening, day))


def _feed(
    store: Store,
    tally: TodayTally,
    policy: NudgePolicy,
    *,
    t0: int,
    labels: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """As the service does per pipeline pass: policy, store (one transaction), then the tally."""
    i = 0
    while i < labels.shape[0]:
        n = int(rng.integers(1, 400))
        block = EpochBlock(float(t0 + i), labels[i : i + n])
        events = policy.feed(block)
        records = [event.records(W) for event in events]
        with store.atomic():
            store.epochs.write_block(W, block)
            for record in records:
                store.record_decision(W, record)
        tally.add_epochs(int(block.t0), block.labels)
        tally.add_decisions(records)
        i += n


def test_live_totals_at_the_end_of_the_day_equal_the_report(tmp_path: Path) -> None:
    start, end = day_bounds(DAY, CPH)
    t0, labels = _labels(start)
    rng = np.random.default_rng(1)
    with Store.open(tmp_path / "sitbreak.db") as store:
        tally = TodayTally(CPH, MIN_BREAK_S)
        policy = _policy()
        _feed(store, tally, policy, t0=t0, labels=labels, rng=rng)
        assert tally.day == DAY  # moved over at midnight by itself
        live = tally.totals()
        report = load_day_report(store, W, DAY, CPH, as_of=end, min_break_s=MIN_BREAK_S)
    stats = report.stats
    assert live.posture_s == stats.posture_s
    assert live.bouts == stats.bouts
    assert (live.transitions, live.breaks) == (stats.transitions, stats.breaks)
    assert live.nudges == stats.nudges
    # Not a trivial day: breaks, nudges and the evening's bout over midnight left out of it.
    assert stats.breaks > 10 and stats.nudges.prompts >= 3
    assert stats.bouts[0].start > start + 1500, "the sit from the evening before is yesterday's bout"

    # And the message the phone gets says the same as the report's JSON.
    counts = TodayCounts(live.posture_s, live.breaks, live.nudges.prompts)
    today = state_payload(LiveState(today=counts), end - 1.0, W, CPH)["today"]
    summary = daily_json(report)
    minutes = {k: round(v / 60.0, 1) for k, v in summary["posture_s"].items()}
    assert today["sitting_min"] == minutes["sit"]
    assert today["standing_min"] == minutes["stand"]
    assert today["lying_min"] == minutes["lie"]
    moving_s = summary["posture_s"]["move"] + summary["posture_s"]["cycle"]
    assert today["moving_min"] == round(moving_s / 60.0, 1)
    assert today["breaks"] == summary["breaks"]
    nudges = summary["nudges"]
    assert today["nudges"] == nudges["prompts"]


def test_a_tally_loaded_from_the_store_mid_day_carries_on_to_the_same_totals(tmp_path: Path) -> None:
    """A restart at 13:00: the service loads the day so far from the store and goes on live."""
    start, end = day_bounds(DAY, CPH)
    t0, labels = _labels(start)
    cut = start + 13 * 3600 - t0
    rng = np.random.default_rng(2)
    with Store.open(tmp_path / "sitbreak.db") as store:
        policy = _policy()
        _feed(store, TodayTally(CPH, MIN_BREAK_S), policy, t0=t0, labels=labels[:cut], rng=rng)
        resumed = TodayTally(CPH, MIN_BREAK_S)
        resumed.load(
            DAY, store.epochs.read(W, start - CONTEXT_S, t0 + cut), store.nudges.history(W, start, end)
        )
        _feed(store, resumed, policy, t0=t0 + cut, labels=labels[cut:], rng=rng)
        report = load_day_report(store, W, DAY, CPH, as_of=end, min_break_s=MIN_BREAK_S)
    live = resumed.totals()
    assert (live.posture_s, live.bouts, live.breaks, live.nudges) == (
        report.stats.posture_s,
        report.stats.bouts,
        report.stats.breaks,
        report.stats.nudges,
    )


def test_mid_day_totals_equal_a_report_built_at_that_moment(tmp_path: Path) -> None:
    start, _ = day_bounds(DAY, CPH)
    t0, labels = _labels(start)
    now = start + 11 * 3600 + 1234
    rng = np.random.default_rng(3)
    with Store.open(tmp_path / "sitbreak.db") as store:
        tally = TodayTally(CPH, MIN_BREAK_S)
        _feed(store, tally, _policy(), t0=t0, labels=labels[: now - t0], rng=rng)
        report = load_day_report(store, W, DAY, CPH, as_of=now, min_break_s=MIN_BREAK_S)
    live = tally.totals()
    assert live.posture_s == report.stats.posture_s
    assert (live.breaks, live.nudges) == (report.stats.breaks, report.stats.nudges)


def test_data_over_a_gap_of_days_lands_on_the_right_day() -> None:
    tally = TodayTally(CPH, MIN_BREAK_S)
    assert tally.totals().posture_s == {} and tally.totals().breaks == 0
    start, _ = day_bounds(DAY, CPH)
    tally.add_epochs(start + 3600, np.full(600, Posture.SIT.code, dtype=np.uint8))
    assert tally.totals().posture_s[Posture.SIT] == 600
    # Two days later (a block of `unknown` for the time away, then sitting).
    later, _ = day_bounds(DAY + timedelta(days=2), CPH)
    gap = later + 60 - (start + 4200)
    tally.add_epochs(start + 4200, np.full(gap, Posture.UNKNOWN.code, dtype=np.uint8))
    tally.add_epochs(later + 60, np.full(120, Posture.STAND.code, dtype=np.uint8))
    assert tally.day == DAY + timedelta(days=2)
    totals = tally.totals()
    assert (totals.posture_s[Posture.SIT], totals.posture_s[Posture.STAND]) == (0, 120)
