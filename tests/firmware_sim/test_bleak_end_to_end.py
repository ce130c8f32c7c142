"""Unmodified Bleak against the BlueZ emulator on a real dbus-daemon: scan, connect, GATT, notify, faults."""

from __future__ import annotations

import asyncio
import itertools
import time

import numpy as np
import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakDBusError, BleakGATTProtocolError, BleakGATTProtocolErrorCode

from firmware_sim import bluez_defs as defs
from firmware_sim import vendors
from firmware_sim.bluez import BlueZEmulator
from firmware_sim.source import ConstantSource, WaveSource
from monitor.wearables import sitsense_format as fmt
from tests.ble_fixtures import TEST_CONNECT_TIMEOUT_S, AddWearable, run

SCAN_TIMEOUT_S = 5.0


async def find(name: str) -> BLEDevice:
    device = await BleakScanner.find_device_by_name(name, timeout=SCAN_TIMEOUT_S)
    assert device is not None, f"{name} not found by scanning"
    return device


def test_scan_finds_device_by_name_with_rssi_and_manufacturer_data(add_wearable: AddWearable) -> None:
    wearable = add_wearable(rssi=-55, battery_pct=87)

    async def main() -> None:
        found = await BleakScanner.discover(timeout=1.0, return_adv=True)
        by_address = {device.address: (device, adv) for device, adv in found.values()}
        device, adv = by_address[wearable.address]
        assert device.name == adv.local_name == f"SitSense-{wearable.address[-5:].replace(':', '')}"
        assert -55 - 3 <= adv.rssi <= -55 + 3
        version, battery, streaming = fmt.decode_manufacturer_data(adv.manufacturer_data[fmt.COMPANY_ID])
        assert (version, battery, streaming) == (fmt.VERSION, 87, False)
        assert adv.service_uuids == [fmt.SERVICE_UUID]
        assert device.details["path"] == defs.device_path(wearable.address)

    run(main())


def test_scan_by_service_uuid_sees_only_matching_devices(add_wearable: AddWearable) -> None:
    sitsense = add_wearable()
    thingy = add_wearable("thingy")

    async def main() -> None:
        seen: set[str] = set()
        async with BleakScanner(lambda d, a: seen.add(d.address), service_uuids=[fmt.SERVICE_UUID]):
            await asyncio.sleep(0.6)
        assert sitsense.address in seen
        assert thingy.address not in seen

    run(main())


def test_connect_reads_device_information_battery_and_config(add_wearable: AddWearable) -> None:
    wearable = add_wearable(battery_pct=64)

    async def main() -> None:
        async with BleakClient(await find(wearable.name or "")) as client:
            uuids = {service.uuid for service in client.services}
            assert {fmt.SERVICE_UUID, fmt.BATTERY_SERVICE_UUID, fmt.DEVICE_INFO_SERVICE_UUID} <= uuids
            assert (await client.read_gatt_char(fmt.MANUFACTURER_NAME_CHAR_UUID)).decode() == "sitbreak"
            assert (await client.read_gatt_char(fmt.FIRMWARE_REVISION_CHAR_UUID)).decode() == "1.0.0"
            assert (await client.read_gatt_char(fmt.BATTERY_LEVEL_CHAR_UUID)) == bytes([64])
            default = fmt.decode_config(await client.read_gatt_char(fmt.CONFIG_CHAR_UUID))
            assert default == (fmt.DEFAULT_RATE_HZ, fmt.DEFAULT_RANGE_G)
            await client.write_gatt_char(fmt.CONFIG_CHAR_UUID, fmt.encode_config(100, 8), response=True)
            assert fmt.decode_config(await client.read_gatt_char(fmt.CONFIG_CHAR_UUID)) == (100, 8)
            with pytest.raises(BleakGATTProtocolError) as refused:
                await client.write_gatt_char(fmt.CONFIG_CHAR_UUID, b"\x07\x00", response=True)
            assert refused.value.code is BleakGATTProtocolErrorCode.VALUE_NOT_ALLOWED
            with pytest.raises(BleakGATTProtocolError) as unreadable:
                await client.read_gatt_char(fmt.ACCEL_CHAR_UUID)
            assert unreadable.value.code is BleakGATTProtocolErrorCode.READ_NOT_PERMITTED
            with pytest.raises(BleakDBusError) as no_notify:
                await client.start_notify(fmt.CONFIG_CHAR_UUID, lambda _c, _d: None)
            assert no_notify.value.dbus_error == defs.ERROR_NOT_SUPPORTED
            accel = client.services.get_characteristic(fmt.ACCEL_CHAR_UUID)
            assert accel is not None
            assert accel.max_write_without_response_size == 247 - 3
            assert [d.uuid for d in accel.descriptors] == [defs.CCCD_UUID]

    run(main())
    assert wearable.connects == 1


def test_notifications_decode_to_exactly_the_samples_generated(add_wearable: AddWearable) -> None:
    source = WaveSource()
    wearable = add_wearable(source=source, speed=50)

    async def main() -> list[bytes]:
        received: list[bytes] = []
        async with BleakClient(await find(wearable.name or "")) as client:
            await client.start_notify(fmt.ACCEL_CHAR_UUID, lambda _c, data: received.append(bytes(data)))
            await asyncio.sleep(0.6)
            await client.stop_notify(fmt.ACCEL_CHAR_UUID)
        return received

    received = run(main())
    packets = [fmt.decode_packet(p) for p in received]
    assert len(packets) >= 10
    assert [p.seq for p in packets] == list(range(len(packets)))
    assert packets[0].flags & fmt.FLAG_STREAM_START
    assert all(len(p.samples) == fmt.samples_per_packet(247) for p in packets)
    sent = wearable.sent()[: len(packets)]
    for packet, framed in zip(packets, sent, strict=True):
        assert packet.t0_ms == framed.first_index * 20
        expected = fmt.g_to_counts(source.samples(50, framed.first_index, len(packet.samples)), 4)
        np.testing.assert_array_equal(packet.samples, expected)
    # consecutive packets continue the sample clock without a gap
    assert all(b.t0_ms - a.t0_ms == len(a.samples) * 20 for a, b in itertools.pairwise(packets))


def test_link_drop_reaches_disconnected_callback_and_keeps_device(
    bluez: BlueZEmulator, add_wearable: AddWearable
) -> None:
    wearable = add_wearable(source=ConstantSource())
    path = defs.device_path(wearable.address)

    async def main() -> None:
        lost = asyncio.Event()
        client = BleakClient(await find(wearable.name or ""), disconnected_callback=lambda _c: lost.set())
        await client.connect()
        assert any(p.startswith(path + "/service") for p in bluez.object_paths())
        await asyncio.to_thread(wearable.drop_link)
        await asyncio.wait_for(lost.wait(), 5)
        assert not client.is_connected
        await client.disconnect()

    run(main())
    paths = bluez.object_paths()
    assert path in paths
    assert not any(p.startswith(path + "/") for p in paths)
    assert not wearable.connected


def test_out_of_range_connect_hangs_then_fails_and_works_once_back(add_wearable: AddWearable) -> None:
    wearable = add_wearable(source=ConstantSource())

    async def main() -> None:
        device = await find(wearable.name or "")
        await asyncio.to_thread(wearable.go_out_of_range)
        began = time.monotonic()
        with pytest.raises(TimeoutError):
            async with BleakClient(device, timeout=TEST_CONNECT_TIMEOUT_S + 1.0):
                pass
        assert time.monotonic() - began >= TEST_CONNECT_TIMEOUT_S
        # nothing is advertised while away
        away = await BleakScanner.find_device_by_name(wearable.name or "", timeout=0.5)
        assert away is None
        await asyncio.to_thread(wearable.come_back)
        async with BleakClient(await find(wearable.name or "")) as client:
            assert client.is_connected

    run(main())
    assert wearable.connects == 1


def test_out_of_range_for_a_while_then_connect_completes(add_wearable: AddWearable) -> None:
    wearable = add_wearable(source=ConstantSource())

    async def main() -> None:
        device = await find(wearable.name or "")
        await asyncio.to_thread(wearable.go_out_of_range, 0.5)
        async with BleakClient(device, timeout=5.0) as client:
            assert client.is_connected

    run(main())


def test_failed_connects_are_retried_by_bleak_or_reported(add_wearable: AddWearable) -> None:
    wearable = add_wearable(source=ConstantSource())

    async def main() -> None:
        device = await find(wearable.name or "")
        # le-connection-abort-by-local: Bleak retries by itself, as on a real Pi
        wearable.fail_next_connects(2)
        drops = 0

        def dropped(_client: BleakClient) -> None:
            nonlocal drops
            drops += 1

        async with BleakClient(device, disconnected_callback=dropped, timeout=5.0) as client:
            assert client.is_connected
        assert drops >= 2
        # any other failure text surfaces as a BleakDBusError carrying BlueZ's error name
        wearable.fail_next_connects(1, "Software caused connection abort")
        with pytest.raises(BleakDBusError) as failed:
            await BleakClient(device, timeout=5.0).connect()
        assert failed.value.dbus_error == defs.ERROR_FAILED

    run(main())
    assert wearable.connects == 1


def test_bluetoothd_crash_and_restart(fresh_bluez: BlueZEmulator, add_wearable: AddWearable) -> None:
    wearable = add_wearable(source=ConstantSource(), speed=5, emulator=fresh_bluez)

    async def main() -> None:
        received: list[bytes] = []
        client = BleakClient(await find(wearable.name or ""))
        await client.connect()
        await client.start_notify(fmt.ACCEL_CHAR_UUID, lambda _c, d: received.append(bytes(d)))
        await asyncio.sleep(0.5)
        assert received
        await asyncio.to_thread(fresh_bluez.crash)
        assert fresh_bluez.crashes == 1
        await asyncio.sleep(0.2)
        count = len(received)
        await asyncio.sleep(0.5)
        assert len(received) == count, "notifications went on after bluetoothd died"
        with pytest.raises(BleakDBusError):
            await client.read_gatt_char(fmt.BATTERY_LEVEL_CHAR_UUID)
        # Bleak does not notice the crash by itself: that is the link's watchdog's job
        with pytest.raises(BleakDBusError):
            await client.disconnect()
        await asyncio.to_thread(fresh_bluez.restart)
        assert fresh_bluez.running
        async with BleakClient(await find(wearable.name or "")) as again:
            assert (await again.read_gatt_char(fmt.BATTERY_LEVEL_CHAR_UUID)) == bytes([100])

    run(main())
    assert fresh_bluez.crashes == 1
    assert wearable.connects == 2


def test_ten_device_minutes_at_300x_arrive_complete_and_exact(add_wearable: AddWearable) -> None:
    """10 min of 50 Hz data (30 000 samples, 770 packets) in about 2 s of wall time."""
    source = WaveSource()
    wearable = add_wearable(source=source, speed=300)
    wanted = 30_000

    async def main() -> list[bytes]:
        received: list[bytes] = []
        async with BleakClient(await find(wearable.name or "")) as client:
            await client.start_notify(fmt.ACCEL_CHAR_UUID, lambda _c, data: received.append(bytes(data)))
            while sum((len(r) - fmt.HEADER_SIZE) // fmt.SAMPLE_SIZE for r in received) < wanted:
                await asyncio.sleep(0.05)
        return received

    packets = [fmt.decode_packet(p) for p in run(main(), timeout=30)]
    assert [p.seq for p in packets] == list(range(len(packets)))
    first = packets[0].t0_ms // 20
    counts = np.concatenate([p.samples for p in packets])
    assert all(b.t0_ms == a.t0_ms + 20 * len(a.samples) for a, b in itertools.pairwise(packets))
    np.testing.assert_array_equal(counts, fmt.g_to_counts(source.samples(50, first, len(counts)), 4))


def test_pairing_and_mtu_acquisition(bluez: BlueZEmulator, add_wearable: AddWearable) -> None:
    wearable = add_wearable(mtu=185)

    async def main() -> None:
        device = await find(wearable.name or "")
        async with BleakClient(device, pair=True) as client:
            assert client.is_connected
            props = await asyncio.to_thread(bluez.device_properties, wearable)
            assert props["Paired"] and props["Bonded"] and props["Trusted"]
            # Bleak's documented way to learn the MTU on BlueZ (examples/mtu_size.py): AcquireWrite on
            # the first write-without-response characteristic, here SitSense's control point
            await client._backend._acquire_mtu()  # type: ignore[attr-defined]
            assert client.mtu_size == 185
            # the control point still takes writes once the acquired socket is closed again
            await asyncio.sleep(0.1)
            await client.write_gatt_char(fmt.CONTROL_CHAR_UUID, bytes([fmt.CONTROL_PAUSE]), response=True)
        async with BleakClient(device, pair=True) as again:  # already paired: Bleak only connects
            assert again.is_connected

    run(main())
    assert wearable.connects == 2


def test_pair_as_bluetoothd_answers_it(bluez: BlueZEmulator, add_wearable: AddWearable) -> None:
    """Device1.Pair on a connected device: Paired and Bonded go True and the device keeps the bond
    (a later connection needs no pairing); Pair again is AlreadyExists; a device that refuses
    pairing answers AuthenticationFailed and stays unpaired (src/device.c)."""
    wearable = add_wearable("polar", model="H10", bonding_required=True)
    refusing = add_wearable("polar", model="H10", bonding_required=True)
    refusing.refuse_pairing()

    async def main() -> None:
        device = await find(wearable.name or "")
        async with BleakClient(device) as client:
            await client.pair()
            props = await asyncio.to_thread(bluez.device_properties, wearable)
            assert props["Paired"] and props["Bonded"] and props["Trusted"]
            assert wearable.on_device(lambda fw: fw.bonded)
            reply = await client._backend._pair()  # type: ignore[attr-defined]  # client.pair() skips it
            assert reply.error_name == "org.bluez.Error.AlreadyExists"
        async with BleakClient(device) as client:  # bonded: the control point answers at once
            await client.write_gatt_char(vendors.PMD_CONTROL_UUID, bytes.fromhex("01 02"), response=True)
        other = await find(refusing.name or "")
        async with BleakClient(other) as client:
            with pytest.raises(BleakDBusError) as refused:
                await client.pair()
            assert refused.value.dbus_error == "org.bluez.Error.AuthenticationFailed"
            props = await asyncio.to_thread(bluez.device_properties, refusing)
            assert not props["Paired"] and not props["Bonded"]
            assert not refusing.on_device(lambda fw: fw.bonded)

    run(main())


@pytest.mark.parametrize(
    "code",
    [
        defs.ATT_INSUFFICIENT_AUTHENTICATION,
        defs.ATT_INSUFFICIENT_ENCRYPTION_KEY_SIZE,
        defs.ATT_INSUFFICIENT_ENCRYPTION,
    ],
)
def test_att_errors_that_ask_for_encryption_are_not_paired(code: int) -> None:
    """bluetoothd's create_gatt_dbus_error (src/gatt-client.c) loses the code for these three."""
    assert defs.att_error(code) == ("org.bluez.Error.NotPermitted", "Not paired")


def test_paired_device_survives_a_bluetoothd_restart(
    fresh_bluez: BlueZEmulator, add_wearable: AddWearable
) -> None:
    wearable = add_wearable(emulator=fresh_bluez)

    async def main() -> BLEDevice:
        device = await find(wearable.name or "")
        async with BleakClient(device, pair=True):
            pass
        return device

    device = run(main())
    fresh_bluez.crash()
    fresh_bluez.restart()
    # back from storage at once, without a scan: paired, not connected, no RSSI
    props = fresh_bluez.device_properties(wearable)
    assert props["Paired"] and not props["Connected"] and "RSSI" not in props

    async def again() -> None:
        async with BleakClient(device) as client:  # the BLEDevice from before the crash still works
            assert client.is_connected

    run(again())
    assert wearable.connects == 2


def test_discovery_filter_rssi_threshold_hides_weak_devices(add_wearable: AddWearable) -> None:
    near = add_wearable(rssi=-50)
    far = add_wearable(rssi=-95)

    async def seen_with_filter() -> set[str]:
        seen: set[str] = set()
        scanner = BleakScanner(lambda d, _a: seen.add(d.address), bluez={"filters": {"RSSI": -80}})
        async with scanner:
            await asyncio.sleep(0.5)
        return seen

    seen = run(seen_with_filter())
    assert near.address in seen and far.address not in seen
    far.set_rssi(-55)  # walks closer
    assert far.address in run(seen_with_filter())


def test_device_clock_wraps_at_2_to_the_32_ms_while_the_sequence_runs_on(add_wearable: AddWearable) -> None:
    """A device up for 49.7 days: t0 wraps to small values, the sequence number does not restart."""
    # The wrap comes 60 device seconds (1.5 s wall at 40x) after the wearable is created: after the
    # stream has started, however slow the scan and connect.
    wearable = add_wearable(source=WaveSource(), speed=40, uptime_ms=2**32 - 60_000)

    async def main() -> list[bytes]:
        received: list[bytes] = []
        async with BleakClient(await find(wearable.name or "")) as client:
            await client.start_notify(fmt.ACCEL_CHAR_UUID, lambda _c, d: received.append(bytes(d)))
            while not received or fmt.decode_packet(received[-1]).t0_ms > 2**31:
                await asyncio.sleep(0.05)
        return received

    packets = [fmt.decode_packet(p) for p in run(main(), timeout=15)]
    assert packets[0].t0_ms > 2**31, "the stream started after the wrap"
    assert [p.seq for p in packets] == list(range(len(packets)))
    wrapped = [i for i, (a, b) in enumerate(itertools.pairwise(packets)) if b.t0_ms < a.t0_ms]
    assert len(wrapped) == 1
    a, b = packets[wrapped[0]], packets[wrapped[0] + 1]
    assert (b.t0_ms - a.t0_ms) % 2**32 == 20 * len(a.samples)


def test_fifo_overflow_keeps_the_sequence_but_jumps_the_clock_and_flags_it(add_wearable: AddWearable) -> None:
    wearable = add_wearable(source=WaveSource(), speed=40)

    async def main() -> list[bytes]:
        received: list[bytes] = []
        async with BleakClient(await find(wearable.name or "")) as client:
            await client.start_notify(fmt.ACCEL_CHAR_UUID, lambda _c, d: received.append(bytes(d)))
            while len(received) < 3:
                await asyncio.sleep(0.02)
            await asyncio.to_thread(wearable.fifo_overflow, 100)
            while len(received) < 8:
                await asyncio.sleep(0.02)
        return received

    packets = [fmt.decode_packet(p) for p in run(main())]
    assert [p.seq for p in packets] == list(range(len(packets)))
    flagged = [i for i, p in enumerate(packets) if p.flags & fmt.FLAG_OVERFLOW]
    assert len(flagged) == 1
    before, after = packets[flagged[0] - 1], packets[flagged[0]]
    assert after.t0_ms - before.t0_ms == 20 * (len(before.samples) + 100)
