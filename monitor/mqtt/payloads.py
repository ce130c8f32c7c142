"""The JSON shapes published and accepted, one TypedDict each (the MQTT contract in DESIGN.md).

Every outgoing message carries `ts` (ISO-8601 with a UTC offset) and `wearable`. Times inside the
service are data time (float seconds since the Unix epoch, UTC); `monitor.core.timefmt.iso_time`
converts at this edge.
"""

from __future__ import annotations

import json
from typing import NotRequired, TypedDict

from monitor.core.records import NudgeLevel
from monitor.core.types import Posture
from monitor.nudges.exercises import ExercisePayload

STATUS_ONLINE = "online"
STATUS_OFFLINE = "offline"

# `state.posture` when the posture is not known (no data, link lost). Home Assistant reserves
# `unknown` for "this entity has no value", so a posture called `unknown` could not be told from a
# sensor that never got a message: on MQTT the word is our own. Stored epochs, reports and exports
# keep `unknown`.
POSTURE_NO_DATA = "no_data"


def posture_word(posture: Posture) -> str:
    """How `state.posture` (and Home Assistant's posture entity) names a posture."""
    return POSTURE_NO_DATA if posture is Posture.UNKNOWN else posture.value


# Every value `state.posture` can take, in `Posture`'s order: the posture entity's enum options.
STATE_POSTURES: tuple[str, ...] = tuple(posture_word(p) for p in Posture)


def encode(payload: object) -> bytes:
    """Compact UTF-8 JSON. NaN/inf are refused: they are not JSON and phones choke on them."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


class TodayTotals(TypedDict):
    sitting_min: float
    standing_min: float
    moving_min: float
    lying_min: float
    breaks: int
    nudges: int


class StatePayload(TypedDict):
    """`state`, retained: what a dashboard shows now."""

    ts: str
    wearable: str
    posture: str  # one of STATE_POSTURES: sit, lie, stand, move, cycle, non_wear, no_data
    since: str  # ISO time the current posture bout began
    current_bout_min: float
    sitting_timer_s: float
    worn: bool
    link: str  # "connected" | "lost"
    battery: int | None  # percent, None until the wearable reports it
    today: TodayTotals
    # What keeps the service from doing its whole job, in words ("storage: the disk is full"), or
    # None; and how many seconds of data wait in memory to be written (0 when none).
    problem: str | None
    waiting_s: float


class ActionButton(TypedDict):
    """A button the phone can show; `payload` is what to publish on `cmd` when pressed."""

    action: str
    label: str
    payload: str


class NudgePayload(TypedDict):
    """`nudge`, QoS 1, not retained. `event_type` repeats `level` for Home Assistant's event entity."""

    id: str
    ts: str
    wearable: str
    level: NudgeLevel
    event_type: NudgeLevel
    title: str
    message: str
    sitting_min: float
    exercise: NotRequired[ExercisePayload]
    actions: list[ActionButton]


class EventPayload(TypedDict):
    """`event`: bout / break / nudge outcome / command, as the policy records it."""

    ts: str
    wearable: str
    kind: str
    reason: NotRequired[str]
    nudge_id: NotRequired[str]
    detail: NotRequired[dict[str, object]]


class DailyReportPayload(TypedDict):
    """`report/daily`, retained: the day's summary as `monitor.reports` computes it."""

    ts: str
    wearable: str
    date: str  # YYYY-MM-DD, local day
    summary: dict[str, object]
