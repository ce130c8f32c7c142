"""SQLite persistence for the service (I/O edge): epochs, bouts, nudges, events, calibration, outbox.

with Store.open("/var/lib/sitbreak/sitbreak.db") as store:
    store.epochs.write("thigh-1", block.t0, block.labels)
"""

from monitor.store.calibration import Calibration, PolicySnapshot
from monitor.store.db import Database, Migration, StoreError, TransactionError
from monitor.store.events import LinkEvent, PolicyEventRecord
from monitor.store.settings import StoreSettings
from monitor.store.store import PruneCounts, ResumeState, Store
from monitor.store.writer import StoreWriter
from monitor.wearables.events import LinkEventKind

__all__ = [
    "Calibration",
    "Database",
    "LinkEvent",
    "LinkEventKind",
    "Migration",
    "PolicyEventRecord",
    "PolicySnapshot",
    "PruneCounts",
    "ResumeState",
    "Store",
    "StoreError",
    "StoreSettings",
    "StoreWriter",
    "TransactionError",
]
