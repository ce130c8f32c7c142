"""The peripheral side of GATT: services, characteristics and descriptors as firmware declares them.

A firmware builds a table of `Service` objects once. The BlueZ emulator assigns ATT handles in table
order when a central connects, exports them at bluetoothd's object paths, routes reads and writes to
the callbacks here and carries `Characteristic.notify` values to subscribed clients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from firmware_sim import bluez_defs as defs

ReadHandler = Callable[[], bytes]
WriteHandler = Callable[[bytes, bool], None]  # (value, with_response)
SubscribeHandler = Callable[[bool], None]


class AttError(Exception):
    """A firmware's ATT error response; BlueZ turns it into org.bluez.Error.Failed with the code."""

    def __init__(self, code: int, why: str) -> None:
        super().__init__(f"ATT error 0x{code:02x}: {why}")
        self.code = code


class NotifySink(Protocol):
    """Where a characteristic's notifications go while a central is connected (the emulator)."""

    def notify(self, char: Characteristic, value: bytes) -> None: ...


def uuid16(short: int) -> str:
    """Full 128-bit form of a Bluetooth SIG 16-bit UUID."""
    return f"{short:08x}-0000-1000-8000-00805f9b34fb"


@dataclass(eq=False)
class Descriptor:
    uuid: str
    value: bytes = b""


@dataclass(eq=False)
class Characteristic:
    """One characteristic. ``flags`` use BlueZ's names ("read", "write", "write-without-response",
    "notify", "indicate"). Without ``on_read`` a read returns ``value``; ``on_write`` may raise
    `AttError`; ``on_subscribe`` hears notifications being switched on (True) and off (False)."""

    uuid: str
    flags: tuple[str, ...]
    value: bytes = b""
    on_read: ReadHandler | None = None
    on_write: WriteHandler | None = None
    on_subscribe: SubscribeHandler | None = None
    descriptors: list[Descriptor] = field(default_factory=list)
    sink: NotifySink | None = field(default=None, repr=False)
    subscribed: bool = False

    @property
    def notifies(self) -> bool:
        return "notify" in self.flags or "indicate" in self.flags

    def read(self) -> bytes:
        if self.on_read is not None:
            self.value = self.on_read()
        return self.value

    def notify(self, value: bytes) -> bool:
        """Send a notification if a central has them switched on. Returns whether it went out."""
        self.value = value
        if self.sink is None or not self.subscribed:
            return False
        self.sink.notify(self, value)
        return True

    def set_subscribed(self, on: bool) -> None:
        if on == self.subscribed:
            return
        self.subscribed = on
        if self.on_subscribe is not None:
            self.on_subscribe(on)


@dataclass(eq=False)
class Service:
    uuid: str
    characteristics: list[Characteristic]
    primary: bool = True


def all_descriptors(char: Characteristic) -> list[Descriptor]:
    """Declared descriptors plus the CCCD every notifying characteristic carries."""
    extra = [Descriptor(defs.CCCD_UUID, defs.CCCD_OFF)] if char.notifies else []
    return [*extra, *char.descriptors]


def device_information_service(manufacturer: str, model: str, firmware: str) -> Service:
    """Device Information (0x180A) with the three strings the host shows."""
    return Service(
        uuid16(0x180A),
        [
            Characteristic(uuid16(0x2A29), ("read",), manufacturer.encode()),
            Characteristic(uuid16(0x2A24), ("read",), model.encode()),
            Characteristic(uuid16(0x2A26), ("read",), firmware.encode()),
        ],
    )
