"""Which advertisement is our wearable, and which errors mean "Bluetooth is not there"."""

from __future__ import annotations

import pytest
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakError,
)

from monitor.wearables import sitsense_format as fmt
from monitor.wearables.profiles import make_profile
from monitor.wearables.scanner import WearableTarget, bluetooth_unavailable

SITSENSE = make_profile("sitsense")


def heard(address: str, name: str | None, uuids: list[str]) -> tuple[BLEDevice, AdvertisementData]:
    device = BLEDevice(address, name, {"path": "/org/bluez/hci0/dev_" + address.replace(":", "_")})
    adv = AdvertisementData(name, {}, {}, uuids, None, -60, ())
    return device, adv


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (WearableTarget(address="f0:5e:00:00:00:01"), True),  # addresses compare case-insensitively
        (WearableTarget(address="F0:5E:00:00:00:02"), False),
        (WearableTarget(name="SitSense-0001"), True),
        (WearableTarget(name="SitSense-*"), True),
        (WearableTarget(name="sitsense-*"), False),  # names are case-sensitive, like BlueZ's
        (WearableTarget(service_uuid=fmt.SERVICE_UUID.upper()), True),
        (WearableTarget(service_uuid="180F"), False),
        (WearableTarget(), True),  # nothing given: the profile decides
        (WearableTarget(name="SitSense-*", address="F0:5E:00:00:00:09"), False),  # all given must hold
    ],
)
def test_target_matching(target: WearableTarget, expected: bool) -> None:
    device, adv = heard("F0:5E:00:00:00:01", "SitSense-0001", [fmt.SERVICE_UUID])
    assert target.matches(device, adv, SITSENSE) is expected


def test_sixteen_bit_uuid_in_config_matches_the_128_bit_form() -> None:
    device, adv = heard("F0:5E:00:00:00:01", None, ["0000180f-0000-1000-8000-00805f9b34fb"])
    assert WearableTarget(service_uuid="180F").matches(device, adv, SITSENSE)


def test_from_config_treats_empty_as_unset() -> None:
    assert WearableTarget.from_config("", "SitSense-*", "") == WearableTarget(name="SitSense-*")


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (FileNotFoundError(2, "No such file or directory"), "no D-Bus system bus"),
        (ConnectionRefusedError(111, "Connection refused"), "no D-Bus system bus"),
        (BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown", []), "org.bluez"),
        (
            BleakBluetoothNotAvailableError(
                "No powered Bluetooth adapters found.", BleakBluetoothNotAvailableReason.POWERED_OFF
            ),
            "No powered Bluetooth adapters",
        ),
        (BleakError("adapter 'hci0' not found"), "hci0"),
    ],
)
def test_unavailable_errors(error: BaseException, words: str) -> None:
    reason = bluetooth_unavailable(error)
    assert reason is not None and words in reason


@pytest.mark.parametrize(
    "error",
    [
        BleakError("device 'dev_F0' not found"),
        BleakDBusError("org.bluez.Error.Failed", ["le-connection-abort-by-local"]),
        TimeoutError(),
    ],
)
def test_device_errors_are_not_unavailability(error: BaseException) -> None:
    assert bluetooth_unavailable(error) is None
