"""Live labels: the minimum-bout rule applied causally (LiveFilter) and the live output of a stream."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.core.types import CodeArray, EpochBlock, Placement, PostureCode, SampleBlock
from monitor.pipeline import PostureStream, StreamOutput, classify_recording, find_bouts
from monitor.pipeline.live import LiveFilter
from monitor.pipeline.settings import PipelineSettings

from .signals import RATE, T0, Seg, render
from .test_stream import _day

S, L, ST, M, C, NW, U = (
    PostureCode.SIT,
    PostureCode.LIE,
    PostureCode.STAND,
    PostureCode.MOVE,
    PostureCode.CYCLE,
    PostureCode.NON_WEAR,
    PostureCode.UNKNOWN,
)
CONFIRM = {S: 3, L: 3, ST: 2, M: 2, C: 3}


def codes(*runs: tuple[PostureCode, int]) -> CodeArray:
    return np.concatenate([np.full(n, int(code), dtype=np.uint8) for code, n in runs])


def live_labels(
    raw: CodeArray,
    chunks: list[int] | None = None,
    between: dict[tuple[PostureCode, PostureCode], int] | None = None,
) -> CodeArray:
    f = LiveFilter(CONFIRM, between)
    out, i = [], 0
    for n in chunks or [raw.shape[0]]:
        out.append(f.push(raw[i : i + n]))
        i += n
    out.append(f.push(raw[i:], final=True))
    return np.concatenate(out)


def test_a_run_shorter_than_its_confirmation_takes_the_posture_it_interrupted() -> None:
    raw = codes((S, 10), (ST, 1), (S, 5), (M, 1), (ST, 1), (S, 2), (ST, 30))
    want = codes((S, 20), (ST, 30))
    np.testing.assert_array_equal(live_labels(raw), want)


def test_a_confirmed_run_is_labelled_from_its_first_epoch() -> None:
    raw = codes((ST, 10), (S, 3), (ST, 2), (C, 3), (M, 2))
    np.testing.assert_array_equal(live_labels(raw), raw)


def test_between_moving_and_cycling_the_change_needs_cycling_s_whole_minimum_bout() -> None:
    between = {(M, C): 15, (C, M): 15}
    raw = codes((ST, 5), (M, 10), (C, 6), (M, 5), (C, 20), (M, 4), (ST, 3))
    want = codes((ST, 5), (M, 21), (C, 24), (ST, 3))
    np.testing.assert_array_equal(live_labels(raw, between=between), want)
    # From any other posture cycling needs only its own confirmation.
    raw = codes((ST, 5), (C, 3), (ST, 2))
    np.testing.assert_array_equal(live_labels(raw, between=between), raw)


def test_unknown_passes_through_and_non_wear_is_immediate() -> None:
    raw = codes((S, 6), (U, 4), (ST, 1), (S, 4), (NW, 1), (S, 1))
    want = codes((S, 6), (U, 4), (S, 5), (NW, 1), (NW, 1))
    np.testing.assert_array_equal(live_labels(raw), want)


def test_at_the_start_short_runs_wait_for_the_first_confirmed_posture_and_take_it() -> None:
    raw = codes((M, 1), (C, 2), (M, 1), (S, 5), (ST, 1), (S, 3))
    want = codes((S, 13))
    np.testing.assert_array_equal(live_labels(raw), want)
    f = LiveFilter(CONFIRM)
    assert f.push(codes((M, 1), (C, 2), (M, 1))).shape[0] == 0 and f.held == 4


def test_before_any_confirmed_posture_a_silence_lets_short_runs_out_with_their_own_labels() -> None:
    raw = codes((M, 1), (C, 2), (U, 4), (ST, 1), (S, 4))
    want = codes((M, 1), (C, 2), (U, 4), (S, 5))
    np.testing.assert_array_equal(live_labels(raw), want)
    f = LiveFilter(CONFIRM)
    np.testing.assert_array_equal(f.push(codes((M, 1), (C, 2), (U, 4))), codes((M, 1), (C, 2), (U, 4)))
    assert f.held == 0  # a stream may skip a long silence now
    # At the end of the data a short run keeps its own label.
    np.testing.assert_array_equal(live_labels(codes((M, 1))), codes((M, 1)))


def test_any_chunking_gives_the_same_labels_and_holds_at_most_confirmation_minus_one() -> None:
    rng = np.random.default_rng(3)
    choices = np.array([S, ST, M, C, L, U, NW], dtype=np.uint8)
    raw = np.repeat(choices[rng.integers(0, 7, 400)], rng.integers(1, 6, 400))
    whole = live_labels(raw)
    for _ in range(5):
        chunks = rng.integers(1, 12, raw.shape[0]).tolist()
        np.testing.assert_array_equal(live_labels(raw, chunks), whole)
    f = LiveFilter(CONFIRM)
    for code in raw:
        f.push(np.array([code], dtype=np.uint8))
        # Held: at most confirmation - 1 once a posture is confirmed (before, short runs wait for it).
        assert not f.confirmed or f.held <= max(CONFIRM.values()) - 1
    assert f.confirmed
    # No run of the live labels is shorter than its confirmation, but at the edges of `unknown`.
    inner = [b for b in find_bouts(EpochBlock(0.0, whole))[1:-1] if b.label.code not in (U, NW)]
    assert inner
    for bout in inner:
        edge = whole[int(bout.start) - 1] == U or whole[int(bout.end)] == U
        assert edge or bout.end - bout.start >= CONFIRM[PostureCode(bout.label.code)], bout


def test_peek_is_what_the_end_of_data_would_give_and_changes_nothing() -> None:
    raw = codes((ST, 8), (S, 2))
    f = LiveFilter(CONFIRM)
    out = f.push(raw)
    assert out.shape[0] == 8 and f.held == 2
    tail, since = f.peek(codes((S, 3)))
    np.testing.assert_array_equal(tail, codes((S, 5)))  # the sit is confirmed by what follows
    assert since == 8
    tail, since = f.peek(codes((S, 0)))
    np.testing.assert_array_equal(tail, codes((ST, 2)))  # unconfirmed: the live posture
    assert since == 0
    assert f.held == 2 and f.next_epoch == 8
    np.testing.assert_array_equal(f.push(codes((S, 0)), final=True), codes((ST, 2)))


def _live_run(
    t: np.ndarray, xyz: np.ndarray, block: int, settings: PipelineSettings | None = None
) -> tuple[EpochBlock, EpochBlock, list[tuple[float, StreamOutput]]]:
    stream = PostureStream(Placement.THIGH, RATE, settings or PipelineSettings(process_every_s=0), live=True)
    final, live, seen = [], [], []
    for i in range(0, t.shape[0], block):
        out = stream.feed_live(SampleBlock(t[i : i + block], xyz[i : i + block]))
        final.append(out.final)
        live.append(out.live)
        seen.append((float(t[min(i + block, t.shape[0]) - 1]), out))
    out = stream.flush_live()
    final.append(out.final)
    live.append(out.live)
    assert len(out.held) == 0
    return EpochBlock.concat(final), EpochBlock.concat([b for b in live if len(b)]), seen


def test_live_output_leaves_the_final_labels_unchanged_and_covers_the_same_epochs() -> None:
    t, xyz = _day()
    batch = classify_recording(t, xyz, RATE, Placement.THIGH)
    final, live, _ = _live_run(t, xyz, 37)
    np.testing.assert_array_equal(final.labels, batch.labels)
    assert (live.t0, len(live)) == (batch.t0, len(batch))
    # They differ only within seconds of transitions (docs/pipeline.md gives the measured agreement).
    assert (live.labels == final.labels).mean() > 0.98


def test_live_labels_trail_the_samples_by_a_few_seconds_while_moving() -> None:
    t, xyz = render([Seg(60, walk=True), Seg(60, incl=85, sd=0.03, axis="forward"), Seg(60, incl=3, sd=0.03)])
    _, _, seen = _live_run(t, xyz, 50)
    for newest, out in seen[10:]:
        if len(out.live):
            # window [k - 0.5, k + 1.5) + confirmation (3) - 1 + a second of slack
            assert newest - out.live.t_end <= 1.5 + 2 + 1
            assert len(out.held) <= 2


def test_posture_and_since_follow_the_changes() -> None:
    t, xyz = render([Seg(60, walk=True), Seg(60, incl=85, sd=0.03, axis="forward"), Seg(60, incl=3, sd=0.03)])
    _, _, seen = _live_run(t, xyz, 50)
    shown: list[tuple[float, PostureCode, float]] = []
    for newest, out in seen:
        p = out.posture
        if p is not None and (not shown or shown[-1][1:] != (p.code, p.since)):
            shown.append((newest, p.code, p.since))
    assert [code for _, code, _ in shown] == [M, S, ST]
    for (at, _, since), change in zip(shown[1:], (T0 + 60, T0 + 120), strict=True):
        assert abs(since - change) <= 1.5  # the run begins where the posture changed
        assert at - change <= 1.5 + 3 + 1  # and shows within the window + confirmation (+ a block)


def test_a_still_device_shows_its_posture_held_and_becomes_non_wear_when_decided() -> None:
    desk = Seg(900, gravity=(0.0, 0.0, 1.0), noise=0.001)
    t, xyz = render([Seg(60, walk=True), desk, Seg(30, walk=True)])
    final, live, seen = _live_run(t, xyz, 100)
    # Non-wear holds the still epochs (up to 10 min): meanwhile they come as `held`, as if worn.
    during = [out for newest, out in seen if T0 + 100 < newest < T0 + 600]
    assert all(len(out.live) == 0 or out.live.t_end < T0 + 65 for out in during)
    assert max(len(out.held) for out in during) > 400
    assert all(out.posture is not None and out.posture.code == S for out in during)
    # Once decided, the live labels say non-wear, as the final ones do.
    window = slice(int(T0 + 80 - live.t0), int(T0 + 940 - live.t0))
    assert set(live.labels[window].tolist()) == {NW}
    np.testing.assert_array_equal(live.labels[window], final.labels[window])
    assert seen[-1][1].posture is not None and seen[-1][1].posture.code == M


def test_a_long_silence_comes_out_as_unknown_live_epochs_too() -> None:
    t1, x1 = render([Seg(90, incl=85), Seg(30, walk=True)], seed=1)
    t2, x2 = render([Seg(40, walk=True), Seg(60, incl=5)], seed=2, t0=float(t1[-1]) + 3 * 3600 + 0.3)
    t, xyz = np.concatenate((t1, t2)), np.concatenate((x1, x2))
    final, live, _ = _live_run(t, xyz, 500)
    assert (live.t0, len(live)) == (final.t0, len(final))
    gap = slice(int(t1[-1] - live.t0) + 2, int(t2[0] - live.t0) - 1)
    assert set(live.labels[gap].tolist()) == {U}


def test_feed_live_needs_a_live_stream() -> None:
    t, xyz = render([Seg(10, incl=85)])
    with pytest.raises(RuntimeError, match="live=True"):
        PostureStream(Placement.THIGH, RATE).feed_live(SampleBlock(t, xyz))
