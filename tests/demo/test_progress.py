"""What the demo tells the person watching: how much of the day is done, when the machine is too busy
to keep up, and a command they can actually run afterwards."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from monitor.demo.run import BEHIND_S, BEHIND_WALL_S, progress_line, sitbreak_command

START = 1_764_000_000.0
END = START + 8 * 3600


def test_progress_says_how_much_of_the_day_is_done() -> None:
    line = progress_line(START + 2 * 3600, START, END, device_now=START + 2 * 3600 + 30)
    assert line.endswith(", 25% of the day")
    assert "busy" not in line


def test_progress_says_when_the_service_falls_behind_the_wearable() -> None:
    behind = BEHIND_S + 600
    line = progress_line(START + 3600, START, END, device_now=START + 3600 + behind)
    assert line.endswith(
        f"; the machine is busy: the service is {behind / 60:.0f} min of data behind the wearable"
    )


def test_at_400x_a_lag_of_a_wall_second_is_not_called_busy() -> None:
    """Measured on an idle machine: at 400x the service trails the wearable by 5-6 simulated minutes
    now and then (under a wall second); that is batching, not a busy machine."""
    now = START + 3600
    assert "busy" not in progress_line(now, START, END, device_now=now + 6 * 60, speed=400)
    behind = BEHIND_WALL_S * 400 + 60
    assert "busy" in progress_line(now, START, END, device_now=now + behind, speed=400)


def test_the_closing_hint_names_a_command_that_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/nonexistent")  # a fresh shell outside the venv
    hint = sitbreak_command()
    beside = Path(sys.executable).parent / "sitbreak"
    assert hint == (str(beside) if beside.exists() else f"{sys.executable} -m monitor.cli")
    monkeypatch.setenv("PATH", str(beside.parent))
    if beside.exists() and shutil.which("sitbreak") is not None:
        assert sitbreak_command() == "sitbreak"
