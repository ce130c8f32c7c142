"""`sitbreak export`: epochs and bouts for a range of local days as CSV files."""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from monitor.commands.report import Source, add_source_arguments, open_source, pick_wearables
from monitor.core.errors import UserError
from monitor.core.timefmt import iso_time
from monitor.core.types import Posture
from monitor.reports.days import day_bounds

_HELP = "write epochs and bouts for a date range as CSV"
_DESCRIPTION = """\
Write the per-second posture epochs and the bouts of each wearable for the local days FROM to TO
(both included) as CSV: epochs_<wearable>_<from>_<to>.csv (time, t, posture) and
bouts_<wearable>_<from>_<to>.csv (start, end, duration_s, posture). Times are ISO-8601 in the
configured time zone; t is seconds since the Unix epoch. Seconds never recorded are left out.

examples:
  sitbreak export --from 2026-11-01 --to 2026-11-30 --out ~/sitbreak-november
  sitbreak export --from 2026-11-24 --to 2026-11-24 --wearable thigh --db ./sitbreak.db
"""

EPOCH_HEADER = ("time", "t", "posture")
BOUT_HEADER = ("start", "end", "start_t", "end_t", "duration_s", "posture")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export", help=_HELP, description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--from", dest="first", required=True, metavar="DATE", help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="last", required=True, metavar="DATE", help="last day (included)")
    parser.add_argument("--out", default=".", metavar="DIR", help="folder for the CSV files (default: .)")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    add_source_arguments(parser)
    parser.set_defaults(func=run)


def _date(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option} {value!r}: use YYYY-MM-DD") from None


def _progress(stream: TextIO, enabled: bool, text: str) -> None:
    if enabled:
        stream.write(f"\r{text}\033[K")
        stream.flush()


def export(
    source: Source, wearable: str, first: date, last: date, out: Path, *, progress: bool
) -> tuple[Path, Path]:
    tz = source.tz
    tag = f"{wearable}_{first.isoformat()}_{last.isoformat()}"
    epochs_path, bouts_path = out / f"epochs_{tag}.csv", out / f"bouts_{tag}.csv"
    start = day_bounds(first, tz)[0]
    end = day_bounds(last, tz)[1]
    n_days = (last - first).days + 1
    with epochs_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(EPOCH_HEADER)
        for k in range(n_days):
            day = first + timedelta(days=k)
            _progress(sys.stderr, progress, f"{wearable}: epochs of {day} ({k + 1}/{n_days})")
            day_start, day_end = day_bounds(day, tz)
            names = {p.code: str(p) for p in Posture}
            writer.writerows(
                (datetime.fromtimestamp(t, tz).isoformat(), t, names[label])
                for t, label in source.store.epochs.rows(wearable, day_start, day_end)
            )
    with bouts_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(BOUT_HEADER)
        for b in source.store.bouts.between(wearable, start, end):
            writer.writerow(
                (
                    iso_time(b.start, tz),
                    iso_time(b.end, tz),
                    int(b.start),
                    int(b.end),
                    int(b.duration),
                    str(b.label),
                )
            )
    _progress(sys.stderr, progress, "")
    return epochs_path, bouts_path


def run(args: argparse.Namespace) -> int:
    first, last = _date("--from", args.first), _date("--to", args.last)
    if last < first:
        raise UserError(f"--to {last} is before --from {first}")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{out}: cannot create the output folder: {exc.strerror}") from None
    source = open_source(args)
    progress = not args.quiet and sys.stderr.isatty()
    try:
        for wearable in pick_wearables(source, args.wearable):
            for path in export(source, wearable, first, last, out, progress=progress):
                sys.stdout.write(f"{path}\n")
    finally:
        source.store.close()
    return 0
