"""A simulated wearable: one firmware (profile) plus its radio, and the fault switches tests pull.

    wearable = SimulatedWearable(profile="sitsense", source=WaveSource(), speed=60)
    emulator.add(wearable)           # starts advertising on the emulated adapter
    wearable.drop_link()             # link loss now
    wearable.go_out_of_range(3.0)    # silent for 3 wall seconds; Connect hangs, then fails
    wearable.power_off(at_ms=3.6e6)  # switched off to charge when the device clock reads 1 h
    wearable.power_on()              # and on again in the morning
    wearable.fail_next_connects(2)   # the next two Connect calls fail (le-connection-abort-by-local)
    wearable.refuse_pairing()        # Pair fails (AuthenticationFailed); the device stays unpaired
    wearable.inject("truncated")     # the next data packet arrives cut short
    wearable.set_fault_rates(lost=0.01, duplicated=0.01)
    SimulatedWearable(pace=10)       # samples 10x faster than declared: its time runs 10x too fast
    wearable.jump_clock(-60.0)       # the device clock is set back a minute (SitSense, Polar)

Every method is safe to call from any thread: once the wearable is added to a `BlueZEmulator`, the
change is made on the emulator's event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import threading
from collections import Counter
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from firmware_sim import bluez_defs as defs
from firmware_sim.device import (
    Battery,
    DeviceClock,
    Faults,
    Firmware,
    PacketFault,
    SentPacket,
    SpeedSchedule,
)
from firmware_sim.source import SampleSource, WaveSource

if TYPE_CHECKING:
    from firmware_sim.bluez import BlueZEmulator

T = TypeVar("T")

# A wearable a couple of metres from the Pi, through a body: comfortably above the ~-90 dBm where
# BLE links start to drop.
DEFAULT_RSSI_DBM = -60
# Static random addresses have the two top bits set (Core spec Vol 6 Part B 1.3.2.1); ours all start
# with F0:5E so they are easy to recognise in logs.
_ADDRESS_COUNTER = itertools.count(1)
_ADDRESS_LOCK = threading.Lock()


class Profile(StrEnum):
    """The simulated device families, named as the config's `profile` names them
    (`monitor.wearables.profiles.ProfileName`); `thingy`, the old name, still reads as `thingy52`."""

    SITSENSE = "sitsense"
    MICROBIT = "microbit"
    POLAR = "polar"
    THINGY52 = "thingy52"

    @classmethod
    def _missing_(cls, value: object) -> Profile | None:
        return cls.THINGY52 if value == OLD_THINGY_NAME else None


# What `python -m firmware_sim --profile` called the Thingy:52 before it took the config's name.
OLD_THINGY_NAME = "thingy"


def next_address() -> str:
    with _ADDRESS_LOCK:
        n = next(_ADDRESS_COUNTER)
    return f"F0:5E:00:00:{(n >> 8) & 0xFF:02X}:{n & 0xFF:02X}"


def make_firmware(
    profile: Profile,
    address: str,
    source: SampleSource,
    *,
    clock: DeviceClock,
    battery: Battery,
    faults: Faults,
    options: dict[str, Any],
) -> Firmware:
    from firmware_sim.firmware import SitSenseFirmware  # noqa: PLC0415 - avoid an import cycle

    if profile is Profile.SITSENSE:
        return SitSenseFirmware(address, source, clock=clock, battery=battery, faults=faults, **options)
    from firmware_sim import vendors  # noqa: PLC0415

    classes: dict[Profile, type[Firmware]] = {
        Profile.MICROBIT: vendors.MicrobitFirmware,
        Profile.POLAR: vendors.PolarFirmware,
        Profile.THINGY52: vendors.ThingyFirmware,
    }
    return classes[profile](address, source, clock=clock, battery=battery, faults=faults, **options)


class SimulatedWearable:
    """One simulated device. ``speed``: device time runs this many times faster than wall time (or
    as a `SpeedSchedule` says), and packets go out at the pace that implies. ``mtu``: the largest ATT
    MTU the device accepts. ``uptime_ms``: how long the device has been on when the simulation starts
    (e.g. just short of 2**32 ms to see its uint32 clock wrap). ``pace``: a device whose time is
    wrong against the simulation's: it samples ``pace`` times faster than the rate its packets
    declare (0.5: half as fast), so its samples come that much faster and the times it stamps,
    counted in declared periods, run that much too fast (``speed`` makes the whole simulation run
    faster, host included; ``pace`` is the device alone being wrong). Extra keyword arguments go to the
    firmware (SitSense: ``rate_hz``, ``range_g``, ``ignore_rate``; micro:bit: ``board``, ``period_ms``,
    ``accelerometer_service``; Polar: ``model``, ``frame_type``, ``clock_origin_ns``,
    ``refuse_settings``, ``refuse_start``, ``bonding_required``; Thingy: ``motion_freq_hz``,
    ``config``)."""

    def __init__(
        self,
        profile: Profile | str = Profile.SITSENSE,
        address: str | None = None,
        source: SampleSource | None = None,
        *,
        speed: float | SpeedSchedule = 1.0,
        mtu: int | None = None,
        rssi: int = DEFAULT_RSSI_DBM,
        battery_pct: float = 100.0,
        drain_pct_per_h: float = 2.0,
        seed: int = 0,
        address_type: str = "random",
        uptime_ms: float = 0.0,
        pace: float = 1.0,
        **firmware_options: Any,
    ) -> None:
        if not pace > 0 or not math.isfinite(pace):
            raise ValueError(f"pace={pace!r} must be finite and > 0")
        self.profile = Profile(profile)
        self.address = (address or next_address()).upper()
        defs.device_path(self.address)  # validates the shape early
        self.clock = DeviceClock(speed, boot_ms=uptime_ms)
        self.battery = Battery(self.clock, battery_pct, drain_pct_per_h)
        self.faults = Faults(seed)
        self.firmware = make_firmware(
            self.profile,
            self.address,
            source or WaveSource(),
            clock=self.clock,
            battery=self.battery,
            faults=self.faults,
            options=firmware_options,
        )
        self.firmware.pace = pace
        self.max_mtu = mtu or self.firmware.default_mtu
        self.rssi = rssi
        self.address_type = address_type
        # radio state, owned by the emulator loop once added
        self.in_range = True
        self.connect_failures = 0
        self.connect_failure_rate = 0.0
        self.connect_failure_text = defs.TEXT_LE_ABORT_BY_LOCAL
        self.pairing_error: tuple[str, str] | None = None  # Pair fails with this (D-Bus error, text)
        self.connects = 0  # successful connections so far
        self._emulator: BlueZEmulator | None = None
        self._power_timer: asyncio.TimerHandle | None = None  # a timed power_off, on the emulator loop

    def __repr__(self) -> str:
        return f"SimulatedWearable({self.profile.value}, {self.address})"

    @property
    def name(self) -> str | None:
        return self.firmware.advertisement().name

    # ---- plumbing ----------------------------------------------------------------------------------
    def _attach(self, emulator: BlueZEmulator | None) -> None:
        self._emulator = emulator

    def _run(self, fn: Callable[[], T]) -> T:
        if self._emulator is None:
            return fn()
        return self._emulator.call(fn)

    # ---- fault injection ------------------------------------------------------------------------------
    def drop_link(self) -> None:
        """Lose the connection now, as a supervision timeout would: the host sees ServicesResolved and
        Connected go False and the GATT objects disappear; the device starts advertising again."""
        self._run(lambda: self._emulator._drop_link(self) if self._emulator else None)

    def go_out_of_range(self, seconds: float | None = None) -> None:
        """Drop any link and go silent: no advertising, Connect hangs until the emulator's connect
        timeout and then fails with le-connection-abort-by-local. Back after ``seconds`` wall seconds
        (never on its own when None: call `come_back`)."""

        def apply() -> None:
            if self._emulator is not None:
                self._emulator._set_in_range(self, False, seconds)
            else:
                self.in_range = False

        self._run(apply)

    def come_back(self) -> None:
        """In range again: advertising resumes and a pending Connect completes."""

        def apply() -> None:
            if self._emulator is not None:
                self._emulator._set_in_range(self, True, None)
            else:
                self.in_range = True

        self._run(apply)

    def power_off(self, at_ms: float | None = None) -> None:
        """Switched off (or charging with the radio off): the link drops and advertising stops, as
        out of range looks to the host. Now, or when the device clock reads ``at_ms``: timed on the
        emulator's loop, so it falls exactly between the packets around it however late the caller's
        thread runs. The device clock runs on, as a real one's RTC does, so the host sees the night
        as a gap of exactly the time that passed."""

        def off() -> None:
            self._power_timer = None
            self.firmware.off_at_ms = None
            if self._emulator is not None:
                self._emulator._set_in_range(self, False, None)
            else:
                self.in_range = False

        def apply() -> None:
            self._cancel_power_timer()
            if at_ms is None:
                off()
            elif self._emulator is None:
                raise RuntimeError("a timed power_off needs the wearable added to an emulator")
            else:
                delay = self.clock.wall_delay_s(at_ms)
                self.firmware.off_at_ms = at_ms
                self._power_timer = asyncio.get_running_loop().call_later(delay, off)

        self._run(apply)

    def power_on(self, battery_pct: float | None = None) -> None:
        """Switched on again, advertising (a pending timed `power_off` is cancelled); ``battery_pct``:
        charged to this level meanwhile."""
        self._run(self._cancel_power_timer)
        if battery_pct is not None:
            self.set_battery(battery_pct)
        self.come_back()

    def _cancel_power_timer(self) -> None:
        self.firmware.off_at_ms = None
        if self._power_timer is not None:
            self._power_timer.cancel()
            self._power_timer = None

    def fail_next_connects(self, count: int, text: str = defs.TEXT_LE_ABORT_BY_LOCAL) -> None:
        """The next ``count`` Connect calls fail with org.bluez.Error.Failed and this text."""

        def apply() -> None:
            self.connect_failures = count
            self.connect_failure_text = text

        self._run(apply)

    def refuse_pairing(
        self,
        error: str = defs.ERROR_AUTHENTICATION_FAILED,
        text: str = defs.TEXT_AUTHENTICATION_FAILED,
    ) -> None:
        """From now on Pair fails with this BlueZ error (e.g. a micro:bit that wants a passkey, or
        one not in pairing mode); the device stays unpaired."""

        def apply() -> None:
            self.pairing_error = (error, text)

        self._run(apply)

    def set_connect_failure_rate(self, rate: float, text: str = defs.TEXT_LE_ABORT_BY_LOCAL) -> None:
        """From now on each Connect fails with this probability, as on a Pi whose 2.4 GHz band is
        busy (le-connection-abort-by-local is the commonest BlueZ connect error there)."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"connect failure rate must be in 0..1, got {rate}")

        def apply() -> None:
            self.connect_failure_rate = rate
            self.connect_failure_text = text

        self._run(apply)

    def take_connect_failure(self) -> bool:
        """Whether the Connect now being attempted fails (called by the emulator)."""
        if self.connect_failures > 0:
            self.connect_failures -= 1
            return True
        return self.connect_failure_rate > 0 and bool(self.faults.rng.random() < self.connect_failure_rate)

    def inject(self, kind: PacketFault | str, count: int = 1) -> None:
        """The next ``count`` data packets get this fault."""
        self._run(lambda: self.faults.inject(kind, count))

    def set_fault_rates(self, **rates: float) -> None:
        """Random packet faults from now on: ``set_fault_rates(lost=0.01, reordered=0.005)``."""
        self._run(lambda: self.faults.set_rates(**rates))

    def fifo_overflow(self, samples: int) -> None:
        """The device loses ``samples`` samples on board (its FIFO overflowed) before the next packet:
        the sequence number runs on, the device time jumps, and SitSense sets its OVERFLOW flag."""

        def apply() -> None:
            self.firmware.skip_samples += samples

        self._run(apply)

    def jump_clock(self, seconds: float) -> None:
        """The device's clock jumps by ``seconds`` (set by an app, a reset RTC): the packets from
        the next on are stamped that much later (earlier when negative) while their samples and
        sequence numbers go on as before. Only formats with a device clock show it (SitSense, Polar)."""

        def apply() -> None:
            self.firmware.clock_jump_s += seconds

        self._run(apply)

    def set_battery(self, level_pct: float, drain_pct_per_h: float | None = None) -> None:
        """Charge now, and optionally a new drain rate (% per device hour)."""
        self._run(lambda: self.battery.set(level_pct, drain_pct_per_h))

    def set_rssi(self, dbm: int) -> None:
        """Signal strength at the adapter from now on (each advertisement adds a few dB of jitter)."""

        def apply() -> None:
            self.rssi = dbm

        self._run(apply)

    def on_device(self, fn: Callable[[Firmware], T]) -> T:
        """Run ``fn(firmware)`` where the firmware lives (the emulator's loop), e.g. a Polar that
        stops its stream itself: ``wearable.on_device(lambda fw: fw.stop_measurement_from_device())``."""
        return self._run(lambda: fn(self.firmware))

    # ---- observation ----------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._run(lambda: self._emulator is not None and self._emulator._is_connected(self))

    @property
    def streaming(self) -> bool:
        return self._run(lambda: self.firmware.streaming)

    def sent(self) -> list[SentPacket]:
        """Every packet framed so far (oldest may be dropped past a large limit), with its fault."""
        return self._run(lambda: list(self.firmware.sent))

    def fault_counts(self) -> Counter[PacketFault]:
        return self._run(lambda: Counter(self.firmware.fault_counts))

    def device_time_ms(self) -> float:
        return self.clock.now_ms()
