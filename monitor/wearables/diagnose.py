"""What `sitbreak doctor` concludes from what it saw: measurements, checks and the next step. Pure.

    stats = measure(profile, received, settings, started_at=t0, ended_at=t1)
    checks = [rate_check(stats, profile), gravity_check(stats), packets_check(stats, profile), ...]
    detail, fix = advise(exc, Stage.CONNECT, profile, address)

Every check is ok, warn, fail or skipped, with one line of detail and, when it is not ok, one plain
next step (`fix`). Only a failure makes the doctor exit 1; a warning (a weak signal, a wearable that
moved during the gravity check) is worth knowing but does not stop the wearable from working.

The sample rate is measured from what the device sent, so a busy host does not change the verdict:
- with a device clock (SitSense, Polar), from its timestamps: each pair of consecutive packets
  gives samples / device time between them; the median ignores pairs around a lost or repeated
  packet;
- without one (micro:bit, Thingy:52), from arrival times, where a busy host or the radio can only
  ever add delay: the rate is the slope of the lower convex hull of (samples received so far,
  arrival time), the line under every arrival that hugs the ones that came promptly (the edge over
  the middle of the window minimises the summed delay; Moon, Skelly and Towsley, "Estimation and
  removal of clock skew from network delay measurements", INFOCOM 1999). Such a device has no
  sequence numbers, so notifications lost on the way show as a lower rate and nowhere else.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakCharacteristicNotFoundError,
    BleakDBusError,
    BleakError,
)

from monitor.core.links import LinkEvent, LinkEventKind
from monitor.core.types import SampleBlock
from monitor.wearables.assembler import PacketAssembler, Who
from monitor.wearables.profiles import (
    DecodedPacket,
    DecodeError,
    DeviceProfile,
    ProfileName,
    StreamStartError,
)
from monitor.wearables.scanner import bluetooth_unavailable
from monitor.wearables.settings import LinkSettings

_LOGGER = logging.getLogger(__name__)

# The measured rate may differ from the expected one by this fraction (crystal and BLE timing are
# far inside it; a wrong rate setting or lost notifications are far outside: 25 vs 50 Hz).
RATE_TOLERANCE = 0.05
# At rest an accelerometer reads 1 g; calibration offsets of cheap sensors stay inside ±0.1 g.
GRAVITY_TOLERANCE_G = 0.10
# Still: no axis varies by more than this (standard deviation; sensor noise is ~0.005 g).
STILL_SPREAD_G = 0.05
# Lost data beyond this share of the window fails the check; any loss at all is a warning.
LOST_FAIL_SHARE = 0.02
# Silence: longer than this, or than this many packet intervals, without a notification.
SILENCE_MIN_S = 2.0
SILENCE_PACKETS = 3.0
# Signal strength at the adapter, dBm (BLE links start to drop around -90).
SIGNAL_GOOD_DBM = -75
SIGNAL_WEAK_DBM = -88
BATTERY_LOW_PCT = 15

MOVE_CLOSER = (
    "move the wearable closer to the Pi (2-3 m, nothing metal in between, away from Wi-Fi routers "
    "and USB 3 ports) and run the doctor again"
)
STOP_OTHERS = (
    "make sure nothing else is connected to it (close its phone app; stop the service with "
    "sudo systemctl stop sitbreak), then "
)
PERMISSION_FIX = (
    "this user may not use Bluetooth over D-Bus: run it as the service's user "
    "(sudo -u sitbreak sitbreak doctor ...) or add yours to the bluetooth group "
    "(sudo usermod -aG bluetooth $USER, then log in again)"
)
NOT_SUPPORTED_FIX = (
    'this is not a device sitbreak supports (README, "Devices"); if it runs one of the supported '
    "firmwares, name it with --profile"
)
# What to do when a device does not have what its profile needs.
FIRMWARE_FIX: dict[ProfileName, str] = {
    ProfileName.MICROBIT: "flash the MakeCode program in firmware/microbit/ (README there): it starts "
    "the accelerometer service",
    ProfileName.POLAR: "sitbreak reads the Polar H10 and Verity Sense; update the sensor's firmware "
    "with Polar Flow, or use one of those",
    ProfileName.THINGY52: "update the Thingy to Nordic's Thingy:52 firmware v2 (nRF Connect or the "
    "Thingy app)",
    ProfileName.SITSENSE: "flash the SitSense reference firmware again (docs/firmware-protocol.md)",
}


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIPPED = "skipped"


class Stage(StrEnum):
    """Where an exception happened, which decides what it most likely means."""

    SCAN = "scan"
    CONNECT = "connect"
    START = "start"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report: `name` (e.g. "sample rate"), status, detail, and the next step."""

    name: str
    status: Status
    detail: str
    fix: str = ""


@dataclass(frozen=True, slots=True)
class StreamStats:
    """What came in while the doctor listened (times in seconds)."""

    listened_s: float
    packets: int = 0
    samples: int = 0
    rate_hz: float | None = None
    rate_from: str = ""  # "device clock" or "arrival times"
    gravity_g: float | None = None  # median magnitude
    spread_g: float | None = None  # the largest per-axis standard deviation
    malformed: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    out_of_order: int = 0
    gaps: int = 0
    gap_s: float = 0.0
    lost_packets: int = 0
    longest_silence_s: float = 0.0
    packet_interval_s: float | None = None  # the expected time between packets

    @property
    def moved(self) -> bool:
        return self.spread_g is not None and self.spread_g > STILL_SPREAD_G


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def wrong_firmware_fix(profile: ProfileName | None) -> str:
    return FIRMWARE_FIX.get(profile, NOT_SUPPORTED_FIX) if profile is not None else NOT_SUPPORTED_FIX


# ------------------------------------------------------------------ measuring


def measure(
    profile: DeviceProfile,
    received: Sequence[tuple[float, bytes]],
    settings: LinkSettings,
    *,
    started_at: float,
    ended_at: float,
) -> StreamStats:
    """Decode what came in (arrival time on a monotonic clock, payload) between `started_at` and
    `ended_at` and measure it. Packet accounting is the service's own: the packets go through a
    `PacketAssembler` exactly as on the link."""
    events: list[SampleBlock | LinkEvent] = []
    # Arrival times here are monotonic, not the host's UTC: the rate checks below judge the clock.
    assembler = PacketAssembler(
        profile, settings, events.append, Who(profile.title, "doctor"), check_device_clock=False
    )
    assembler.new_session()
    packets: list[tuple[float, DecodedPacket]] = []
    for arrival, data in received:
        assembler.push(data, arrival, arrival)
        try:
            packets.append((arrival, profile.decode(data)))
        except DecodeError:
            continue  # counted by the assembler
    assembler.end_session()
    listened = max(0.0, ended_at - started_at)
    arrivals = [started_at, *(a for a, _ in received), ended_at]
    silence = max(b - a for a, b in itertools.pairwise(arrivals)) if received else listened
    gaps = [e for e in events if isinstance(e, LinkEvent) and e.kind is LinkEventKind.GAP]
    counts = [len(p) for _, p in packets]
    xyz = np.concatenate([p.xyz for _, p in packets]) if packets else np.zeros((0, 3), np.float32)
    rate, rate_from = _measure_rate(profile, packets)
    return StreamStats(
        listened_s=listened,
        packets=len(received),
        samples=int(sum(counts)),
        rate_hz=rate,
        rate_from=rate_from,
        gravity_g=float(np.median(np.linalg.norm(xyz, axis=1))) if len(xyz) else None,
        spread_g=float(np.max(np.std(xyz, axis=0))) if len(xyz) > 1 else None,
        malformed=assembler.malformed(),
        duplicates=assembler.duplicates(),
        out_of_order=assembler.out_of_order(),
        gaps=len(gaps),
        gap_s=float(sum(e.seconds or 0.0 for e in gaps)),
        lost_packets=sum(e.count or 0 for e in gaps),
        longest_silence_s=silence,
        packet_interval_s=float(np.median(counts)) / profile.rate_hz if counts else None,
    )


def _measure_rate(
    profile: DeviceProfile, packets: list[tuple[float, DecodedPacket]]
) -> tuple[float | None, str]:
    if profile.has_device_time:
        return device_clock_rate([p for _, p in packets]), "device clock"
    return arrival_rate([(a, len(p)) for a, p in packets]), "arrival times"


def device_clock_rate(packets: Sequence[DecodedPacket]) -> float | None:
    """Samples per second of device time: the median over consecutive packets of the samples
    between their timestamps and the device time between them (first-sample times: the earlier
    packet's samples; last-sample times: the later one's). None with fewer than two packets."""
    rates: list[float] = []
    for a, b in itertools.pairwise(packets):
        if a.t_first is not None and b.t_first is not None:
            dt, n = b.t_first - a.t_first, len(a)
        elif a.t_last is not None and b.t_last is not None:
            dt, n = b.t_last - a.t_last, len(b)
        else:
            continue
        if dt > 0:  # a repeated packet, or the clock wrapping, says nothing about the rate
            rates.append(n / dt)
    return float(np.median(rates)) if rates else None


def arrival_rate(arrivals: Sequence[tuple[float, int]]) -> float | None:
    """Samples per second from (arrival time, samples in the packet), robust to delays: the
    slope of the lower convex hull of (samples so far, arrival), edge over the mean (see the
    module docstring). None with fewer than three packets or under a second of arrivals."""
    if len(arrivals) < 3 or arrivals[-1][0] - arrivals[0][0] < 1.0:
        return None
    x = np.cumsum([n for _, n in arrivals]).astype(float)
    y = np.array([a for a, _ in arrivals], dtype=float)
    hull: list[int] = []
    for i in range(len(x)):
        while len(hull) >= 2 and _cross(x, y, hull[-2], hull[-1], i) <= 0:
            hull.pop()
        hull.append(i)
    mean_x = float(np.mean(x))
    for a, b in itertools.pairwise(hull):
        if x[a] <= mean_x <= x[b]:
            slope = (y[b] - y[a]) / (x[b] - x[a])  # seconds per sample
            return float(1.0 / slope) if slope > 0 else None
    return None


def _cross(x: np.ndarray, y: np.ndarray, o: int, a: int, b: int) -> float:
    """> 0 when o -> a -> b turns left (b above the line o-a): a stays on the lower hull."""
    return float((x[a] - x[o]) * (y[b] - y[o]) - (y[a] - y[o]) * (x[b] - x[o]))


# ------------------------------------------------------------------ checks


def stream_check(stats: StreamStats, ended: str | None, ended_after_s: float | None) -> Check:
    """Data came in for the whole window: `ended` says why it stopped early (the link dropped, or
    the device's own words), `ended_after_s` when."""
    name = "stream"
    if ended is not None:
        after = f" after {ended_after_s:.1f} s" if ended_after_s is not None else ""
        if ended == "disconnected":
            return Check(
                name, Status.FAIL, f"the link dropped{after}", f"check its battery, then {MOVE_CLOSER}"
            )
        return Check(
            name,
            Status.FAIL,
            f"{ended}{after}",
            "take the wearable off its charger; if it is not charging, charge it: it may stop when low",
        )
    if stats.packets == 0:
        return Check(
            name,
            Status.FAIL,
            f"connected and started, but no data came in {stats.listened_s:.0f} s",
            "switch the wearable off and on (and take it off its charger), then run the doctor again",
        )
    limit = max(SILENCE_MIN_S, SILENCE_PACKETS * (stats.packet_interval_s or 0.0))
    if stats.longest_silence_s > limit:
        return Check(
            name,
            Status.FAIL,
            f"the wearable went silent for {stats.longest_silence_s:.1f} s "
            f"({plural(stats.samples, 'sample')} in {stats.listened_s:.0f} s)",
            f"check its battery, then {MOVE_CLOSER}",
        )
    packets = plural(stats.packets, "packet")
    return Check(
        name, Status.OK, f"{plural(stats.samples, 'sample')} in {packets} over {stats.listened_s:.1f} s"
    )


def rate_check(stats: StreamStats, profile: DeviceProfile) -> Check:
    """The measured rate against the one the profile expects (after any read-back)."""
    name = "sample rate"
    expected = profile.rate_hz
    measured = stats.rate_hz
    if measured is None:
        return Check(
            name,
            Status.WARN,
            f"too few packets to measure it ({plural(stats.packets, 'packet')} in "
            f"{stats.listened_s:.0f} s); {expected:g} Hz expected",
            "run longer: --seconds 30",
        )
    detail = f"{measured:.1f} Hz measured from the {stats.rate_from}, {expected:g} Hz expected"
    if abs(measured / expected - 1.0) <= RATE_TOLERANCE:
        return Check(name, Status.OK, detail)
    if stats.rate_from == "device clock":
        fix = (
            "its firmware keeps a rate of its own, whatever sitbreak sets: "
            f"{wrong_firmware_fix(profile.name)}"
        )
    elif measured < expected:
        fix = (
            "notifications are being lost on the way (this device numbers none, so a lower rate is "
            f"the only sign): {MOVE_CLOSER}"
        )
    else:
        fix = f"the wearable streams faster than it says: {wrong_firmware_fix(profile.name)}"
    return Check(name, Status.FAIL, detail, fix)


def gravity_check(stats: StreamStats) -> Check:
    """About 1 g at rest; a wearable that moved cannot tell."""
    name = "gravity"
    g = stats.gravity_g
    if g is None or stats.spread_g is None:
        return Check(name, Status.SKIPPED, "no samples")
    if stats.moved:
        return Check(
            name,
            Status.WARN,
            f"the wearable moved during the test (readings vary by {stats.spread_g:.2f} g); "
            f"{g:.2f} g on average",
            "lay it still on a table and run the doctor again to check it reads 1 g at rest",
        )
    detail = f"{g:.2f} g at rest (about 1 g expected)"
    if abs(g - 1.0) <= GRAVITY_TOLERANCE_G:
        return Check(name, Status.OK, detail)
    if g < 0.1:
        return Check(
            name, Status.FAIL, detail, "the accelerometer sends zeros: switch the wearable off and on"
        )
    return Check(
        name,
        Status.FAIL,
        detail,
        "the readings are scaled wrongly for this profile: name the right one with --profile, or "
        "update the wearable's firmware",
    )


def packets_check(stats: StreamStats, profile: DeviceProfile) -> Check:
    """Malformed, lost, repeated and reordered packets, as the service counts them."""
    name = "packets"
    malformed = sum(stats.malformed.values())
    if malformed:
        kinds = ", ".join(f"{k}: {n}" for k, n in sorted(stats.malformed.items()))
        return Check(
            name,
            Status.FAIL,
            f"{malformed} of {plural(stats.packets, 'packet')} could not be read ({kinds})",
            f"it does not send what the {profile.name} profile reads: {wrong_firmware_fix(profile.name)}",
        )
    lost_share = stats.gap_s / stats.listened_s if stats.listened_s > 0 else 0.0
    trouble = []
    if stats.gaps:
        lost = f"{plural(stats.lost_packets, 'packet')} and " if stats.lost_packets else ""
        trouble.append(f"{lost}{stats.gap_s:.1f} s of data lost in {plural(stats.gaps, 'gap')}")
    if stats.duplicates:
        trouble.append(f"{stats.duplicates} repeated")
    if stats.out_of_order:
        trouble.append(f"{stats.out_of_order} out of order")
    if trouble:
        status = Status.FAIL if lost_share > LOST_FAIL_SHARE else Status.WARN
        detail = f"{plural(stats.packets, 'packet')}; " + ", ".join(trouble)
        return Check(name, status, detail, MOVE_CLOSER)
    unseen = "" if profile.seq_modulus or profile.has_device_time else " (losses would show only in the rate)"
    return Check(name, Status.OK, f"{plural(stats.packets, 'packet')}, none lost or malformed{unseen}")


def battery_check(level: int | None) -> Check:
    if level is None:
        return Check("battery", Status.SKIPPED, "the wearable reports no battery level")
    if level < BATTERY_LOW_PCT:
        return Check("battery", Status.WARN, f"{level} %", "charge it")
    return Check("battery", Status.OK, f"{level} %")


def signal_check(rssi: int | None) -> Check:
    if rssi is None:
        return Check("signal", Status.SKIPPED, "no signal strength heard")
    if rssi >= SIGNAL_GOOD_DBM:
        return Check("signal", Status.OK, f"{rssi} dBm (good)")
    words = "weak" if rssi >= SIGNAL_WEAK_DBM else "very weak: the link may drop"
    return Check("signal", Status.WARN, f"{rssi} dBm ({words})", MOVE_CLOSER)


# ------------------------------------------------------------------ failures


def advise(exc: BaseException, stage: Stage, profile: ProfileName | None) -> tuple[str, str]:
    """What an exception means, in words, and the one next step."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, StreamStartError):
        return exc.detail, exc.fix or wrong_firmware_fix(profile)
    if _permission_denied(exc):
        return f"Bluetooth refused this user: {text}", PERMISSION_FIX
    unavailable = bluetooth_unavailable(exc)
    if unavailable is not None:
        return f"Bluetooth is unavailable: {unavailable}", _unavailable_fix(exc)
    if isinstance(exc, BleakCharacteristicNotFoundError):
        return f"the wearable has no characteristic {exc.char_specifier}", wrong_firmware_fix(profile)
    if stage is Stage.CONNECT:
        if isinstance(exc, TimeoutError):
            text = "no connection within the time allowed"
        return f"could not connect: {text}", STOP_OTHERS + MOVE_CLOSER
    if stage is Stage.START:
        if isinstance(exc, TimeoutError):
            return "the wearable did not answer in time", "switch the wearable off and on and try again"
        if isinstance(exc, BleakError) and "not connected" in text.lower():
            return f"the link dropped while starting: {text}", MOVE_CLOSER
        return f"the start was refused: {text}", wrong_firmware_fix(profile)
    return f"scanning failed: {text}", "restart Bluetooth: sudo systemctl restart bluetooth"


def _permission_denied(exc: BaseException) -> bool:
    if isinstance(exc, PermissionError):
        return True
    if isinstance(exc, BleakDBusError):
        return exc.dbus_error in {
            "org.freedesktop.DBus.Error.AccessDenied",
            "org.bluez.Error.NotAuthorized",
        }
    return isinstance(exc, BleakBluetoothNotAvailableError) and exc.reason in {
        BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM,
        BleakBluetoothNotAvailableReason.DENIED_BY_USER,
        BleakBluetoothNotAvailableReason.DENIED_BY_UNKNOWN,
    }


def _unavailable_fix(exc: BaseException) -> str:
    if isinstance(exc, BleakBluetoothNotAvailableError):
        if exc.reason is BleakBluetoothNotAvailableReason.POWERED_OFF:
            return (
                "switch Bluetooth on: bluetoothctl power on (if it stays off: sudo rfkill unblock bluetooth)"
            )
        if exc.reason is BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE:
            return "this adapter cannot connect to wearables: use a Bluetooth 4.0 (LE) or newer adapter"
        return (
            "no Bluetooth adapter: plug one in, or on a Raspberry Pi remove dtoverlay=disable-bt from "
            "/boot/firmware/config.txt and reboot"
        )
    if isinstance(exc, BleakDBusError):
        return "start the Bluetooth service: sudo systemctl enable --now bluetooth"
    if isinstance(exc, (FileNotFoundError, ConnectionRefusedError)):
        return "start D-Bus (systemctl status dbus); in a container, share /run/dbus/system_bus_socket"
    return "check the adapter: bluetoothctl list, then bluetoothctl show"
