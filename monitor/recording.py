"""Accelerometer recordings from CSV files, read in bounded chunks as `SampleBlock`s.

A file has one header row naming its columns, then one sample per row; lines starting with `#` and
blank lines are skipped, `.gz` files are decompressed on the fly. Time comes from a time column (seconds,
milliseconds or ISO-8601) or from a sample rate and a start time. Acceleration is converted to g.

Every problem is a `UserError` that names the file, the line and the value where there is one, so that
a week-long file with one bad row says which row.
"""

from __future__ import annotations

import gzip
import math
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

import numpy as np

from monitor.core.errors import UserError
from monitor.core.types import FloatArray, SampleBlock

# Standard gravity: m/s^2 per g.
G_MS2 = 9.80665
# Text parsed per chunk: ~2 MiB is ~1 min of 50 Hz samples; keeps memory flat for week-long files.
CHUNK_BYTES = 2 << 20
# Column names tried, in order, when the user names none.
X_NAMES = ("x", "acc_x", "ax", "accel_x", "accx", "x_g")
Y_NAMES = ("y", "acc_y", "ay", "accel_y", "accy", "y_g")
Z_NAMES = ("z", "acc_z", "az", "accel_z", "accz", "z_g")
TIME_NAMES = ("t", "time", "timestamp", "time_s", "datetime", "ts")
# A body-worn accelerometer's magnitude hovers around 1 g (9.8 m/s^2). A median this far off in the
# first chunk means the units are wrong, and we say so rather than classify nonsense.
_UNIT_CHECK_LOW_G = 0.3
_UNIT_CHECK_HIGH_G = 3.0


class Units(StrEnum):
    G = "g"
    MS2 = "m/s2"


class TimeUnit(StrEnum):
    S = "s"
    MS = "ms"
    US = "us"


_TIME_SCALE = {TimeUnit.S: 1.0, TimeUnit.MS: 1e-3, TimeUnit.US: 1e-6}


@dataclass(frozen=True)
class CsvFormat:
    """How to read a CSV recording. Column names of None are looked up among the usual names."""

    x: str | None = None
    y: str | None = None
    z: str | None = None
    time: str | None = None
    time_unit: TimeUnit = TimeUnit.S
    units: Units = Units.G
    scale: float = 1.0  # raw value * scale is in `units` (e.g. 1/16384 for int16 counts at +-2 g)
    rate_hz: float | None = None
    start: datetime | None = None  # first sample (rate-only files) or time zero of a relative time column
    tz: tzinfo = UTC  # for ISO times without an offset, and a naive `start`
    delimiter: str = ","
    use_time_column: bool = True  # False: ignore any time column, use rate_hz and start


def _open(path: Path) -> tuple[BinaryIO, BinaryIO]:
    """The file and the byte stream to read lines from (decompressed for .gz)."""
    try:
        raw: BinaryIO = path.open("rb")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a CSV file") from None
    except PermissionError:
        raise UserError(f"{path}: permission denied") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    if path.suffix == ".gz":
        return raw, typing.cast(BinaryIO, gzip.GzipFile(fileobj=raw, mode="rb"))
    return raw, raw


class CsvRecording:
    """One CSV file. `blocks()` yields its samples; `bytes_read`/`size` drive a progress bar."""

    def __init__(self, path: str | Path, fmt: CsvFormat | None = None) -> None:
        self.path = Path(path)
        self.fmt = fmt if fmt is not None else CsvFormat()
        if self.fmt.rate_hz is not None and not self.fmt.rate_hz > 0:
            raise UserError(f"--rate must be above 0 Hz, got {self.fmt.rate_hz:g}")
        self._raw, self._bytes = _open(self.path)
        self.size = self._stat_size()
        self._line_no = 0
        self.samples = 0
        self.iso_time = False
        try:
            self.columns = self._read_header()
            self.x_col = self._column(self.fmt.x, X_NAMES, "x", "--x-column")
            self.y_col = self._column(self.fmt.y, Y_NAMES, "y", "--y-column")
            self.z_col = self._column(self.fmt.z, Z_NAMES, "z", "--z-column")
            self.time_col = self._time_column()
        except BaseException:
            self.close()
            raise

    def _stat_size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    @property
    def bytes_read(self) -> int:
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return self.size

    def close(self) -> None:
        self._bytes.close()
        self._raw.close()

    def __enter__(self) -> CsvRecording:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- header -------------------------------------------------------------------------------------------

    def _read_bytes(self, hint: int) -> list[bytes]:
        try:
            return self._bytes.readlines(hint) if hint else [self._bytes.readline()]
        except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
            raise UserError(f"{self.path}: cannot read: {exc}") from None

    def _decode(self, batch: list[bytes], first_line: int) -> list[str]:
        try:
            # One decode for the whole batch; lines end in b"\n" (the last maybe not), so splitting on
            # "\n" gives back exactly the batch's lines.
            lines = b"".join(batch).decode("utf-8").split("\n")
            return lines[: len(batch)]
        except UnicodeDecodeError:
            for i, b in enumerate(batch):
                try:
                    b.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise UserError(
                        f"{self.path}:{first_line + i}: not UTF-8 text (byte {exc.start + 1} of the line)"
                    ) from None
            raise  # pragma: no cover - the loop finds the line that failed as a whole

    def _readline(self) -> str | None:
        batch = self._read_bytes(0)
        if not batch[0]:
            return None
        line = self._decode(batch, self._line_no + 1)[0]
        if self._line_no == 0:
            line = line.removeprefix("\ufeff")  # spreadsheet exports often start with a byte-order mark
        self._line_no += 1
        return line

    def _read_header(self) -> list[str]:
        while True:
            line = self._readline()
            if line is None:
                raise UserError(f"{self.path}: empty file: no header row and no samples")
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                break
        self.header_line = self._line_no
        return [c.strip().strip('"').strip() for c in stripped.split(self.fmt.delimiter)]

    def _present(self) -> str:
        return ", ".join(self.columns)

    def _column(self, wanted: str | None, names: Sequence[str], axis: str, option: str) -> int:
        lowered = [c.lower() for c in self.columns]
        if wanted is not None:
            if wanted in self.columns:
                return self.columns.index(wanted)
            raise UserError(f'{self.path}: no column "{wanted}"; columns present: {self._present()}')
        for name in names:
            if name in lowered:
                return lowered.index(name)
        raise UserError(
            f"{self.path}: no {axis} column (looked for {', '.join(names)}); columns present: "
            f"{self._present()}; name it with {option}"
        )

    def _time_column(self) -> int | None:
        if not self.fmt.use_time_column:
            return None
        if self.fmt.time is not None:
            if self.fmt.time in self.columns:
                return self.columns.index(self.fmt.time)
            raise UserError(f'{self.path}: no column "{self.fmt.time}"; columns present: {self._present()}')
        lowered = [c.lower() for c in self.columns]
        for name in TIME_NAMES:
            if name in lowered:
                return lowered.index(name)
        if self.fmt.rate_hz is None:
            raise UserError(
                f"{self.path}: no time column (looked for {', '.join(TIME_NAMES)}); columns present: "
                f"{self._present()}; give the sample rate with --rate HZ or name it with --time-column"
            )
        return None

    # -- samples ------------------------------------------------------------------------------------------

    def blocks(self, chunk_bytes: int = CHUNK_BYTES) -> Iterator[SampleBlock]:
        """The samples in chunks of about `chunk_bytes` of text, times in Unix seconds, xyz in g."""
        start = self.fmt.start
        if start is not None and start.tzinfo is None:
            start = start.replace(tzinfo=self.fmt.tz)
        t_offset = start.timestamp() if start is not None else 0.0
        last_t = -math.inf
        first = True
        while True:
            lines, numbers = self._next_lines(chunk_bytes)
            if not lines:
                return
            xyz, tcol = self._parse(lines, numbers)
            if self.time_col is None:
                assert self.fmt.rate_hz is not None
                t = (
                    t_offset
                    + np.arange(self.samples, self.samples + len(lines), dtype=np.float64) / self.fmt.rate_hz
                )
            else:
                t = tcol + t_offset if not self.iso_time else tcol
                back = np.flatnonzero(np.diff(np.concatenate([[last_t], t])) < 0)
                if back.size:
                    i = int(back[0])
                    before = last_t if i == 0 else t[i - 1]
                    raise UserError(
                        f"{self.path}:{numbers[i]}: time goes backwards ({_show_t(t[i])} after "
                        f"{_show_t(before)}); sort the file by time"
                    )
                last_t = float(t[-1])
            xyz *= self.fmt.scale * (1.0 / G_MS2 if self.fmt.units is Units.MS2 else 1.0)
            if first:
                self._check_units(xyz)
                first = False
            self.samples += len(lines)
            yield SampleBlock(t, xyz.astype(np.float32))

    def _next_lines(self, chunk_bytes: int) -> tuple[list[str], list[int]]:
        """The next sample rows (comments and blank lines dropped) with their line numbers."""
        lines: list[str] = []
        numbers: list[int] = []
        while not lines:
            raw = self._read_bytes(chunk_bytes)
            if not raw:
                break
            base = self._line_no + 1
            batch = self._decode(raw, base)
            self._line_no += len(batch)
            stripped = [line.strip() for line in batch]
            numbers = [base + i for i, line in enumerate(stripped) if line and line[0] != "#"]
            lines = [line for line in stripped if line and line[0] != "#"]
        return lines, numbers

    def _parse(self, lines: list[str], numbers: list[int]) -> tuple[FloatArray, FloatArray]:
        cols = [self.x_col, self.y_col, self.z_col]
        numeric_time = self.time_col is not None and not self.iso_time
        if numeric_time:
            assert self.time_col is not None
            cols.append(self.time_col)
        try:
            values = np.loadtxt(
                lines, delimiter=self.fmt.delimiter, usecols=cols, dtype=np.float64, ndmin=2, quotechar='"'
            )
        except ValueError:
            values = self._parse_slowly(lines, numbers, cols)
            numeric_time = numeric_time and not self.iso_time
        if values.shape[0] != len(lines):  # pragma: no cover - loadtxt keeps one row per line
            raise UserError(f"{self.path}: could not parse rows {numbers[0]}-{numbers[-1]}")
        bad = ~np.isfinite(values)
        if bad.any():
            row, col = (int(v) for v in np.argwhere(bad)[0])
            shown = _field(lines[row], cols[col], self.fmt.delimiter)
            raise UserError(
                f"{self.path}:{numbers[row]}: {self.columns[cols[col]]} = {shown} is not a finite number"
            )
        xyz = values[:, :3]
        if numeric_time:
            tcol = values[:, 3] * _TIME_SCALE[self.fmt.time_unit]
        elif self.time_col is not None:
            tcol = self._parse_iso(lines, numbers)
        else:
            tcol = np.zeros(0)
        return np.ascontiguousarray(xyz), tcol

    def _parse_slowly(self, lines: list[str], numbers: list[int], cols: list[int]) -> FloatArray:
        """Row by row, to find what the fast parser choked on; switches to ISO times when that is it."""
        out = np.empty((len(lines), len(cols)))
        width = len(self.columns)
        for r, line in enumerate(lines):
            fields = line.split(self.fmt.delimiter)
            if len(fields) < width:
                raise UserError(
                    f"{self.path}:{numbers[r]}: {len(fields)} fields where the header has {width}: "
                    f"{self._present()}"
                )
            for c, col in enumerate(cols):
                text = fields[col].strip().strip('"')
                try:
                    out[r, c] = float(text)
                except ValueError:
                    if col == self.time_col and not self.iso_time and r == 0 and self.samples == 0:
                        # The time column holds ISO-8601 text: parse it as such from now on.
                        self.iso_time = True
                        return self._parse_slowly(lines, numbers, cols[:3])
                    raise UserError(
                        f"{self.path}:{numbers[r]}: {self.columns[col]} = {_quote(text)} is not a number"
                    ) from None
        return out

    def _parse_iso(self, lines: list[str], numbers: list[int]) -> FloatArray:
        assert self.time_col is not None
        out = np.empty(len(lines))
        for r, line in enumerate(lines):
            text = line.split(self.fmt.delimiter)[self.time_col].strip().strip('"')
            try:
                when = datetime.fromisoformat(text)
            except ValueError:
                raise UserError(
                    f"{self.path}:{numbers[r]}: {self.columns[self.time_col]} = {_quote(text)} is not an "
                    "ISO-8601 time (e.g. 2024-03-04T08:00:00.020+01:00) or a number of seconds"
                ) from None
            if when.tzinfo is None:
                when = when.replace(tzinfo=self.fmt.tz)
            out[r] = when.timestamp()
        return out

    def _check_units(self, xyz: FloatArray) -> None:
        median = float(np.median(np.linalg.norm(xyz, axis=1)))
        if _UNIT_CHECK_LOW_G <= median <= _UNIT_CHECK_HIGH_G:
            return
        if self.fmt.units is Units.G and 0.3 * G_MS2 <= median <= 3.0 * G_MS2 and self.fmt.scale == 1.0:
            hint = "these look like m/s²: pass --units m/s2"
        elif self.fmt.units is Units.MS2 and median * G_MS2 <= _UNIT_CHECK_HIGH_G and self.fmt.scale == 1.0:
            hint = "these look like g: pass --units g"
        else:
            hint = "check --units and --scale"
        raise UserError(
            f"{self.path}: the acceleration magnitude is around {median:.3g} g at the start, where a worn "
            f"accelerometer reads about 1 g; {hint}"
        )


def _quote(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def _field(line: str, col: int, delimiter: str) -> str:
    fields = line.split(delimiter)
    return _quote(fields[col].strip()) if col < len(fields) else "(missing)"


def _show_t(t: float) -> str:
    if t > 1e8:  # after 1973: a Unix time, show it as one
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
    return float(1.0 / np.median(d))
