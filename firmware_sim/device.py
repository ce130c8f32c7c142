"""What every simulated firmware shares: the device clock, advertising data, battery, packet faults and
the streaming loop that turns a sample source into notifications at the pace the sample rate implies.

Vendor-specific framing lives in the subclasses (`firmware_sim.firmware` for the sitbreak reference
firmware, `firmware_sim.vendors` for micro:bit, Polar and Thingy:52).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from abc import ABC, abstractmethod
from collections import Counter, deque
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from firmware_sim.gatt import Characteristic, Service, uuid16
from firmware_sim.source import Float32Array, SampleSource

_LOGGER = logging.getLogger(__name__)

# Entries kept in `Firmware.sent` (~5 MB): about 4 h of 50 Hz data in 39-sample packets; older ones
# are dropped so a long demo does not grow without bound.
SENT_LOG_LIMIT = 20_000
# A stalled loop catches up in bursts of at most this many packets before yielding to other tasks.
CATCH_UP_BURST = 64
# A stream held at a pending switch-off checks again this often (wall s) until the link ends.
OFF_WAIT_S = 0.01


class PacketFault(StrEnum):
    """Ways a notification can go wrong between the firmware and the host."""

    LOST = "lost"  # never arrives (radio loss): a sequence gap
    DUPLICATED = "duplicated"  # arrives twice
    REORDERED = "reordered"  # arrives after the packet that followed it
    TRUNCATED = "truncated"  # cut short
    OVERSIZED = "oversized"  # longer than its header declares (trailing garbage)
    MALFORMED = "malformed"  # right length, invalid content (unknown version / frame type)


@dataclass(frozen=True, slots=True)
class SentPacket:
    """One packet as the firmware framed it, before faults were applied, and what happened to it."""

    first_index: int  # sample index (on the firmware's sample clock) of the first sample
    count: int
    rate_hz: float
    payload: bytes
    fault: PacketFault | None


@dataclass(frozen=True, slots=True)
class Advertisement:
    name: str | None
    service_uuids: tuple[str, ...] = ()
    manufacturer_data: dict[int, bytes] = field(default_factory=dict)
    service_data: dict[str, bytes] = field(default_factory=dict)
    tx_power: int | None = None


@dataclass(frozen=True, slots=True)
class SpeedSchedule:
    """How fast simulated time runs against the monotonic wall clock, as a piecewise-linear function.

    ``phases``: (data seconds, speed) pairs in order: the first ``phases[0][0]`` seconds of data time
    run at ``phases[0][1]`` times real time, and so on; after the last phase time runs at ``speed``.
    A soak test runs the hours a wearable is worn at a few hundred times real time and the nights it
    spends switched off at tens of thousands: a day of data costs wall seconds only for what is
    worn. Every party to the simulation (the device, the service under test) evaluates the same
    schedule from the same monotonic origin, so they agree on the data time at every wall instant.

    >>> s = SpeedSchedule(((60.0, 10.0),), speed=100.0)
    >>> s.data_s(6.0), s.data_s(7.0), s.wall_s(160.0)
    (60.0, 160.0, 7.0)
    """

    phases: tuple[tuple[float, float], ...] = ()
    speed: float = 1.0

    def __post_init__(self) -> None:
        for data_s, speed in self.phases:
            if not data_s > 0 or not math.isfinite(data_s):
                raise ValueError(f"phase length {data_s!r} s must be finite and > 0")
            if not speed > 0 or not math.isfinite(speed):
                raise ValueError(f"phase speed {speed!r} must be finite and > 0")
        if not self.speed > 0 or not math.isfinite(self.speed):
            raise ValueError(f"speed={self.speed!r} must be finite and > 0")

    def data_s(self, wall_s: float) -> float:
        """Data seconds elapsed after ``wall_s`` wall seconds (before the origin: the first speed)."""
        if wall_s < 0:
            return wall_s * self._first_speed()
        done = 0.0
        for length, speed in self.phases:
            span = length / speed
            if wall_s <= span:
                return done + wall_s * speed
            wall_s -= span
            done += length
        return done + wall_s * self.speed

    def wall_s(self, data_s: float) -> float:
        """Wall seconds until ``data_s`` data seconds have elapsed: the inverse of `data_s`."""
        if data_s < 0:
            return data_s / self._first_speed()
        wall = 0.0
        for length, speed in self.phases:
            if data_s <= length:
                return wall + data_s / speed
            data_s -= length
            wall += length / speed
        return wall + data_s / self.speed

    def _first_speed(self) -> float:
        return self.phases[0][1] if self.phases else self.speed

    def speed_at(self, data_s: float) -> float:
        """The speed at ``data_s`` data seconds (a boundary belongs to the phase it starts)."""
        for length, speed in self.phases:
            if data_s < length:
                return speed
            data_s -= length
        return self.speed

    def to_json(self) -> str:
        return json.dumps({"phases": [list(p) for p in self.phases], "speed": self.speed})

    @classmethod
    def from_json(cls, text: str) -> SpeedSchedule:
        """The schedule `to_json` wrote; ValueError (naming the problem) for anything else."""
        try:
            raw = json.loads(text)
            phases = tuple((float(a), float(b)) for a, b in raw["phases"])
            return cls(phases, float(raw["speed"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not a speed schedule ({exc}): {text[:80]!r}") from exc


class DeviceClock:
    """Device time in ms since boot, advancing ``speed`` times faster than the monotonic wall clock.

    ``speed`` is a constant or a `SpeedSchedule` (device time 0 of the schedule is ``boot_ms``).
    ``origin``: the `time.monotonic()` instant at which the clock reads ``boot_ms`` (default: now);
    give it to start several clocks on one time line."""

    def __init__(
        self, speed: float | SpeedSchedule = 1.0, boot_ms: float = 0.0, origin: float | None = None
    ) -> None:
        if isinstance(speed, SpeedSchedule):
            self.schedule = speed
        else:
            if speed <= 0:
                raise ValueError(f"speed={speed} must be > 0")
            self.schedule = SpeedSchedule(speed=float(speed))
        self._boot_ms = boot_ms
        self._wall0 = time.monotonic() if origin is None else origin

    @property
    def origin(self) -> float:
        """The monotonic instant at which the clock read its boot value."""
        return self._wall0

    @property
    def speed(self) -> float:
        """How many device seconds pass per wall second right now."""
        return self.schedule.speed_at(self.schedule.data_s(time.monotonic() - self._wall0))

    def now_ms(self) -> float:
        return self._boot_ms + self.schedule.data_s(time.monotonic() - self._wall0) * 1000.0

    def wall_delay_s(self, device_ms: float) -> float:
        """Wall seconds until the device clock reads ``device_ms`` (0 when already past)."""
        at = self._wall0 + self.schedule.wall_s((device_ms - self._boot_ms) / 1000.0)
        return max(0.0, at - time.monotonic())


class Battery:
    """State of charge that drains linearly with device time."""

    def __init__(self, clock: DeviceClock, level_pct: float = 100.0, drain_pct_per_h: float = 2.0) -> None:
        self._clock = clock
        self._level = level_pct
        self._since_ms = clock.now_ms()
        self.drain_pct_per_h = drain_pct_per_h

    def level(self) -> int:
        hours = (self._clock.now_ms() - self._since_ms) / 3_600_000.0
        return max(0, min(100, math.ceil(self._level - hours * self.drain_pct_per_h)))

    def set(self, level_pct: float, drain_pct_per_h: float | None = None) -> None:
        self._level = level_pct
        self._since_ms = self._clock.now_ms()
        if drain_pct_per_h is not None:
            self.drain_pct_per_h = drain_pct_per_h


class Faults:
    """Packet faults: commanded ones (next N packets) first, then random ones at the given rates."""

    def __init__(self, seed: int = 0) -> None:
        self.rates: dict[PacketFault, float] = {}
        self._queue: deque[PacketFault] = deque()
        self.rng = np.random.default_rng(seed)

    def set_rates(self, **rates: float) -> None:
        """``set_rates(lost=0.01, duplicated=0.02)``: probability per packet for each kind."""
        for name, p in rates.items():
            kind = PacketFault(name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"rate for {name} must be in 0..1, got {p}")
            self.rates[kind] = p

    def inject(self, kind: PacketFault | str, count: int = 1) -> None:
        self._queue.extend([PacketFault(kind)] * count)

    def next(self) -> PacketFault | None:
        if self._queue:
            return self._queue.popleft()
        for kind, p in self.rates.items():
            if p > 0 and self.rng.random() < p:
                return kind
        return None


class Firmware(ABC):
    """Base of every simulated firmware. Runs on the emulator's event loop."""

    profile: str = ""
    default_mtu: int = 247  # what ESP32 and nRF52 stacks offer by default (Data Length Extension)

    def __init__(
        self, address: str, source: SampleSource, *, clock: DeviceClock, battery: Battery, faults: Faults
    ) -> None:
        self.address = address
        self.source = source
        self.clock = clock
        self.battery = battery
        self.faults = faults
        self.mtu = 23
        # The host has paired (bonded) with this device; a real device keeps the bond across
        # connections, so the emulator sets it on Pair and never clears it.
        self.bonded = False
        self.sent: deque[SentPacket] = deque(maxlen=SENT_LOG_LIMIT)
        self.fault_counts: Counter[PacketFault] = Counter()
        self.packets_out = 0  # notifications actually handed to the link, faults included
        self.stream_starts = 0
        self.skip_samples = 0  # a pending on-device FIFO overflow: samples that will never be sent
        self.overflowed = False  # the next packet follows an overflow
        # A timed switch-off (device ms): no sample at or after it is sent, even by a stream catching
        # up in a burst ahead of the timer that ends the link.
        self.off_at_ms: float | None = None
        # A device whose time is wrong (see `SimulatedWearable`): it samples `pace` times faster than
        # the rate its packets declare, so the times it stamps (counted in declared periods) run
        # `pace` times too fast; and its clock reads `clock_jump_s` off from then on.
        self.pace = 1.0
        self.clock_jump_s = 0.0
        self._held: bytes | None = None
        self._task: asyncio.Task[None] | None = None
        self._battery_reported = -1
        self.battery_char = Characteristic(uuid16(0x2A19), ("read", "notify"), on_read=self._read_battery)
        self.services = self.build_services()

    # ---- declared by each firmware -------------------------------------------------------------
    @abstractmethod
    def build_services(self) -> list[Service]: ...

    @abstractmethod
    def advertisement(self) -> Advertisement: ...

    @property
    @abstractmethod
    def data_char(self) -> Characteristic:
        """The characteristic that carries acceleration packets."""

    @abstractmethod
    def rate_hz(self) -> float: ...

    @abstractmethod
    def samples_per_packet(self) -> int: ...

    @abstractmethod
    def frame(self, first_index: int, xyz_g: Float32Array) -> bytes:
        """One notification's bytes for these samples (first one at ``first_index``)."""

    def malformed(self, payload: bytes) -> bytes:
        """This profile's idea of a packet with the right size but invalid content."""
        return bytes(len(payload))

    def stream_while_subscribed(self, on: bool) -> None:
        """The usual data characteristic: streaming runs exactly while the host is subscribed."""
        if on:
            self.start_stream()
        else:
            self.stop_stream()

    # ---- link life cycle (called by the emulator) ----------------------------------------------
    def connected(self, mtu: int) -> None:
        self.mtu = mtu

    def disconnected(self) -> None:
        for service in self.services:
            for char in service.characteristics:
                char.sink = None
                char.subscribed = False
        self.stop_stream()
        self._held = None

    # ---- streaming -------------------------------------------------------------------------------
    @property
    def streaming(self) -> bool:
        return self._task is not None and not self._task.done()

    def start_stream(self) -> None:
        if self.streaming:
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"stream {self.address}")

    def stop_stream(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def on_stream_start(self) -> None:
        """Streaming (re)starts; subclasses also reset their sequence numbers here."""
        self.stream_starts += 1

    async def _run(self) -> None:
        rate = self.rate_hz()
        # Sample k is taken at device time k / (rate * pace) and stamped k / rate (see `pace`).
        pace = self.pace
        index = math.ceil(self.clock.now_ms() * pace * rate / 1000.0)
        self.on_stream_start()
        _LOGGER.debug("%s: streaming from sample %d at %g Hz", self.address, index, rate)
        burst = 0
        while True:
            if self.skip_samples:
                index += self.skip_samples
                self.skip_samples = 0
                self.overflowed = True
            count = self.samples_per_packet()
            last_ms = (index + count - 1) * 1000.0 / rate / pace
            delay = self.clock.wall_delay_s(last_ms)
            if self.off_at_ms is not None and last_ms >= self.off_at_ms:
                # Off before this packet is complete: wait for the switch-off to end the stream
                # (or for a switch-on that cancels it).
                await asyncio.sleep(max(delay, OFF_WAIT_S))
                continue
            if delay > 0 or burst >= CATCH_UP_BURST:
                await asyncio.sleep(delay)
                burst = 0
            burst += 1
            xyz = self.source.samples(rate, index, count)
            # A clock that jumped stamps the samples that much off (formats without a clock: no effect).
            payload = self.frame(index + round(self.clock_jump_s * rate), xyz)
            self.overflowed = False
            self.emit(index, count, rate, payload)
            index += count

    def emit(self, first_index: int, count: int, rate: float, payload: bytes) -> None:
        """Apply the next fault, if any, and hand the packet to the link."""
        fault = self.faults.next()
        self.sent.append(SentPacket(first_index, count, rate, payload, fault))
        if fault is not None:
            self.fault_counts[fault] += 1
        rng = self.faults.rng
        out: list[bytes]
        if fault is PacketFault.LOST:
            out = []
        elif fault is PacketFault.DUPLICATED:
            out = [payload, payload]
        elif fault is PacketFault.REORDERED:
            self._flush_held()
            self._held = payload
            return
        elif fault is PacketFault.TRUNCATED:
            out = [payload[: int(rng.integers(1, max(2, len(payload))))]]
        elif fault is PacketFault.OVERSIZED:
            extra = rng.integers(0, 256, size=max(6, len(payload) // 2), dtype=np.uint8).tobytes()
            out = [payload + extra]
        elif fault is PacketFault.MALFORMED:
            out = [self.malformed(payload)]
        else:
            out = [payload]
        for value in out:
            self._send(value)
        self._flush_held()

    def _flush_held(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            self._send(held)

    def _send(self, value: bytes) -> None:
        if self.data_char.notify(value):
            self.packets_out += 1

    # ---- battery ---------------------------------------------------------------------------------
    def _read_battery(self) -> bytes:
        return bytes([self.battery.level()])

    def tick(self) -> None:
        """Housekeeping the emulator calls a few times a second: battery notifications."""
        level = self.battery.level()
        if level != self._battery_reported:
            self._battery_reported = level
            self.battery_char.notify(bytes([level]))

    def battery_service(self) -> Service:
        return Service(uuid16(0x180F), [self.battery_char])
