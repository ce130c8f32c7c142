"""Finding the wearable: what to look for, one shared BleakScanner, and "is Bluetooth there at all".

The scanner runs only while some link is looking (active scanning next to a connection costs radio
time on a Pi's single adapter), reports through Bleak's detection callback, and is one
`BleakScanner` object per event loop, reused for the life of the process (see `ScanHub`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
import weakref
from dataclasses import dataclass

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError, BleakError
from bleak.uuids import normalize_uuid_str

from monitor.wearables.profiles import Advertisement, DeviceProfile

_LOGGER = logging.getLogger(__name__)

# D-Bus errors meaning "bluetoothd is not on the bus" rather than "this device misbehaved".
_NO_BLUEZ_ERRORS = frozenset(
    {
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
        "org.freedesktop.DBus.Error.NoServer",
        "org.freedesktop.DBus.Error.Disconnected",
    }
)
UNAVAILABLE_ADVICE = (
    "is bluetoothd running and the adapter powered? (systemctl status bluetooth; bluetoothctl show)"
)


def bluetooth_unavailable(exc: BaseException) -> str | None:
    """Why Bluetooth itself is unusable, or None when `exc` is about the device or the link.

    No system bus (socket missing or refused), no `org.bluez` on it, or no powered adapter with
    the central role: all retried by the link with one clear message, never a crash.
    """
    if isinstance(exc, BleakBluetoothNotAvailableError):
        return str(exc.args[0]) if exc.args else "Bluetooth is not available"
    if isinstance(exc, BleakDBusError) and exc.dbus_error in _NO_BLUEZ_ERRORS:
        return f"BlueZ (org.bluez) is not on the system bus: {exc.dbus_error}"
    if isinstance(exc, (FileNotFoundError, ConnectionRefusedError)):
        return f"no D-Bus system bus ({exc.strerror or exc})"
    if isinstance(exc, BleakError) and "adapter '" in str(exc) and "not found" in str(exc):
        return str(exc)
    return None


@dataclass(frozen=True, slots=True)
class WearableTarget:
    """Which wearable to use: by address, by name (exact or a shell pattern like ``SitSense-*``), by
    advertised service UUID, or, when none is given, the first device the profile recognises."""

    address: str | None = None
    name: str | None = None
    service_uuid: str | None = None

    @classmethod
    def from_config(cls, address: str = "", name: str = "", service_uuid: str = "") -> WearableTarget:
        """From a `[[wearables]]` entry, where an empty string means "do not match on this"."""
        return cls(address or None, name or None, service_uuid or None)

    def describe(self) -> str:
        return self.address or self.name or self.service_uuid or "any"

    def matches(self, device: BLEDevice, adv: AdvertisementData, profile: DeviceProfile) -> bool:
        if self.address is not None and device.address.upper() != self.address.upper():
            return False
        if self.name is not None:
            name = adv.local_name or device.name or ""
            if not fnmatch.fnmatchcase(name, self.name):
                return False
        if self.service_uuid is not None and normalize_uuid_str(self.service_uuid) not in (
            normalize_uuid_str(u) for u in adv.service_uuids
        ):
            return False
        if self.address is None and self.name is None and self.service_uuid is None:
            return profile.matches(as_advertisement(device, adv))
        return True


def as_advertisement(device: BLEDevice, adv: AdvertisementData) -> Advertisement:
    return Advertisement(adv.local_name or device.name, tuple(adv.service_uuids), dict(adv.manufacturer_data))


class ScanHub:
    """One BleakScanner per event loop, shared by every link that is looking.

    bluetoothd gives each D-Bus client one discovery session (a second StartDiscovery from the same
    connection is refused with InProgress) and Bleak talks to it over one connection per loop, so
    links in one process must share a scan: the first link to look starts it, the last to stop
    looking stops it, and every advertisement goes to every link that is looking.
    """

    def __init__(self) -> None:
        self._scanner: BleakScanner | None = None
        self._users: set[WearableScanner] = set()
        self._lock = asyncio.Lock()

    def _detected(self, device: BLEDevice, adv: AdvertisementData) -> None:
        for user in tuple(self._users):
            user.detected(device, adv)

    async def join(self, user: WearableScanner) -> None:
        """Start receiving advertisements (starting the scan if nobody else is looking)."""
        async with self._lock:
            if not self._users:
                if self._scanner is None:
                    self._scanner = BleakScanner(detection_callback=self._detected)
                await self._scanner.start()
            self._users.add(user)

    async def leave(self, user: WearableScanner) -> None:
        """Stop receiving; the last one out stops the scan (a failure there is logged and ignored)."""
        async with self._lock:
            if user not in self._users:
                return
            self._users.discard(user)
            if self._users or self._scanner is None:
                return
            try:
                await self._scanner.stop()
            except Exception as exc:  # any D-Bus failure: the scan is over either way
                _LOGGER.debug("stopping the scan failed (ignored): %r", exc)


_HUBS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ScanHub] = weakref.WeakKeyDictionary()


def scan_hub() -> ScanHub:
    """The running loop's shared scanner."""
    loop = asyncio.get_running_loop()
    hub = _HUBS.get(loop)
    if hub is None:
        hub = _HUBS[loop] = ScanHub()
    return hub


class WearableScanner:
    """What one link looks for; `find` listens on the loop's shared scan until the target shows up."""

    def __init__(self, target: WearableTarget, profile: DeviceProfile) -> None:
        self.target = target
        self.profile = profile
        self._found: asyncio.Future[tuple[BLEDevice, AdvertisementData] | None] | None = None
        self.seen = 0  # advertisements received while looking

    def detected(self, device: BLEDevice, adv: AdvertisementData) -> None:
        self.seen += 1
        found = self._found
        if found is not None and not found.done() and self.target.matches(device, adv, self.profile):
            found.set_result((device, adv))

    async def find(self, timeout_s: float) -> tuple[BLEDevice, AdvertisementData] | None:
        """Scan until the target advertises (returns it) or `timeout_s` passes (returns None).

        Raises what Bleak raises when scanning cannot start (see `bluetooth_unavailable`)."""
        hub = scan_hub()
        self._found = asyncio.get_running_loop().create_future()
        await hub.join(self)
        try:
            async with asyncio.timeout(timeout_s):
                return await self._found
        except TimeoutError:
            return None
        finally:
            self._found = None
            await hub.leave(self)

    def cancel(self) -> None:
        """Make a pending `find` return None now (the link is stopping)."""
        if self._found is not None and not self._found.done():
            self._found.set_result(None)


async def discover(timeout_s: float) -> list[tuple[BLEDevice, AdvertisementData]]:
    """Every device heard within `timeout_s` (for `sitbreak scan`), strongest first."""
    heard: dict[str, tuple[BLEDevice, AdvertisementData]] = {}

    def detected(device: BLEDevice, adv: AdvertisementData) -> None:
        heard[device.address] = (device, adv)

    scanner = BleakScanner(detection_callback=detected)
    await scanner.start()
    try:
        await asyncio.sleep(timeout_s)
    finally:
        with contextlib.suppress(Exception):
            await scanner.stop()
    return sorted(heard.values(), key=lambda item: item[1].rssi, reverse=True)
