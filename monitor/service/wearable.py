"""One wearable, wired end to end: link -> pipeline -> policy -> store and MQTT.

The pipeline and the policy are pure and run on data time; this module only moves their inputs and
outputs between the I/O edges. Everything one block of samples causes (epochs, closed bouts, policy
decisions, the policy's state) is written in one transaction before anything is published, so a crash
never publishes what the store does not hold, and the outbox re-sends what was stored but not yet
acknowledged.

Each block from the link gets a pipeline pass. Its live labels (seconds behind the samples) drive the
policy and `state`; they and the held ones are stored at once, the final ones over them later
(epoch_ledger.py), so a crash loses only what had not reached a pass (docs/design.md, "Crash loss").

Data time flows one way: the service hands it to the MQTT link (`advance`, `publish_nudge(now=)`)
and stamps the phone's commands with it when it takes them (`MqttLink.stamp`); the link never asks.
The `state` message is built by `monitor.mqtt.convert.state_payload` from a `LiveState` record kept
here, with today's totals from `TodayTally` (the daily report's own function); the daily report is
`DailyReporter`'s job.

Every write goes through a `StoreWriter` (a storage fault keeps the data path going, the data waiting
in memory), every long-lived task runs under the daemon's `Supervisor`, and each packet block, link
event and command is handled on its own (`Isolation`): one that raises is logged, counted and dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time as time_module
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from functools import partial
from pathlib import Path
from typing import cast

from monitor.config import Config, WearableSettings
from monitor.core.links import LinkEvent, LinkEventKind
from monitor.core.timefmt import iso_time, utc_text
from monitor.core.types import Posture, SampleBlock
from monitor.heap import release_free_memory
from monitor.mqtt import EventPayload, MqttError, MqttLink
from monitor.mqtt.convert import (
    LiveState,
    TodayCounts,
    event_payload,
    nudge_payload,
    problem_payload,
    state_payload,
)
from monitor.mqtt.discovery import DeviceDescription
from monitor.nudges.events import PolicyEvent
from monitor.nudges.library import ExerciseLibrary
from monitor.nudges.policy import NudgePolicy
from monitor.nudges.state import PolicyState
from monitor.pipeline import BoutTracker, PostureStream, StreamOutput, UprightReference
from monitor.pipeline.reference import ReferenceDict
from monitor.reports.daily import CONTEXT_S
from monitor.reports.days import day_bounds, local_date
from monitor.service import units
from monitor.service.daily_reporter import DailyReporter
from monitor.service.epoch_ledger import EpochLedger
from monitor.service.guard import HoldBegan, StoredDataGuard
from monitor.service.outbox import ResilientOutbox
from monitor.service.stalls import stall_check
from monitor.service.supervisor import Isolation, Supervisor, TaskHandle
from monitor.service.today_tally import TodayTally
from monitor.service.writer import StoreWriter, WriteUnit
from monitor.store import ResumeState, Store
from monitor.store.calibration import Calibration, SavedPolicy
from monitor.wearables.clockwatch import CLOCK_STEP_TOLERANCE_S
from monitor.wearables.hostclock import behind_cause, clock_synchronised
from monitor.wearables.link import WearableLink
from monitor.wearables.profiles import StreamConfig, make_profile
from monitor.wearables.scanner import WearableTarget

_LOGGER = logging.getLogger(__name__)

# The retained `state` is refreshed at least this often (data time) even when nothing changes, so a
# dashboard's "sitting for" counter stays current; posture and link changes publish at once.
STATE_EVERY_S = 60.0
# The policy's state is saved with every pass that fed it (units.pipeline_pass), and with the learned
# upright reference (which changes only while walking) this often (data time) and at stop.
SNAPSHOT_EVERY_S = 60.0
# Retention pruning runs once per this much data time.
PRUNE_EVERY_S = 6 * 3600.0
# Where `pipeline.process_every_s` batches passes (the default, 0, does not), a pass is asked for every
# PROMPT_PASS_S of data while a prompt is at most a batch plus PROMPT_NEAR_S of sitting away.
PROMPT_NEAR_S = 120.0
PROMPT_PASS_S = 5.0
# With no data coming in (device off, out of range) the report time is checked on the host clock at
# least this often (wall seconds); short enough to follow a clock step, long enough to cost nothing.
REPORT_CHECK_MAX_S = 60.0

# Link events worth a line on the `event` topic (the phone or Home Assistant may act on them).
_PUBLISHED_LINK_EVENTS = frozenset(
    {LinkEventKind.CONNECTED, LinkEventKind.RECONNECTED, LinkEventKind.LOST, LinkEventKind.GAP}
)


@dataclass(slots=True)
class _DataDeadlines:
    """Data times at which the periodic work of the data path is next due."""

    state: float = -math.inf  # publish `state` (sooner on a posture or link change)
    snapshot: float = -math.inf  # save the policy and the upright reference
    prune: float = -math.inf  # drop what is past the retention period


class WearableService:
    """Runs one `[[wearables]]` entry until `stop()`."""

    def __init__(
        self,
        wearable: WearableSettings,
        config: Config,
        store: Store,
        tz: tzinfo,
        *,
        report_dir: Path | None = None,
        clock: Callable[[], float] | None = None,
        reports_on_host_clock: bool = True,
        supervisor: Supervisor | None = None,
    ) -> None:
        """`clock` is the host's UTC clock the link maps device time with (the demo passes a
        simulated one so that a day replayed fast lands on the right local hours). `supervisor`
        runs the tasks (the daemon's, which ends the process when one keeps failing).

        `reports_on_host_clock`: the daily report goes out when data time or `clock` passes the
        report time, whichever is first (a wearable that is off still gets its report, and one due
        while the service was down goes out at start). False leaves it to data time alone, for a
        simulated clock that runs ahead of the data (the demo's: on a busy machine the data trails
        the sped-up clock, and a report timed on the clock would miss the end of the day)."""
        self.wearable = wearable
        self.id = wearable.id
        self.config = config
        self.store = store
        self.tz = tz
        self._clock = clock or time_module.time
        self._reports_on_host_clock = reports_on_host_clock
        profile = make_profile(wearable.profile, StreamConfig(wearable.rate_hz, wearable.range_g))
        self.link = WearableLink(
            WearableTarget.from_config(wearable.address, wearable.name, wearable.service_uuid),
            profile,
            config.link,
            wall_clock=self._clock,
        )
        # Replaced at start, when the store says where its data ends.
        self.guard = StoredDataGuard(None, jitter_s=CLOCK_STEP_TOLERANCE_S, period_s=profile.period_s)
        library = ExerciseLibrary.default(config.exercises)
        self.policy = NudgePolicy(config.policy_for(self.id), library, tz, wearable_id=self.id)
        self.bouts = BoutTracker()
        self.stream: PostureStream | None = None
        outbox = ResilientOutbox(store.outbox)
        # With [mqtt] enabled = false the monitor runs without a phone: store and reports only.
        self.mqtt: MqttLink | None = None
        if config.mqtt.enabled:
            self.mqtt = MqttLink(
                config.mqtt,
                self.id,
                outbox,
                device=DeviceDescription(name=f"sitbreak {self.id}", model=profile.title),
            )
        hold = self.mqtt.sends_after if self.mqtt is not None else None
        self.writer = StoreWriter(self.id, store, outbox, hold=hold, on_problem=self._storage_problem)
        self.reports = DailyReporter(
            self.id,
            wearable.placement,
            store,
            tz,
            config.report,
            mqtt=self.mqtt,
            report_dir=report_dir,
            writer=self.writer,
        )
        self._data_now: float | None = None
        # Where the live epochs fed to the policy, the final ones and the provisional ones end.
        self.epochs = EpochLedger()
        # What `state` shows; today's totals come from the tally when it is published.
        self.live = LiveState()
        self.today = TodayTally(tz, config.report.min_break_s)
        self._due = _DataDeadlines()
        # A prompt is close (see PROMPT_NEAR_S): the service asks for pipeline passes more often.
        self._prompt_near = False
        self._resumed = False
        self.supervisor = supervisor or Supervisor()
        self._tasks: list[TaskHandle] = []
        self.counts: Counter[str] = Counter()

    # ------------------------------------------------------------------ lifecycle

    def policy_now(self) -> float:
        """Data time the policy has reached: the end of the last (live) epoch it was fed.

        Commands from the phone are stamped with it when the service takes them, and it is the data
        time handed to the MQTT link (nudge staleness), because live epochs trail their samples by a
        few seconds (longer while non-wear holds a still device): a snooze must count from where the
        sitting timer is, not from the newest sample."""
        end = self.epochs.live_end
        return end if end is not None else self.data_now()

    def data_now(self) -> float:
        """Current data time: the end of the newest sample seen, else the wall clock (nothing yet)."""
        if self._data_now is None:
            return self._clock()
        return self._data_now

    async def start(self) -> None:
        # Data timed at or before what is stored (a restart with the host clock behind: no real-time
        # clock, NTP not synced yet) would overwrite it: the guard holds it back until the clock passes.
        self.guard = StoredDataGuard(
            self.store.stored_until(self.id),
            jitter_s=CLOCK_STEP_TOLERANCE_S,
            period_s=self.link.profile.period_s,
        )
        self._restore_policy()
        self.reports.start(self._clock())
        run = self.supervisor.spawn
        self._tasks = [
            run(f"{self.id} link", self.link.run),
            run(f"{self.id} data", self._consume),
            run(f"{self.id} store retry", self.writer.run),
        ]
        if self._reports_on_host_clock:
            self._tasks.append(run(f"{self.id} report timer", self._report_timer))
        if self.mqtt is not None:
            # Before any data, data time is the host clock: the outbox's nudges are judged on it.
            self.mqtt.advance(self.policy_now())
            await self.mqtt.start()
            self._tasks += [
                run(f"{self.id} commands", self._commands),
                run(f"{self.id} mqtt watcher", self._watch_mqtt, ends=True),
            ]
        stalled = stall_check(self.id, lambda: self.reports.building_since, lambda: self.link.state)
        self.supervisor.watch(f"{self.id} stalls", stalled)
        _LOGGER.info(
            "%s: looking for %s (%s, %s placement)",
            self.id,
            self.link.target.describe(),
            self.wearable.profile,
            self.wearable.placement,
        )

    def _restore_policy(self) -> None:
        """The sitting timer, snoozes and pauses as last saved. Restored before MQTT starts, so that a
        command the phone sends before the wearable's first data (a pause while it is out of range)
        acts on the saved state and is kept, instead of being replaced by it later."""
        saved = self.store.snapshots.load(self.id)
        if saved is None:
            return
        try:
            self.policy.restore(PolicyState.from_dict(json.loads(saved.state)))
        except (ValueError, KeyError, TypeError) as exc:
            _LOGGER.warning("%s: saved policy state unusable (%s); starting afresh", self.id, exc)
            return
        _LOGGER.info("%s: resumed the sitting timer at %d min", self.id, self.policy.sitting_s // 60)

    async def stop(self) -> None:
        """Stop streaming, flush what the pipeline holds, save state, publish `offline`."""
        await self.link.stop()
        self.supervisor.unwatch(f"{self.id} stalls")
        await self.supervisor.cancel(self._tasks)
        # Drain what arrived before the stop so no received second is lost, and keep the link's
        # last events (its "lost: stopped" and the tallies it flushes on the way out).
        isolation = Isolation(f"{self.id} data", self.counts)
        while self.link.queue.qsize():
            item = self.link.queue.get_nowait()
            with isolation.item("a block at stop"):
                self._take(item)
        if self.stream is not None:
            with isolation.item("the last epochs"):
                self._on_output(self.stream.flush_live())
        # A report being built (or one the drained data made due) is marked and queued before the
        # link to the broker goes.
        await self.reports.wait()
        # The policy was restored at start, so even before any data (none yet, or held back while the
        # clock is behind the store) this keeps the saved state plus any command taken since.
        self._save_state(force=True)
        self.writer.close()
        self.live.link_up = False
        self._publish_state()
        if self.mqtt is not None:
            await self.mqtt.stop()

    def diagnostics(self) -> dict[str, object]:
        return {
            "link": dict(self.link.diagnostics()),
            "guard": self.guard.diagnostics(),
            "mqtt": self.mqtt.diagnostics() if self.mqtt is not None else {"enabled": False},
            "policy": self.policy.diagnostics(),
            "store": self.writer.diagnostics(),
            "counts": dict(self.counts),
        }

    def trouble(self) -> list[str]:
        """What is wrong, for systemd's STATUS line (empty while all is well)."""
        out = [self.writer.status()] if self.writer.problem is not None else []
        out += filter(None, [self.link.clock_trouble()])
        errors = self.counts["errors"] + self.supervisor.failures(f"{self.id} ")
        if errors:
            out.append(f"{errors} error{'s' if errors != 1 else ''} (see the journal)")
        return out

    # ------------------------------------------------------------------ inputs

    async def _consume(self) -> None:
        isolation = Isolation(f"{self.id} data", self.counts)
        while True:
            item = await self.link.get()
            with isolation.item("a sample block" if isinstance(item, SampleBlock) else "a link event"):
                self._take(item)

    def _take(self, item: SampleBlock | LinkEvent) -> None:
        if isinstance(item, SampleBlock):
            self._on_block(item)
        else:
            self._on_link_event(item)

    async def _commands(self) -> None:
        assert self.mqtt is not None
        isolation = Isolation(f"{self.id} commands", self.counts)
        async for request in self.mqtt.commands():
            with isolation.item(f"the command {request.action}"):
                # Stamped with the data time the policy has reached as it takes the command (a snooze
                # counts from where the sitting timer is); too old by then: rejected by the link.
                command = self.mqtt.stamp(request, self.policy_now())
                if command is None:
                    continue
                self.counts["commands"] += 1
                self._handle_events(self.policy.command(command))

    async def _watch_mqtt(self) -> None:
        assert self.mqtt is not None
        error: MqttError = await self.mqtt.wait_fatal()
        _LOGGER.error(
            "%s: MQTT gave up: %s. Nudges wait in the outbox until the configuration is fixed "
            "(edit the [mqtt] section, then `systemctl reload sitbreak`)",
            self.id,
            error,
        )

    def status_word(self) -> str:
        """What `systemctl status` shows for this wearable: the link's state, or `holding` while data
        is held back because the host clock is behind the stored data."""
        return "holding" if self.guard.holding else self.link.state.value

    def _on_block(self, block: SampleBlock) -> None:
        admitted = self.guard.admit(block)
        if admitted.began is not None:
            self._hold_began(admitted.began)
        if admitted.ended is not None:
            self._hold_ended(admitted.ended)
        if admitted.block is None or len(admitted.block) == 0:
            return
        block = admitted.block
        if not self._resumed:
            self._resume(float(block.t[0]))
        assert self.stream is not None
        self._data_now = float(block.t[-1])
        self._on_output(self.stream.feed_live(block, process_now=self._prompt_pass_due(block)))
        self._periodic()

    def _prompt_pass_due(self, block: SampleBlock) -> bool:
        """A pass now, PROMPT_PASS_S of data after the last one, because a prompt is close."""
        if not self._prompt_near:
            return False
        assert self.stream is not None
        since = self.stream.queued_since
        first = since if since is not None else float(block.t[0])
        return float(block.t[-1]) - first >= PROMPT_PASS_S

    def _resume(self, first_t: float) -> None:
        """First data since start: record the downtime as unknown and pick up saved state."""
        state = self._resume_store(first_t)
        reference = _reference_from(state.calibration)
        if reference is not None and reference.placement != self.wearable.placement:
            reference = None  # the wearable moved to another placement: learn afresh
        # The rate the device really runs at, as the link learned it on connecting (a micro:bit V1
        # reads back 80 ms for 20), not the configured one.
        placement, settings = self.wearable.placement, self.config.pipeline
        self.stream = PostureStream(placement, self.link.rate_hz, settings, reference=reference, live=True)
        if state.gap is not None:
            _LOGGER.info(
                "%s: %d s without data before this start, stored as unknown",
                self.id,
                state.gap[1] - state.gap[0],
            )
        self._load_today(first_t)
        self._resumed = True

    def _resume_store(self, first_t: float) -> ResumeState:
        """`Store.resume`, or during a storage fault its write waiting in order with the others
        (the saved reference read as it is; the downtime is recorded when the write goes through)."""
        done: list[ResumeState] = []
        if self.writer.submit(WriteUnit("the downtime", lambda s: done.append(s.resume(self.id, first_t)))):
            return done[0]
        return ResumeState(None, None, None, False, self.store.calibration.load(self.id))

    def _load_today(self, now_t: float) -> None:
        """Today so far from the store, from CONTEXT_S before midnight as the report reads it."""
        day = local_date(now_t, self.tz)
        start, end = day_bounds(day, self.tz)
        labels = self.store.epochs.read(self.id, start - CONTEXT_S, math.floor(now_t))
        self.today.load(day, labels, self.store.nudges.history(self.id, start, end))

    def _hold_began(self, began: HoldBegan) -> None:
        if not began.noted:
            _LOGGER.debug("%s: %.2f s of data overlap what is recorded; dropped", self.id, began.behind_s)
            return
        _LOGGER.warning(
            "%s: the wearable's data is timed %s, %.0f s before data already recorded up to %s; dropping "
            "it (counted, nothing recorded is overwritten) until the clock passes that. Likely cause: %s",
            self.id,
            utc_text(began.first_t),
            began.behind_s,
            utc_text(began.floor),
            behind_cause(clock_synchronised()),
        )

    def _hold_ended(self, held: LinkEvent) -> None:
        count = held.count or 0
        _LOGGER.info(
            "%s: data time has passed %s; %d samples (%.0f s) timed before it were dropped",
            self.id,
            utc_text(held.t),
            count,
            self.guard.seconds_of(count),
        )
        self._on_link_event(held)

    def _on_link_event(self, event: LinkEvent) -> None:
        event = self.guard.event(event)
        self.counts[f"link_{event.kind}"] += 1
        if event.kind in (LinkEventKind.CONNECTED, LinkEventKind.RECONNECTED):
            self.live.link_up = True
        elif event.kind is LinkEventKind.LOST:
            self.live.link_up = False
        elif event.kind is LinkEventKind.BATTERY:
            self.live.battery = event.level
        publish = None
        if event.kind in _PUBLISHED_LINK_EVENTS and self.mqtt is not None:
            payload = EventPayload(
                ts=iso_time(event.t, self.tz),
                wearable=self.id,
                kind=f"link_{event.kind}",
                reason=event.reason,
            )
            if event.seconds is not None:
                payload["detail"] = {"seconds": round(event.seconds, 1)}
            publish = partial(self.mqtt.publish_event, payload, event.t)
        self.writer.submit(units.link_event(self.id, event, publish))
        self._publish_state()

    # ------------------------------------------------------------------ outputs

    def _on_output(self, out: StreamOutput) -> None:
        """A pass: live epochs to the policy, final ones to the bouts, all new ones to the store in
        one unit (epoch_ledger.py), then the posture for `state`."""
        epochs = self.epochs.take(out)
        if not epochs.empty:
            final, live = epochs.final, epochs.live
            closed = self.bouts.feed(final) if len(final) else []
            events = self.policy.feed(live) if len(live) else []
            records = [event.records(self.id) for event in events]
            policy = self._policy_saved() if len(live) else None  # with the epochs it was fed
            self.writer.submit(
                units.pipeline_pass(
                    self.id,
                    epochs,
                    (closed, self.bouts.current) if len(final) else None,
                    records=records,
                    policy=policy,
                    publish=self._decided(events),
                )
            )
            for block in epochs.counted:
                self.today.add_epochs(int(block.t0), block.labels)
            self.today.add_decisions(records)
        self._prompt_near = self.policy.prompt_within(self.config.pipeline.process_every_s + PROMPT_NEAR_S)
        if out.posture is not None:
            posture = Posture.from_code(out.posture.code)
            if posture is not self.live.posture or out.posture.since != self.live.posture_since:
                self.live.posture = posture
                self.live.posture_since = out.posture.since
                self._due.state = -math.inf  # publish the change now

    def _handle_events(self, events: list[PolicyEvent]) -> None:
        """Decisions made outside an epoch block (commands): store, then publish."""
        if not events:
            return
        records = [event.records(self.id) for event in events]
        publish = self._decided(events)
        self.today.add_decisions(records)
        self.writer.submit(units.decisions(self.id, records, publish))
        self._publish_state()

    def _decided(self, events: list[PolicyEvent]) -> Callable[[], None] | None:
        """Count and log the prompts among `events`; what hands their messages to MQTT (called once:
        inside the write's transaction, or from memory while the store cannot be written)."""
        for event in events:
            if event.is_prompt:
                self.counts["nudges"] += 1
                _LOGGER.info(
                    "%s: %s after %d min sitting: %s",
                    self.id,
                    event.kind,
                    event.sitting_s // 60,
                    event.message.title if event.message else "",
                )
        if self.mqtt is None or not events:
            return None
        return partial(self._publish_events, events)

    def _publish_events(self, events: list[PolicyEvent]) -> None:
        assert self.mqtt is not None
        for event in events:
            if event.is_prompt:
                payload = nudge_payload(event, self.id, self.tz)
                self.mqtt.publish_nudge(payload, event.t, now=self.policy_now())
            self.mqtt.publish_event(event_payload(event, self.id, self.tz), event.t)

    def _periodic(self) -> None:
        now = self.data_now()
        if self.mqtt is not None:
            self.mqtt.advance(self.policy_now())
        if now >= self._due.state:
            self._publish_state()
        self._save_state()
        if now >= self._due.prune:
            self._due.prune = now + PRUNE_EVERY_S
            self.writer.submit(units.prune(now))
            release_free_memory()
        self.reports.check(now)

    def _policy_saved(self) -> SavedPolicy:
        return SavedPolicy(self.data_now(), json.dumps(self.policy.snapshot().to_dict()))

    def _save_state(self, force: bool = False) -> None:
        now = self.data_now()
        if not force and now < self._due.snapshot:
            return
        self._due.snapshot = now + SNAPSHOT_EVERY_S
        saved = self._policy_saved()
        reference = self.stream.reference if self.stream is not None else None
        # The whole reference (with the front axis once gait taught it), not just "up": without the
        # front axis a device turned in its pocket could read sitting as lying.
        calibration = None if reference is None else Calibration(now, reference.up, dict(reference.to_dict()))
        self.writer.submit(units.snapshot(self.id, saved, calibration))

    def _publish_state(self) -> None:
        now = self.data_now()
        self._due.state = now + STATE_EVERY_S
        if self.mqtt is None:
            return
        self.live.sitting_timer_s = float(self.policy.sitting_s)
        self.live.waiting_s = self.writer.waiting_s
        totals = self.today.totals()
        self.live.today = TodayCounts(totals.posture_s, totals.breaks, totals.nudges.prompts)
        self.mqtt.publish_state(state_payload(self.live, now, self.id, self.tz))

    # ------------------------------------------------------------------ daily report

    async def _report_timer(self) -> None:
        """Reports go out at their local time even with no data coming in, and one that fell due while
        the service was down (or the device was off) goes out at start."""
        while True:
            if self.mqtt is not None:
                # Before any data the policy's time is the host clock, which moves on its own.
                self.mqtt.advance(self.policy_now())
            self.reports.check(self._clock())
            wait = self.reports.next_check - self._clock()
            await asyncio.sleep(min(REPORT_CHECK_MAX_S, max(0.0, wait)) + 0.01)

    # ------------------------------------------------------------------ storage faults

    def _storage_problem(self, problem: str | None) -> None:
        """The writer's fault began (`problem` in words) or ended (None): `state` and an event say so."""
        self.live.problem = None if problem is None else f"storage: {problem}"
        if self.mqtt is not None:
            now = self.policy_now()
            w = self.writer
            numbers = {"waiting_s": w.waiting_s, "written_s": w.written_s, "dropped_s": w.dropped_s}
            payload = problem_payload("storage", problem, now=now, wearable=self.id, tz=self.tz, **numbers)
            self.writer.submit(
                units.message("a problem event", partial(self.mqtt.publish_event, payload, now))
            )
        self._publish_state()


def _reference_from(calibration: Calibration | None) -> UprightReference | None:
    """The saved upright reference, or None when there is none or it is unreadable (learn afresh)."""
    if calibration is None:
        return None
    try:
        return UprightReference.from_dict(cast(ReferenceDict, dict(calibration.detail)))
    except (KeyError, ValueError, TypeError) as exc:
        _LOGGER.warning("saved upright reference unusable (%s); learning it again from walking", exc)
        return None
