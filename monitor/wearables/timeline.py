"""Place decoded packets on the data-time axis: device clock -> UTC, gaps, duplicates, reordering.

Pure: the packet assembler hands in each packet with its arrival time (UTC seconds, from the host
clock) and gets back the data times of its samples, or a verdict to drop it. Nothing here reads a clock, so
every rule is tested with made-up times.

Rules, in the order they are applied:
- Sequence numbers (when the format has them) decide order: a number behind the expected one is a
  duplicate (equal to the last) or out of order (older): dropped and counted. A jump ahead means
  packets were lost.
- Device timestamps (when the format has them) decide where samples sit. The device clock is mapped
  to UTC once, at the first packet (offset = arrival - device time of the last sample), and that
  mapping is kept across reconnects while the device clock runs on, so missing time shows up as a
  gap of exactly the device time that passed. A device clock that went backwards on a fresh
  session (after a reconnect, or a packet flagged as a stream restart) means the device rebooted:
  the mapping is made again, never earlier than data already handed on.
- Without a device clock (micro:bit, Thingy:52), samples are spaced by the nominal period and
  gently pulled toward their arrival times (a first-order loop), so clock drift does not
  accumulate; a sample later than `arrival_gap_s` past its expected time starts a gap.
- Times handed on never go backwards; a gap is any jump of more than half a sample period and is
  reported with where it starts and how long it is, so the pipeline can mark it unknown.
- The host clock is not trusted to be continuous (a Raspberry Pi has no real-time clock and NTP
  steps it after boot). When the link's clock watcher sees it step, `shift_clock` moves the
  mapping by the step: a forward step continues the data at the corrected time and the jump is a
  gap (unknown, never invented data); a backward step never takes data back: samples that would
  land at or before the last time handed on are held (dropped, counted by the caller) until the
  corrected time passes it. `hold_until` sets the same floor from outside, e.g. the end of the data already
  stored when the service restarts with its clock behind.
- Device time is checked against arrival (`devclock`, on unless the caller turns it off): no sample
  is timed more than `DEVICE_CLOCK_TOLERANCE_S` after the arrival of its packet. A packet that would
  be is re-timed on its arrival (a fault, `PlacedPacket.fault`), and re-timed samples at or before
  data already handed on are dropped (`PlacedPacket.dropped`; verdict RETIMED when all are); a device
  clock that stays behind its arrivals for a whole window is re-anchored (the skipped time is a gap);
  within the tolerance the mapping follows the device clock's drift without gaps or overlaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from monitor.core.types import FloatArray
from monitor.wearables.devclock import ArrivalCheck, ClockFault, ClockFaultKind
from monitor.wearables.profiles.base import DecodedPacket

# A packet starting more than half a period off its expected time is a gap (or is early).
GAP_TOLERANCE_PERIODS = 0.5
# Polar frames carry only the last sample's time: trust the spacing they imply if within 10 % of
# nominal (crystal drift is ~0.01 %; more means a gap, and the nominal period is used instead).
SPACING_TOLERANCE = 0.10
# Arrival-timed samples: fraction of the arrival error corrected per packet. 0.05 settles in ~20
# packets and turns tens of ms of BLE delivery jitter into about a millisecond of time jitter.
ARRIVAL_GAIN = 0.05
# ... and a pulled sample never sits closer than half a period to the previous one.
MIN_STEP_PERIODS = 0.5
# Without a clock, a sample must be this many periods late (at least) before it counts as a gap.
ARRIVAL_GAP_MIN_PERIODS = 3.0


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    OUT_OF_ORDER = "out_of_order"
    HELD = "held"  # every sample lands at or before the hold floor (see `hold_until`)
    # every sample, re-timed on arrival by the device clock check, lands at or before data already
    # handed on (or after its arrival plus the tolerance): dropped
    RETIMED = "retimed"


@dataclass(frozen=True, slots=True)
class PlacedPacket:
    """Where one packet's samples go.

    `t`: the data times of the samples handed on (the packet's samples from `skip` on) when
    accepted; when held, the times all its samples would have had; None for duplicates and
    reordered packets. `skip`: samples at the start of the packet dropped because they land at or
    before the hold floor (all of them when held). `gap_s` > 0 when data is missing between the
    previous accepted sample and this packet's first (`gap_start` is where it starts). `fault`: the
    device clock check re-timed this packet (see `devclock`); `dropped`: samples of it the re-timing
    put at or before data already handed on, or after the arrival plus the tolerance, not handed on
    (besides `skip`). `start`: the index in the packet of the first sample handed on (`t[0]`)."""

    verdict: Verdict
    t: FloatArray | None = None
    gap_start: float = 0.0
    gap_s: float = 0.0
    lost_packets: int = 0
    reanchored: bool = False
    skip: int = 0
    fault: ClockFault | None = None
    dropped: int = 0
    start: int = 0


_DUPLICATE = PlacedPacket(Verdict.DUPLICATE)
_OUT_OF_ORDER = PlacedPacket(Verdict.OUT_OF_ORDER)


class PacketTimeline:
    """One per link; survives reconnects (call `new_session` after each)."""

    def __init__(
        self,
        nominal_period_s: float,
        *,
        seq_modulus: int | None = None,
        time_modulus_s: float | None = None,
        arrival_gap_s: float = 0.5,
        check: ArrivalCheck | None = None,
    ) -> None:
        """`check`: device time against arrival (`devclock`); None leaves it unchecked."""
        if nominal_period_s <= 0:
            raise ValueError(f"nominal_period_s={nominal_period_s} must be > 0")
        self.nominal_period_s = nominal_period_s
        self.seq_modulus = seq_modulus
        self.time_modulus_s = time_modulus_s
        self.arrival_gap_s = arrival_gap_s
        self._offset: float | None = None  # UTC - device time
        self._prev_raw: float | None = None  # last accepted device time as sent (for unwrapping)
        self._wraps = 0
        self._prev_dev_last: float | None = None  # last accepted sample, device time, unwrapped
        self._last_t: float | None = None  # last accepted sample, data time
        self._expected_seq: int | None = None
        self._last_seq: int | None = None
        self._fresh = True
        self._floor: float | None = None  # nothing is handed on at or before this data time
        self._rearrive = False  # arrival-timed: anchor the next packet afresh on its arrival
        self._check = check
        self._retime_floor: float | None = None  # re-timed samples at or before this are dropped

    @property
    def last_t(self) -> float | None:
        """Data time of the last sample handed on."""
        return self._last_t

    @property
    def hold_floor(self) -> float | None:
        """While samples are being held: the data time they must pass (else None)."""
        return self._floor

    def new_session(self) -> None:
        """A new connection: sequence numbers may restart; the device clock may have restarted."""
        self._fresh = True
        self._expected_seq = None
        if self._check is not None:
            self._check.restart()

    def hold_until(self, t: float) -> None:
        """Hand on no sample at or before data time `t` (e.g. data already stored up to there).

        Held samples are dropped, never moved to a later time (that would invent data there). The
        hold ends by itself with the first sample after `t`."""
        if self._last_t is not None and t < self._last_t:
            return  # already past it
        self._floor = t if self._floor is None else max(self._floor, t)

    def shift_clock(self, step_s: float) -> None:
        """The host clock stepped by `step_s` seconds: place data from now on that much later.

        With a device clock, its mapping to UTC moves by the step; without one, the next packet is
        anchored on its arrival (the caller's arrival times already include the step). Forward, the
        jump shows as a gap at the next packet. Backward, samples are held (see `hold_until`) until
        the corrected time passes the last one handed on, so data time never goes back."""
        if self._offset is not None:
            self._offset += step_s
        self._rearrive = True
        if self._check is not None:
            self._check.restart()
        if step_s < 0 and self._last_t is not None:
            self.hold_until(self._last_t)

    def push(self, packet: DecodedPacket, arrival_utc: float) -> PlacedPacket:
        n = len(packet)
        period = packet.period_s or self.nominal_period_s
        lost = 0
        fresh = self._fresh or packet.restart
        if packet.seq is not None and self._expected_seq is not None and not fresh:
            modulus = self.seq_modulus or (1 << 16)
            ahead = (packet.seq - self._expected_seq) % modulus
            if ahead >= modulus // 2:
                return _DUPLICATE if packet.seq == self._last_seq else _OUT_OF_ORDER
            lost = ahead
        if packet.t_first is None and packet.t_last is None:
            placement = self._place_by_arrival(n, period, lost, arrival_utc)
        else:
            placed = self._place_by_device_time(
                packet, n, period, fresh=fresh, lost=lost, arrival=arrival_utc
            )
            if placed is None:
                return _DUPLICATE if self._is_repeat(packet, n, period) else _OUT_OF_ORDER
            placement = placed
        if packet.seq is not None:
            self._last_seq = packet.seq
            self._expected_seq = (packet.seq + 1) % (self.seq_modulus or (1 << 16))
        self._fresh = False
        return placement

    # -- device clock

    def _unwrap(self, raw: float, fresh: bool) -> tuple[float, int, bool]:
        """(unwrapped time, wraps, rebooted). A fresh session whose clock fell back is a reboot."""
        mod = self.time_modulus_s
        if mod is None or self._prev_raw is None:
            return raw, self._wraps, False
        wraps = self._wraps
        if raw < self._prev_raw - mod / 2:
            if fresh:
                return raw, 0, True
            wraps += 1
        elif raw > self._prev_raw + mod / 2:
            wraps -= 1  # a straggler from before the wrap
        return raw + wraps * mod, wraps, False

    def _spacing_and_first(
        self, packet: DecodedPacket, dev: float, n: int, period: float, fresh: bool
    ) -> tuple[float, float]:
        if packet.t_first is not None:
            if packet.t_last is not None and n > 1:
                return (packet.t_last - packet.t_first) / (n - 1), dev
            return period, dev
        spacing = period
        if self._prev_dev_last is not None and not fresh:
            span = dev - self._prev_dev_last
            if span > 0 and abs(span / n - period) <= SPACING_TOLERANCE * period:
                spacing = span / n
        return spacing, dev - (n - 1) * spacing

    def _place_by_device_time(
        self, packet: DecodedPacket, n: int, period: float, *, fresh: bool, lost: int, arrival: float
    ) -> PlacedPacket | None:
        raw = packet.t_first if packet.t_first is not None else packet.t_last
        assert raw is not None
        dev, wraps, rebooted = self._unwrap(raw, fresh)
        spacing, first = self._spacing_and_first(packet, dev, n, period, fresh and not rebooted)
        dev_last = first + (n - 1) * spacing
        reanchor = rebooted or self._offset is None
        fault: ClockFault | None = None
        if not reanchor and self._prev_dev_last is not None:
            expected = self._prev_dev_last + spacing
            if first < expected - GAP_TOLERANCE_PERIODS * spacing:
                fault = self._went_back(packet, fresh, dev_last, n * spacing, arrival)
                if fault is None and not fresh and packet.seq is None:
                    return None  # older than data already used: the caller says which kind
                # in sequence (or a new session) yet earlier: the device restarted, or (beyond the
                # tolerance, on a live stream) its clock went back
                reanchor = True
        remapped = reanchor and self._last_t is not None
        check = self._check
        if reanchor:
            self._offset = arrival - dev_last
            if check is not None:
                check.anchored(arrival)
        elif check is not None:
            assert self._offset is not None
            self._offset += check.slew_step(n * spacing, spacing)
        assert self._offset is not None
        # The device clock moved on whether or not its samples are wanted: track it either way.
        self._prev_raw = raw
        self._wraps = wraps
        self._prev_dev_last = dev_last
        if check is not None and not reanchor:
            correction, fault = check.judge(self._offset + dev_last - arrival, arrival)
            self._offset += correction
        t = self._offset + first + np.arange(n, dtype=np.float64) * spacing
        placed, cut = self._settle(t, spacing, arrival, lost=lost, fault=fault, remapped=remapped)
        if placed.verdict is Verdict.ACCEPTED:
            assert placed.t is not None
            self._offset = float(placed.t[0]) - (first + cut * spacing)
        return placed

    def _went_back(
        self, packet: DecodedPacket, fresh: bool, dev_last: float, span: float, arrival: float
    ) -> ClockFault | None:
        """A packet timed before data already used, on a live stream that did not restart: a device
        clock that went back beyond the tolerance is a fault (None otherwise, or unchecked). Without
        sequence numbers a packet a span late is one that came late or twice, not a clock."""
        if self._check is None or fresh or packet.restart or self._offset is None:
            return None
        lag = arrival - (self._offset + dev_last)
        return self._check.jumped_back(lag, span if packet.seq is None else 0.0, arrival)

    def _is_repeat(self, packet: DecodedPacket, n: int, period: float) -> bool:
        """A dropped packet whose last sample lands on the last one already used is a repeat."""
        raw = packet.t_first if packet.t_first is not None else packet.t_last
        if raw is None or self._prev_dev_last is None:
            return False
        dev, _, _ = self._unwrap(raw, False)
        spacing, first = self._spacing_and_first(packet, dev, n, period, True)
        return abs(first + (n - 1) * spacing - self._prev_dev_last) < GAP_TOLERANCE_PERIODS * spacing

    # -- no device clock

    def _place_by_arrival(self, n: int, period: float, lost: int, arrival: float) -> PlacedPacket:
        threshold = max(self.arrival_gap_s, ARRIVAL_GAP_MIN_PERIODS * period)
        tail = (n - 1) * period
        if self._last_t is None or self._rearrive:
            first = arrival - tail
        else:
            expected = self._last_t + (1 + lost * n) * period
            lag = arrival - (expected + tail)
            if lag > threshold:
                first = arrival - tail
            else:
                first = max(expected + ARRIVAL_GAIN * lag, self._last_t + MIN_STEP_PERIODS * period)
        fault: ClockFault | None = None
        if self._check is not None:
            # Samples that come faster than the declared rate run ahead of their arrivals here.
            correction, fault = self._check.judge(first + tail - arrival, arrival, windows=False)
            first += correction
        t = first + np.arange(n, dtype=np.float64) * period
        placed, _ = self._settle(t, period, arrival, lost=lost, fault=fault)
        if placed.verdict is Verdict.ACCEPTED:
            self._rearrive = False
        return placed

    # -- shared

    def _settle(
        self,
        t: FloatArray,
        spacing: float,
        arrival: float,
        *,
        lost: int,
        fault: ClockFault | None,
        remapped: bool = False,
    ) -> tuple[PlacedPacket, int]:
        """The floors, no going back, the ceiling: the packet as handed on, and how many of its
        leading samples the floors took."""
        n = len(t)
        if fault is not None and fault.kind is ClockFaultKind.AHEAD and self._last_t is not None:
            # Re-timed earlier: what lands at or before data already handed on is dropped, not moved.
            floor = self._retime_floor
            self._retime_floor = self._last_t if floor is None else max(floor, self._last_t)
        held, dropped = self._floors(t)
        cut = held + dropped
        if cut == n:
            verdict = Verdict.HELD if held else Verdict.RETIMED
            return PlacedPacket(verdict, t, lost_packets=lost, skip=held, fault=fault, dropped=dropped), cut
        t, gap_start, gap_s = self._no_backwards(t[cut:], spacing)
        if self._check is not None:
            # Never after the arrival plus the tolerance, whatever moved it there (a restart placed
            # right after data timed ahead, arrivals that do not advance).
            keep = int(np.searchsorted(t, arrival + self._check.tolerance_s, side="right"))
            if keep < len(t):
                dropped += len(t) - keep
                if keep == 0:
                    return PlacedPacket(
                        Verdict.RETIMED, t, lost_packets=lost, skip=held, fault=fault, dropped=dropped
                    ), cut
                t = t[:keep]
        self._last_t = float(t[-1])
        return PlacedPacket(
            Verdict.ACCEPTED, t, gap_start, gap_s, lost, remapped, held, fault, dropped, cut
        ), cut

    def _floors(self, t: FloatArray) -> tuple[int, int]:
        """Leading samples of `t` at or before the hold floor (held) and, beyond those, at or before
        the re-timing floor (dropped). Each floor ends once a sample passes it."""
        held = self._below_floor(t) if self._floor is not None else 0
        dropped = 0
        floor = self._retime_floor
        if floor is not None:
            if t[-1] > floor:
                self._retime_floor = None
            dropped = max(0, int(np.searchsorted(t, floor, side="right")) - held)
        return held, dropped

    def _below_floor(self, t: FloatArray) -> int:
        """While holding: how many leading samples of `t` land at or before the hold floor; ends the
        hold once some sample is past it."""
        floor = self._floor
        assert floor is not None
        if t[-1] <= floor:
            return len(t)
        self._floor = None
        return int(np.searchsorted(t, floor, side="right"))

    def _no_backwards(self, t: FloatArray, spacing: float) -> tuple[FloatArray, float, float]:
        """Shift `t` so it never starts before the last sample handed on; measure any gap."""
        if self._last_t is None:
            return t, 0.0, 0.0
        expected = self._last_t + spacing
        jump = float(t[0]) - expected
        if jump < -GAP_TOLERANCE_PERIODS * spacing:
            return t - jump, 0.0, 0.0
        if jump > GAP_TOLERANCE_PERIODS * spacing:
            return t, expected, jump
        return t, 0.0, 0.0
