"""One connection's GATT database as bluetoothd exports it, and the GATT methods clients call on it.

Objects sit at bluetoothd's paths, ``<device>/serviceXXXX/charYYYY/descZZZZ`` with the ATT handles in
hex (Bleak takes handles from the last four digits and finds the device by cutting 21 characters off
a characteristic path). Handles are assigned in table order as an ATT server would: a service
declaration, then per characteristic its declaration and value, then its descriptors (the CCCD first).

Methods: ReadValue and WriteValue (with the options dict), StartNotify/StopNotify (one session per
client; notifications are PropertiesChanged on Value), AcquireNotify and AcquireWrite (a
SOCK_SEQPACKET socket pair: the client's end goes out as a file descriptor with the MTU).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from dbus_fast import Message, Variant

from firmware_sim import bluez_defs as defs
from firmware_sim.bluez_objects import BluezError, ObjectTree, unknown_method
from firmware_sim.gatt import AttError, Characteristic, Descriptor, Service, all_descriptors

_LOGGER = logging.getLogger(__name__)

METHODS: Final = frozenset(
    {
        (defs.GATT_CHARACTERISTIC_INTERFACE, "ReadValue"),
        (defs.GATT_CHARACTERISTIC_INTERFACE, "WriteValue"),
        (defs.GATT_CHARACTERISTIC_INTERFACE, "StartNotify"),
        (defs.GATT_CHARACTERISTIC_INTERFACE, "StopNotify"),
        (defs.GATT_CHARACTERISTIC_INTERFACE, "AcquireNotify"),
        (defs.GATT_CHARACTERISTIC_INTERFACE, "AcquireWrite"),
        (defs.GATT_DESCRIPTOR_INTERFACE, "ReadValue"),
        (defs.GATT_DESCRIPTOR_INTERFACE, "WriteValue"),
    }
)


def value_limit(mtu: int) -> int:
    """Longest value one ATT write request can carry (MTU minus opcode and handle)."""
    return mtu - 3


@dataclass(eq=False)
class _Attribute:
    path: str
    service: Service | None = None
    char: Characteristic | None = None
    desc: Descriptor | None = None
    notify_senders: set[str] = field(default_factory=set)
    notify_socket: socket.socket | None = None
    write_socket: socket.socket | None = None


class GattDatabase:
    """The exported GATT objects of one connected device; also the firmware's notification sink."""

    def __init__(self, tree: ObjectTree, device_path: str, mtu: int, loop: asyncio.AbstractEventLoop) -> None:
        self._tree = tree
        self._device_path = device_path
        self.mtu = mtu
        self._loop = loop
        self._attrs: dict[str, _Attribute] = {}
        self._char_paths: dict[int, str] = {}  # id(Characteristic) -> path

    def __contains__(self, path: object) -> bool:
        return path in self._attrs

    # ---- life cycle --------------------------------------------------------------------------------
    def export(self, services: list[Service]) -> list[str]:
        """Export the table and point the characteristics' notifications here; returns service UUIDs."""
        handle = defs.FIRST_EXPORTED_HANDLE
        for service in services:
            svc_path = defs.service_path(self._device_path, handle)
            handle += 1
            self._attrs[svc_path] = _Attribute(svc_path, service=service)
            self._tree.export(
                svc_path,
                {
                    defs.GATT_SERVICE_INTERFACE: {
                        "UUID": Variant("s", service.uuid),
                        "Device": Variant("o", self._device_path),
                        "Primary": Variant("b", service.primary),
                        "Includes": Variant("ao", []),
                    }
                },
            )
            for char in service.characteristics:
                char_path = defs.characteristic_path(svc_path, handle)
                handle += 2  # declaration, then value
                self._export_char(char, char_path, svc_path)
                for desc in all_descriptors(char):
                    desc_path = defs.descriptor_path(char_path, handle)
                    handle += 1
                    self._attrs[desc_path] = _Attribute(desc_path, char=char, desc=desc)
                    props = {
                        "UUID": Variant("s", desc.uuid),
                        "Characteristic": Variant("o", char_path),
                        "Value": Variant("ay", b""),
                    }
                    self._tree.export(desc_path, {defs.GATT_DESCRIPTOR_INTERFACE: props})
        return [service.uuid for service in services]

    def _export_char(self, char: Characteristic, path: str, svc_path: str) -> None:
        char.sink = self
        char.subscribed = False
        self._char_paths[id(char)] = path
        self._attrs[path] = _Attribute(path, char=char)
        props: dict[str, Variant] = {
            "UUID": Variant("s", char.uuid),
            "Service": Variant("o", svc_path),
            "Value": Variant("ay", b""),
            "Flags": Variant("as", list(char.flags)),
            "MTU": Variant("q", self.mtu),
        }
        if char.notifies:
            props["Notifying"] = Variant("b", False)
            props["NotifyAcquired"] = Variant("b", False)
        if "write-without-response" in char.flags:
            props["WriteAcquired"] = Variant("b", False)
        self._tree.export(path, {defs.GATT_CHARACTERISTIC_INTERFACE: props})

    def close(self, signal: bool) -> None:
        """Link gone: acquired sockets closed, objects removed (children first) or, when bluetoothd
        died, dropped without a signal."""
        for attr in self._attrs.values():
            for sock in (attr.notify_socket, attr.write_socket):
                if sock is not None:
                    self._close_socket(sock)
            attr.notify_socket = attr.write_socket = None
            if attr.char is not None:
                attr.char.sink = None
        for path in sorted(self._attrs, key=len, reverse=True):
            if signal:
                self._tree.unexport(path)
            else:
                self._tree.drop(path)
        self._attrs.clear()
        self._char_paths.clear()

    def client_gone(self, sender: str) -> None:
        """A client left the bus: its notify sessions end."""
        for attr in self._attrs.values():
            if sender in attr.notify_senders:
                attr.notify_senders.discard(sender)
                self._update_notifying(attr)

    # ---- notifications from the firmware ----------------------------------------------------------------
    def notify(self, char: Characteristic, value: bytes) -> None:
        path = self._char_paths.get(id(char))
        if path is None:
            return
        attr = self._attrs[path]
        if attr.notify_socket is not None:
            try:
                attr.notify_socket.send(value)
            except OSError:
                _LOGGER.debug("AcquireNotify socket for %s full or closed: notification dropped", path)
        if attr.notify_senders:
            self._tree.set(path, defs.GATT_CHARACTERISTIC_INTERFACE, Value=value)
        else:
            self._tree.store(path, defs.GATT_CHARACTERISTIC_INTERFACE, "Value", value)

    # ---- methods -------------------------------------------------------------------------------------
    def call(self, msg: Message) -> Message | bool:
        attr = self._attrs.get(msg.path or "")
        if attr is None:
            raise BluezError(defs.DBUS_ERROR_UNKNOWN_OBJECT, f"No GATT object at {msg.path}")
        handlers: dict[str, Callable[[Message, _Attribute], Message | bool]] = {
            "ReadValue": self._read_value,
            "WriteValue": self._write_value,
            "StartNotify": self._start_notify,
            "StopNotify": self._stop_notify,
            "AcquireNotify": self._acquire_notify,
            "AcquireWrite": self._acquire_write,
        }
        handler = handlers.get(msg.member or "")
        wanted = (
            defs.GATT_DESCRIPTOR_INTERFACE if attr.desc is not None else defs.GATT_CHARACTERISTIC_INTERFACE
        )
        if handler is None or attr.service is not None or (msg.interface, msg.member) not in METHODS:
            raise unknown_method(msg)
        if msg.interface != wanted:
            raise unknown_method(msg)
        return handler(msg, attr)

    @staticmethod
    def _options(msg: Message, index: int) -> dict[str, Any]:
        if len(msg.body) <= index:
            return {}
        return {k: v.value for k, v in msg.body[index].items()}

    def _read_value(self, msg: Message, attr: _Attribute) -> Message:
        offset = int(self._options(msg, 0).get("offset", 0))
        if attr.desc is not None:
            value = attr.desc.value
            if attr.desc.uuid == defs.CCCD_UUID and attr.char is not None:
                value = _cccd_value(attr.char)
            self._tree.set(attr.path, defs.GATT_DESCRIPTOR_INTERFACE, Value=value)
        else:
            char = attr.char
            assert char is not None
            if "read" not in char.flags:
                raise BluezError(defs.ERROR_NOT_PERMITTED, defs.TEXT_READ_NOT_PERMITTED)
            try:
                value = char.read()
            except AttError as exc:
                raise BluezError(*defs.att_error(exc.code)) from exc
            # bluetoothd caches a read value in the Value property and announces it.
            self._tree.set(attr.path, defs.GATT_CHARACTERISTIC_INTERFACE, Value=value)
        if offset > len(value):
            raise BluezError(defs.ERROR_INVALID_ARGUMENTS, "Invalid offset")
        return Message.new_method_return(msg, "ay", [value[offset:]])

    def _write_value(self, msg: Message, attr: _Attribute) -> Message:
        if msg.signature != "aya{sv}":
            raise BluezError(defs.ERROR_INVALID_ARGUMENTS, "Invalid arguments in method call")
        value = bytes(msg.body[0])
        options = self._options(msg, 1)
        if attr.desc is not None:
            if attr.desc.uuid == defs.CCCD_UUID:
                # bluetoothd owns the CCCD: clients use StartNotify/StopNotify.
                raise BluezError(defs.ERROR_NOT_PERMITTED, defs.TEXT_WRITE_NOT_PERMITTED)
            attr.desc.value = value
            return Message.new_method_return(msg)
        char = attr.char
        assert char is not None
        kind = options.get("type", "request" if "write" in char.flags else "command")
        with_response = kind != "command"
        allowed = "write" in char.flags if with_response else "write-without-response" in char.flags
        if not allowed:
            raise BluezError(defs.ERROR_NOT_PERMITTED, defs.TEXT_WRITE_NOT_PERMITTED)
        if attr.write_socket is not None:
            raise BluezError(defs.ERROR_NOT_PERMITTED, defs.TEXT_WRITE_ACQUIRED)
        if len(value) > value_limit(self.mtu):
            raise BluezError(defs.ERROR_INVALID_ARGUMENTS, "Invalid Length")
        _deliver_write(char, value, with_response, attr.path)
        return Message.new_method_return(msg)

    def _start_notify(self, msg: Message, attr: _Attribute) -> Message:
        char = attr.char
        assert char is not None
        if not char.notifies:
            raise BluezError(defs.ERROR_NOT_SUPPORTED, defs.TEXT_NOT_SUPPORTED)
        if attr.notify_socket is not None:
            raise BluezError(defs.ERROR_NOT_PERMITTED, defs.TEXT_NOTIFY_ACQUIRED)
        attr.notify_senders.add(msg.sender or "")
        self._update_notifying(attr)
        return Message.new_method_return(msg)

    def _stop_notify(self, msg: Message, attr: _Attribute) -> Message:
        sender = msg.sender or ""
        if sender not in attr.notify_senders:
            raise BluezError(defs.ERROR_FAILED, defs.TEXT_NO_NOTIFY_SESSION)
        attr.notify_senders.discard(sender)
        self._update_notifying(attr)
        return Message.new_method_return(msg)

    def _update_notifying(self, attr: _Attribute) -> None:
        char = attr.char
        if char is None or attr.path not in self._tree:
            return
        on = bool(attr.notify_senders) or attr.notify_socket is not None
        self._tree.set(
            attr.path,
            defs.GATT_CHARACTERISTIC_INTERFACE,
            Notifying=on,
            NotifyAcquired=attr.notify_socket is not None,
        )
        char.set_subscribed(on)

    def _acquire_notify(self, msg: Message, attr: _Attribute) -> Message | bool:
        char = attr.char
        assert char is not None
        if not char.notifies:
            raise BluezError(defs.ERROR_NOT_SUPPORTED, defs.TEXT_NOT_SUPPORTED)
        if attr.notify_socket is not None:
            raise BluezError(defs.ERROR_NOT_PERMITTED, defs.TEXT_NOTIFY_ACQUIRED)
        if attr.notify_senders:
            raise BluezError(defs.ERROR_IN_PROGRESS, defs.TEXT_IN_PROGRESS)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setblocking(False)
        attr.notify_socket = ours

        def readable() -> None:
            # The client only ever closes its end; anything else it sends is ignored.
            if _recv_or_hangup(ours) == b"":
                self._close_socket(ours)
                attr.notify_socket = None
                self._update_notifying(attr)

        self._loop.add_reader(ours.fileno(), readable)
        self._reply_with_fd(msg, theirs)
        self._update_notifying(attr)
        return True

    def _acquire_write(self, msg: Message, attr: _Attribute) -> Message | bool:
        char = attr.char
        assert char is not None
        if "write-without-response" not in char.flags:
            raise BluezError(defs.ERROR_NOT_SUPPORTED, defs.TEXT_NOT_SUPPORTED)
        if attr.write_socket is not None:
            raise BluezError(defs.ERROR_NOT_PERMITTED, defs.TEXT_WRITE_ACQUIRED)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setblocking(False)
        attr.write_socket = ours

        def readable() -> None:
            data = _recv_or_hangup(ours)
            if data is None:
                return
            if not data:
                self._close_socket(ours)
                attr.write_socket = None
                self._tree.set(attr.path, defs.GATT_CHARACTERISTIC_INTERFACE, WriteAcquired=False)
                return
            _deliver_write(char, data, False, attr.path)

        self._loop.add_reader(ours.fileno(), readable)
        self._reply_with_fd(msg, theirs)
        self._tree.set(attr.path, defs.GATT_CHARACTERISTIC_INTERFACE, WriteAcquired=True)
        return True

    def _reply_with_fd(self, msg: Message, theirs: socket.socket) -> None:
        fd = theirs.detach()
        fut = self._tree.send(Message.new_method_return(msg, "hq", [0, self.mtu], unix_fds=[fd]))
        if fut is None:
            os.close(fd)
        else:
            # the descriptor must stay open until dbus-fast has passed it over the socket
            fut.add_done_callback(lambda _f: os.close(fd))

    def _close_socket(self, sock: socket.socket) -> None:
        with contextlib.suppress(Exception):
            self._loop.remove_reader(sock.fileno())
        sock.close()


def _recv_or_hangup(sock: socket.socket) -> bytes | None:
    """One datagram; b"" when the peer hung up; None when nothing is there after all."""
    try:
        return sock.recv(defs.CENTRAL_MAX_MTU)
    except BlockingIOError:
        return None
    except OSError:
        return b""


def _cccd_value(char: Characteristic) -> bytes:
    if not char.subscribed:
        return defs.CCCD_OFF
    return defs.CCCD_NOTIFY if "notify" in char.flags else defs.CCCD_INDICATE


def _deliver_write(char: Characteristic, value: bytes, with_response: bool, path: str) -> None:
    try:
        if char.on_write is not None:
            char.on_write(value, with_response)
        else:
            char.value = value
    except AttError as exc:
        if with_response:
            raise BluezError(*defs.att_error(exc.code)) from exc
        _LOGGER.debug("write without response to %s refused: %s", path, exc)
