"""PostureStream: live == offline for any chunking, gaps, bad samples, lifecycle."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_sim.motion import Activity, MotionConfig, MotionModel, Segment
from monitor.core.types import EpochBlock, Placement, SampleBlock
from monitor.pipeline import PostureStream, classify_recording
from monitor.pipeline.settings import PipelineSettings

from .signals import RATE, T0, Seg, render


def _day(placement: str = "thigh", seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    schedule = [
        Segment(Activity.WALK, 60),
        Segment(Activity.SIT, 240),
        Segment(Activity.STAND, 40),
        Segment(Activity.WALK, 90),
        Segment(Activity.CYCLE, 120),
        Segment(Activity.STAIRS_UP, 30),
        Segment(Activity.DESK, 700),
        Segment(Activity.SIT, 120),
        Segment(Activity.LIE, 60),
        Segment(Activity.RUN, 40),
    ]
    model = MotionModel(schedule, MotionConfig(placement=placement, seed=seed))
    xyz = model.render(0, model.n_samples)
    t = T0 + 0.37 + model.times(0, model.n_samples)
    # Two link losses: samples missing for 7.3 s and 42 s.
    keep = ~(((t > T0 + 200) & (t < T0 + 207.3)) | ((t > T0 + 1100) & (t < T0 + 1142)))
    return t[keep], xyz[keep]


def _stream(
    t: np.ndarray, xyz: np.ndarray, placement: Placement, chunks: np.ndarray, every: float
) -> EpochBlock:
    stream = PostureStream(placement, RATE, PipelineSettings(process_every_s=every))
    out = []
    i = 0
    for n in chunks:
        if i >= t.shape[0]:
            break
        out.append(stream.feed(SampleBlock(t[i : i + n], xyz[i : i + n])))
        i += int(n)
    if i < t.shape[0]:
        out.append(stream.feed(SampleBlock(t[i:], xyz[i:])))
    out.append(stream.flush())
    return EpochBlock.concat(out)


@pytest.mark.parametrize("placement", [Placement.THIGH, Placement.WAIST, Placement.WRIST])
def test_streaming_equals_batch_for_random_chunkings(placement: Placement) -> None:
    t, xyz = _day(placement.value)
    batch = classify_recording(t, xyz, RATE, placement)
    assert batch.t0 == np.floor(t[0])
    assert len(batch) == int(np.floor(t[-1]) - np.floor(t[0])) + 1
    rng = np.random.default_rng(11)
    for trial in range(4):
        chunks = rng.integers(3, 41, size=t.shape[0] // 3)
        every = [0.0, 1.0, 10.0, 37.0][trial]
        live = _stream(t, xyz, placement, chunks, every)
        assert live.t0 == batch.t0
        np.testing.assert_array_equal(live.labels, batch.labels, err_msg=f"trial {trial}, every {every}")


def test_epochs_are_emitted_with_bounded_delay_while_moving() -> None:
    t, xyz = render([Seg(120, walk=True), Seg(120, incl=80, sd=0.03, axis="forward")])
    stream = PostureStream(Placement.THIGH, RATE, PipelineSettings(process_every_s=0))
    emitted = 0
    for i in range(0, t.shape[0], 50):
        emitted += len(stream.feed(SampleBlock(t[i : i + 50], xyz[i : i + 50])))
        seconds_fed = (i + 50) / RATE
        if seconds_fed > 60:
            # 2 s window + short-sit padding (13 epochs) + two median passes over the longest bout
            # (cycle, 15 s) + slack.
            assert seconds_fed - emitted <= 2 + 13 + 2 * 14 + 2
    assert emitted > 200


def test_gap_in_samples_becomes_unknown() -> None:
    t, xyz = render([Seg(40, incl=85), Seg(40, incl=85)])
    keep = (t < T0 + 20) | (t >= T0 + 31)
    block = classify_recording(t[keep], xyz[keep], RATE, Placement.THIGH)
    labels = [e.label.value for e in block.epochs()]
    assert labels[20:31] == ["unknown"] * 11
    assert set(labels[2:19]) == {"sit"}
    assert set(labels[33:78]) == {"sit"}


def test_bad_samples_are_dropped_not_fatal() -> None:
    t, xyz = render([Seg(30, incl=85)])
    xyz[101] = np.nan
    # A packet of 10 samples delivered twice (the replay comes from the past and is refused).
    t = np.concatenate((t[:201], t[150:160], t[201:]))
    xyz = np.concatenate((xyz[:201], xyz[150:160], xyz[201:]))
    stream = PostureStream(Placement.THIGH, RATE)
    out = [stream.feed(SampleBlock(t, xyz)), stream.flush()]
    assert stream.dropped_samples == 11
    assert set(EpochBlock.concat(out).labels.tolist()) == {0}  # all sit


def test_feed_after_flush_is_an_error() -> None:
    t, xyz = render([Seg(10, incl=85)])
    stream = PostureStream(Placement.THIGH, RATE)
    stream.feed(SampleBlock(t, xyz))
    stream.flush()
    with pytest.raises(RuntimeError, match="after flush"):
        stream.feed(SampleBlock(t, xyz))


def test_epochs_align_to_whole_seconds_of_data_time() -> None:
    t, xyz = render([Seg(20, incl=85)], t0=T0 + 0.6)
    block = classify_recording(t, xyz, RATE, Placement.THIGH)
    assert block.t0 == T0
    assert [e.t for e in block.epochs()][:2] == [T0, T0 + 1]


def test_long_silence_is_unknown_and_labels_match_dense_processing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A silence of hours comes through as `unknown` epochs without summing empty bins; the labels are
    exactly those of processing the empty time densely, in any chunking."""
    from monitor.pipeline import windows

    t1, x1 = render([Seg(90, incl=85), Seg(30, walk=True)], seed=1)
    t2, x2 = render([Seg(40, walk=True), Seg(60, incl=5)], seed=2, t0=float(t1[-1]) + 3 * 3600 + 0.3)
    t3, x3 = render([Seg(60, incl=85)], seed=3, t0=float(t2[-1]) + 1500.7)
    t = np.concatenate((t1, t2, t3))
    xyz = np.concatenate((x1, x2, x3))
    sparse = classify_recording(t, xyz, RATE, Placement.THIGH)
    gap = slice(int(t1[-1] - sparse.t0) + 2, int(t2[0] - sparse.t0) - 1)
    assert set(sparse.labels[gap].tolist()) == {6}  # unknown
    assert len(sparse) == int(np.floor(t[-1]) - np.floor(t[0])) + 1
    rng = np.random.default_rng(4)
    live = _stream(t, xyz, Placement.THIGH, rng.integers(3, 41, size=t.shape[0] // 3), 0.0)
    np.testing.assert_array_equal(live.labels, sparse.labels)
    monkeypatch.setattr(windows, "LONG_GAP_S", 1e12)
    dense = classify_recording(t, xyz, RATE, Placement.THIGH)
    np.testing.assert_array_equal(dense.labels, sparse.labels)


def test_a_pass_asked_for_runs_at_once_and_labels_do_not_change() -> None:
    """`feed(..., process_now=True)` runs a pass on what waits, whatever `process_every_s` says; the
    labels are those of batch processing whichever blocks ask (the caller only moves their timing)."""
    t, xyz = _day()
    batch = classify_recording(t, xyz, RATE, Placement.THIGH)
    stream = PostureStream(Placement.THIGH, RATE, PipelineSettings(process_every_s=300))
    rng = np.random.default_rng(5)
    out = []
    for i in range(0, t.shape[0], 50):
        block = SampleBlock(t[i : i + 50], xyz[i : i + 50])
        out.append(stream.feed(block, process_now=bool(rng.random() < 0.1)))
    out.append(stream.flush())
    np.testing.assert_array_equal(EpochBlock.concat(out).labels, batch.labels)


def _queued_since(stream: PostureStream) -> float | None:
    return stream.queued_since


def test_process_now_empties_the_queue_and_the_threshold_stays_fixed() -> None:
    t, xyz = render([Seg(150, walk=True)])
    stream = PostureStream(Placement.THIGH, RATE, PipelineSettings(process_every_s=300))
    assert _queued_since(stream) is None
    waited = stream.feed(SampleBlock(t[:5000], xyz[:5000]))  # 100 s: under the 300 s of a pass
    assert len(waited) == 0
    assert _queued_since(stream) == float(t[0])
    passed = stream.feed(SampleBlock(t[5000:5050], xyz[5000:5050]), process_now=True)
    assert len(passed) > 0
    assert _queued_since(stream) is None
    # Asking again with nothing new queued is harmless, and the stream's own pace is unchanged.
    assert len(stream.feed(SampleBlock(t[:0], xyz[:0]), process_now=True)) == 0
    assert stream.process_every_s == 300
    with pytest.raises(AttributeError):
        stream.process_every_s = 10.0  # type: ignore[misc]
