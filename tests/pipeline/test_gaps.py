"""Long silences: the compact output of PostureStream (EpochGap pieces) is exact and costs no memory.

The reference is dense processing (every empty bin summed, every silent epoch through every stage), the
way the stream worked before silences were skipped: the labels must be identical, whatever the
settings, the placement, the chunking and what the device was doing when it fell silent.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from monitor.core.types import EpochBlock, Placement, PostureCode, SampleBlock
from monitor.pipeline import EpochGap, PostureStream, classify_recording
from monitor.pipeline.settings import PipelineSettings

from .signals import RATE, T0, Seg, render


def _seg(kind: str, seconds: float) -> Seg:
    return {
        "walk": Seg(seconds, walk=True),
        "sit": Seg(seconds, incl=85),
        "stand": Seg(seconds, incl=5),
        "lie": Seg(seconds, incl=88, roll=80),
        "desk": Seg(seconds, gravity=(0.0, 0.0, 1.0)),
        "still": Seg(seconds, incl=60),  # still but not flat: long non-wear only
    }[kind]


def _recording(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Bursts of activity separated by silences of 11 min to 3 days, each burst ending in a different
    state (sitting, still on a desk, a short wear island, walking), so that every stage holds something
    when the silence starts."""
    rng = np.random.default_rng(seed)
    kinds = ["walk", "sit", "stand", "lie", "desk", "still"]
    ts, xs = [], []
    t0 = T0 + 0.37
    for burst in range(6):
        segs = [
            _seg(str(rng.choice(kinds)), float(rng.integers(3, 90))) for _ in range(int(rng.integers(1, 5)))
        ]
        if burst % 3 == 1:
            segs.append(_seg("desk", float(rng.integers(600, 800))))  # non-wear right before the gap
        t, xyz = render(segs, seed=seed * 10 + burst, t0=t0)
        ts.append(t)
        xs.append(xyz)
        t0 = float(t[-1]) + float(rng.choice([660.0, 1800.5, 7200.25, 3 * 86400.0]))
    return np.concatenate(ts), np.concatenate(xs)


def _compact(
    t: np.ndarray, xyz: np.ndarray, placement: Placement, settings: PipelineSettings, chunks: np.ndarray
) -> list[EpochBlock | EpochGap]:
    stream = PostureStream(placement, RATE, settings)
    out: list[EpochBlock | EpochGap] = []
    i = 0
    for n in chunks:
        if i >= t.shape[0]:
            break
        out += stream.feed_compact(SampleBlock(t[i : i + n], xyz[i : i + n]))
        i += int(n)
    out += stream.feed_compact(SampleBlock(t[i:], xyz[i:]))
    out += stream.flush_compact()
    return out


def _expand(pieces: list[EpochBlock | EpochGap]) -> EpochBlock:
    next_t: float | None = None
    parts = []
    for p in pieces:
        t0 = p.t0 if isinstance(p, EpochBlock) else float(p.k0)
        assert next_t is None or t0 == next_t, "pieces must be consecutive"
        labels = p.labels if isinstance(p, EpochBlock) else np.full(p.n, PostureCode.UNKNOWN, np.uint8)
        assert labels.shape[0] > 0, "no empty pieces"
        parts.append(EpochBlock(t0, labels))
        next_t = t0 + labels.shape[0]
    return EpochBlock.concat(parts)


SETTINGS = [
    PipelineSettings(),
    # Every look-ahead at its largest: the silence must still be skipped exactly.
    PipelineSettings(
        min_sit_s=60,
        min_lie_s=60,
        sit_keep_s=59,
        min_stand_s=60,
        min_move_s=60,
        min_cycle_s=120,
        nonwear_flat_s=700,
        wear_island_s=600,
    ),
    PipelineSettings(nonwear_flat_s=60, nonwear_long_s=600, wear_island_s=0, sit_keep_s=1, min_sit_s=1),
]


@pytest.mark.parametrize("placement", [Placement.THIGH, Placement.WAIST, Placement.WRIST])
@pytest.mark.parametrize("which", range(len(SETTINGS)))
def test_compact_silences_equal_dense_processing(
    placement: Placement, which: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.pipeline import windows

    settings = SETTINGS[which]
    for seed in (1, 2):
        t, xyz = _recording(seed + 7 * which)
        rng = np.random.default_rng(seed)
        pieces = _compact(t, xyz, placement, settings, rng.integers(20, 4000, size=t.shape[0] // 20))
        assert any(isinstance(p, EpochGap) for p in pieces)
        compact = _expand(pieces)
        fed = classify_recording(t, xyz, RATE, placement, settings)  # feed(): gaps written out
        with monkeypatch.context() as m:
            m.setattr(windows, "LONG_GAP_S", 1e12)
            dense = classify_recording(t, xyz, RATE, placement, settings)
        assert compact.t0 == dense.t0 == fed.t0
        np.testing.assert_array_equal(compact.labels, dense.labels, err_msg=f"seed {seed}")
        np.testing.assert_array_equal(fed.labels, dense.labels, err_msg=f"seed {seed}")


def test_a_silence_of_decades_costs_nothing() -> None:
    """A jump of 1e9 s (32 years) comes out as one gap, at once, in a few MiB."""
    code = textwrap.dedent(
        f"""
        import time
        import numpy as np
        from monitor.core.types import Placement, SampleBlock
        from monitor.pipeline import EpochGap, PostureStream
        import tests.pipeline.signals as s
        t1, x1 = s.render([s.Seg(60, walk=True), s.Seg(60, incl=85)])
        t2, x2 = s.render([s.Seg(60, incl=85)], t0=float(t1[-1]) + 1e9)
        def peak_kib():  # this process's own high-water mark (ru_maxrss would include its parent's)
            return next(int(ln.split()[1]) for ln in open("/proc/self/status") if ln.startswith("VmHWM:"))
        before = peak_kib()
        started = time.process_time()
        stream = PostureStream(Placement.THIGH, {RATE})
        pieces = stream.feed_compact(SampleBlock(t1, x1)) + stream.feed_compact(SampleBlock(t2, x2))
        pieces += stream.flush_compact()
        gaps = [p for p in pieces if isinstance(p, EpochGap)]
        assert len(gaps) == 1 and gaps[0].n > 1e9 - 10_000, gaps
        print(peak_kib() - before, time.process_time() - started)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    grown_kib, cpu_s = out.stdout.split()
    assert int(grown_kib) < 50 * 1024, out.stdout  # MiB of a few arrays, not a byte per second
    assert float(cpu_s) < 5.0, out.stdout  # CPU time: the same on a loaded machine


def test_feed_and_feed_compact_agree_on_timing() -> None:
    """feed() is feed_compact() with gaps written out: the same epochs at the same moments."""
    t, xyz = _recording(3)
    a = PostureStream(Placement.THIGH, RATE, PipelineSettings(process_every_s=5))
    b = PostureStream(Placement.THIGH, RATE, PipelineSettings(process_every_s=5))
    for i in range(0, t.shape[0], 997):
        block = SampleBlock(t[i : i + 997], xyz[i : i + 997])
        live = a.feed(block)
        pieces = b.feed_compact(block)
        if pieces:
            got = _expand(pieces)
            assert (got.t0, got.labels.tolist()) == (live.t0, live.labels.tolist())
        else:
            assert len(live) == 0
    live, pieces = a.flush(), b.flush_compact()
    got = _expand(pieces)
    assert (got.t0, got.labels.tolist()) == (live.t0, live.labels.tolist())
    assert a.flush_compact() == [] and len(b.flush()) == 0
