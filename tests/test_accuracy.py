"""Accuracy floors on the shared labelled recordings (HuGaDB thigh, HAPT waist).

The targets (issue 2) are: thigh sedentary sensitivity >= 0.98, specificity >= 0.97, macro-F1 >= 0.93;
waist sedentary balanced accuracy >= 0.90. The floors here sit a few points below, so that a
regression fails CI while the measured numbers are reported by bench/accuracy.py. All shared files
are scored (about 20 s).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.accuracy import evaluate

pytestmark = pytest.mark.data


def test_thigh_accuracy_on_hugadb(shared_data: Path) -> None:
    results = evaluate(shared_data / "hugadb", "hugadb", sensors=("rt", "lt"))
    for sensor, ev in results.items():
        m = ev.overall()
        assert m.seconds > 20_000, sensor
        assert m.sensitivity >= 0.96, (sensor, m)
        assert m.specificity >= 0.95, (sensor, m)
        assert m.macro_f1 >= 0.90, (sensor, m)
        assert len(ev.per_subject) == 13


def test_waist_accuracy_on_hapt(shared_data: Path) -> None:
    (ev,) = evaluate(shared_data / "hapt", "hapt").values()
    m = ev.overall()
    assert m.seconds > 8_000
    assert m.balanced_accuracy >= 0.87, m
    assert len(ev.per_subject) == 21


def test_streaming_equals_batch_on_real_recordings(shared_data: Path) -> None:
    import numpy as np

    from bench import datasets
    from monitor.core.types import EpochBlock, Placement, SampleBlock
    from monitor.pipeline import PostureStream, classify_recording
    from monitor.pipeline.settings import PipelineSettings

    recs = [
        (
            datasets.read_hugadb(shared_data / "hugadb" / "S13" / "HuGaDB_v1_various_13_09.csv.gz"),
            Placement.THIGH,
        ),
        (datasets.read_hapt(shared_data / "hapt" / "user05_exp09.csv.gz"), Placement.WAIST),
    ]
    rng = np.random.default_rng(5)
    for rec, placement in recs:
        batch = classify_recording(rec.t, rec.xyz, rec.rate_hz, placement)
        stream = PostureStream(placement, rec.rate_hz, PipelineSettings(process_every_s=0))
        out, i = [], 0
        while i < rec.t.shape[0]:
            n = int(rng.integers(3, 41))
            out.append(stream.feed(SampleBlock(rec.t[i : i + n], rec.xyz[i : i + n])))
            i += n
        out.append(stream.flush())
        np.testing.assert_array_equal(EpochBlock.concat(out).labels, batch.labels, err_msg=str(rec.path))
