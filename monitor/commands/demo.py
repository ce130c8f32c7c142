"""`sitbreak demo`: a simulated office day, live through the whole service or offline.

A thin command: options and their checks here, the demo itself in `monitor.demo` (live:
`monitor.demo.run`, Bluetooth through an emulated BlueZ, the service, MQTT and a console phone;
`--offline`: `monitor.demo.offline`, the pipeline alone compared with the simulated schedule).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from monitor.commands.vocabulary import add_quiet, given
from monitor.core.errors import UserError
from monitor.core.types import Placement
from monitor.demo.offline import SCHEDULE_NAMES, run_offline_demo
from monitor.demo.run import DBusDaemonMissingError, DemoOptions, run_live_demo

_DESCRIPTION = """\
Live a simulated office day (desk work, meetings, short stand-ups, a lunch walk, stairs, the device
left on the desk for half an hour) through the real service, with no hardware and no broker installed:
a private D-Bus serves an emulated BlueZ with a simulated thigh wearable, the service finds it through
Bleak exactly as on a Raspberry Pi, classifies every second, and sends nudges over MQTT: to
--mqtt-host if given, else to this machine's mosquitto (started for the demo on a loopback port) when
installed, else to a small embedded broker. A console "phone" prints each nudge and answers some as a
person would. The day takes about a minute and a half on a 2-core x86 machine (longer on a busy one or
a Raspberry Pi: the progress line says how far it is) and ends with the daily report and the path of
its HTML page. The report is timed by the simulated data, never by the sped-up clock.

With --offline, the same day's samples go straight through the pipeline and the labels are compared
with the simulated schedule.

Options of one mode are refused in the other (--speed with --offline, --schedule without it).

examples:
  sitbreak demo
  sitbreak demo --speed 1 --mqtt-host localhost     in real time, watch with your own MQTT client
  sitbreak demo --offline --seed 7 --placement waist
  sitbreak demo --offline --schedule day    a full 24 h day with sleep, a run and a cycle commute
"""


# Options that only one mode uses; given to the other, they are refused rather than ignored.
LIVE_ONLY = ("--speed", "--state-dir", "--mqtt-host", "--mqtt-port")
OFFLINE_ONLY = ("--schedule", "--placement", "--rate")
DEFAULT_SPEED = 400.0
DEFAULT_STATE_DIR = Path("sitbreak-demo")
DEFAULT_MQTT_PORT = 1883


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="a simulated office day end to end: wearable, service, MQTT, phone, report",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="skip Bluetooth, MQTT and the service: classify the simulated samples directly and compare "
        "them with the schedule (a few seconds)",
    )
    live = parser.add_argument_group("the live demo (refused with --offline)")
    live.add_argument(
        "--speed",
        type=float,
        metavar="FACTOR",
        help="the simulated day runs this many times faster than real time; 1 runs in real time for "
        f"watching with your own MQTT client (default: {DEFAULT_SPEED:g})",
    )
    live.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help=f"where its database and HTML report go; emptied first (default: {DEFAULT_STATE_DIR})",
    )
    live.add_argument(
        "--mqtt-host",
        metavar="HOST",
        help="use this MQTT broker instead of starting one (no auth, plain TCP)",
    )
    live.add_argument(
        "--mqtt-port", type=int, metavar="PORT", help=f"with --mqtt-host (default: {DEFAULT_MQTT_PORT})"
    )
    offline = parser.add_argument_group("--offline only (the live demo is a thigh office day at 50 Hz)")
    offline.add_argument("--schedule", choices=SCHEDULE_NAMES, help="the simulated day (default: office)")
    offline.add_argument(
        "--placement", choices=[p.value for p in Placement], help="where it is worn (default: thigh)"
    )
    offline.add_argument("--rate", type=float, metavar="HZ", help="sample rate (default: 50)")
    parser.add_argument(
        "--seed", type=int, default=0, metavar="N", help="motion model seed (default: %(default)s)"
    )
    add_quiet(parser, "no progress bar")
    parser.set_defaults(func=run)


def _refuse_other_mode(args: argparse.Namespace) -> None:
    if args.offline:
        wrong = given(args, *LIVE_ONLY)
        if wrong:
            raise UserError(f"{', '.join(wrong)}: only for the live demo, not with --offline")
        return
    wrong = given(args, *OFFLINE_ONLY)
    if wrong:
        raise UserError(
            f"{', '.join(wrong)}: only with --offline; the live demo is a thigh office day at 50 Hz"
        )
    if args.mqtt_port is not None and args.mqtt_host is None:
        raise UserError("--mqtt-port goes with --mqtt-host; without it the demo starts its own broker")


def run(args: argparse.Namespace) -> int:
    if args.seed < 0:
        raise UserError("--seed must be >= 0")
    _refuse_other_mode(args)
    if not args.offline:
        speed = DEFAULT_SPEED if args.speed is None else args.speed
        if speed <= 0:
            raise UserError("--speed must be > 0")
        opts = DemoOptions(
            speed=speed,
            seed=args.seed,
            state_dir=args.state_dir or DEFAULT_STATE_DIR,
            mqtt_host=args.mqtt_host,
            mqtt_port=args.mqtt_port or DEFAULT_MQTT_PORT,
            quiet=args.quiet,
        )
        if args.log_level == "INFO":
            # The phone's lines tell the story; the service's own INFO lines would drown them.
            logging.getLogger("monitor").setLevel(logging.WARNING)
        try:
            asyncio.run(run_live_demo(opts))
        except DBusDaemonMissingError as exc:
            raise UserError(f"{exc} (or run `sitbreak demo --offline`, which needs no D-Bus)") from None
        return 0
    result = run_offline_demo(
        schedule=args.schedule or "office",
        placement=Placement(args.placement or Placement.THIGH.value),
        rate_hz=50.0 if args.rate is None else args.rate,
        seed=args.seed,
        progress=not args.quiet,
    )
    sys.stdout.write(result.text if result.text.endswith("\n") else result.text + "\n")
    return 0
