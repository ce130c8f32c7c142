"""Device time against arrival time (monitor/wearables/devclock.py) on the timeline and the
assembler, with made-up times: devices with a clock (SitSense-like frames with sequence numbers,
Polar-like frames without) and without (micro:bit-like single samples), running right with a
crystal's drift and delivery jitter, fast, slow, and with a clock that jumps.

The rule every test checks one way or another: no sample is timed more than the tolerance after the
arrival of the packet that carried it, and data time never goes back."""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

from monitor.core.links import LinkEvent, LinkEventKind
from monitor.core.types import SampleBlock
from monitor.wearables import sitsense_format as fmt
from monitor.wearables.assembler import DEVICE_CLOCK_GAP, PacketAssembler, Who
from monitor.wearables.devclock import (
    CHECK_WINDOW_S,
    DEVICE_CLOCK_TOLERANCE_S,
    QUIET_S,
    ArrivalCheck,
    ClockFault,
    ClockFaultKind,
    ClockFaultLog,
)
from monitor.wearables.profiles import StreamConfig, make_profile
from monitor.wearables.profiles.base import DecodedPacket
from monitor.wearables.profiles.microbit import MicrobitProfile
from monitor.wearables.settings import LinkSettings
from monitor.wearables.timeline import PacketTimeline, PlacedPacket, Verdict

P = 0.02  # 50 Hz
N = 10  # samples per frame: 0.2 s
SPAN = N * P
T0 = 1_700_000_000.0  # host UTC when the device clock reads D0
D0 = 1000.0
TOL = DEVICE_CLOCK_TOLERANCE_S


def xyz(n: int = N) -> np.ndarray:
    return np.zeros((n, 3), dtype=np.float32)


def timeline(check: bool = True, *, seq: bool = True) -> PacketTimeline:
    return PacketTimeline(
        P,
        seq_modulus=65536 if seq else None,
        time_modulus_s=2**32 / 1000 if seq else None,
        check=ArrivalCheck() if check else None,
    )


@dataclass
class Device:
    """A device sending N-sample frames: sample k is taken at true time k * P / pace and stamped
    D0 + k * P * stamp_rate + jump (seconds). `latency(k)`: delivery delay of frame k."""

    seq: bool = True  # SitSense-like (sequence numbers, first-sample time) or Polar-like (last)
    pace: float = 1.0
    stamp_rate: float = 1.0
    jump: float = 0.0
    latency: Callable[[int], float] = lambda _k: 0.03
    k: int = 0  # frames sent

    def next(self) -> tuple[DecodedPacket, float]:
        """The next frame and its arrival (host UTC)."""
        first = self.k * N
        taken_last = (first + N - 1) * P / self.pace
        stamp = D0 + first * P * self.stamp_rate + self.jump
        if self.seq:
            packet = DecodedPacket(xyz(), seq=self.k % 65536, t_first=stamp, period_s=P)
        else:
            packet = DecodedPacket(xyz(), t_last=stamp + (N - 1) * P * self.stamp_rate)
        arrival = T0 + taken_last + self.latency(self.k)
        self.k += 1
        return packet, arrival


@dataclass
class Run:
    """What a timeline made of a device's frames."""

    placed: list[tuple[PlacedPacket, float]] = field(default_factory=list)

    def accepted(self) -> list[tuple[PlacedPacket, float]]:
        return [(p, a) for p, a in self.placed if p.verdict is Verdict.ACCEPTED]

    def t(self) -> np.ndarray:
        return np.concatenate([p.t for p, _ in self.accepted() if p.t is not None])

    def faults(self) -> list[ClockFault]:
        return [p.fault for p, _ in self.placed if p.fault is not None]

    def dropped(self) -> int:
        return sum(p.dropped for p, _ in self.placed)

    def gaps(self) -> list[float]:
        return [p.gap_s for p, _ in self.accepted() if p.gap_s > 0]

    def max_lead(self) -> float:
        return max(float(p.t[-1]) - a for p, a in self.accepted() if p.t is not None)


def send(tl: PacketTimeline, device: Device, frames: int, run: Run | None = None) -> Run:
    run = run or Run()
    for _ in range(frames):
        packet, arrival = device.next()
        run.placed.append((tl.push(packet, arrival), arrival))
    return run


def assert_the_rule(run: Run) -> None:
    """Never timed after the arrival plus the tolerance; never back."""
    for p, arrival in run.accepted():
        assert p.t is not None and float(p.t[-1]) <= arrival + TOL + 1e-9
    assert np.all(np.diff(run.t()) > 0)


# ------------------------------------------------------------------ a device that is right


@pytest.mark.parametrize("drift_ppm", [-500.0, 0.0, 500.0])
@pytest.mark.parametrize("seq", [True, False], ids=["sitsense", "polar"])
def test_drift_and_delivery_jitter_never_trip_the_check(drift_ppm: float, seq: bool) -> None:
    """Three hours of a device whose crystal is 500 ppm off (5.4 s: beyond the tolerance without the
    slew), delivered 10-80 ms late with a 1.5 s stall every ten minutes: no fault, no drop, no gap,
    and no overlap, and the data stays within a second of its arrivals."""
    rng = np.random.default_rng(1)
    jitter = rng.uniform(0.01, 0.08, size=60_000)

    def latency(k: int) -> float:
        return float(jitter[k]) + (1.5 if k % 3000 == 1500 else 0.0)

    device = Device(seq=seq, stamp_rate=1.0 + drift_ppm * 1e-6, latency=latency)
    run = send(timeline(seq=seq), device, 54_000)
    assert_the_rule(run)
    assert run.faults() == [] and run.dropped() == 0 and run.gaps() == []
    steps = np.diff(run.t())
    assert steps.min() > 0.74 * P and steps.max() < 1.26 * P  # the slew never shows as a gap
    late = [a - float(p.t[-1]) for p, a in run.accepted() if p.t is not None]
    assert max(late) < 1.0 + 1.5 and min(late) > -1.0


def test_the_first_packet_late_is_absorbed_without_a_fault() -> None:
    """The mapping takes the first packet's delay as zero: a first packet 1.5 s late makes the next
    ones lead their arrivals by up to 1.5 s, inside the tolerance; the slew takes it back."""
    device = Device(latency=lambda k: 1.5 if k == 0 else 0.03)
    run = send(timeline(), device, int(3 * CHECK_WINDOW_S / SPAN))
    assert_the_rule(run)
    assert run.faults() == [] and run.dropped() == 0
    last, arrival = run.accepted()[-1]
    assert last.t is not None and float(last.t[-1]) - arrival < 1.5  # being slewed back


# ------------------------------------------------------------------ fast


@pytest.mark.parametrize("seq", [True, False], ids=["sitsense", "polar"])
def test_a_device_ten_times_fast_stays_on_the_arrival_clock(seq: bool) -> None:
    """Finding 7: samples (and stamps) 10x faster than declared. Each packet that would run more
    than the tolerance ahead is re-timed on its arrival; what that puts over data already handed on
    is dropped, so data time advances with the arrivals instead of ten times as fast."""
    device = Device(seq=seq, pace=10.0)
    frames = int(60 / SPAN * 10)  # 60 s of arrivals
    run = send(timeline(seq=seq), device, frames)
    assert_the_rule(run)
    faults = run.faults()
    assert faults and {f.kind for f in faults} == {ClockFaultKind.AHEAD}
    assert all(f.error_s > TOL for f in faults)
    assert run.dropped() > 0.8 * frames * N  # about nine samples in ten
    last, arrival = run.accepted()[-1]
    assert last.t is not None
    assert abs(float(last.t[-1]) - arrival) <= TOL
    # without the check: ten times as fast, 540 s ahead after 60 s
    unchecked = send(timeline(check=False, seq=seq), Device(seq=seq, pace=10.0), frames)
    assert unchecked.max_lead() > 500


def test_the_first_fault_says_how_fast_the_clock_runs() -> None:
    run = send(timeline(), Device(pace=10.0), 40)
    first = run.faults()[0]
    assert first.since_s is not None and first.since_s > 0
    assert (first.error_s + first.since_s) / first.since_s == pytest.approx(10, rel=0.3)


def test_a_device_a_percent_fast_is_caught_within_minutes() -> None:
    """1 % is ten times what the slew follows: caught once the lead passes the tolerance."""
    device = Device(stamp_rate=1.01)
    run = send(timeline(), device, int(600 / SPAN))
    assert_the_rule(run)
    (first, *_) = run.faults()
    assert first.kind is ClockFaultKind.AHEAD
    assert first.since_s is not None and 100 < first.since_s < 400


# ------------------------------------------------------------------ slow


@pytest.mark.parametrize("seq", [True, False], ids=["sitsense", "polar"])
def test_a_slow_device_is_re_anchored_after_a_window_behind(seq: bool) -> None:
    """Half the declared rate: data time falls behind its arrivals by 0.5 s a second. Once every
    packet for a whole window came more than the tolerance late, the mapping is re-anchored on
    arrival and the time skipped is a gap; data is never further behind than that allows."""
    device = Device(seq=seq, pace=0.5)
    run = send(timeline(seq=seq), device, int(120 / (2 * SPAN)))  # 120 s of arrivals
    assert_the_rule(run)
    faults = run.faults()
    assert faults and {f.kind for f in faults} == {ClockFaultKind.BEHIND}
    assert run.gaps() and max(run.gaps()) < TOL + CHECK_WINDOW_S  # a gap per re-anchoring
    behind = [a - float(p.t[-1]) for p, a in run.accepted() if p.t is not None]
    assert max(behind) < TOL + 0.5 * CHECK_WINDOW_S + 1.0
    assert run.dropped() == 0


def test_late_packets_for_less_than_a_window_are_not_a_slow_clock() -> None:
    """A radio that delays everything by 5 s for 20 s (the device draining its buffer after): late
    is not slow, so no fault and no gap."""
    device = Device(latency=lambda k: 5.0 if 100 <= k < 200 else 0.03)
    run = send(timeline(), device, 600)
    assert_the_rule(run)
    assert run.faults() == [] and run.gaps() == [] and run.dropped() == 0


# ------------------------------------------------------------------ jumps


def test_a_clock_set_forward_is_re_timed_without_a_gap_or_a_drop() -> None:
    tl, device = timeline(), Device()
    run = send(tl, device, 50)
    device.jump = 60.0
    send(tl, device, 50, run)
    assert_the_rule(run)
    (fault,) = run.faults()
    assert fault.kind is ClockFaultKind.AHEAD and fault.error_s == pytest.approx(60.0, abs=0.1)
    assert run.gaps() == [] and run.dropped() == 0
    np.testing.assert_allclose(np.diff(run.t()), P, atol=0.06)


@pytest.mark.parametrize("seq", [True, False], ids=["sitsense", "polar"])
def test_a_clock_set_back_is_re_anchored_and_the_data_goes_on(seq: bool) -> None:
    """Set back a minute. A Polar (no sequence numbers) frame older than data already used was
    dropped as out of order, for a minute of data; a SitSense one re-anchored silently. Both are a
    fault now, the data goes on contiguous."""
    tl = timeline(seq=seq)
    device = Device(seq=seq)
    run = send(tl, device, 50)
    device.jump = -60.0
    send(tl, device, 50, run)
    assert_the_rule(run)
    assert all(p.verdict is Verdict.ACCEPTED for p, _ in run.placed)
    (fault,) = run.faults()
    assert fault.kind is ClockFaultKind.BEHIND and fault.error_s == pytest.approx(-60.0, abs=0.2)
    assert run.gaps() == [] and run.dropped() == 0
    # without the check, a Polar's frames are all out of order from the jump on
    tl0, device0 = timeline(check=False, seq=seq), Device(seq=seq)
    unchecked = send(tl0, device0, 50)
    device0.jump = -60.0
    send(tl0, device0, 50, unchecked)
    if not seq:
        assert [p.verdict for p, _ in unchecked.placed[50:]] == [Verdict.OUT_OF_ORDER] * 50


def test_a_small_jump_is_no_fault() -> None:
    """Forward by 1 s, inside the tolerance: a gap of the device time, as before."""
    tl, device = timeline(), Device()
    run = send(tl, device, 50)
    device.jump = 1.0
    send(tl, device, 50, run)
    assert run.faults() == []
    assert run.gaps() == [pytest.approx(1.0, abs=1e-6)]


def test_late_and_repeated_polar_frames_are_still_dropped_not_taken_for_a_jump() -> None:
    tl, device = timeline(seq=False), Device(seq=False)
    run = send(tl, device, 10)
    packet, _ = device.next()
    nxt, arrival_next = device.next()
    assert tl.push(nxt, arrival_next).verdict is Verdict.ACCEPTED
    assert tl.push(packet, arrival_next + 0.05).verdict is Verdict.OUT_OF_ORDER  # came after its successor
    assert tl.push(nxt, arrival_next + 0.05).verdict is Verdict.DUPLICATE
    assert run.faults() == []


# ------------------------------------------------------------------ no device clock


def microbit_packet() -> DecodedPacket:
    return DecodedPacket(np.zeros((1, 3), dtype=np.float32), period_s=P)


def send_arrivals(tl: PacketTimeline, arrivals: np.ndarray) -> Run:
    run = Run()
    for arrival in arrivals:
        run.placed.append((tl.push(microbit_packet(), float(arrival)), float(arrival)))
    return run


def test_samples_faster_than_the_declared_period_never_run_ahead() -> None:
    """A micro:bit sending five samples per period: timed at the period (at least half of it per
    sample), data time ran 2.5x the arrivals; now it stays on them."""
    arrivals = T0 + np.arange(int(60 / P * 5)) * P / 5
    run = send_arrivals(timeline(seq=False), arrivals)
    assert_the_rule(run)
    assert run.faults() and {f.kind for f in run.faults()} == {ClockFaultKind.AHEAD}
    assert run.dropped() > 0
    unchecked = send_arrivals(timeline(check=False, seq=False), arrivals)
    assert unchecked.max_lead() > 60


def test_samples_slower_than_the_declared_period_are_gaps_not_faults() -> None:
    arrivals = T0 + np.arange(int(60 / P / 2)) * P * 2
    run = send_arrivals(timeline(seq=False), arrivals)
    assert_the_rule(run)
    assert run.faults() == [] and run.dropped() == 0
    assert run.gaps()  # lagging more than the arrival gap threshold: re-anchored with a gap


# ------------------------------------------------------------------ host clock steps


def test_a_host_clock_step_is_not_a_device_fault() -> None:
    """The link shifts the mapping by a host step and its arrivals carry it too: nothing for the
    device clock check to see, either way."""
    tl, device = timeline(), Device()
    run = send(tl, device, 50)
    stepped = 0.0
    for step in (3600.0, -7200.0):
        tl.shift_clock(step)
        stepped += step

        def latency(_k: int, by: float = stepped) -> float:
            return 0.03 + by  # arrivals on the stepped clock

        device.latency = latency
        send(tl, device, 200, run)
    assert run.faults() == [] and run.dropped() == 0


# ------------------------------------------------------------------ the fault log


def test_fault_episodes_are_logged_once_and_end_after_a_quiet_spell() -> None:
    log = ClockFaultLog(enabled=True)
    ahead = ClockFault(ClockFaultKind.AHEAD, 3.0, 0.5)
    assert log.state(T0) == "ok"
    assert log.note(ahead, T0) is True
    assert log.note(ahead, T0 + 1) is False
    assert log.state(T0 + 1) == "ahead"
    assert log.note(ahead, T0 + 1 + QUIET_S - 1) is False
    assert log.state(T0 + 1 + 2 * QUIET_S) == "ok"
    assert log.note(ahead, T0 + 1 + 2 * QUIET_S) is True
    assert log.faults == 4
    assert ClockFaultLog(enabled=False).state(T0) == "off"


# ------------------------------------------------------------------ the assembler


@dataclass
class Rig:
    assembler: PacketAssembler
    out: list[SampleBlock | LinkEvent] = field(default_factory=list)

    def events(self, kind: LinkEventKind) -> list[LinkEvent]:
        return [i for i in self.out if isinstance(i, LinkEvent) and i.kind is kind]

    def blocks(self) -> list[SampleBlock]:
        return [i for i in self.out if isinstance(i, SampleBlock)]


def rig(profile: str = "sitsense", *, check: bool = True) -> Rig:
    out: list[SampleBlock | LinkEvent] = []
    settings = LinkSettings(block_max_s=10.0, malformed_log_interval_s=60.0)
    assembler = PacketAssembler(
        make_profile(profile, StreamConfig(rate_hz=50, range_g=8)),
        settings,
        out.append,
        Who("test", "AA"),
        check_device_clock=check,
    )
    assembler.new_session()
    return Rig(assembler, out)


def sitsense_frame(seq: int, t0_ms: int) -> bytes:
    counts = np.zeros((N, 3), dtype=np.int16)
    return fmt.encode_packet(seq, t0_ms, 50, 8, counts)


def test_the_assembler_logs_a_fast_device_once_counts_it_and_tallies_the_drops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    r = rig()
    # 10x fast: a frame of 0.2 s of device time every 0.02 s, for 30 s of arrivals
    for k in range(1500):
        now = k * SPAN / 10
        r.assembler.push(sitsense_frame(k, round(k * SPAN * 1000)), now, T0 + now)
        if k % 25 == 24:
            r.assembler.flush()
    r.assembler.end_session()
    warnings = [m for m in caplog.messages if "its arrival" in m]
    assert len(warnings) == 1 and "ahead of its arrival" in warnings[0]
    faults = r.assembler.clock_faults
    assert faults.faults > 1 and faults.dropped > 0 and faults.state(T0 + 30) == "ahead"
    held = r.events(LinkEventKind.HELD)
    assert held and sum(e.count or 0 for e in held) == faults.dropped
    t = np.concatenate([b.t for b in r.blocks()])
    assert np.all(np.diff(t) > 0) and t[-1] <= T0 + 30 + TOL


def test_the_time_a_slow_clock_skips_is_a_device_clock_gap() -> None:
    r = rig()
    for k in range(300):  # half the declared rate: 120 s of arrivals
        now = k * SPAN * 2
        r.assembler.push(sitsense_frame(k, round(k * SPAN * 1000)), now, T0 + now)
    r.assembler.flush()
    gaps = r.events(LinkEventKind.GAP)
    assert gaps and {g.reason for g in gaps} == {DEVICE_CLOCK_GAP}
    assert r.assembler.clock_faults.faults == len(gaps) >= 3  # one per window behind
    assert r.assembler.clock_faults.state(T0 + 120) == "behind"


def test_unchecked_the_assembler_is_as_before() -> None:
    r = rig(check=False)
    for k in range(100):
        now = k * SPAN / 10
        r.assembler.push(sitsense_frame(k, round(k * SPAN * 1000)), now, T0 + now)
    r.assembler.flush()
    assert r.assembler.clock_faults.state(T0) == "off"
    assert float(r.blocks()[-1].t[-1]) > T0 + 15  # 20 s of device time in 2 s


def test_the_rate_is_the_one_the_first_packet_declares() -> None:
    """A micro:bit V1 read back 80 ms for the 20 ms asked: 12.5 Hz from the first data on."""
    profile = MicrobitProfile(StreamConfig(rate_hz=50))
    out: list[SampleBlock | LinkEvent] = []
    assembler = PacketAssembler(profile, LinkSettings(), out.append)
    assert assembler.rate_hz == 50.0
    profile.apply_period(struct.pack("<H", 80))
    assembler.new_session()
    assembler.push(struct.pack("<3h", 0, 0, 1024), 0.0, T0)
    assert assembler.rate_hz == 12.5
    r = rig()
    r.assembler.push(fmt.encode_packet(0, 0, 25, 8, np.zeros((N, 3), np.int16)), 0.0, T0)
    assert r.assembler.rate_hz == 25.0  # what the SitSense packet says, whatever was configured
