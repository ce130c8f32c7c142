"""The packet assembler without Bluetooth: hand-built frames in the profiles' own formats, made-up
arrival times, and the blocks and events it hands on. One test on each side of each rule."""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pytest

from monitor.core.links import GapReason, LinkEvent, LinkEventKind
from monitor.core.types import SampleBlock
from monitor.wearables import sitsense_format as fmt
from monitor.wearables.assembler import News, PacketAssembler, Who
from monitor.wearables.profiles import StreamConfig, make_profile
from monitor.wearables.settings import LinkSettings

P = 0.02  # 50 Hz
N = 5  # samples per SitSense frame here
T0 = 1_700_000_000.0  # host UTC at monotonic time 0
RANGE_G = 8
COUNTS_PER_G = fmt.counts_per_g(RANGE_G)
INTERVAL_S = 60.0  # malformed_log_interval_s


def sitsense_frame(seq: int, *, t0_ms: int | None = None, flags: int = 0, n: int = N) -> bytes:
    """A SitSense packet whose x counts are its sequence number (so a test can tell which got through)."""
    counts = np.zeros((n, 3), dtype=np.int16)
    counts[:, 0] = seq
    counts[:, 2] = int(COUNTS_PER_G)
    start_ms = seq * n * 20 if t0_ms is None else t0_ms
    return fmt.encode_packet(seq, start_ms, 50, RANGE_G, counts, flags)


def microbit_frame(x_mg: int = 0) -> bytes:
    """One micro:bit sample: x, y, z int16 milli-g (no sequence number, no clock)."""
    return struct.pack("<3h", x_mg, 0, 1000)


@dataclass
class Rig:
    """An assembler and everything it emitted, fed with arrivals on made-up clocks."""

    assembler: PacketAssembler
    out: list[SampleBlock | LinkEvent] = field(default_factory=list)
    period_s: float = N * P  # arrival spacing of `send`
    stepped: float = 0.0  # the host clock's steps so far: arrivals on its UTC clock include them

    def push(self, data: bytes, now: float) -> News:
        return self.assembler.push(data, now, T0 + self.stepped + now)

    def step(self, seconds: float, cause: str, now: float) -> None:
        """The host clock steps at monotonic `now`: the assembler hears of it, and later arrivals
        (UTC) include it, as the link's `ClockWatch` maps them."""
        self.stepped += seconds
        self.assembler.clock_stepped(seconds, cause, T0 + self.stepped + now)

    def send(self, seqs: range | list[int], start: float = 0.0, **frame: int) -> list[News]:
        """SitSense frames `seqs`, arriving one `period_s` apart from `start` (monotonic seconds)."""
        return [self.push(sitsense_frame(s, **frame), start + k * self.period_s) for k, s in enumerate(seqs)]

    def blocks(self) -> list[SampleBlock]:
        return [i for i in self.out if isinstance(i, SampleBlock)]

    def events(self, kind: LinkEventKind | None = None) -> list[LinkEvent]:
        return [i for i in self.out if isinstance(i, LinkEvent) and (kind is None or i.kind is kind)]

    def kinds(self) -> list[str]:
        """Everything emitted, in order: "block" or the event kind."""
        return ["block" if isinstance(i, SampleBlock) else i.kind.value for i in self.out]

    def seqs(self) -> list[int]:
        """The sequence numbers whose samples were handed on, in order (one per frame)."""
        x = np.concatenate([b.xyz[:, 0] for b in self.blocks()])
        counts = np.rint(x * COUNTS_PER_G).astype(int)
        return [int(c) for c in counts[::N]]


def rig(profile: str = "sitsense", **settings: Any) -> Rig:
    link = replace(LinkSettings(block_max_s=10.0, malformed_log_interval_s=INTERVAL_S), **settings)
    out: list[SampleBlock | LinkEvent] = []
    assembler = PacketAssembler(
        make_profile(profile, StreamConfig(rate_hz=50, range_g=RANGE_G)), link, out.append, Who("test", "AA")
    )
    assembler.new_session()
    return Rig(assembler, out, N * P if profile == "sitsense" else P)


# ------------------------------------------------------------------ the stream


def test_a_clean_stream_is_one_block_after_connected_with_every_sample_in_order() -> None:
    r = rig()
    news = r.send(range(10))
    assert news[0] == News.FIRST_DATA and set(news[1:]) == {News.NONE}
    assert r.kinds() == ["connected"]  # the block waits for the batch's end
    r.assembler.flush()
    assert r.kinds() == ["connected", "block"]
    (block,) = r.blocks()
    assert len(block) == 10 * N and block.seq == 0
    np.testing.assert_allclose(np.diff(block.t), P, atol=1e-6)
    assert r.seqs() == list(range(10))
    (connected,) = r.events(LinkEventKind.CONNECTED)
    assert connected.t == block.t[0]
    counts = r.assembler.counts
    assert (counts.samples, counts.blocks, counts.gaps) == (10 * N, 1, 0)


def test_flush_with_nothing_pending_hands_on_nothing() -> None:
    r = rig()
    r.assembler.flush()
    assert r.out == []
    r.send([0])
    r.assembler.flush()
    r.assembler.flush()
    assert r.kinds() == ["connected", "block"]


def test_a_block_is_handed_on_when_it_spans_block_max_s() -> None:
    """block_max_s = 1 s: 50 samples (10 frames) span 0.98 s, the 11th frame reaches 1 s."""
    r = rig(block_max_s=1.0)
    r.send(range(10))
    assert r.blocks() == []  # 0.98 s: not yet
    r.send([10], start=10 * r.period_s)
    (block,) = r.blocks()  # reaching block_max_s hands it on without a flush
    assert len(block) == 11 * N
    r.send(range(11, 20), start=11 * r.period_s)
    r.assembler.flush()
    assert [len(b) for b in r.blocks()] == [11 * N, 9 * N]
    assert r.blocks()[1].seq == 11


# ------------------------------------------------------------------ gaps


def test_consecutive_sequence_numbers_are_no_gap() -> None:
    r = rig()
    r.send(range(3))
    r.assembler.flush()
    assert not r.events(LinkEventKind.GAP)


def test_a_sequence_jump_is_a_gap_and_the_pending_block_goes_out_before_it() -> None:
    r = rig()
    r.send(range(3))
    r.send([5, 6], start=5 * r.period_s)  # 3 and 4 lost
    r.assembler.flush()
    assert r.kinds() == ["connected", "block", "gap", "block"]
    (gap,) = r.events(LinkEventKind.GAP)
    before, after = r.blocks()
    assert gap.count == 2 and gap.reason == GapReason.PACKETS_LOST
    assert gap.seconds is not None and gap.seconds == pytest.approx(2 * N * P)
    assert gap.t == pytest.approx(before.t[-1] + P)
    assert after.t[0] == pytest.approx(gap.t + gap.seconds)
    assert after.seq == 5
    assert r.assembler.counts.gaps == 1 and r.assembler.counts.gap_seconds == pytest.approx(2 * N * P)


def test_a_gap_the_wearable_reports_is_a_device_overflow() -> None:
    r = rig()
    r.send([0])
    r.push(sitsense_frame(2, flags=fmt.FLAG_OVERFLOW), 2 * r.period_s)
    (gap,) = r.events(LinkEventKind.GAP)
    assert gap.reason == GapReason.DEVICE_OVERFLOW


def test_a_silence_without_a_device_clock_is_a_gap_only_past_arrival_gap_s() -> None:
    """micro:bit: one sample per notification, timed on arrival. Late by less than `arrival_gap_s`:
    pulled along, no gap; late by more: a gap."""
    r = rig("microbit", arrival_gap_s=0.5)
    for k in range(10):
        r.push(microbit_frame(), k * P)
    r.push(microbit_frame(), 10 * P + 0.15)  # a little late: pulled toward it
    assert not r.events(LinkEventKind.GAP)
    r.push(microbit_frame(), 11 * P + 1.0)  # 1 s late
    (gap,) = r.events(LinkEventKind.GAP)
    assert gap.seconds is not None and gap.seconds > 0.9 and gap.count is None


def test_the_first_data_after_a_reconnect_closes_the_time_the_link_was_down() -> None:
    r = rig()
    r.send(range(3))
    assert r.assembler.end_session() is True
    assert r.kinds() == ["connected", "block"]  # ending hands the pending block on
    r.assembler.new_session()
    news = r.send([10], start=10 * r.period_s)  # the wearable streamed on while we were away
    r.assembler.flush()
    assert news == [News.FIRST_DATA]
    assert r.kinds() == ["connected", "block", "reconnected", "gap", "block"]
    (gap,) = r.events(LinkEventKind.GAP)
    assert gap.reason == GapReason.LINK_LOST and gap.seconds == pytest.approx(7 * N * P)


def test_a_session_without_data_ends_unstreamed() -> None:
    r = rig()
    assert r.assembler.end_session() is False
    assert r.out == []


# ------------------------------------------------------------------ duplicates, reordering, malformed


def test_a_repeated_packet_is_a_duplicate_and_dropped() -> None:
    r = rig()
    r.send([0, 1, 1, 2])
    r.assembler.flush()
    assert r.seqs() == [0, 1, 2]
    assert r.assembler.duplicates() == 1 and r.assembler.out_of_order() == 0
    (dup,) = r.events(LinkEventKind.DUPLICATE)
    assert dup.count == 1 and dup.detail == "duplicate: 1"
    assert not r.events(LinkEventKind.GAP)


def test_an_older_packet_is_out_of_order_and_dropped() -> None:
    r = rig()
    r.send([0, 1, 3, 2, 4])  # 2 arrives after 3: 3 made a gap for it, 2 is too late to fill it
    r.assembler.flush()
    assert r.seqs() == [0, 1, 3, 4]
    assert r.assembler.out_of_order() == 1 and r.assembler.duplicates() == 0
    assert [e.count for e in r.events(LinkEventKind.OUT_OF_ORDER)] == [1]
    assert [g.count for g in r.events(LinkEventKind.GAP)] == [1]


def test_a_restarted_sequence_is_neither_duplicate_nor_out_of_order() -> None:
    """The wearable flags its first packet after (re)starting: a lower number is a new stream."""
    r = rig()
    r.send([0, 1, 2])
    r.push(sitsense_frame(0, t0_ms=10_000, flags=fmt.FLAG_STREAM_START), 3 * r.period_s)
    assert r.assembler.duplicates() == r.assembler.out_of_order() == 0
    assert r.assembler.counts.samples == 4 * N


def test_a_malformed_packet_is_counted_by_kind_and_dropped() -> None:
    r = rig()
    r.send([0])
    good = sitsense_frame(1)
    assert r.push(good[:-3], r.period_s) == News.NONE  # truncated
    assert r.push(good + b"\0" * 6, 2 * r.period_s) == News.NONE  # oversized
    r.send([2], start=3 * r.period_s)
    r.assembler.flush()
    assert r.assembler.malformed() == {"truncated": 1, "oversized": 1}
    assert r.seqs() == [0, 2]
    (malformed,) = r.events(LinkEventKind.MALFORMED)  # the second falls in the first's interval
    assert malformed.count == 1 and malformed.detail == "truncated: 1"


def test_a_well_formed_packet_is_not_malformed() -> None:
    r = rig()
    r.send(range(3))
    r.assembler.end_session()
    assert r.assembler.malformed() == {} and not r.events(LinkEventKind.MALFORMED)


def test_a_malformed_first_packet_is_timed_at_its_arrival() -> None:
    """Before any data there is no data time: the event sits at the packet's arrival."""
    r = rig()
    r.push(b"\x10\x00", 5.0)
    (malformed,) = r.events(LinkEventKind.MALFORMED)
    assert malformed.t == T0 + 5.0


# ------------------------------------------------------------------ tally rate limit


def test_tallies_are_reported_at_most_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="monitor.wearables.assembler")
    r = rig()
    r.send([0, 0])  # reported at once: nothing reported yet
    r.push(sitsense_frame(0), 10.0)  # within the interval: counted, not reported
    r.push(sitsense_frame(0), r.period_s + INTERVAL_S - 0.01)  # still within it
    assert [e.count for e in r.events(LinkEventKind.DUPLICATE)] == [1]
    r.push(sitsense_frame(0), r.period_s + INTERVAL_S)  # the interval is over: the three since, at once
    assert [e.count for e in r.events(LinkEventKind.DUPLICATE)] == [1, 3]
    lines = [rec.getMessage() for rec in caplog.records]
    assert lines == [
        "test - AA: dropped 1 duplicate packet(s) (duplicate: 1); last: seq 0",
        "test - AA: dropped 3 duplicate packet(s) (duplicate: 3); last: seq 0",
    ]


def test_the_end_of_a_session_reports_what_the_interval_held_back() -> None:
    r = rig()
    r.send([0, 0, 0])
    assert [e.count for e in r.events(LinkEventKind.DUPLICATE)] == [1]
    r.assembler.end_session()
    assert [e.count for e in r.events(LinkEventKind.DUPLICATE)] == [1, 1]
    r.assembler.end_session()  # nothing pending: nothing more
    assert len(r.events(LinkEventKind.DUPLICATE)) == 2


def test_each_family_has_its_own_interval() -> None:
    r = rig()
    r.send([0, 0])
    r.push(b"\x10", 2 * r.period_s)
    assert [e.kind for e in r.events() if e.count] == [LinkEventKind.DUPLICATE, LinkEventKind.MALFORMED]


# ------------------------------------------------------------------ battery


def test_battery_is_reported_from_the_first_data_on_and_once_per_change() -> None:
    r = rig()
    r.assembler.set_battery(80)
    assert r.out == []  # no data time yet
    r.send([0])
    assert r.kinds() == ["connected", "battery"]
    r.assembler.set_battery(80)
    assert len(r.events(LinkEventKind.BATTERY)) == 1
    r.assembler.set_battery(79)
    assert [e.level for e in r.events(LinkEventKind.BATTERY)] == [80, 79]
    assert r.events(LinkEventKind.BATTERY)[1].t == r.assembler.data_time()
    assert r.assembler.battery == 79


# ------------------------------------------------------------------ holds and clock steps


def test_a_forward_step_flushes_and_the_skipped_time_is_a_gap(caplog: pytest.LogCaptureFixture) -> None:
    r = rig()
    r.send(range(3))
    r.step(3600.0, "NTP sync after boot?", 3 * r.period_s)
    assert r.kinds() == ["connected", "block", "clock_step"]  # the data before the step goes first
    step = r.events(LinkEventKind.CLOCK_STEP)[0]
    assert step.seconds == 3600.0 and step.detail == "NTP sync after boot?"
    assert step.t == r.blocks()[0].t[-1]
    r.send([3, 4], start=3 * r.period_s)
    r.assembler.flush()
    (gap,) = r.events(LinkEventKind.GAP)
    assert gap.reason == GapReason.CLOCK_STEP and gap.seconds == pytest.approx(3600.0)
    assert "system clock stepped by +3600 s (NTP sync after boot?); data continues" in caplog.text


def test_only_the_first_gap_after_a_step_is_the_steps() -> None:
    r = rig()
    r.send(range(3))
    r.step(100.0, "set by hand", 3 * r.period_s)
    r.send([3], start=3 * r.period_s)
    r.send([6], start=6 * r.period_s)  # 4 and 5 lost on the radio
    reasons = [g.reason for g in r.events(LinkEventKind.GAP)]
    assert reasons == [GapReason.CLOCK_STEP, GapReason.PACKETS_LOST]


def test_a_backward_step_never_takes_data_time_back() -> None:
    """Set back 1 s (10 frames of 0.1 s): those are dropped, then data continues right after the
    last sample handed on; the link holds meanwhile and hears of its end."""
    r = rig()
    r.send(range(5))
    last = r.assembler.data_time()
    r.step(-1.0 - 0.5 * P, "set back by hand", 5 * r.period_s)
    news = r.send(range(5, 20), start=5 * r.period_s)
    r.assembler.flush()
    assert news[0] == News.HOLDING  # the step's own warning said why
    assert news[10] == News.HOLD_ENDED  # frame 15 starts after the last sample handed on
    (held,) = r.events(LinkEventKind.HELD)
    assert held.t == last and held.count == r.assembler.counts.held_samples
    assert held.count is not None and abs(held.count - 1.0 / P) <= N
    t = np.concatenate([b.t for b in r.blocks()])
    assert np.all(np.diff(t) > 0) and np.all(np.diff(t) <= P + 1e-6)
    assert not r.events(LinkEventKind.GAP)


def test_a_step_before_any_data_is_timed_on_the_host_clock() -> None:
    r = rig()
    r.assembler.clock_stepped(50.0, "NTP", T0 + 50.0)
    (step,) = r.events(LinkEventKind.CLOCK_STEP)
    assert step.t == T0 + 50.0
    assert r.assembler.hold_floor is None
