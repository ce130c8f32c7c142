"""The `sitbreak` command line: thin commands over the library.

Each sub-command lives in its own module under `monitor.commands` and exposes
`register(subparsers)`; the module sets `func` on its parser. The modules are imported here by name,
so a missing or broken one fails at import instead of vanishing from `--help`. User mistakes raise
`UserError`, which prints `sitbreak: error: ...` and exits 2 without a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, Protocol

from monitor import __version__
from monitor.commands import analyze, check_config, demo, doctor, export, report, run, scan
from monitor.commands.vocabulary import LOG_LEVELS, add_log_level
from monitor.core.errors import UserError
from monitor.logsetup import configure_logging


class Command(Protocol):
    """A sub-command module: adds its parser (with `func` set) to `sitbreak`'s sub-parsers."""

    def register(self, subparsers: Any) -> None: ...


# Sub-command modules, in the order `--help` lists them.
COMMANDS: tuple[Command, ...] = (run, demo, analyze, report, scan, doctor, check_config, export)

_DESCRIPTION = """\
sitbreak watches a thigh-worn accelerometer, recognises sitting as it happens and sends a
stretch-break nudge over MQTT when you have sat too long.

examples:
  sitbreak demo                          a simulated office day, end to end, no hardware
  sitbreak analyze day.csv --rate 50     classify a recording offline, write epochs and bouts
  sitbreak check-config /etc/sitbreak/sitbreak.toml
  sitbreak run --config /etc/sitbreak/sitbreak.toml
  sitbreak report --date yesterday       yesterday's sitting report

Every command takes --help, --log-level and, where it prints progress, -q/--quiet.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sitbreak",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sitbreak {__version__}")
    parser.add_argument(
        "--log-level",
        default="INFO",
        metavar="LEVEL",
        choices=LOG_LEVELS,
        help="logging threshold: DEBUG, INFO, WARNING or ERROR (default: %(default)s); may also follow "
        "the command",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    # Every command takes --log-level after its name too (`sitbreak demo --log-level DEBUG`).
    for command_parser in sub.choices.values():
        add_log_level(command_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    configure_logging(args.log_level, sys.stdout)
    try:
        rc: int = args.func(args)
    except UserError as exc:
        print(f"sitbreak: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `sitbreak report | head`: the reader left. Point stdout at /dev/null so the interpreter's
        # final flush does not raise again (the recipe in Python's signal module docs).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return rc


if __name__ == "__main__":
    sys.exit(main())
