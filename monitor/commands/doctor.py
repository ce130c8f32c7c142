"""`sitbreak doctor`: check a wearable end to end and say what to do about what fails."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
from typing import Any

from monitor.commands.vocabulary import add_format, add_quiet
from monitor.core.errors import UserError
from monitor.wearables.diagnose import Status
from monitor.wearables.doctor import DEFAULT_SCAN_S, DEFAULT_SECONDS, DoctorReport, DoctorRequest, examine
from monitor.wearables.profiles import ProfileName

MAX_SECONDS = 600.0
MAX_SCAN_S = 120.0
_ADDRESS = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")

_HELP = "check a wearable end to end: find, connect, start, stream, measure; say what to fix"
_DESCRIPTION = f"""\
What to run first with a new wearable. The doctor finds it (listing every wearable it hears), connects,
lists its GATT services, picks the profile, starts the stream exactly as the service does (pairing if
the wearable asks for it), streams for {DEFAULT_SECONDS:g} seconds and checks:

  sample rate   measured (from the wearable's own clock where it has one) against the rate the
                profile expects after the start (what a micro:bit reads back, a Thingy's real rate)
  gravity       about 1 g at rest: lay the wearable still on a table (it says so if it moved)
  packets       lost, repeated, reordered and unreadable packets, as the service counts them
  battery, signal strength (RSSI)

Every failure ends with one next step: pair it, flash the MakeCode program, move closer, take it off
the charger, wrong firmware, switch Bluetooth on, permissions. Stop the service first
(sudo systemctl stop sitbreak): a wearable talks to one program at a time.

exit status: 0 all checks passed (warnings allowed), 1 a check failed, 2 a usage error.

examples:
  sitbreak doctor                          the strongest wearable in range
  sitbreak doctor F0:5E:00:00:00:01        that one (addresses: sitbreak scan)
  sitbreak doctor --name 'Polar Sense*'    by advertised name (a shell pattern)
  sitbreak doctor AA:BB:CC:DD:EE:FF --profile sitsense   a device no profile recognises by its name
  sitbreak doctor --rate 25 --seconds 30   ask for 25 Hz, listen for 30 s
  sitbreak doctor --format json | jq .checks      machine-readable
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "doctor", help=_HELP, description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("address", nargs="?", metavar="ADDRESS", help="the wearable's Bluetooth address")
    parser.add_argument("--name", metavar="PATTERN", help="the wearable's advertised name (shell pattern)")
    parser.add_argument(
        "--profile",
        choices=[p.value for p in ProfileName],
        help="the wearable family (default: from its advertisement or its services)",
    )
    parser.add_argument(
        "--rate", type=float, default=50.0, metavar="HZ", help="sample rate to ask for (default: %(default)g)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_SECONDS,
        metavar="S",
        help="how long to stream (default: %(default)g)",
    )
    parser.add_argument(
        "--scan-timeout",
        type=float,
        default=DEFAULT_SCAN_S,
        metavar="S",
        help="how long to listen for advertisements (default: %(default)g)",
    )
    add_format(parser, ("text", "json"), old_json=True)
    add_quiet(parser, "no progress lines")
    parser.set_defaults(func=run)


def request_from(args: argparse.Namespace) -> DoctorRequest:
    """The request, or UserError naming what is wrong with the arguments."""
    if args.address is not None and not _ADDRESS.match(args.address):
        raise UserError(f"{args.address!r} is not a Bluetooth address (like F0:5E:00:00:00:01)")
    if args.address is not None and args.name is not None:
        raise UserError("give an ADDRESS or --name, not both")
    if not 1.0 <= args.seconds <= MAX_SECONDS:
        raise UserError(f"--seconds {args.seconds:g}: must be 1 to {MAX_SECONDS:g}")
    if not 0 < args.scan_timeout <= MAX_SCAN_S:
        raise UserError(
            f"--scan-timeout {args.scan_timeout:g}: must be more than 0 and at most {MAX_SCAN_S:g}"
        )
    if not 0 < args.rate <= 1000:
        raise UserError(f"--rate {args.rate:g}: must be more than 0 and at most 1000 Hz")
    return DoctorRequest(
        address=args.address.upper() if args.address else None,
        name=args.name,
        profile=ProfileName(args.profile) if args.profile else None,
        rate_hz=args.rate,
        seconds=args.seconds,
        scan_s=args.scan_timeout,
    )


def run(args: argparse.Namespace) -> int:
    request = request_from(args)
    _logs_to_stderr()

    as_json = args.format == "json"

    def progress(line: str) -> None:
        if not as_json and not args.quiet:
            sys.stderr.write(f"{line}\n")

    report = asyncio.run(examine(request, progress))
    sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n" if as_json else format_report(report))
    return 0 if report.ok else 1


def _logs_to_stderr() -> None:
    """The report is this command's output: log lines that would go to stdout go to stderr."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
            handler.setStream(sys.stderr)


_MARK = {Status.OK: "ok", Status.WARN: "WARN", Status.FAIL: "FAIL", Status.SKIPPED: "--"}


def format_report(report: DoctorReport) -> str:
    lines: list[str] = []
    if report.heard:
        lines.append("heard:")
        for h in report.heard:
            profile = h.profile.value if h.profile else "-"
            lines.append(f"  {h.address}  {h.rssi:>4} dBm  {profile:<9} {h.name or '(no name)'}")
        lines.append("")
    for check in report.checks:
        lines.append(f"{_MARK[check.status]:<5} {check.name:<12} {check.detail}")
    lines.append("")
    step = report.next_step()
    if report.ok:
        lines.append("all checks passed" + ("" if step is None else f" (with a warning: {step})"))
        if report.device is not None and report.profile is not None:
            lines.append(
                "to use it, add to the config file:\n"
                f'  [[wearables]]\n  id = "me"\n  profile = "{report.profile.value}"\n'
                f'  address = "{report.device.address}"'
            )
    else:
        lines.append(f"next step: {step}")
    return "\n".join(lines) + "\n"
