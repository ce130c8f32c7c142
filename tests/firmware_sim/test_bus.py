"""The private dbus-daemon helper: starts, answers, cleans up by PID, and fails loudly when missing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess

import pytest
from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus

from firmware_sim import bus as bus_module
from firmware_sim.bus import DBusDaemonMissingError, PrivateBus


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def list_names(address: str) -> list[str]:
    client = await MessageBus(bus_address=address, bus_type=BusType.SYSTEM).connect()
    try:
        reply = await client.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="ListNames",
            )
        )
        assert reply is not None and reply.message_type is MessageType.METHOD_RETURN
        return list(reply.body[0])
    finally:
        client.disconnect()
        await client.wait_for_disconnect()  # type: ignore[no-untyped-call]


def test_private_bus_answers_and_is_gone_after_the_block() -> None:
    with PrivateBus() as bus:
        pid = bus.pid
        assert pid is not None and alive(pid)
        assert bus.address.startswith("unix:path=")
        assert "org.freedesktop.DBus" in asyncio.run(list_names(bus.address))
        workdir = bus.workdir
        assert workdir is not None
        fake = workdir / "bin" / "bluetoothctl"
        out = subprocess.run([str(fake), "--version"], capture_output=True, text=True, check=True).stdout
        assert out.strip() == "bluetoothctl: 5.72"
        assert bus.environ()["PATH"].startswith(str(fake.parent))
    assert not alive(pid)
    assert not workdir.exists()


def test_async_context_manager_and_activated_environment() -> None:
    before = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")

    async def main() -> int:
        async with PrivateBus() as bus:
            with bus.activated():
                assert os.environ["DBUS_SYSTEM_BUS_ADDRESS"] == bus.address
            assert os.environ.get("DBUS_SYSTEM_BUS_ADDRESS") == before
            assert bus.pid is not None
            return bus.pid

    pid = asyncio.run(main())
    assert not alive(pid)


def test_stop_copes_with_a_daemon_that_already_died() -> None:
    bus = PrivateBus().start()
    assert bus.pid is not None
    os.kill(bus.pid, signal.SIGKILL)
    bus.stop()
    bus.stop()  # idempotent
    assert bus.pid is None


def test_missing_dbus_daemon_fails_loudly_with_the_package_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(bus_module, "DBUS_DAEMON_FALLBACKS", ())
    with pytest.raises(DBusDaemonMissingError, match="apt-get install dbus-daemon"):
        PrivateBus().start()
