"""`sitbreak demo --offline`: the simulated day through the pipeline, compared with its schedule."""

from __future__ import annotations

from firmware_sim.motion import Activity
from monitor.demo.offline import run_offline_demo


def test_offline_demo_compares_with_the_schedule() -> None:
    result = run_offline_demo(seed=0)
    assert result.summary.length_s == round(sum(e - b for b, e, _ in result.truth))
    by_activity = {a.activity: a for a in result.agreement}
    assert set(by_activity) == {
        Activity.SIT,
        Activity.STAND,
        Activity.WALK,
        Activity.STAIRS_UP,
        Activity.STAIRS_DOWN,
        Activity.DESK,
    }
    # The demo's point: sitting is found, and the device on the desk is never counted as sitting.
    assert by_activity[Activity.SIT].matched / by_activity[Activity.SIT].seconds > 0.95
    assert by_activity[Activity.DESK].matched / by_activity[Activity.DESK].seconds > 0.95
    assert "compared with the simulated schedule" in result.text
    assert "prolonged sitting bouts (30 min or more): 5 scheduled," in result.text
