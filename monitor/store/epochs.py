"""Per-second posture epochs: (wearable, t, label code), written one block per transaction."""

from __future__ import annotations

from itertools import chain, repeat
from typing import Protocol

import numpy as np

from monitor.core.records import LabelSpan
from monitor.core.types import CodeArray, PostureCode
from monitor.store.db import Database
from monitor.store.wearables import WearableIds

_MAX_CODE = max(PostureCode)


class EpochRun(Protocol):
    """What `monitor.pipeline.EpochBlock` offers: codes for consecutive seconds from t0."""

    @property
    def t0(self) -> float: ...

    @property
    def labels(self) -> CodeArray: ...


def _whole_second(t: float, what: str) -> int:
    if t != int(t):
        raise ValueError(f"{what} must be a whole second of data time, got {t!r}")
    return int(t)


class EpochTable:
    def __init__(self, db: Database, ids: WearableIds) -> None:
        self._db = db
        self._ids = ids

    def write(self, wearable: str, t0: float, labels: CodeArray) -> int:
        """Store labels for [t0, t0 + len) in one transaction; a second stored again is replaced."""
        start = _whole_second(t0, "t0")
        if labels.size == 0:
            return 0
        if labels.ndim != 1 or int(labels.max()) > _MAX_CODE:
            raise ValueError(f"labels must be 1-D PostureCode values 0..{_MAX_CODE}")
        with self._db.atomic() as conn:
            wid = self._ids.get(wearable)
            rows = zip(repeat(wid), range(start, start + labels.size), labels.tolist(), strict=False)
            conn.executemany("INSERT OR REPLACE INTO epochs (wid, t, label) VALUES (?, ?, ?)", rows)
        return int(labels.size)

    def write_block(self, wearable: str, block: EpochRun) -> int:
        return self.write(wearable, block.t0, block.labels)

    def fill_unknown(self, wearable: str, start: int, end: int) -> int:
        """Mark [start, end) unknown where nothing is stored yet; return seconds marked."""
        if end <= start:
            return 0
        code = int(PostureCode.UNKNOWN)
        with self._db.atomic() as conn:
            wid = self._ids.get(wearable)
            rows = zip(repeat(wid), range(start, end), repeat(code), strict=False)
            before = conn.total_changes
            conn.executemany("INSERT OR IGNORE INTO epochs (wid, t, label) VALUES (?, ?, ?)", rows)
            return conn.total_changes - before

    def read(self, wearable: str, start: int, end: int) -> LabelSpan:
        """Labels for [start, end); seconds never stored come back as UNKNOWN."""
        n = max(0, end - start)
        labels = np.full(n, PostureCode.UNKNOWN, dtype=np.uint8)
        wid = self._ids.find(wearable)
        if wid is not None and n:
            # Flattened straight into NumPy row by row: a week is ~600 k rows, and a list of row
            # tuples costs more than the query itself and raises the resident size for good.
            flat = self._db.query_rows(
                "SELECT t - ?, label FROM epochs WHERE wid = ? AND t >= ? AND t < ?",
                (start, wid, start, end),
                lambda rows: np.fromiter(chain.from_iterable(rows), dtype=np.int64),
            )
            labels[flat[0::2]] = flat[1::2]
        return LabelSpan(start, labels)

    def rows(self, wearable: str, start: int, end: int) -> list[tuple[int, int]]:
        """The stored (t, label code) pairs in [start, end), in time order; gaps are simply absent."""
        wid = self._ids.find(wearable)
        if wid is None:
            return []
        return [
            (int(t), int(label))
            for t, label in self._db.query(
                "SELECT t, label FROM epochs WHERE wid = ? AND t >= ? AND t < ? ORDER BY t", (wid, start, end)
            )
        ]

    def last_end(self, wearable: str) -> int | None:
        """End of the last stored epoch (its t + 1), or None before any."""
        wid = self._ids.find(wearable)
        if wid is None:
            return None
        row = self._db.query_one("SELECT max(t) FROM epochs WHERE wid = ?", (wid,))
        return None if row[0] is None else int(row[0]) + 1

    def first_t(self, wearable: str) -> int | None:
        wid = self._ids.find(wearable)
        if wid is None:
            return None
        row = self._db.query_one("SELECT min(t) FROM epochs WHERE wid = ?", (wid,))
        return None if row[0] is None else int(row[0])

    def count(self, wearable: str) -> int:
        wid = self._ids.find(wearable)
        if wid is None:
            return 0
        return int(self._db.query_one("SELECT count(*) FROM epochs WHERE wid = ?", (wid,))[0])

    def prune(self, before: int) -> int:
        return self._db.execute("DELETE FROM epochs WHERE t < ?", (before,))
