"""Non-wear: a device on a desk is never sitting; stillness rules and wear islands."""

from __future__ import annotations

import numpy as np

from firmware_sim.motion import Activity, MotionConfig, MotionModel, Segment
from monitor.core.types import Placement
from monitor.pipeline import classify_recording
from monitor.pipeline.settings import PipelineSettings

from .signals import RATE, Seg, labels

FLAT = (0.0, 0.0, 1.0)  # device lying on its back on a table


def test_device_flat_on_desk_for_15_min_is_non_wear_and_never_sit() -> None:
    out = labels([Seg(30, walk=True), Seg(900, gravity=FLAT, noise=0.002), Seg(30, walk=True)])
    desk = out[32:928]
    assert set(desk) == {"non_wear"}
    assert "sit" not in out


def test_flat_stillness_shorter_than_10_min_is_wear() -> None:
    out = labels([Seg(30, walk=True), Seg(300, gravity=FLAT, noise=0.002), Seg(30, walk=True)])
    assert "non_wear" not in out


def test_tilted_still_device_needs_the_long_rule() -> None:
    """Still for 15 min but not flat (a thigh resting 30 deg off the table): not non-wear yet."""
    tilted = (0.0, 0.5, 0.866)
    out = labels([Seg(30, walk=True), Seg(900, gravity=tilted, noise=0.002), Seg(30, walk=True)])
    assert "non_wear" not in out


def test_long_stillness_in_any_orientation_becomes_non_wear() -> None:
    settings = PipelineSettings(nonwear_flat_s=60, nonwear_long_s=300)
    tilted = (0.0, 0.5, 0.866)
    out = labels(
        [Seg(20, walk=True), Seg(600, gravity=tilted, noise=0.002), Seg(20, walk=True)], settings=settings
    )
    still = out[22:618]
    # Non-wear from (long - lookahead) into the run onwards; the start keeps its posture label.
    assert set(still[300:]) == {"non_wear"}
    assert "non_wear" not in still[:230]


def test_short_wear_island_between_non_wear_is_non_wear() -> None:
    segs = [
        Seg(20, walk=True),
        Seg(700, gravity=FLAT, noise=0.002),
        Seg(20, incl=40, sd=0.2),  # someone bumps the desk for 20 s
        Seg(700, gravity=FLAT, noise=0.002),
        Seg(20, walk=True),
    ]
    out = labels(segs)
    assert set(out[25:1435]) == {"non_wear"}


def test_sitting_very_still_is_not_non_wear() -> None:
    """A seated thigh has micro-movement (SD ~0.02 g): it stays sitting for 30 min."""
    out = labels([Seg(30, walk=True), Seg(1800, incl=80, sd=0.02, axis="forward"), Seg(30, walk=True)])
    assert set(out[35:1825]) == {"sit"}


def test_motion_model_desk_segment_is_never_sit() -> None:
    schedule = [Segment(Activity.WALK, 60), Segment(Activity.DESK, 1200), Segment(Activity.WALK, 60)]
    model = MotionModel(schedule, MotionConfig(placement="thigh", seed=5))
    xyz = model.render(0, model.n_samples)
    t = model.times(0, model.n_samples)
    out = classify_recording(t, xyz, RATE, Placement.THIGH).labels
    desk = out[70:1250]
    assert not np.any(desk == 0), "desk time labelled sit"
