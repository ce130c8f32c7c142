"""Waist (trunk tilt from the walking reference) and wrist (active / inactive only)."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.core.types import Placement, PostureCode
from monitor.pipeline import WRIST_LABELS, classify_recording

from .signals import RATE, Seg, labels, render

# Waist profile: +x up the trunk. Build signals in the thigh helper's frame and flip x.


def _waist_labels(segs: list[Seg]) -> list[str]:
    t, xyz = render(segs)
    xyz = xyz * np.array([-1.0, 1.0, 1.0], dtype=np.float32)
    block = classify_recording(t, xyz, RATE, Placement.WAIST)
    return [e.label.value for e in block.epochs()]


@pytest.mark.parametrize(("tilt", "expected"), [(6.0, "stand"), (20.0, "sit"), (80.0, "lie")])
def test_waist_tilt_thresholds(tilt: float, expected: str) -> None:
    out = _waist_labels([Seg(30, incl=tilt)])
    assert set(out[3:27]) == {expected}


def test_waist_tilt_is_measured_from_the_walking_reference() -> None:
    """A belt device leaning 15 deg while walking and standing is upright; 15 deg more is sitting."""
    segs = [Seg(40, walk=True, incl=15, swing=3.0), Seg(30, incl=15), Seg(30, incl=33)]
    out = _waist_labels(segs)
    assert set(out[45:68]) == {"stand"}
    assert set(out[73:98]) == {"sit"}


@pytest.mark.parametrize(("sd", "expected"), [(0.02, "sit"), (0.2, "move")])
def test_wrist_active_vs_inactive(sd: float, expected: str) -> None:
    """ENMO of a 2 Hz swing along gravity with this SD: ~0.005 g and ~0.09 g around the 0.045 g cut."""
    out = labels([Seg(30, incl=0, sd=sd, axis="long")], placement=Placement.WRIST)
    assert set(out[3:27]) == {expected}


def test_wrist_emits_only_its_documented_labels() -> None:
    t, xyz = render([Seg(30, incl=5), Seg(30, walk=True), Seg(30, incl=85), Seg(30, incl=40, sd=0.3)])
    codes = set(classify_recording(t, xyz, RATE, Placement.WRIST).labels.tolist())
    assert codes <= {int(c) for c in WRIST_LABELS}
    assert int(PostureCode.STAND) not in codes
