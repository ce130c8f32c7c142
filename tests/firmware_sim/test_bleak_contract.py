"""Canary: fails precisely when Bleak's BlueZ contract drifts from what the emulator encodes.

The emulator (firmware_sim/bluez.py, bluez_defs.py) was written against bleak 3.1.0's BlueZ backend.
Each test pins one thing Bleak relies on; when one fails after an upgrade, read the named Bleak
function and update the emulator (and the pins in pyproject.toml) together.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version

import pytest
from bleak.backends.bluezdbus import client as bleak_client
from bleak.backends.bluezdbus import defs as bleak_defs
from bleak.backends.bluezdbus import manager as bleak_manager
from bleak.backends.bluezdbus import utils as bleak_utils
from bleak.backends.bluezdbus import version as bleak_version

from firmware_sim import bluez_defs as defs
from firmware_sim.bluez import BlueZEmulator
from tests.ble_fixtures import run

# Device1/Adapter1 properties Bleak declares but the emulator deliberately leaves out (BlueZ omits
# them too for LE-only devices without those advertising fields).
NOT_EMULATED = {
    "Device1": {"Icon", "Class", "Appearance", "Modalias", "AdvertisingData"},
    "Adapter1": set(),
    "GattService1": set(),
    "GattCharacteristic1": set(),
    "GattDescriptor1": {"Flags"},
}


def test_pinned_versions_are_installed() -> None:
    assert version("bleak") == "3.1.0"
    assert version("dbus-fast") == "5.2.0"
    assert version("bleak-retry-connector") == "4.7.1"


@pytest.mark.parametrize(
    ("bleak_shape", "ours"),
    [
        (bleak_defs.Device1, defs.DEVICE_SIGNATURES),
        (bleak_defs.Adapter1, defs.ADAPTER_SIGNATURES),
        (bleak_defs.GattService1, defs.GATT_SERVICE_SIGNATURES),
        (bleak_defs.GattCharacteristic1, defs.GATT_CHARACTERISTIC_SIGNATURES),
        (bleak_defs.GattDescriptor1, defs.GATT_DESCRIPTOR_SIGNATURES),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_every_property_bleak_declares_is_emulated(bleak_shape: type, ours: dict[str, str]) -> None:
    declared = set(bleak_shape.__annotations__)
    missing = declared - set(ours) - NOT_EMULATED[bleak_shape.__name__]
    assert not missing, f"Bleak's {bleak_shape.__name__} now declares {sorted(missing)}"


def test_names_and_errors_match_bleaks() -> None:
    assert bleak_defs.BLUEZ_SERVICE == defs.BLUEZ_SERVICE
    pairs = [
        (bleak_defs.ADAPTER_INTERFACE, defs.ADAPTER_INTERFACE),
        (bleak_defs.DEVICE_INTERFACE, defs.DEVICE_INTERFACE),
        (bleak_defs.GATT_SERVICE_INTERFACE, defs.GATT_SERVICE_INTERFACE),
        (bleak_defs.GATT_CHARACTERISTIC_INTERFACE, defs.GATT_CHARACTERISTIC_INTERFACE),
        (bleak_defs.GATT_DESCRIPTOR_INTERFACE, defs.GATT_DESCRIPTOR_INTERFACE),
        (bleak_defs.OBJECT_MANAGER_INTERFACE, defs.OBJECT_MANAGER_INTERFACE),
        (bleak_defs.BLUEZ_ERROR_FAILED, defs.ERROR_FAILED),
        (bleak_defs.BLUEZ_ERROR_IN_PROGRESS, defs.ERROR_IN_PROGRESS),
        (bleak_defs.BLUEZ_ERROR_NOT_PERMITTED, defs.ERROR_NOT_PERMITTED),
        (bleak_defs.BLUEZ_ERROR_NOT_SUPPORTED, defs.ERROR_NOT_SUPPORTED),
        (bleak_defs.BLUEZ_ERROR_NOT_READY, defs.ERROR_NOT_READY),
        (bleak_defs.BLUEZ_ERROR_INVALID_ARGUMENT, defs.ERROR_INVALID_ARGUMENTS),
        (bleak_defs.BLUEZ_ERROR_DOES_NOT_EXIST, defs.ERROR_DOES_NOT_EXIST),
        (bleak_defs.BLUEZ_ERROR_NOT_AUTHORIZED, defs.ERROR_NOT_AUTHORIZED),
        (bleak_defs.BLUEZ_ERROR_IMPROPERLY_CONFIGURED, defs.ERROR_IMPROPERLY_CONFIGURED),
    ]
    assert [b for b, _ in pairs] == [o for _, o in pairs]


def test_bleak_parses_our_gatt_paths() -> None:
    dev = defs.device_path("F0:5E:00:00:0A:0B")
    assert dev == "/org/bluez/hci0/dev_F0_5E_00_00_0A_0B"
    svc = defs.service_path(dev, 0x000C)
    char = defs.characteristic_path(svc, 0x000D)
    desc = defs.descriptor_path(char, 0x000F)
    assert char == dev + "/service000c/char000d"
    # Bleak finds the device of a notification by cutting the path, and handles from its tail
    assert bleak_utils.device_path_from_characteristic_path(char) == dev
    assert bleak_utils.extract_service_handle_from_path(svc) == 0x000C
    assert bleak_utils.extract_service_handle_from_path(char) == 0x000D
    assert int(desc[-4:], 16) == 0x000F


def test_bleak_error_texts_we_emit_are_the_ones_it_matches() -> None:
    connect = inspect.getsource(bleak_client.BleakClientBlueZDBus.connect)
    assert f'"{defs.TEXT_LE_ABORT_BY_LOCAL}"' in connect, "Bleak no longer retries on this text"
    gatt = inspect.getsource(bleak_utils.assert_gatt_reply)
    for text in (
        defs.TEXT_READ_NOT_PERMITTED,
        defs.TEXT_WRITE_NOT_PERMITTED,
        "Invalid offset",
        "Invalid Length",
    ):
        assert f'"{text}"' in gatt
    assert "Operation failed with ATT error: (0x[0-9a-fA-F]+)" in gatt
    assert defs.att_error_text(0x13) == "Operation failed with ATT error: 0x13"


def test_bleak_still_subscribes_the_way_we_serve() -> None:
    init = inspect.getsource(bleak_manager.BlueZManager.async_init)
    assert 'arg0path="/org/bluez/"' in init  # InterfacesAdded/Removed for /org/bluez/... objects
    assert 'path_namespace="/org/bluez"' in init  # PropertiesChanged
    assert 'path="/"' in init and "GetManagedObjects" in init
    # StartNotify is the default; AcquireNotify only when asked and NotifyAcquired is present
    start_notify = inspect.getsource(bleak_client.BleakClientBlueZDBus.start_notify)
    assert 'bluez.get("use_start_notify", True)' in start_notify
    assert '"NotifyAcquired" in characteristic.obj[1]' in start_notify


def test_bleak_accepts_the_fake_bluetoothctl(bluez: BlueZEmulator) -> None:
    match = run(bleak_version._get_bluetoothctl_version())
    assert match is not None
    assert tuple(map(int, match.groups())) == (5, 72)


def test_bleak_picks_the_emulated_adapter(bluez: BlueZEmulator) -> None:
    async def main() -> tuple[str, dict[str, object]]:
        manager = await bleak_manager.get_global_bluez_manager()
        adapter = manager.get_default_adapter()
        return adapter, dict(manager._properties[adapter][bleak_defs.ADAPTER_INTERFACE])

    adapter, props = run(main())
    assert adapter == defs.ADAPTER_PATH
    assert "central" in props["Roles"]  # type: ignore[operator]
    assert props["Powered"] is True
