"""The device clock, the speed schedule that lets a soak run fast nights and slower days, and a
device switched off for the night."""

from __future__ import annotations

import asyncio
import itertools
import time

import numpy as np
import pytest

from firmware_sim.bluez import BlueZEmulator
from firmware_sim.device import Battery, DeviceClock, Faults, SpeedSchedule
from firmware_sim.firmware import SitSenseFirmware
from firmware_sim.gatt import Characteristic
from firmware_sim.source import WaveSource
from firmware_sim.wearable import SimulatedWearable
from tests.ble_fixtures import AddWearable

# A day at 200x for 60 data s, a night at 50000x for 10000 data s, then 100x.
DAY_NIGHT = SpeedSchedule(((60.0, 200.0), (10_000.0, 50_000.0)), speed=100.0)


def test_schedule_maps_wall_to_data_piecewise() -> None:
    s = DAY_NIGHT
    assert s.data_s(0.0) == 0.0
    assert s.data_s(0.15) == pytest.approx(30.0)
    assert s.data_s(0.3) == pytest.approx(60.0)  # the end of the day phase
    assert s.data_s(0.3 + 0.1) == pytest.approx(60.0 + 5000.0)
    assert s.data_s(0.3 + 0.2) == pytest.approx(10_060.0)  # the night is over in 0.2 wall s
    assert s.data_s(1.5) == pytest.approx(10_060.0 + 100.0)  # then `speed` for ever
    assert s.data_s(-1.0) == pytest.approx(-200.0)  # before the origin: the first speed


def test_wall_s_inverts_data_s_everywhere() -> None:
    for wall in np.linspace(-0.5, 3.0, 71):
        assert DAY_NIGHT.wall_s(DAY_NIGHT.data_s(float(wall))) == pytest.approx(float(wall), abs=1e-9)
    # strictly increasing: a clock that never goes back
    data = [DAY_NIGHT.data_s(float(w)) for w in np.linspace(0.0, 2.0, 400)]
    assert all(b > a for a, b in itertools.pairwise(data))


def test_speed_at_names_the_phase() -> None:
    assert DAY_NIGHT.speed_at(0.0) == 200.0
    assert DAY_NIGHT.speed_at(59.9) == 200.0
    assert DAY_NIGHT.speed_at(60.0) == 50_000.0
    assert DAY_NIGHT.speed_at(10_060.0) == 100.0


def test_schedule_round_trips_through_json_and_rejects_nonsense() -> None:
    assert SpeedSchedule.from_json(DAY_NIGHT.to_json()) == DAY_NIGHT
    with pytest.raises(ValueError, match="not a speed schedule"):
        SpeedSchedule.from_json('{"phases": [[1, 2]]}')
    with pytest.raises(ValueError, match="not a speed schedule"):
        SpeedSchedule.from_json("fast")
    with pytest.raises(ValueError, match="phase speed"):
        SpeedSchedule(((10.0, 0.0),))
    with pytest.raises(ValueError, match="phase length"):
        SpeedSchedule(((-1.0, 10.0),))
    with pytest.raises(ValueError, match="speed="):
        SpeedSchedule(speed=float("inf"))


def test_constant_speed_clock_behaves_as_before() -> None:
    clock = DeviceClock(50.0, boot_ms=1000.0)
    assert clock.speed == 50.0
    assert clock.schedule == SpeedSchedule(speed=50.0)
    t0 = clock.now_ms()
    assert 1000.0 <= t0 < 1000.0 + 50.0 * 1000.0  # well under a wall second since construction
    # 500 device ms at 50x are 10 wall ms away
    assert clock.wall_delay_s(t0 + 500.0) == pytest.approx(0.01, abs=0.005)
    assert clock.wall_delay_s(t0 - 1.0) == 0.0
    with pytest.raises(ValueError, match="speed=0"):
        DeviceClock(0)


def test_scheduled_clock_follows_the_schedule_from_a_shared_origin() -> None:
    origin = time.monotonic() - 0.4  # 0.1 wall s into the night
    clock = DeviceClock(DAY_NIGHT, boot_ms=5000.0, origin=origin)
    assert clock.origin == origin
    assert clock.speed == 50_000.0
    elapsed = time.monotonic() - origin
    assert clock.now_ms() == pytest.approx(5000.0 + DAY_NIGHT.data_s(elapsed) * 1000.0, rel=1e-3)
    # the end of the night is at 0.5 wall s after the origin
    wait = clock.wall_delay_s(5000.0 + 10_060.0 * 1000.0)
    assert wait == pytest.approx(origin + 0.5 - time.monotonic(), abs=0.005)
    # a second clock on the same origin reads the same
    twin = DeviceClock(DAY_NIGHT, boot_ms=5000.0, origin=origin)
    assert abs(twin.now_ms() - clock.now_ms()) < 0.01 * 50_000.0 * 1000.0


class _Sink:
    """Records the device time at which each notification went out."""

    def __init__(self, clock: DeviceClock) -> None:
        self.clock = clock
        self.at_ms: list[float] = []

    def notify(self, _char: Characteristic, _value: bytes) -> None:
        self.at_ms.append(self.clock.now_ms())


def test_firmware_streams_at_the_pace_of_each_phase() -> None:
    """2 s of data at 10x (0.2 wall s), then 20 s at 200x (0.1 wall s): every packet goes out once
    its last sample has been taken on the device clock, never before, and none is left behind."""
    schedule = SpeedSchedule(((2.0, 10.0), (20.0, 200.0)), speed=10.0)

    async def main() -> tuple[float, SitSenseFirmware, _Sink]:
        clock = DeviceClock(schedule)
        fw = SitSenseFirmware(
            "F0:5E:00:00:1A:2C", WaveSource(), clock=clock, battery=Battery(clock), faults=Faults()
        )
        sink = _Sink(clock)
        fw.connected(247)
        fw.data_char.sink = sink
        fw.data_char.subscribed = True
        start = time.monotonic()
        fw.start_stream()
        await asyncio.sleep(schedule.wall_s(22.0) - (start - clock.origin))
        fw.stop_stream()
        return time.monotonic() - start, fw, sink

    wall, fw, sink = asyncio.run(main())
    assert wall >= 0.25
    sent = list(fw.sent)
    assert len(sent) == len(sink.at_ms)
    for packet, at_ms in zip(sent, sink.at_ms, strict=True):
        last_ms = (packet.first_index + packet.count - 1) * 1000.0 / packet.rate_hz
        assert at_ms >= last_ms - 1.0, f"packet ending at {last_ms} ms sent early, at {at_ms} ms"
    last = sent[-1]
    # the stream kept up through the change of speed: at 10x throughout it would have reached 3 s
    # of data; 5 s of slack is 25 wall ms at 200x, for a loaded machine
    assert (last.first_index + last.count) / last.rate_hz == pytest.approx(22.0, abs=5.0)


class _StallingSink(_Sink):
    """Stalls the loop once, inside a notification (a loaded machine preempting the emulator in the
    middle of a burst), at the first packet sent at or after `stall_at_ms` on the device clock."""

    def __init__(self, clock: DeviceClock, stall_at_ms: float, stall_s: float) -> None:
        super().__init__(clock)
        self.stall_at_ms = stall_at_ms
        self.stall_s = stall_s

    def notify(self, char: Characteristic, value: bytes) -> None:
        super().notify(char, value)
        if self.stall_s and self.at_ms[-1] >= self.stall_at_ms:
            time.sleep(self.stall_s)
            self.stall_s = 0.0


def test_a_stream_catching_up_stops_at_a_timed_switch_off() -> None:
    """A loop stalled mid-stream just before a timed switch-off catches up in a burst that runs
    past the switch-off before its timer can end the link: the burst must stop at the switch-off,
    or a device switched off for the night sends seconds of data from after it."""
    speed = 200.0

    async def main() -> tuple[float, SitSenseFirmware]:
        clock = DeviceClock(speed)
        fw = SitSenseFirmware(
            "F0:5E:00:00:1A:2D", WaveSource(), clock=clock, battery=Battery(clock), faults=Faults()
        )
        fw.connected(247)
        off_ms = clock.now_ms() + 15_000.0  # 75 wall ms ahead
        # stall for 20 s of data from 3 s before the switch-off
        fw.data_char.sink = _StallingSink(clock, off_ms - 3_000.0, 0.1)
        fw.data_char.subscribed = True
        fw.off_at_ms = off_ms
        asyncio.get_running_loop().call_later(clock.wall_delay_s(off_ms), fw.stop_stream)
        fw.start_stream()
        await asyncio.sleep(0.3)
        return off_ms, fw

    off_ms, fw = asyncio.run(main())
    ends = [(p.first_index + p.count - 1) * 1000.0 / p.rate_hz for p in fw.sent]
    period_ms = fw.sent[-1].count * 1000.0 / fw.sent[-1].rate_hz
    assert max(ends) < off_ms, f"sent data up to {max(ends) - off_ms:.0f} ms past the switch-off"
    assert max(ends) >= off_ms - period_ms - 1.0, "data before the switch-off was held back"


def test_power_off_for_the_night_and_on_charged() -> None:
    clock_origin = time.monotonic()
    wearable = SimulatedWearable(speed=DAY_NIGHT, battery_pct=40.0)
    assert wearable.clock.schedule == DAY_NIGHT
    assert wearable.clock.origin >= clock_origin
    in_range = []
    wearable.power_off()
    in_range.append(wearable.in_range)
    wearable.power_on(battery_pct=100.0)
    in_range.append(wearable.in_range)
    assert in_range == [False, True]
    assert wearable.battery.level() == 100


def test_timed_power_off_lands_on_the_device_clock(bluez: BlueZEmulator, add_wearable: AddWearable) -> None:
    """Scheduled on the emulator's loop: off when the device clock reads the time asked, not when
    the caller gets round to it; power_on cancels one still pending."""
    wearable = add_wearable(speed=100.0, emulator=bluez)
    at_ms = wearable.device_time_ms() + 30_000.0  # 0.3 wall s ahead
    wearable.power_off(at_ms=at_ms)
    assert wearable._run(lambda: wearable.in_range)
    deadline = time.monotonic() + 5.0
    while wearable._run(lambda: wearable.in_range) and time.monotonic() < deadline:
        time.sleep(0.005)
    off_ms = wearable.device_time_ms()
    assert at_ms <= off_ms < at_ms + 20_000.0  # never before the time asked, soon after
    wearable.power_on()
    assert wearable._run(lambda: wearable.in_range)

    wearable.power_off(at_ms=wearable.device_time_ms() + 20_000.0)
    wearable.power_on()  # before the switch-off was due: it never happens
    time.sleep(0.4)
    assert wearable._run(lambda: wearable.in_range)
