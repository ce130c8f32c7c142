"""Accelerometer recordings from CSV files, read in bounded chunks as `SampleBlock`s.

A file has one header row naming its columns, then one sample per row; lines starting with `#` and
blank lines are skipped, `.gz` files are decompressed on the fly. Time comes from a time column (seconds,
milliseconds or ISO-8601) or from a sample rate and a start time. Acceleration is converted to g.

Which time options apply to a file, and why the others are refused: `monitor.recording.times`.

Every problem is a `UserError` that names the file, the line and the value where there is one (long values
shortened, control characters escaped), so that a week-long file with one bad row says which row, in one
line. Memory is bounded by the chunk size: lines longer than `MAX_LINE_BYTES` are refused.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from monitor.core.errors import UserError
from monitor.core.types import FloatArray, SampleBlock
from monitor.recording.format import (
    G_MS2,
    TIME_NAMES,
    TIME_SCALE,
    X_NAMES,
    Y_NAMES,
    Z_NAMES,
    CsvFormat,
    TimeUnit,
    Units,
    check_delimiter,
    check_rate,
)
from monitor.recording.lines import LineReader
from monitor.recording.messages import MAX_SHOWN_CHARS, printable, shown, shown_path
from monitor.recording.times import (
    TIME_MAX_S,
    TIME_MIN_S,
    TIME_RANGE_TEXT,
    TimeKind,
    check_time_options,
    kind_of_times,
    show_time,
    start_time,
    unix_time,
)

# Text parsed per chunk: ~2 MiB is ~1 min of 50 Hz samples; keeps memory flat for week-long files.
CHUNK_BYTES = 2 << 20
# A body-worn accelerometer's magnitude hovers around 1 g (9.8 m/s^2). A median this far off in the
# first chunk means the units are wrong, and we say so rather than classify nonsense.
_UNIT_CHECK_LOW_G = 0.3
_UNIT_CHECK_HIGH_G = 3.0
# No worn accelerometer reads more (impact sensors stop at a few hundred g): a larger value is a corrupt
# row, and refusing it keeps every later computation finite in float32.
MAX_ABS_G = 1000.0
# The numbers a field may hold, as NumPy's fast reader accepts them (ASCII digits, no underscores).
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.I)


class CsvRecording:
    """One CSV file. `blocks()` yields its samples; `bytes_read`/`size` drive a progress bar."""

    def __init__(self, path: str | Path, fmt: CsvFormat | None = None) -> None:
        self.path = Path(path)
        self.name = shown_path(self.path)
        self.fmt = fmt if fmt is not None else CsvFormat()
        if self.fmt.rate_hz is not None:
            check_rate(self.fmt.rate_hz)
        elif not self.fmt.use_time_column:
            raise UserError("--ignore-time-column needs --rate HZ")
        if not (math.isfinite(self.fmt.scale) and self.fmt.scale > 0):
            raise UserError(f"--scale must be a finite number above 0, got {self.fmt.scale:g}")
        check_delimiter(self.fmt.delimiter)
        self._start = start_time(self.fmt)
        self._lines = LineReader(self.path, self.name)
        self.size = self._lines.size
        self._pending: list[str] = []  # lines read with the header, not yet parsed
        self._pending_first = 0
        self.iso_time = False  # the time column holds ISO-8601 text (known from the first row)
        self._naive_iso_seen = False
        self.samples = 0
        self.header_line = 0
        self.time_kind = TimeKind.RATE
        try:
            self.columns = self._read_header()
            self.x_col = self._column(self.fmt.x, X_NAMES, "x", "--x-column")
            self.y_col = self._column(self.fmt.y, Y_NAMES, "y", "--y-column")
            self.z_col = self._column(self.fmt.z, Z_NAMES, "z", "--z-column")
            self.time_col = self._time_column()
        except BaseException:
            self.close()
            raise

    @property
    def bytes_read(self) -> int:
        return self._lines.bytes_read

    @property
    def time_column(self) -> str | None:
        """The name of the time column in use, if any, as messages show it."""
        return None if self.time_col is None else self._col_name(self.time_col)

    def close(self) -> None:
        self._lines.close()

    def __enter__(self) -> CsvRecording:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- rows ---------------------------------------------------------------------------------------------

    def _fields(self, line: str, line_no: int) -> list[str]:
        """One row split into fields, quotes honoured, each field stripped of spaces."""
        try:
            return [f.strip() for f in next(csv.reader([line], delimiter=self.fmt.delimiter, strict=True))]
        except csv.Error as exc:
            raise UserError(f"{self.name}:{line_no}: not a CSV row ({exc})") from None

    # -- header -------------------------------------------------------------------------------------------

    def _read_header(self) -> list[str]:
        while True:
            first, lines = self._lines.read_lines(64 << 10)
            if not lines:
                raise UserError(f"{self.name}: empty file: no header row and no samples")
            for i, line in enumerate(lines):
                stripped = line.strip()
                if stripped and not stripped.startswith("#"):
                    self.header_line = first + i
                    self._pending = lines[i + 1 :]
                    self._pending_first = first + i + 1
                    return [c.strip('"').strip() for c in self._fields(stripped, self.header_line)]

    def _present(self) -> str:
        text = printable(", ".join(self.columns))
        return text if len(text) <= 150 else f"{text[:150]}… ({len(self.columns)} columns)"

    def _column(self, wanted: str | None, names: Sequence[str], axis: str, option: str) -> int:
        lowered = [c.lower() for c in self.columns]
        if wanted is not None:
            if wanted in self.columns:
                return self.columns.index(wanted)
            raise UserError(f"{self.name}: no column {shown(wanted)}; columns present: {self._present()}")
        for name in names:
            if name in lowered:
                return lowered.index(name)
        raise UserError(
            f"{self.name}: no {axis} column (looked for {', '.join(names)}); columns present: "
            f"{self._present()}; name it with {option}"
        )

    def _time_column(self) -> int | None:
        if not self.fmt.use_time_column:
            if self.fmt.time is not None:
                raise UserError("--time-column and --ignore-time-column contradict each other: drop one")
            return None
        if self.fmt.time is not None:
            if self.fmt.time in self.columns:
                return self.columns.index(self.fmt.time)
            raise UserError(
                f"{self.name}: no column {shown(self.fmt.time)}; columns present: {self._present()}"
            )
        lowered = [c.lower() for c in self.columns]
        for name in TIME_NAMES:
            if name in lowered:
                return lowered.index(name)
        if self.fmt.rate_hz is None:
            raise UserError(
                f"{self.name}: no time column (looked for {', '.join(TIME_NAMES)}); columns present: "
                f"{self._present()}; give the sample rate with --rate HZ or name it with --time-column"
            )
        return None

    # -- samples ------------------------------------------------------------------------------------------

    def blocks(self, chunk_bytes: int = CHUNK_BYTES) -> Iterator[SampleBlock]:
        """The samples in chunks of about `chunk_bytes` of text, times in Unix seconds, xyz in g."""
        t_offset = self._start if self._start is not None else 0.0
        last_t = -math.inf
        first = True
        while True:
            lines, numbers = self._next_lines(chunk_bytes)
            if not lines:
                return
            xyz, tcol = self._parse(lines, numbers)
            if first:
                self._settle_time_kind(tcol, numbers[0])
            if self.time_col is None:
                assert self.fmt.rate_hz is not None
                index = np.arange(self.samples, self.samples + len(lines), dtype=np.float64)
                t = t_offset + index / self.fmt.rate_hz
            else:
                t = tcol + t_offset if self.time_kind is TimeKind.RELATIVE else tcol
            self._check_times(t, lines, numbers)
            back = np.flatnonzero(np.diff(np.concatenate([[last_t], t])) < 0)
            if back.size:
                i = int(back[0])
                before = last_t if i == 0 else t[i - 1]
                raise UserError(
                    f"{self.name}:{numbers[i]}: time goes backwards ({show_time(t[i])} after "
                    f"{show_time(before)}); sort the file by time"
                )
            last_t = float(t[-1])
            with np.errstate(over="ignore", invalid="ignore"):  # overflow is caught just below
                xyz *= self.fmt.scale * (1.0 / G_MS2 if self.fmt.units is Units.MS2 else 1.0)
                if first:
                    self._check_units(xyz)
                    first = False
            self._check_range(xyz, lines, numbers)
            self.samples += len(lines)
            yield SampleBlock(t, xyz.astype(np.float32))

    def _next_lines(self, chunk_bytes: int) -> tuple[list[str], list[int]]:
        """The next sample rows (comments and blank lines dropped) with their line numbers."""
        lines: list[str] = []
        numbers: list[int] = []
        while not lines:
            if self._pending:
                # The lines read with the header, and a whole chunk after them: the first block is what
                # the rate and the units are judged on, so it should be a full one.
                base, batch = self._pending_first, self._pending + self._lines.read_lines(chunk_bytes)[1]
                self._pending = []
            else:
                base, batch = self._lines.read_lines(chunk_bytes)
                if not batch:
                    break
            stripped = [line.strip() for line in batch]
            numbers = [base + i for i, line in enumerate(stripped) if line and line[0] != "#"]
            lines = [line for line in stripped if line and line[0] != "#"]
        return lines, numbers

    def _settle_time_kind(self, tcol: FloatArray, line: int) -> None:
        """Decide, from the first row, what the times are, and refuse time options that cannot apply."""
        self.time_kind = kind_of_times(self.time_col is not None, self.iso_time, tcol)
        check_time_options(
            self.fmt,
            self.time_kind,
            file=self.name,
            column=self.time_column,
            line=line,
            tcol=tcol,
            naive_iso_seen=self._naive_iso_seen,
        )

    def _parse(self, lines: list[str], numbers: list[int]) -> tuple[FloatArray, FloatArray]:
        cols = [self.x_col, self.y_col, self.z_col]
        numeric_time = self.time_col is not None and not self.iso_time
        if numeric_time:
            assert self.time_col is not None
            cols.append(self.time_col)
        try:
            values = np.loadtxt(
                lines,
                delimiter=self.fmt.delimiter,
                usecols=cols,
                dtype=np.float64,
                ndmin=2,
                quotechar='"',
                comments=None,
            )
        except ValueError:
            values = self._parse_slowly(lines, numbers, cols)
            numeric_time = numeric_time and not self.iso_time
        if values.shape[0] != len(lines):  # pragma: no cover - loadtxt keeps one row per line
            raise UserError(f"{self.name}: could not parse rows {numbers[0]}-{numbers[-1]}")
        bad = ~np.isfinite(values)
        if bad.any():
            row, col = (int(v) for v in np.argwhere(bad)[0])
            text = self._field(lines[row], numbers[row], cols[col])
            what = (
                "too large" if _NUMBER.fullmatch(text) and "n" not in text.lower() else "not a finite number"
            )
            raise UserError(
                f"{self.name}:{numbers[row]}: {self._col_name(cols[col])} = {shown(text)} is {what}"
            )
        xyz = values[:, :3]
        if numeric_time:
            tcol = values[:, 3] * TIME_SCALE[self.fmt.time_unit or TimeUnit.S]
        elif self.time_col is not None:
            tcol = self._parse_iso(lines, numbers)
        else:
            tcol = np.zeros(0)
        return np.ascontiguousarray(xyz), tcol

    def _col_name(self, col: int) -> str:
        return printable(self.columns[col])[:MAX_SHOWN_CHARS]

    def _field(self, line: str, line_no: int, col: int) -> str:
        fields = self._fields(line, line_no)
        return fields[col] if col < len(fields) else ""

    def _parse_slowly(self, lines: list[str], numbers: list[int], cols: list[int]) -> FloatArray:
        """Row by row, to find what the fast parser choked on; switches to ISO times when that is it."""
        out = np.empty((len(lines), len(cols)))
        need = max(cols) + 1
        width = len(self.columns)
        for r, line in enumerate(lines):
            fields = self._fields(line, numbers[r])
            if len(fields) < need:
                raise UserError(
                    f"{self.name}:{numbers[r]}: {len(fields)} fields where the header has {width}: "
                    f"{self._present()}"
                )
            for c, col in enumerate(cols):
                text = fields[col]
                if _NUMBER.fullmatch(text):
                    out[r, c] = float(text)
                    continue
                if col == self.time_col and not self.iso_time and r == 0 and self.samples == 0:
                    # The time column holds ISO-8601 text: parse it as such from now on.
                    self.iso_time = True
                    return self._parse_slowly(lines, numbers, cols[:3])
                raise UserError(
                    f"{self.name}:{numbers[r]}: {self._col_name(col)} = {shown(text)} is not a number"
                )
        return out

    def _parse_iso(self, lines: list[str], numbers: list[int]) -> FloatArray:
        assert self.time_col is not None
        out = np.empty(len(lines))
        tz = self.fmt.tz or UTC
        for r, line in enumerate(lines):
            text = self._field(line, numbers[r], self.time_col)
            try:
                when = datetime.fromisoformat(text)
            except ValueError:
                raise UserError(
                    f"{self.name}:{numbers[r]}: {self._col_name(self.time_col)} = {shown(text)} is not an "
                    "ISO-8601 time (e.g. 2024-03-04T08:00:00.020+01:00) or a number of seconds"
                ) from None
            if when.tzinfo is None:
                when = when.replace(tzinfo=tz)
                self._naive_iso_seen = True
            t = unix_time(when)
            if t is None:
                raise UserError(
                    f"{self.name}:{numbers[r]}: {self._col_name(self.time_col)} = {shown(text)} is outside "
                    f"{TIME_RANGE_TEXT}, the times analyze handles"
                )
            out[r] = t
        return out

    def _check_times(self, t: FloatArray, lines: list[str], numbers: list[int]) -> None:
        """Every time within the range a date can be printed in (and float64 is exact enough)."""
        outside = np.flatnonzero((t < TIME_MIN_S) | (t >= TIME_MAX_S))
        if not outside.size:
            return
        i = int(outside[0])
        if self.time_col is None:
            assert self.fmt.rate_hz is not None
            what = f"--start plus {self.samples + i} samples at {self.fmt.rate_hz:g} Hz"
        else:
            text = shown(self._field(lines[i], numbers[i], self.time_col))
            what = f"{self._col_name(self.time_col)} = {text}"
            if self.fmt.time_unit is not None:
                what += f" {self.fmt.time_unit}"
            if self._start is not None:
                what += " after --start"
        raise UserError(
            f"{self.name}:{numbers[i]}: {what} falls outside {TIME_RANGE_TEXT}, the times analyze handles"
        )

    def _check_range(self, xyz: FloatArray, lines: list[str], numbers: list[int]) -> None:
        big = np.flatnonzero(~(np.abs(xyz) <= MAX_ABS_G).all(axis=1))
        if not big.size:
            return
        row = int(big[0])
        axis = int(np.flatnonzero(~(np.abs(xyz[row]) <= MAX_ABS_G))[0])
        col = (self.x_col, self.y_col, self.z_col)[axis]
        text = shown(self._field(lines[row], numbers[row], col))
        value = f"{float(xyz[row, axis]):.3g} g" if math.isfinite(xyz[row, axis]) else "beyond any number"
        raise UserError(
            f"{self.name}:{numbers[row]}: {self._col_name(col)} = {text} is {value} after --units and "
            f"--scale; a worn accelerometer reads within ±{MAX_ABS_G:g} g: a corrupt row?"
        )

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
            f"{self.name}: the acceleration magnitude is around {median:.3g} g at the start, where a worn "
            f"accelerometer reads about 1 g; {hint}"
        )
