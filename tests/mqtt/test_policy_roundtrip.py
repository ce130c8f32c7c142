"""The whole loop through a real Mosquitto: sitting epochs -> policy -> nudge on the phone -> the phone
presses Snooze -> the policy moves the next nudge by the granted minutes.

This is the wiring the daemon does: policy events to `convert.*_payload` to `MqttLink.publish_*`, and
`MqttLink.commands()`, stamped with the data time they are taken (`MqttLink.stamp`), to
`NudgePolicy.command`.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC
from pathlib import Path

from monitor.core.types import Epoch, Posture
from monitor.mqtt.client import MqttLink
from monitor.mqtt.convert import event_payload, nudge_payload
from monitor.nudges.commands import Snooze
from monitor.nudges.events import EventKind, PolicyEvent
from monitor.nudges.library import ExerciseLibrary
from monitor.nudges.policy import NudgePolicy
from monitor.nudges.settings import PolicySettings
from tests.mqtt.helpers import Clock, make_link, settings_for
from tests.mqtt_fixtures import Broker, Phone

W = "pr1"
T0 = 1_763_974_800.0  # Monday 2025-11-24 09:00 UTC: inside the default active hours


def publish(link: MqttLink, events: list[PolicyEvent]) -> list[PolicyEvent]:
    for ev in events:
        if ev.is_prompt:
            link.publish_nudge(nudge_payload(ev, W, UTC), ev.t, now=ev.t)
        link.publish_event(event_payload(ev, W, UTC), ev.t)
    return [ev for ev in events if ev.is_prompt]


def sit_until_prompt(policy: NudgePolicy, link: MqttLink, clock: Clock, limit_s: int) -> PolicyEvent:
    for _ in range(limit_s):
        prompts = publish(link, policy.feed_epoch(Epoch(t=clock.now, label=Posture.SIT)))
        clock.now += 1.0
        if prompts:
            return prompts[0]
    raise AssertionError(f"no prompt within {limit_s} s of sitting")


def test_snooze_from_the_phone_moves_the_next_nudge(mosquitto: Broker, tmp_path: Path) -> None:
    settings = PolicySettings()
    policy = NudgePolicy(settings, ExerciseLibrary.default(), UTC, wearable_id=W)
    clock = Clock(T0)
    link, outbox = make_link(tmp_path, settings_for(mosquitto.port), wearable=W)
    phone = Phone(mosquitto.port, f"sitbreak/{W}/nudge", f"sitbreak/{W}/event")

    async def scenario() -> None:
        await link.start()
        await link.wait_connected(10)
        first = sit_until_prompt(policy, link, clock, 3600)
        assert first.kind is EventKind.NUDGE
        assert first.t - T0 == settings.nudge_after * 60  # 30 min of sitting, to the second

        got = await phone.expect(f"sitbreak/{W}/nudge")
        shown = json.loads(got[0].payload)
        assert shown["id"] == first.nudge_id and shown["sitting_min"] == 30.0
        assert shown["message"].endswith("not medical advice. Skip anything that hurts.")
        assert "exercise" in shown and shown["exercise"]["steps"]
        snooze = next(a for a in shown["actions"] if a["action"] == "snooze")

        # The wearer answers a minute later (data time keeps running while they read it).
        for _ in range(60):
            publish(link, policy.feed_epoch(Epoch(t=clock.now, label=Posture.SIT)))
            clock.now += 1.0
        phone.send(f"sitbreak/{W}/cmd", snooze["payload"])
        agen = link.commands()
        request = await asyncio.wait_for(anext(agen), 10)
        await agen.aclose()
        command = link.stamp(request, clock.now)
        assert isinstance(command, Snooze) and command.nudge_id == first.nudge_id and command.ts == clock.now
        snoozed = [e for e in policy.command(command) if e.kind is EventKind.SNOOZED]
        assert len(snoozed) == 1 and snoozed[0].minutes == settings.snooze_default
        publish(link, snoozed)

        second = sit_until_prompt(policy, link, clock, 3600)
        # Without the snooze the escalation would have come escalate_after (10 min) after the first
        # prompt; the snooze moved it to the snooze time plus the granted minutes.
        assert second.t == command.ts + snoozed[0].minutes * 60
        assert second.t != first.t + settings.escalate_after * 60
        await phone.expect(f"sitbreak/{W}/nudge", count=2)
        events = await phone.expect(f"sitbreak/{W}/event", count=3)
        kinds = [json.loads(m.payload)["kind"] for m in events]
        assert "snoozed" in kinds and kinds.count("nudge") + kinds.count("escalation") >= 1
        await link.stop()

    try:
        asyncio.run(scenario())
    finally:
        phone.close()
    assert outbox.pending() == []
