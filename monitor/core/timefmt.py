"""Data time as text: one function per audience, so every message and page writes a time alike.

Data time is float seconds since the Unix epoch (UTC) everywhere inside the service.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, tzinfo


def iso_time(t: float, tz: tzinfo | None = None) -> str:
    """ISO-8601 with the zone's offset, whole seconds, in `tz` (default: the machine's local zone):
    what MQTT payloads, JSON reports and exports carry.

    >>> iso_time(0.0, UTC)
    '1970-01-01T00:00:00+00:00'
    """
    moment = datetime.fromtimestamp(t, tz=UTC)
    local = moment.astimezone(tz) if tz is not None else moment.astimezone()
    return local.isoformat(timespec="seconds")


def utc_text(t: float) -> str:
    """A data time for a log line, in UTC: the host's local zone may itself be what is wrong."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))
