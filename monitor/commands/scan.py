"""`sitbreak scan`: which wearables are in range, how strong, and which profile would read them."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any, TypedDict

from monitor.commands.vocabulary import add_format, add_quiet, hidden_alias
from monitor.core.errors import UserError
from monitor.wearables.profiles import ProfileName, match_profile
from monitor.wearables.scanner import UNAVAILABLE_ADVICE, as_advertisement, bluetooth_unavailable, discover

DEFAULT_TIMEOUT_S = 5.0  # most wearables advertise at least once a second; five catches slow ones
MAX_TIMEOUT_S = 600.0

_HELP = "list nearby Bluetooth wearables sitbreak can read"
_DESCRIPTION = f"""\
Listen for Bluetooth LE advertisements for a few seconds and list the devices heard, strongest
first: address, signal strength (RSSI, dBm; above -70 is a good link), name, and the wearable
profile that would read it. Only devices a profile recognises are listed unless --all is given.
Put the address of yours in the config file ([[wearables]] address = "...").

examples:
  sitbreak scan                              listen for {DEFAULT_TIMEOUT_S:g} s
  sitbreak scan --scan-timeout 15 --all      every device heard in 15 s
  sitbreak scan --format json | jq '.[0]'    machine-readable
"""


class ScanRow(TypedDict):
    address: str
    name: str | None
    rssi: int
    profile: str | None


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "scan", help=_HELP, description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scan-timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help="how long to listen, seconds (default: %(default)g)",
    )
    hidden_alias(parser, "--timeout", dest="scan_timeout", type=float)
    parser.add_argument("--all", action="store_true", help="also list devices no profile recognises")
    add_format(parser, ("text", "json"), old_json=True)
    add_quiet(parser, "no 'listening' line")
    parser.set_defaults(func=run)


def scan(timeout_s: float, include_all: bool = False) -> list[ScanRow]:
    """Devices heard within `timeout_s`, strongest first. Raises UserError when Bluetooth is unusable."""
    try:
        heard = asyncio.run(discover(timeout_s))
    except Exception as exc:
        reason = bluetooth_unavailable(exc)
        if reason is None:
            raise
        raise UserError(f"Bluetooth is unavailable: {reason}; {UNAVAILABLE_ADVICE}") from None
    rows: list[ScanRow] = []
    for device, adv in heard:
        profile = match_profile(as_advertisement(device, adv))
        if profile is None and not include_all:
            continue
        rows.append(
            ScanRow(
                address=device.address,
                name=adv.local_name or device.name,
                rssi=adv.rssi,
                profile=profile.value if profile else None,
            )
        )
    return rows


def format_table(rows: list[ScanRow]) -> str:
    lines = [f"{'ADDRESS':<17}  {'RSSI':>4}  {'PROFILE':<9} NAME"]
    for row in rows:
        lines.append(
            f"{row['address']:<17}  {row['rssi']:>4}  {row['profile'] or '-':<9} {row['name'] or '(no name)'}"
        )
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    timeout = args.scan_timeout
    if not 0 < timeout <= MAX_TIMEOUT_S:
        raise UserError(
            f"--scan-timeout {timeout:g}: must be more than 0 and at most {MAX_TIMEOUT_S:g} seconds"
        )
    as_json = args.format == "json"
    if not as_json and not args.quiet:
        sys.stderr.write(f"listening for {timeout:g} s...\n")
    rows = scan(timeout, args.all)
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    if not rows:
        what = "devices" if args.all else f"wearables ({', '.join(p.value for p in ProfileName)})"
        sys.stdout.write(
            f"no {what} heard in {timeout:g} s; is the wearable on and nearby? "
            "(try --scan-timeout 15, or --all to see every device)\n"
        )
        return 1
    sys.stdout.write(format_table(rows))
    best = next((r for r in rows if r["profile"]), None)
    if best is not None:
        sys.stdout.write(
            "\nto use one, add to the config file:\n"
            f'  [[wearables]]\n  id = "me"\n  profile = "{best["profile"]}"\n'
            f'  address = "{best["address"]}"\n'
        )
    return 0
