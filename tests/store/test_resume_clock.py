"""Resuming with the host clock behind the data already stored, on a real SQLite file: nothing
stored changes, no state from after the resume comes back, and the caller learns by how much."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from monitor.core.links import LinkEvent, LinkEventKind
from monitor.core.types import Bout, Posture, PostureCode
from monitor.store import Store
from monitor.store.calibration import Calibration, SavedPolicy

T0 = 1_700_000_000  # a whole second, data time
SIT = int(PostureCode.SIT)


def sitting(seconds: int) -> np.ndarray:
    return np.full(seconds, SIT, dtype=np.uint8)


def test_stored_until_is_the_newest_time_anything_stored_refers_to(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db") as store:
        assert store.stored_until("w1") is None
        store.epochs.write("w1", T0, sitting(100))
        assert store.stored_until("w1") == T0 + 100
        # epochs trail the samples: the policy state is saved at the newest sample, later
        store.snapshots.save("w1", SavedPolicy(T0 + 130.5, "{}"))
        assert store.stored_until("w1") == T0 + 130.5
        store.calibration.save("w1", Calibration(T0 + 140.25, (0.0, 0.0, 1.0)))
        assert store.stored_until("w1") == T0 + 140.25
        assert store.stored_until("other") is None


def test_resume_behind_stored_data_changes_nothing_and_says_by_how_much(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s.db"
    with Store.open(path) as store:
        store.epochs.write("w1", T0, sitting(600))
        store.bouts.set_open("w1", Bout(T0, T0 + 600, Posture.SIT))
        store.snapshots.save("w1", SavedPolicy(T0 + 610, '{"timer_s": 600}'))
    # Power cut; the Pi boots on fake-hwclock's last save, 50 min behind the stored data.
    with Store.open(path) as store:
        caplog.set_level(logging.WARNING, logger="monitor.store.store")
        state = store.resume("w1", T0 + 610 - 3000)
        assert state.behind_s == pytest.approx(3000)
        assert state.gap is None
        assert state.open_bout == Bout(T0, T0 + 600, Posture.SIT) and not state.open_bout_continues
        assert store.epochs.count("w1") == 600
        assert store.epochs.read("w1", T0, T0 + 600).labels.tolist() == [SIT] * 600
        assert store.bouts.open_bout("w1") == Bout(T0, T0 + 600, Posture.SIT)
        assert store.links.between("w1", 0, T0 + 10_000) == []
        assert store.snapshots.load("w1") == SavedPolicy(T0 + 610, '{"timer_s": 600}')
    (record,) = caplog.records
    assert "3000 s before data already stored" in record.message
    assert "2023-11-14 22:23:30 UTC" in record.message  # T0 + 610


def test_resume_at_or_after_stored_data_is_not_behind(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db") as store:
        store.epochs.write("w1", T0, sitting(10))
        store.snapshots.save("w1", SavedPolicy(T0 + 10.5, '{"timer_s": 10}'))
        state = store.resume("w1", T0 + 10.75)
        assert state.behind_s == 0
        assert store.snapshots.load("w1") == SavedPolicy(T0 + 10.5, '{"timer_s": 10}')


def test_clock_step_and_held_events_round_trip(tmp_path: Path) -> None:
    """The link's clock vocabulary is stored as it is: signed step seconds, held sample counts."""
    with Store.open(tmp_path / "s.db") as store:
        store.links.add(
            "w1", LinkEvent(LinkEventKind.CLOCK_STEP, T0, seconds=-20.0, detail="set back by hand?")
        )
        store.links.add("w1", LinkEvent(LinkEventKind.HELD, T0, count=1000, detail="timed .."))
    with Store.open(tmp_path / "s.db") as store:
        assert store.links.between("w1", T0, T0 + 1) == [
            LinkEvent(LinkEventKind.CLOCK_STEP, T0, seconds=-20.0, detail="set back by hand?"),
            LinkEvent(LinkEventKind.HELD, T0, count=1000, detail="timed .."),
        ]
