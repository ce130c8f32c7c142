"""`sitbreak report`: the daily or weekly sitting report from the store, as text, JSON or HTML."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from monitor.commands.vocabulary import (
    add_format,
    add_quiet,
    add_timezone,
    parse_day,
    reading_config_help,
    reading_db_help,
)
from monitor.config import Config, load_config
from monitor.config.paths import Places, first_existing
from monitor.core.errors import UserError
from monitor.core.types import Placement
from monitor.reports import html, payload, text
from monitor.reports.days import day_bounds
from monitor.reports.trend import DayReport, WeekReport
from monitor.reports.zone import resolve_zone
from monitor.store import Store, StoreSettings
from monitor.store.report_source import load_day_report, load_week_report
from monitor.store.settings import DEFAULT_PATH as DEFAULT_STORE_PATH

_HELP = "show the daily or weekly sitting report"
_DESCRIPTION = """\
The sitting report for one local day (default: today) or the week ending on it, from the
service's database: wear time, time sitting / standing / moving / lying, prolonged sitting bouts
(30 min or more), breaks per sitting hour, nudges and how they went, and the trend.

Without --db it reads the database of `sitbreak run` for this user (as root, or with the system
service's config, the service's /var/lib/sitbreak), opened read-only: it changes nothing.

examples:
  sitbreak report                                today, in the terminal
  sitbreak report --date yesterday --format html --out yesterday.html
  sitbreak report --week --wearable thigh        the last 7 days, one line each
  sitbreak report --week --date 2026-03-29       the 7 days ending on that Sunday
  sitbreak report --date 2026-03-29 --format json --db ./sitbreak.db --timezone Europe/Berlin
"""


@dataclass(frozen=True, slots=True)
class Source:
    """What a store-reading command resolved from its options and the config."""

    store: Store
    tz: tzinfo
    config: Config

    def placement(self, wearable: str) -> Placement:
        for w in self.config.wearables:
            if w.id == wearable:
                return Placement(w.placement)
        return Placement.THIGH


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """--config, --db, --timezone, --wearable: shared by report and export."""
    parser.add_argument("--config", metavar="FILE", help=reading_config_help())
    parser.add_argument("--db", metavar="FILE", help=reading_db_help())
    add_timezone(
        parser, "IANA time zone the days are counted in (default: the config's timezone)", old_tz=True
    )
    parser.add_argument(
        "--wearable",
        metavar="ID",
        help="which wearable (default: every one with data; json and html need one)",
    )


def _config(args: argparse.Namespace, places: Places) -> Config:
    if args.config:
        return load_config(args.config)
    found = first_existing(places.config_candidates())
    return load_config(found) if found is not None else Config()


def _database(args: argparse.Namespace, config: Config, places: Places) -> Path:
    """--db, else store.path when the config sets one, else the first database found where the
    service keeps it: this user's state directory, then the system service's."""
    if args.db:
        return Path(args.db)
    if config.store.path != DEFAULT_STORE_PATH:
        return Path(config.store.path)
    candidates = places.database_candidates()
    found = first_existing(candidates)
    if found is None:
        looked = " or ".join(str(p) for p in candidates)
        raise UserError(
            f"no database yet in {looked} (has `sitbreak run` or `sitbreak demo` written one?); "
            "point --db or store.path at it"
        )
    return found


def open_source(args: argparse.Namespace, places: Places | None = None) -> Source:
    places = places or Places.here()
    config = _config(args, places)
    path = _database(args, config, places)
    if not path.exists():
        raise UserError(
            f"{path}: no database yet (has `sitbreak run` or `sitbreak demo` written one?); "
            "point --db or store.path at it"
        )
    # Read-only: a person reading their report needs no write access to the service's database.
    settings = StoreSettings(path=str(path), retention_days=config.store.retention_days)
    store = Store(settings, readonly=True)
    zone = args.timezone if args.timezone is not None else config.timezone
    return Source(store, resolve_zone(zone), config)


def pick_wearables(source: Source, wanted: str | None) -> list[str]:
    stored = source.store.wearables()
    if wanted:
        if wanted not in stored:
            known = ", ".join(stored) or "none"
            raise UserError(f"no data for wearable {wanted!r} in {source.store.path} (stored: {known})")
        return [wanted]
    if not stored:
        raise UserError(f"{source.store.path}: no wearable has stored any data yet")
    return stored


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report", help=_HELP, description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--date", default="today", metavar="DATE", help="YYYY-MM-DD, today or yesterday (default: today)"
    )
    parser.add_argument("--week", action="store_true", help="the 7 days ending on --date (default: today)")
    add_format(parser, ("text", "json", "html"))
    parser.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    add_source_arguments(parser)
    add_quiet(parser, "no 'wrote FILE' line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    source = open_source(args)
    try:
        wearables = pick_wearables(source, args.wearable)
        if len(wearables) > 1 and args.format != "text":
            raise UserError(
                f"{len(wearables)} wearables have data ({', '.join(wearables)}); choose one with --wearable"
            )
        # The command line is an edge: "today" and "as of" come from the wall clock here, never in
        # the computations.
        now = datetime.now(source.tz)
        day = parse_day("--date", args.date, source.tz, now)
        day_end = day_bounds(day, source.tz)[1]
        as_of = min(now.timestamp(), float(day_end))
        min_break = source.config.report.min_break_s
        outputs = []
        for wearable in wearables:
            placement = source.placement(wearable)
            if args.week:
                week = load_week_report(
                    source.store,
                    wearable,
                    day,
                    source.tz,
                    as_of=as_of,
                    placement=placement,
                    min_break_s=min_break,
                )
                outputs.append(_render_week(week, args.format))
            else:
                report = load_day_report(
                    source.store,
                    wearable,
                    day,
                    source.tz,
                    as_of=as_of,
                    placement=placement,
                    min_break_s=min_break,
                )
                outputs.append(_render_day(report, args.format))
    finally:
        source.store.close()
    document = "\n".join(outputs)
    if args.out:
        out = Path(args.out)
        try:
            out.write_text(document, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"{out}: cannot write the report: {exc.strerror}") from None
        if not args.quiet:
            sys.stderr.write(f"sitbreak: wrote {out}\n")
    else:
        sys.stdout.write(document)
    return 0


def _render_day(report: DayReport, fmt: str) -> str:
    if fmt == "json":
        return payload.dumps(payload.daily_json(report))
    if fmt == "html":
        return html.render_day(report)
    return text.render_day(report)


def _render_week(report: WeekReport, fmt: str) -> str:
    if fmt == "json":
        return payload.dumps(payload.weekly_json(report))
    if fmt == "html":
        return html.render_week(report)
    return text.render_week(report)
