"""`sitbreak export`: epochs and bouts for a range of local days as CSV files."""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from monitor.commands.report import Source, add_source_arguments, open_source, pick_wearables
from monitor.commands.vocabulary import add_quiet, hidden_alias, parse_day
from monitor.core.errors import UserError
from monitor.reports.csvformat import BOUT_COLUMNS, EPOCH_COLUMNS, csv_time, label_names
from monitor.reports.days import day_bounds

_HELP = "write epochs and bouts for a date range as CSV"
_DESCRIPTION = """\
Write the per-second posture epochs and the bouts of each wearable for the local days FROM to TO
(both included) as CSV, in the columns `sitbreak analyze` writes:
  epochs_<wearable>_<from>_<to>.csv  t,iso_time,label                          one row per second
  bouts_<wearable>_<from>_<to>.csv   start,end,start_t,end_t,duration_s,label  runs of one label
t, start_t and end_t are Unix seconds; iso_time, start and end ISO-8601 in the configured time zone
(--timezone), e.g. 2026-11-24T08:00:00+01:00. Seconds never recorded are left out. Dates are
YYYY-MM-DD, today or yesterday.

examples:
  sitbreak export --from 2026-11-01 --to 2026-11-30 --out-dir ~/sitbreak-november
  sitbreak export --from yesterday --to today --wearable thigh --db ./sitbreak.db
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export", help=_HELP, description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--from",
        dest="first",
        required=True,
        metavar="DATE",
        help="first day: YYYY-MM-DD, today or yesterday",
    )
    parser.add_argument("--to", dest="last", required=True, metavar="DATE", help="last day (included)")
    parser.add_argument(
        "--out-dir",
        default=".",
        metavar="DIR",
        help="folder for the CSV files, created if missing (default: .)",
    )
    hidden_alias(parser, "--out", dest="out_dir")
    add_source_arguments(parser)
    add_quiet(parser, "no progress line")
    parser.set_defaults(func=run)


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
    names = label_names(source.placement(wearable))
    with epochs_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(EPOCH_COLUMNS)
        for k in range(n_days):
            day = date.fromordinal(first.toordinal() + k)
            _progress(sys.stderr, progress, f"{wearable}: epochs of {day} ({k + 1}/{n_days})")
            day_start, day_end = day_bounds(day, tz)
            writer.writerows(
                (t, csv_time(t, tz), names[label])
                for t, label in source.store.epochs.rows(wearable, day_start, day_end)
            )
    with bouts_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(BOUT_COLUMNS)
        for b in source.store.bouts.between(wearable, start, end):
            writer.writerow(
                (
                    csv_time(b.start, tz),
                    csv_time(b.end, tz),
                    int(b.start),
                    int(b.end),
                    int(b.duration),
                    names[b.label.code],
                )
            )
    _progress(sys.stderr, progress, "")
    return epochs_path, bouts_path


def run(args: argparse.Namespace) -> int:
    out = Path(args.out_dir)
    source = open_source(args)
    try:
        now = datetime.now(source.tz)
        first = parse_day("--from", args.first, source.tz, now)
        last = parse_day("--to", args.last, source.tz, now)
        if last < first:
            raise UserError(f"--to {last} is before --from {first}")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"{out}: cannot create the output folder: {exc.strerror}") from None
        progress = not args.quiet and sys.stderr.isatty()
        for wearable in pick_wearables(source, args.wearable):
            for path in export(source, wearable, first, last, out, progress=progress):
                sys.stdout.write(f"{path}\n")
    finally:
        source.store.close()
    return 0
