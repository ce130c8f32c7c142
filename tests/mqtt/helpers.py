"""Shared helpers for the MQTT tests: settings for a test broker, a link with a real outbox file."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from monitor.core.records import NudgeLevel
from monitor.core.timefmt import iso_time
from monitor.mqtt.client import MqttLink
from monitor.mqtt.convert import action_command
from monitor.mqtt.payloads import ActionButton, NudgePayload
from monitor.mqtt.settings import MqttSettings
from monitor.nudges.commands import Action
from monitor.nudges.messages import NudgeAction
from monitor.store import Store
from monitor.store.outbox import StoreOutbox


def settings_for(port: int, **overrides: object) -> MqttSettings:
    """Fast reconnects so broker restarts heal within a second or two."""
    base = MqttSettings(host="127.0.0.1", port=port, reconnect_min_s=1, reconnect_max_s=1, keepalive_s=10)
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


class FileOutbox(StoreOutbox):
    """The service's own outbox (a `Store`'s table) over a file of its own, closable like an exit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._store = Store.open(path)
        super().__init__(self._store.db)

    def close(self) -> None:
        self._store.close()


class Clock:
    """Data time the test controls (epochs fed faster or slower than the wall); the test hands it to
    the link as the service does (`publish_nudge(..., now=)`, `advance`, `stamp`)."""

    def __init__(self, start: float | None = None) -> None:
        self.now = start if start is not None else time.time()

    def __call__(self) -> float:
        return self.now


def make_link(tmp_path: Path, settings: MqttSettings, wearable: str = "w1") -> tuple[MqttLink, FileOutbox]:
    outbox = FileOutbox(tmp_path / f"outbox-{wearable}.db")
    link = MqttLink(settings, wearable, outbox)
    return link, outbox


def nudge(nudge_id: str, data_ts: float, wearable: str = "w1") -> NudgePayload:
    return NudgePayload(
        id=nudge_id,
        ts=iso_time(data_ts),
        wearable=wearable,
        level=NudgeLevel.NUDGE,
        event_type=NudgeLevel.NUDGE,
        title="Time for a stretch",
        message="You have sat for 30 minutes. Stand up and walk for two minutes.",
        sitting_min=30.0,
        actions=[
            ActionButton(action=str(a.action), label=a.label, payload=action_command(a, nudge_id))
            for a in (NudgeAction(Action.ACK, "Done"), NudgeAction(Action.SNOOZE, "Snooze 10 min", 10))
        ],
    )
