"""The samples' times: where they come from (`TimeKind`), the range analyze handles, how a time
is shown in a message, and the sample rate read from them."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import numpy as np

from monitor.core.types import FloatArray

# Numeric times from here on are Unix times (1973-03-03 on), not seconds since the recording began: no
# recording is three years long, and no Unix time in a real recording is earlier.
UNIX_TIME_MIN_S = 1e8
# Sample times analyze handles: dates that print as ordinary ISO text, with float64 times still exact to
# a few microseconds.
TIME_MIN_S = datetime(1900, 1, 1, tzinfo=UTC).timestamp()
TIME_MAX_S = datetime(9999, 1, 1, tzinfo=UTC).timestamp()
TIME_RANGE_TEXT = "1900-01-01 to 9999-01-01"


class TimeKind(StrEnum):
    """Where the samples' times come from."""

    UNIX = "unix"  # numeric time column of Unix times
    RELATIVE = "relative"  # numeric time column counting from the recording's start
    ISO = "iso"  # ISO-8601 text
    RATE = "rate"  # no time column: start + index / rate


def unix_time(when: datetime) -> float | None:
    """Seconds since the epoch, or None outside the range analyze handles."""
    try:
        t = when.timestamp()
    except (OverflowError, ValueError, OSError):
        return None
    return t if TIME_MIN_S <= t < TIME_MAX_S else None


def show_time(t: float) -> str:
    if abs(t) >= UNIX_TIME_MIN_S and TIME_MIN_S <= t < TIME_MAX_S:  # a Unix time: show it as one
        return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")
    return f"{t:.3f} s"


def estimate_rate(t: FloatArray) -> float | None:
    """Sample rate from time stamps: the median spacing, robust to gaps and jitter."""
    if t.shape[0] < 2:
        return None
    d = np.diff(t)
    d = d[d > 0]
    if d.size == 0:
        return None
    with np.errstate(over="ignore"):  # a spacing of a denormal: inf, refused by the caller's range
        return float(1.0 / np.median(d))
