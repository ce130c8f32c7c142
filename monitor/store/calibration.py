"""Per-wearable state that must outlive a restart: the learned upright reference and the policy's
own snapshot (so the sitting timer resumes)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor.store.db import Database
from monitor.store.wearables import WearableIds


@dataclass(frozen=True, slots=True)
class Calibration:
    """The learned upright thigh direction (unit gravity vector in device axes) and when."""

    ts: float
    vector: tuple[float, float, float]
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SavedPolicy:
    """The policy's saved state, opaque JSON text owned by `monitor.nudges`."""

    ts: float
    state: str


class CalibrationTable:
    def __init__(self, db: Database, ids: WearableIds) -> None:
        self._db = db
        self._ids = ids

    def save(self, wearable: str, calibration: Calibration) -> None:
        x, y, z = (float(v) for v in calibration.vector)
        with self._db.atomic() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO calibration (wid, ts, x, y, z, detail) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    self._ids.get(wearable),
                    calibration.ts,
                    x,
                    y,
                    z,
                    json.dumps(dict(calibration.detail), sort_keys=True),
                ),
            )

    def load(self, wearable: str) -> Calibration | None:
        wid = self._ids.find(wearable)
        if wid is None:
            return None
        row = self._db.query_one("SELECT ts, x, y, z, detail FROM calibration WHERE wid = ?", (wid,))
        return None if row is None else Calibration(row[0], (row[1], row[2], row[3]), json.loads(row[4]))


class SnapshotTable:
    def __init__(self, db: Database, ids: WearableIds) -> None:
        self._db = db
        self._ids = ids

    def save(self, wearable: str, snapshot: SavedPolicy) -> None:
        """Replace the wearable's snapshot. `state` must be JSON text (checked, so a bad one fails here)."""
        json.loads(snapshot.state)
        with self._db.atomic() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO policy_snapshots (wid, ts, state) VALUES (?, ?, ?)",
                (self._ids.get(wearable), snapshot.ts, snapshot.state),
            )

    def load(self, wearable: str) -> SavedPolicy | None:
        wid = self._ids.find(wearable)
        if wid is None:
            return None
        row = self._db.query_one("SELECT ts, state FROM policy_snapshots WHERE wid = ?", (wid,))
        return None if row is None else SavedPolicy(row[0], row[1])
