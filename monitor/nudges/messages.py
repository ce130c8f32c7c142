"""What the phone shows: a pure function from the policy's decision to title, body and buttons.

Tone: kind and brief, never shaming. Every body ends with the same short footer saying this is no
substitute for medical advice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from monitor.core.records import NudgeLevel
from monitor.nudges.commands import Action
from monitor.nudges.exercises import Exercise

DISCLAIMER = "A general wellness tip, not medical advice. Skip anything that hurts."
# "In a meeting" button: long enough for a typical meeting, short enough to be forgotten safely.
MEETING_PAUSE_MIN = 60.0


@dataclass(frozen=True, slots=True)
class NudgeAction:
    """A button on the notification; `minutes` for snooze and pause."""

    action: Action
    label: str
    minutes: float | None = None


@dataclass(frozen=True, slots=True)
class NudgeMessage:
    title: str
    body: str  # ends with `footer`, so clients that show only the body still show it
    level: NudgeLevel
    exercise: Exercise | None
    actions: tuple[NudgeAction, ...]
    footer: str = DISCLAIMER


def _about(seconds: float) -> str:
    if seconds < 60:
        return f"about {round(seconds)} s"
    return f"about {round(seconds / 60)} min"


def _minutes(seconds: float) -> str:
    n = math.floor(seconds / 60)
    return "1 minute" if n == 1 else f"{n} minutes"


def _number(minutes: float) -> str:
    return f"{minutes:g}"


def compose_nudge(
    level: NudgeLevel,
    sitting_s: float,
    exercise: Exercise | None,
    *,
    break_min_s: float,
    snooze_minutes: float,
    reminder: bool = False,
) -> NudgeMessage:
    """Title, body and buttons for one prompt.

    sitting_s:      counted sitting time now (the number the wearer reads).
    break_min_s:    upright time that resets the timer, told so the wearer knows what counts.
    snooze_minutes: what the snooze button will actually grant (after the shortening rule).
    reminder:       this prompt is the one a snooze asked for.
    """
    sat = _minutes(sitting_s)
    stay_up = f"Staying up for {_minutes(break_min_s)} restarts the sitting timer."
    if level is NudgeLevel.NUDGE:
        title = "Your reminder: time to stand up" if reminder else "Time for a stretch break"
        opening = f"You've been sitting for {sat}."
    else:
        title = "Still sitting: a short walk would help"
        opening = f"{sat[0].upper()}{sat[1:]} of sitting so far."
    if exercise is None:
        suggestion = f"Stand up and move around for {_minutes(break_min_s)}; your hips will thank you."
        tail = ""
    else:
        suggestion = f"How about {exercise.name.lower()}: {exercise.summary} ({_about(exercise.duration_s)})?"
        if not exercise.upright:
            tail = f"Then stand up and move around; {stay_up[0].lower()}{stay_up[1:]}"
        elif exercise.duration_s < break_min_s:
            tail = stay_up
        else:
            tail = ""
        if exercise.caution:
            tail = f"{tail} {exercise.caution}".strip()
    body = " ".join(part for part in (opening, suggestion, tail) if part)
    actions = (
        NudgeAction(Action.ACK, "OK"),
        NudgeAction(Action.SNOOZE, f"Snooze {_number(snooze_minutes)} min", snooze_minutes),
        NudgeAction(Action.PAUSE, "In a meeting (1 h)", MEETING_PAUSE_MIN),
    )
    return NudgeMessage(
        title=title,
        body=f"{body}\n{DISCLAIMER}",
        level=level,
        exercise=exercise,
        actions=actions,
    )
