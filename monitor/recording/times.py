"""The samples' times: where they come from (`TimeKind`), the range analyze handles, which time options
apply to a file, how a time is shown in a message, and the sample rate read from them.

Time options, and why some combinations are refused rather than guessed at:

- A time column of Unix times (numbers from 1e8 s, i.e. 1973, on) or of ISO-8601 text is absolute:
  `start` would shift real times by decades, so it is refused.
- A numeric time column below that is relative (seconds since the recording began): `start` gives its
  time zero (default 1970-01-01T00:00Z).
- Without a time column (or with `use_time_column` False) the samples are 1/rate_hz apart from `start`.
- `time_unit` applies only to a numeric time column and `tz` only to times written without an offset;
  given where they cannot apply, they are refused instead of silently ignored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import numpy as np

from monitor.core.errors import UserError
from monitor.core.types import FloatArray
from monitor.recording.format import CsvFormat

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


def start_time(fmt: CsvFormat) -> float | None:
    """`fmt.start` in Unix seconds (a naive one in `fmt.tz`, else UTC), None when not given; refused
    outside the range analyze handles."""
    start = fmt.start
    if start is None:
        return None
    if start.tzinfo is None:
        start = start.replace(tzinfo=fmt.tz or UTC)
    t = unix_time(start)
    if t is None:
        raise UserError(f"--start {start.isoformat()}: outside {TIME_RANGE_TEXT}, the times analyze handles")
    return t


def kind_of_times(has_time_column: bool, iso_time: bool, tcol: FloatArray) -> TimeKind:
    """What the times are, decided from the first row (`tcol`: its times, empty without a time column)."""
    if not has_time_column:
        return TimeKind.RATE
    if iso_time:
        return TimeKind.ISO
    return TimeKind.UNIX if abs(float(tcol[0])) >= UNIX_TIME_MIN_S else TimeKind.RELATIVE


def check_time_options(
    fmt: CsvFormat,
    time_kind: TimeKind,
    *,
    file: str,
    column: str | None,
    line: int,
    tcol: FloatArray,
    naive_iso_seen: bool,
) -> None:
    """Refuse the time options that cannot apply to times of `time_kind`. `file` and `column` (the time
    column, None without one) are as messages show them; `line` and `tcol` are the first row's number
    and times; `naive_iso_seen` says whether an ISO-8601 time without an offset was read."""
    if fmt.time_unit is not None and time_kind in (TimeKind.ISO, TimeKind.RATE):
        if column is not None:
            what = f'the time column "{column}" holds ISO-8601 text'
        elif not fmt.use_time_column:
            what = "--ignore-time-column sets the time column aside"
        else:
            what = "the file has no time column"
        raise UserError(f"--time-unit applies only to a numeric time column: {what}; leave it out")
    if fmt.start is not None and time_kind in (TimeKind.UNIX, TimeKind.ISO):
        kind = "Unix times" if time_kind is TimeKind.UNIX else "ISO-8601 times"
        raise UserError(
            f'{file}: --start cannot apply: the time column "{column}" holds {kind} (line {line}: '
            f"{show_time(float(tcol[0]))}), which are absolute. --start sets time zero of a relative "
            "time column or the first sample of a file without one: leave it out, or time the samples by "
            "--rate and --start with --ignore-time-column"
        )
    if fmt.tz is not None and not _uses_tz(fmt, time_kind, naive_iso_seen):
        raise UserError(
            "--timezone applies only to times written without an offset (ISO-8601 times in the time "
            "column or --start) and there are none here; the outputs are in UTC whatever it says: "
            "leave it out"
        )


def _uses_tz(fmt: CsvFormat, time_kind: TimeKind, naive_iso_seen: bool) -> bool:
    if fmt.start is not None and fmt.start.tzinfo is None:
        return True
    return time_kind is TimeKind.ISO and naive_iso_seen


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
