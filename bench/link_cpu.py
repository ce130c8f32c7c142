"""CPU cost of the wearable link per hour of 50 Hz data (52 Hz for a Verity Sense, its only rate).

    python bench/link_cpu.py                       # SitSense at 60x for 10 s of wall time
    python bench/link_cpu.py --profile microbit --speed 5 --json

A private dbus-daemon carries the traffic; the BlueZ emulator and the simulated wearable run in a
child process (so their CPU is not counted), streaming device time `--speed` times faster than
real time. This process runs the real link (Bleak, bleak-retry-connector, dbus-fast, the packet
assembler, queue) and a consumer that takes every block off the queue; its CPU time
(`time.process_time`, user + system, all threads) over the measured window, divided by the hours
of data received in that window, is the number a Raspberry Pi owner cares about. Connection setup is
excluded: the window opens at the first sample block.

Two numbers need no D-Bus: `core_us_per_packet` (decode + timeline) and `assembler_us_per_packet`
(the whole `PacketAssembler`, batches of `RAW_BATCH_MAX` as the link feeds it), our share of
`us_per_packet`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import TypedDict

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from firmware_sim.bus import PrivateBus  # noqa: E402
from monitor.core.types import SampleBlock  # noqa: E402
from monitor.wearables import sitsense_format as fmt  # noqa: E402
from monitor.wearables.assembler import PacketAssembler  # noqa: E402
from monitor.wearables.link import RAW_BATCH_MAX, WearableLink  # noqa: E402
from monitor.wearables.profiles import StreamConfig, make_profile  # noqa: E402
from monitor.wearables.scanner import WearableTarget  # noqa: E402
from monitor.wearables.settings import LinkSettings  # noqa: E402
from monitor.wearables.timeline import PacketTimeline  # noqa: E402

# our profile name -> the simulator's (the same names since the simulator took the config's)
SIM_PROFILES = {"sitsense": "sitsense", "microbit": "microbit", "polar": "polar", "thingy52": "thingy52"}
RATE_HZ = 50.0
HOUR_S = 3600.0


class Result(TypedDict):
    profile: str
    rate_hz: float
    acquire_notify: bool
    speed: float
    wall_s: float
    data_s: float
    samples: int
    packets: int
    cpu_s: float
    cpu_s_per_data_hour: float
    cpu_share_at_real_time_pct: float
    us_per_packet: float
    us_per_sample: float
    core_us_per_packet: float
    assembler_us_per_packet: float


def serve_emulator(address: str, profile: str, speed: float) -> None:
    """Child process: bluetoothd emulator with one wearable, until killed."""
    from firmware_sim.bluez import BlueZEmulator
    from firmware_sim.source import WaveSource
    from firmware_sim.wearable import SimulatedWearable

    with BlueZEmulator(address, adv_interval_s=0.05) as emulator:
        wearable = emulator.add(SimulatedWearable(profile, source=WaveSource(), speed=speed))
        print(wearable.address, flush=True)
        while True:
            time.sleep(3600)


async def measure(
    address: str, profile_name: str, seconds: float, speed: float, acquire_notify: bool
) -> Result:
    profile = make_profile(profile_name, StreamConfig(rate_hz=RATE_HZ, range_g=4))
    settings = LinkSettings(queue_size=100_000, acquire_notify=acquire_notify)
    link = WearableLink(WearableTarget(address=address), profile, settings)
    task = asyncio.create_task(link.run())
    try:
        async with asyncio.timeout(30):
            while not isinstance(await link.get(), SampleBlock):
                pass
        start = link.diagnostics()
        cpu0, wall0 = time.process_time(), time.monotonic()
        deadline = wall0 + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                async with asyncio.timeout(remaining):
                    await link.get()
            except TimeoutError:
                break
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        end = link.diagnostics()
    finally:
        await link.stop()
        await asyncio.wait_for(task, 15)
    samples = end["samples"] - start["samples"]
    packets = end["packets"] - start["packets"]
    per_packet = max(1, samples // max(1, packets))
    data_s = samples / profile.rate_hz
    per_hour = cpu / (data_s / HOUR_S) if data_s else float("inf")
    return Result(
        profile=profile_name,
        rate_hz=profile.rate_hz,
        acquire_notify=acquire_notify,
        speed=speed,
        wall_s=round(wall, 3),
        data_s=round(data_s, 1),
        samples=samples,
        packets=packets,
        cpu_s=round(cpu, 4),
        cpu_s_per_data_hour=round(per_hour, 2),
        cpu_share_at_real_time_pct=round(100 * per_hour / HOUR_S, 3),
        us_per_packet=round(1e6 * cpu / packets, 1) if packets else 0.0,
        us_per_sample=round(1e6 * cpu / samples, 2) if samples else 0.0,
        core_us_per_packet=round(core_cost_us(profile_name, per_packet), 1),
        assembler_us_per_packet=round(assembler_cost_us(profile_name, per_packet), 1),
    )


def sample_packet(profile_name: str, seq: int, per_packet: int) -> bytes:
    """A valid notification of each format, built from its documented layout."""
    xyz = np.zeros((per_packet, 3), dtype=np.int16)
    xyz[:, 2] = 1000
    if profile_name == "sitsense":
        return fmt.encode_packet(seq, seq * per_packet * 20, 50, 4, xyz)
    if profile_name == "microbit":
        return struct.pack("<3h", 0, 0, 1024)  # 1 g: every micro:bit driver gives 1024 per g
    if profile_name == "thingy52":
        return struct.pack("<9h", 0, 0, 1024, 0, 0, 0, 0, 0, 0)
    # Polar raw int16 mG frame: type, uint64 ns of the last sample, frame type 0x01
    last_ns = (seq + 1) * per_packet * 20_000_000
    return bytes((2,)) + last_ns.to_bytes(8, "little") + b"\x01" + xyz.astype("<i2").tobytes()


def core_cost_us(profile_name: str, per_packet: int, n: int = 5000) -> float:
    """Decode + timeline per packet without Bleak and D-Bus: our share of `us_per_packet`."""
    profile = make_profile(profile_name, StreamConfig(rate_hz=RATE_HZ, range_g=4))
    timeline = PacketTimeline(
        profile.period_s, seq_modulus=profile.seq_modulus, time_modulus_s=profile.time_modulus_s
    )
    packets = [sample_packet(profile_name, k, per_packet) for k in range(n)]
    start = time.process_time()
    for k, data in enumerate(packets):
        timeline.push(profile.decode(data), 1.7e9 + k * per_packet * 0.02)
    return 1e6 * (time.process_time() - start) / n


def assembler_cost_us(profile_name: str, per_packet: int, n: int = 5000) -> float:
    """The packet assembler per packet (decode, timeline, blocks, events) without Bleak and D-Bus."""
    profile = make_profile(profile_name, StreamConfig(rate_hz=RATE_HZ, range_g=4))
    handed_on: list[object] = []
    assembler = PacketAssembler(profile, LinkSettings(), handed_on.append)
    assembler.new_session()
    packets = [sample_packet(profile_name, k, per_packet) for k in range(n)]
    start = time.process_time()
    for k, data in enumerate(packets):
        now = k * per_packet * 0.02
        assembler.push(data, now, 1.7e9 + now)
        if k % RAW_BATCH_MAX == RAW_BATCH_MAX - 1:
            assembler.flush()
    assembler.flush()
    return 1e6 * (time.process_time() - start) / n


def run_bench(profile: str, seconds: float, speed: float, acquire_notify: bool = False) -> Result:
    with PrivateBus() as bus, bus.activated():
        child = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--serve-emulator",
                bus.address,
                SIM_PROFILES[profile],
                str(speed),
            ],
            stdout=subprocess.PIPE,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            text=True,
        )
        try:
            assert child.stdout is not None
            address = child.stdout.readline().strip()
            if not address:
                raise RuntimeError(f"the emulator process exited ({child.wait()}) before adding the wearable")
            return asyncio.run(measure(address, profile, seconds, speed, acquire_notify))
        finally:
            child.terminate()
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", default="sitsense", choices=sorted(SIM_PROFILES))
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="wall seconds measured (default: %(default)s)"
    )
    parser.add_argument(
        "--speed", type=float, default=60.0, help="device time per wall time (default: %(default)s)"
    )
    parser.add_argument(
        "--acquire-notify",
        action="store_true",
        help="receive through AcquireNotify (LinkSettings.acquire_notify)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--serve-emulator", nargs=3, metavar=("BUS", "PROFILE", "SPEED"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.serve_emulator:
        bus, profile, speed = args.serve_emulator
        serve_emulator(bus, profile, float(speed))
        return 0
    result = run_bench(args.profile, args.seconds, args.speed, args.acquire_notify)
    if args.json:
        print(json.dumps(result))
        return 0
    via = "AcquireNotify" if result["acquire_notify"] else "D-Bus signals"
    head = f"link CPU, {result['profile']} at {result['rate_hz']:g} Hz via {via}"
    print(f"{head}, device time x{result['speed']:g}")
    print(f"  measured        {result['wall_s']:.1f} s wall, {result['data_s']:.0f} s of data")
    print(f"  received        {result['samples']} samples in {result['packets']} notifications")
    print(f"  CPU             {result['cpu_s']:.3f} s ({result['us_per_packet']:.0f} us/packet)")
    print(f"  decode+timeline {result['core_us_per_packet']:.0f} us/packet (the rest is Bleak and D-Bus)")
    print(f"  assembler       {result['assembler_us_per_packet']:.0f} us/packet (decode+timeline+blocks)")
    print(f"  per data hour   {result['cpu_s_per_data_hour']:.1f} CPU s")
    print(f"  at real time    {result['cpu_share_at_real_time_pct']:.3f} % of one core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
