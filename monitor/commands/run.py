"""`sitbreak run`: the service (what systemd starts)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from monitor.config import load_config
from monitor.config.paths import Places
from monitor.daemon import Daemon, DaemonOptions

_DESCRIPTION = """\
Run the service in the foreground: find each configured wearable over Bluetooth, classify posture
every second, send stretch-break nudges over MQTT and keep everything in the SQLite store.
Logs go to stdout (journald adds timestamps). SIGTERM/SIGINT stop it cleanly; SIGHUP re-reads the
configuration and keeps the running one if the new file has errors.

Without --config and --state-dir: as root /etc/sitbreak/sitbreak.toml and /var/lib/sitbreak (what
the system unit passes); as anyone else $XDG_CONFIG_HOME/sitbreak/sitbreak.toml (~/.config) and
$XDG_STATE_HOME/sitbreak (~/.local/state), as the systemd --user unit uses them.

examples:
  sitbreak run --config /etc/sitbreak/sitbreak.toml
  sitbreak run --config ./sitbreak.toml --state-dir ./state --log-level DEBUG
"""


def register(subparsers: Any) -> None:
    places = Places.here()
    parser = subparsers.add_parser(
        "run",
        help="run the service (what systemd starts)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        default=places.config,
        help="the configuration file (default: %(default)s)",
    )
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        type=Path,
        default=places.state_dir,
        help="where the database and reports live when store.path is not set; the system unit passes "
        "$STATE_DIRECTORY (default: %(default)s)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    daemon = Daemon(config, DaemonOptions(config_path=args.config, state_dir=args.state_dir))
    return asyncio.run(daemon.run())
