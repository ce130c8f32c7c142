"""How to read a CSV recording (`CsvFormat`) and the checks on its options: units and scale, the column
names looked up when none is given, the field delimiter, the sample rate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from monitor.core.errors import UserError
from monitor.recording.messages import shown

# Standard gravity: m/s^2 per g.
G_MS2 = 9.80665
# Column names tried, in order, when the user names none.
X_NAMES = ("x", "acc_x", "ax", "accel_x", "accx", "x_g")
Y_NAMES = ("y", "acc_y", "ay", "accel_y", "accy", "y_g")
Z_NAMES = ("z", "acc_z", "az", "accel_z", "accz", "z_g")
TIME_NAMES = ("t", "time", "timestamp", "time_s", "datetime", "ts")
# Sample rates analyze accepts, given or read from the times: the 2 s windows need samples, and beyond
# 10 kHz a time column in the wrong unit is far more likely than a real device.
MIN_RATE_HZ = 1.0
MAX_RATE_HZ = 10_000.0
# Characters that are part of numbers or of the format itself cannot separate fields.
_BAD_DELIMITERS = frozenset('0123456789.+-eE"#\r\n')


class Units(StrEnum):
    G = "g"
    MS2 = "m/s2"


class TimeUnit(StrEnum):
    S = "s"
    MS = "ms"
    US = "us"


TIME_SCALE = {TimeUnit.S: 1.0, TimeUnit.MS: 1e-3, TimeUnit.US: 1e-6}


def delimiter_from_option(text: str) -> str:
    """The field separator from --delimiter: one character; `\\t` or `tab` for a tab."""
    delimiter = "\t" if text in ("\\t", "tab", "TAB") else text
    check_delimiter(delimiter)
    return delimiter


def check_delimiter(text: str) -> None:
    if len(text) != 1:
        raise UserError(f"--delimiter {shown(text)}: give one character, e.g. , or ; (\\t or tab for a tab)")
    if text in _BAD_DELIMITERS:
        raise UserError(
            f"--delimiter {shown(text)}: cannot separate fields, it is part of numbers or of the CSV format"
        )


def check_rate(rate_hz: float, option: str = "--rate") -> None:
    if rate_hz <= 0:
        raise UserError(f"{option} must be above 0 Hz, got {rate_hz:g}")
    if not MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ:  # also NaN
        raise UserError(f"{option} must be between {MIN_RATE_HZ:g} and {MAX_RATE_HZ:g} Hz, got {rate_hz:g}")


@dataclass(frozen=True)
class CsvFormat:
    """How to read a CSV recording. Column names of None are looked up among the usual names.

    `time_unit` and `tz` of None mean "not given" (seconds, UTC): given, they must apply to the file.
    """

    x: str | None = None
    y: str | None = None
    z: str | None = None
    time: str | None = None
    time_unit: TimeUnit | None = None
    units: Units = Units.G
    scale: float = 1.0  # raw value * scale is in `units` (e.g. 1/16384 for int16 counts at +-2 g)
    rate_hz: float | None = None
    start: datetime | None = None  # first sample (rate-only files) or time zero of a relative time column
    tz: tzinfo | None = None  # for ISO times without an offset, and a naive `start`
    delimiter: str = ","
    use_time_column: bool = True  # False: ignore any time column, use rate_hz and start
