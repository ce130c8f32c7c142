"""Run simulated wearables on a private D-Bus so `sitbreak scan` / `sitbreak run` can talk to them.

python -m firmware_sim --speed 60
export DBUS_SYSTEM_BUS_ADDRESS=...        # copy the line it prints, in another shell
sitbreak scan
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shlex
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware_sim import bluez
from firmware_sim.bluez import BlueZEmulator
from firmware_sim.bus import DBusDaemonMissingError, PrivateBus
from firmware_sim.device import PacketFault
from firmware_sim.motion import PLACEMENTS, SCHEDULES, MotionConfig
from firmware_sim.source import motion_source
from firmware_sim.wearable import OLD_THINGY_NAME, Profile, SimulatedWearable
from monitor.wearables import sitsense_format as fmt

EPILOG = """\
examples:
  python -m firmware_sim
      one SitSense wearable on the thigh, living an office day in real time
  python -m firmware_sim --speed 60 --schedule day
      a whole day in 24 minutes (device time runs 60x faster; packets follow)
  python -m firmware_sim --profile sitsense --profile polar --profile microbit --profile thingy52
      one wearable of each family (the Polar presents a Verity Sense)
  python -m firmware_sim --count 3 --fault lost=0.01 --fault duplicated=0.005
      three SitSense wearables whose packets are sometimes lost or duplicated
  python -m firmware_sim --connect-failures 0.3
      a wearable that refuses a third of connection attempts, as in a busy 2.4 GHz band
  python -m firmware_sim --bus-address unix:path=/run/my-bus
      serve org.bluez on a bus you already run instead of starting a private one

then, in another shell, paste the printed export line and run e.g. `sitbreak scan`.
Ctrl-C stops the wearables and the private bus.
"""


@dataclass(frozen=True, slots=True)
class Options:
    profiles: tuple[Profile, ...]
    count: int
    schedule: str
    placement: str
    speed: float
    rate: int
    seed: int
    mtu: int | None
    battery: float
    drain: float
    faults: dict[str, float]
    connect_failure_rate: float
    connect_timeout: float
    bus_address: str | None
    verbose: bool


def parse_fault(text: str) -> tuple[str, float]:
    kind, sep, rate = text.partition("=")
    try:
        PacketFault(kind)
        value = float(rate)
    except ValueError:
        value = -1.0
    if not sep or not 0.0 <= value <= 1.0:
        kinds = ", ".join(k.value for k in PacketFault)
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected KIND=RATE with KIND one of {kinds}, RATE in 0..1"
        )
    return kind, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m firmware_sim",
        description=(
            "Simulated sitbreak wearables behind an emulated BlueZ on a private D-Bus system bus. "
            "Prints the DBUS_SYSTEM_BUS_ADDRESS to export so Bleak (and sitbreak) use it."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--profile",
        action="append",
        # The config's names (`profile = "thingy52"`); the old `thingy` is still read as thingy52.
        type=lambda name: Profile(name).value if name == OLD_THINGY_NAME else name,
        choices=[p.value for p in Profile],
        help="device family, as the config names it; repeat for several wearables (default: sitsense)",
    )
    parser.add_argument("--count", type=int, default=1, help="wearables per --profile (default: 1)")
    parser.add_argument("--schedule", choices=sorted(SCHEDULES), default="office", help="the wearer's day")
    parser.add_argument("--placement", choices=PLACEMENTS, default="thigh", help="where it is worn")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="device time runs this many times faster than wall time"
    )
    parser.add_argument(
        "--rate",
        type=int,
        choices=sorted(fmt.RATE_CODES.values()),
        default=fmt.DEFAULT_RATE_HZ,
        help="SitSense sample rate until the host writes its config, Hz (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="motion and fault randomness (default: 0)")
    parser.add_argument("--mtu", type=int, help="largest ATT MTU the devices accept (default: 247)")
    parser.add_argument("--battery", type=float, default=100.0, help="starting charge, %% (default: 100)")
    parser.add_argument(
        "--drain", type=float, default=2.0, help="battery drain, %% per device hour (default: 2)"
    )
    parser.add_argument(
        "--fault",
        action="append",
        type=parse_fault,
        default=[],
        metavar="KIND=RATE",
        help="random packet fault per packet, e.g. lost=0.01 (kinds: "
        + ", ".join(k.value for k in PacketFault)
        + ")",
    )
    parser.add_argument(
        "--connect-failures",
        type=float,
        default=0.0,
        metavar="RATE",
        help="share of Connect attempts that fail with le-connection-abort-by-local (default: 0)",
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=bluez.DEFAULT_CONNECT_TIMEOUT_S,
        help="how long Connect waits for an absent device, s (default: %(default)s, as the kernel)",
    )
    parser.add_argument("--bus-address", help="use this D-Bus instead of starting a private one")
    parser.add_argument("-v", "--verbose", action="store_true", help="log connections and GATT activity")
    return parser


def options(argv: Sequence[str] | None) -> Options:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    if args.speed <= 0:
        parser.error("--speed must be > 0")
    if not 0.0 <= args.connect_failures <= 1.0:
        parser.error("--connect-failures must be in 0..1")
    return Options(
        profiles=tuple(Profile(p) for p in (args.profile or [Profile.SITSENSE.value])),
        count=args.count,
        schedule=args.schedule,
        placement=args.placement,
        speed=args.speed,
        rate=args.rate,
        seed=args.seed,
        mtu=args.mtu,
        battery=args.battery,
        drain=args.drain,
        faults=dict(args.fault),
        connect_failure_rate=args.connect_failures,
        connect_timeout=args.connect_timeout,
        bus_address=args.bus_address,
        verbose=args.verbose,
    )


def build_wearables(opts: Options) -> list[SimulatedWearable]:
    schedule = SCHEDULES[opts.schedule]()
    wearables = []
    n = 0
    for profile in opts.profiles:
        for _ in range(opts.count):
            seed = opts.seed + n
            n += 1
            source = motion_source(schedule, MotionConfig(placement=opts.placement, seed=seed))
            extra: dict[str, Any] = {"rate_hz": opts.rate} if profile is Profile.SITSENSE else {}
            wearable = SimulatedWearable(
                profile,
                source=source,
                speed=opts.speed,
                mtu=opts.mtu,
                battery_pct=opts.battery,
                drain_pct_per_h=opts.drain,
                seed=seed,
                **extra,
            )
            if opts.faults:
                wearable.set_fault_rates(**opts.faults)
            if opts.connect_failure_rate:
                wearable.set_connect_failure_rate(opts.connect_failure_rate)
            wearables.append(wearable)
    return wearables


async def wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def serve(opts: Options, bus_address: str, fake_bin: Path | None) -> None:
    wearables = build_wearables(opts)
    with BlueZEmulator(bus_address, connect_timeout_s=opts.connect_timeout, seed=opts.seed) as emulator:
        for wearable in wearables:
            emulator.add(wearable)
        print(f"export DBUS_SYSTEM_BUS_ADDRESS={shlex.quote(bus_address)}")
        if fake_bin is not None:
            print(f'export PATH={shlex.quote(str(fake_bin))}:"$PATH"  # a bluetoothctl that tells Bleak 5.72')
        for w in wearables:
            print(
                f"# {w.name or '(no name)':28} {w.address}  {w.profile.value:8} {opts.placement}, "
                f"{opts.schedule} day at {opts.speed:g}x"
            )
        print("# Ctrl-C to stop", flush=True)
        asyncio.run(wait_for_signal())


def main(argv: Sequence[str] | None = None) -> int:
    opts = options(argv)
    logging.basicConfig(
        level=logging.DEBUG if opts.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if opts.bus_address is not None:
        serve(opts, opts.bus_address, None)
        return 0
    try:
        with PrivateBus() as bus:
            print(f"# private dbus-daemon pid {bus.pid}")
            serve(opts, bus.address, bus.bin_dir)
    except DBusDaemonMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
