"""The demo's console "phone": an ordinary MQTT client that shows nudges and answers some of them.

It knows nothing of sitbreak's internals: it subscribes to the documented topics and presses the
buttons a nudge offers (their `payload` goes to `cmd`), as the Home Assistant companion app would.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

# How the simulated person answers the n-th prompt (cycled): a realistic mix of snoozing, doing
# nothing, and saying "done" / pausing for a meeting.
DEFAULT_ANSWERS: tuple[str, ...] = ("snooze", "none", "ack", "pause", "none", "ack")
PAUSE_MINUTES = 45


@dataclass
class PhoneLog:
    """What the phone saw, for the demo's closing lines and its end-to-end test."""

    nudges: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    answers: list[tuple[str, str]] = field(default_factory=list)  # (nudge id, answer)
    reports: list[dict[str, Any]] = field(default_factory=list)
    states: int = 0


def _clock(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%H:%M")
    except ValueError:
        return "--:--"


class ConsolePhone:
    def __init__(
        self,
        host: str,
        port: int,
        prefix: str,
        out: TextIO,
        *,
        answers: tuple[str, ...] = DEFAULT_ANSWERS,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.prefix = prefix
        self.log = PhoneLog()
        self._out = out
        self._answers = answers
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._echo = echo or self._print
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id="sitbreak-demo-phone")
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = lambda *_a: self._subscribed.set()
        self._client.on_message = self._on_message
        self._host, self._port = host, port

    def _print(self, line: str) -> None:
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()

    async def start(self, timeout: float = 10.0) -> None:
        """Connect and subscribe; waits in a thread so a broker on this event loop can answer."""
        self._client.connect_async(self._host, self._port, keepalive=30)
        self._client.loop_start()
        if not await asyncio.to_thread(self._subscribed.wait, timeout):
            raise RuntimeError(f"demo phone: no subscription at {self._host}:{self._port}")

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client: paho.Client, *_args: object) -> None:
        client.subscribe(
            [
                (f"{self.prefix}/+/nudge", 1),
                (f"{self.prefix}/+/event", 1),
                (f"{self.prefix}/+/report/daily", 1),
                (f"{self.prefix}/+/state", 0),
            ]
        )

    def _on_message(self, client: paho.Client, _userdata: object, msg: paho.MQTTMessage) -> None:
        try:
            payload = json.loads(msg.payload)
        except ValueError:
            return
        if not isinstance(payload, dict):
            return
        kind = msg.topic.rsplit("/", 1)[-1]
        if msg.topic.endswith("/report/daily"):
            self.log.reports.append(payload)
            self._echo(
                f"  [{_clock(payload.get('ts', ''))}] phone: daily report received for {payload.get('date')}"
            )
        elif kind == "nudge":
            self._on_nudge(client, msg.topic, payload)
        elif kind == "event":
            self.log.events.append(payload)
            self._on_event(payload)
        elif kind == "state":
            self.log.states += 1

    def _on_nudge(self, client: paho.Client, topic: str, nudge: dict[str, Any]) -> None:
        self.log.nudges.append(nudge)
        level = "ESCALATION" if nudge.get("level") == "escalation" else "nudge"
        exercise = nudge.get("exercise") or {}
        self._echo(
            f"  [{_clock(nudge.get('ts', ''))}] phone: {level} after {nudge.get('sitting_min', 0):.0f} min: "
            f"{nudge.get('title', '')}"
        )
        if exercise:
            self._echo(f"           suggests: {exercise.get('name', '')} ({exercise.get('duration_s', 0)} s)")
        answer = self._answers[(len(self.log.nudges) - 1) % len(self._answers)]
        actions = {a.get("action"): a.get("payload") for a in nudge.get("actions", [])}
        cmd_topic = topic.rsplit("/", 1)[0] + "/cmd"
        payload: str | None = None
        if answer in ("snooze", "ack") and actions.get(answer):
            payload = str(actions[answer])
        elif answer == "pause":
            payload = json.dumps({"action": "pause", "minutes": PAUSE_MINUTES, "reason": "meeting"})
        if payload is None:
            self._echo("           (no answer)")
            return
        self.log.answers.append((str(nudge.get("id")), answer))
        words = {
            "snooze": "taps Snooze",
            "ack": "taps Done",
            "pause": f"pauses {PAUSE_MINUTES} min for a meeting",
        }
        self._echo(f"           person {words[answer]}")
        client.publish(cmd_topic, payload, qos=1)

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("kind")
        detail = event.get("detail") or {}
        at = _clock(event.get("ts", ""))
        if kind == "followed":
            delay = detail.get("delay_s")
            self._echo(
                f"  [{at}] sitbreak: break taken"
                + (f", {delay / 60:.0f} min after the nudge" if delay else "")
            )
        elif kind == "ignored":
            # The service's note says how many prompts went out and whether one was acknowledged.
            note = detail.get("note") or "no break after the nudge"
            self._echo(f"  [{at}] sitbreak: {note}; kept sitting")
        elif kind == "snoozed":
            self._echo(f"  [{at}] sitbreak: snoozed for {detail.get('minutes', 0):g} min")
        elif kind == "paused":
            self._echo(f"  [{at}] sitbreak: paused until {_clock(str(detail.get('until', '')))}")
        elif kind == "link_lost":
            self._echo(f"  [{at}] sitbreak: lost the wearable ({event.get('reason', '')}), reconnecting")
