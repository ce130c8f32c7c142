"""The batched writer commits epochs, bouts, the open bout and the policy snapshot together."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from monitor.core.types import Bout, Posture, PostureCode
from monitor.store import PolicySnapshot, Store
from monitor.store.writer import StoreWriter

T0 = 1_700_000_000
SIT = int(PostureCode.SIT)


def ones(n: int) -> np.ndarray:
    return np.full(n, SIT, dtype=np.uint8)


def test_commits_every_flush_interval_of_data_time(db_path: Path) -> None:
    with Store.open(db_path) as store:
        writer = StoreWriter(store, "w1", flush_every_s=10)
        for k in range(9):
            writer.add_epochs(T0 + k, ones(1))
            assert not writer.maybe_flush()
        assert store.epochs.count("w1") == 0 and writer.pending_epochs == 9
        writer.add_bouts([Bout(T0 - 5, T0, Posture.STAND)])
        writer.set_open_bout(Bout(T0, T0 + 10, Posture.SIT))
        writer.set_policy(PolicySnapshot(T0 + 10, '{"timer_s": 10}'))
        writer.add_epochs(T0 + 9, ones(1))
        assert writer.maybe_flush()
        assert store.epochs.count("w1") == 10 and writer.pending_epochs == 0
        assert store.bouts.between("w1", T0 - 10, T0 + 10) == [Bout(T0 - 5, T0, Posture.STAND)]
        assert store.bouts.open_bout("w1") == Bout(T0, T0 + 10, Posture.SIT)
        assert store.snapshots.load("w1") == PolicySnapshot(T0 + 10, '{"timer_s": 10}')
        writer.add_epochs(T0 + 10, ones(3))
        assert not writer.maybe_flush()
        # The daemon flushes on shutdown; a gap in the epochs is fine within one flush.
        writer.add_epochs(T0 + 20, ones(2))
        writer.flush()
        assert store.epochs.count("w1") == 15
    with Store.open(db_path) as store:
        state = store.resume("w1", T0 + 22)
        assert state.last_end == T0 + 22 and state.gap is None
        assert state.open_bout_continues
