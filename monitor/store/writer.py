"""Batched writes for the live service: one transaction per `flush_every_s` of data time.

A commit costs ~0.5 ms on a Raspberry Pi class CPU; committing every 1 s epoch would spend ~2 CPU-s an
hour on it alone. Buffering 10 s costs at most 10 s of data on SIGKILL, and `Store.resume` records
that span as unknown.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from monitor.core.types import Bout, CodeArray
from monitor.store.calibration import PolicySnapshot
from monitor.store.store import Store

# Data time between commits (see module doc).
DEFAULT_FLUSH_S = 10.0


class StoreWriter:
    """Buffers one wearable's epochs and closed bouts, and commits them together with the open bout
    and the policy snapshot, so that a restart always finds the four consistent with each other."""

    def __init__(self, store: Store, wearable: str, flush_every_s: float = DEFAULT_FLUSH_S) -> None:
        self._store = store
        self.wearable = wearable
        self.flush_every_s = flush_every_s
        self._epochs: list[tuple[float, CodeArray]] = []
        self._bouts: list[Bout] = []
        self._open: Bout | None = None
        self._open_changed = False
        self._policy: PolicySnapshot | None = None
        self._last_flush_t: float | None = None
        self._data_t: float | None = None

    @property
    def pending_epochs(self) -> int:
        return sum(int(labels.size) for _, labels in self._epochs)

    def add_epochs(self, t0: float, labels: CodeArray) -> None:
        if labels.size == 0:
            return
        self._epochs.append((t0, np.array(labels, dtype=np.uint8)))
        self._data_t = t0 + labels.size
        if self._last_flush_t is None:
            self._last_flush_t = t0

    def add_bouts(self, bouts: Iterable[Bout]) -> None:
        self._bouts.extend(bouts)

    def set_open_bout(self, bout: Bout | None) -> None:
        self._open = bout
        self._open_changed = True

    def set_policy(self, snapshot: PolicySnapshot) -> None:
        self._policy = snapshot

    def due(self) -> bool:
        if self._data_t is None or self._last_flush_t is None:
            return bool(self._bouts or self._open_changed or self._policy)
        return self._data_t - self._last_flush_t >= self.flush_every_s

    def maybe_flush(self) -> bool:
        """Flush if `flush_every_s` of data time has passed since the last flush; True if it did."""
        if not self.due():
            return False
        self.flush()
        return True

    def flush(self) -> None:
        """Commit everything buffered in one transaction (nothing if nothing is buffered)."""
        store, wearable = self._store, self.wearable
        with store.atomic():
            for t0, labels in self._epochs:
                store.epochs.write(wearable, t0, labels)
            store.bouts.add(wearable, self._bouts)
            if self._open_changed:
                store.bouts.set_open(wearable, self._open)
            if self._policy is not None:
                store.snapshots.save(wearable, self._policy)
        self._epochs.clear()
        self._bouts.clear()
        self._open_changed = False
        self._policy = None
        self._last_flush_t = self._data_t
