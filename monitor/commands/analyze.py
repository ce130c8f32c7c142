"""`sitbreak analyze FILE...`: classify recordings offline, write epochs and bouts, print a summary.

The samples stream through the same `PostureStream` the service runs live, in bounded chunks, so a
week-long file needs little memory and gives the labels the live service would have given.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from itertools import chain
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from monitor.analysis import RecordingSummary, format_summary, summarize
from monitor.config import load_config
from monitor.core.errors import UserError
from monitor.core.types import CodeArray, EpochBlock, Placement, Posture, PostureCode, SampleBlock
from monitor.pipeline import PipelineSettings, PostureStream
from monitor.progress import Progress
from monitor.recording import CsvFormat, CsvRecording, TimeUnit, Units, estimate_rate
from monitor.reports.daily import runs
from monitor.reports.settings import DEFAULT_MIN_BREAK_S

# The pipeline labels seconds from 2 s windows; below this there is nothing worth summarising.
MIN_RECORDING_S = 10.0

_DESCRIPTION = """\
Classify accelerometer recordings (CSV, optionally .gz) second by second into sit, lie, stand, move,
cycle, non_wear and unknown, exactly as the live service would, and print a summary per file.
For each FILE it writes <name>.epochs.csv (t,iso_time,label: one row per second) and
<name>.bouts.csv (start,end,duration_s,label: maximal runs of one label) into --out-dir.

The file needs a header row. x, y and z columns are found by their usual names (x, acc_x, ax, ...)
or named with --x-column etc. Time comes from a time column (t, time, timestamp, ...: seconds,
or ISO-8601 text) or, without one, from --rate and --start.

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
        help="multiply raw values by this first, e.g. 0.00006103515625 for int16 counts at ±2 g",
    )
    cols.add_argument("--delimiter", default=",", help="field separator (default: ,)")
    timing = parser.add_argument_group("time")
    timing.add_argument("--time-column", metavar="NAME", help="time column (default: found by name)")
    timing.add_argument(
        "--time-unit",
        choices=[u.value for u in TimeUnit],
        default=TimeUnit.S.value,
        help="unit of a numeric time column (default: %(default)s)",
    )
    timing.add_argument(
        "--rate",
        type=float,
        metavar="HZ",
        help="sample rate; without a time column, the samples are 1/HZ apart",
    )
    timing.add_argument(
        "--start",
        metavar="ISO",
        help="time of the first sample for files without a time column (or time zero of a "
        "relative time column), e.g. 2024-03-04T08:00:00+01:00; default 1970-01-01T00:00Z",
    )
    timing.add_argument(
        "--timezone",
        metavar="ZONE",
        default="UTC",
        help="IANA zone for times written without an offset (default: %(default)s)",
    )
    timing.add_argument(
        "--ignore-time-column",
        action="store_true",
        help="use --rate and --start even if a time column exists",
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "--out-dir",
        type=Path,
        default=Path("."),
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
    out.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f'--timezone "{name}": unknown time zone (use an IANA name like Europe/Berlin)'
        ) from None


def _start(text: str | None, tz: tzinfo) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f'--start "{text}": not an ISO-8601 time, e.g. 2024-03-04T08:00:00+01:00') from None
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)


def run(args: argparse.Namespace) -> int:
    tz = _zone(args.timezone)
    settings: PipelineSettings | None = None
    min_break = DEFAULT_MIN_BREAK_S
    if args.config is not None:
        config = load_config(args.config)
        settings, min_break = config.pipeline, config.report.min_break_s
    if args.min_break is not None:
        min_break = args.min_break
    if min_break < 1:
        raise UserError(f"--min-break must be at least 1 s, got {min_break}")
    if not args.scale > 0:
        raise UserError(f"--scale must be above 0, got {args.scale:g}")
    if args.ignore_time_column and args.rate is None:
        raise UserError("--ignore-time-column needs --rate HZ")
    fmt = CsvFormat(
        x=args.x_column,
        y=args.y_column,
        z=args.z_column,
        time=args.time_column,
        time_unit=TimeUnit(args.time_unit),
        units=Units(args.units),
        scale=args.scale,
        rate_hz=args.rate,
        start=_start(args.start, tz),
        tz=tz,
        delimiter=args.delimiter,
        use_time_column=not args.ignore_time_column,
    )
    paths = [Path(f) for f in args.files]
    outputs = _output_names(paths, args.out_dir)
    args.out_dir.mkdir(parents=True, exist_ok=True)
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
        sys.stdout.write(format_summary(result.summary, str(path)))
        sys.stdout.write(f"  wrote          {result.epochs_path}, {result.bouts_path}\n")
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
        if stem in seen:
            raise UserError(
                f"{seen[stem]} and {path} would both write {stem}.epochs.csv; "
                "analyze them in separate runs with different --out-dir"
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
    names = [Posture.from_code(int(c)).value for c in PostureCode]
    if placement is Placement.WRIST:
        # A wrist tells active from inactive, not sitting from standing: say so in the file too.
        names[PostureCode.SIT] = "inactive"
        names[PostureCode.MOVE] = "active"
    return np.array(names, dtype=object)


def _iso(t: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.datetime_as_string(t.astype("datetime64[s]"), unit="s", timezone="UTC")
    return out


class EpochSink:
    """Collects labels (1 byte per second: a week is 600 kB) and streams them to the epochs CSV."""

    def __init__(self, fh: TextIO, placement: Placement) -> None:
        self.fh = fh
        self.names = _label_names(placement)
        self.t0: int | None = None
        self.parts: list[CodeArray] = []
        self.n = 0
        fh.write("t,iso_time,label\n")

    def add(self, block: EpochBlock) -> None:
        if len(block) == 0:
            return
        t0 = round(block.t0)
        if self.t0 is None:
            self.t0 = t0
        expected = self.t0 + self.n
        if t0 > expected:  # the stream promises contiguous epochs; fill defensively rather than shift
            self._append(expected, np.full(t0 - expected, PostureCode.UNKNOWN, dtype=np.uint8))
        self._append(t0, block.labels)

    def _append(self, t0: int, labels: CodeArray) -> None:
        t = np.arange(t0, t0 + labels.shape[0], dtype=np.int64)
        rows = zip(t.tolist(), _iso(t).tolist(), self.names[labels].tolist(), strict=True)
        self.fh.write("".join(f"{a},{b},{c}\n" for a, b, c in rows))
        self.parts.append(labels)
        self.n += int(labels.shape[0])

    def labels(self) -> CodeArray:
        return np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.uint8)


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
        sink.add(stream.feed(block))
        if on_block is not None:
            on_block()
    sink.add(stream.flush())
    return samples, first_t, last_t


@contextlib.contextmanager
def _atomic_text(path: Path) -> Iterator[TextIO]:
    """Write to path.tmp, rename on success; on failure remove it, so no half-written output remains."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="\n") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def analyze_file(
    path: Path,
    fmt: CsvFormat,
    placement: Placement,
    outputs: tuple[Path, Path],
    *,
    min_break_s: int = DEFAULT_MIN_BREAK_S,
    settings: PipelineSettings | None = None,
    progress: bool = True,
) -> FileResult:
    epochs_path, bouts_path = outputs
    with CsvRecording(path, fmt) as rec, Progress(rec.size, path.name, enabled=progress) as bar:
        blocks = rec.blocks()
        first = next(blocks, None)
        if first is None:
            raise UserError(f"{path}: no samples after the header (line {rec.header_line})")
        rate = fmt.rate_hz if fmt.rate_hz is not None else estimate_rate(first.t)
        if rate is None:
            raise UserError(
                f"{path}: too short: {len(first)} sample(s); analyze needs at least {MIN_RECORDING_S:g} s"
            )
        with _atomic_text(epochs_path) as fh:
            sink = EpochSink(fh, placement)
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
                    f"{path}: too short: {span:.1f} s of data ({samples} samples); "
                    f"analyze needs at least {MIN_RECORDING_S:g} s"
                )
    labels = sink.labels()
    t0 = sink.t0 if sink.t0 is not None else int(t_first)
    names = _label_names(placement)
    with _atomic_text(bouts_path) as fh:
        fh.write("start,end,duration_s,label\n")
        for r in runs(t0, labels):
            iso = _iso(np.array([r.start, r.end]))
            fh.write(f"{iso[0]},{iso[1]},{r.duration},{names[r.label.code]}\n")
    return FileResult(summarize(t0, labels, placement, min_break_s), epochs_path, bouts_path, samples, rate)
