"""The time zone reports follow: the configured IANA name, else the system's (reads /etc)."""

from __future__ import annotations

import logging
import os
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.core.errors import UserError

log = logging.getLogger(__name__)

_LOCALTIME = Path("/etc/localtime")
_TIMEZONE_FILE = Path("/etc/timezone")


def _zone_key_from_system() -> str | None:
    env = os.environ.get("TZ", "").lstrip(":")
    if env and not env.startswith("/"):
        return env
    try:
        name = _TIMEZONE_FILE.read_text(encoding="utf-8").strip()
        if name:
            return name
    except OSError:
        pass
    try:
        target = str(_LOCALTIME.resolve())
    except OSError:
        return None
    marker = "/zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else None


def resolve_zone(name: str) -> tzinfo:
    """`name` as a ZoneInfo; empty means the system's zone (UTC, with a warning, if it has none)."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
            raise UserError(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)") from None
    key = _zone_key_from_system()
    if key:
        try:
            return ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
            log.warning("system time zone %r is not in the zone database", key)
    log.warning("no system time zone found; reports use UTC (set timezone in the config)")
    return ZoneInfo("UTC")
