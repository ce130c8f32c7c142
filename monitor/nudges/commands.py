"""Commands the wearer sends back from the phone, already validated.

`monitor.mqtt` parses and bounds the JSON on the `cmd` topic into these; the policy consumes them.
`ts` is data time (float seconds since the Unix epoch, UTC) at which the command takes effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    ACK = "ack"
    SNOOZE = "snooze"
    PAUSE = "pause"
    RESUME = "resume"


@dataclass(frozen=True, slots=True)
class Ack:
    """The wearer saw the nudge; stop escalating this one."""

    ts: float
    nudge_id: str | None = None
    action: Action = Action.ACK


@dataclass(frozen=True, slots=True)
class Snooze:
    """Ask again in `minutes` (the policy bounds and shortens repeated snoozes)."""

    ts: float
    minutes: float
    nudge_id: str | None = None
    action: Action = Action.SNOOZE


@dataclass(frozen=True, slots=True)
class Pause:
    """No nudges until `until` (data time seconds): a meeting, do-not-disturb."""

    ts: float
    until: float
    reason: str | None = None
    action: Action = Action.PAUSE


@dataclass(frozen=True, slots=True)
class Resume:
    """End a pause early."""

    ts: float
    action: Action = Action.RESUME


Command = Ack | Snooze | Pause | Resume
