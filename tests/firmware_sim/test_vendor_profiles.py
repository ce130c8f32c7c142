"""The micro:bit, Polar PMD and Thingy:52 simulations, through unmodified Bleak and the host decoders.

The decoders (monitor/wearables/profiles) were written from the vendors' documents independently of
the simulator, so agreement here checks both sides against the same layouts.
"""

from __future__ import annotations

import asyncio
import struct

import numpy as np
import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakGATTProtocolError, BleakGATTProtocolErrorCode

from firmware_sim import vendors
from firmware_sim.source import WaveSource
from monitor.wearables.profiles.base import StreamConfig
from monitor.wearables.profiles.microbit import MicrobitProfile
from monitor.wearables.profiles.polar import PolarProfile
from monitor.wearables.profiles.thingy import Thingy52Profile
from tests.ble_fixtures import AddWearable, run

SCAN_TIMEOUT_S = 5.0


async def find(name: str) -> BLEDevice:
    device = await BleakScanner.find_device_by_name(name, timeout=SCAN_TIMEOUT_S)
    assert device is not None, f"{name} not found by scanning"
    return device


def test_microbit_period_snaps_and_samples_arrive_in_milli_g(add_wearable: AddWearable) -> None:
    source = WaveSource(amplitude_g=0.5)
    wearable = add_wearable("microbit", source, speed=2)
    assert (wearable.name or "").startswith("BBC micro:bit [")

    async def main() -> list[bytes]:
        received: list[bytes] = []
        async with BleakClient(await find(wearable.name or "")) as client:
            await client.write_gatt_char(vendors.MICROBIT_PERIOD_UUID, struct.pack("<H", 23), response=True)
            period = await client.read_gatt_char(vendors.MICROBIT_PERIOD_UUID)
            assert struct.unpack("<H", period) == (20,)
            await client.start_notify(vendors.MICROBIT_DATA_UUID, lambda _c, d: received.append(bytes(d)))
            await asyncio.sleep(0.6)
            await client.stop_notify(vendors.MICROBIT_DATA_UUID)
        return received

    received = run(main())
    assert len(received) >= 20
    profile = MicrobitProfile(StreamConfig(rate_hz=50))
    for data, framed in zip(received, wearable.sent(), strict=False):
        xyz = profile.decode(data).xyz
        expected = np.rint(source.samples(50.0, framed.first_index, 1) * 1000) / 1000
        np.testing.assert_allclose(xyz, expected, atol=1e-6)


@pytest.mark.parametrize(
    ("model", "frame_type", "rate", "range_g"),
    [
        ("Sense", vendors.PMD_FRAME_DELTA_G, 52, 8),
        ("H10", vendors.PMD_FRAME_RAW_INT16, 50, 4),
        ("H10", vendors.PMD_FRAME_DELTA_MG, 100, 8),
    ],
)
def test_polar_pmd_start_acc_and_frames_decode(
    add_wearable: AddWearable, model: str, frame_type: int, rate: int, range_g: int
) -> None:
    source = WaveSource(amplitude_g=0.7)
    wearable = add_wearable(
        "polar", source, speed=4, model=model, frame_type=frame_type, clock_origin_ns=10**18
    )
    profile = PolarProfile(StreamConfig(rate_hz=rate, range_g=range_g))

    async def main() -> list[bytes]:
        replies: asyncio.Queue[bytes] = asyncio.Queue()
        frames: list[bytes] = []
        async with BleakClient(await find(wearable.name or "")) as client:
            features = await client.read_gatt_char(vendors.PMD_CONTROL_UUID)
            assert features[0] == vendors.PMD_FEATURES_READ and features[1] & 0x04  # ACC supported
            await client.start_notify(vendors.PMD_CONTROL_UUID, lambda _c, d: replies.put_nowait(bytes(d)))
            await client.start_notify(vendors.PMD_DATA_UUID, lambda _c, d: frames.append(bytes(d)))
            sequence = profile.start_sequence()
            write = next(sequence)
            try:
                while True:
                    await client.write_gatt_char(write.char_uuid, write.data, response=True)
                    reply = await asyncio.wait_for(replies.get(), 2)
                    write = sequence.send(reply)
            except StopIteration:
                pass
            # a second START while streaming is refused with ALREADY_IN_STATE
            await client.write_gatt_char(vendors.PMD_CONTROL_UUID, profile.start_request(), response=True)
            again = await asyncio.wait_for(replies.get(), 2)
            assert again[:4] == bytes((0xF0, 0x02, 0x02, vendors.PMD_STATUS_ALREADY_IN_STATE))
            await asyncio.sleep(0.8)
            for stop in profile.stop_writes():
                await client.write_gatt_char(stop.char_uuid, stop.data, response=True)
        return frames

    frames = run(main())
    assert profile.rate_hz == rate and profile.range_g == range_g
    assert frames and all(f[9] == frame_type for f in frames)
    firmware = wearable.firmware
    assert isinstance(firmware, vendors.PolarFirmware)
    for data, framed in zip(frames, wearable.sent(), strict=False):
        packet = profile.decode(data)
        expected_g = np.clip(source.samples(rate, framed.first_index, framed.count), -range_g, range_g)
        step = range_g / 32768 if frame_type == vendors.PMD_FRAME_DELTA_G else 1e-3
        np.testing.assert_allclose(packet.xyz, np.rint(expected_g / step) * step, atol=1e-5)
        last = framed.first_index + framed.count - 1
        assert packet.t_last == pytest.approx((10**18 + last * 10**9 // rate) * 1e-9)


def test_polar_refuses_an_unsupported_sample_rate(add_wearable: AddWearable) -> None:
    wearable = add_wearable("polar", model="H10")

    async def main() -> bytes:
        replies: asyncio.Queue[bytes] = asyncio.Queue()
        async with BleakClient(await find(wearable.name or "")) as client:
            await client.start_notify(vendors.PMD_CONTROL_UUID, lambda _c, d: replies.put_nowait(bytes(d)))
            request = bytes((0x02, 0x02, 0x00, 0x01)) + (77).to_bytes(2, "little")
            await client.write_gatt_char(vendors.PMD_CONTROL_UUID, request, response=True)
            return await asyncio.wait_for(replies.get(), 2)

    assert run(main())[:4] == bytes((0xF0, 0x02, 0x02, vendors.PMD_STATUS_INVALID_SAMPLE_RATE))
    assert not wearable.streaming


def test_thingy_motion_config_and_raw_data_in_q6_10(add_wearable: AddWearable) -> None:
    source = WaveSource()
    wearable = add_wearable("thingy", source, speed=2)
    profile = Thingy52Profile(StreamConfig(rate_hz=25))

    async def main() -> list[bytes]:
        received: list[bytes] = []
        async with BleakClient(await find("Thingy")) as client:
            with pytest.raises(BleakGATTProtocolError) as refused:
                await client.write_gatt_char(vendors.THINGY_MOTION_CONFIG_UUID, b"\x00" * 8, response=True)
            assert refused.value.code is BleakGATTProtocolErrorCode.WRITE_NOT_PERMITTED
            for write in profile.start_writes():
                await client.write_gatt_char(write.char_uuid, write.data, response=write.response)
            config = await client.read_gatt_char(vendors.THINGY_MOTION_CONFIG_UUID)
            assert struct.unpack("<HHHHB", config)[3] == 25
            await client.start_notify(vendors.THINGY_RAW_UUID, lambda _c, d: received.append(bytes(d)))
            await asyncio.sleep(0.6)
        return received

    received = run(main())
    assert len(received) >= 10
    for data, framed in zip(received, wearable.sent(), strict=False):
        assert len(data) == 18
        expected = np.rint(source.samples(25.0, framed.first_index, 1) * 1024) / 1024
        np.testing.assert_allclose(profile.decode(data).xyz, expected, atol=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_pmd_delta_compression_round_trips_through_the_host_decoder(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scale = [1, 30, 3000, 32767][seed % 4]
    counts = np.cumsum(rng.integers(-scale, scale + 1, size=(37, 3)), axis=0).clip(-32768, 32767)
    frame = bytes((0x02,)) + (123).to_bytes(8, "little") + bytes((vendors.PMD_FRAME_DELTA_MG,))
    frame += vendors.delta_frame_body(counts)
    decoded = PolarProfile().decode(frame)
    np.testing.assert_allclose(decoded.xyz, counts * 1e-3, atol=1e-6)
