"""The firmware and its packet format without any bus: framing, clocks, sources, faults."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from firmware_sim.device import Battery, DeviceClock, Faults, PacketFault
from firmware_sim.firmware import SitSenseFirmware
from firmware_sim.gatt import AttError, Characteristic
from firmware_sim.motion import Activity, MotionConfig, Segment
from firmware_sim.source import WaveSource, motion_source
from firmware_sim.wearable import SimulatedWearable
from monitor.wearables import sitsense_format as fmt


class Collector:
    """Stands in for the emulator's link: records notifications per characteristic."""

    def __init__(self) -> None:
        self.values: list[tuple[str, bytes]] = []

    def notify(self, char: Characteristic, value: bytes) -> None:
        self.values.append((char.uuid, value))


def firmware(speed: float = 1.0, **options: Any) -> SitSenseFirmware:
    clock = DeviceClock(speed)
    return SitSenseFirmware(
        "F0:5E:00:00:1A:2B",
        WaveSource(),
        clock=clock,
        battery=Battery(clock),
        faults=Faults(seed=1),
        **options,
    )


def subscribe(fw: SitSenseFirmware, mtu: int = 247) -> Collector:
    sink = Collector()
    fw.connected(mtu)
    for service in fw.services:
        for char in service.characteristics:
            char.sink = sink
    return sink


@pytest.mark.parametrize(("mtu", "count"), [(23, 1), (27, 2), (185, 28), (247, 39), (517, 84)])
def test_samples_per_packet_fill_the_mtu(mtu: int, count: int) -> None:
    assert fmt.samples_per_packet(mtu) == count
    assert fmt.HEADER_SIZE + count * fmt.SAMPLE_SIZE <= mtu - 3 < fmt.HEADER_SIZE + (count + 1) * 6


def test_packet_round_trip_wraps_sequence_and_time() -> None:
    counts = np.array([[1, -2, 3], [32767, -32768, 0]], dtype=np.int16)
    data = fmt.encode_packet(65536 + 5, 2**32 + 40, 100, 8, counts, flags=fmt.FLAG_OVERFLOW)
    packet = fmt.decode_packet(data)
    assert (packet.seq, packet.t0_ms, packet.rate_hz, packet.range_g) == (5, 40, 100, 8)
    assert packet.flags == fmt.FLAG_OVERFLOW
    np.testing.assert_array_equal(packet.samples, counts)
    np.testing.assert_allclose(packet.g()[1], [32767 / 4096, -8.0, 0.0])


def test_quantisation_rounds_and_clips_at_full_scale() -> None:
    counts = fmt.g_to_counts([[1.0, -1.0, 0.00006], [3.0, -3.0, 1.99995]], 2)
    np.testing.assert_array_equal(counts, [[16384, -16384, 1], [32767, -32768, 32767]])


def test_device_name_uses_the_last_two_address_bytes() -> None:
    assert fmt.device_name("f0:5e:00:00:1a:2b") == "SitSense-1A2B"
    with pytest.raises(ValueError, match="not a Bluetooth address"):
        fmt.device_name("F0:5E")


def test_config_write_validates_and_restarts_nothing_when_idle() -> None:
    fw = firmware()
    config = next(c for s in fw.services for c in s.characteristics if c.uuid == fmt.CONFIG_CHAR_UUID)
    assert config.on_write is not None
    config.on_write(fmt.encode_config(25, 2), True)
    assert fmt.decode_config(config.read()) == (25, 2)
    for bad in (b"\x03\x00", b"\x00\x03", b"\x01"):
        with pytest.raises(AttError) as refused:
            config.on_write(bad, True)
        assert refused.value.code == 0x13
    assert fmt.decode_config(config.read()) == (25, 2)


def test_a_firmware_that_ignores_the_rate_keeps_its_own_and_says_so() -> None:
    """`ignore_rate`: the range is taken, the rate is not; the config and every packet tell the
    rate really used (what `sitbreak doctor` measures against the one it set)."""
    fw = firmware(rate_hz=25, ignore_rate=True)
    config = next(c for s in fw.services for c in s.characteristics if c.uuid == fmt.CONFIG_CHAR_UUID)
    assert config.on_write is not None
    config.on_write(fmt.encode_config(50, 8), True)
    assert fmt.decode_config(config.read()) == (25, 8)
    assert fw.rate_hz() == 25.0
    packet = fmt.decode_packet(fw.frame(0, WaveSource().samples(25.0, 0, 3)))
    assert packet.rate_hz == 25


def test_stream_paces_packets_by_device_time_and_restarts_the_sequence() -> None:
    async def main() -> tuple[list[bytes], SitSenseFirmware]:
        fw = firmware(speed=50)
        sink = subscribe(fw)
        fw.data_char.set_subscribed(True)
        await asyncio.sleep(0.5)  # 25 device seconds: ~32 packets of 39 samples at 50 Hz
        fw.data_char.set_subscribed(False)
        await asyncio.sleep(0.05)
        first = len(sink.values)
        fw.data_char.set_subscribed(True)
        await asyncio.sleep(0.1)
        fw.disconnected()
        return [v for _, v in sink.values[:first]] + [v for _, v in sink.values[first:]], fw

    values, fw = asyncio.run(main())
    packets = [fmt.decode_packet(v) for v in values]
    starts = [i for i, p in enumerate(packets) if p.flags & fmt.FLAG_STREAM_START]
    assert starts[0] == 0 and len(starts) == 2
    first_stream = packets[: starts[1]]
    assert 24 <= len(first_stream) <= 34
    assert [p.seq for p in first_stream] == list(range(len(first_stream)))
    assert packets[starts[1]].seq == 0
    # device time went on while nobody listened
    assert packets[starts[1]].t0_ms > first_stream[-1].t0_ms + 39 * 20
    assert fw.stream_starts == 2
    assert not fw.streaming


def test_a_device_with_a_pace_samples_and_stamps_that_much_faster() -> None:
    """`pace` 10: ten times the declared rate's samples per device second, stamped in declared
    periods, so the stamps run ten times the device clock; a clock jump shifts the stamps only."""

    async def main() -> tuple[list[bytes], float]:
        fw = firmware(speed=1.0)
        fw.pace = 10.0
        sink = subscribe(fw)
        fw.data_char.set_subscribed(True)
        await asyncio.sleep(0.6)  # 6 s of stamps: ~7 packets of 39 samples
        device_s = fw.clock.now_ms() / 1000.0
        fw.clock_jump_s = 60.0
        await asyncio.sleep(0.3)
        fw.disconnected()
        return [v for _, v in sink.values if len(v) > 3], device_s

    values, device_s = asyncio.run(main())
    packets = [fmt.decode_packet(v) for v in values]
    assert [p.seq for p in packets] == list(range(len(packets)))  # the jump leaves them alone
    span_ms = 39 * 20
    jumped = next(k for k in range(1, len(packets)) if packets[k].t0_ms > packets[k - 1].t0_ms + span_ms)
    before = packets[jumped - 1]
    # never stamped ahead of ten times the device clock, and well past the declared rate (a loose
    # bound: a slow machine only delays packets)
    assert 2 * device_s <= (before.t0_ms + span_ms) / 1000.0 <= 10 * device_s + span_ms / 1000.0
    assert packets[jumped].t0_ms == before.t0_ms + span_ms + 60_000
    assert all(p.rate_hz == 50 for p in packets)


def test_the_pace_is_a_wearable_option() -> None:
    assert SimulatedWearable(pace=0.5).firmware.pace == 0.5
    with pytest.raises(ValueError, match="pace="):
        SimulatedWearable(pace=0.0)


def test_faults_queue_before_random_rates() -> None:
    faults = Faults(seed=0)
    faults.inject("truncated", 2)
    faults.set_rates(lost=1.0)
    assert [faults.next() for _ in range(3)] == [
        PacketFault.TRUNCATED,
        PacketFault.TRUNCATED,
        PacketFault.LOST,
    ]
    with pytest.raises(ValueError, match=r"rate for lost must be in 0\.\.1"):
        faults.set_rates(lost=1.5)
    with pytest.raises(ValueError, match="not a valid PacketFault"):
        faults.set_rates(melted=0.1)


def test_battery_drains_with_device_time() -> None:
    clock = DeviceClock(speed=1.0, boot_ms=0.0)
    battery = Battery(clock, level_pct=50.0, drain_pct_per_h=0.0)
    assert battery.level() == 50
    battery.set(0.4)
    assert battery.level() == 1  # rounds up: 0.4 % is not empty yet
    battery.set(0.0)
    assert battery.level() == 0


def test_motion_source_is_chunking_independent_and_repeats_the_day() -> None:
    schedule = [Segment(Activity.SIT, 4.0), Segment(Activity.WALK, 4.0)]
    source = motion_source(schedule, MotionConfig(seed=3))
    whole = source.samples(50.0, 0, 400)
    parts = np.concatenate([source.samples(50.0, i, 37) for i in range(0, 400, 37)])[:400]
    np.testing.assert_array_equal(whole, parts)
    # past the 8 s schedule (400 samples at 50 Hz) the day starts again
    np.testing.assert_array_equal(source.samples(50.0, 400, 10), whole[:10])
    assert source.samples(25.0, 0, 200).shape == (200, 3)


def test_sequence_number_wraps_after_65535() -> None:
    fw = firmware()
    fw.connected(247)
    xyz = WaveSource().samples(50, 0, 39)
    fw.seq = 65535
    first, second = fw.frame(0, xyz), fw.frame(39, xyz)
    assert (fmt.decode_packet(first).seq, fmt.decode_packet(second).seq) == (65535, 0)
