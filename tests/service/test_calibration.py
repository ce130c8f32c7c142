"""The learned upright reference survives a restart whole, through a real store file."""

from __future__ import annotations

from pathlib import Path

from monitor.core.types import Placement
from monitor.pipeline import UprightReference
from monitor.service.wearable import _reference_from
from monitor.store import Store
from monitor.store.calibration import Calibration


def test_reference_with_front_axis_round_trips_through_the_store(tmp_path: Path) -> None:
    learned = UprightReference(
        placement=Placement.THIGH,
        up=(-0.8, 0.6, 0.0),
        walking_s=240.0,
        forward=(0.0, 0.0, 1.0),
        forward_learned=True,
    )
    with Store.open(tmp_path / "s.db") as store:
        store.calibration.save("w1", Calibration(1000.0, learned.up, dict(learned.to_dict())))
    with Store.open(tmp_path / "s.db") as store:
        restored = _reference_from(store.calibration.load("w1"))
    assert restored is not None
    assert restored.up == learned.up
    assert restored.forward_learned and restored.forward == learned.forward
    assert restored.walking_s == 240.0


def test_unreadable_reference_is_learned_again(tmp_path: Path) -> None:
    assert _reference_from(None) is None
    broken = Calibration(1.0, (0.0, 0.0, 0.0), {"placement": "thigh", "up": [0, 0, 0], "walking_s": 1})
    assert _reference_from(broken) is None
