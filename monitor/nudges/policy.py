"""The break policy: a state machine over per-second posture epochs, with time taken from the data.

Semantics (docs/policy.md has the full statement):

- The sitting timer counts sedentary (sit, lie) epochs that start inside active hours, since the last
  credited break. Upright time pauses it; non-wear and unknown freeze it.
- A credited break is `break_min` of continuous upright time (non-wear/unknown in between neither add
  nor interrupt); it clears the timer and any open nudge (recorded as followed).
- Prompts are scheduled in *counted sitting time*: the nudge at `nudge_after`, escalations every
  `escalate_after` after the previous prompt (at most `max_escalations`), and `escalate_after` after the
  last one the episode is recorded as ignored; a fresh gentle nudge follows after `renudge_after` more.
  A snooze moves the next prompt to `minutes` of further sitting; an ack cancels the remaining
  escalations. Prompts fire only on a sedentary epoch.
- A prompt that falls due while paused or in quiet hours is held (one SUPPRESSED event per reason) and
  sent at the first sedentary epoch when sending is allowed again.
- Entering an active-hours window starts a fresh timer (fairness at the start of the day: sitting
  before the window never counts); `reset_after_off` of continuous non-wear/missing data clears it too.

Pure: no I/O, no clock, no asyncio. Identical input gives identical events, also across a
snapshot/restore at any epoch boundary.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import tzinfo
from typing import Any

from monitor.core.records import NudgeLevel
from monitor.core.types import SEDENTARY, UPRIGHT, Epoch, EpochBlock, Posture, PostureCode
from monitor.nudges.commands import Ack, Command, Pause, Resume, Snooze
from monitor.nudges.events import EventKind, PolicyEvent, Reason
from monitor.nudges.library import ExerciseLibrary
from monitor.nudges.messages import compose_nudge
from monitor.nudges.schedule import Span
from monitor.nudges.settings import PolicySettings
from monitor.nudges.state import RECENT_EXERCISES_KEPT, SNAPSHOT_VERSION, DueKind, PolicyState

_LOGGER = logging.getLogger(__name__)

_POSTURE_BY_CODE: tuple[Posture, ...] = tuple(Posture[c.name] for c in PostureCode)


def _seconds(minutes: float) -> int:
    return round(minutes * 60)


class NudgePolicy:
    """Feed epochs and commands in data-time order; get the decisions back as events."""

    __slots__ = (
        "_break_s",
        "_counts",
        "_escalate_s",
        "_exercise_max_s",
        "_library",
        "_nudge_s",
        "_off_reset_s",
        "_out_of_order",
        "_renudge_s",
        "_s",
        "schedule",
        "settings",
        "wearable_id",
    )

    def __init__(
        self,
        settings: PolicySettings,
        exercises: ExerciseLibrary,
        tz: tzinfo,
        wearable_id: str = "",
    ) -> None:
        self.settings = settings
        self.schedule = settings.schedule(tz)
        self.wearable_id = wearable_id
        self._library = exercises
        self._nudge_s = _seconds(settings.nudge_after)
        self._break_s = _seconds(settings.break_min)
        self._escalate_s = _seconds(settings.escalate_after)
        self._renudge_s = _seconds(settings.renudge_after)
        self._off_reset_s = _seconds(settings.reset_after_off)
        self._exercise_max_s = _seconds(settings.exercise_max)
        self._counts: dict[str, int] = {}
        self._out_of_order = 0
        self._s = PolicyState.fresh(self._nudge_s)

    # ---- persistence -------------------------------------------------------------------------

    def snapshot(self) -> PolicyState:
        """A copy of the state, to save (`to_dict`) or to restore later."""
        return replace(self._s)

    def restore(self, snapshot: PolicyState) -> None:
        if snapshot.version != SNAPSHOT_VERSION:
            raise ValueError(f"policy snapshot version {snapshot.version} is not {SNAPSHOT_VERSION}")
        self._s = replace(snapshot)

    # ---- inputs ------------------------------------------------------------------------------

    def feed_epoch(self, epoch: Epoch) -> list[PolicyEvent]:
        events: list[PolicyEvent] = []
        self._step(float(epoch.t), epoch.label, events)
        return events

    def feed_epochs(self, epochs: Iterable[Epoch]) -> list[PolicyEvent]:
        events: list[PolicyEvent] = []
        for epoch in epochs:
            self._step(float(epoch.t), epoch.label, events)
        return events

    def feed(self, block: EpochBlock) -> list[PolicyEvent]:
        """Feed consecutive epochs [t0 + i, t0 + i + 1) labelled `labels[i]` (what the pipeline emits)."""
        events: list[PolicyEvent] = []
        t0 = float(block.t0)
        by_code = _POSTURE_BY_CODE
        for i, code in enumerate(block.labels.tolist()):
            self._step(t0 + i, by_code[code], events)
        return events

    def command(self, cmd: Command) -> list[PolicyEvent]:
        """Apply a validated phone command at data time `cmd.ts`."""
        events: list[PolicyEvent] = []
        match cmd:
            case Ack():
                self._ack(events, cmd)
            case Snooze():
                self._snooze(events, cmd)
            case Pause():
                self._pause(events, cmd)
            case Resume():
                self._resume(events, cmd)
        return events

    def _ack(self, events: list[PolicyEvent], cmd: Ack) -> None:
        s, t = self._s, float(cmd.ts)
        if s.episode_id is None:
            self._emit(
                events,
                EventKind.COMMAND_REJECTED,
                t,
                Reason.NO_OPEN_NUDGE,
                note="ack with no nudge open",
            )
        elif cmd.nudge_id is not None and cmd.nudge_id not in s.prompt_ids:
            self._emit(
                events,
                EventKind.COMMAND_REJECTED,
                t,
                Reason.STALE_NUDGE_ID,
                nudge_id=cmd.nudge_id,
                note="ack for a nudge that is no longer open",
            )
        else:
            s.acked = True
            s.held_reason = None
            s.due_at, s.due_kind = s.timer_s + self._escalate_s, DueKind.CLOSE
            self._emit(
                events,
                EventKind.ACKED,
                t,
                Reason.COMMAND,
                nudge_id=cmd.nudge_id or s.prompt_ids[-1],
                note="acknowledged: no more escalations for this nudge",
            )

    def _snooze(self, events: list[PolicyEvent], cmd: Snooze) -> None:
        s, t = self._s, float(cmd.ts)
        if cmd.nudge_id is not None and cmd.nudge_id not in s.prompt_ids:
            self._emit(
                events,
                EventKind.COMMAND_REJECTED,
                t,
                Reason.STALE_NUDGE_ID,
                nudge_id=cmd.nudge_id,
                note="snooze for a nudge that is no longer open",
            )
        else:
            granted = self.snooze_granted(cmd.minutes)
            s.snoozes += 1
            s.last_snooze_min = granted
            s.held_reason = None
            target = s.timer_s + _seconds(granted)
            if s.episode_id is not None:
                s.acked = False
                s.due_at, s.due_kind = target, DueKind.REMINDER
            else:
                s.due_at = max(s.due_at, target)
            self._emit(
                events,
                EventKind.SNOOZED,
                t,
                Reason.COMMAND,
                nudge_id=cmd.nudge_id or (s.prompt_ids[-1] if s.prompt_ids else None),
                minutes=granted,
                note=f"asked {cmd.minutes:g} min, granted {granted:g} min (snooze {s.snoozes} in this bout)",
            )

    def _pause(self, events: list[PolicyEvent], cmd: Pause) -> None:
        s, t = self._s, float(cmd.ts)
        until = min(float(cmd.until), t + _seconds(self.settings.pause_max))
        if until <= t:
            self._emit(
                events,
                EventKind.COMMAND_REJECTED,
                t,
                Reason.PAUSE_NOT_IN_FUTURE,
                until=float(cmd.until),
                note="pause end is not after the command",
            )
        else:
            s.paused_until = until
            note = f"paused ({cmd.reason})" if cmd.reason else "paused"
            if until < cmd.until:
                note += f"; shortened to pause_max = {self.settings.pause_max:g} min"
            self._emit(
                events,
                EventKind.PAUSED,
                t,
                Reason.COMMAND,
                until=until,
                minutes=(until - t) / 60,
                note=note,
            )

    def _resume(self, events: list[PolicyEvent], cmd: Resume) -> None:
        s, t = self._s, float(cmd.ts)
        if s.paused_until is None:
            self._emit(
                events,
                EventKind.COMMAND_REJECTED,
                t,
                Reason.NOT_PAUSED,
                note="resume while not paused",
            )
        else:
            s.paused_until = None
            self._emit(events, EventKind.RESUMED, t, Reason.COMMAND, note="resumed by the wearer")

    def snooze_granted(self, requested_min: float) -> float:
        """Minutes a snooze asking for `requested_min` gets now.

        Bounded to [snooze_min, snooze_max]; a repeated snooze in the same bout (no credited break in
        between) is at most `snooze_shrink` times the previous grant, never below snooze_min.
        """
        st = self.settings
        cap = st.snooze_max
        if self._s.last_snooze_min is not None:
            cap = max(st.snooze_min, self._s.last_snooze_min * st.snooze_shrink)
        return min(max(requested_min, st.snooze_min), cap)

    # ---- queries -----------------------------------------------------------------------------

    @property
    def sitting_s(self) -> int:
        """Counted sitting time now (what the `state` topic publishes as sitting_timer_s)."""
        return self._s.timer_s

    @property
    def open_nudge_id(self) -> str | None:
        return self._s.episode_id

    def prompt_within(self, sitting_s: float) -> bool:
        """True when the next prompt is at most `sitting_s` of counted sitting away and nothing holds
        it back (paused, or held for quiet hours and the like). The service then processes data more
        often, so the prompt is not up to a pipeline pass late."""
        s = self._s
        if s.paused_until is not None or s.held_reason is not None or s.due_kind == DueKind.CLOSE:
            return False
        return s.due_at - s.timer_s <= sitting_s

    def diagnostics(self) -> dict[str, Any]:
        s = self._s
        return {
            "wearable": self.wearable_id,
            "last_t": s.last_t,
            "sitting_s": s.timer_s,
            "bout_start": s.bout_start,
            "upright_s": s.upright_s,
            "off_s": s.off_s,
            "next": {"kind": s.due_kind, "at_sitting_s": s.due_at},
            "held_reason": s.held_reason,
            "open_nudge": s.episode_id,
            "escalations": s.escalations,
            "acked": s.acked,
            "snoozes_this_bout": s.snoozes,
            "paused_until": s.paused_until,
            "recent_exercises": list(s.recent_exercises),
            "exercises_usable": [ex.id for ex in self._library.usable],
            "exercises_excluded": dict(self._library.excluded),
            "events": dict(self._counts),
            "out_of_order_epochs": self._out_of_order,
        }

    # ---- the state machine -------------------------------------------------------------------

    def _step(self, t: float, label: Posture, events: list[PolicyEvent]) -> None:
        s = self._s
        if s.last_t is not None:
            if t < s.last_t + 1:
                # Duplicate or reordered epoch: the data already moved on; counting it again would
                # double the timer.
                self._out_of_order += 1
                if self._out_of_order in (1, 10, 100) or self._out_of_order % 1000 == 0:
                    _LOGGER.warning(
                        "policy %s: epoch at %.0f is not after %.0f; ignored (%d so far)",
                        self.wearable_id,
                        t,
                        s.last_t,
                        self._out_of_order,
                    )
                return
            gap = t - (s.last_t + 1)
            if gap > 0:
                s.off_s += gap  # missing data is unknown
        if s.paused_until is not None and t + 1 >= s.paused_until:
            until = s.paused_until
            s.paused_until = None
            self._emit(events, EventKind.RESUMED, until, Reason.PAUSE_ENDED, note="pause ended")
        if s.off_s >= self._off_reset_s:
            self._reset(events, t, Reason.NOT_WORN)
        active = self.schedule.active_span(t)
        if active.on and (s.last_t is None or s.last_t < active.start):
            self._reset(events, t, Reason.ACTIVE_HOURS_STARTED)
        s.last_t = t
        t_end = t + 1
        if label in SEDENTARY:
            s.off_s = 0.0
            s.upright_s = 0
            s.upright_start = None
            s.credited_run = False
            if active.on:
                if s.bout_start is None:
                    s.bout_start = t
                    self._emit(
                        events, EventKind.BOUT_STARTED, t, Reason.SAT_DOWN, note="sitting timer started"
                    )
                s.timer_s += 1
                self._on_sitting(events, t_end)
            elif s.held_reason is not None and s.held_reason != Reason.OUTSIDE_ACTIVE_HOURS:
                self._hold(events, t_end, Reason.OUTSIDE_ACTIVE_HOURS)
        elif label in UPRIGHT:
            s.off_s = 0.0
            if s.upright_s == 0:
                s.upright_start = t
            s.upright_s += 1
            if not s.credited_run and s.upright_s >= self._break_s:
                s.credited_run = True
                self._credit(events, t_end)
        else:
            s.off_s += 1
            if s.off_s >= self._off_reset_s:
                self._reset(events, t_end, Reason.NOT_WORN)

    def _on_sitting(self, events: list[PolicyEvent], t_end: float) -> None:
        s = self._s
        if s.held_reason is None and s.timer_s < s.due_at:
            return
        if s.held_reason is None and s.due_kind == DueKind.CLOSE:
            self._close(events, t_end)
            return
        # Judged at the moment the prompt would go out (the end of the epoch), so that nothing is
        # sent at the very instant quiet hours begin or active hours end.
        active = self.schedule.active_span(t_end)
        block = self._block_reason(t_end, active)
        if block is not None:
            if s.held_reason != block:
                self._hold(events, t_end, block)
            return
        self._send(events, t_end, active)

    def _block_reason(self, t: float, active: Span) -> Reason | None:
        if self._s.paused_until is not None and t < self._s.paused_until:
            return Reason.PAUSED
        if not active.on:
            return Reason.OUTSIDE_ACTIVE_HOURS
        if self.schedule.quiet_span(t).on:
            return Reason.QUIET_HOURS
        return None

    def _due_level(self) -> NudgeLevel:
        s = self._s
        if s.due_kind == DueKind.ESCALATION or (s.due_kind == DueKind.REMINDER and s.escalations):
            return NudgeLevel.ESCALATION
        return NudgeLevel.NUDGE

    def _hold(self, events: list[PolicyEvent], t: float, reason: Reason) -> None:
        self._s.held_reason = reason
        self._emit(
            events,
            EventKind.SUPPRESSED,
            t,
            reason,
            level=self._due_level(),
            nudge_id=self._s.episode_id,
            note=f"{self._s.due_kind} due, held back: {reason.replace('_', ' ')}",
        )

    def _nudge_id(self, t: float) -> str:
        # Data time only moves forward and at most one prompt is sent per epoch, so the id is unique
        # across restarts, and a replay after a crash reproduces it (the outbox dedupes on it).
        stamp = f"{int(t)}"
        return f"{self.wearable_id}-{stamp}" if self.wearable_id else stamp

    def _send(self, events: list[PolicyEvent], t: float, active: Span) -> None:
        s = self._s
        level = self._due_level()
        kind = s.due_kind
        was_held = s.held_reason is not None
        nudge_id = self._nudge_id(t)
        if kind == DueKind.NUDGE:
            s.episode_id, s.episode_t, s.prompt_ids = nudge_id, t, (nudge_id,)
            s.escalations, s.acked = 0, False
        else:
            s.prompt_ids = (*s.prompt_ids, nudge_id)
            if kind == DueKind.ESCALATION:
                s.escalations += 1
        s.held_reason = None
        if s.escalations < self.settings.max_escalations:
            s.due_at, s.due_kind = s.timer_s + self._escalate_s, DueKind.ESCALATION
        else:
            s.due_at, s.due_kind = s.timer_s + self._escalate_s, DueKind.CLOSE
        available = min(float(self._exercise_max_s), active.end - t)
        quiet = self.schedule.quiet_span(t)
        if not quiet.on:
            available = min(available, quiet.end - t)
        exercise = self._library.suggest(level, available, s.recent_exercises)
        if exercise is not None:
            s.recent_exercises = (*s.recent_exercises, exercise.id)[-RECENT_EXERCISES_KEPT:]
        message = compose_nudge(
            level,
            s.timer_s,
            exercise,
            break_min_s=self._break_s,
            snooze_minutes=self.snooze_granted(self.settings.snooze_default),
            reminder=kind == DueKind.REMINDER,
        )
        if was_held:
            reason = Reason.HELD_PROMPT
        elif kind == DueKind.REMINDER:
            reason = Reason.SNOOZE_ENDED
        elif kind == DueKind.ESCALATION:
            reason = Reason.NO_BREAK
        else:
            reason = Reason.TIMER_REACHED
        self._emit(
            events,
            EventKind.NUDGE if level is NudgeLevel.NUDGE else EventKind.ESCALATION,
            t,
            reason,
            nudge_id=nudge_id,
            level=level,
            message=message,
            note=f"{kind} after {s.timer_s / 60:.0f} min of sitting"
            + (f", suggesting {exercise.id}" if exercise else ""),
        )

    def _close(self, events: list[PolicyEvent], t: float) -> None:
        s = self._s
        note = f"no break after {_prompts(len(s.prompt_ids))}"
        self._emit(
            events,
            EventKind.IGNORED,
            t,
            Reason.NO_BREAK,
            nudge_id=s.episode_id,
            note=f"{note}, though acknowledged" if s.acked else note,
        )
        self._clear_episode()
        s.due_at, s.due_kind = s.timer_s + self._renudge_s, DueKind.NUDGE

    def _clear_episode(self) -> None:
        s = self._s
        s.episode_id = s.episode_t = None
        s.prompt_ids = ()
        s.escalations = 0
        s.acked = False
        s.held_reason = None

    def _credit(self, events: list[PolicyEvent], t: float) -> None:
        s = self._s
        if s.bout_start is not None or s.episode_id is not None:
            self._emit(
                events,
                EventKind.BREAK_CREDITED,
                t,
                Reason.UPRIGHT,
                break_start=s.upright_start,
                note=f"upright for {self._break_s / 60:g} min",
            )
            if s.episode_id is not None and s.episode_t is not None and s.upright_start is not None:
                delay = s.upright_start - s.episode_t
                self._emit(
                    events,
                    EventKind.FOLLOWED,
                    t,
                    Reason.UPRIGHT,
                    nudge_id=s.episode_id,
                    delay_s=delay,
                    break_start=s.upright_start,
                    note=f"stood up {delay / 60:.1f} min after the nudge",
                )
        self._clear_bout()

    def _reset(self, events: list[PolicyEvent], t: float, reason: Reason) -> None:
        s = self._s
        if s.episode_id is not None:
            self._emit(
                events,
                EventKind.EXPIRED,
                t,
                reason,
                nudge_id=s.episode_id,
                note=f"outcome unknown: {reason.replace('_', ' ')}",
            )
        if s.bout_start is not None or s.timer_s:
            self._emit(
                events, EventKind.TIMER_RESET, t, reason, note=f"timer cleared: {reason.replace('_', ' ')}"
            )
        if reason == Reason.NOT_WORN:
            s.upright_s = 0
            s.upright_start = None
            s.credited_run = False
        self._clear_bout()

    def _clear_bout(self) -> None:
        s = self._s
        self._clear_episode()
        s.timer_s = 0
        s.bout_start = None
        s.due_at, s.due_kind = self._nudge_s, DueKind.NUDGE
        s.snoozes = 0
        s.last_snooze_min = None

    def _emit(
        self,
        events: list[PolicyEvent],
        kind: EventKind,
        t: float,
        reason: Reason,
        **extra: Any,
    ) -> None:
        s = self._s
        event = PolicyEvent(
            kind=kind, t=t, reason=reason, sitting_s=float(s.timer_s), bout_start=s.bout_start, **extra
        )
        self._counts[kind] = self._counts.get(kind, 0) + 1
        _LOGGER.debug("policy %s: %s at %.0f (%s) %s", self.wearable_id, kind, t, reason, event.note)
        events.append(event)


def _prompts(n: int) -> str:
    return "1 prompt" if n == 1 else f"{n} prompts"
