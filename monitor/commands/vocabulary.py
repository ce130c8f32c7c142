"""One vocabulary for every command's options: a name means one thing, with one metavar, everywhere.

`OPTIONS` is the table every command's visible options must come from (tests/test_cli_vocabulary.py
checks each parser against it, so a new command cannot drift); `ALIASES` are older spellings kept,
hidden from --help, for scripts that use them. The helpers add the options several commands share,
so their wording is written once.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from monitor.config.paths import Places
from monitor.core.errors import UserError


@dataclass(frozen=True, slots=True)
class Option:
    """What an option name means wherever it appears. `metavar` None: a switch, or choices shown."""

    metavar: str | None
    meaning: str
    short: str | None = None


OPTIONS: dict[str, Option] = {
    # every command
    "--help": Option(None, "show the help and exit", short="-h"),
    "--log-level": Option("LEVEL", "logging threshold: DEBUG, INFO, WARNING or ERROR"),
    "--quiet": Option(None, "no progress or status lines on stderr (errors still show)", short="-q"),
    "--version": Option(None, "print the version and exit"),
    # files and folders
    "--config": Option("FILE", "the sitbreak.toml configuration file"),
    "--db": Option("FILE", "the SQLite database file"),
    "--state-dir": Option("DIR", "where the database and HTML reports live"),
    "--out": Option("FILE", "write the output to this file instead of standard output"),
    "--out-dir": Option("DIR", "the folder output files are written to (created if missing)"),
    # time
    "--timezone": Option("ZONE", "an IANA time zone such as Europe/Berlin"),
    "--date": Option("DATE", "a local day: YYYY-MM-DD, today or yesterday"),
    "--from": Option("DATE", "first local day: YYYY-MM-DD, today or yesterday"),
    "--to": Option("DATE", "last local day, included: YYYY-MM-DD, today or yesterday"),
    "--week": Option(None, "the 7 days ending on the day"),
    "--start": Option("TIME", "an ISO-8601 time such as 2024-03-04T08:00:00+01:00"),
    "--time-column": Option("NAME", "the column holding each sample's time"),
    "--time-unit": Option(None, "unit of a numeric time column"),
    "--ignore-time-column": Option(None, "time the samples by --rate and --start"),
    # what and how
    "--wearable": Option("ID", "a wearable id from the config ([[wearables]] id)"),
    "--placement": Option(None, "where the wearable is worn: thigh, waist or wrist"),
    "--profile": Option(None, "the wearable family: sitsense, microbit, polar or thingy52"),
    "--rate": Option("HZ", "sample rate in Hz"),
    "--format": Option(None, "output format"),
    "--name": Option("PATTERN", "a wearable's advertised name (a shell pattern)"),
    "--scan-timeout": Option("S", "how long to listen for Bluetooth advertisements, seconds"),
    "--seconds": Option("S", "how long to stream, seconds"),
    "--all": Option(None, "also list devices no profile recognises"),
    "--example": Option(None, "print the documented example configuration"),
    "--min-break": Option("S", "shortest upright time after sitting that counts as a break, seconds"),
    "--x-column": Option("NAME", "the x acceleration column"),
    "--y-column": Option("NAME", "the y acceleration column"),
    "--z-column": Option("NAME", "the z acceleration column"),
    "--units": Option(None, "acceleration units"),
    "--scale": Option("FACTOR", "multiply raw values by this first"),
    "--delimiter": Option("CHAR", "the field separator"),
    # the demo
    "--offline": Option(None, "the demo without Bluetooth, MQTT or the service"),
    "--speed": Option("FACTOR", "simulated time runs this many times faster than real time"),
    "--mqtt-host": Option("HOST", "an MQTT broker to use instead of starting one"),
    "--mqtt-port": Option("PORT", "that broker's port"),
    "--schedule": Option(None, "the simulated person's day"),
    "--seed": Option("N", "random seed of the motion model"),
}

# Older spellings, still accepted (hidden from --help): alias -> the documented name.
ALIASES: dict[str, str] = {
    "--tz": "--timezone",  # report, export
    "--out": "--out-dir",  # export wrote to a folder named by --out
    "--json": "--format",  # scan, doctor: --json is --format json
    "--timeout": "--scan-timeout",  # scan
}


def hidden_alias(parser: argparse.ArgumentParser, alias: str, **kwargs: Any) -> None:
    """Accept `alias` as an older spelling of an option, without listing it in --help."""
    parser.add_argument(alias, help=argparse.SUPPRESS, **kwargs)


def add_quiet(parser: argparse.ArgumentParser | Any, what: str = "no progress or status lines") -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help=f"{what} on stderr")


def add_timezone(parser: argparse.ArgumentParser, help_text: str, *, old_tz: bool = False) -> None:
    parser.add_argument("--timezone", metavar="ZONE", help=help_text)
    if old_tz:
        hidden_alias(parser, "--tz", dest="timezone")


def add_log_level(parser: argparse.ArgumentParser) -> None:
    """--log-level after the command (`sitbreak demo --log-level DEBUG`) as well as before it."""
    parser.add_argument(
        "--log-level",
        default=argparse.SUPPRESS,  # not given here: the value before the command (or its default) stands
        metavar="LEVEL",
        choices=LOG_LEVELS,
        help="logging threshold: DEBUG, INFO, WARNING or ERROR (default: INFO)",
    )


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def add_format(parser: argparse.ArgumentParser, choices: tuple[str, ...], *, old_json: bool = False) -> None:
    parser.add_argument("--format", choices=choices, default=choices[0], help=f"default: {choices[0]}")
    if old_json:
        hidden_alias(parser, "--json", dest="format", action="store_const", const="json")


def parse_day(option: str, value: str, tz: tzinfo, now: datetime) -> date:
    """A date option's value: 'today', 'yesterday' or YYYY-MM-DD, in the local days of `tz`."""
    today = now.astimezone(tz).date()
    if value == "today":
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option} {value!r}: use YYYY-MM-DD, 'today' or 'yesterday'") from None


def given(args: argparse.Namespace, *names: str) -> list[str]:
    """Which of these options the command line set (their defaults are None)."""
    return [name for name in names if getattr(args, name.lstrip("-").replace("-", "_")) is not None]


def _looks(paths: tuple[Path, ...]) -> str:
    if len(paths) == 1:
        return f"{paths[0]} if it exists"
    return " or ".join(str(p) for p in paths) + ", the first that exists"


def reading_config_help(places: Places | None = None) -> str:
    """--config's help for a command that only reads: the places it looks, in order."""
    where = places or Places.here()
    return f"the configuration file (default: {_looks(where.config_candidates())}, else built-in defaults)"


def reading_db_help(places: Places | None = None) -> str:
    where = places or Places.here()
    return (
        "the database file (default: the config's store.path if it sets one, else "
        f"{_looks(where.database_candidates())})"
    )
