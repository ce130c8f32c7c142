"""Upright reference: learned from walking, orientation-agnostic, persisted."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.core.types import EpochBlock, Placement, SampleBlock
from monitor.pipeline import PostureStream, UprightReference, classify_recording

from .signals import RATE, Seg, render

# Walking first (the reference is learned from it), then every posture.
SCHEDULE = [
    Seg(40, walk=True),
    Seg(30, incl=85),
    Seg(20, incl=5),
    Seg(30, incl=35, sd=0.2, axis="long"),
    Seg(20, walk=True),
    Seg(30, incl=60),
    Seg(20, incl=10, sd=0.15, axis="forward"),
]
WARM_UP = 15  # seconds of walking before the reference is confirmed and has settled


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q @ np.diag(np.sign(np.diag(r)))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    out: np.ndarray = q
    return out


def test_rotated_device_gives_the_same_labels() -> None:
    t, xyz = render(SCHEDULE, seed=4)
    base = classify_recording(t, xyz, RATE, Placement.THIGH).labels
    rng = np.random.default_rng(8)
    for _ in range(4):
        rot = _rotation(rng)
        rotated = (xyz.astype(np.float64) @ rot.T).astype(np.float32)
        labels = classify_recording(t, rotated, RATE, Placement.THIGH).labels
        np.testing.assert_array_equal(labels[WARM_UP:], base[WARM_UP:])
    assert {0, 2, 3, 4} <= set(base.tolist())  # sit, stand, move, cycle all present


def test_reference_is_learned_from_walking_and_restores() -> None:
    rot = _rotation(np.random.default_rng(2))
    t, xyz = render([Seg(60, walk=True)], seed=1)
    rotated = (xyz.astype(np.float64) @ rot.T).astype(np.float32)
    stream = PostureStream(Placement.THIGH, RATE)
    before = stream.reference
    assert before is None
    stream.feed(SampleBlock(t, rotated))
    stream.flush()
    ref = stream.reference
    assert ref is not None
    expected = rot @ np.array([-1.0, 0.0, 0.0])
    angle = np.degrees(np.arccos(np.clip(np.dot(ref.up, expected), -1, 1)))
    assert angle < 5.0
    assert ref.walking_s > 30
    restored = UprightReference.from_dict(ref.to_dict())
    np.testing.assert_allclose(restored.up, ref.up, atol=1e-12)
    np.testing.assert_allclose(restored.forward, ref.forward, atol=1e-12)
    # The front axis comes from the gait swing: across up, along the rotated profile front (+-).
    assert abs(np.dot(ref.forward, rot @ np.array([0.0, 0.0, 1.0]))) > np.cos(np.radians(10))

    # A stream started with the persisted reference labels sitting correctly without any walking.
    t2, xyz2 = render([Seg(40, incl=85), Seg(40, incl=5)], seed=2)
    rotated2 = (xyz2.astype(np.float64) @ rot.T).astype(np.float32)
    warm = PostureStream(Placement.THIGH, RATE, reference=restored)
    out = EpochBlock.concat([warm.feed(SampleBlock(t2, rotated2)), warm.flush()])
    labels = [e.label.value for e in out.epochs()]
    assert set(labels[2:37]) == {"sit"}
    assert set(labels[43:78]) == {"stand"}


def test_cycling_does_not_teach_the_reference() -> None:
    t, xyz = render([Seg(120, incl=35, sd=0.25, axis="long")], seed=3)
    stream = PostureStream(Placement.THIGH, RATE)
    stream.feed(SampleBlock(t, xyz))
    stream.flush()
    assert stream.reference is None


def test_reference_rejects_bad_persisted_values() -> None:
    with pytest.raises(ValueError, match="unit vector"):
        UprightReference.from_dict({"placement": "thigh", "up": [0.0, 0.0, 0.0], "walking_s": 1.0})
    with pytest.raises(ValueError, match="reference is for thigh"):
        PostureStream(
            Placement.WAIST, RATE, reference=UprightReference(Placement.THIGH, (-1.0, 0.0, 0.0), 10.0)
        )


def test_front_axis_persists_so_a_pocket_rotation_is_not_lying() -> None:
    """A device turned 90 deg about the thigh reads sitting like side-lying would on the profile's
    axes; the front axis learned from gait (and persisted) keeps it sitting after a restart."""
    angle = np.radians(90.0)
    about_long_axis = np.array(
        [[1.0, 0.0, 0.0], [0.0, np.cos(angle), -np.sin(angle)], [0.0, np.sin(angle), np.cos(angle)]]
    )
    t, xyz = render([Seg(60, walk=True)], seed=6)
    learner = PostureStream(Placement.THIGH, RATE)
    learner.feed(SampleBlock(t, (xyz.astype(np.float64) @ about_long_axis.T).astype(np.float32)))
    learner.flush()
    ref = learner.reference
    assert ref is not None
    assert ref.forward_learned
    saved = ref.to_dict()
    assert "forward" in saved

    t2, xyz2 = render([Seg(60, incl=88)], seed=7)
    rotated = (xyz2.astype(np.float64) @ about_long_axis.T).astype(np.float32)
    restored = PostureStream(Placement.THIGH, RATE, reference=UprightReference.from_dict(saved))
    out = EpochBlock.concat([restored.feed(SampleBlock(t2, rotated)), restored.flush()])
    assert set(out.labels[2:58].tolist()) == {0}  # sit, not lie

    # Without a learned front axis the profile's guess would call the same posture lying.
    guess = PostureStream(Placement.THIGH, RATE)
    out2 = EpochBlock.concat([guess.feed(SampleBlock(t2, rotated)), guess.flush()])
    assert set(out2.labels[2:58].tolist()) == {1}
