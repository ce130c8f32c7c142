"""bluetoothd's object tree: interfaces and properties per path, the signals that announce changes, and
the standard D-Bus interfaces over them (ObjectManager at ``/``, Properties, Introspectable).

Like bluetoothd, every object also lists ``org.freedesktop.DBus.Introspectable`` and
``org.freedesktop.DBus.Properties`` with no properties, and InterfacesAdded/InterfacesRemoved are sent
from ``/`` (Bleak matches them by ``arg0path`` only, but other clients filter on the sender path).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from dbus_fast import Message, Variant

from firmware_sim import bluez_defs as defs

SendFn = Callable[[Message], "asyncio.Future[None] | None"]
PropertySetter = Callable[[str, str, str, Variant], None]  # path, interface, name, value

STANDARD_INTERFACES: dict[str, dict[str, Variant]] = {
    defs.INTROSPECTABLE_INTERFACE: {},
    defs.PROPERTIES_INTERFACE: {},
}


class BluezError(Exception):
    """An error reply: D-Bus error name and text."""

    def __init__(self, name: str, text: str) -> None:
        super().__init__(f"{name}: {text}")
        self.name = name
        self.text = text


def variant(interface: str, name: str, value: Any) -> Variant:
    """A property value with the signature BlueZ gives it."""
    return Variant(defs.SIGNATURES[interface][name], value)


def unknown_method(msg: Message) -> BluezError:
    return BluezError(
        defs.DBUS_ERROR_UNKNOWN_METHOD,
        f'Method "{msg.member}" with signature "{msg.signature}" on interface "{msg.interface}" '
        "doesn't exist",
    )


class ObjectTree:
    """Exported objects and their properties; every change goes out as the signal BlueZ sends."""

    def __init__(self, send: SendFn) -> None:
        self.send = send
        self.objects: dict[str, dict[str, dict[str, Variant]]] = {}

    def __contains__(self, path: object) -> bool:
        return path in self.objects

    def paths(self) -> list[str]:
        return sorted(self.objects)

    def props(self, path: str, interface: str) -> dict[str, Variant] | None:
        return self.objects.get(path, {}).get(interface)

    def value(self, path: str, interface: str, name: str, default: Any = None) -> Any:
        props = self.props(path, interface) or {}
        return props[name].value if name in props else default

    # ---- objects ---------------------------------------------------------------------------------
    def export(self, path: str, interfaces: dict[str, dict[str, Variant]]) -> None:
        self.objects[path] = {**interfaces, **STANDARD_INTERFACES}
        self._signal(
            defs.ROOT_PATH,
            defs.OBJECT_MANAGER_INTERFACE,
            "InterfacesAdded",
            "oa{sa{sv}}",
            [path, self.objects[path]],
        )

    def unexport(self, path: str) -> None:
        interfaces = self.objects.pop(path, None)
        if interfaces is not None:
            self._signal(
                defs.ROOT_PATH,
                defs.OBJECT_MANAGER_INTERFACE,
                "InterfacesRemoved",
                "oas",
                [path, list(interfaces)],
            )

    def drop(self, path: str) -> None:
        """Forget an object without a word (a crashed daemon sends nothing)."""
        self.objects.pop(path, None)

    def clear(self) -> None:
        self.objects = {}

    # ---- properties --------------------------------------------------------------------------------
    def set(self, path: str, interface: str, **values: Any) -> None:
        """Update properties and send PropertiesChanged for those that changed (Value always: every
        notification is a change even when the bytes repeat)."""
        props = self.props(path, interface)
        if props is None:
            return
        changed: dict[str, Variant] = {}
        for name, value in values.items():
            new = value if isinstance(value, Variant) else variant(interface, name, value)
            old = props.get(name)
            props[name] = new
            if name == "Value" or old is None or old.value != new.value:
                changed[name] = new
        if changed:
            self.announce(path, interface, changed)

    def store(self, path: str, interface: str, name: str, value: Any) -> None:
        """Update a property silently (bluetoothd caches notification values nobody subscribed to)."""
        props = self.props(path, interface)
        if props is not None:
            props[name] = variant(interface, name, value)

    def announce(
        self, path: str, interface: str, changed: dict[str, Variant], invalidated: Iterable[str] = ()
    ) -> None:
        self._signal(
            path,
            defs.PROPERTIES_INTERFACE,
            "PropertiesChanged",
            "sa{sv}as",
            [interface, changed, list(invalidated)],
        )

    def invalidate(self, path: str, interface: str, names: Iterable[str]) -> None:
        props = self.props(path, interface)
        if props is None:
            return
        gone = [name for name in names if props.pop(name, None) is not None]
        if gone:
            self.announce(path, interface, {}, gone)

    def _signal(self, path: str, interface: str, member: str, signature: str, body: list[Any]) -> None:
        self.send(Message.new_signal(path, interface, member, signature, body))

    # ---- standard interfaces -------------------------------------------------------------------------
    def managed_objects(self, msg: Message) -> Message:
        return Message.new_method_return(msg, "a{oa{sa{sv}}}", [self.objects])

    def properties_call(self, msg: Message, setter: PropertySetter) -> Message:
        """org.freedesktop.DBus.Properties Get / GetAll / Set on an exported object."""
        path = msg.path or ""
        interface = msg.body[0] if msg.body else ""
        props = self.props(path, interface)
        if props is None:
            raise BluezError(defs.DBUS_ERROR_UNKNOWN_INTERFACE, f"No such interface '{interface}'")
        if msg.member == "GetAll" and msg.signature == "s":
            return Message.new_method_return(msg, "a{sv}", [props])
        if msg.member == "Get" and msg.signature == "ss":
            name = msg.body[1]
            if name not in props:
                raise BluezError(defs.DBUS_ERROR_INVALID_ARGS, f"No such property '{name}'")
            return Message.new_method_return(msg, "v", [props[name]])
        if msg.member == "Set" and msg.signature == "ssv":
            setter(path, interface, msg.body[1], msg.body[2])
            return Message.new_method_return(msg)
        raise unknown_method(msg)

    def introspect(
        self, path: str, methods: Collection[tuple[str, str]], writable: Mapping[str, Collection[str]]
    ) -> str:
        """Enough introspection XML for busctl/gdbus to walk the tree and list members."""
        prefix = path.rstrip("/") + "/"
        children = sorted({p[len(prefix) :].split("/")[0] for p in self.objects if p.startswith(prefix)})
        parts = [
            '<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"',
            ' "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">',
            "<node>",
        ]
        for interface, props in self.objects.get(path, {}).items():
            parts.append(f'  <interface name="{interface}">')
            members = sorted(member for iface, member in methods if iface == interface)
            parts.extend(f'    <method name="{member}"/>' for member in members)
            for name, value in props.items():
                access = "readwrite" if name in writable.get(interface, ()) else "read"
                parts.append(f'    <property name="{name}" type="{value.signature}" access="{access}"/>')
            parts.append("  </interface>")
        parts.extend(f'  <node name="{child}"/>' for child in children)
        parts.append("</node>")
        return "\n".join(parts)
