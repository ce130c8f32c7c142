"""Outbox delivery bookkeeping: which outbox entry each paho message id carries, what the broker has
acknowledged, and which nudges went stale before they could be shown.

Nudges, events and reports go through the durable `Outbox` first and leave it only on the broker's
PUBACK (at-least-once). On every reconnect paho's own in-memory retry queue is dropped (`forget`) and
the outbox is replayed instead (`flush`), so each message has one owner and a broker restart
delivers it once. Staleness is judged on data time handed in by the caller (`now`): this module
has no clock. Event loop thread only.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from monitor.core.outbox import OutboxEntry, OutboxKind
from monitor.mqtt.connection import QOS, properties
from monitor.mqtt.errors import MqttCodeError
from monitor.mqtt.outbox import Outbox
from monitor.mqtt.ratelimit import RateLimitedLog

# The link's own logger: its lines keep one name in the journal whichever module writes them.
_LOGGER = logging.getLogger("monitor.mqtt.client")

CONTENT_TYPE_JSON = "application/json"


def json_properties() -> Properties:
    props = properties(PacketTypes.PUBLISH)
    props.ContentType = CONTENT_TYPE_JSON
    return props


class OutboxDelivery:
    """Messages of one link between the outbox and paho: mid <-> outbox id while in flight."""

    def __init__(
        self,
        outbox: Outbox,
        nudge_max_age_min: float,
        *,
        where: str,
        counts: Counter[str],
        warnings: RateLimitedLog,
    ) -> None:
        self.outbox = outbox
        self.where = where  # the broker, for log lines
        self.nudge_max_age_s = nudge_max_age_min * 60.0
        self.counts = counts  # the link's counters, shared
        self._warnings = warnings
        # mid -> outbox id of messages handed to paho and not yet acknowledged, and the reverse.
        self._inflight: dict[int, int] = {}
        self._mid_of: dict[int, int] = {}
        # While the caller's transaction is open (`held`): entries queued, sent once it commits.
        self._held: list[OutboxEntry] | None = None

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    def enqueue(
        self,
        client: paho.Client | None,
        topic: str,
        data: bytes,
        *,
        retain: bool,
        kind: OutboxKind,
        data_ts: float,
        now: float,
    ) -> int:
        """Store a message durably (QoS 1), then hand it to paho when `client` is given (connected).
        A nudge already stale at data time `now` (a backlog replayed after a restart) is recorded
        as expired and never shown. Returns its outbox id."""
        entry_id = self.outbox.enqueue(topic, data, QOS, retain, kind, data_ts)
        self.counts[f"{kind}_queued"] += 1
        if kind is OutboxKind.NUDGE and now - data_ts > self.nudge_max_age_s:
            self.expire_stale(now)
        elif self._held is not None:
            self._held.append(OutboxEntry(entry_id, topic, data, QOS, retain, kind, data_ts))
        elif client is not None:
            self.send(client, OutboxEntry(entry_id, topic, data, QOS, retain, kind, data_ts), now)
        else:
            _LOGGER.info(
                "mqtt: broker %s not connected; %s %d kept in the outbox", self.where, kind, entry_id
            )
        return entry_id

    def hold(self) -> list[OutboxEntry] | None:
        """Keep what is queued from now on from the broker until `release` (the caller's transaction
        commits) or `discard` (it rolled back: the entries' rows, and their ids, are gone, and a
        message sent under such an id could have a later message marked sent by its PUBACK).
        Returns what was held before (nested holds), for `release`/`discard` to restore."""
        outer = self._held
        self._held = []
        return outer

    def release(self, client: paho.Client | None, outer: list[OutboxEntry] | None, now: float) -> None:
        """The transaction committed: send what was held (or hand it to the enclosing hold)."""
        held, self._held = self._held or [], outer
        if outer is not None:
            outer.extend(held)
            return
        for entry in held:
            if client is not None:
                self.send(client, entry, now)
            else:
                _LOGGER.info(
                    "mqtt: broker %s not connected; %s %d kept in the outbox",
                    self.where,
                    entry.kind,
                    entry.id,
                )

    def discard(self, outer: list[OutboxEntry] | None) -> None:
        """The transaction rolled back: what was held was never stored; forget it."""
        self._held = outer

    def send(self, client: paho.Client, entry: OutboxEntry, now: float) -> None:
        props = json_properties()
        if entry.kind is OutboxKind.NUDGE:
            # The broker drops it for a phone that stays offline past the nudge's useful life.
            remaining = self.nudge_max_age_s - (now - entry.created_ts)
            props.MessageExpiryInterval = max(1, int(remaining))
        info = client.publish(entry.topic, entry.payload, entry.qos, entry.retain, props)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            self._warnings.log(
                "publish",
                "mqtt: cannot queue %s %d: %s; it stays in the outbox",
                entry.kind,
                entry.id,
                paho.error_string(info.rc),
            )
            return
        # NO_CONN: paho holds it until the next connect, where on_connect drops it and we re-send it.
        self._inflight[info.mid] = entry.id
        self._mid_of[entry.id] = info.mid

    def expire_stale(self, now: float) -> None:
        for stale in self.outbox.expire(OutboxKind.NUDGE, now - self.nudge_max_age_s, now):
            self.counts["nudge_expired"] += 1
            _LOGGER.warning(
                "mqtt: nudge %d not delivered within %.0f min of its time; dropped as stale",
                stale.id,
                self.nudge_max_age_s / 60.0,
            )

    def forget(self, dropped_mids: Iterable[int]) -> None:
        """paho dropped these messages (on reconnect): they are no longer in flight."""
        for mid in dropped_mids:
            entry_id = self._inflight.pop(mid, None)
            if entry_id is not None:
                self._mid_of.pop(entry_id, None)

    def flush(self, client: paho.Client, now: float) -> None:
        """After a connect: expire what went stale, send every pending entry not in flight."""
        self.expire_stale(now)
        sent = 0
        for entry in self.outbox.pending():
            if entry.id not in self._mid_of:
                self.send(client, entry, now)
                sent += 1
        if sent:
            _LOGGER.info("mqtt: re-sending %d message(s) from the outbox", sent)

    def acknowledged(self, mid: int, code: int, reason: str, failure: bool, *, now: float) -> None:
        """The broker's PUBACK for `mid`: the entry leaves the outbox (or, refused, stays)."""
        entry_id = self._inflight.pop(mid, None)
        if entry_id is None:
            return
        self._mid_of.pop(entry_id, None)
        if failure:
            err = MqttCodeError(code, reason, "check the broker's ACL for this user and topic")
            self._warnings.log(
                "puback", "mqtt: broker refused message %d: %s; it stays in the outbox", entry_id, err
            )
            return
        self.outbox.mark_sent(entry_id, now)
        self.counts["delivered"] += 1
