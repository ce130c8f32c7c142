"""BlueZ's D-Bus names, paths, errors and property signatures, in one place.

The emulator encodes the contract that bleak 3.1.0 (``bleak/backends/bluezdbus``) relies on. Sources:
BlueZ ``doc/org.bluez.Adapter.rst``, ``org.bluez.Device.rst``, ``org.bluez.GattService.rst``,
``org.bluez.GattCharacteristic.rst``, ``org.bluez.GattDescriptor.rst`` and ``src/error.c``; bleak's
``bluezdbus/defs.py``, ``manager.py``, ``client.py`` and ``utils.py`` for what the client actually reads.
"""

from __future__ import annotations

from typing import Final

BLUEZ_SERVICE: Final = "org.bluez"
ROOT_PATH: Final = "/"
BLUEZ_PATH: Final = "/org/bluez"
ADAPTER_NAME: Final = "hci0"
ADAPTER_PATH: Final = f"{BLUEZ_PATH}/{ADAPTER_NAME}"

OBJECT_MANAGER_INTERFACE: Final = "org.freedesktop.DBus.ObjectManager"
PROPERTIES_INTERFACE: Final = "org.freedesktop.DBus.Properties"
INTROSPECTABLE_INTERFACE: Final = "org.freedesktop.DBus.Introspectable"
ADAPTER_INTERFACE: Final = "org.bluez.Adapter1"
DEVICE_INTERFACE: Final = "org.bluez.Device1"
AGENT_MANAGER_INTERFACE: Final = "org.bluez.AgentManager1"
PROFILE_MANAGER_INTERFACE: Final = "org.bluez.ProfileManager1"
GATT_SERVICE_INTERFACE: Final = "org.bluez.GattService1"
GATT_CHARACTERISTIC_INTERFACE: Final = "org.bluez.GattCharacteristic1"
GATT_DESCRIPTOR_INTERFACE: Final = "org.bluez.GattDescriptor1"

# Errors: BlueZ's own (src/error.c) and the D-Bus standard ones it lets through.
ERROR_FAILED: Final = "org.bluez.Error.Failed"
ERROR_IN_PROGRESS: Final = "org.bluez.Error.InProgress"
ERROR_NOT_CONNECTED: Final = "org.bluez.Error.NotConnected"
ERROR_NOT_PERMITTED: Final = "org.bluez.Error.NotPermitted"
ERROR_NOT_SUPPORTED: Final = "org.bluez.Error.NotSupported"
ERROR_NOT_READY: Final = "org.bluez.Error.NotReady"
ERROR_INVALID_ARGUMENTS: Final = "org.bluez.Error.InvalidArguments"
ERROR_DOES_NOT_EXIST: Final = "org.bluez.Error.DoesNotExist"
ERROR_ALREADY_CONNECTED: Final = "org.bluez.Error.AlreadyConnected"
ERROR_NOT_AUTHORIZED: Final = "org.bluez.Error.NotAuthorized"
ERROR_IMPROPERLY_CONFIGURED: Final = "org.bluez.Error.ImproperlyConfigured"
ERROR_ALREADY_EXISTS: Final = "org.bluez.Error.AlreadyExists"
# Pair's failures (src/device.c new_authentication_return: an SMP failure is AuthenticationFailed,
# a device that will not pair AuthenticationRejected).
ERROR_AUTHENTICATION_FAILED: Final = "org.bluez.Error.AuthenticationFailed"
ERROR_AUTHENTICATION_REJECTED: Final = "org.bluez.Error.AuthenticationRejected"
DBUS_ERROR_UNKNOWN_OBJECT: Final = "org.freedesktop.DBus.Error.UnknownObject"
DBUS_ERROR_UNKNOWN_METHOD: Final = "org.freedesktop.DBus.Error.UnknownMethod"
DBUS_ERROR_UNKNOWN_INTERFACE: Final = "org.freedesktop.DBus.Error.UnknownInterface"
DBUS_ERROR_UNKNOWN_PROPERTY: Final = "org.freedesktop.DBus.Error.UnknownProperty"
DBUS_ERROR_PROPERTY_READ_ONLY: Final = "org.freedesktop.DBus.Error.PropertyReadOnly"
DBUS_ERROR_INVALID_ARGS: Final = "org.freedesktop.DBus.Error.InvalidArgs"

# Error texts Bleak matches on (bluezdbus/utils.py assert_gatt_reply, client.py connect).
TEXT_READ_NOT_PERMITTED: Final = "Read not permitted"
TEXT_WRITE_NOT_PERMITTED: Final = "Write not permitted"
TEXT_IN_PROGRESS: Final = "Operation already in progress"
TEXT_NOT_SUPPORTED: Final = "Operation is not supported"
TEXT_LE_ABORT_BY_LOCAL: Final = "le-connection-abort-by-local"
TEXT_NO_DISCOVERY: Final = "No discovery started"
TEXT_NO_NOTIFY_SESSION: Final = "No notify session started"
TEXT_NOTIFY_ACQUIRED: Final = "Notify acquired"
TEXT_WRITE_ACQUIRED: Final = "Write acquired"
TEXT_NOT_PAIRED: Final = "Not paired"
TEXT_AUTHENTICATION_FAILED: Final = "Authentication Failed"
TEXT_AUTHENTICATION_REJECTED: Final = "Authentication Rejected"


def att_error_text(code: int) -> str:
    """How BlueZ reports an ATT error response; Bleak scrapes the code back out of this text."""
    return f"Operation failed with ATT error: 0x{code:02x}"


def att_error(code: int) -> tuple[str, str]:
    """The D-Bus error bluetoothd sends for a peripheral's ATT error response (create_gatt_dbus_error
    in src/gatt-client.c): a few codes have their own BlueZ error, the rest become Failed + text.
    The three that ask for an encrypted link are all NotPermitted "Not paired", code lost (bleak's
    assert_gatt_reply leaves that one a plain BleakDBusError)."""
    special = {
        ATT_READ_NOT_PERMITTED: (ERROR_NOT_PERMITTED, TEXT_READ_NOT_PERMITTED),
        ATT_WRITE_NOT_PERMITTED: (ERROR_NOT_PERMITTED, TEXT_WRITE_NOT_PERMITTED),
        ATT_INSUFFICIENT_AUTHENTICATION: (ERROR_NOT_PERMITTED, TEXT_NOT_PAIRED),
        ATT_INSUFFICIENT_ENCRYPTION_KEY_SIZE: (ERROR_NOT_PERMITTED, TEXT_NOT_PAIRED),
        ATT_INSUFFICIENT_ENCRYPTION: (ERROR_NOT_PERMITTED, TEXT_NOT_PAIRED),
        ATT_REQUEST_NOT_SUPPORTED: (ERROR_NOT_SUPPORTED, TEXT_NOT_SUPPORTED),
        ATT_INVALID_OFFSET: (ERROR_INVALID_ARGUMENTS, "Invalid offset"),
        ATT_INSUFFICIENT_AUTHORIZATION: (ERROR_NOT_AUTHORIZED, "Operation Not Authorized"),
        ATT_INVALID_ATTRIBUTE_VALUE_LENGTH: (ERROR_INVALID_ARGUMENTS, "Invalid Length"),
        ATT_CCCD_IMPROPERLY_CONFIGURED: (ERROR_IMPROPERLY_CONFIGURED, "Improperly Configured"),
    }
    return special.get(code, (ERROR_FAILED, att_error_text(code)))


# ATT error codes (Core spec Vol 3 Part F 3.4.1.1) the firmware may answer with.
ATT_INVALID_HANDLE: Final = 0x01
ATT_READ_NOT_PERMITTED: Final = 0x02
ATT_WRITE_NOT_PERMITTED: Final = 0x03
ATT_REQUEST_NOT_SUPPORTED: Final = 0x06
ATT_INVALID_OFFSET: Final = 0x07
ATT_INSUFFICIENT_AUTHENTICATION: Final = 0x05  # the peer wants a bonded (encrypted) link
ATT_INSUFFICIENT_AUTHORIZATION: Final = 0x08
ATT_INSUFFICIENT_ENCRYPTION_KEY_SIZE: Final = 0x0C
ATT_INVALID_ATTRIBUTE_VALUE_LENGTH: Final = 0x0D
ATT_INSUFFICIENT_ENCRYPTION: Final = 0x0F
ATT_CCCD_IMPROPERLY_CONFIGURED: Final = 0xFD
ATT_UNLIKELY_ERROR: Final = 0x0E
ATT_VALUE_NOT_ALLOWED: Final = 0x13  # Core spec: "Value Not Allowed" (BlueZ maps it to Failed + text)

# Property D-Bus signatures. Only these keys are exported; Bleak reads Address, Alias, Adapter,
# Connected, ServicesResolved, Paired, Name, UUIDs, RSSI, TxPower, ManufacturerData, ServiceData.
ADAPTER_SIGNATURES: Final[dict[str, str]] = {
    "Address": "s",
    "AddressType": "s",
    "Name": "s",
    "Alias": "s",
    "Class": "u",
    "Powered": "b",
    "PowerState": "s",
    "Discoverable": "b",
    "DiscoverableTimeout": "u",
    "Pairable": "b",
    "PairableTimeout": "u",
    "Discovering": "b",
    "UUIDs": "as",
    "Modalias": "s",
    "Roles": "as",
    "ExperimentalFeatures": "as",
}
ADAPTER_WRITABLE: Final = frozenset({"Alias", "Powered", "Discoverable", "DiscoverableTimeout", "Pairable"})

DEVICE_SIGNATURES: Final[dict[str, str]] = {
    "Address": "s",
    "AddressType": "s",
    "Name": "s",
    "Alias": "s",
    "Paired": "b",
    "Bonded": "b",
    "Trusted": "b",
    "Blocked": "b",
    "LegacyPairing": "b",
    "Connected": "b",
    "UUIDs": "as",
    "Adapter": "o",
    "ServicesResolved": "b",
    "RSSI": "n",
    "TxPower": "n",
    "ManufacturerData": "a{qv}",
    "ServiceData": "a{sv}",
    "AdvertisingFlags": "ay",
    "WakeAllowed": "b",
}
DEVICE_WRITABLE: Final = frozenset({"Alias", "Trusted", "Blocked", "WakeAllowed"})
# BlueZ invalidates these when discovery stops (Bleak removes its callbacks first for this reason).
DISCOVERY_ONLY_PROPERTIES: Final = ("RSSI", "TxPower")

GATT_SERVICE_SIGNATURES: Final[dict[str, str]] = {
    "UUID": "s",
    "Device": "o",
    "Primary": "b",
    "Includes": "ao",
}
GATT_CHARACTERISTIC_SIGNATURES: Final[dict[str, str]] = {
    "UUID": "s",
    "Service": "o",
    "Value": "ay",
    "Notifying": "b",
    "Flags": "as",
    "NotifyAcquired": "b",
    "WriteAcquired": "b",
    "MTU": "q",
}
GATT_DESCRIPTOR_SIGNATURES: Final[dict[str, str]] = {
    "UUID": "s",
    "Characteristic": "o",
    "Value": "ay",
}

SIGNATURES: Final[dict[str, dict[str, str]]] = {
    ADAPTER_INTERFACE: ADAPTER_SIGNATURES,
    DEVICE_INTERFACE: DEVICE_SIGNATURES,
    GATT_SERVICE_INTERFACE: GATT_SERVICE_SIGNATURES,
    GATT_CHARACTERISTIC_INTERFACE: GATT_CHARACTERISTIC_SIGNATURES,
    GATT_DESCRIPTOR_INTERFACE: GATT_DESCRIPTOR_SIGNATURES,
    AGENT_MANAGER_INTERFACE: {},
    PROFILE_MANAGER_INTERFACE: {},
}

# SetDiscoveryFilter keys BlueZ accepts, with the type each must carry.
DISCOVERY_FILTER_SIGNATURES: Final[dict[str, str]] = {
    "UUIDs": "as",
    "RSSI": "n",
    "Pathloss": "q",
    "Transport": "s",
    "DuplicateData": "b",
    "Discoverable": "b",
    "Pattern": "s",
}

CCCD_UUID: Final = "00002902-0000-1000-8000-00805f9b34fb"
CCCD_NOTIFY: Final = b"\x01\x00"
CCCD_INDICATE: Final = b"\x02\x00"
CCCD_OFF: Final = b"\x00\x00"

# BlueZ's own ATT MTU limit on the central side (src/shared/att.h BT_ATT_MAX_LE_MTU).
CENTRAL_MAX_MTU: Final = 517

# Handles 0x0001-0x000b are GAP (0x1800) and GATT (0x1801), which bluetoothd keeps to itself and never
# exports; the first exported service of a typical peripheral starts at 0x000c.
FIRST_EXPORTED_HANDLE: Final = 0x000C


def device_path(address: str, adapter_path: str = ADAPTER_PATH) -> str:
    """``/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF`` as bluetoothd names device objects."""
    return f"{adapter_path}/dev_{address.upper().replace(':', '_')}"


def service_path(dev_path: str, handle: int) -> str:
    return f"{dev_path}/service{handle:04x}"


def characteristic_path(svc_path: str, handle: int) -> str:
    return f"{svc_path}/char{handle:04x}"


def descriptor_path(char_path: str, handle: int) -> str:
    return f"{char_path}/desc{handle:04x}"
