"""Host clock steps and holds on the timeline, with made-up times: forward steps are gaps, backward
steps and holds never take data time back, and nothing is invented."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.wearables.profiles.base import DecodedPacket
from monitor.wearables.timeline import PacketTimeline, PlacedPacket, Verdict

P = 0.02  # 50 Hz
N = 10  # samples per packet
T0 = 1_700_000_000.0  # arrival of the first packet, UTC
STEP = 3542.0  # an NTP sync after boot


def packet(seq: int, dev: float | None = None) -> DecodedPacket:
    xyz = np.arange(N * 3, dtype=np.float32).reshape(N, 3)
    return DecodedPacket(xyz, seq=seq % 65536, t_first=dev, period_s=P)


def clocked() -> PacketTimeline:
    return PacketTimeline(P, seq_modulus=65536, time_modulus_s=2**32 / 1000)


def feed(tl: PacketTimeline, k0: int, count: int, host_offset: float = 0.0) -> list[PlacedPacket]:
    """Packets k0..k0+count-1 of a device whose clock reads 100 s at packet 0, arriving on a host
    clock `host_offset` away from the one that saw packet 0."""
    return [
        tl.push(packet(k, 100.0 + k * N * P), T0 + host_offset + k * N * P) for k in range(k0, k0 + count)
    ]


def accepted_t(placements: list[PlacedPacket]) -> np.ndarray:
    return np.concatenate([p.t for p in placements if p.verdict is Verdict.ACCEPTED and p.t is not None])


def test_forward_step_moves_the_device_clock_mapping_and_the_jump_is_a_gap() -> None:
    tl = clocked()
    before = accepted_t(feed(tl, 0, 5))
    tl.shift_clock(STEP)
    after = feed(tl, 5, 5, host_offset=STEP)
    assert all(p.verdict is Verdict.ACCEPTED for p in after)
    first = after[0]
    assert first.t is not None
    # the next sample sits exactly one period after the last one, plus the step
    assert first.t[0] == pytest.approx(before[-1] + P + STEP)
    assert first.gap_start == pytest.approx(before[-1] + P)
    assert first.gap_s == pytest.approx(STEP)
    assert all(p.gap_s == 0 for p in after[1:])
    # the mapping stays moved: data after the step is contiguous at the corrected time
    np.testing.assert_allclose(np.diff(accepted_t(after)), P, atol=1e-6)


def test_small_step_is_applied_in_full_and_keeps_sample_spacing() -> None:
    tl = clocked()
    before = accepted_t(feed(tl, 0, 3))
    tl.shift_clock(2.5)
    (p,) = feed(tl, 3, 1, host_offset=2.5)
    assert p.t is not None and p.gap_s == pytest.approx(2.5)
    assert p.t[0] - before[-1] == pytest.approx(P + 2.5)


def test_backward_step_holds_until_the_corrected_time_passes_the_last_sample() -> None:
    tl = clocked()
    before = accepted_t(feed(tl, 0, 50))  # 10 s of data
    last = before[-1]
    tl.shift_clock(-4.0)
    assert tl.hold_floor == pytest.approx(last)
    after = feed(tl, 50, 50, host_offset=-4.0)
    held = [p for p in after if p.verdict is Verdict.HELD]
    kept = [p for p in after if p.verdict is Verdict.ACCEPTED]
    # 4 s of samples would have landed on data time already handed on: dropped, not re-timed
    assert sum(p.skip for p in after) == pytest.approx(4.0 / P, abs=1)
    assert len(held) == pytest.approx(4.0 / (N * P), abs=1)
    t = accepted_t(kept)
    assert t[0] > last
    assert np.all(np.diff(t) > 0)
    assert all(p.gap_s == 0 for p in kept)  # contiguous with the data before, no gap invented
    assert tl.hold_floor is None
    # the corrected mapping holds from then on: each sample is device time + the new offset
    assert kept[-1].t is not None
    assert kept[-1].t[-1] == pytest.approx(before[0] + 99 * N * P + (N - 1) * P - 4.0, abs=P)


def test_partly_held_packet_hands_on_only_its_samples_after_the_floor() -> None:
    tl = clocked()
    before = accepted_t(feed(tl, 0, 5))
    tl.shift_clock(-(N * P + 3 * P))  # a step of one packet and three samples
    held, partial = feed(tl, 5, 2, host_offset=-(N * P + 3 * P))
    assert held.verdict is Verdict.HELD and held.skip == N
    assert partial.verdict is Verdict.ACCEPTED and partial.skip == 3
    assert partial.t is not None and len(partial.t) == N - 3
    assert partial.t[0] > before[-1]
    assert partial.t[0] - before[-1] == pytest.approx(P, abs=1e-6)


def test_hold_from_outside_drops_until_the_data_passes_it_then_starts_there() -> None:
    """A restart with the clock 60 s behind data already stored up to `stored`."""
    tl = clocked()
    stored = T0 + 60.0
    tl.hold_until(stored)
    placed = feed(tl, 0, 400)  # 80 s of data, clock behind
    held = [p for p in placed if p.verdict is Verdict.HELD]
    kept = [p for p in placed if p.verdict is Verdict.ACCEPTED]
    assert held and kept
    assert all(p.verdict is Verdict.HELD for p in placed[: len(held)])  # held first, then accepted
    t = accepted_t(kept)
    assert t[0] > stored and t[0] - stored <= P + 1e-6
    assert np.all(np.diff(t) > 0)
    assert sum(p.skip for p in placed) == pytest.approx(60.0 / P + N - 1, abs=2)


def test_forward_step_during_a_hold_ends_it_at_once() -> None:
    """Restart with the clock behind stored data, then NTP syncs: data continues at the right time."""
    tl = clocked()
    tl.hold_until(T0 + 3600.0)
    assert all(p.verdict is Verdict.HELD for p in feed(tl, 0, 5))
    tl.shift_clock(STEP + 120.0)  # the true time is two minutes past the stored data
    (p,) = feed(tl, 5, 1, host_offset=STEP + 120.0)
    assert p.verdict is Verdict.ACCEPTED and p.skip == 0 and p.gap_s == 0
    assert p.t is not None
    assert p.t[-1] == pytest.approx(T0 + STEP + 120.0 + 5 * N * P)
    assert tl.hold_floor is None


def test_hold_already_passed_is_ignored() -> None:
    tl = clocked()
    t = accepted_t(feed(tl, 0, 5))
    tl.hold_until(t[0])
    assert tl.hold_floor is None
    (p,) = feed(tl, 5, 1)
    assert p.verdict is Verdict.ACCEPTED and p.skip == 0


# ---------------------------------------------------------------- no device clock (micro:bit)


def no_clock(k: int) -> DecodedPacket:
    return DecodedPacket(np.zeros((N, 3), dtype=np.float32), seq=k)


def test_without_a_clock_a_forward_step_anchors_on_the_next_arrival_as_a_gap() -> None:
    tl = PacketTimeline(P, seq_modulus=65536)
    t_before = accepted_t([tl.push(no_clock(k), T0 + k * N * P) for k in range(5)])
    tl.shift_clock(STEP)
    p = tl.push(no_clock(5), T0 + STEP + 5 * N * P)
    assert p.t is not None
    assert p.t[-1] == pytest.approx(T0 + STEP + 5 * N * P)
    assert p.gap_s == pytest.approx(STEP, abs=P)
    assert p.gap_start == pytest.approx(t_before[-1] + P)


def test_without_a_clock_a_backward_step_holds_instead_of_slowing_data_down() -> None:
    tl = PacketTimeline(P, seq_modulus=65536)
    t_before = accepted_t([tl.push(no_clock(k), T0 + k * N * P) for k in range(50)])
    tl.shift_clock(-3.0)
    placed = [tl.push(no_clock(k), T0 - 3.0 + k * N * P) for k in range(50, 100)]
    held = [p for p in placed if p.verdict is Verdict.HELD]
    kept = [p for p in placed if p.verdict is Verdict.ACCEPTED]
    assert len(held) == pytest.approx(3.0 / (N * P), abs=1)
    t = accepted_t(kept)
    assert t[0] > t_before[-1] and np.all(np.diff(t) > 0)
    # after the hold the samples follow their (corrected) arrival times, at the nominal rate
    assert kept[-1].t is not None
    assert kept[-1].t[-1] == pytest.approx(T0 - 3.0 + 99 * N * P, abs=2 * P)
