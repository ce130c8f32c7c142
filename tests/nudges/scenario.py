"""A compact script language for minute-by-minute policy scenarios.

    "S30m U119s S5m @snooze:10 S20m"

Posture tokens: a letter and a duration (h, m, s parts, e.g. 1h5m, 2m30s, 119s):
    S sit   L lie   U stand   M move   C cycle   N non_wear   X unknown   _ no data at all (a gap)
Command tokens act at the current data time:
    @ack  @ack:<nudge_id>  @snooze:<min>  @snooze:<min>:<nudge_id>  @pause:<min>  @resume
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.core.types import Epoch, Posture
from monitor.nudges import (
    Ack,
    Command,
    EventKind,
    ExerciseLibrary,
    NudgePolicy,
    Pause,
    PolicyEvent,
    PolicySettings,
    Resume,
    Snooze,
)

BERLIN = ZoneInfo("Europe/Berlin")
# A Wednesday, inside the default active hours (08:00-18:00 on weekdays).
WED_0900 = datetime(2026, 11, 25, 9, 0, tzinfo=BERLIN)

LABELS = {
    "S": Posture.SIT,
    "L": Posture.LIE,
    "U": Posture.STAND,
    "M": Posture.MOVE,
    "C": Posture.CYCLE,
    "N": Posture.NON_WEAR,
    "X": Posture.UNKNOWN,
}
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
# Kinds a scenario lists by default: the decisions, not the bookkeeping.
DEFAULT_KINDS = frozenset(EventKind) - {EventKind.BOUT_STARTED}

Item = Epoch | Command


def seconds(text: str) -> int:
    m = _DURATION.match(text)
    if not text or m is None:
        raise ValueError(f"bad duration {text!r}")
    h, mi, s = (int(g) if g else 0 for g in m.groups())
    return h * 3600 + mi * 60 + s


def items(script: str, start: float) -> Iterator[Item]:
    t = float(start)
    for token in script.split():
        if token.startswith("@"):
            name, *args = token[1:].split(":")
            cmd: Command
            if name == "ack":
                cmd = Ack(ts=t, nudge_id=args[0] if args else None)
            elif name == "snooze":
                cmd = Snooze(ts=t, minutes=float(args[0]), nudge_id=args[1] if len(args) > 1 else None)
            elif name == "pause":
                cmd = Pause(ts=t, until=t + float(args[0]) * 60)
            elif name == "resume":
                cmd = Resume(ts=t)
            else:
                raise ValueError(f"bad command {token!r}")
            yield cmd
            continue
        letter, duration = token[0], seconds(token[1:])
        if letter == "_":
            t += duration
            continue
        label = LABELS[letter]
        for _ in range(duration):
            yield Epoch(t, label)
            t += 1


def feed(policy: NudgePolicy, stream: Sequence[Item] | Iterator[Item]) -> list[PolicyEvent]:
    events: list[PolicyEvent] = []
    for item in stream:
        if isinstance(item, Epoch):
            events += policy.feed_epoch(item)
        else:
            events += policy.command(item)
    return events


@dataclass
class Run:
    policy: NudgePolicy
    events: list[PolicyEvent]
    start: float
    kinds: frozenset[EventKind] = field(default=DEFAULT_KINDS)

    def lines(self, kinds: frozenset[EventKind] | None = None) -> list[str]:
        """ "mm:ss kind" (plus the reason for suppressed/reset/expired) relative to the start."""
        wanted = kinds or self.kinds
        out = []
        for e in self.events:
            if e.kind not in wanted:
                continue
            m, s = divmod(round(e.t - self.start), 60)
            line = f"{m}:{s:02d} {e.kind}"
            if e.kind in (EventKind.SUPPRESSED, EventKind.TIMER_RESET, EventKind.EXPIRED):
                line += f" {e.reason}"
            out.append(line)
        return out

    def of(self, kind: EventKind) -> list[PolicyEvent]:
        return [e for e in self.events if e.kind == kind]


def make_policy(settings: PolicySettings | None = None, tz: ZoneInfo = BERLIN) -> NudgePolicy:
    return NudgePolicy(settings or PolicySettings(), ExerciseLibrary.default(), tz, wearable_id="w1")


def run(
    script: str,
    *,
    settings: PolicySettings | None = None,
    start: datetime = WED_0900,
    policy: NudgePolicy | None = None,
) -> Run:
    policy = policy or make_policy(settings, start.tzinfo)  # type: ignore[arg-type]
    t0 = start.timestamp()
    return Run(policy, feed(policy, items(script, t0)), t0)
