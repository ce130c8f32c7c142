"""Minimum bout durations and bout lists."""

from __future__ import annotations

import numpy as np

from monitor.core.types import Bout, EpochBlock, Posture, PostureCode
from monitor.pipeline import BoutTracker, find_bouts
from monitor.pipeline.settings import PipelineSettings

from .signals import Seg, labels


def _sit_runs(out: list[str]) -> list[int]:
    runs, n = [], 0
    for label in [*out, ""]:
        if label == "sit":
            n += 1
        elif n:
            runs.append(n)
            n = 0
    return runs


def test_sit_shorter_than_keep_is_absorbed() -> None:
    """2 s past 45 deg is no longer than a transition window: not a sit."""
    out = labels([Seg(20, incl=5), Seg(2, incl=85), Seg(20, incl=5)])
    assert "sit" not in out


def test_short_real_sit_is_lengthened_to_the_minimum() -> None:
    """A brief sit whose clean windows last 3-4 s (the jumps in and out blur two windows each) is
    kept, as one bout of at least the 5 s minimum; without the lengthening it would be absorbed."""
    segs = [Seg(20, incl=5), Seg(5, incl=85), Seg(20, incl=5)]
    runs = _sit_runs(labels(segs))
    assert len(runs) == 1
    assert 5 <= runs[0] <= 7
    assert "sit" not in labels(segs, settings=PipelineSettings(sit_keep_s=10.0))


def test_sit_longer_than_minimum_keeps_its_length() -> None:
    out = labels([Seg(20, incl=5), Seg(9, incl=85), Seg(20, incl=5)])
    assert _sit_runs(out) == [9]


def test_minimum_is_configurable() -> None:
    settings = PipelineSettings(min_sit_s=10.0)
    out = labels([Seg(20, incl=5), Seg(7, incl=85), Seg(20, incl=5)], settings=settings)
    assert len(_sit_runs(out)) == 1
    assert _sit_runs(out)[0] >= 10
    no_keep = PipelineSettings(min_sit_s=10.0, sit_keep_s=10.0)
    assert "sit" not in labels([Seg(20, incl=5), Seg(7, incl=85), Seg(20, incl=5)], settings=no_keep)


def test_short_stand_inside_sitting_is_absorbed() -> None:
    out = labels([Seg(20, incl=85), Seg(1, incl=5), Seg(20, incl=85)])
    assert set(out[2:-2]) == {"sit"}


def _block(codes: list[PostureCode], t0: float = 100.0) -> EpochBlock:
    return EpochBlock(t0, np.array(codes, dtype=np.uint8))


def test_find_bouts_maximal_runs() -> None:
    s, m = PostureCode.SIT, PostureCode.MOVE
    assert find_bouts(_block([s, s, m, s])) == [
        Bout(100.0, 102.0, Posture.SIT),
        Bout(102.0, 103.0, Posture.MOVE),
        Bout(103.0, 104.0, Posture.SIT),
    ]
    assert find_bouts(_block([])) == []


def test_bout_tracker_joins_blocks_and_splits_at_time_jumps() -> None:
    s, m = PostureCode.SIT, PostureCode.MOVE
    tracker = BoutTracker()
    assert tracker.feed(_block([s, s], 0.0)) == []
    assert tracker.feed(_block([s, m], 2.0)) == [Bout(0.0, 3.0, Posture.SIT)]
    assert tracker.current == Bout(3.0, 4.0, Posture.MOVE)
    # A jump in time (no epochs for 4..10) closes the open bout where its data ended.
    assert tracker.feed(_block([m], 10.0)) == [Bout(3.0, 4.0, Posture.MOVE)]
    assert tracker.close() == Bout(10.0, 11.0, Posture.MOVE)
    assert tracker.current is None


def test_streaming_median_equals_scipy_medfilt_in_any_chunking() -> None:
    """The per-class median is acti-motus's `medfilt(mask, 2 * bout - 1)`, zero-padded at the ends."""
    from scipy.signal import medfilt

    from monitor.pipeline.bouts import MedianMaskStream

    rng = np.random.default_rng(9)
    for _ in range(40):
        halves = rng.integers(0, 8, size=4)
        x = rng.random((150, 4)) < 0.5
        expected = np.stack(
            [medfilt(x[:, c].astype(int), 2 * int(h) + 1).astype(bool) for c, h in enumerate(halves)], axis=1
        )
        stream = MedianMaskStream(halves.tolist())
        out, i = [], 0
        while i < x.shape[0]:
            n = int(rng.integers(1, 20))
            out.append(stream.push(x[i : i + n]))
            i += n
        out.append(stream.push(np.zeros((0, 4), dtype=bool), final=True))
        np.testing.assert_array_equal(np.concatenate(out), expected)
