"""Which broker `sitbreak demo` uses: the machine's Mosquitto when there is one, else the embedded one.

Real processes only: the machine's Mosquitto (`/usr/sbin/mosquitto`, which `make test` needs anyway),
the embedded broker on this test's event loop, and small shell scripts standing in for a Mosquitto that
fails. Every broker binds 127.0.0.1 only (read from /proc/net), answers a real paho client, and is
gone, by PID, when the demo's broker block ends, also on an error or a cancellation (Ctrl-C).
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from monitor.demo.mosquitto import MosquittoProcess, MosquittoStartError, find_mosquitto
from monitor.demo.run import DemoBroker, DemoOptions, open_broker
from tests.mqtt_fixtures import MOSQUITTO

# Bounds on waiting for a broker's answer; a verdict never depends on them.
ANSWER_TIMEOUT_S = 10.0
TCP_LISTEN = "0A"  # the state column of /proc/net/tcp for a listening socket


def _executable(path: Path, script: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    path.chmod(0o755)
    return path


def _options(lookup: Callable[[], Path | None]) -> DemoOptions:
    return DemoOptions(mosquitto_lookup=lookup)


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as the kernel prints them) with a TCP socket listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        lines = Path(table).read_text(encoding="ascii").splitlines()[1:]
        for line in lines:
            local, _remote, state = line.split()[1:4]
            address, port_hex = local.split(":")
            if int(port_hex, 16) == port and state == TCP_LISTEN:
                found.add(address)
    return found


LOOPBACK_V4 = "0100007F"  # 127.0.0.1 in /proc/net/tcp's little-endian hex


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def round_trip(host: str, port: int) -> bytes:
    """Subscribe, publish at QoS 1 and return what came back, with a plain MQTT 5 paho client."""
    inbox: queue.Queue[bytes] = queue.Queue()
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.on_connect = lambda c, *_a: c.subscribe("sitbreak/test/#", 1)
    client.on_subscribe = lambda *_a: subscribed.set()
    client.on_message = lambda _c, _u, msg: inbox.put(bytes(msg.payload))
    client.connect(host, port, keepalive=10)
    client.loop_start()
    try:
        assert subscribed.wait(ANSWER_TIMEOUT_S), f"no SUBACK from {host}:{port}"
        client.publish("sitbreak/test/ping", b"pong", qos=1).wait_for_publish(ANSWER_TIMEOUT_S)
        return inbox.get(timeout=ANSWER_TIMEOUT_S)
    finally:
        client.disconnect()
        client.loop_stop()


async def _use(opts: DemoOptions) -> DemoBroker:
    """Open the demo's broker, check it answers on loopback only, close it; returns what was used."""
    async with open_broker(opts) as broker:
        assert broker.host == "127.0.0.1"
        assert listening_addresses(broker.port) == {LOOPBACK_V4}
        assert await asyncio.to_thread(round_trip, broker.host, broker.port) == b"pong"
        if broker.pid is not None:
            assert process_exists(broker.pid)
    return broker


# --- finding Mosquitto --------------------------------------------------------------------------------


def test_find_mosquitto_looks_on_path_first(tmp_path: Path) -> None:
    on_path = _executable(tmp_path / "bin" / "mosquitto", "exit 0\n")
    debian = _executable(tmp_path / "sbin" / "mosquitto", "exit 0\n")
    assert find_mosquitto(path=str(on_path.parent), fallback=debian) == on_path


def test_find_mosquitto_falls_back_to_debians_path(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    debian = _executable(tmp_path / "sbin" / "mosquitto", "exit 0\n")
    assert find_mosquitto(path=str(tmp_path / "empty"), fallback=debian) == debian


def test_find_mosquitto_finds_none(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert find_mosquitto(path=str(tmp_path / "empty"), fallback=tmp_path / "missing") is None
    not_executable = tmp_path / "mosquitto"
    not_executable.write_text("", encoding="utf-8")
    assert find_mosquitto(path=str(tmp_path / "empty"), fallback=not_executable) is None


# --- the broker the demo opens -------------------------------------------------------------------------


def test_demo_uses_the_machines_mosquitto() -> None:
    binary = Path(MOSQUITTO)
    broker = asyncio.run(_use(_options(lambda: binary)))
    assert broker.kind == "mosquitto"
    assert broker.pid is not None
    assert str(binary) in broker.line and f"pid {broker.pid}" in broker.line
    # Stopped by PID and waited for: the process and its listening socket are gone.
    assert not process_exists(broker.pid)
    assert listening_addresses(broker.port) == set()


def test_demo_uses_the_embedded_broker_without_mosquitto() -> None:
    broker = asyncio.run(_use(_options(lambda: None)))
    assert broker.kind == "embedded"
    assert broker.pid is None
    assert "embedded, no mosquitto found on this machine" in broker.line
    assert listening_addresses(broker.port) == set()


def test_a_mosquitto_that_fails_to_start_falls_back_to_the_embedded_broker(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = _executable(tmp_path / "mosquitto", "echo 'Error: broken installation' >&2\nexit 3\n")
    with caplog.at_level(logging.WARNING, logger="monitor.demo"):
        broker = asyncio.run(_use(_options(lambda: broken)))
    assert broker.kind == "embedded"
    assert f"{broken} did not start" in broker.line
    (warning,) = [r.getMessage() for r in caplog.records if "embedded broker instead" in r.getMessage()]
    assert "exited with code 3" in warning and "broken installation" in warning


def test_the_given_broker_is_used_as_is() -> None:
    def must_not_look() -> Path | None:
        raise AssertionError("--mqtt-host given: no broker is looked for")

    async def given() -> DemoBroker:
        opts = DemoOptions(mqtt_host="mqtt.example", mqtt_port=8883, mosquitto_lookup=must_not_look)
        async with open_broker(opts) as broker:
            return broker

    broker = asyncio.run(given())
    assert (broker.kind, broker.host, broker.port, broker.pid) == ("given", "mqtt.example", 8883, None)


def test_mosquitto_is_stopped_when_the_demo_fails() -> None:
    pids: list[int] = []

    async def failing() -> None:
        async with open_broker(_options(lambda: Path(MOSQUITTO))) as broker:
            assert broker.pid is not None
            pids.append(broker.pid)
            raise RuntimeError("the demo failed")

    with pytest.raises(RuntimeError, match="the demo failed"):
        asyncio.run(failing())
    assert len(pids) == 1
    assert not process_exists(pids[0])


def test_mosquitto_is_stopped_when_the_demo_is_cancelled() -> None:
    """Ctrl-C: asyncio.run cancels the demo's task, and the broker block still stops Mosquitto."""

    async def cancelled() -> int:
        opened: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def demo() -> None:
            async with open_broker(_options(lambda: Path(MOSQUITTO))) as broker:
                assert broker.pid is not None
                opened.set_result(broker.pid)
                await asyncio.Event().wait()  # runs until cancelled

        task = asyncio.create_task(demo())
        pid = await opened
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return pid

    pid = asyncio.run(cancelled())
    assert not process_exists(pid)


def test_a_mosquitto_that_never_listens_is_stopped(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    # `exec` keeps the shell's PID, so the process the demo started is the one that sleeps.
    mute = _executable(tmp_path / "mosquitto", f"echo $$ > {pid_file}\nexec sleep 60\n")
    process = MosquittoProcess(mute)

    async def start() -> None:
        await process.start(timeout_s=0.5)

    with pytest.raises(MosquittoStartError, match=r"did not listen on 127\.0\.0\.1:"):
        asyncio.run(start())
    assert process.pid is None  # stopped and forgotten
    assert not process_exists(int(pid_file.read_text(encoding="ascii")))
