"""The packet assembler: notification bytes in, sample blocks and link events out. Pure.

    assembler = PacketAssembler(profile, settings, emit=queue.put, who=Who(name, address))
    assembler.new_session()                        # at each connection
    news = assembler.push(data, now, arrival_utc)  # each notification, in arrival order
    assembler.flush()                              # at the end of each batch
    streamed = assembler.end_session()             # the connection ended

One notification: `profile.decode` -> placed on the data-time axis by `PacketTimeline` (device clock
-> UTC, gaps, duplicates, reordering, holds) -> appended to the pending block. The pending block is
handed on as a `SampleBlock` when it spans `block_max_s` of data, when a gap starts, when the host
clock steps, and at `flush()`. Everything goes out through `emit`, in data order: the blocks and the
`LinkEvent`s that sit at a place in the data (CONNECTED / RECONNECTED at a connection's first
sample, GAP, CLOCK_STEP, HELD, BATTERY, and the MALFORMED / DUPLICATE / OUT_OF_ORDER tallies, each
reported with one log line at most once per `malformed_log_interval_s`). `push` returns `News`: what
the link must act on (its state, its connection count), usually nothing.

Nothing here reads a clock or touches Bluetooth or asyncio: each notification comes with `now` (its
arrival on a monotonic clock, which rate-limits the tallies) and `arrival_utc` (the same moment on
the host's UTC clock, which times samples without a device clock and anchors the device clock), so
every rule is tested with hand-built frames and made-up times (tests/wearables/test_assembler.py).
The link's `ClockWatch` measures host clock steps; `clock_stepped` applies one to the data.

Device time is checked against arrival (`devclock`; `check_device_clock=False` turns it off): a
fault (device time ahead of its arrival, or behind it for a whole window) re-times the data on
arrival. The first fault of an episode is one WARNING (the device, how far off, what was done);
`clock_faults` keeps the count and the state for the link's diagnostics; samples the re-timing
drops are a HELD tally (at most one event per `malformed_log_interval_s`), and the time a
re-anchoring skips is a GAP with reason `device_clock`. `rate_hz` is the rate the connection's first
packet declares (the micro:bit's read-back period, SitSense's rate code), else the profile's.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntFlag

import numpy as np

from monitor.core.links import GapReason, LinkEvent, LinkEventKind
from monitor.core.timefmt import utc_text
from monitor.core.types import Float32Array, FloatArray, SampleBlock
from monitor.wearables.devclock import (
    DEVICE_CLOCK_TOLERANCE_S,
    ArrivalCheck,
    ClockFault,
    ClockFaultKind,
    ClockFaultLog,
)
from monitor.wearables.profiles.base import DecodedPacket, DecodeError, DeviceProfile
from monitor.wearables.settings import LinkSettings
from monitor.wearables.timeline import PacketTimeline, PlacedPacket, Verdict

_LOGGER = logging.getLogger(__name__)

# The reason of a gap that re-anchoring a device clock skipped (beside `GapReason`'s).
DEVICE_CLOCK_GAP = "device_clock"


class News(IntFlag):
    """What one notification changed that the link must act on; usually nothing."""

    NONE = 0
    FIRST_DATA = 1  # the connection's first samples are in (CONNECTED / RECONNECTED emitted)
    HOLDING = 2  # samples were held back, more than clock jitter: the link is holding
    HOLD_ENDED = 4  # data time passed such a hold (HELD emitted)


@dataclass(slots=True)
class Who:
    """The wearable's name and address for log lines ("name - address: what"); shared with the
    link, which updates it when a scan finds the device."""

    name: str
    address: str


@dataclass(slots=True)
class AssemblyCounts:
    """Counters since the link started (see `LinkDiagnostics`)."""

    samples: int = 0
    blocks: int = 0
    gaps: int = 0
    gap_seconds: float = 0.0
    held_samples: int = 0


class _Tally:
    """Counts of dropped packets of one family, reported at most once per interval (log + event)."""

    def __init__(self, kind: LinkEventKind) -> None:
        self.kind = kind
        self.total: Counter[str] = Counter()
        self.pending: Counter[str] = Counter()
        self.last_detail = ""
        self.next_report = 0.0

    def add(self, label: str, detail: str = "") -> None:
        self.total[label] += 1
        self.pending[label] += 1
        if detail:
            self.last_detail = detail


class _Hold:
    """The samples dropped by the current hold: after a backward clock step, until the corrected
    time passes the data already handed on (see `PacketTimeline.shift_clock`)."""

    def __init__(self) -> None:
        self.first_t: float | None = None  # data time of the first sample held, None when not holding
        self.until = 0.0
        self.samples = 0


class PacketAssembler:
    """One per link; survives reconnects (call `new_session` at each). See the module docstring."""

    def __init__(
        self,
        profile: DeviceProfile,
        settings: LinkSettings,
        emit: Callable[[SampleBlock | LinkEvent], None],
        who: Who | None = None,
        *,
        check_device_clock: bool = True,
    ) -> None:
        """`check_device_clock`: check device time against arrival (off only where arrival times
        are not the host's real-time clock: a simulated clock, the doctor's monotonic times)."""
        self.profile = profile
        self.who = who or Who(profile.title, "-")
        self.counts = AssemblyCounts()
        self.battery: int | None = None  # the wearable's level, %, as last read (see `set_battery`)
        self._emit = emit
        self._block_max_s = settings.block_max_s
        self._report_every_s = settings.malformed_log_interval_s
        self._timeline = PacketTimeline(
            profile.period_s,
            seq_modulus=profile.seq_modulus,
            time_modulus_s=profile.time_modulus_s,
            arrival_gap_s=settings.arrival_gap_s,
            check=ArrivalCheck() if check_device_clock else None,
        )
        self.clock_faults = ClockFaultLog(check_device_clock)
        self.rate_hz = profile.rate_hz  # the rate the data comes at, as learned (see the docstring)
        self._streaming = False  # data came in on this connection
        self._ever_streamed = False
        self._battery_reported: int | None = None
        self._step_gap = False  # a forward step since the last accepted packet: its gap's reason
        self._hold = _Hold()
        self._malformed = _Tally(LinkEventKind.MALFORMED)
        self._duplicates = _Tally(LinkEventKind.DUPLICATE)
        self._reordered = _Tally(LinkEventKind.OUT_OF_ORDER)
        # the pending block
        self._pend_t: list[FloatArray] = []
        self._pend_xyz: list[Float32Array] = []
        self._pend_seq: int | None = None
        self._pend_start = 0.0
        # the latest input's times: the tallies' rate limit, and data time before there is any data
        self._now = 0.0
        self._utc = 0.0

    # ------------------------------------------------------------------ state

    @property
    def streaming(self) -> bool:
        """Data came in on this connection."""
        return self._streaming

    @property
    def hold_floor(self) -> float | None:
        """While samples are being held: the data time they must pass (else None)."""
        return self._timeline.hold_floor

    def malformed(self) -> dict[str, int]:
        """Undecodable notifications by kind (`DecodeErrorKind`), since the start."""
        return dict(self._malformed.total)

    def duplicates(self) -> int:
        return sum(self._duplicates.total.values())

    def out_of_order(self) -> int:
        return sum(self._reordered.total.values())

    def data_time(self) -> float | None:
        """Data time for an event: the end of the data so far (or the hold it must pass); None
        before there is either."""
        last = self._timeline.last_t
        floor = self._timeline.hold_floor
        if last is None:
            return floor
        return last if floor is None else max(last, floor)

    # ------------------------------------------------------------------ input

    def new_session(self) -> None:
        """A new connection: sequence numbers may restart; the device clock may have restarted."""
        self._timeline.new_session()

    def end_session(self) -> bool:
        """The connection ended: the pending block and every pending tally go out. True when data
        had come in on it."""
        self._flush()
        self._report_tallies(force=True)
        streamed, self._streaming = self._streaming, False
        return streamed

    def flush(self) -> None:
        """Hand on the pending block (the end of a batch of notifications)."""
        self._flush()

    def push(self, data: bytes, now: float, arrival_utc: float) -> News:
        """One notification. `now`: its arrival on a monotonic clock (seconds); `arrival_utc`: the
        same moment on the host's UTC clock."""
        self._now = now
        self._utc = arrival_utc
        try:
            packet = self.profile.decode(data)
        except DecodeError as exc:
            self._malformed.add(exc.kind.value, str(exc))
            self._report_tallies()
            return News.NONE
        placed = self._timeline.push(packet, arrival_utc)
        if placed.fault is not None:
            self._clock_fault(placed.fault, arrival_utc)
        if placed.dropped:
            self.clock_faults.drop(placed.dropped)
        if placed.verdict is Verdict.ACCEPTED:
            return self._accept(packet, placed)
        if placed.verdict is Verdict.HELD:
            return self._on_held(placed)
        if placed.verdict is Verdict.RETIMED:
            self._report_tallies()
            return News.NONE
        tally = self._duplicates if placed.verdict is Verdict.DUPLICATE else self._reordered
        tally.add(placed.verdict.value, f"seq {packet.seq}" if packet.seq is not None else "")
        self._report_tallies()
        return News.NONE

    def set_battery(self, level: int) -> None:
        """The wearable's battery level, %: one BATTERY event per change, on the data-time axis (so
        not before the stream starts)."""
        self.battery = level
        if self._streaming:
            self._report_battery()

    def clock_stepped(self, step: float, cause: str, utc: float) -> None:
        """The host clock stepped by `step` seconds (`cause`: its likely cause, in words) and reads
        `utc` now: data from here on is placed on the corrected clock (see `timeline`)."""
        self._utc = utc
        self._flush()  # data timed before the step goes out first: the queue stays in data order
        at = self._data_now()
        self._timeline.shift_clock(step)
        if step > 0:
            self._step_gap = True
            then = "data continues at the corrected time; the time skipped is a gap"
        elif self._timeline.hold_floor is not None:
            then = (
                f"data time does not go back: samples are dropped until the clock passes {utc_text(at)}, "
                "nothing recorded is overwritten"
            )
        else:
            then = "no data handed on yet, so nothing to hold back"
        _LOGGER.warning(
            "%s - %s: system clock stepped by %+.0f s (%s); %s",
            self.who.name,
            self.who.address,
            step,
            cause,
            then,
        )
        self._emit(LinkEvent(LinkEventKind.CLOCK_STEP, at, seconds=step, detail=cause))

    # ------------------------------------------------------------------ placing

    def _accept(self, packet: DecodedPacket, placed: PlacedPacket) -> News:
        t = placed.t
        assert t is not None
        xyz = packet.xyz
        if placed.start or len(t) < len(xyz):  # some were held or dropped
            xyz = xyz[placed.start : placed.start + len(t)]
        news = News.NONE
        if placed.skip:
            self.counts.held_samples += placed.skip
            self._hold.samples += placed.skip
            if self._hold.first_t is None:  # a hold that began and ended inside this one packet
                self._hold.first_t = float(t[0]) - placed.skip * self.profile.period_s
                self._hold.until = float(t[0])
        if self._hold.first_t is not None:
            news = self._end_hold()
        first_of_connection = not self._streaming
        if first_of_connection:
            news |= self._begin_streaming(float(t[0]), packet)
        if placed.gap_s > 0:
            self._flush()
            self.counts.gaps += 1
            self.counts.gap_seconds += placed.gap_s
            self._emit(
                LinkEvent(
                    LinkEventKind.GAP,
                    placed.gap_start,
                    seconds=placed.gap_s,
                    count=placed.lost_packets or None,
                    reason=_gap_reason(
                        first_of_connection, packet.device_dropped, self._step_gap, placed.fault is not None
                    ),
                )
            )
        self._step_gap = False
        if not self._pend_t:
            self._pend_seq = packet.seq
            self._pend_start = float(t[0])
        self._pend_t.append(t)
        self._pend_xyz.append(xyz)
        self.counts.samples += len(t)
        if t[-1] - self._pend_start >= self._block_max_s:
            self._flush()
        return news

    def _begin_streaming(self, t0: float, packet: DecodedPacket) -> News:
        period = packet.period_s
        self.rate_hz = 1.0 / period if period is not None and period > 0 else self.profile.rate_hz
        self._streaming = True
        kind = LinkEventKind.RECONNECTED if self._ever_streamed else LinkEventKind.CONNECTED
        self._ever_streamed = True
        self._emit(LinkEvent(kind, t0, detail=self.profile.describe()))
        self._report_battery()
        return News.FIRST_DATA

    def _flush(self) -> None:
        if not self._pend_t:
            return
        if len(self._pend_t) == 1:
            t, xyz = self._pend_t[0], self._pend_xyz[0]
        else:
            t, xyz = np.concatenate(self._pend_t), np.concatenate(self._pend_xyz)
        self._pend_t, self._pend_xyz = [], []
        self.counts.blocks += 1
        self._emit(SampleBlock(t, xyz, self._pend_seq))
        self._report_tallies()

    # ------------------------------------------------------------------ holds

    def _on_held(self, placed: PlacedPacket) -> News:
        """Samples timed at or before the hold floor: dropped and counted; the first says why."""
        assert placed.t is not None
        hold = self._hold
        hold.samples += placed.skip
        self.counts.held_samples += placed.skip
        floor = self._timeline.hold_floor
        assert floor is not None
        hold.until = floor
        if hold.first_t is None:
            hold.first_t = float(placed.t[0])  # the step's own warning has said why
        return News.HOLDING

    def _end_hold(self) -> News:
        hold = self._hold
        self._hold = _Hold()
        _LOGGER.info(
            "%s - %s: data time has passed %s; %d samples (%.0f s) timed before it were dropped",
            self.who.name,
            self.who.address,
            utc_text(hold.until),
            hold.samples,
            hold.samples * self.profile.period_s,
        )
        self._emit(
            LinkEvent(
                LinkEventKind.HELD,
                hold.until,
                count=hold.samples,
                detail=f"timed {utc_text(hold.first_t or hold.until)} .. {utc_text(hold.until)}",
            )
        )
        return News.HOLD_ENDED

    # ------------------------------------------------------------------ device clock

    def _clock_fault(self, fault: ClockFault, arrival_utc: float) -> None:
        """Count a device clock fault; the first of an episode is one WARNING saying what was done."""
        if not self.clock_faults.note(fault, arrival_utc):
            _LOGGER.debug(
                "%s - %s: device clock %s by %+.1f s again",
                self.who.name,
                self.who.address,
                fault.kind.value,
                fault.error_s,
            )
            return
        clocked = self.profile.has_device_time
        if fault.kind is ClockFaultKind.AHEAD:
            what = "device time ran" if clocked else "its samples, at the declared rate, ran"
            cause = (
                "its clock runs fast or jumped forward, or it sends samples faster than it declares"
                if clocked
                else "it sends samples faster than the declared rate"
            )
            done = (
                "re-timed on arrival; samples that would go back over data already handed on are "
                "dropped (counted), so nothing is timed after its arrival"
            )
            where = "ahead of"
        else:
            what, where = "device time fell", "behind"
            cause = "its clock runs slow or jumped back"
            done = "re-anchored on arrival; the time skipped is a gap (unknown)"
        since = f" {fault.since_s:.1f} s after it was last set" if fault.since_s is not None else ""
        _LOGGER.warning(
            "%s - %s: %s %.1f s %s its arrival%s (tolerance %.0f s): %s; %s (%s Hz declared). "
            "More of these are counted, not logged (link diagnostics: device_clock)",
            self.who.name,
            self.who.address,
            what,
            abs(fault.error_s),
            where,
            since,
            DEVICE_CLOCK_TOLERANCE_S,
            cause,
            done,
            f"{self.rate_hz:g}",
        )

    # ------------------------------------------------------------------ reports

    def _data_now(self) -> float:
        """`data_time()`, else the host's UTC at the latest input."""
        t = self.data_time()
        return self._utc if t is None else t

    def _report_battery(self) -> None:
        if self.battery is not None and self.battery != self._battery_reported:
            self._battery_reported = self.battery
            self._emit(LinkEvent(LinkEventKind.BATTERY, self._data_now(), level=self.battery))

    def _report_tallies(self, force: bool = False) -> None:
        now = self._now
        for tally in (self._malformed, self._duplicates, self._reordered):
            if not tally.pending or (not force and now < tally.next_report):
                continue
            count = sum(tally.pending.values())
            kinds = ", ".join(f"{k}: {n}" for k, n in sorted(tally.pending.items()))
            _LOGGER.warning(
                "%s - %s: dropped %d %s packet(s) (%s); last: %s",
                self.who.name,
                self.who.address,
                count,
                tally.kind.value.replace("_", " "),
                kinds,
                tally.last_detail or "-",
            )
            self._emit(LinkEvent(tally.kind, self._data_now(), count=count, detail=kinds))
            tally.pending.clear()
            tally.next_report = now + self._report_every_s
        faults = self.clock_faults
        if faults.pending_dropped and (force or now >= faults.next_report):
            count, faults.pending_dropped = faults.pending_dropped, 0
            faults.next_report = now + self._report_every_s
            _LOGGER.info(
                "%s - %s: dropped %d samples re-timed on arrival: timed over data already handed on, "
                "or after their arrival (device clock %s)",
                self.who.name,
                self.who.address,
                count,
                faults.last.kind.value if faults.last is not None else "check",
            )
            detail = (
                "device clock check: re-timed on arrival, over data already handed on or after their arrival"
            )
            self._emit(LinkEvent(LinkEventKind.HELD, self._data_now(), count=count, detail=detail))


def _gap_reason(first_of_connection: bool, device_dropped: bool, clock_step: bool, device_clock: bool) -> str:
    if first_of_connection:  # the first data of a connection closes the time the link was down
        return GapReason.LINK_LOST
    if clock_step:
        return GapReason.CLOCK_STEP
    if device_clock:
        return DEVICE_CLOCK_GAP
    return GapReason.DEVICE_OVERFLOW if device_dropped else GapReason.PACKETS_LOST
