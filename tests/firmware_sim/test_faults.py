"""Every fault the emulator offers, observed from the host side through unmodified Bleak."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from bleak import BleakClient, BleakScanner
from bleak.args.bluez import BlueZNotifyArgs
from bleak.backends.device import BLEDevice
from bleak.exc import BleakBluetoothNotAvailableError, BleakError

from firmware_sim import bluez_defs as defs
from firmware_sim.bluez import BlueZEmulator
from firmware_sim.device import PacketFault, SentPacket
from firmware_sim.source import WaveSource
from firmware_sim.wearable import SimulatedWearable
from monitor.wearables import sitsense_format as fmt
from tests.ble_fixtures import AddWearable, run

SCAN_TIMEOUT_S = 5.0


async def find(name: str) -> BLEDevice:
    device = await BleakScanner.find_device_by_name(name, timeout=SCAN_TIMEOUT_S)
    assert device is not None, f"{name} not found by scanning"
    return device


def stream_with_fault(wearable: SimulatedWearable, kind: PacketFault) -> tuple[list[bytes], list[SentPacket]]:
    """Subscribe, let a few packets through, inject one fault, collect a few more."""

    async def main() -> list[bytes]:
        received: list[bytes] = []
        async with BleakClient(await find(wearable.name or "")) as client:
            await client.start_notify(fmt.ACCEL_CHAR_UUID, lambda _c, d: received.append(bytes(d)))
            while len(received) < 3:
                await asyncio.sleep(0.02)
            await asyncio.to_thread(wearable.inject, kind)
            while len(received) < 10:
                await asyncio.sleep(0.02)
            await client.stop_notify(fmt.ACCEL_CHAR_UUID)
        return received

    received = run(main())
    sent = wearable.sent()
    return received, sent


@pytest.mark.parametrize("kind", list(PacketFault))
def test_each_packet_fault_is_emitted_as_described(add_wearable: AddWearable, kind: PacketFault) -> None:
    wearable = add_wearable(source=WaveSource(), speed=40, seed=3)
    received, sent = stream_with_fault(wearable, kind)
    faulty = [i for i, p in enumerate(sent) if p.fault is kind]
    assert len(faulty) == 1
    assert wearable.fault_counts() == Counter({kind: 1})
    i = faulty[0]
    original = sent[i].payload
    if kind is PacketFault.LOST:
        assert original not in received
        seqs = [fmt.decode_packet(r).seq for r in received]
        assert i not in seqs and i - 1 in seqs and i + 1 in seqs
    elif kind is PacketFault.DUPLICATED:
        at = received.index(original)
        assert received[at + 1] == original
    elif kind is PacketFault.REORDERED:
        assert received.index(original) == received.index(sent[i + 1].payload) + 1
    elif kind is PacketFault.TRUNCATED:
        bad = received[i]
        assert len(bad) < len(original) and original.startswith(bad)
        with pytest.raises(fmt.PacketError):
            fmt.decode_packet(bad)
    elif kind is PacketFault.OVERSIZED:
        bad = received[i]
        assert len(bad) > len(original) and bad.startswith(original)
        with pytest.raises(fmt.PacketError, match="does not match sample count"):
            fmt.decode_packet(bad)
    else:
        bad = received[i]
        assert len(bad) == len(original) and bad != original
        with pytest.raises(fmt.PacketError, match="unsupported version"):
            fmt.decode_packet(bad)
    # every packet the fault did not touch arrives intact and in order
    clean = [p.payload for p in sent if p.fault is None and p.payload in received]
    assert [r for r in received if r in clean] == clean[: len([r for r in received if r in clean])]


def test_random_fault_rates_hit_about_the_given_share(add_wearable: AddWearable) -> None:
    wearable = add_wearable(source=WaveSource(), speed=200, seed=11)
    wearable.set_fault_rates(duplicated=0.2)

    async def main() -> list[bytes]:
        received: list[bytes] = []
        async with BleakClient(await find(wearable.name or "")) as client:
            await client.start_notify(fmt.ACCEL_CHAR_UUID, lambda _c, d: received.append(bytes(d)))
            await asyncio.sleep(0.6)
        return received

    received = run(main())
    sent = wearable.sent()
    duplicated = wearable.fault_counts()[PacketFault.DUPLICATED]
    assert 0.05 * len(sent) < duplicated < 0.4 * len(sent)
    # every payload is unique (the wave never repeats), so repeats in what arrived are the duplicates
    arrived = set(received)
    expected = sum(p.fault is PacketFault.DUPLICATED and p.payload in arrived for p in sent)
    assert len(received) - len(arrived) == expected > 0


def test_battery_drains_with_device_time_and_notifies(add_wearable: AddWearable) -> None:
    # speed 600: one wall second is ten device minutes; 60 %/h drains 1 % per device minute
    wearable = add_wearable(speed=600, battery_pct=90, drain_pct_per_h=60)

    async def main() -> list[int]:
        levels: list[int] = []
        async with BleakClient(await find(wearable.name or "")) as client:
            await client.start_notify(fmt.BATTERY_LEVEL_CHAR_UUID, lambda _c, d: levels.append(d[0]))
            await asyncio.sleep(1.2)
        return levels

    levels = run(main())
    assert len(levels) >= 3
    assert levels == sorted(levels, reverse=True) and len(set(levels)) == len(levels)
    assert levels[-1] < 90


def test_empty_battery_switches_the_device_off(add_wearable: AddWearable) -> None:
    wearable = add_wearable(battery_pct=100)

    async def main() -> None:
        lost = asyncio.Event()
        client = BleakClient(await find(wearable.name or ""), disconnected_callback=lambda _c: lost.set())
        await client.connect()
        await asyncio.to_thread(wearable.set_battery, 0)
        await asyncio.wait_for(lost.wait(), 3)
        await client.disconnect()  # releases the client's own D-Bus connection
        assert await BleakScanner.find_device_by_name(wearable.name or "", timeout=0.5) is None

    run(main())


def test_acquire_notify_delivers_over_a_socket(add_wearable: AddWearable) -> None:
    wearable = add_wearable(source=WaveSource(), speed=20)

    async def main() -> list[bytes]:
        received: list[bytes] = []
        async with BleakClient(await find(wearable.name or "")) as client:
            await client.start_notify(
                fmt.ACCEL_CHAR_UUID,
                lambda _c, d: received.append(bytes(d)),
                bluez=BlueZNotifyArgs(use_start_notify=False),
            )
            await asyncio.sleep(0.8)
            await client.stop_notify(fmt.ACCEL_CHAR_UUID)
            await asyncio.sleep(0.2)
            assert not wearable.streaming, "closing the socket ends the subscription"
        return received

    received = run(main())
    assert [fmt.decode_packet(r).seq for r in received] == list(range(len(received)))
    assert len(received) >= 5


def test_client_leaving_the_bus_ends_its_notify_session(add_wearable: AddWearable) -> None:
    wearable = add_wearable(source=WaveSource(), speed=20)

    async def main() -> None:
        client = BleakClient(await find(wearable.name or ""))
        await client.connect()
        await client.start_notify(fmt.ACCEL_CHAR_UUID, lambda _c, _d: None)
        await asyncio.sleep(0.2)
        assert wearable.streaming
        await client.disconnect()

    run(main())
    assert not wearable.streaming
    assert not wearable.connected


def test_forgotten_device_must_be_found_again(bluez: BlueZEmulator, add_wearable: AddWearable) -> None:
    wearable = add_wearable()

    async def main() -> None:
        device = await find(wearable.name or "")
        await asyncio.to_thread(bluez.forget, wearable)
        assert defs.device_path(wearable.address) not in await asyncio.to_thread(bluez.object_paths)
        # Bleak's cache lost the path with the Device1 object: the old BLEDevice is useless
        with pytest.raises(BleakError, match="not found"):
            await BleakClient(device, timeout=3).connect()
        async with BleakClient(await find(wearable.name or "")) as client:
            assert client.is_connected

    run(main())


def test_adapter_power_off_drops_links(fresh_bluez: BlueZEmulator, add_wearable: AddWearable) -> None:
    wearable = add_wearable(emulator=fresh_bluez)

    async def main() -> None:
        lost = asyncio.Event()
        client = BleakClient(await find(wearable.name or ""), disconnected_callback=lambda _c: lost.set())
        await client.connect()
        await asyncio.to_thread(fresh_bluez.set_powered, False)
        await asyncio.wait_for(lost.wait(), 3)
        await client.disconnect()  # releases the client's own D-Bus connection
        await asyncio.to_thread(fresh_bluez.set_powered, True)
        # Bleak learns "Powered" from a signal: until it lands, it reports the adapter off
        for _ in range(40):
            try:
                device = await find(wearable.name or "")
                break
            except BleakBluetoothNotAvailableError:
                await asyncio.sleep(0.05)
        else:
            pytest.fail("Bleak never saw the adapter powered again")
        async with BleakClient(device) as again:
            assert again.is_connected

    run(main())


def test_unpaired_devices_expire_like_bluetoothds_temporary_timeout(
    fresh_bluez: BlueZEmulator, add_wearable: AddWearable
) -> None:
    fresh_bluez.temporary_timeout_s = 0.5
    wearable = add_wearable(emulator=fresh_bluez)
    path = defs.device_path(wearable.address)

    async def main() -> None:
        await find(wearable.name or "")
        assert path in await asyncio.to_thread(fresh_bluez.object_paths)
        await asyncio.sleep(1.2)  # no scan running: nothing refreshes it
        assert path not in await asyncio.to_thread(fresh_bluez.object_paths)
        await find(wearable.name or "")  # a new scan brings it back

    run(main())


def test_random_connect_failures_make_bleak_retry_until_it_gets_through(add_wearable: AddWearable) -> None:
    wearable = add_wearable()
    wearable.set_connect_failure_rate(1.0)

    async def main() -> None:
        device = await find(wearable.name or "")
        with pytest.raises(TimeoutError):  # every attempt aborted: Bleak retries until its timeout
            await BleakClient(device, timeout=1.0).connect()
        await asyncio.to_thread(wearable.set_connect_failure_rate, 0.5)
        async with BleakClient(device, timeout=10.0) as client:
            assert client.is_connected

    run(main())
    assert wearable.connects == 1
    with pytest.raises(ValueError, match="connect failure rate"):
        wearable.set_connect_failure_rate(1.5)
