"""What the break policy remembers between epochs, and the form it is saved in.

One mutable record: the policy works on it, `NudgePolicy.snapshot()` hands out a copy, and
`to_dict` / `from_dict` are the saved form (the store keeps it as opaque JSON), so a restart resumes
the sitting timer, snoozes and pauses exactly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any

from monitor.nudges.events import Reason

SNAPSHOT_VERSION = 1
# Exercise ids remembered for rotation; more than any sensible `no_repeat`.
RECENT_EXERCISES_KEPT = 20


class DueKind(StrEnum):
    """What happens when the counted sitting time reaches `due_at`."""

    NUDGE = "nudge"  # first prompt of a new episode
    ESCALATION = "escalation"
    REMINDER = "reminder"  # the prompt a snooze asked for
    CLOSE = "close"  # record the episode as ignored (not a send: never held)


@dataclass(slots=True)
class PolicyState:
    """Everything the policy remembers: enough to continue exactly where it stopped (plain,
    JSON-friendly through `to_dict` / `from_dict`, which is how the service saves it).

    Times are data time (s). Integer counters are whole seconds of counted time.
    """

    version: int
    last_t: float | None  # start of the last epoch fed
    timer_s: int  # counted sedentary seconds since the last credited break / reset
    bout_start: float | None
    upright_s: int  # current continuous upright run
    upright_start: float | None
    credited_run: bool  # the current upright run has already been credited
    off_s: float  # current continuous non-wear / unknown / missing-data time
    due_at: int  # counted seconds at which `due_kind` happens
    due_kind: str
    held_reason: str | None  # a due prompt is held back, last recorded reason
    episode_id: str | None  # first prompt of the open episode
    episode_t: float | None
    prompt_ids: tuple[str, ...]  # every prompt of the open episode
    escalations: int
    acked: bool
    snoozes: int  # snoozes granted in this bout
    last_snooze_min: float | None
    paused_until: float | None
    recent_exercises: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["prompt_ids"] = list(self.prompt_ids)
        d["recent_exercises"] = list(self.recent_exercises)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PolicyState:
        """Inverse of `to_dict`; raises ValueError on a different version or missing keys, so the
        caller can start fresh instead of resuming from a state it does not understand."""
        if data.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"policy snapshot version {data.get('version')!r} is not {SNAPSHOT_VERSION}")
        names = {f.name for f in fields(cls)}
        missing = sorted(names - set(data))
        if missing:
            raise ValueError(f"policy snapshot lacks {', '.join(missing)}")
        values = {k: data[k] for k in names}
        values["prompt_ids"] = tuple(values["prompt_ids"])
        values["recent_exercises"] = tuple(values["recent_exercises"])
        DueKind(values["due_kind"])
        if values["held_reason"] is not None:
            Reason(values["held_reason"])
        return cls(**values)

    @classmethod
    def fresh(cls, nudge_s: int) -> PolicyState:
        """The state of a policy that has seen nothing: the first nudge due at `nudge_s` of sitting."""
        return cls(
            version=SNAPSHOT_VERSION,
            last_t=None,
            timer_s=0,
            bout_start=None,
            upright_s=0,
            upright_start=None,
            credited_run=False,
            off_s=0.0,
            due_at=nudge_s,
            due_kind=DueKind.NUDGE,
            held_reason=None,
            episode_id=None,
            episode_t=None,
            prompt_ids=(),
            escalations=0,
            acked=False,
            snoozes=0,
            last_snooze_min=None,
            paused_until=None,
            recent_exercises=(),
        )
