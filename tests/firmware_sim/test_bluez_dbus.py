"""The emulator's D-Bus surface as a plain dbus-fast client sees it: errors, discovery, introspection."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from firmware_sim import bluez_defs as defs
from firmware_sim.bluez import BlueZEmulator
from firmware_sim.bus import PrivateBus
from tests.ble_fixtures import AddWearable, run


async def call(
    bus: MessageBus,
    path: str,
    interface: str,
    member: str,
    *,
    signature: str = "",
    body: list[Any] | None = None,
) -> Message:
    reply = await bus.call(
        Message(
            destination=defs.BLUEZ_SERVICE,
            path=path,
            interface=interface,
            member=member,
            signature=signature,
            body=body or [],
        )
    )
    assert reply is not None
    return reply


async def connect(private_bus: PrivateBus) -> MessageBus:
    return await MessageBus(bus_address=private_bus.address, bus_type=BusType.SYSTEM).connect()


async def close(bus: MessageBus) -> None:
    bus.disconnect()
    await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]


def test_errors_carry_bluez_names(
    private_bus: PrivateBus, bluez: BlueZEmulator, add_wearable: AddWearable
) -> None:
    idle = add_wearable()

    async def main() -> list[tuple[str | None, Any]]:
        scanner = await connect(private_bus)  # a scan puts the idle device in BlueZ's cache
        await call(scanner, defs.ADAPTER_PATH, defs.ADAPTER_INTERFACE, "StartDiscovery")
        while defs.device_path(idle.address) not in await asyncio.to_thread(bluez.object_paths):
            await asyncio.sleep(0.05)
        await close(scanner)
        bus = await connect(private_bus)
        try:
            replies = [
                await call(bus, defs.device_path(idle.address), defs.DEVICE_INTERFACE, "Disconnect"),
                await call(bus, defs.device_path("00:00:00:00:00:01"), defs.DEVICE_INTERFACE, "Connect"),
                await call(bus, defs.ADAPTER_PATH, defs.ADAPTER_INTERFACE, "Frobnicate"),
                await call(bus, defs.ADAPTER_PATH, defs.ADAPTER_INTERFACE, "StopDiscovery"),
                await call(
                    bus,
                    defs.ADAPTER_PATH,
                    defs.ADAPTER_INTERFACE,
                    "SetDiscoveryFilter",
                    signature="a{sv}",
                    body=[{"Colour": Variant("s", "blue")}],
                ),
                await call(
                    bus,
                    defs.ADAPTER_PATH,
                    defs.ADAPTER_INTERFACE,
                    "RemoveDevice",
                    signature="o",
                    body=["/org/bluez/hci0/dev_X"],
                ),
                await call(
                    bus,
                    defs.ADAPTER_PATH,
                    defs.PROPERTIES_INTERFACE,
                    "Set",
                    signature="ssv",
                    body=[defs.ADAPTER_INTERFACE, "Address", Variant("s", "11:22:33:44:55:66")],
                ),
            ]
        finally:
            await close(bus)
        return [(r.error_name, r.body[0] if r.body else None) for r in replies]

    errors = run(main())
    assert [name for name, _ in errors] == [
        defs.ERROR_NOT_CONNECTED,
        defs.DBUS_ERROR_UNKNOWN_OBJECT,
        defs.DBUS_ERROR_UNKNOWN_METHOD,
        defs.ERROR_FAILED,
        defs.ERROR_INVALID_ARGUMENTS,
        defs.ERROR_DOES_NOT_EXIST,
        defs.DBUS_ERROR_PROPERTY_READ_ONLY,
    ]
    assert errors[0][1] == "Not Connected"
    assert errors[3][1] == "No discovery started"


def test_discovery_is_one_session_per_client_and_ends_when_it_leaves(
    private_bus: PrivateBus, bluez: BlueZEmulator
) -> None:
    async def main() -> None:
        first, second = await connect(private_bus), await connect(private_bus)
        try:
            start = (defs.ADAPTER_PATH, defs.ADAPTER_INTERFACE, "StartDiscovery")
            assert (await call(first, *start)).message_type is MessageType.METHOD_RETURN
            again = await call(first, *start)
            assert (again.error_name, again.body[0]) == (
                defs.ERROR_IN_PROGRESS,
                "Operation already in progress",
            )
            assert (await call(second, *start)).message_type is MessageType.METHOD_RETURN
            stop = await call(second, defs.ADAPTER_PATH, defs.ADAPTER_INTERFACE, "StopDiscovery")
            assert stop.message_type is MessageType.METHOD_RETURN
            assert bluez.discovering()  # the first client still scans
        finally:
            await close(first)
            await close(second)

    run(main())
    # the emulator hears of the departures from dbus-daemon's NameOwnerChanged, a moment later
    deadline = time.monotonic() + 2.0
    while bluez.discovering() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not bluez.discovering(), "a client that left the bus keeps no discovery session"


def test_introspection_walks_the_tree(
    private_bus: PrivateBus, bluez: BlueZEmulator, add_wearable: AddWearable
) -> None:
    async def main() -> tuple[str, str]:
        bus = await connect(private_bus)
        try:
            root = await call(bus, "/org/bluez", defs.INTROSPECTABLE_INTERFACE, "Introspect")
            adapter = await call(bus, defs.ADAPTER_PATH, defs.INTROSPECTABLE_INTERFACE, "Introspect")
        finally:
            await close(bus)
        return root.body[0], adapter.body[0]

    root, adapter = run(main())
    assert '<node name="hci0"/>' in root
    assert f'<interface name="{defs.ADAPTER_INTERFACE}">' in adapter
    assert '<method name="StartDiscovery"/>' in adapter
    assert '<property name="Roles" type="as" access="read"/>' in adapter


@pytest.mark.parametrize("member", ["GetManagedObjects"])
def test_object_manager_lives_at_the_root_only(
    private_bus: PrivateBus, bluez: BlueZEmulator, member: str
) -> None:
    async def main() -> tuple[Message, Message]:
        bus = await connect(private_bus)
        try:
            root = await call(bus, "/", defs.OBJECT_MANAGER_INTERFACE, member)
            elsewhere = await call(bus, defs.ADAPTER_PATH, defs.OBJECT_MANAGER_INTERFACE, member)
        finally:
            await close(bus)
        return root, elsewhere

    root, elsewhere = run(main())
    objects = root.body[0]
    assert "Roles" in objects[defs.ADAPTER_PATH][defs.ADAPTER_INTERFACE]
    assert defs.AGENT_MANAGER_INTERFACE in objects[defs.BLUEZ_PATH]
    assert elsewhere.error_name == defs.DBUS_ERROR_UNKNOWN_METHOD
