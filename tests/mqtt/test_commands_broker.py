"""The phone's commands through a real Mosquitto: round trips, garbage, retained and queued-while-away."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from pathlib import Path

import pytest

from monitor.mqtt.client import MqttLink
from monitor.nudges.commands import Ack, Command, Pause, Resume, Snooze
from tests.mqtt.helpers import Clock, make_link, nudge, settings_for
from tests.mqtt_fixtures import Broker, Phone


async def next_command(link: MqttLink, now: float | None = None, timeout: float = 10.0) -> Command:
    """The next command, stamped as the service does with the data time it takes it (`now`, default
    the link's data time)."""
    agen = link.commands()
    try:
        request = await asyncio.wait_for(anext(agen), timeout)
    finally:
        await agen.aclose()
    command = link.stamp(request, link.data_time if now is None else now)
    assert command is not None, request
    return command


def test_phone_gets_nudge_and_snoozes_it(mosquitto: Broker, tmp_path: Path) -> None:
    clock = Clock(1_764_000_000.0)
    link, outbox = make_link(tmp_path, settings_for(mosquitto.port), wearable="rt1")
    phone = Phone(mosquitto.port, "sitbreak/rt1/nudge")

    async def scenario() -> None:
        await link.start()
        await link.wait_connected(10)
        link.publish_nudge(nudge("n-1", clock.now, wearable="rt1"), clock.now, now=clock.now)
        got = await phone.expect("sitbreak/rt1/nudge")
        body = json.loads(got[0].payload)
        assert body["id"] == "n-1" and body["wearable"] == "rt1" and body["event_type"] == "nudge"
        assert body["ts"].startswith("2025-11-") and body["ts"][-6] in "+-"
        snooze = next(a for a in body["actions"] if a["action"] == "snooze")
        clock.now += 42.0  # the command takes effect at the data time the service takes it
        phone.send("sitbreak/rt1/cmd", snooze["payload"])
        assert await next_command(link, clock.now) == Snooze(ts=clock.now, minutes=10.0, nudge_id="n-1")
        await link.stop()

    try:
        asyncio.run(scenario())
    finally:
        phone.close()
    assert outbox.pending() == []


def test_ack_pause_resume_round_trips(mosquitto: Broker, tmp_path: Path) -> None:
    clock = Clock(1_764_000_000.0)  # 2025-11-24T16:00:00Z
    link, _ = make_link(tmp_path, settings_for(mosquitto.port), wearable="rt2")
    phone = Phone(mosquitto.port)

    async def scenario() -> None:
        await link.start()
        await link.wait_connected(10)
        phone.send("sitbreak/rt2/cmd", '{"action":"ack","nudge_id":"n-7"}')
        assert await next_command(link, clock.now) == Ack(ts=clock.now, nudge_id="n-7")
        phone.send(
            "sitbreak/rt2/cmd", '{"action":"pause","until":"2025-11-24T18:00:00+01:00","reason":"meeting"}'
        )
        assert await next_command(link, clock.now) == Pause(
            ts=clock.now, until=clock.now + 3600.0, reason="meeting"
        )
        phone.send("sitbreak/rt2/cmd", '{"action":"pause","minutes":45}')
        assert await next_command(link, clock.now) == Pause(ts=clock.now, until=clock.now + 2700.0)
        phone.send("sitbreak/rt2/cmd", '{"action":"resume"}')
        assert await next_command(link, clock.now) == Resume(ts=clock.now)
        await link.stop()

    try:
        asyncio.run(scenario())
    finally:
        phone.close()


def test_garbage_on_cmd_is_counted_logged_rate_limited_and_harmless(
    mosquitto: Broker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    link, _ = make_link(tmp_path, settings_for(mosquitto.port), wearable="rt3")
    phone = Phone(mosquitto.port)
    rng = random.Random(7)
    garbage = [rng.randbytes(rng.randrange(1, 1500)) for _ in range(150)]
    garbage += [b"{" * 1200, b"[" * 900, b'{"action":"snooze","minutes":1e999}', b'{"action":"dance"}'] * 25
    garbage += [
        json.dumps({"action": "snooze", "minutes": rng.uniform(-1e6, 1e6)}).encode() for _ in range(50)
    ]

    async def scenario() -> None:
        await link.start()
        await link.wait_connected(10)
        for payload in garbage:
            phone.client.publish("sitbreak/rt3/cmd", payload, qos=1)
        phone.send("sitbreak/rt3/cmd", '{"action":"resume"}')
        command = await next_command(link)
        assert isinstance(command, Resume)
        assert link.connected
        await link.stop()

    caplog.set_level(logging.WARNING, logger="monitor.mqtt")
    try:
        asyncio.run(scenario())
    finally:
        phone.close()
    rejected = link.rejected
    # A random snooze within 1..120 min could be valid; all the rest is rejected, and counted by kind.
    valid_snoozes = sum(1 for p in garbage[-50:] if 1 <= json.loads(p)["minutes"] <= 120)
    assert sum(rejected.values()) == len(garbage) - valid_snoozes
    assert rejected["too_large"] >= 50 and rejected["bad_value"] >= 25 and rejected["unknown_action"] >= 25
    # Rate-limited: one line per kind per interval, not one per message.
    ignored_lines = [r for r in caplog.records if "ignored a command" in r.getMessage()]
    assert len(ignored_lines) <= len(rejected)


def test_retained_command_is_ignored(mosquitto: Broker, tmp_path: Path) -> None:
    phone = Phone(mosquitto.port)
    phone.send("sitbreak/rt4/cmd", '{"action":"ack"}', retain=True)
    link, _ = make_link(tmp_path, settings_for(mosquitto.port), wearable="rt4")

    async def scenario() -> None:
        await link.start()
        await link.wait_connected(10)
        for _ in range(200):
            if link.rejected["retained"]:
                break
            await asyncio.sleep(0.01)
        assert link.rejected["retained"] == 1
        assert link.get_command_nowait() is None
        await link.stop()

    try:
        asyncio.run(scenario())
    finally:
        phone.send("sitbreak/rt4/cmd", b"", retain=True)
        phone.close()


def test_commands_sent_while_away_arrive_on_return(mosquitto: Broker, tmp_path: Path) -> None:
    """Persistent session: the broker queues QoS 1 commands for our client id while we are stopped."""
    phone = Phone(mosquitto.port)

    async def first_run() -> None:
        link, _ = make_link(tmp_path, settings_for(mosquitto.port), wearable="rt5")
        await link.start()
        await link.wait_connected(10)
        await link.stop()

    async def second_run() -> Command:
        link, _ = make_link(tmp_path, settings_for(mosquitto.port), wearable="rt5")
        await link.start()
        await link.wait_connected(10)
        try:
            return await next_command(link)
        finally:
            await link.stop()

    try:
        asyncio.run(first_run())
        phone.send("sitbreak/rt5/cmd", '{"action":"snooze","minutes":15}')
        command = asyncio.run(second_run())
    finally:
        phone.close()
    assert isinstance(command, Snooze) and command.minutes == 15.0
