"""Pytest fixtures for talking to simulated wearables through unmodified Bleak.

Registered for the whole suite in tests/conftest.py (``pytest_plugins = ["tests.ble_fixtures"]``).

``private_bus`` (session)
    A `firmware_sim.bus.PrivateBus` (real ``dbus-daemon``) with ``DBUS_SYSTEM_BUS_ADDRESS`` and a fake
    ``bluetoothctl`` on ``PATH`` set for the session, so any Bleak call in the test process uses it.
    Fails (never skips) when dbus-daemon is missing, naming the package to install.
``bluez`` (module)
    A running `firmware_sim.bluez.BlueZEmulator` on that bus, with a short connect timeout
    (`TEST_CONNECT_TIMEOUT_S`) so out-of-range tests are quick. Shared by a module's tests: add
    wearables through ``add_wearable`` so they are removed afterwards, and do not crash it (use
    ``fresh_bluez``).
``fresh_bluez`` (function)
    An emulator of the test's own, for tests that crash/restart bluetoothd or power the adapter off.
``add_wearable`` (function)
    ``add_wearable(profile="sitsense", source=..., speed=..., emulator=None, **options)`` creates a
    `SimulatedWearable`, adds it to ``bluez`` (or the emulator given) and removes it at teardown.

Typical use from a test (no pytest-asyncio needed; every test runs its own loop)::

    def test_stream(bluez, add_wearable):
        wearable = add_wearable(speed=20)
        async def main():
            device = await BleakScanner.find_device_by_name(wearable.name, timeout=5)
            async with BleakClient(device) as client:
                ...
        run(main())

Fault switches live on the wearable (``drop_link``, ``go_out_of_range(seconds)``, ``come_back``,
``fail_next_connects(n, text)``, ``set_connect_failure_rate(p)``, ``inject(kind, count)``,
``set_fault_rates(lost=..., ...)``, ``fifo_overflow(samples)``, ``set_battery(pct, drain)``,
``set_rssi(dbm)``; constructor options
``speed``, ``mtu``, ``rssi``, ``uptime_ms``, ``seed`` and the firmware's own) and on the emulator
(``crash``, ``restart``, ``set_powered``, ``forget``, and the ``temporary_timeout_s`` attribute for
bluetoothd's device expiry). To observe:
``wearable.sent()`` (every packet framed, with the fault applied), ``wearable.fault_counts()``,
``wearable.connects``, ``wearable.connected``, ``wearable.streaming``, and on the emulator
``device_properties(wearable)``, ``object_paths()``, ``discovering()``, ``crashes``.

Two Bleak habits matter in tests: call ``client.disconnect()`` even after a link loss (it releases
the client's own D-Bus connection, else a ResourceWarning fails the run), and wait for signals
rather than assuming Bleak saw a change the moment the emulator made it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from firmware_sim.bluez import BlueZEmulator
from firmware_sim.bus import PrivateBus
from firmware_sim.source import SampleSource
from firmware_sim.wearable import Profile, SimulatedWearable

T = TypeVar("T")

# Long enough for the connect latency, short enough that an out-of-range Connect fails quickly.
TEST_CONNECT_TIMEOUT_S = 2.0
# Advertisements every 50 ms make a 1 s scan see a device ~20 times.
TEST_ADV_INTERVAL_S = 0.05
# Bound on any one asyncio.run in a test: a hung Bleak call fails the test instead of the suite.
RUN_TIMEOUT_S = 45.0


def run(coro: Coroutine[Any, Any, T], timeout: float = RUN_TIMEOUT_S) -> T:
    """Run a coroutine in a fresh event loop, failing it after ``timeout`` seconds."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


@pytest.fixture(scope="session")
def private_bus() -> Iterator[PrivateBus]:
    mp = pytest.MonkeyPatch()
    with PrivateBus() as bus:
        for key, value in bus.environ().items():
            mp.setenv(key, value)
        try:
            yield bus
        finally:
            mp.undo()


def _emulator(bus: PrivateBus) -> BlueZEmulator:
    return BlueZEmulator(
        bus.address, connect_timeout_s=TEST_CONNECT_TIMEOUT_S, adv_interval_s=TEST_ADV_INTERVAL_S
    )


@pytest.fixture(scope="module")
def bluez(private_bus: PrivateBus) -> Iterator[BlueZEmulator]:
    with _emulator(private_bus) as emulator:
        yield emulator


@pytest.fixture
def fresh_bluez(private_bus: PrivateBus, bluez: BlueZEmulator) -> Iterator[BlueZEmulator]:
    """A test's own bluetoothd. The module's ``bluez`` steps off the bus meanwhile (only one process
    can own org.bluez) and comes back afterwards."""
    bluez.crash()
    try:
        with _emulator(private_bus) as emulator:
            yield emulator
    finally:
        bluez.restart()


AddWearable = Callable[..., SimulatedWearable]


@pytest.fixture
def add_wearable(request: pytest.FixtureRequest) -> Iterator[AddWearable]:
    added: list[tuple[BlueZEmulator, SimulatedWearable]] = []

    def add(
        profile: Profile | str = Profile.SITSENSE,
        source: SampleSource | None = None,
        *,
        emulator: BlueZEmulator | None = None,
        **options: Any,
    ) -> SimulatedWearable:
        target = emulator if emulator is not None else request.getfixturevalue("bluez")
        wearable = SimulatedWearable(profile, source=source, **options)
        target.add(wearable)
        added.append((target, wearable))
        return wearable

    yield add
    for emulator, wearable in added:
        if emulator.started:
            emulator.remove(wearable)
