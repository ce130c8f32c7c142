"""SQLite persistence for the service (I/O edge): epochs, bouts, nudges, events, calibration, outbox.

with Store.open("/var/lib/sitbreak/sitbreak.db") as store:
    store.epochs.write("thigh-1", block.t0, block.labels)
"""

from monitor.store.calibration import Calibration, SavedPolicy
from monitor.store.db import Database, Migration, StoreError, TransactionError, storage_problem
from monitor.store.settings import StoreSettings
from monitor.store.store import PruneCounts, ResumeState, Store

__all__ = [
    "Calibration",
    "Database",
    "Migration",
    "PruneCounts",
    "ResumeState",
    "SavedPolicy",
    "Store",
    "StoreError",
    "StoreSettings",
    "TransactionError",
    "storage_problem",
]
