"""Each kind of record round-trips through a real SQLite file; retention and restart resume."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from monitor.core.links import LinkEvent, LinkEventKind
from monitor.core.records import NudgeLevel, NudgeOutcome, NudgeRecord, OutcomeRecord, PolicyEventRecord
from monitor.core.types import Bout, Posture, PostureCode
from monitor.store import Calibration, SavedPolicy, Store, StoreSettings

DAY = 86_400
T0 = 1_700_000_000  # a whole second, data time
SIT, STAND, UNKNOWN = int(PostureCode.SIT), int(PostureCode.STAND), int(PostureCode.UNKNOWN)


def codes(*labels: int) -> np.ndarray:
    return np.array(labels, dtype=np.uint8)


def test_epochs_read_back_with_missing_seconds_unknown(store: Store) -> None:
    store.epochs.write("w1", T0, codes(SIT, SIT, STAND))
    store.epochs.write("w1", T0 + 5, codes(STAND))
    store.epochs.write("w2", T0, codes(STAND))
    span = store.epochs.read("w1", T0 - 1, T0 + 7)
    assert span.t0 == T0 - 1
    assert span.labels.tolist() == [UNKNOWN, SIT, SIT, STAND, UNKNOWN, UNKNOWN, STAND, UNKNOWN]
    assert store.epochs.last_end("w1") == T0 + 6
    assert store.epochs.first_t("w1") == T0
    assert store.epochs.read("nobody", T0, T0 + 2).labels.tolist() == [UNKNOWN, UNKNOWN]
    assert store.epochs.last_end("nobody") is None
    assert store.wearables() == ["w1", "w2"]


def test_epochs_written_again_replace_the_old_label(store: Store) -> None:
    store.epochs.write("w1", T0, codes(SIT, SIT))
    store.epochs.write("w1", T0 + 1, codes(STAND, STAND))
    assert store.epochs.read("w1", T0, T0 + 3).labels.tolist() == [SIT, STAND, STAND]
    assert store.epochs.count("w1") == 3


def test_reading_days_of_epochs_never_holds_a_row_object_per_second(store: Store) -> None:
    """A daily report reads eight days of epochs. As a list of row tuples that was ~90 bytes of small
    Python objects per second at once (2 days: 19 MiB), and Python's allocator keeps such memory
    resident for good once a few long-lived objects land among it: the service grew by ~3 MiB with
    each report while the store had fewer than eight days (the soak's memory check). Row by row, the
    peak is the compact arrays: 2 days of labels as int64 pairs are 2.6 MiB."""
    rng = np.random.default_rng(0)
    for k in range(2):
        store.epochs.write(
            "w1", T0 + k * DAY, np.repeat(rng.integers(1, 6, DAY // 600), 600).astype(np.uint8)
        )
    tracemalloc.start()
    try:
        span = store.epochs.read("w1", T0, T0 + 2 * DAY)
        peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    assert span.labels.shape == (2 * DAY,) and not np.any(span.labels == UNKNOWN)
    assert peak_mib < 8, f"reading 2 days of epochs peaked at {peak_mib:.1f} MiB"


class Block:
    def __init__(self, t0: float, labels: np.ndarray) -> None:
        self.t0 = t0
        self.labels = labels


def test_epoch_blocks_are_accepted_and_bad_ones_refused(store: Store) -> None:
    assert store.epochs.write_block("w1", Block(float(T0), codes(SIT))) == 1
    with pytest.raises(ValueError, match=r"t0 must be a whole second of data time, got 1700000000.5"):
        store.epochs.write("w1", T0 + 0.5, codes(SIT))
    with pytest.raises(ValueError, match=r"PostureCode values 0..6"):
        store.epochs.write("w1", T0, codes(7))
    assert store.epochs.count("w1") == 1


def test_a_day_of_epochs_in_one_minute_blocks(store: Store) -> None:
    rng = np.random.default_rng(1)
    day = rng.integers(0, 7, DAY).astype(np.uint8)
    for start in range(0, DAY, 60):
        store.epochs.write("w1", T0 + start, day[start : start + 60])
    assert np.array_equal(store.epochs.read("w1", T0, T0 + DAY).labels, day)


def test_bouts_and_the_open_bout(store: Store) -> None:
    store.bouts.set_open("w1", Bout(T0 + 60, T0 + 90, Posture.SIT))
    assert store.bouts.open_bout("w1") == Bout(T0 + 60, T0 + 90, Posture.SIT)
    store.bouts.add("w1", [Bout(T0, T0 + 60, Posture.STAND)])
    assert store.bouts.open_bout("w1") == Bout(T0 + 60, T0 + 90, Posture.SIT), "an older bout closing"
    store.bouts.add("w1", [Bout(T0 + 60, T0 + 120, Posture.SIT)])
    assert store.bouts.open_bout("w1") is None, "closing the open bout clears it"
    assert store.bouts.between("w1", T0 + 59, T0 + 61) == [
        Bout(T0, T0 + 60, Posture.STAND),
        Bout(T0 + 60, T0 + 120, Posture.SIT),
    ]
    assert store.bouts.between("w1", T0 + 120, T0 + 200) == []
    store.bouts.set_open("w1", Bout(T0 + 120, T0 + 121, Posture.MOVE))
    store.bouts.set_open("w1", None)
    assert store.bouts.open_bout("w1") is None


def test_nudges_with_their_outcomes(store: Store) -> None:
    first = NudgeRecord("n1", "w1", T0 + 100, NudgeLevel.NUDGE, 1800.0, "hip-flexor-standing")
    second = NudgeRecord("n2", "w1", T0 + 700, NudgeLevel.ESCALATION, 2400.0, None)
    store.nudges.record(first)
    store.nudges.record(first)  # a replay after restart changes nothing
    store.nudges.record(second)
    store.nudges.add_outcome(OutcomeRecord("n1", T0 + 101, NudgeOutcome.SENT))
    store.nudges.add_outcome(OutcomeRecord("n1", T0 + 160, NudgeOutcome.SNOOZED))
    store.nudges.add_outcome(OutcomeRecord("n1", T0 + 400, NudgeOutcome.FOLLOWED, 300.0))
    store.nudges.add_outcome(OutcomeRecord("n2", T0 + 1300, NudgeOutcome.IGNORED))
    with pytest.raises(KeyError, match="no nudge with id 'n9'"):
        store.nudges.add_outcome(OutcomeRecord("n9", T0, NudgeOutcome.ACKED))

    history = store.nudges.history("w1", T0, T0 + 701)
    assert [h.nudge for h in history] == [first, second]
    assert [o.outcome for o in history[0].outcomes] == ["sent", "snoozed", "followed"]
    assert history[0].followed_within(300) and not history[0].followed_within(299)
    assert history[1].has(NudgeOutcome.IGNORED)
    assert store.nudges.history("w1", T0 + 101, T0 + 700) == []


def test_link_and_policy_events(store: Store) -> None:
    store.links.add("w1", LinkEvent(LinkEventKind.CONNECTED, T0))
    store.links.add("w1", LinkEvent(LinkEventKind.BATTERY, T0 + 5, level=87))
    store.links.add("w1", LinkEvent(LinkEventKind.MALFORMED, T0 + 9, count=3, detail="bad length 7"))
    assert [e.kind for e in store.links.between("w1", T0, T0 + 9)] == ["connected", "battery"]
    assert store.links.between("w1", T0 + 9, T0 + 10) == [
        LinkEvent(LinkEventKind.MALFORMED, T0 + 9, count=3, detail="bad length 7")
    ]
    event = PolicyEventRecord(T0 + 1800, "nudge", "sitting timer reached 30 min", {"bout_start": T0, "n": 1})
    store.policy_events.add("w1", event)
    assert store.policy_events.between("w1", T0, T0 + DAY) == [event]


def test_calibration_and_policy_snapshot_survive_reopen(db_path: Path) -> None:
    with Store.open(db_path) as store:
        store.calibration.save("w1", Calibration(T0, (0.1, -0.98, 0.05), {"walk_s": 120}))
        store.calibration.save("w1", Calibration(T0 + 9, (0.0, -1.0, 0.0)))
        store.snapshots.save("w1", SavedPolicy(T0 + 10, '{"timer_s": 1234.0}'))
        with pytest.raises(ValueError, match="Expecting"):
            store.snapshots.save("w1", SavedPolicy(T0 + 11, "{not json"))
    with Store.open(db_path) as store:
        assert store.calibration.load("w1") == Calibration(T0 + 9, (0.0, -1.0, 0.0), {})
        assert store.snapshots.load("w1") == SavedPolicy(T0 + 10, '{"timer_s": 1234.0}')
        assert store.calibration.load("w2") is None
        assert store.snapshots.load("w2") is None


def test_retention_prunes_exactly_what_is_older(store: Store) -> None:
    # retention_days=2 in the fixture: at now, everything before now - 2 days goes.
    now = T0 + 3 * DAY
    cutoff = now - 2 * DAY
    store.epochs.write("w1", cutoff - 2, codes(SIT, SIT, STAND, STAND))
    store.bouts.add(
        "w1", [Bout(cutoff - 10, cutoff - 1, Posture.SIT), Bout(cutoff - 1, cutoff + 5, Posture.STAND)]
    )
    store.nudges.record(NudgeRecord("old", "w1", cutoff - 1))
    store.nudges.add_outcome(OutcomeRecord("old", cutoff - 1, NudgeOutcome.IGNORED))
    store.nudges.record(NudgeRecord("new", "w1", cutoff))
    store.links.add("w1", LinkEvent(LinkEventKind.LOST, cutoff - 1))
    store.policy_events.add("w1", PolicyEventRecord(cutoff - 1, "pause"))
    counts = store.prune(now + 0.7)
    assert (counts.epochs, counts.bouts, counts.nudges, counts.link_events, counts.policy_events) == (
        2,
        1,
        1,
        1,
        1,
    )
    assert store.epochs.first_t("w1") == cutoff
    assert [b.start for b in store.bouts.between("w1", 0, now)] == [cutoff - 1]
    assert [h.nudge.id for h in store.nudges.history("w1", 0, now)] == ["new"]
    assert store.db.query_one("SELECT count(*) FROM nudge_outcomes")[0] == 0


def test_first_start_has_nothing_to_resume(store: Store) -> None:
    state = store.resume("w1", T0)
    assert (state.last_end, state.gap, state.open_bout, state.calibration) == (None, None, None, None)
    assert store.epochs.count("w1") == 0


def test_restart_after_a_gap_stores_it_as_unknown_once(db_path: Path) -> None:
    with Store.open(db_path) as store:
        store.epochs.write("w1", T0, codes(SIT, SIT, SIT))
        store.bouts.set_open("w1", Bout(T0, T0 + 3, Posture.SIT))
        store.snapshots.save("w1", SavedPolicy(T0 + 3, '{"timer_s": 903}'))
    # ... SIGKILL, restart 10 s later ...
    with Store.open(db_path) as store:
        state = store.resume("w1", T0 + 13.4)
        assert state.last_end == T0 + 3
        assert state.gap == (T0 + 3, T0 + 13)
        assert state.open_bout == Bout(T0, T0 + 3, Posture.SIT)
        assert not state.open_bout_continues
        assert store.snapshots.load("w1") == SavedPolicy(T0 + 3, '{"timer_s": 903}')
        assert store.epochs.read("w1", T0, T0 + 13).labels.tolist() == [SIT] * 3 + [UNKNOWN] * 10
        assert store.epochs.count("w1") == 13
        assert store.bouts.between("w1", T0, T0 + 13) == [
            Bout(T0, T0 + 3, Posture.SIT),
            Bout(T0 + 3, T0 + 13, Posture.UNKNOWN),
        ]
        assert store.bouts.open_bout("w1") is None
        assert store.links.between("w1", T0, T0 + 20) == [
            LinkEvent(LinkEventKind.GAP, T0 + 13, seconds=10.0, detail="restart")
        ]
        again = store.resume("w1", T0 + 13)
        assert again.gap is None and again.last_end == T0 + 13
        assert len(store.links.between("w1", T0, T0 + 20)) == 1


def test_restart_without_a_gap_continues_the_open_bout(store: Store) -> None:
    store.epochs.write("w1", T0, codes(SIT, SIT))
    store.bouts.set_open("w1", Bout(T0, T0 + 2, Posture.SIT))
    state = store.resume("w1", T0 + 2)
    assert state.gap is None
    assert state.open_bout == Bout(T0, T0 + 2, Posture.SIT)
    assert state.open_bout_continues


def test_a_long_outage_is_back_filled_only_within_retention(db_path: Path) -> None:
    with Store(StoreSettings(path=str(db_path), retention_days=1)) as store:
        store.epochs.write("w1", T0, codes(SIT))
        state = store.resume("w1", T0 + 3 * DAY)
        assert state.gap == (T0 + 2 * DAY, T0 + 3 * DAY)
        assert store.epochs.count("w1") == 1 + DAY


def test_policy_decisions_become_nudges_and_outcomes(store: Store) -> None:
    from monitor.core.records import NudgeLevel
    from monitor.nudges.events import EventKind, PolicyEvent, Reason

    start = float(T0)
    events = [
        PolicyEvent(EventKind.BOUT_STARTED, start, Reason.TIMER_REACHED, 0.0, start),
        PolicyEvent(
            EventKind.NUDGE, start + 1800, Reason.TIMER_REACHED, 1800.0, start, "n1", NudgeLevel.NUDGE
        ),
        PolicyEvent(EventKind.SNOOZED, start + 1860, Reason.COMMAND, 1860.0, start, "n1", minutes=10.0),
        PolicyEvent(
            EventKind.ESCALATION, start + 2400, Reason.NO_BREAK, 2400.0, start, "n2", NudgeLevel.ESCALATION
        ),
        PolicyEvent(
            EventKind.FOLLOWED,
            start + 2500,
            Reason.UPRIGHT,
            0.0,
            start,
            "n1",
            delay_s=580.0,
            break_start=start + 2380,
        ),
        PolicyEvent(EventKind.ACKED, start + 2600, Reason.COMMAND, 0.0, None, "gone"),
    ]
    for event in events:
        store.record_decision("w1", event.records("w1", exercise="calf-raises" if event.is_prompt else None))
    stored = store.policy_events.between("w1", start, start + 3600)
    assert [(e.kind, e.reason) for e in stored] == [(str(e.kind), str(e.reason)) for e in events]
    assert stored[2].detail == {"sitting_s": 1860.0, "bout_start": start, "nudge_id": "n1", "minutes": 10.0}
    history = store.nudges.history("w1", start, start + 3600)
    assert [(h.nudge.id, h.nudge.level, h.nudge.exercise) for h in history] == [
        ("n1", "nudge", "calf-raises"),
        ("n2", "escalation", "calf-raises"),
    ]
    assert [(o.outcome, o.delay_s) for o in history[0].outcomes] == [("snoozed", None), ("followed", 580.0)]
    assert history[1].outcomes == ()
    store.nudges.mark_sent("n2", start + 2401)
    assert store.nudges.history("w1", start, start + 3600)[1].has(NudgeOutcome.SENT)
