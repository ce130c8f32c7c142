"""From what the service knows to the JSON the phone receives: the policy's decisions
(`monitor.nudges.events.PolicyEvent`) to `nudge` and `event`, the live state to `state`.

Pure functions: the service calls them and hands the result to `MqttLink.publish_*`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo

from monitor.core.timefmt import iso_time
from monitor.core.types import Posture
from monitor.mqtt.payloads import (
    ActionButton,
    EventPayload,
    NudgePayload,
    StatePayload,
    TodayTotals,
    encode,
    posture_word,
)
from monitor.nudges.commands import Action
from monitor.nudges.events import TIME_FIELDS, PolicyEvent
from monitor.nudges.messages import NudgeAction

# The pause button says why, so the report can tell meetings from other pauses.
MEETING_REASON = "meeting"


def action_command(action: NudgeAction, nudge_id: str) -> str:
    """The exact JSON a button publishes on `cmd` (what `monitor.mqtt.commands` accepts)."""
    body: dict[str, object] = {"action": str(action.action)}
    match action.action:
        case Action.ACK | Action.SNOOZE:
            body["nudge_id"] = nudge_id
            if action.action is Action.SNOOZE and action.minutes is not None:
                body["minutes"] = action.minutes
        case Action.PAUSE:
            body["minutes"] = action.minutes
            body["reason"] = MEETING_REASON
        case Action.RESUME:
            pass
    return encode(body).decode()


def nudge_payload(event: PolicyEvent, wearable: str, tz: tzinfo | None = None) -> NudgePayload:
    """The `nudge` message for a NUDGE or ESCALATION event (which carry a message and an id)."""
    if not event.is_prompt or event.message is None or event.nudge_id is None or event.level is None:
        raise ValueError(f"policy event {event.kind} at {event.t} is not a prompt with a message")
    msg = event.message
    level = event.level
    payload = NudgePayload(
        id=event.nudge_id,
        ts=iso_time(event.t, tz),
        wearable=wearable,
        level=level,
        event_type=level,
        title=msg.title,
        message=msg.body,
        sitting_min=round(event.sitting_s / 60.0, 1),
        actions=[
            ActionButton(action=str(a.action), label=a.label, payload=action_command(a, event.nudge_id))
            for a in msg.actions
        ],
    )
    if msg.exercise is not None:
        payload["exercise"] = msg.exercise.payload()
    return payload


def event_payload(event: PolicyEvent, wearable: str, tz: tzinfo | None = None) -> EventPayload:
    """The `event` message for any policy decision: its `detail()` with times as ISO like `ts`."""
    out = EventPayload(
        ts=iso_time(event.t, tz), wearable=wearable, kind=str(event.kind), reason=str(event.reason)
    )
    if event.nudge_id is not None:
        out["nudge_id"] = event.nudge_id
    detail: dict[str, object] = {}
    for key, value in event.detail().items():
        if key == "sitting_s":
            detail["sitting_min"] = round(float(value) / 60.0, 1)
        elif key in TIME_FIELDS:
            detail[key] = iso_time(float(value), tz)
        elif key == "delay_s":
            detail[key] = round(float(value), 1)
        elif key != "nudge_id":
            detail[key] = value
    out["detail"] = detail
    return out


def problem_payload(
    area: str,
    problem: str | None,
    *,
    now: float,
    wearable: str,
    tz: tzinfo | None = None,
    waiting_s: float = 0.0,
    written_s: float = 0.0,
    dropped_s: float = 0.0,
) -> EventPayload:
    """The `event` saying that something keeps the service from its whole job (kind `problem`,
    `reason` the area, e.g. storage; `waiting_s` of data wait to be written), or (`problem` None)
    that it no longer does (`problem_cleared`: `written_s` that waited were written, `dropped_s`
    had to be dropped)."""
    detail: dict[str, object] = {"problem": problem or "", "waiting_s": round(waiting_s, 1)}
    if problem is None:
        detail.update(written_s=round(written_s, 1), dropped_s=round(dropped_s, 1))
    return EventPayload(
        ts=iso_time(now, tz),
        wearable=wearable,
        kind="problem" if problem is not None else "problem_cleared",
        reason=area,
        detail=detail,
    )


@dataclass(frozen=True, slots=True)
class TodayCounts:
    """The local day's totals so far, as `monitor.reports.daily.day_totals` counts them."""

    posture_s: Mapping[Posture, int] = field(default_factory=dict)  # seconds per posture
    breaks: int = 0
    nudges: int = 0  # prompts of every level in the rounds begun today (the report's `prompts`)


@dataclass(slots=True)
class LiveState:
    """What the retained `state` message shows, as plain values the service keeps current."""

    posture: Posture = Posture.UNKNOWN
    posture_since: float | None = None  # data time the current posture bout began
    link_up: bool = False
    battery: int | None = None  # percent, None until the wearable reports it
    sitting_timer_s: float = 0.0
    today: TodayCounts = field(default_factory=TodayCounts)
    problem: str | None = None  # what is wrong (the store cannot be written, ...), None when all is well
    waiting_s: float = 0.0  # data seconds waiting in memory to be written


def _minutes(seconds: int) -> float:
    return round(seconds / 60.0, 1)


def state_payload(state: LiveState, now: float, wearable: str, tz: tzinfo | None = None) -> StatePayload:
    """The `state` message at data time `now`. Without the link the posture is not known (it may
    have changed since), except non-wear: a device lying on a desk out of range is still off-body.
    An unknown posture is published as `no_data` (`posture_word`: `unknown` is Home Assistant's own
    "no value")."""
    since = state.posture_since if state.posture_since is not None else now
    shown = state.posture
    if not state.link_up and shown is not Posture.NON_WEAR:
        shown = Posture.UNKNOWN
    seconds = state.today.posture_s
    return StatePayload(
        ts=iso_time(now, tz),
        wearable=wearable,
        posture=posture_word(shown),
        since=iso_time(since, tz),
        current_bout_min=round(max(0.0, now - since) / 60.0, 1),
        sitting_timer_s=float(state.sitting_timer_s),
        worn=shown not in (Posture.NON_WEAR, Posture.UNKNOWN),
        link="connected" if state.link_up else "lost",
        battery=state.battery,
        today=TodayTotals(
            sitting_min=_minutes(seconds.get(Posture.SIT, 0)),
            standing_min=_minutes(seconds.get(Posture.STAND, 0)),
            moving_min=_minutes(seconds.get(Posture.MOVE, 0) + seconds.get(Posture.CYCLE, 0)),
            lying_min=_minutes(seconds.get(Posture.LIE, 0)),
            breaks=state.today.breaks,
            nudges=state.today.nudges,
        ),
        problem=state.problem,
        waiting_s=round(state.waiting_s, 1),
    )
