"""`Store`: the service database, one object with a table helper per kind of record."""

from __future__ import annotations

import logging
import math
import os
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType

from monitor.core.links import LinkEvent, LinkEventKind
from monitor.core.records import DecisionRecords
from monitor.core.timefmt import utc_text
from monitor.core.types import Bout, Posture
from monitor.store.bouts import BoutTable
from monitor.store.calibration import Calibration, CalibrationTable, SnapshotTable
from monitor.store.db import Database
from monitor.store.epochs import EpochTable
from monitor.store.events import LinkEventTable, PolicyEventTable
from monitor.store.migrations import MIGRATIONS
from monitor.store.nudges import NudgeTable
from monitor.store.outbox import OUTBOX_MIGRATION, StoreOutbox
from monitor.store.reports import REPORTS_MIGRATION, ReportTable
from monitor.store.settings import StoreSettings
from monitor.store.wearables import WearableIds

log = logging.getLogger(__name__)

SECONDS_PER_DAY = 86_400

ALL_MIGRATIONS = (*MIGRATIONS, OUTBOX_MIGRATION, REPORTS_MIGRATION)


@dataclass(frozen=True, slots=True)
class ResumeState:
    """What the daemon needs to carry on after a restart, for one wearable.

    last_end:     end of the last stored epoch (None on first start).
    gap:          the [start, end) span while nothing was recorded, now stored as `unknown`.
    open_bout:    the bout still running at the last save. If there was a gap it has been closed at its
                  saved end (data stopped) and is returned for information; with no gap it is still open
                  and the pipeline may continue it.
    open_bout_continues: True when `open_bout` is still open.
    behind_s:     how far the data resuming is timed before data already stored (0 when it is not).
                  The caller must not write over that: `WearableService` makes the link hold such data
                  back (see `stored_until`), so it is 0 there.
    """

    last_end: int | None
    gap: tuple[int, int] | None
    open_bout: Bout | None
    open_bout_continues: bool
    calibration: Calibration | None
    behind_s: float = 0.0


@dataclass(frozen=True, slots=True)
class PruneCounts:
    epochs: int
    bouts: int
    nudges: int
    link_events: int
    policy_events: int
    outbox: int


class Store:
    """The sitbreak database. Thread-safe; every write is one transaction unless nested in `atomic()`."""

    def __init__(
        self, settings: StoreSettings | None = None, *, check: bool = True, readonly: bool = False
    ) -> None:
        """`readonly`: for reading reports and exports; needs no write access to the file or its
        directory, and changes nothing (see `Database`)."""
        self.settings = settings or StoreSettings()
        self.db = Database(self.settings.path, ALL_MIGRATIONS, check=check, readonly=readonly)
        self.wearable_ids = WearableIds(self.db)
        self.epochs = EpochTable(self.db, self.wearable_ids)
        self.bouts = BoutTable(self.db, self.wearable_ids)
        self.nudges = NudgeTable(self.db, self.wearable_ids)
        self.links = LinkEventTable(self.db, self.wearable_ids)
        self.policy_events = PolicyEventTable(self.db, self.wearable_ids)
        self.calibration = CalibrationTable(self.db, self.wearable_ids)
        self.snapshots = SnapshotTable(self.db, self.wearable_ids)
        self.outbox = StoreOutbox(self.db)
        self.reports = ReportTable(self.db, self.wearable_ids)

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], retention_days: int | None = None, *, readonly: bool = False
    ) -> Store:
        settings = StoreSettings(path=os.fspath(path))
        if retention_days is not None:
            settings = StoreSettings(path=os.fspath(path), retention_days=retention_days)
        return cls(settings, readonly=readonly)

    @property
    def path(self) -> str:
        return self.settings.path

    def atomic(self) -> AbstractContextManager[sqlite3.Connection]:
        """One transaction across several tables (savepoints when nested)."""
        return self.db.atomic()

    def wearables(self) -> list[str]:
        return self.wearable_ids.names()

    def stored_until(self, wearable: str) -> float | None:
        """The newest data time anything stored for `wearable` refers to, or None before any: the end
        of its last epoch, or its policy snapshot or upright reference when newer (they are saved at
        the newest sample, which epochs trail). Data timed at or before it would overwrite or
        interleave with what is stored (a restart with the host clock behind)."""
        last_end = self.epochs.last_end(wearable)
        snapshot = self.snapshots.load(wearable)
        calibration = self.calibration.load(wearable)
        known = [float(r.ts) for r in (snapshot, calibration) if r is not None]
        if last_end is not None:
            known.append(float(last_end))
        return max(known) if known else None

    def resume(self, wearable: str, now_t: float) -> ResumeState:
        """Pick up after a restart: the time data resumes is `now_t` (data time).

        The span since the last stored epoch becomes `unknown` epochs, an `unknown` bout and a `gap`
        link event, in one transaction, so calling this twice records the gap once. Data resuming
        before what is stored (the host clock behind) records nothing and continues no open bout;
        `behind_s` says by how much. (The policy state is not part of this: the service restores it
        at start, before commands can arrive.)
        """
        now = math.floor(now_t)
        stored = self.stored_until(wearable)
        behind = stored - now_t if stored is not None and stored > now_t else 0.0
        if behind > 0:
            assert stored is not None
            log.warning(
                "%s: data resumes at %s, %.0f s before data already stored up to %s; nothing is "
                "recorded for the downtime",
                wearable,
                utc_text(now_t),
                behind,
                utc_text(stored),
            )
        with self.db.atomic():
            last_end = self.epochs.last_end(wearable)
            open_bout = self.bouts.open_bout(wearable)
            gap: tuple[int, int] | None = None
            if last_end is not None and now > last_end:
                # Never back-fill beyond what retention would keep anyway.
                start = max(last_end, now - self.settings.retention_days * SECONDS_PER_DAY)
                gap = (start, now)
                self.epochs.fill_unknown(wearable, start, now)
                closing = [open_bout] if open_bout is not None else []
                self.bouts.add(wearable, [*closing, Bout(start, now, Posture.UNKNOWN)])
                self.bouts.set_open(wearable, None)
                self.links.add(
                    wearable, LinkEvent(LinkEventKind.GAP, now, seconds=float(now - start), detail="restart")
                )
                log.info("%s: no data for %d s before restart, stored as unknown", wearable, now - start)
            return ResumeState(
                last_end=last_end,
                gap=gap,
                open_bout=open_bout,
                open_bout_continues=open_bout is not None and gap is None and behind == 0,
                calibration=self.calibration.load(wearable),
                behind_s=behind,
            )

    def record_decision(self, wearable: str, records: DecisionRecords) -> None:
        """Keep one policy decision (see `PolicyEvent.records`) in one transaction. An outcome is kept
        only for a nudge the store knows (an answer to a nudge pruned or never sent is just an event)."""
        with self.db.atomic():
            self.policy_events.add(wearable, records.event)
            if records.nudge is not None:
                self.nudges.record(records.nudge)
            outcome = records.outcome
            if outcome is not None and self.nudges.exists(outcome.nudge_id):
                self.nudges.add_outcome(outcome)

    def prune(self, now_t: float) -> PruneCounts:
        """Delete history older than the retention period, in one transaction."""
        cutoff = math.floor(now_t) - self.settings.retention_days * SECONDS_PER_DAY
        with self.db.atomic():
            counts = PruneCounts(
                epochs=self.epochs.prune(cutoff),
                bouts=self.bouts.prune(cutoff),
                nudges=self.nudges.prune(cutoff),
                link_events=self.links.prune(cutoff),
                policy_events=self.policy_events.prune(cutoff),
                outbox=self.outbox.purge(cutoff),
            )
        if counts.epochs:
            log.info("pruned %d epochs older than %d days", counts.epochs, self.settings.retention_days)
        return counts

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
