"""The host's "clock synchronised" state and the words for a step's likely cause."""

from __future__ import annotations

from pathlib import Path

from monitor.wearables.hostclock import (
    TIME_ERROR,
    _adjtimex_state,
    behind_cause,
    clock_synchronised,
    step_cause,
    timesyncd_synchronised,
)


def test_kernel_state_is_read_without_privileges() -> None:
    state = _adjtimex_state()
    # a read-only query: TIME_OK..TIME_ERROR, or None where a sandbox refuses it (ProtectClock=yes)
    assert state is None or 0 <= state <= TIME_ERROR
    if state is not None:
        assert clock_synchronised() is (state != TIME_ERROR)


def test_timesyncd_flag_file_is_the_fallback(tmp_path: Path) -> None:
    run = tmp_path / "timesync"
    assert timesyncd_synchronised(run) is None  # timesyncd not running: cannot tell
    run.mkdir()
    assert timesyncd_synchronised(run) is False  # running, not synchronised yet
    (run / "synchronized").touch()
    assert timesyncd_synchronised(run) is True


def test_causes_name_ntp_for_forward_steps_and_the_missing_sync_for_holds() -> None:
    assert "NTP sync after boot" in step_cause(3542.0, None)
    assert "NTP sync after boot" in step_cause(3542.0, True)
    assert "ahead" in step_cause(-20.0, True)
    assert "by hand" in step_cause(-20.0, None)
    assert "not synchronised yet" in behind_cause(False)
    assert "while it was ahead" in behind_cause(True)
    assert "NTP" in behind_cause(None)
