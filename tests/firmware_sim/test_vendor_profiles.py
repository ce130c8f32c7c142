"""The micro:bit, Polar PMD and Thingy:52 simulations, through unmodified Bleak and the host decoders.

The simulations answer as the vendors' firmware and specification say the real devices do (sources in
firmware_sim/vendors.py); the checks against the vendors' own bytes are in
tests/wearables/test_vendor_golden.py. Here the simulations are held to the same figures where a
figure exists, and the decoders must read what the simulations send.
"""

from __future__ import annotations

import asyncio
import struct

import numpy as np
import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakDBusError, BleakGATTProtocolError, BleakGATTProtocolErrorCode

from firmware_sim import vendors
from firmware_sim.source import WaveSource
from monitor.wearables.profiles.base import (
    ControlKind,
    GattRead,
    GattWrite,
    StreamConfig,
    StreamStartError,
)
from monitor.wearables.profiles.microbit import MicrobitProfile
from monitor.wearables.profiles.polar import PolarProfile
from monitor.wearables.profiles.thingy import Thingy52Profile
from tests.ble_fixtures import AddWearable, run

SCAN_TIMEOUT_S = 5.0


async def find(name: str) -> BLEDevice:
    device = await BleakScanner.find_device_by_name(name, timeout=SCAN_TIMEOUT_S)
    assert device is not None, f"{name} not found by scanning"
    return device


@pytest.mark.parametrize(("board", "stored_ms"), [("v2", 40), ("v1", 80), ("v1-fxos", 80)])
def test_microbit_rounds_the_period_up_and_stores_it(
    add_wearable: AddWearable, board: str, stored_ms: int
) -> None:
    """23 ms written: a V2 (LSM303) rounds up to 40 ms, a V1 MMA8653 to 80 ms, a V1 FXOS8700 looks up
    46 ms and lands on 80 ms; the period characteristic then reads what the board uses."""
    source = WaveSource(amplitude_g=0.5)
    wearable = add_wearable("microbit", source, speed=4, board=board)
    assert (wearable.name or "").startswith("BBC micro:bit [")

    async def main() -> list[bytes]:
        received: list[bytes] = []
        async with BleakClient(await find(wearable.name or "")) as client:
            await client.write_gatt_char(vendors.MICROBIT_PERIOD_UUID, struct.pack("<H", 23), response=True)
            period = await client.read_gatt_char(vendors.MICROBIT_PERIOD_UUID)
            assert struct.unpack("<H", period) == (stored_ms,)
            await client.write_gatt_char(vendors.MICROBIT_PERIOD_UUID, b"\x05", response=True)  # ignored
            assert await client.read_gatt_char(vendors.MICROBIT_PERIOD_UUID) == period
            await client.start_notify(vendors.MICROBIT_DATA_UUID, lambda _c, d: received.append(bytes(d)))
            await asyncio.sleep(0.6)
            await client.stop_notify(vendors.MICROBIT_DATA_UUID)
        return received

    received = run(main())
    assert len(received) >= 20
    profile = MicrobitProfile()
    profile.apply_period(struct.pack("<H", stored_ms))
    for data, framed in zip(received, wearable.sent(), strict=False):
        assert framed.rate_hz == pytest.approx(1000 / stored_ms)
        xyz = profile.decode(data).xyz
        # Resolution: the MMA8653 reads 8 bits (1/64 g, rounded); the others truncate toward zero
        # after scaling, at most one 2/1024 g step off.
        atol = 8.5 / 1024 if board == "v1" else 4 / 1024
        np.testing.assert_allclose(xyz, source.samples(framed.rate_hz, framed.first_index, 1), atol=atol)


def test_microbit_without_the_accelerometer_service(add_wearable: AddWearable) -> None:
    """A MakeCode program that never called bluetooth.startAccelerometerService(): the board
    advertises and connects, but has no accelerometer characteristics."""
    wearable = add_wearable("microbit", accelerometer_service=False)

    async def main() -> None:
        async with BleakClient(await find(wearable.name or "")) as client:
            assert client.services.get_service(vendors.MICROBIT_SERVICE_UUID) is None
            assert client.services.get_characteristic(vendors.MICROBIT_DATA_UUID) is None

    run(main())


async def drive(client: BleakClient, profile: PolarProfile, replies: asyncio.Queue[bytes]) -> list[bytes]:
    """Run the profile's start sequence as the link does; every control notification, in order."""
    seen: list[bytes] = []

    async def reply() -> bytes:
        while True:
            data = await asyncio.wait_for(replies.get(), 2)
            seen.append(data)
            message = profile.control_message(data)
            if message.kind is ControlKind.REPLY:
                return message.data

    sequence = profile.start_sequence()
    step = next(sequence)
    try:
        while True:
            assert isinstance(step, GattWrite)
            await client.write_gatt_char(step.char_uuid, step.data, response=True)
            step = sequence.send(await reply() if step.await_reply else None)
    except StopIteration:
        pass
    return seen


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
            await drive(client, profile, replies)
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
        step = firmware.factor() if frame_type == vendors.PMD_FRAME_DELTA_G else 1e-3
        np.testing.assert_allclose(packet.xyz, np.rint(expected_g / step) * step, atol=1e-5)
        last = framed.first_index + framed.count - 1
        assert packet.t_last == pytest.approx((10**18 + last * 10**9 // rate) * 1e-9)


@pytest.mark.parametrize(
    ("model", "request_hex", "status"),
    [
        ("H10", "02 02 00 01 4D 00 01 01 10 00 02 01 08 00", vendors.PMD_STATUS_INVALID_SAMPLE_RATE),  # 77 Hz
        # CHANNELS, which the H10 does not offer (the capture: error 5)
        ("H10", "02 02 00 01 32 00 01 01 10 00 02 01 08 00 04 01 03", vendors.PMD_STATUS_INVALID_PARAMETER),
        # a Verity Sense start without the CHANNELS it offers (the simulation's rule)
        ("Sense", "02 02 00 01 34 00 01 01 10 00 02 01 08 00", vendors.PMD_STATUS_INVALID_PARAMETER),
    ],
)
def test_polar_refuses_a_start_it_cannot_honour(
    add_wearable: AddWearable, model: str, request_hex: str, status: int
) -> None:
    wearable = add_wearable("polar", model=model)

    async def main() -> bytes:
        replies: asyncio.Queue[bytes] = asyncio.Queue()
        async with BleakClient(await find(wearable.name or "")) as client:
            await client.start_notify(vendors.PMD_CONTROL_UUID, lambda _c, d: replies.put_nowait(bytes(d)))
            await client.write_gatt_char(vendors.PMD_CONTROL_UUID, bytes.fromhex(request_hex), response=True)
            return await asyncio.wait_for(replies.get(), 2)

    assert run(main())[:4] == bytes((0xF0, 0x02, 0x02, status))
    assert not wearable.streaming


# polarofficial/polar-ble-sdk @ 8fb5311, technical_documentation/online_measurement.pdf: figure 1
# (p. 12, feature read), figure 2 (p. 13, settings replies), figure 3 (p. 14, start replies).
SPEC = {
    "H10": (
        "F0 01 02 00 00 00 04 19 00 32 00 64 00 C8 00 01 01 10 00 02 03 02 00 04 00 08 00",
        "02 02 02 01 08 00 00 01 C8 00 01 01 10 00",
        "F0 02 02 00 00 01",
    ),
    "Sense": (
        "F0 01 02 00 00 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03",
        "02 02 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03",
        "F0 02 02 00 00 05 01 40 DA 7F 39",
    ),
}


@pytest.mark.parametrize("model", ["H10", "Sense"])
@pytest.mark.parametrize("mtu", [247, 23])
def test_polar_answers_as_the_spec_figures(add_wearable: AddWearable, model: str, mtu: int) -> None:
    """Byte for byte the figures' replies. At a 23-byte MTU (20 bytes per indication) the H10's
    27-byte settings reply comes as two packets, the first with "more" set, and reassembles to the
    figure's reply as Polar's SDK reassembles it."""
    settings, start, start_reply = (bytes.fromhex(x) for x in SPEC[model])
    wearable = add_wearable("polar", model=model, mtu=mtu)

    async def main() -> tuple[bytes, list[bytes], list[bytes]]:
        replies: asyncio.Queue[bytes] = asyncio.Queue()
        got: list[list[bytes]] = []
        async with BleakClient(await find(wearable.name or "")) as client:
            features = bytes(await client.read_gatt_char(vendors.PMD_CONTROL_UUID))
            await client.start_notify(vendors.PMD_CONTROL_UUID, lambda _c, d: replies.put_nowait(bytes(d)))
            for request in (bytes.fromhex("01 02"), start):
                await client.write_gatt_char(vendors.PMD_CONTROL_UUID, request, response=True)
                packets = [await asyncio.wait_for(replies.get(), 2)]
                while packets[-1][4:5] == b"\x01":
                    packets.append(await asyncio.wait_for(replies.get(), 2))
                got.append(packets)
        return features, got[0], got[1]

    features, settings_packets, start_packets = run(main())
    assert len(features) == 17 and features[:2] == bytes((0x0F, 0x05 if model == "H10" else 0x6E))
    assert start_packets == [start_reply]
    assert all(len(p) <= mtu - 3 for p in settings_packets)
    joined = settings_packets[0][:4] + b"\x00" + b"".join(p[5:] for p in settings_packets)
    assert joined == settings
    assert len(settings_packets) == (2 if model == "H10" and mtu == 23 else 1)
    profile = PolarProfile()
    next(profile.start_sequence())
    messages = [profile.control_message(p) for p in settings_packets]
    assert messages[-1].kind is ControlKind.REPLY and messages[-1].data == settings


def test_polar_failure_modes(add_wearable: AddWearable) -> None:
    """A Polar that needs a bonded link (ATT 0x05 until paired), one on its charger, and one that
    stops its stream itself and says so on the control point."""
    bonded = add_wearable("polar", model="H10", bonding_required=True)
    charging = add_wearable("polar", model="Sense", refuse_settings=vendors.PMD_STATUS_DEVICE_IN_CHARGER)
    polar = bonded.firmware
    assert isinstance(polar, vendors.PolarFirmware)

    async def main() -> None:
        async with BleakClient(await find(bonded.name or "")) as client:
            # ATT 0x05 reaches the host as bluetoothd words it (src/gatt-client.c): NotPermitted "Not paired"
            with pytest.raises(BleakDBusError) as refused:
                await client.write_gatt_char(vendors.PMD_CONTROL_UUID, bytes.fromhex("01 02"), response=True)
            assert (refused.value.dbus_error, refused.value.dbus_error_details) == (
                "org.bluez.Error.NotPermitted",
                "Not paired",
            )
            await client.pair()
            replies: asyncio.Queue[bytes] = asyncio.Queue()
            await client.start_notify(vendors.PMD_CONTROL_UUID, lambda _c, d: replies.put_nowait(bytes(d)))
            profile = PolarProfile(StreamConfig(rate_hz=50))
            await drive(client, profile, replies)
            assert bonded.on_device(lambda fw: fw.streaming)
            bonded.on_device(lambda _: polar.stop_measurement_from_device())
            said = await asyncio.wait_for(replies.get(), 2)
            assert said == bytes.fromhex("01 02")
            assert profile.control_message(said).kind is ControlKind.STREAM_STOPPED
            assert not bonded.on_device(lambda fw: fw.streaming)
        async with BleakClient(await find(charging.name or "")) as client:
            replies = asyncio.Queue()
            await client.start_notify(vendors.PMD_CONTROL_UUID, lambda _c, d: replies.put_nowait(bytes(d)))
            with pytest.raises(StreamStartError, match=r"ERROR_DEVICE_IN_CHARGER.*charger"):
                await drive(client, PolarProfile(), replies)

    run(main())


def test_thingy_motion_config_and_raw_data_in_q6_10(add_wearable: AddWearable) -> None:
    source = WaveSource()
    wearable = add_wearable("thingy", source, speed=2, config=(2000, 1000, 800, 10, 0))
    profile = Thingy52Profile(StreamConfig(rate_hz=25))

    async def main() -> list[bytes]:
        received: list[bytes] = []
        async with BleakClient(await find("Thingy")) as client:
            # ble_tms.c:263-301: wrong length, compass interval past 1000 ms, frequency under 5 Hz
            for bad in (
                b"\x00" * 8,
                struct.pack("<HHHHB", 1000, 500, 1001, 10, 1),
                struct.pack("<HHHHB", 1000, 500, 500, 4, 1),
            ):
                with pytest.raises(BleakGATTProtocolError) as refused:
                    await client.write_gatt_char(vendors.THINGY_MOTION_CONFIG_UUID, bad, response=True)
                assert refused.value.code is BleakGATTProtocolErrorCode.WRITE_NOT_PERMITTED
            sequence = profile.start_sequence()
            step = next(sequence)
            try:
                while True:
                    if isinstance(step, GattRead):
                        step = sequence.send(bytes(await client.read_gatt_char(step.char_uuid)))
                    else:
                        await client.write_gatt_char(step.char_uuid, step.data, response=step.response)
                        step = sequence.send(None)
            except StopIteration:
                pass
            config = await client.read_gatt_char(vendors.THINGY_MOTION_CONFIG_UUID)
            assert struct.unpack("<HHHHB", config) == (2000, 1000, 800, 25, 0)  # only the rate changed
            await client.start_notify(vendors.THINGY_RAW_UUID, lambda _c, d: received.append(bytes(d)))
            await asyncio.sleep(0.6)
        return received

    received = run(main())
    thingy = wearable.firmware
    assert isinstance(thingy, vendors.ThingyFirmware)
    assert wearable.on_device(lambda _: thingy.flash_writes) == 1
    assert len(received) >= 10
    for data, framed in zip(received, wearable.sent(), strict=False):
        assert len(data) == 18
        expected = np.rint(source.samples(25.0, framed.first_index, 1) * 1024) / 1024
        np.testing.assert_allclose(profile.decode(data).xyz, expected, atol=1e-6)


@pytest.mark.parametrize(("freq", "rate"), [(30, 200 / 6), (50, 50.0), (5, 5.0), (199, 200.0)])
def test_thingy_raw_data_comes_at_the_dmp_rate(add_wearable: AddWearable, freq: int, rate: float) -> None:
    """inv_mpu_dmp_motion_driver.c:708-710: 200 / floor(200 / f)."""
    wearable = add_wearable("thingy", motion_freq_hz=freq)
    assert wearable.on_device(lambda fw: fw.rate_hz()) == pytest.approx(rate)


@pytest.mark.parametrize("seed", range(5))
def test_pmd_delta_compression_round_trips_through_the_host_decoder(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scale = [1, 30, 3000, 32767][seed % 4]
    counts = np.cumsum(rng.integers(-scale, scale + 1, size=(37, 3)), axis=0).clip(-32768, 32767)
    frame = bytes((0x02,)) + (123).to_bytes(8, "little") + bytes((vendors.PMD_FRAME_DELTA_MG,))
    frame += vendors.delta_frame_body(counts)
    decoded = PolarProfile().decode(frame)
    np.testing.assert_allclose(decoded.xyz, counts * 1e-3, atol=1e-6)
