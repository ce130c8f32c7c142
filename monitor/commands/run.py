"""`sitbreak run`: the service (what systemd starts)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from monitor.config import DEFAULT_CONFIG_PATH, load_config
from monitor.daemon import Daemon, DaemonOptions

_DESCRIPTION = """\
Run the service in the foreground: find each configured wearable over Bluetooth, classify posture
every second, send stretch-break nudges over MQTT and keep everything in the SQLite store.
Logs go to stdout (journald adds timestamps). SIGTERM/SIGINT stop it cleanly; SIGHUP re-reads the
configuration and keeps the running one if the new file has errors.

examples:
  sitbreak run --config /etc/sitbreak/sitbreak.toml
  sitbreak --log-level DEBUG run --config ./sitbreak.toml --state-dir ./state
"""


def register(subparsers: Any) -> None:
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
        default=DEFAULT_CONFIG_PATH,
        help="configuration file (default: %(default)s)",
    )
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        type=Path,
        help="where the database and reports live when store.path is not set "
        "(systemd passes $STATE_DIRECTORY)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    daemon = Daemon(config, DaemonOptions(config_path=args.config, state_dir=args.state_dir))
    return asyncio.run(daemon.run())
