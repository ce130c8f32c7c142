"""Settings for the SQLite store. Pure: no I/O here, `monitor.config` fills it from TOML."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.core.fields import setting

# systemd's StateDirectory=sitbreak makes this directory, owned by the service user.
DEFAULT_PATH = "/var/lib/sitbreak/sitbreak.db"
# 90 days of per-second epochs is about 8 M rows (~120 MB): enough for a season of trends, small
# enough for a Raspberry Pi's SD card.
DEFAULT_RETENTION_DAYS = 90
# A year, so a typo cannot silently keep the database growing without bound.
MAX_RETENTION_DAYS = 366


@dataclass(frozen=True)
class StoreSettings:
    path: str = setting(DEFAULT_PATH, "SQLite database file; created with mode 0600 if missing.")
    retention_days: int = setting(
        DEFAULT_RETENTION_DAYS,
        "Per-second epochs, bouts and events older than this are deleted.",
        unit="d",
        min=1,
        max=MAX_RETENTION_DAYS,
    )
