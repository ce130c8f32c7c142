"""Break policy and exercise library: pure, driven by epochs carrying data time.

Public API (see docs/policy.md for the semantics):

    policy = NudgePolicy(PolicySettings(), ExerciseLibrary.default(ExerciseSettings()),
                         ZoneInfo("Europe/Berlin"), wearable_id="thigh1")
    events = policy.feed(epoch_block)      # or feed_epoch(epoch) / feed_epochs(iterable)
    events += policy.command(Snooze(ts=..., minutes=10))
    store.save(policy.snapshot().to_dict()); policy.restore(PolicyState.from_dict(saved))
"""

from monitor.nudges.commands import Ack, Action, Command, Pause, Resume, Snooze
from monitor.nudges.events import EventKind, PolicyEvent, Reason
from monitor.nudges.exercises import Condition, Exercise, ExerciseKind, Intensity, Need, parse_exercise
from monitor.nudges.library import ExerciseLibrary
from monitor.nudges.messages import DISCLAIMER, NudgeAction, NudgeMessage, compose_nudge
from monitor.nudges.policy import NudgePolicy
from monitor.nudges.settings import ExerciseSettings, PolicySettings
from monitor.nudges.state import PolicyState

__all__ = [
    "DISCLAIMER",
    "Ack",
    "Action",
    "Command",
    "Condition",
    "EventKind",
    "Exercise",
    "ExerciseKind",
    "ExerciseLibrary",
    "ExerciseSettings",
    "Intensity",
    "Need",
    "NudgeAction",
    "NudgeMessage",
    "NudgePolicy",
    "Pause",
    "PolicyEvent",
    "PolicySettings",
    "PolicyState",
    "Reason",
    "Resume",
    "Snooze",
    "compose_nudge",
    "parse_exercise",
]
