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
person would. The day takes under two minutes and ends with the daily report and the path of its HTML page.

With --offline, the same day's samples go straight through the pipeline and the labels are compared
with the simulated schedule.

examples:
  sitbreak demo
  sitbreak demo --speed 1 --mqtt-host localhost     in real time, watch with your own MQTT client
  sitbreak demo --offline --seed 7 --placement waist
  sitbreak demo --offline --schedule day    a full 24 h day with sleep, a run and a cycle commute
"""


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
    parser.add_argument(
        "--speed",
        type=float,
        default=400.0,
        help="live demo: the simulated day runs this many times faster than real time; "
        "1 runs in real time for watching with your own MQTT client (default: %(default)g)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path("sitbreak-demo"),
        help="live demo: where its database and HTML report go; emptied first (default: %(default)s)",
    )
    parser.add_argument(
        "--mqtt-host",
        help="live demo: use this MQTT broker instead of starting one (no auth, plain TCP)",
    )
    parser.add_argument("--mqtt-port", type=int, default=1883, help="with --mqtt-host (default: %(default)s)")
    parser.add_argument("--schedule", choices=SCHEDULE_NAMES, default="office", help="default: %(default)s")
    parser.add_argument(
        "--placement", choices=[p.value for p in Placement], default="thigh", help="default: %(default)s"
    )
    parser.add_argument("--rate", type=float, default=50.0, metavar="HZ", help="default: %(default)s")
    parser.add_argument("--seed", type=int, default=0, help="motion model seed (default: %(default)s)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.seed < 0:
        raise UserError("--seed must be >= 0")
    if not args.offline:
        if args.speed <= 0:
            raise UserError("--speed must be > 0")
        if args.schedule != "office" or args.placement != "thigh":
            raise UserError(
                "--schedule and --placement apply to --offline; the live demo is a thigh office day"
            )
        opts = DemoOptions(
            speed=args.speed,
            seed=args.seed,
            state_dir=args.state_dir,
            mqtt_host=args.mqtt_host,
            mqtt_port=args.mqtt_port,
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
        schedule=args.schedule,
        placement=Placement(args.placement),
        rate_hz=args.rate,
        seed=args.seed,
        progress=not args.quiet,
    )
    sys.stdout.write(result.text)
    return 0
