"""Connecting to a wearable and starting its stream: the one copy of that logic.

The link (`WearableLink`) runs it at every connection and `sitbreak doctor` for its checks, so the
doctor exercises exactly what the service does:

    client = await connect(device, who.name, settings, on_disconnected)
    control = ControlPoint(profile, who, on_stopped)
    started = await start_stream(client, profile, control, on_data, settings=settings, who=who)
    await subscribe_battery(client, on_battery, who)
    ...
    await teardown(client, profile, settings, who, pause=True)

`start_stream` subscribes to the profile's control point (when it has one) and data characteristic,
then performs the profile's `start_sequence()`: a `GattRead` is read and the value sent back into
the sequence; a `GattWrite` is written and, when it awaits a reply, the reply (reassembled and
classified by the profile, see `ControlPoint`) is sent back, or the start fails after
`start_timeout_s`.

Pairing when the device asks. A device that wants an encrypted (bonded) link refuses a read, write
or subscription with ATT "Insufficient Authentication" (0x05), "Insufficient Encryption Key Size"
(0x0C) or "Insufficient Encryption" (0x0F). bluetoothd answers all three with
org.bluez.Error.NotPermitted "Not paired" (`create_gatt_dbus_error` in bluez/bluez
src/gatt-client.c, e.g. at 1f1c3eb8439694b654f51860e5f3ccd6bb56aa24), which Bleak passes on as a
`BleakDBusError`; a backend that keeps the code gives a `BleakGATTProtocolError`. Either way the start
pairs through Bleak once (`client.pair()`: Device1.Trusted, then Device1.Pair) and repeats the
refused step; BlueZ keeps the bond, so later connections start without pairing. When pairing fails,
or the device still refuses after it, the start fails with `PairingError`, whose fix is the one-time
`bluetoothctl` pairing of the README.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.exc import BleakDBusError, BleakGATTProtocolError
from bleak_retry_connector import BleakClientWithServiceCache, establish_connection

from monitor.wearables.assembler import Who
from monitor.wearables.profiles import (
    BATTERY_LEVEL_UUID,
    ControlKind,
    DeviceProfile,
    GattRead,
    GattStep,
    GattWrite,
    StreamStartError,
)
from monitor.wearables.settings import LinkSettings

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")
NotifyCallback = Callable[[BleakGATTCharacteristic, bytearray], None]
BatteryCallback = Callable[[BleakGATTCharacteristic | None, bytearray], None]

# ATT errors that mean "encrypt the link (pair) first" (Core spec Vol 3 Part F 3.4.1.1).
ATT_INSUFFICIENT_AUTHENTICATION = 0x05
ATT_INSUFFICIENT_ENCRYPTION_KEY_SIZE = 0x0C
ATT_INSUFFICIENT_ENCRYPTION = 0x0F
PAIRING_ATT_ERRORS = frozenset(
    {ATT_INSUFFICIENT_AUTHENTICATION, ATT_INSUFFICIENT_ENCRYPTION_KEY_SIZE, ATT_INSUFFICIENT_ENCRYPTION}
)
# How bluetoothd reports those three (src/gatt-client.c, create_gatt_dbus_error).
BLUEZ_NOT_PERMITTED = "org.bluez.Error.NotPermitted"
BLUEZ_NOT_PAIRED = "Not paired"
NO_ANSWER_FIX = "switch the wearable off and on and try again"


def needs_pairing(exc: BaseException) -> bool:
    """True when `exc` is a device refusing an operation until the link is encrypted."""
    if isinstance(exc, BleakGATTProtocolError):
        return int(exc.code) in PAIRING_ATT_ERRORS
    if isinstance(exc, BleakDBusError):
        details = exc.dbus_error_details or ""
        return exc.dbus_error == BLUEZ_NOT_PERMITTED and details.startswith(BLUEZ_NOT_PAIRED)
    return False


def pairing_fix(address: str, stale: bool = False) -> str:
    """The one-time pairing by hand (README, "Pairing once"); `stale`: a bond exists but the device
    no longer accepts it (it was reset or paired with another host), so remove it first."""
    steps = f"bluetoothctl pair {address}, then bluetoothctl trust {address}"
    if stale:
        steps = f"bluetoothctl remove {address}, then {steps}"
    return f'pair it once by hand as README "Pairing once" shows (stop the sitbreak service first): {steps}'


class PairingError(StreamStartError):
    """The device wants a bonded link and pairing through Bleak did not give one; `fix` says how to
    pair by hand."""


@dataclass(slots=True)
class StartReport:
    """What one start did: the steps performed (their purposes, in order) and whether it paired."""

    steps: list[str] = field(default_factory=list)
    paired: bool = False


async def connect(
    device: BLEDevice,
    name: str,
    settings: LinkSettings,
    on_disconnected: Callable[[BleakClientWithServiceCache], None],
) -> BleakClientWithServiceCache:
    """Connect with bleak-retry-connector (`connect_attempts` tries) within `connect_timeout_s`."""
    async with asyncio.timeout(settings.connect_timeout_s):
        return await establish_connection(
            BleakClientWithServiceCache,
            device,
            name,
            disconnected_callback=on_disconnected,
            max_attempts=settings.connect_attempts,
            use_services_cache=False,
        )


class ControlPoint:
    """A profile's control point on one connection. Every notification goes to the profile to
    classify (it reassembles continued answers): a reply goes to the write waiting for it, "stream
    stopped" to `on_stopped` with the profile's words, anything else to the debug log."""

    def __init__(self, profile: DeviceProfile, who: Who, on_stopped: Callable[[str], None]) -> None:
        self.profile = profile
        self.who = who
        self.on_stopped = on_stopped
        self._reply: asyncio.Future[bytes] | None = None

    def notified(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        message = self.profile.control_message(bytes(data))
        reply = self._reply
        if message.kind is ControlKind.REPLY and reply is not None and not reply.done():
            reply.set_result(message.data)
        elif message.kind is ControlKind.STREAM_STOPPED:
            self.on_stopped(message.detail)
        else:
            _LOGGER.debug(
                "%s - %s: control point says %s (%s)",
                self.who.name,
                self.who.address,
                data.hex(" "),
                message.detail,
            )

    async def write(
        self, client: BleakClientWithServiceCache, write: GattWrite, timeout_s: float
    ) -> bytes | None:
        """Perform `write`; when it awaits a reply, return the reply (StreamStartError when none
        comes within `timeout_s`), else None."""
        if not write.await_reply:
            await client.write_gatt_char(write.char_uuid, write.data, response=write.response)
            return None
        reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._reply = reply
        try:
            await client.write_gatt_char(write.char_uuid, write.data, response=write.response)
            try:
                async with asyncio.timeout(timeout_s):
                    return await reply
            except TimeoutError:
                raise StreamStartError(
                    self.profile.name,
                    f"no answer to {write.purpose or 'the start write'} within {timeout_s:g} s",
                    NO_ANSWER_FIX,
                ) from None
        finally:
            self._reply = None


class _PairOnce:
    """Runs the start's operations; the first refused for want of encryption makes it pair, once,
    and repeat that operation."""

    def __init__(
        self, client: BleakClientWithServiceCache, profile: DeviceProfile, who: Who, report: StartReport
    ) -> None:
        self.client = client
        self.profile = profile
        self.who = who
        self.report = report

    async def run(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        try:
            return await operation()
        except Exception as exc:
            if not needs_pairing(exc):
                raise
            refused = exc
        if self.report.paired:
            raise PairingError(
                self.profile.name,
                f"{what} is refused again after pairing ({refused})",
                pairing_fix(self.who.address, stale=True),
            ) from refused
        await self._pair(what, refused)
        try:
            return await operation()
        except Exception as exc:
            if needs_pairing(exc):
                raise PairingError(
                    self.profile.name,
                    f"{what} is still refused after pairing ({exc})",
                    pairing_fix(self.who.address, stale=True),
                ) from exc
            raise

    async def _pair(self, what: str, refused: Exception) -> None:
        who = self.who
        _LOGGER.info(
            "%s - %s: %s refused until the link is encrypted (%s); pairing",
            who.name,
            who.address,
            what,
            refused,
        )
        try:
            await self.client.pair()
        except Exception as exc:  # BlueZ's AuthenticationFailed/Rejected/Canceled, a timeout, ...
            raise PairingError(
                self.profile.name,
                f"the device wants a bonded link ({what} refused: {refused}) and pairing failed: "
                f"{str(exc) or type(exc).__name__}",
                pairing_fix(who.address),
            ) from exc
        self.report.paired = True
        _LOGGER.info("%s - %s: paired (BlueZ keeps the bond)", who.name, who.address)


async def start_stream(
    client: BleakClientWithServiceCache,
    profile: DeviceProfile,
    control: ControlPoint,
    on_data: NotifyCallback,
    *,
    settings: LinkSettings,
    who: Who,
) -> StartReport:
    """Subscribe and run the profile's start sequence (see the module docstring). Raises
    StreamStartError (PairingError when pairing did not help) or what Bleak raises."""
    report = StartReport()
    guard = _PairOnce(client, profile, who, report)
    control_uuid = profile.control_uuid
    if control_uuid is not None:
        await guard.run(
            "subscribing to the control point", lambda: client.start_notify(control_uuid, control.notified)
        )
    await guard.run(
        "subscribing to the data",
        lambda: client.start_notify(
            profile.data_uuid, on_data, bluez={"use_start_notify": not settings.acquire_notify}
        ),
    )
    steps = profile.start_sequence()
    value: bytes | None = None
    try:
        while True:
            step = steps.send(value)
            what = step.purpose or ("the start read" if isinstance(step, GattRead) else "the start write")
            perform = functools.partial(_perform, client, control, step, settings.start_timeout_s)
            value = await guard.run(what, perform)
            report.steps.append(what)
    except StopIteration:
        pass
    return report


async def _perform(
    client: BleakClientWithServiceCache, control: ControlPoint, step: GattStep, timeout_s: float
) -> bytes | None:
    if isinstance(step, GattRead):
        return bytes(await client.read_gatt_char(step.char_uuid))
    return await control.write(client, step, timeout_s)


def battery_level(data: bytes | bytearray) -> int | None:
    """A Battery Level value (one byte, 0-100 %), or None for anything else."""
    return data[0] if len(data) == 1 and data[0] <= 100 else None


async def subscribe_battery(
    client: BleakClientWithServiceCache, on_battery: BatteryCallback, who: Who
) -> None:
    """Read the standard battery level and subscribe to its changes, when the device has one;
    `on_battery(None, value)` gets the value read. Never fails: the battery is optional."""
    if client.services.get_characteristic(BATTERY_LEVEL_UUID) is None:
        return
    try:
        value = await client.read_gatt_char(BATTERY_LEVEL_UUID)
        on_battery(None, value)
        await client.start_notify(BATTERY_LEVEL_UUID, on_battery)
    except Exception as exc:  # battery is optional: never lose the stream over it
        _LOGGER.debug("%s - %s: battery level unavailable: %r", who.name, who.address, exc)


async def teardown(
    client: BleakClientWithServiceCache,
    profile: DeviceProfile,
    settings: LinkSettings,
    who: Who,
    *,
    pause: bool,
) -> None:
    """Pause the wearable when `pause` (the profile's stop writes), then disconnect, each within
    `disconnect_timeout_s`. Every failure is tolerated (a dead bluetoothd, a vanished device, a
    refused stop write), and the disconnect always happens: it also releases the client's own
    D-Bus connection."""
    if pause and client.is_connected:
        try:
            async with asyncio.timeout(settings.disconnect_timeout_s):
                for write in profile.stop_writes():
                    await client.write_gatt_char(write.char_uuid, write.data, response=write.response)
        except Exception as exc:
            _LOGGER.debug("%s - %s: pausing the wearable failed (ignored): %r", who.name, who.address, exc)
    try:
        async with asyncio.timeout(settings.disconnect_timeout_s):
            await client.disconnect()
    except Exception as exc:  # the link is gone anyway
        _LOGGER.debug("%s - %s: disconnect failed (ignored): %r", who.name, who.address, exc)
