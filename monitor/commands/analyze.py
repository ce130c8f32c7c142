"""`sitbreak analyze FILE...`: classify recordings offline, write epochs and bouts, print a summary.

The samples stream through the same `PostureStream` the service runs live, in bounded chunks, so a
week-long file needs little memory and gives the labels the live service would have given. Memory is
bounded by the samples, not by the time they span: a long silence travels as one gap record (the
stream's compact output), is written as one bout and no epoch rows, and enters the summary as runs.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from itertools import chain
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from monitor.analysis import GAP_S, RecordingSummary, RunMerger, SummaryBuilder, format_summary
from monitor.commands.vocabulary import add_quiet
from monitor.config import load_config
from monitor.core.errors import UserError
from monitor.core.types import EpochBlock, Placement, Posture, PostureCode, SampleBlock
from monitor.pipeline import EpochGap, PipelineSettings, PostureStream
from monitor.progress import Progress
from monitor.recording.csv_reader import CsvRecording
from monitor.recording.format import (
    MAX_RATE_HZ,
    MIN_RATE_HZ,
    CsvFormat,
    TimeUnit,
    Units,
    check_rate,
    delimiter_from_option,
)
from monitor.recording.messages import shown, shown_path
from monitor.recording.times import TIME_RANGE_TEXT, TimeKind, estimate_rate, unix_time
from monitor.reports.csvformat import BOUT_COLUMNS, EPOCH_COLUMNS, label_names
from monitor.reports.daily import Run
from monitor.reports.settings import DEFAULT_MIN_BREAK_S

# The pipeline labels seconds from 2 s windows; below this there is nothing worth summarising.
MIN_RECORDING_S = 10.0
# --min-break, as [report] min_break_s in the config.
MAX_MIN_BREAK_S = 600
# --rate beside a time column is checked against the column's own rate; closer than this is the same.
RATE_TOLERANCE = 0.10
# Each block handed to the stream spans at most this much data time. The stream sums silences shorter
# than its LONG_GAP_S (10 min) as empty bins, so a chunk of rows minutes apart would otherwise cost
# memory for its whole span; an hour of bins is well under a megabyte.
FEED_SPAN_S = 3600.0

_DESCRIPTION = f"""\
Classify accelerometer recordings (CSV, optionally .gz) second by second into sit, lie, stand, move,
cycle, non_wear and unknown, exactly as the live service would, and print a summary per file.

The file needs a header row. x, y and z columns are found by their usual names (x, acc_x, ax, ...)
or named with --x-column etc.

time: from a time column (t, time, timestamp, ...; or --time-column) if there is one, else from
--rate and --start:
  - a time column of Unix times (numbers from 1e8 s, i.e. 1973, on; --time-unit for ms or us) or of
    ISO-8601 text is absolute: --start is refused with it (it would shift real times by years);
  - a numeric time column counting from about 0 is relative: --start is its time zero (default
    1970-01-01T00:00Z);
  - without a time column, or with --ignore-time-column, the samples are 1/--rate apart from --start.
  With a time column, the rate is the column's median spacing; --rate, if given, is the nominal rate the
  classifier expects (how many samples a second holds), and a warning says when it differs from the
  column's by more than {100 * RATE_TOLERANCE:.0f} %. --time-unit and --timezone are refused where \
they cannot apply.
  Rates: {MIN_RATE_HZ:g} to {MAX_RATE_HZ:g} Hz; times: {TIME_RANGE_TEXT}.

output: for each FILE, in --out-dir (the same columns as `sitbreak export`),
  <name>.epochs.csv  t,iso_time,label: one row per second, times in UTC, except in gaps: a stretch of
                     unknown of {GAP_S // 60} min or more has no rows (t jumps over it);
  <name>.bouts.csv   start,end,start_t,end_t,duration_s,label: maximal runs of one label, covering the
                     whole recording; a gap is one unknown bout however long.
  t, start_t, end_t are Unix seconds; iso_time, start, end ISO-8601 (2024-03-04T08:00:00Z).

examples:
  sitbreak analyze day.csv
  sitbreak analyze --rate 50 --start 2024-03-04T08:00:00+01:00 --units m/s2 phone.csv
  sitbreak analyze --x-column ax --y-column ay --z-column az --time-column ms --time-unit ms log.csv.gz
  sitbreak analyze --placement wrist --out-dir results/ *.csv
  sitbreak analyze --config /etc/sitbreak/sitbreak.toml day.csv     the service's own settings
  python -m firmware_sim.motion --out day.csv && sitbreak analyze day.csv    (a simulated day)
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="classify recordings offline; write epochs and bouts; print a summary",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="CSV recordings (.csv or .csv.gz)")
    parser.add_argument(
        "--placement",
        choices=[p.value for p in Placement],
        default=Placement.THIGH.value,
        help="where the device was worn (default: %(default)s); wrist measures inactivity only",
    )
    cols = parser.add_argument_group("columns and units")
    cols.add_argument("--x-column", metavar="NAME", help="x acceleration column (default: found by name)")
    cols.add_argument("--y-column", metavar="NAME", help="y acceleration column")
    cols.add_argument("--z-column", metavar="NAME", help="z acceleration column")
    cols.add_argument(
        "--units",
        choices=[u.value for u in Units],
        default=Units.G.value,
        help="acceleration units (default: %(default)s)",
    )
    cols.add_argument(
        "--scale",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help="multiply raw values by this first, e.g. 0.00006103515625 for int16 counts at ±2 g",
    )
    cols.add_argument(
        "--delimiter",
        default=",",
        metavar="CHAR",
        help="field separator, one character (default: ,; tab: \\t)",
    )
    timing = parser.add_argument_group("time (see above for how these combine)")
    timing.add_argument("--time-column", metavar="NAME", help="time column (default: found by name)")
    timing.add_argument(
        "--time-unit",
        choices=[u.value for u in TimeUnit],
        help="unit of a numeric time column (default: s)",
    )
    timing.add_argument(
        "--rate",
        type=float,
        metavar="HZ",
        help="sample rate: the samples are 1/HZ apart without a time column; with one, the nominal rate",
    )
    timing.add_argument(
        "--start",
        metavar="TIME",
        help="time of the first sample (no time column), or time zero of a relative time column, e.g. "
        "2024-03-04T08:00:00+01:00; default 1970-01-01T00:00Z; refused with absolute times",
    )
    timing.add_argument(
        "--timezone",
        metavar="ZONE",
        help="IANA zone for times written without an offset (default: UTC); outputs are in UTC",
    )
    timing.add_argument(
        "--ignore-time-column",
        action="store_true",
        help="time the samples by --rate and --start even if a time column exists",
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "--out-dir",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="where to write the CSV files (default: current directory)",
    )
    out.add_argument(
        "--min-break",
        type=int,
        metavar="S",
        help=f"shortest upright time after sitting counted as a break (default: [report] min_break_s "
        f"of --config, else {DEFAULT_MIN_BREAK_S} s)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="take [pipeline] settings and [report] min_break_s from this sitbreak.toml",
    )
    add_quiet(out, "no progress bar")
    parser.set_defaults(func=run)


def _zone(name: str | None) -> tzinfo | None:
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UserError(
            f"--timezone {shown(name)}: unknown time zone (use an IANA name like Europe/Berlin)"
        ) from None


def _start(text: str | None, tz: tzinfo | None) -> datetime | None:
    """--start as given (a naive time stays naive: the reader knows whether --timezone applies)."""
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(
            f"--start {shown(text)}: not an ISO-8601 time, e.g. 2024-03-04T08:00:00+01:00"
        ) from None
    if unix_time(when if when.tzinfo is not None else when.replace(tzinfo=tz or UTC)) is None:
        raise UserError(f"--start {shown(text)}: outside {TIME_RANGE_TEXT}, the times analyze handles")
    return when


def _min_break(args: argparse.Namespace, configured: int) -> int:
    value = configured if args.min_break is None else args.min_break
    if not 1 <= value <= MAX_MIN_BREAK_S:
        raise UserError(
            f"--min-break must be 1 to {MAX_MIN_BREAK_S} s (as [report] min_break_s), got {shown(str(value))}"
        )
    return int(value)


def _format(args: argparse.Namespace) -> CsvFormat:
    """The reading options, each checked on its own; how they combine is checked against the file."""
    tz = _zone(args.timezone)
    if args.rate is not None:
        check_rate(args.rate)
    if not (math.isfinite(args.scale) and args.scale > 0):
        raise UserError(f"--scale must be a finite number above 0, got {args.scale:g}")
    if args.ignore_time_column and args.rate is None:
        raise UserError("--ignore-time-column needs --rate HZ")
    return CsvFormat(
        x=args.x_column,
        y=args.y_column,
        z=args.z_column,
        time=args.time_column,
        time_unit=TimeUnit(args.time_unit) if args.time_unit is not None else None,
        units=Units(args.units),
        scale=args.scale,
        rate_hz=args.rate,
        start=_start(args.start, tz),
        tz=tz,
        delimiter=delimiter_from_option(args.delimiter),
        use_time_column=not args.ignore_time_column,
    )


def _make_out_dir(path: Path) -> None:
    name = shown_path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UserError(f"--out-dir {name}: exists and is not a folder") from None
    except NotADirectoryError:
        raise UserError(f"--out-dir {name}: part of the path is a file, not a folder") from None
    except OSError as exc:
        raise UserError(f"--out-dir {name}: cannot create the folder: {exc.strerror}") from None
    except ValueError:  # a NUL byte
        raise UserError(f"--out-dir {name}: not a usable folder name") from None


def run(args: argparse.Namespace) -> int:
    settings: PipelineSettings | None = None
    configured = DEFAULT_MIN_BREAK_S
    if args.config is not None:
        config = load_config(args.config)
        settings, configured = config.pipeline, config.report.min_break_s
    min_break = _min_break(args, configured)
    fmt = _format(args)
    paths = [Path(f) for f in args.files]
    outputs = _output_names(paths, args.out_dir)
    _make_out_dir(args.out_dir)
    for i, path in enumerate(paths):
        result = analyze_file(
            path,
            fmt,
            Placement(args.placement),
            outputs[i],
            min_break_s=min_break,
            settings=settings,
            progress=not args.quiet,
        )
        if i:
            sys.stdout.write("\n")
        sys.stdout.write(format_summary(result.summary, shown_path(path)))
        sys.stdout.write(
            f"  wrote          {shown_path(result.epochs_path)}, {shown_path(result.bouts_path)}\n"
        )
        if result.summary.gaps:
            sys.stdout.write(
                f"  note           the epochs file has no rows for the gaps; each is one {Posture.UNKNOWN} "
                "bout in the bouts file\n"
            )
    return 0


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".csv", ".txt"):
        name = name.removesuffix(suffix)
    return name


def _output_names(paths: list[Path], out_dir: Path) -> list[tuple[Path, Path]]:
    seen: dict[str, Path] = {}
    out = []
    for path in paths:
        stem = _stem(path)
        if not stem:
            raise UserError(f"{shown_path(path)}: no file name to name the outputs after")
        if stem in seen:
            raise UserError(
                f"{shown_path(seen[stem])} and {shown_path(path)} would both write "
                f"{shown_path(stem)}.epochs.csv; analyze them in separate runs with different --out-dir"
            )
        seen[stem] = path
        out.append((out_dir / f"{stem}.epochs.csv", out_dir / f"{stem}.bouts.csv"))
    return out


@dataclass(frozen=True, slots=True)
class FileResult:
    summary: RecordingSummary
    epochs_path: Path
    bouts_path: Path
    samples: int
    rate_hz: float


def _label_names(placement: Placement) -> np.ndarray:
    return np.array(label_names(placement), dtype=object)


def _iso(t: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.datetime_as_string(t.astype("datetime64[s]"), unit="s", timezone="UTC")
    return out


_UNKNOWN = int(PostureCode.UNKNOWN)


class EpochSink:
    """Writes the epochs and bouts files as the stream's pieces come, and gathers the summary.

    Holds no label per second: runs of one label go to the bouts file and the summary as they close;
    epoch rows are written at once, except for `unknown`, which waits (as a start time, not rows) until
    its run ends: shorter than GAP_S it gets its rows, a gap gets none.
    """

    def __init__(
        self, epochs: TextIO, bouts: TextIO, placement: Placement, min_break_s: int = DEFAULT_MIN_BREAK_S
    ) -> None:
        self.epochs = epochs
        self.bouts = bouts
        self.names = _label_names(placement)
        self.summary = SummaryBuilder(placement, min_break_s)
        self._runs = RunMerger()
        self.t0: int | None = None
        self._next: int | None = None
        epochs.write(",".join(EPOCH_COLUMNS) + "\n")
        bouts.write(",".join(BOUT_COLUMNS) + "\n")

    def add(self, piece: EpochBlock | EpochGap) -> None:
        if isinstance(piece, EpochGap):
            t0, n, labels = piece.k0, piece.n, None
        else:
            t0, n, labels = round(piece.t0), len(piece), piece.labels
        if n == 0:
            return
        if self._next is None:
            self.t0 = self._next = t0
        elif t0 > self._next:  # the stream promises consecutive pieces; if not, the hole is unknown
            self.add(EpochGap(self._next, t0 - self._next))
        elif t0 < self._next:
            raise RuntimeError(f"epochs from {t0} after epochs up to {self._next}")
        self._next = t0 + n
        if labels is None:
            self._run(Run(t0, t0 + n, Posture.UNKNOWN))
            return
        change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
        starts = [0, *change.tolist()]
        ends = [*change.tolist(), n]
        codes = labels[starts].tolist()
        rows: list[tuple[int, int, int]] = []
        for a, b, code in zip(starts, ends, codes, strict=True):
            self._run(Run(t0 + a, t0 + b, Posture.from_code(code)), rows)
            if code != _UNKNOWN:
                rows.append((t0 + a, t0 + b, code))
        self._write_rows(rows)

    def _run(self, run: Run, rows: list[tuple[int, int, int]] | None = None) -> None:
        """Pass one run on; the run it closes goes to the bouts file, the summary and (if a short
        unknown one) the epoch rows about to be written."""
        closed = self._runs.add(run)
        if closed is not None:
            self._closed(closed, rows)

    def _closed(self, run: Run, rows: list[tuple[int, int, int]] | None) -> None:
        iso = _iso(np.array([run.start, run.end]))
        self.bouts.write(
            f"{iso[0]},{iso[1]},{run.start},{run.end},{run.duration},{self.names[run.label.code]}\n"
        )
        self.summary.add(run)
        if run.label is Posture.UNKNOWN and run.duration < GAP_S:
            pending = (run.start, run.end, _UNKNOWN)
            if rows is None:
                self._write_rows([pending])
            else:
                rows.append(pending)

    def _write_rows(self, rows: list[tuple[int, int, int]]) -> None:
        if not rows:
            return
        t = np.concatenate([np.arange(a, b, dtype=np.int64) for a, b, _ in rows])
        codes = np.concatenate([np.full(b - a, c, dtype=np.uint8) for a, b, c in rows])
        text = zip(t.tolist(), _iso(t).tolist(), self.names[codes].tolist(), strict=True)
        self.epochs.write("".join(f"{a},{b},{c}\n" for a, b, c in text))

    def close(self) -> RecordingSummary:
        """End of the data: the last run is written; returns the summary."""
        last = self._runs.close()
        if last is not None:
            self._closed(last, None)
        return self.summary.result(self.t0)


def _spans(block: SampleBlock, max_span_s: float) -> Iterator[SampleBlock]:
    """The block in pieces each spanning at most max_span_s of data time (one piece when dense)."""
    t = block.t
    if len(block) == 0 or float(t[-1]) - float(t[0]) <= max_span_s:
        yield block
        return
    i = 0
    while i < t.shape[0]:
        j = max(i + 1, int(np.searchsorted(t, t[i] + max_span_s, side="right")))
        yield SampleBlock(t[i:j], block.xyz[i:j])
        i = j


def classify_blocks(
    blocks: Iterable[SampleBlock],
    placement: Placement,
    rate_hz: float,
    sink: EpochSink,
    *,
    settings: PipelineSettings | None = None,
    on_block: Callable[[], None] | None = None,
) -> tuple[int, float, float]:
    """Feed blocks through a PostureStream into the sink; (samples, first t, last t)."""
    stream = PostureStream(placement, rate_hz, settings)
    samples = 0
    first_t = last_t = float("nan")
    for block in blocks:
        if samples == 0 and len(block):
            first_t = float(block.t[0])
        if len(block):
            last_t = float(block.t[-1])
        samples += len(block)
        for part in _spans(block, FEED_SPAN_S):
            for piece in stream.feed_compact(part):
                sink.add(piece)
        if on_block is not None:
            on_block()
    for piece in stream.flush_compact():
        sink.add(piece)
    return samples, first_t, last_t


@contextlib.contextmanager
def _atomic_outputs(paths: tuple[Path, ...]) -> Iterator[list[TextIO]]:
    """Write each path as path.tmp and rename them all on success; on failure remove what this run
    wrote, so no half-written or mismatched outputs remain."""
    tmps = [p.with_name(p.name + ".tmp") for p in paths]
    done: list[Path] = []
    handles: list[TextIO] = []
    try:
        with contextlib.ExitStack() as stack:
            for path, tmp in zip(paths, tmps, strict=True):
                try:
                    handles.append(stack.enter_context(tmp.open("w", encoding="utf-8", newline="\n")))
                except OSError as exc:
                    raise UserError(f"{shown_path(path)}: cannot write: {exc.strerror}") from None
            yield handles
        for path, tmp in zip(paths, tmps, strict=True):
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise UserError(f"{shown_path(path)}: cannot write: {exc.strerror}") from None
            done.append(path)
    except BaseException:
        for leftover in [*tmps, *done]:
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
        raise


def _rate(rec: CsvRecording, fmt: CsvFormat, first: SampleBlock, warn: Callable[[str], None]) -> float:
    """The nominal sample rate: --rate, else the time column's; a clear word when they disagree."""
    name = rec.name
    measured = estimate_rate(first.t) if rec.time_kind is not TimeKind.RATE else None
    if measured is None:
        if fmt.rate_hz is None and len(first) > 1:
            raise UserError(
                f'{name}: the time column "{rec.time_column}" does not advance over the first {len(first)} '
                "samples: check --time-column, or give the rate with --rate HZ and --ignore-time-column"
            )
        if fmt.rate_hz is None:
            raise UserError(
                f"{name}: too short: {len(first)} sample(s); analyze needs at least {MIN_RECORDING_S:g} s"
            )
        return fmt.rate_hz
    column = f'the time column "{rec.time_column}"'
    spacing = f"median spacing {1 / measured:.4g} s over the first {len(first)} samples"
    if fmt.rate_hz is None:
        if not MIN_RATE_HZ <= measured <= MAX_RATE_HZ:
            raise UserError(
                f"{name}: {column} gives {measured:.4g} Hz ({spacing}); analyze needs "
                f"{MIN_RATE_HZ:g} to {MAX_RATE_HZ:g} Hz: check --time-unit, or give the nominal rate with "
                "--rate HZ"
            )
        return measured
    if abs(measured / fmt.rate_hz - 1.0) > RATE_TOLERANCE:
        warn(
            f"{name}: --rate {fmt.rate_hz:g} Hz, but {column} gives {measured:.4g} Hz ({spacing}). The "
            "times come from the column; --rate only sets how many samples a second should hold. Check "
            "--time-unit, or use --ignore-time-column to time the samples by --rate"
        )
    return fmt.rate_hz


def _stderr_warning(text: str) -> None:
    sys.stderr.write(f"sitbreak: warning: {text}\n")


def analyze_file(
    path: Path,
    fmt: CsvFormat,
    placement: Placement,
    outputs: tuple[Path, Path],
    *,
    min_break_s: int = DEFAULT_MIN_BREAK_S,
    settings: PipelineSettings | None = None,
    progress: bool = True,
    warn: Callable[[str], None] = _stderr_warning,
) -> FileResult:
    epochs_path, bouts_path = outputs
    with CsvRecording(path, fmt) as rec, Progress(rec.size, shown_path(path.name), enabled=progress) as bar:
        blocks = rec.blocks()
        first = next(blocks, None)
        if first is None:
            raise UserError(f"{rec.name}: no samples after the header (line {rec.header_line})")

        def warn_clear(text: str) -> None:
            bar.close()  # the warning gets its own line; the bar redraws below it
            warn(text)

        rate = _rate(rec, fmt, first, warn_clear)
        try:
            with _atomic_outputs(outputs) as (epochs_fh, bouts_fh):
                sink = EpochSink(epochs_fh, bouts_fh, placement, min_break_s)
                samples, t_first, t_last = classify_blocks(
                    chain([first], blocks),
                    placement,
                    rate,
                    sink,
                    settings=settings,
                    on_block=lambda: bar.update(rec.bytes_read),
                )
                span = t_last - t_first + 1.0 / rate
                if span < MIN_RECORDING_S:
                    raise UserError(
                        f"{rec.name}: too short: {span:.1f} s of data ({samples} samples); "
                        f"analyze needs at least {MIN_RECORDING_S:g} s"
                    )
                summary = sink.close()
        except OSError as exc:  # writing the results: the reader reports its own problems as UserError
            raise UserError(
                f"{shown_path(epochs_path.parent)}: cannot write the results: {exc.strerror or exc}"
            ) from None
    return FileResult(summary, epochs_path, bouts_path, samples, rate)
