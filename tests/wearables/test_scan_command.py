"""`sitbreak scan` against the BlueZ emulator, and without Bluetooth."""

from __future__ import annotations

import json

import pytest

from monitor.cli import main
from tests.ble_fixtures import AddWearable


def test_scan_lists_wearables_with_rssi_and_profile(
    add_wearable: AddWearable, capsys: pytest.CaptureFixture[str]
) -> None:
    sitsense = add_wearable(rssi=-50)
    polar = add_wearable("polar", model="H10", rssi=-75)
    assert main(["scan", "--scan-timeout", "0.6"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["ADDRESS", "RSSI", "PROFILE", "NAME"]
    rows = {line.split()[0]: line.split() for line in lines[1:] if line[:2] == "F0"}
    assert rows[sitsense.address][2:] == ["sitsense", sitsense.name]
    assert -53 <= int(rows[sitsense.address][1]) <= -47
    assert rows[polar.address][2] == "polar"
    # strongest first
    order = [line.split()[0] for line in lines[1:] if line[:2] == "F0"]
    assert order.index(sitsense.address) < order.index(polar.address)
    assert f'address = "{sitsense.address}"' in out


def test_scan_json(add_wearable: AddWearable, capsys: pytest.CaptureFixture[str]) -> None:
    microbit = add_wearable("microbit")
    assert main(["scan", "--scan-timeout", "0.6", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    (row,) = [r for r in rows if r["address"] == microbit.address]
    # The older spellings still work for scripts that use them.
    assert main(["scan", "--timeout", "0.6", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    (row,) = [r for r in rows if r["address"] == microbit.address]
    assert row["profile"] == "microbit" and row["name"].startswith("BBC micro:bit [")
    assert isinstance(row["rssi"], int)


def test_scan_without_bluetooth_says_so(
    private_bus: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/sitbreak/system_bus_socket")
    assert main(["scan", "--scan-timeout", "0.2"]) == 2
    err = capsys.readouterr().err
    assert "sitbreak: error: Bluetooth is unavailable: no D-Bus system bus (No such file or directory)" in err
    assert "bluetoothd" in err
    assert "Traceback" not in err


def test_scan_rejects_a_bad_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--scan-timeout", "0"]) == 2
    assert "--scan-timeout 0: must be more than 0" in capsys.readouterr().err
