"""Thigh rules, one test on each side of every threshold (synthetic, seeded, tiny)."""

from __future__ import annotations

import pytest

from .signals import Seg, labels, middle


@pytest.mark.parametrize(("incl", "expected"), [(38.0, "stand"), (52.0, "sit")])
def test_sit_inclination_threshold_45_deg(incl: float, expected: str) -> None:
    out = labels([Seg(30, incl=incl)])
    assert middle(out, 3, 27) == {expected}


@pytest.mark.parametrize(("sd", "expected"), [(0.06, "stand"), (0.16, "move")])
def test_stand_move_sd_threshold(sd: float, expected: str) -> None:
    out = labels([Seg(30, incl=5.0, sd=sd, axis="forward")])
    assert middle(out, 3, 27) == {expected}


@pytest.mark.parametrize(("incl", "expected"), [(14.0, "move"), (26.0, "cycle")])
def test_cycling_needs_forward_tilt_with_movement(incl: float, expected: str) -> None:
    out = labels([Seg(60, incl=incl, sd=0.2, axis="long")])
    assert middle(out, 5, 55) == {expected}


def test_still_forward_tilt_is_not_cycling() -> None:
    out = labels([Seg(60, incl=35.0)])
    assert middle(out, 5, 55) == {"stand"}


def test_jiggling_seated_leg_stays_sitting() -> None:
    """Movement across a horizontal thigh (a bouncing knee) is not along it: no cycling, no moving."""
    out = labels([Seg(60, incl=85.0, sd=0.15, axis="forward")])
    assert middle(out, 5, 55) == {"sit"}


@pytest.mark.parametrize(("roll", "expected"), [(50.0, "sit"), (80.0, "lie")])
def test_lying_hinted_by_thigh_roll_65_deg(roll: float, expected: str) -> None:
    out = labels([Seg(30, incl=88.0, roll=roll)])
    assert middle(out, 3, 27) == {expected}


def test_walking_is_move() -> None:
    out = labels([Seg(30, walk=True)])
    assert middle(out, 3, 27) == {"move"}


def test_running_hard_with_forward_tilt_is_not_cycling() -> None:
    """Movement along the thigh above Acti4's running threshold (0.72 g SD) is running, not pedalling."""
    out = labels([Seg(60, incl=30.0, sd=0.8, axis="long")])
    assert middle(out, 5, 55) == {"move"}
