"""A BlueZ (bluetoothd) emulator on a private D-Bus, so that unmodified Bleak talks to simulated wearables.

It owns ``org.bluez`` on the bus it is given and serves what bleak 3.1.0's BlueZ backend uses:

* ``/`` ObjectManager (GetManagedObjects, InterfacesAdded/InterfacesRemoved sent from ``/``);
* ``/org/bluez/hci0`` Adapter1: Powered, Roles (central), Discovering; SetDiscoveryFilter,
  StartDiscovery, StopDiscovery (one session per client, as bluetoothd keeps them), RemoveDevice;
* Device1 per wearable seen while a scan runs (InterfacesAdded, then RSSI/ManufacturerData through
  PropertiesChanged); Connect, Disconnect, Pair; link loss (ServicesResolved and Connected go False, the
  GATT objects are removed with InterfacesRemoved, Device1 stays);
* GattService1 / GattCharacteristic1 / GattDescriptor1 (with the CCCD 0x2902) while connected, at
  bluetoothd's paths, with ReadValue, WriteValue, StartNotify/StopNotify, AcquireNotify/AcquireWrite
  and the MTU property (`firmware_sim.bluez_gatt`).

The object tree and the standard D-Bus interfaces over it live in `firmware_sim.bluez_objects`;
errors carry BlueZ's names and the texts Bleak matches (`firmware_sim.bluez_defs`).

The emulator runs its own event loop in a thread, like a separate daemon would, so tests can drive
Bleak in any loop they like. `crash` drops off the bus the way a dying bluetoothd does (connections
gone, no goodbye signals); `restart` comes back with a fresh object tree.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.constants import NameFlag, RequestNameReply

from firmware_sim import bluez_defs as defs
from firmware_sim import bluez_gatt
from firmware_sim.bluez_gatt import GattDatabase
from firmware_sim.bluez_objects import BluezError, ObjectTree, unknown_method, variant
from firmware_sim.wearable import SimulatedWearable

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")

# Wall-clock timings. Real radios: advertising every 20 ms - 10 s, connection setup tens of ms, and the
# kernel gives up on an LE connection attempt after 20 s (HCI_LE_CONN_TIMEOUT) - tests shorten that.
DEFAULT_ADV_INTERVAL_S = 0.1
DEFAULT_CONNECT_LATENCY_S = 0.02
DEFAULT_CONNECT_TIMEOUT_S = 20.0
FAILED_CONNECT_LATENCY_S = 0.05
HOUSEKEEPING_INTERVAL_S = 0.25
RSSI_JITTER_DB = 3  # advertisements are never received at exactly the same strength
CALL_TIMEOUT_S = 10.0
DEFAULT_ADAPTER_ADDRESS = "00:1A:7D:DA:71:13"

_NAME_OWNER_MATCH = (
    "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged'"
)


@dataclass(eq=False)
class _Device:
    wearable: SimulatedWearable
    path: str
    exported: bool = False
    connected: bool = False
    connecting: asyncio.Task[None] | None = None
    gatt: GattDatabase | None = None  # while connected
    range_changed: asyncio.Event = field(default_factory=asyncio.Event)
    back_in_range: asyncio.TimerHandle | None = None
    last_seen: float = 0.0  # loop time of the last advertisement received or link lost
    stored: dict[str, Variant] | None = None  # Device1 of a paired device, kept across restarts


class BlueZEmulator:
    """bluetoothd on a private bus. Use as a context manager, or `start` / `stop`.

    ``connect_timeout_s``: how long Connect waits for an out-of-range device before failing.
    ``adv_interval_s``: how often each advertising device is reported while a scan runs.
    ``temporary_timeout_s``: forget unpaired devices not heard from for this long, as bluetoothd's
    TemporaryTimeout (30 s in main.conf) does; None (the default) keeps them, which suits tests that
    hold on to a scanned BLEDevice."""

    def __init__(
        self,
        bus_address: str,
        *,
        adapter_address: str = DEFAULT_ADAPTER_ADDRESS,
        adv_interval_s: float = DEFAULT_ADV_INTERVAL_S,
        connect_latency_s: float = DEFAULT_CONNECT_LATENCY_S,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        temporary_timeout_s: float | None = None,
        seed: int = 0,
    ) -> None:
        self.bus_address = bus_address
        self.adapter_address = adapter_address
        self.adv_interval_s = adv_interval_s
        self.connect_latency_s = connect_latency_s
        self.connect_timeout_s = connect_timeout_s
        self.temporary_timeout_s = temporary_timeout_s
        self._rng = np.random.default_rng(seed)
        self._devices: dict[str, _Device] = {}  # by address
        self._tree = ObjectTree(self._send)
        self._filters: dict[str, dict[str, Any]] = {}  # discovery filter per client
        self._discovering: set[str] = set()  # clients with a discovery session
        self._bus: MessageBus | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._adv_task: asyncio.Task[None] | None = None
        self._house_task: asyncio.Task[None] | None = None
        self.powered = True
        self.crashes = 0
        self._handler_table = self._handlers()
        self._writable = {
            defs.ADAPTER_INTERFACE: defs.ADAPTER_WRITABLE,
            defs.DEVICE_INTERFACE: defs.DEVICE_WRITABLE,
        }

    # ================================================================================================
    # Public API (any thread)
    # ================================================================================================
    def __enter__(self) -> BlueZEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the emulator thread and take ``org.bluez`` on the bus."""
        if self._thread is not None:
            raise RuntimeError("BlueZEmulator already started")
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._thread_main, args=(ready,), name="bluez-emulator", daemon=True
        )
        self._thread.start()
        try:
            ready.result(timeout=CALL_TIMEOUT_S)
        except BaseException:
            self._join()
            raise

    def stop(self) -> None:
        """Disconnect everything, leave the bus and end the thread."""
        if self._thread is None or self._loop is None:
            return
        with contextlib.suppress(Exception):
            self.call_async(self._shutdown)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._join()

    @property
    def running(self) -> bool:
        """On the bus (not crashed)."""
        return self._bus is not None

    @property
    def started(self) -> bool:
        """The emulator thread is alive (on the bus or crashed, not stopped)."""
        return self._loop is not None

    def add(self, wearable: SimulatedWearable) -> SimulatedWearable:
        """Switch a wearable on within range of the adapter."""
        return self.call(lambda: self._add(wearable))

    def remove(self, wearable: SimulatedWearable) -> None:
        """Switch a wearable off and forget it."""
        self.call(lambda: self._remove(wearable))

    def forget(self, wearable: SimulatedWearable) -> None:
        """Drop the device from BlueZ's cache (Device1 removed), as the temporary-device timeout does."""
        self.call(lambda: self._forget(wearable))

    def crash(self) -> None:
        """bluetoothd dies: off the bus without a goodbye; every link is gone."""
        self.call_async(self._crash)

    def restart(self) -> None:
        """bluetoothd starts again: back on the bus with the adapter and no connections."""
        self.call_async(self._bring_up)

    def set_powered(self, powered: bool) -> None:
        """Switch the adapter off (links drop, scans stop) or on."""
        self.call(lambda: self._set_powered(powered))

    @property
    def wearables(self) -> list[SimulatedWearable]:
        return self.call(lambda: [d.wearable for d in self._devices.values()])

    def discovering(self) -> bool:
        return self.call(lambda: bool(self._discovering))

    def device_properties(self, wearable: SimulatedWearable) -> dict[str, Any]:
        """The Device1 properties BlueZ currently shows for a wearable ({} when not in its cache)."""

        def get() -> dict[str, Any]:
            props = self._tree.props(defs.device_path(wearable.address), defs.DEVICE_INTERFACE) or {}
            return {name: value.value for name, value in props.items()}

        return self.call(get)

    def object_paths(self) -> list[str]:
        """Every object path currently exported (for tests and debugging)."""
        return self.call(self._tree.paths)

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the emulator loop and return its result."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("BlueZEmulator is not running: call start() first")
        if threading.current_thread() is self._thread:
            return fn()
        result: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                result.set_result(fn())
            except BaseException as exc:
                result.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return result.result(timeout=CALL_TIMEOUT_S)

    def call_async(self, fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
        loop = self._loop
        if loop is None:
            raise RuntimeError("BlueZEmulator is not running: call start() first")
        if threading.current_thread() is self._thread:
            raise RuntimeError("call_async cannot be used from the emulator thread")
        return asyncio.run_coroutine_threadsafe(fn(), loop).result(timeout=CALL_TIMEOUT_S)

    # ================================================================================================
    # Thread and bus life cycle (emulator loop)
    # ================================================================================================
    def _thread_main(self, ready: concurrent.futures.Future[None]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._bring_up())
        except BaseException as exc:
            ready.set_exception(exc)
            loop.close()
            self._loop = None
            return
        ready.set_result(None)
        try:
            loop.run_forever()
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()
            self._loop = None

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=CALL_TIMEOUT_S)
            self._thread = None

    async def _bring_up(self) -> None:
        if self._bus is not None:
            return
        bus = MessageBus(bus_address=self.bus_address, bus_type=BusType.SYSTEM, negotiate_unix_fd=True)
        await bus.connect()
        try:
            reply = await bus.request_name(defs.BLUEZ_SERVICE, NameFlag.DO_NOT_QUEUE)
            if reply is not RequestNameReply.PRIMARY_OWNER:
                raise RuntimeError(f"could not own {defs.BLUEZ_SERVICE} on {self.bus_address}: {reply.name}")
            match = await bus.call(
                Message(
                    destination="org.freedesktop.DBus",
                    path="/org/freedesktop/DBus",
                    interface="org.freedesktop.DBus",
                    member="AddMatch",
                    signature="s",
                    body=[_NAME_OWNER_MATCH],
                )
            )
            if match is None or match.message_type is MessageType.ERROR:
                raise RuntimeError(f"AddMatch for NameOwnerChanged failed: {match.body if match else None}")
        except BaseException:
            bus.disconnect()
            raise
        bus.add_message_handler(self._on_message)
        self._bus = bus
        self._tree.clear()
        self._tree.export(
            defs.BLUEZ_PATH, {defs.AGENT_MANAGER_INTERFACE: {}, defs.PROFILE_MANAGER_INTERFACE: {}}
        )
        self._tree.export(defs.ADAPTER_PATH, {defs.ADAPTER_INTERFACE: self._adapter_props()})
        # bluetoothd loads paired devices from its storage (/var/lib/bluetooth) at start.
        for device in self._devices.values():
            if device.stored is not None:
                self._tree.export(device.path, {defs.DEVICE_INTERFACE: dict(device.stored)})
                device.exported = True
        self._adv_task = self._spawn(self._advertise_loop())
        self._house_task = self._spawn(self._housekeeping_loop())
        _LOGGER.info("BlueZ emulator on %s owns %s", self.bus_address, defs.BLUEZ_SERVICE)

    async def _crash(self) -> None:
        if self._bus is not None:
            self.crashes += 1
        await self._leave_bus()
        _LOGGER.info("BlueZ emulator crashed (left %s)", self.bus_address)

    async def _leave_bus(self) -> None:
        bus = self._bus
        if bus is None:
            return
        self._bus = None
        for task in (self._adv_task, self._house_task):
            if task is not None:
                task.cancel()
        for device in self._devices.values():
            if device.connecting is not None:
                device.connecting.cancel()
                device.connecting = None
            self._teardown_link(device, signal=False)
            props = self._tree.props(device.path, defs.DEVICE_INTERFACE) or {}
            if self._tree.value(device.path, defs.DEVICE_INTERFACE, "Paired", False):
                skip = {"Connected", "ServicesResolved", *defs.DISCOVERY_ONLY_PROPERTIES}
                device.stored = {k: v for k, v in props.items() if k not in skip}
                device.stored.update(Connected=Variant("b", False), ServicesResolved=Variant("b", False))
            device.exported = False
        self._tree.clear()
        self._filters.clear()
        self._discovering.clear()
        bus.disconnect()
        with contextlib.suppress(Exception):
            await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]

    async def _shutdown(self) -> None:
        for device in list(self._devices.values()):
            self._teardown_link(device, signal=self._bus is not None)
        await self._leave_bus()
        for task in list(self._tasks):
            task.cancel()

    def _spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("emulator task failed", exc_info=task.exception())

    # ================================================================================================
    # Signals
    # ================================================================================================
    def _send(self, msg: Message) -> asyncio.Future[None] | None:
        if self._bus is None or not self._bus.connected:
            return None
        fut: asyncio.Future[None] = self._bus.send(msg)
        return fut

    # ================================================================================================
    # Message dispatch
    # ================================================================================================
    def _on_message(self, msg: Message) -> Message | bool | None:
        if msg.message_type is MessageType.SIGNAL:
            if msg.member == "NameOwnerChanged" and msg.sender == "org.freedesktop.DBus":
                name, _old, new = msg.body
                if name.startswith(":") and not new:
                    self._client_gone(name)
            return None
        if msg.message_type is not MessageType.METHOD_CALL:
            return None
        if msg.interface == defs.INTROSPECTABLE_INTERFACE and msg.member == "Introspect":
            methods = {*self._handler_table, *bluez_gatt.METHODS}
            xml = self._tree.introspect(msg.path or "/", methods, self._writable)
            return Message.new_method_return(msg, "s", [xml])
        if msg.interface == "org.freedesktop.DBus.Peer":
            return None
        try:
            return self._dispatch(msg)
        except BluezError as exc:
            return Message.new_error(msg, exc.name, exc.text)

    def _dispatch(self, msg: Message) -> Message | bool:
        path = msg.path or ""
        iface = msg.interface
        if (
            iface == defs.OBJECT_MANAGER_INTERFACE
            and msg.member == "GetManagedObjects"
            and path == defs.ROOT_PATH
        ):
            return self._tree.managed_objects(msg)
        if path not in self._tree:
            # gdbus (bluetoothd's D-Bus layer) words it like a missing method
            raise BluezError(
                defs.DBUS_ERROR_UNKNOWN_OBJECT,
                f'Method "{msg.member}" with signature "{msg.signature}" on interface "{iface}" '
                "doesn't exist",
            )
        if iface == defs.PROPERTIES_INTERFACE:
            return self._tree.properties_call(msg, self._set_property)
        if iface in (defs.GATT_CHARACTERISTIC_INTERFACE, defs.GATT_DESCRIPTOR_INTERFACE):
            for device in self._devices.values():
                if device.gatt is not None and path in device.gatt:
                    return device.gatt.call(msg)
        handler = self._handler_table.get((iface or "", msg.member or ""))
        if handler is None or self._tree.props(path, iface or "") is None:
            raise unknown_method(msg)
        return handler(msg)

    def _handlers(self) -> dict[tuple[str, str], Callable[[Message], Message | bool]]:
        return {
            (defs.ADAPTER_INTERFACE, "SetDiscoveryFilter"): self._set_discovery_filter,
            (defs.ADAPTER_INTERFACE, "GetDiscoveryFilters"): self._get_discovery_filters,
            (defs.ADAPTER_INTERFACE, "StartDiscovery"): self._start_discovery,
            (defs.ADAPTER_INTERFACE, "StopDiscovery"): self._stop_discovery,
            (defs.ADAPTER_INTERFACE, "RemoveDevice"): self._remove_device,
            (defs.DEVICE_INTERFACE, "Connect"): self._connect,
            (defs.DEVICE_INTERFACE, "Disconnect"): self._disconnect,
            (defs.DEVICE_INTERFACE, "Pair"): self._pair,
            (defs.DEVICE_INTERFACE, "CancelPairing"): Message.new_method_return,
        }

    def _set_property(self, path: str, interface: str, name: str, value: Variant) -> None:
        if name not in defs.SIGNATURES.get(interface, {}):
            raise BluezError(defs.DBUS_ERROR_INVALID_ARGS, f"No such property '{name}'")
        if name not in self._writable.get(interface, frozenset()):
            raise BluezError(defs.DBUS_ERROR_PROPERTY_READ_ONLY, f"Property '{name}' is not writable")
        if value.signature != defs.SIGNATURES[interface][name]:
            raise BluezError(defs.ERROR_INVALID_ARGUMENTS, "Invalid arguments in method call")
        if interface == defs.ADAPTER_INTERFACE and name == "Powered":
            self._set_powered(bool(value.value))
            return
        self._tree.set(path, interface, **{name: value})

    # ================================================================================================
    # Adapter
    # ================================================================================================
    def _adapter_props(self) -> dict[str, Variant]:
        a = defs.ADAPTER_INTERFACE
        values: dict[str, Any] = {
            "Address": self.adapter_address,
            "AddressType": "public",
            "Name": "sitbreak-emulator",
            "Alias": "sitbreak-emulator",
            "Class": 0,
            "Powered": self.powered,
            "PowerState": "on" if self.powered else "off",
            "Discoverable": False,
            "DiscoverableTimeout": 180,
            "Pairable": True,
            "PairableTimeout": 0,
            "Discovering": False,
            "UUIDs": [],
            "Modalias": "usb:v1D6Bp0246d054F",
            "Roles": ["central", "peripheral"],
            "ExperimentalFeatures": [],
        }
        return {name: variant(a, name, value) for name, value in values.items()}

    def _set_powered(self, powered: bool) -> None:
        self.powered = powered
        if not powered:
            for device in self._devices.values():
                self._teardown_link(device, signal=True)
            self._discovering.clear()
            self._tree.set(defs.ADAPTER_PATH, defs.ADAPTER_INTERFACE, Discovering=False)
        self._tree.set(
            defs.ADAPTER_PATH, defs.ADAPTER_INTERFACE, Powered=powered, PowerState="on" if powered else "off"
        )

    def _set_discovery_filter(self, msg: Message) -> Message:
        if msg.signature != "a{sv}":
            raise BluezError(defs.ERROR_INVALID_ARGUMENTS, "Invalid arguments in method call")
        parsed: dict[str, Any] = {}
        for key, given in msg.body[0].items():
            expected = defs.DISCOVERY_FILTER_SIGNATURES.get(key)
            if expected is None or given.signature != expected:
                raise BluezError(defs.ERROR_INVALID_ARGUMENTS, "Invalid arguments in method call")
            parsed[key] = given.value
        if "Transport" in parsed and parsed["Transport"] not in ("auto", "bredr", "le"):
            raise BluezError(defs.ERROR_INVALID_ARGUMENTS, "Invalid arguments in method call")
        sender = msg.sender or ""
        if parsed:
            self._filters[sender] = parsed
        else:
            self._filters.pop(sender, None)
        return Message.new_method_return(msg)

    def _get_discovery_filters(self, msg: Message) -> Message:
        return Message.new_method_return(msg, "as", [list(defs.DISCOVERY_FILTER_SIGNATURES)])

    def _start_discovery(self, msg: Message) -> Message:
        if not self.powered:
            raise BluezError(defs.ERROR_NOT_READY, "Resource Not Ready")
        sender = msg.sender or ""
        if sender in self._discovering:
            # bluetoothd: every client can only start one discovery.
            raise BluezError(defs.ERROR_IN_PROGRESS, defs.TEXT_IN_PROGRESS)
        self._discovering.add(sender)
        self._tree.set(defs.ADAPTER_PATH, defs.ADAPTER_INTERFACE, Discovering=True)
        return Message.new_method_return(msg)

    def _stop_discovery(self, msg: Message) -> Message:
        if not self.powered:
            raise BluezError(defs.ERROR_NOT_READY, "Resource Not Ready")
        sender = msg.sender or ""
        if sender not in self._discovering:
            raise BluezError(defs.ERROR_FAILED, defs.TEXT_NO_DISCOVERY)
        self._end_discovery(sender)
        return Message.new_method_return(msg)

    def _end_discovery(self, sender: str) -> None:
        self._discovering.discard(sender)
        if self._discovering:
            return
        self._tree.set(defs.ADAPTER_PATH, defs.ADAPTER_INTERFACE, Discovering=False)
        for device in self._devices.values():
            if device.exported:
                self._tree.invalidate(device.path, defs.DEVICE_INTERFACE, defs.DISCOVERY_ONLY_PROPERTIES)

    def _remove_device(self, msg: Message) -> Message:
        target = msg.body[0] if msg.signature == "o" else ""
        for device in self._devices.values():
            if device.path == target and device.exported:
                self._forget_device(device)
                return Message.new_method_return(msg)
        raise BluezError(defs.ERROR_DOES_NOT_EXIST, "Does Not Exist")

    def _client_gone(self, sender: str) -> None:
        """A client left the bus: end its discovery and notify sessions, as bluetoothd does."""
        self._filters.pop(sender, None)
        if sender in self._discovering:
            self._end_discovery(sender)
        for device in self._devices.values():
            if device.gatt is not None:
                device.gatt.client_gone(sender)

    # ================================================================================================
    # Advertising
    # ================================================================================================
    async def _advertise_loop(self) -> None:
        while True:
            await asyncio.sleep(self.adv_interval_s)
            if self._discovering and self.powered:
                for device in list(self._devices.values()):
                    self._advertise(device)

    def _advertising(self, device: _Device) -> bool:
        w = device.wearable
        # SitSense and the vendor devices accept one connection and stop advertising while connected.
        return w.in_range and not device.connected and w.battery.level() > 0

    def _filter_allows(self, device: _Device, uuids: tuple[str, ...], rssi: int) -> bool:
        sessions = [self._filters.get(sender, {}) for sender in self._discovering]
        for flt in sessions:
            if flt.get("Transport") == "bredr":
                continue
            wanted = [u.lower() for u in flt.get("UUIDs", [])]
            if wanted and not set(wanted) & {u.lower() for u in uuids}:
                continue
            if "RSSI" in flt and rssi < flt["RSSI"]:
                continue
            return True
        return False

    def _advertise(self, device: _Device) -> None:
        if not self._advertising(device):
            return
        w = device.wearable
        device.last_seen = asyncio.get_running_loop().time()
        adv = w.firmware.advertisement()
        rssi = int(w.rssi + self._rng.integers(-RSSI_JITTER_DB, RSSI_JITTER_DB + 1))
        if not self._filter_allows(device, adv.service_uuids, rssi):
            return
        d = defs.DEVICE_INTERFACE
        manufacturer = {k: Variant("ay", v) for k, v in adv.manufacturer_data.items()}
        service_data = {k: Variant("ay", v) for k, v in adv.service_data.items()}
        values: dict[str, Any] = {"RSSI": rssi, "UUIDs": list(adv.service_uuids)}
        if adv.name is not None:
            values["Name"] = adv.name
        if manufacturer:
            values["ManufacturerData"] = manufacturer
        if service_data:
            values["ServiceData"] = service_data
        if adv.tx_power is not None:
            values["TxPower"] = adv.tx_power
        if not device.exported:
            self._tree.export(device.path, {d: self._device_props(device, values)})
            device.exported = True
        elif device.path in self._tree:
            self._tree.set(device.path, d, **values)

    def _device_props(self, device: _Device, adv_values: dict[str, Any]) -> dict[str, Variant]:
        w = device.wearable
        name = adv_values.get("Name")
        values: dict[str, Any] = {
            "Address": w.address,
            "AddressType": w.address_type,
            "Alias": name if name is not None else w.address.replace(":", "-"),
            "Paired": False,
            "Bonded": False,
            "Trusted": False,
            "Blocked": False,
            "LegacyPairing": False,
            "Connected": False,
            "Adapter": defs.ADAPTER_PATH,
            "ServicesResolved": False,
            "AdvertisingFlags": b"\x06",  # LE General Discoverable, BR/EDR not supported
            **adv_values,
        }
        return {name: variant(defs.DEVICE_INTERFACE, name, value) for name, value in values.items()}

    # ================================================================================================
    # Devices: add, range, connect, disconnect
    # ================================================================================================
    def _add(self, wearable: SimulatedWearable) -> SimulatedWearable:
        if wearable.address in self._devices:
            raise ValueError(f"a wearable with address {wearable.address} is already added")
        device = _Device(wearable, defs.device_path(wearable.address, defs.ADAPTER_PATH))
        self._devices[wearable.address] = device
        wearable._attach(self)
        return wearable

    def _remove(self, wearable: SimulatedWearable) -> None:
        device = self._devices.get(wearable.address)
        if device is None:
            return
        self._forget_device(device)
        del self._devices[wearable.address]
        wearable._attach(None)

    def _forget(self, wearable: SimulatedWearable) -> None:
        device = self._devices.get(wearable.address)
        if device is not None and device.exported:
            self._forget_device(device)

    def _forget_device(self, device: _Device) -> None:
        device.stored = None  # removing a device also unpairs it
        if device.connecting is not None:
            device.connecting.cancel()
        self._teardown_link(device, signal=True)
        if device.exported:
            self._tree.unexport(device.path)
            device.exported = False

    def _device_for(self, wearable: SimulatedWearable) -> _Device:
        device = self._devices.get(wearable.address)
        if device is None:
            raise ValueError(f"{wearable!r} is not added to this emulator")
        return device

    def _is_connected(self, wearable: SimulatedWearable) -> bool:
        device = self._devices.get(wearable.address)
        return device is not None and device.connected

    def _drop_link(self, wearable: SimulatedWearable) -> None:
        self._teardown_link(self._device_for(wearable), signal=True)

    def _set_in_range(self, wearable: SimulatedWearable, in_range: bool, seconds: float | None) -> None:
        device = self._device_for(wearable)
        if device.back_in_range is not None:
            device.back_in_range.cancel()
            device.back_in_range = None
        wearable.in_range = in_range
        if not in_range:
            self._teardown_link(device, signal=True)
            if seconds is not None:
                loop = asyncio.get_running_loop()
                device.back_in_range = loop.call_later(seconds, self._set_in_range, wearable, True, None)
        device.range_changed.set()
        device.range_changed = asyncio.Event()

    def _device_at(self, path: str) -> _Device:
        for device in self._devices.values():
            if device.path == path:
                return device
        raise BluezError(defs.DBUS_ERROR_UNKNOWN_OBJECT, f"No device at {path}")

    def _connect(self, msg: Message) -> Message | bool:
        device = self._device_at(msg.path or "")
        if device.connected:
            return Message.new_method_return(msg)
        if device.connecting is not None:
            raise BluezError(defs.ERROR_IN_PROGRESS, defs.TEXT_IN_PROGRESS)
        if not self.powered:
            raise BluezError(defs.ERROR_NOT_READY, "Resource Not Ready")
        device.connecting = self._spawn(self._connect_flow(device, msg))
        return True

    async def _connect_flow(self, device: _Device, msg: Message, pair: bool = False) -> None:
        w = device.wearable
        try:
            if w.take_connect_failure():
                await asyncio.sleep(FAILED_CONNECT_LATENCY_S)
                self._fail_connect(device, msg, w.connect_failure_text)
                return
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.connect_timeout_s
            while not (w.in_range and w.battery.level() > 0):
                remaining = deadline - loop.time()
                if remaining <= 0:
                    self._fail_connect(device, msg, defs.TEXT_LE_ABORT_BY_LOCAL)
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(device.range_changed.wait(), remaining)
            await asyncio.sleep(self.connect_latency_s)
        except asyncio.CancelledError:
            # Disconnect (or a crash) cancelled the attempt.
            if self._bus is not None:
                self._fail_connect(device, msg, defs.TEXT_LE_ABORT_BY_LOCAL)
            raise
        finally:
            device.connecting = None
        self._establish(device)
        if pair and w.pairing_error is not None:
            self._send(Message.new_error(msg, *w.pairing_error))
            return
        if pair:
            self._bond(device)
        self._send(Message.new_method_return(msg))

    def _fail_connect(self, device: _Device, msg: Message, text: str) -> None:
        self._send(Message.new_error(msg, defs.ERROR_FAILED, text))
        # bluetoothd reports the aborted attempt as a Connected change; Bleak waits for it before retrying.
        if device.path in self._tree:
            self._tree.announce(device.path, defs.DEVICE_INTERFACE, {"Connected": Variant("b", False)})

    def _establish(self, device: _Device) -> None:
        w = device.wearable
        assert self._loop is not None
        device.connected = True
        mtu = min(w.max_mtu, defs.CENTRAL_MAX_MTU)
        w.connects += 1
        self._tree.set(device.path, defs.DEVICE_INTERFACE, Connected=True)
        w.firmware.connected(mtu)
        device.gatt = GattDatabase(self._tree, device.path, mtu, self._loop)
        uuids = device.gatt.export(w.firmware.services)
        adv_uuids = w.firmware.advertisement().service_uuids
        self._tree.set(
            device.path,
            defs.DEVICE_INTERFACE,
            UUIDs=sorted(set(adv_uuids) | set(uuids)),
            ServicesResolved=True,
        )
        _LOGGER.info("%s connected (MTU %d)", w.address, mtu)

    def _teardown_link(self, device: _Device, signal: bool) -> None:
        """Link gone: firmware told, then ServicesResolved/Connected False and the GATT objects
        removed (only when ``signal``; a crashed daemon says nothing)."""
        if not device.connected:
            return
        device.connected = False
        if self._loop is not None:
            device.last_seen = self._loop.time()
        device.wearable.firmware.disconnected()
        if signal:
            self._tree.set(device.path, defs.DEVICE_INTERFACE, ServicesResolved=False)
            self._tree.set(device.path, defs.DEVICE_INTERFACE, Connected=False)
        if device.gatt is not None:
            device.gatt.close(signal)
            device.gatt = None
        _LOGGER.info("%s disconnected", device.wearable.address)

    def _disconnect(self, msg: Message) -> Message | bool:
        device = self._device_at(msg.path or "")
        if device.connecting is not None:
            device.connecting.cancel()  # cancels the attempt: its Connect fails, this succeeds
            return Message.new_method_return(msg)
        if not device.connected:
            # Bleak logs this as "Failed to cancel connection ... NotConnected" after a failed Connect.
            raise BluezError(defs.ERROR_NOT_CONNECTED, "Not Connected")
        self._teardown_link(device, signal=True)
        return Message.new_method_return(msg)

    def _pair(self, msg: Message) -> Message | bool:
        """Device1.Pair as bluetoothd answers it (src/device.c pair_device): AlreadyExists when
        paired; an unconnected LE device is connected first. Pairing needs no agent here (Just
        Works); a wearable set to `refuse_pairing` fails it the way SMP failures reach D-Bus
        (new_authentication_return: AuthenticationFailed by default) and stays unpaired."""
        device = self._device_at(msg.path or "")
        if self._tree.value(device.path, defs.DEVICE_INTERFACE, "Paired", False):
            raise BluezError(defs.ERROR_ALREADY_EXISTS, "Already Exists")
        if device.connected:
            if device.wearable.pairing_error is not None:
                raise BluezError(*device.wearable.pairing_error)
            self._bond(device)
            return Message.new_method_return(msg)
        if device.connecting is not None:
            raise BluezError(defs.ERROR_IN_PROGRESS, defs.TEXT_IN_PROGRESS)
        device.connecting = self._spawn(self._connect_flow(device, msg, pair=True))
        return True

    def _bond(self, device: _Device) -> None:
        """Paired: Paired and Bonded go True (announced before the Pair reply, as bluetoothd does),
        and the device keeps the bond across connections."""
        self._tree.set(device.path, defs.DEVICE_INTERFACE, Paired=True, Bonded=True)
        device.wearable.firmware.bonded = True

    # ================================================================================================
    # Housekeeping
    # ================================================================================================
    async def _housekeeping_loop(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_INTERVAL_S)
            now = asyncio.get_running_loop().time()
            for device in list(self._devices.values()):
                firmware = device.wearable.firmware
                if device.connected:
                    firmware.tick()
                    if device.wearable.battery.level() <= 0:
                        _LOGGER.info("%s battery empty: switching off", device.wearable.address)
                        self._teardown_link(device, signal=True)
                elif self._expired(device, now):
                    _LOGGER.info(
                        "%s not seen for %.1f s: removed", device.wearable.address, now - device.last_seen
                    )
                    self._forget_device(device)

    def _expired(self, device: _Device, now: float) -> bool:
        """bluetoothd drops unpaired devices it has not heard from for TemporaryTimeout seconds."""
        if self.temporary_timeout_s is None or not device.exported or device.connecting is not None:
            return False
        paired = bool(self._tree.value(device.path, defs.DEVICE_INTERFACE, "Paired", False))
        return not paired and now - device.last_seen > self.temporary_timeout_s
