"""Sequence and gap logic: device clock -> data time, lost/duplicate/reordered packets, no-clock timing."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.wearables.profiles.base import DecodedPacket
from monitor.wearables.timeline import PacketTimeline, Verdict

P = 0.02  # 50 Hz
N = 10  # samples per packet
T0 = 1_700_000_000.0  # arrival of the first packet, UTC


def xyz(n: int = N) -> np.ndarray:
    return np.zeros((n, 3), dtype=np.float32)


def seq_packet(seq: int, t_first: float, restart: bool = False) -> DecodedPacket:
    return DecodedPacket(xyz(), seq=seq % 65536, t_first=t_first, period_s=P, restart=restart)


def sitsense_timeline() -> PacketTimeline:
    return PacketTimeline(P, seq_modulus=65536, time_modulus_s=2**32 / 1000)


def test_first_packet_maps_device_clock_to_arrival():
    tl = sitsense_timeline()
    placed = tl.push(seq_packet(0, 100.0), arrival_utc=T0)
    assert placed.verdict is Verdict.ACCEPTED
    assert placed.t is not None
    # the last sample is taken as sampled at arrival
    assert placed.t[-1] == pytest.approx(T0)
    np.testing.assert_allclose(np.diff(placed.t), P, atol=1e-6)  # float64 ulp at 1.7e9 s
    assert placed.gap_s == 0


def test_consecutive_packets_are_contiguous_whatever_the_arrival_jitter():
    tl = sitsense_timeline()
    ts: list[np.ndarray] = []
    for k in range(50):
        arrival = T0 + k * N * P + (0.03 if k % 3 else 0.0)  # delivery jitter must not matter
        placed = tl.push(seq_packet(k, 100.0 + k * N * P), arrival)
        assert placed.verdict is Verdict.ACCEPTED and placed.gap_s == 0
        assert placed.t is not None
        ts.append(placed.t)
    t = np.concatenate(ts)
    np.testing.assert_allclose(np.diff(t), P, atol=1e-6)


def test_sequence_jump_is_a_gap_of_the_missing_device_time():
    tl = sitsense_timeline()
    first = tl.push(seq_packet(7, 100.0), T0)
    assert first.t is not None
    placed = tl.push(seq_packet(10, 100.0 + 3 * N * P), T0 + 0.1)  # packets 8 and 9 lost
    assert placed.lost_packets == 2
    assert placed.gap_s == pytest.approx(2 * N * P)
    assert placed.gap_start == pytest.approx(first.t[-1] + P)


def test_duplicate_and_reordered_packets_are_dropped():
    tl = sitsense_timeline()
    tl.push(seq_packet(1, 100.0), T0)
    tl.push(seq_packet(3, 100.0 + 2 * N * P), T0 + 0.4)  # 2 lost (or late)
    assert tl.push(seq_packet(3, 100.0 + 2 * N * P), T0 + 0.4).verdict is Verdict.DUPLICATE
    assert tl.push(seq_packet(2, 100.0 + N * P), T0 + 0.45).verdict is Verdict.OUT_OF_ORDER
    nxt = tl.push(seq_packet(4, 100.0 + 3 * N * P), T0 + 0.6)
    assert nxt.verdict is Verdict.ACCEPTED and nxt.gap_s == 0


def test_sequence_and_device_clock_wrap():
    tl = sitsense_timeline()
    wrap_s = 2**32 / 1000
    a = tl.push(seq_packet(65535, wrap_s - N * P), T0)
    b = tl.push(seq_packet(0, 0.0), T0 + 0.2)  # both counters wrapped
    assert b.verdict is Verdict.ACCEPTED and b.gap_s == 0
    assert a.t is not None and b.t is not None
    assert b.t[0] == pytest.approx(a.t[-1] + P)


def test_reconnect_gap_comes_from_the_device_clock_not_the_host():
    """An accelerated simulator runs its clock faster than ours: the gap must be device time."""
    tl = sitsense_timeline()
    a = tl.push(seq_packet(40, 100.0), T0)
    tl.new_session()
    b = tl.push(seq_packet(0, 130.0, restart=True), T0 + 1.0)  # 30 s of device time, 1 s of ours
    assert b.verdict is Verdict.ACCEPTED
    assert a.t is not None and b.t is not None
    assert b.gap_s == pytest.approx(30.0 - (N - 1) * P - P)
    assert b.t[0] == pytest.approx(a.t[0] + 30.0)


def test_device_reboot_remaps_without_going_back_in_time():
    tl = sitsense_timeline()
    a = tl.push(seq_packet(500, 5000.0), T0)
    tl.new_session()
    b = tl.push(seq_packet(0, 0.4, restart=True), T0 + 20.0)  # clock restarted at boot
    assert b.verdict is Verdict.ACCEPTED and b.reanchored
    assert a.t is not None and b.t is not None
    assert b.t[-1] == pytest.approx(T0 + 20.0)  # mapped afresh to the arrival
    assert b.gap_s == pytest.approx(20.0 - N * P)
    c = tl.push(seq_packet(1, 0.4 + N * P), T0 + 20.2)
    assert c.gap_s == 0


def test_restart_flag_on_a_live_link_accepts_the_new_sequence():
    tl = sitsense_timeline()
    tl.push(seq_packet(900, 100.0), T0)
    b = tl.push(seq_packet(0, 100.0 + N * P, restart=True), T0 + 0.2)
    assert b.verdict is Verdict.ACCEPTED and b.gap_s == 0


# ---------------------------------------------------------------- Polar: last-sample timestamps

POLAR_P = 1 / 52


def polar_frame(t_last: float, n: int = 36) -> DecodedPacket:
    return DecodedPacket(xyz(n), t_last=t_last)


def test_polar_spacing_follows_the_sensor_clock():
    tl = PacketTimeline(POLAR_P)
    true_p = POLAR_P * 1.0002  # the sensor's crystal is a little slow
    ts: list[np.ndarray] = []
    for k in range(20):
        placed = tl.push(polar_frame(50.0 + (k + 1) * 36 * true_p), T0 + k * 0.7)
        assert placed.verdict is Verdict.ACCEPTED and placed.gap_s == 0
        assert placed.t is not None
        ts.append(placed.t)
    steps = np.diff(np.concatenate(ts[1:]))
    np.testing.assert_allclose(steps, true_p, atol=1e-6)


def test_polar_missing_frame_is_a_gap_and_repeats_are_dropped():
    tl = PacketTimeline(POLAR_P)
    a = tl.push(polar_frame(10.0), T0)
    tl.push(polar_frame(10.0 + 36 * POLAR_P), T0 + 0.7)
    assert tl.push(polar_frame(10.0 + 36 * POLAR_P), T0 + 0.7).verdict is Verdict.DUPLICATE
    assert tl.push(polar_frame(10.0), T0 + 0.8).verdict is Verdict.OUT_OF_ORDER
    c = tl.push(polar_frame(10.0 + 3 * 36 * POLAR_P), T0 + 2.1)  # one frame lost
    assert c.gap_s == pytest.approx(36 * POLAR_P)
    assert a.t is not None and c.t is not None
    assert c.t[-1] - a.t[-1] == pytest.approx(3 * 36 * POLAR_P)


# ---------------------------------------------------------------- no device clock (micro:bit)


def one() -> DecodedPacket:
    return DecodedPacket(xyz(1))


def test_arrival_timing_is_regular_under_jitter_and_drift():
    rng = np.random.default_rng(3)
    tl = PacketTimeline(P)
    true_p = P * 1.01  # a 1 % slow board
    ts = []
    for k in range(3000):
        arrival = T0 + k * true_p + rng.uniform(0, 0.045)  # up to one 45 ms connection interval late
        placed = tl.push(one(), arrival)
        assert placed.gap_s == 0, k
        assert placed.t is not None
        ts.append(placed.t[0])
    t = np.array(ts)
    assert np.all(np.diff(t) > 0)
    # no accumulated drift: the times stay within a connection interval of the true sampling times
    truth = T0 + np.arange(3000) * true_p
    assert np.max(np.abs(t[100:] - truth[100:])) < 0.06


def test_bunched_arrivals_still_give_increasing_times():
    tl = PacketTimeline(P)
    ts = []
    for k in range(40):
        arrival = T0 + (k // 4) * 4 * P  # four samples delivered at once
        placed = tl.push(one(), arrival)
        assert placed.t is not None
        ts.append(placed.t[0])
    assert np.all(np.diff(ts) >= 0.5 * P - 1e-12)


def test_silence_without_a_clock_becomes_a_gap():
    tl = PacketTimeline(P, arrival_gap_s=0.5)
    for k in range(10):
        tl.push(one(), T0 + k * P)
    placed = tl.push(one(), T0 + 9 * P + 2.0)  # two seconds of nothing
    assert placed.gap_s == pytest.approx(2.0 - P, abs=1e-6)
    assert placed.t is not None and placed.t[0] == pytest.approx(T0 + 9 * P + 2.0)


def test_times_never_go_backwards_whatever_arrives():
    rng = np.random.default_rng(11)
    tl = sitsense_timeline()
    last = -np.inf
    for _ in range(2000):
        seq = int(rng.integers(0, 40))
        if rng.random() < 0.05:
            tl.new_session()
        packet = seq_packet(seq, 100.0 + seq * N * P + rng.normal(0, 0.01), restart=rng.random() < 0.05)
        placed = tl.push(packet, T0 + rng.uniform(0, 100))
        if placed.t is not None:
            assert placed.t[0] >= last
            assert np.all(np.diff(placed.t) > 0)
            last = placed.t[-1]
