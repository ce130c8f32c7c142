"""Outbox delivery through broker outages: at-least-once, no duplicates on restart, stale nudges expire."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from monitor.core.outbox import OutboxStatus
from monitor.core.timefmt import iso_time
from monitor.mqtt.payloads import DailyReportPayload, EventPayload, StatePayload, TodayTotals
from tests.mqtt.helpers import Clock, make_link, nudge, settings_for
from tests.mqtt_fixtures import Broker, Phone

W = "dl1"
TOPICS = (f"sitbreak/{W}/nudge", f"sitbreak/{W}/event", f"sitbreak/{W}/report/daily")


def event(kind: str, t: float) -> EventPayload:
    return EventPayload(ts=iso_time(t), wearable=W, kind=kind)


def report(t: float) -> DailyReportPayload:
    return DailyReportPayload(ts=iso_time(t), wearable=W, date="2025-11-24", summary={"sitting_min": 312})


def ids(phone: Phone, topic: str) -> list[str]:
    """Ids the phone got from the service, leaving out the broker's own re-deliveries (DUP set): a
    broker restarted before the phone's PUBACK reached it re-sends from its persistence, which is the
    broker-to-phone leg, not the service sending twice."""
    return [json.loads(m.payload)["id"] for m in phone.messages(topic) if not m.dup]


def test_broker_restart_delivers_queued_once_expires_stale_keeps_events(
    private_mosquitto: Broker, tmp_path: Path
) -> None:
    broker = private_mosquitto
    clock = Clock()
    link, outbox = make_link(tmp_path, settings_for(broker.port, nudge_max_age_min=15), wearable=W)
    # The phone keeps a persistent session, so what reaches the broker before the phone is back waits for it.
    phone = Phone(broker.port, *TOPICS, client_id="phone-dl1", persistent=True)

    async def scenario() -> None:
        await link.start()
        await link.wait_connected(10)
        link.publish_nudge(nudge("before", clock.now, W), clock.now, now=clock.now)
        await phone.expect(TOPICS[0])

        broker.stop()
        for _ in range(500):
            if not link.connected:
                break
            await asyncio.sleep(0.01)
        assert not link.connected
        # While the broker is down: a nudge, then 20 min of data time pass (it goes stale waiting),
        # then three fresh nudges, events and a report. All go to the outbox first.
        stale_id = link.publish_nudge(nudge("stale", clock.now, W), clock.now, now=clock.now)
        clock.now += 20 * 60
        for i in range(3):
            link.publish_nudge(nudge(f"fresh-{i}", clock.now, W), clock.now, now=clock.now)
            link.publish_event(event(f"bout_end_{i}", clock.now), clock.now)
        link.publish_report(report(clock.now), clock.now)
        assert len(outbox.pending()) == 8

        broker.start()
        await link.wait_connected(15)
        await phone.expect(TOPICS[0], count=4, timeout=15)
        await phone.expect(TOPICS[1], count=3, timeout=15)
        await phone.expect(TOPICS[2], count=1, timeout=15)
        for _ in range(300):
            if not outbox.pending():
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)  # would-be duplicates have time to arrive
        await link.stop()
        assert outbox.status(stale_id) is OutboxStatus.EXPIRED

    try:
        asyncio.run(scenario())
    finally:
        phone.close()
    assert ids(phone, TOPICS[0]) == ["before", "fresh-0", "fresh-1", "fresh-2"]
    assert [json.loads(m.payload)["kind"] for m in phone.messages(TOPICS[1])] == [
        "bout_end_0",
        "bout_end_1",
        "bout_end_2",
    ]
    assert (
        phone.messages(TOPICS[2])[0].payload == json.dumps(report(clock.now), separators=(",", ":")).encode()
    )
    assert outbox.pending() == []
    assert outbox.counts()[OutboxStatus.EXPIRED] == 1
    assert link.counts["nudge_expired"] == 1


def test_acknowledged_nudges_are_not_sent_again_after_a_broker_restart(
    private_mosquitto: Broker, tmp_path: Path
) -> None:
    """The naive bug: paho's own retry queue and the outbox both re-sending after a reconnect."""
    broker = private_mosquitto
    clock = Clock()
    link, outbox = make_link(tmp_path, settings_for(broker.port), wearable=W)
    phone = Phone(broker.port, TOPICS[0], client_id="phone-dl2", persistent=True)

    async def scenario() -> None:
        await link.start()
        await link.wait_connected(10)
        for i in range(20):
            link.publish_nudge(nudge(f"n-{i}", clock.now, W), clock.now, now=clock.now)
        await phone.expect(TOPICS[0], count=20)
        for _ in range(300):
            if not outbox.pending():
                break
            await asyncio.sleep(0.01)
        assert outbox.pending() == []
        for _ in range(2):
            broker.restart()
            await link.wait_connected(15)
        link.publish_nudge(nudge("after", clock.now, W), clock.now, now=clock.now)
        await phone.expect(TOPICS[0], count=21)
        await asyncio.sleep(0.5)  # would-be duplicates have time to arrive
        await link.stop()

    try:
        asyncio.run(scenario())
    finally:
        phone.close()
    assert ids(phone, TOPICS[0]) == [f"n-{i}" for i in range(20)] + ["after"]


def test_nudges_in_flight_during_restarts_arrive_and_only_unacked_ones_repeat(
    private_mosquitto: Broker, tmp_path: Path
) -> None:
    """At-least-once, precisely: a nudge is sent again only if its PUBACK had not arrived when the broker
    went away. (A receiver that must see each id once dedupes by `id`; docs/phone.md shows how.)"""
    broker = private_mosquitto
    clock = Clock()
    link, outbox = make_link(tmp_path, settings_for(broker.port), wearable=W)
    phone = Phone(broker.port, TOPICS[0], client_id="phone-dl3", persistent=True)
    unacked_at_stop: set[str] = set()

    async def scenario() -> None:
        await link.start()
        await link.wait_connected(10)
        n = 0
        for _ in range(3):
            for _ in range(10):  # a burst, some still unacknowledged when the broker goes
                link.publish_nudge(nudge(f"n-{n}", clock.now, W), clock.now, now=clock.now)
                n += 1
            await asyncio.sleep(0.005)  # let some, not all, PUBACKs arrive first
            unacked_at_stop.update(json.loads(e.payload)["id"] for e in outbox.pending())
            broker.restart()
            await link.wait_connected(15)
        await phone.expect(TOPICS[0], count=n, timeout=20)
        for _ in range(300):
            if not outbox.pending():
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)
        await link.stop()

    try:
        asyncio.run(scenario())
    finally:
        phone.close()
    got = [json.loads(m.payload)["id"] for m in phone.messages(TOPICS[0])]
    assert set(got) == {f"n-{i}" for i in range(30)}  # every nudge arrived (some maybe only re-sent)
    # Re-sends by the broker to the phone carry DUP; the service's own re-sends are new publishes.
    fresh = [json.loads(m.payload)["id"] for m in phone.messages(TOPICS[0]) if not m.dup]
    repeated = {i for i in fresh if fresh.count(i) > 1}
    assert repeated <= unacked_at_stop
    assert outbox.pending() == []


def test_outbox_survives_a_service_restart(private_mosquitto: Broker, tmp_path: Path) -> None:
    """Queued while the broker is down, the service stops; the next run delivers from the file."""
    broker = private_mosquitto
    clock = Clock()
    phone = Phone(broker.port, TOPICS[1], client_id="phone-dl4", persistent=True)
    broker.stop()

    async def first_run() -> None:
        link, outbox = make_link(tmp_path, settings_for(broker.port), wearable=W)
        await link.start()
        link.publish_event(event("break_credited", clock.now), clock.now)
        await link.stop()
        outbox.close()

    async def second_run() -> None:
        link, _ = make_link(tmp_path, settings_for(broker.port), wearable=W)
        await link.start()
        await link.wait_connected(15)
        await phone.expect(TOPICS[1], timeout=15)
        await link.stop()

    try:
        asyncio.run(first_run())
        broker.start()
        asyncio.run(second_run())
    finally:
        phone.close()
    assert [json.loads(m.payload)["kind"] for m in phone.messages(TOPICS[1])] == ["break_credited"]


def test_latest_state_is_retained_and_resent_after_an_outage(
    private_mosquitto: Broker, tmp_path: Path
) -> None:
    broker = private_mosquitto
    clock = Clock()
    link, _ = make_link(tmp_path, settings_for(broker.port), wearable=W)
    state_topic = f"sitbreak/{W}/state"

    def state(posture: str) -> StatePayload:
        return StatePayload(
            ts=iso_time(clock.now), wearable=W, posture=posture, since=iso_time(clock.now - 60),
            current_bout_min=1.0, sitting_timer_s=60.0, worn=True, link="connected", battery=80,
            today=TodayTotals(sitting_min=1, standing_min=0, moving_min=0, lying_min=0, breaks=0, nudges=0),
            problem=None, waiting_s=0.0,
        )  # fmt: skip

    async def scenario() -> None:
        await link.start()
        await link.wait_connected(10)
        link.publish_state(state("sit"))
        broker.stop()
        for _ in range(500):
            if not link.connected:
                break
            await asyncio.sleep(0.01)
        link.publish_state(state("stand"))  # only the newest matters; it waits in memory
        broker.start()
        await link.wait_connected(15)
        await asyncio.sleep(0.3)
        await link.stop()

    asyncio.run(scenario())
    late = Phone(broker.port, state_topic)
    try:
        got = asyncio.run(late.expect(state_topic))
    finally:
        late.close()
    assert got[0].retain and json.loads(got[0].payload)["posture"] == "stand"


def test_a_nudge_handed_over_already_stale_is_recorded_not_sent(mosquitto: Broker, tmp_path: Path) -> None:
    clock = Clock()
    link, outbox = make_link(tmp_path, settings_for(mosquitto.port, nudge_max_age_min=15), wearable="dl9")
    phone = Phone(mosquitto.port, "sitbreak/dl9/nudge")

    async def scenario() -> None:
        await link.start()
        await link.wait_connected(10)
        old = link.publish_nudge(nudge("old", clock.now - 16 * 60, "dl9"), clock.now - 16 * 60, now=clock.now)
        link.publish_nudge(nudge("new", clock.now, "dl9"), clock.now, now=clock.now)
        await phone.expect("sitbreak/dl9/nudge")
        await asyncio.sleep(0.3)
        await link.stop()
        assert outbox.status(old) is OutboxStatus.EXPIRED

    try:
        asyncio.run(scenario())
    finally:
        phone.close()
    assert ids(phone, "sitbreak/dl9/nudge") == ["new"]


def test_messages_queued_in_a_transaction_leave_after_it_commits_and_never_if_it_rolls_back(
    mosquitto: Broker, tmp_path: Path
) -> None:
    """The service stores a decision and queues its message in one transaction. A message sent
    before that transaction commits could go out under an outbox id the rollback then frees, and
    the next message stored would get the same id: the first one's PUBACK would mark the second
    sent, and it would never be delivered. `sends_after` holds them until the commit."""
    clock = Clock()
    link, outbox = make_link(tmp_path, settings_for(mosquitto.port), wearable="dl10")
    topic = "sitbreak/dl10/event"
    phone = Phone(mosquitto.port, topic)

    async def scenario() -> None:
        await link.start()
        await link.wait_connected(10)
        with link.sends_after(), outbox._store.atomic():
            link.publish_event(event("held", clock.now), clock.now)
            await asyncio.sleep(0.3)
            assert phone.messages(topic) == [], "sent before the transaction committed"
        await phone.expect(topic)
        with pytest.raises(RuntimeError, match="rolled back"), link.sends_after(), outbox._store.atomic():
            link.publish_event(event("rolled_back", clock.now), clock.now)
            raise RuntimeError("rolled back")
        assert outbox.pending() == []
        link.publish_event(event("after", clock.now), clock.now)
        await phone.expect(topic, count=2)
        for _ in range(300):
            if not outbox.pending():
                break
            await asyncio.sleep(0.01)
        assert outbox.pending() == []
        await asyncio.sleep(0.3)
        await link.stop()

    try:
        asyncio.run(scenario())
    finally:
        phone.close()
        outbox.close()
    kinds = [json.loads(m.payload)["kind"] for m in phone.messages(topic)]
    assert kinds == ["held", "after"]
