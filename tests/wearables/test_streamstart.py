"""streamstart's pure parts and its teardown (the link-level behaviour is in test_link_e2e.py and the
doctor's tests)."""

from __future__ import annotations

import asyncio

import pytest
from bleak.exc import BleakDBusError, BleakError, BleakGATTProtocolError

from monitor.wearables.assembler import Who
from monitor.wearables.profiles import PolarProfile
from monitor.wearables.settings import LinkSettings
from monitor.wearables.streamstart import battery_level, needs_pairing, pairing_fix, teardown


@pytest.mark.parametrize(
    ("exc", "pair"),
    [
        # bluetoothd (src/gatt-client.c create_gatt_dbus_error) for ATT 0x05, 0x0C and 0x0F
        (BleakDBusError("org.bluez.Error.NotPermitted", ["Not paired"]), True),
        (BleakDBusError("org.bluez.Error.NotPermitted", ["Write not permitted"]), False),
        (BleakDBusError("org.bluez.Error.NotPermitted", []), False),
        (BleakDBusError("org.bluez.Error.Failed", ["Operation failed with ATT error: 0x05"]), False),
        # a backend that keeps the code
        (BleakGATTProtocolError(0x05), True),
        (BleakGATTProtocolError(0x0C), True),
        (BleakGATTProtocolError(0x0F), True),
        (BleakGATTProtocolError(0x03), False),
        (BleakError("Not paired"), False),
        (TimeoutError(), False),
    ],
)
def test_needs_pairing(exc: BaseException, pair: bool) -> None:
    assert needs_pairing(exc) is pair


def test_pairing_fix_names_the_address_and_the_readme() -> None:
    fix = pairing_fix("A0:9E:1A:12:34:56")
    assert "bluetoothctl pair A0:9E:1A:12:34:56, then bluetoothctl trust A0:9E:1A:12:34:56" in fix
    assert '"Pairing once"' in fix and "remove" not in fix
    assert "bluetoothctl remove A0:9E:1A:12:34:56, then bluetoothctl pair" in pairing_fix(
        "A0:9E:1A:12:34:56", True
    )


@pytest.mark.parametrize(
    ("data", "level"), [(b"\x57", 87), (b"\x64", 100), (b"\x65", None), (b"", None), (b"\x01\x02", None)]
)
def test_battery_level(data: bytes, level: int | None) -> None:
    assert battery_level(data) == level


class _Client:
    """Just enough of a BleakClient for `teardown`: the stop write is refused."""

    is_connected = True

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def write_gatt_char(self, uuid: str, data: bytes, response: bool) -> None:
        self.calls.append(f"write {data.hex()}")
        raise BleakDBusError("org.bluez.Error.NotPermitted", ["Not paired"])

    async def disconnect(self) -> None:
        self.calls.append("disconnect")


def test_teardown_disconnects_even_when_the_pause_is_refused() -> None:
    """A refused stop write (an unpaired Polar) used to skip the disconnect, leaving the link
    and the client's own D-Bus connection open."""
    client = _Client()
    profile = PolarProfile()
    asyncio.run(teardown(client, profile, LinkSettings(), Who("x", "y"), pause=True))  # type: ignore[arg-type]
    assert client.calls == ["write 0302", "disconnect"]
