"""What the simulated schedule says should happen, and what the store says did happen.

Truth comes from `firmware_sim.motion` schedules (one label per scheduled second); expected policy
decisions come from the pure `NudgePolicy` fed that truth (plus the phone's commands, at the data
times the service recorded them). Observations come from the service's SQLite store only, never from
its internals, so a test checks what a user of the database (the reports) would see.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo

import numpy as np

from firmware_sim.motion import Activity, Segment
from monitor.core.types import Epoch, Posture, PostureCode
from monitor.nudges import (
    Ack,
    Command,
    EventKind,
    ExerciseLibrary,
    NudgePolicy,
    Pause,
    PolicySettings,
    Reason,
    Resume,
    Snooze,
)
from monitor.store import Store

TRUTH_CODES: dict[Activity, PostureCode] = {
    Activity.SIT: PostureCode.SIT,
    Activity.LIE: PostureCode.LIE,
    Activity.STAND: PostureCode.STAND,
    Activity.WALK: PostureCode.MOVE,
    Activity.RUN: PostureCode.MOVE,
    Activity.STAIRS_UP: PostureCode.MOVE,
    Activity.STAIRS_DOWN: PostureCode.MOVE,
    Activity.CYCLE: PostureCode.CYCLE,
    Activity.DESK: PostureCode.NON_WEAR,
}
# Seconds this close to a scheduled change are not compared: the schedule switches instantly, a body
# (rendered over ~2 s) and a 2 s analysis window do not.
TRANSITION_MARGIN_S = 5
# Decisions that follow from the labels (prompts and episode outcomes), compared with the truth replay.
DECISIONS = frozenset({EventKind.NUDGE, EventKind.ESCALATION, EventKind.FOLLOWED, EventKind.IGNORED})
# How far the live policy's epochs may trail the data time a command is stamped with.
MAX_EPOCH_LAG_S = 300
_ASKED = re.compile(r"asked ([0-9.]+) min")


@dataclass(frozen=True, slots=True)
class Truth:
    """One label per second of the schedule, from `start` (data time of its first second)."""

    start: int
    codes: np.ndarray  # uint8, PostureCode per second
    comparable: np.ndarray  # bool: far enough from a scheduled change to compare

    @classmethod
    def of(cls, schedule: Sequence[Segment], start: float) -> Truth:
        codes: list[int] = []
        edges: list[int] = []
        for seg in schedule:
            n = round(seg.duration_s)
            codes.extend([TRUTH_CODES[seg.activity]] * n)
            edges.append(len(codes))
        comparable = np.ones(len(codes), dtype=bool)
        for edge in edges:
            comparable[max(0, edge - TRANSITION_MARGIN_S) : edge + TRANSITION_MARGIN_S] = False
        return cls(int(start), np.asarray(codes, dtype=np.uint8), comparable)

    @property
    def end(self) -> int:
        return self.start + len(self.codes)

    def window(self, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = start - self.start, end - self.start
        return self.codes[a:b], self.comparable[a:b]

    def seconds(self, start: int, end: int) -> Counter[PostureCode]:
        codes, _ = self.window(start, end)
        return Counter({PostureCode(c): int(n) for c, n in enumerate(np.bincount(codes, minlength=7)) if n})


@dataclass(frozen=True, slots=True)
class Decision:
    kind: EventKind
    t: float
    nudge_id: str | None
    reason: str = ""

    @property
    def from_command(self) -> bool:
        """Made by a phone command (a pause that runs out also says `resumed`, on its own)."""
        return self.reason == str(Reason.COMMAND) or self.kind is EventKind.COMMAND_REJECTED


@dataclass(frozen=True, slots=True)
class AppliedCommand:
    """A command as the service's policy applied it: at data time `command.ts`, but to a policy
    whose epochs lag that by the pipeline's latency, when its sitting timer read `sitting_s`."""

    command: Command
    sitting_s: float


def stored_labels(store: Store, wearable: str, start: int, end: int) -> np.ndarray:
    span = store.epochs.read(wearable, start, end)
    return np.asarray(span.labels, dtype=np.uint8)


def stored_decisions(store: Store, wearable: str, start: float, end: float) -> list[Decision]:
    return [
        Decision(EventKind(r.kind), float(r.ts), r.detail.get("nudge_id"), r.reason)
        for r in store.policy_events.between(wearable, start, end)
    ]


def stored_commands(store: Store, wearable: str, start: float, end: float) -> list[AppliedCommand]:
    """The phone's commands as the policy applied them (rejected ones are left out)."""
    out: list[AppliedCommand] = []
    for r in store.policy_events.between(wearable, start, end):
        if r.reason != str(Reason.COMMAND):
            continue
        kind = EventKind(r.kind)
        command: Command
        if kind is EventKind.SNOOZED:
            asked = _ASKED.search(str(r.detail.get("note", "")))
            minutes = float(asked.group(1)) if asked else float(r.detail["minutes"])
            command = Snooze(r.ts, minutes)
        elif kind is EventKind.ACKED:
            command = Ack(r.ts)
        elif kind is EventKind.PAUSED:
            command = Pause(r.ts, float(r.detail["until"]))
        elif kind is EventKind.RESUMED:
            command = Resume(r.ts)
        else:
            continue
        out.append(AppliedCommand(command, float(r.detail.get("sitting_s", 0.0))))
    return out


def replay_truth(
    truth: Truth, start: int, end: int, commands: Sequence[AppliedCommand], *, tz: tzinfo, wearable: str
) -> list[Decision]:
    """The pure policy fed the schedule's labels for [start, end), with the phone's commands.

    Snooze and ack count from the sitting timer, so they are applied where the service's policy
    applied them: when the replay's timer reaches the value recorded with the decision (the live
    policy sees epochs a minute or two of data after the samples, so that is before `ts`). A pause ends
    at a stated time and is applied at `ts`.
    """
    policy = NudgePolicy(PolicySettings(), ExerciseLibrary.default(), tz, wearable_id=wearable)
    pending = sorted(commands, key=lambda c: c.command.ts)
    codes, _ = truth.window(start, end)
    events = []
    for i, code in enumerate(codes.tolist()):
        t = start + i
        while pending and _due(pending[0], t, policy.sitting_s):
            events.extend(policy.command(pending.pop(0).command))
        events.extend(policy.feed_epoch(Epoch(float(t), Posture.from_code(code))))
    return [Decision(e.kind, e.t, e.nudge_id, str(e.reason)) for e in events if e.kind in DECISIONS]


def _due(applied: AppliedCommand, t: float, sitting_s: float) -> bool:
    cmd = applied.command
    if t + 1 > cmd.ts:
        return True
    timer_based = isinstance(cmd, (Snooze, Ack))
    return timer_based and t >= cmd.ts - MAX_EPOCH_LAG_S and sitting_s >= applied.sitting_s


def match_decisions(
    expected: Sequence[Decision], got: Sequence[Decision], tolerance_s: float, optional: Sequence[float] = ()
) -> list[str]:
    """Problems (empty when fine): every expected decision must appear once, of the same kind, within
    `tolerance_s`; anything else found must lie within `tolerance_s` of an `optional` time."""
    remaining = [d for d in got if d.kind in DECISIONS]
    problems = []
    for want in expected:
        hit = next((g for g in remaining if g.kind == want.kind and abs(g.t - want.t) <= tolerance_s), None)
        if hit is None:
            problems.append(f"missing {want.kind} at {want.t:.0f}")
        else:
            remaining.remove(hit)
    for extra in remaining:
        if not any(extra.t - tolerance_s <= t0 <= extra.t + tolerance_s for t0 in optional):
            problems.append(f"unexpected {extra.kind} at {extra.t:.0f}")
    return problems
