"""A restart with the host clock behind the data already stored (a Raspberry Pi without a real-time
clock, booted on fake-hwclock's saved time before NTP answers): the real service, the real link
through unmodified Bleak and the BlueZ emulator, and a real SQLite file. Nothing stored may be
overwritten; the service holds the early data back, says why once, and records from where the
stored data ends."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

import numpy as np
import pytest

from firmware_sim.motion import Activity, MotionConfig, Segment
from firmware_sim.source import WaveSource, motion_source
from monitor.config import Config, WearableSettings
from monitor.core.links import LinkEventKind
from monitor.core.types import PostureCode
from monitor.mqtt.settings import MqttSettings
from monitor.nudges import ExerciseLibrary, NudgePolicy, PolicySettings
from monitor.service import WearableService
from monitor.store import Store, StoreSettings
from monitor.store.calibration import SavedPolicy
from monitor.wearables.profiles import ProfileName
from tests.ble_fixtures import AddWearable, run
from tests.wearables.linkrun import FAST

SPEED = 50.0  # device seconds per wall second: a minute of data in 1.2 s
RATE_HZ = 50.0
BEHIND_S = 90.0  # the host clock at the restart, behind the newest data stored
STORED_S = 150.0  # data time the first run records before it is stopped


def config_for(address: str) -> Config:
    return Config(
        timezone="UTC",
        wearables=(WearableSettings(id="w1", profile=ProfileName.SITSENSE, address=address),),
        mqtt=MqttSettings(enabled=False),
        link=FAST,
    )


async def serve(
    config: Config,
    store: Store,
    clock: Callable[[], float] | None,
    done: Callable[[WearableService], bool],
    timeout: float = 25.0,
) -> tuple[WearableService, set[str]]:
    """Run the service until `done`, then stop it the way SIGTERM does; the states `systemctl status`
    would have shown."""
    service = WearableService(config.wearables[0], config, store, UTC, clock=clock)
    states: set[str] = set()
    await service.start()
    try:
        deadline = time.monotonic() + timeout
        while not done(service):
            assert time.monotonic() < deadline, f"not done in {timeout} s: {service.diagnostics()}"
            states.add(service.status_word())
            await asyncio.sleep(0.02)
    finally:
        await service.stop()
    return service, states


def in_step_with_the_wearable() -> Callable[[], float]:
    """The host's UTC clock from now on, running SPEED times fast, as the simulated wearable does:
    what a real host clock is to a real wearable. (On the system clock itself, a wearable SPEED times
    faster than it is a device clock the link's check re-times onto the arrivals.)"""
    t0, mono0 = time.time(), time.monotonic()
    return lambda: t0 + (time.monotonic() - mono0) * SPEED


def stored_past(store: Store, t: float) -> Callable[[WearableService], bool]:
    def done(_service: WearableService) -> bool:
        end = store.epochs.last_end("w1")
        return end is not None and end >= t

    return done


def test_restart_with_the_clock_behind_stored_data_overwrites_nothing(
    tmp_path: Path, add_wearable: AddWearable, caplog: pytest.LogCaptureFixture
) -> None:
    schedule = [Segment(Activity.SIT, 120), Segment(Activity.WALK, 60), Segment(Activity.STAND, 3600)]
    source = motion_source(schedule, MotionConfig(placement="thigh", rate_hz=RATE_HZ, seed=7))
    wearable = add_wearable(source=source, speed=SPEED)
    config = config_for(wearable.address)
    settings = StoreSettings(path=str(tmp_path / "sitbreak.db"))
    caplog.set_level(logging.INFO)

    # First run, on a host clock in step with the wearable: STORED_S of data recorded, then a clean stop.
    with Store(settings) as store:
        t_start = time.time()
        run(serve(config, store, in_step_with_the_wearable(), stored_past(store, t_start + STORED_S)))
        stored_end = store.epochs.last_end("w1")
        stored = store.stored_until("w1")
        assert stored_end is not None and stored is not None
        first = store.epochs.first_t("w1")
        assert first is not None
        rows_before = store.epochs.rows("w1", first, stored_end)
        bouts_before = store.bouts.between("w1", first, stored_end)
        assert len(rows_before) == stored_end - first >= STORED_S

    # Power cut, reboot: the host clock restarts BEHIND_S behind the stored data and NTP has not
    # answered. The clock runs at 1x; the wearable's data at SPEED x, so it passes the stored data
    # after about BEHIND_S / SPEED s of wall time.
    offset = stored - BEHIND_S - time.time()

    def behind_clock() -> float:
        return time.time() + offset

    caplog.clear()
    with Store(settings) as store:
        service, states = run(serve(config, store, behind_clock, stored_past(store, stored + 60.0)))
        # Nothing recorded before the restart changed: same seconds, same labels, same bouts.
        assert store.epochs.rows("w1", first, stored_end) == rows_before
        assert store.bouts.between("w1", first, stored_end)[: len(bouts_before) - 1] == bouts_before[:-1]
        # ... and the new data starts after it, not interleaved.
        new_rows = store.epochs.rows("w1", stored_end, int(stored) + 3600)
        assert new_rows and new_rows[0][0] >= stored_end
        # The early data was dropped and counted, roughly the BEHIND_S the clock was behind.
        diag = service.diagnostics()["guard"]
        assert isinstance(diag, dict)
        assert (BEHIND_S - 10) * RATE_HZ < diag["held_samples"] <= (BEHIND_S + 1) * RATE_HZ
        assert diag["holding_until"] is None
        (held,) = [e for e in store.links.between("w1", first, stored + 3600) if e.kind is LinkEventKind.HELD]
        assert held.t == pytest.approx(stored) and held.count == diag["held_samples"]
    # The service said so while holding (systemd STATUS shows it), and one warning names both times
    # and the likely cause.
    assert "holding" in states
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "already recorded" in r.message]
    assert len(warnings) == 1
    assert time.strftime("%H:%M:%S", time.gmtime(stored)) in warnings[0].message
    assert "clock" in warnings[0].message and "synchronised" in warnings[0].message


def test_stop_while_holding_keeps_the_saved_state(tmp_path: Path, add_wearable: AddWearable) -> None:
    """Stopped (shutdown, SIGHUP) while still holding data back: no data was resumed, but the policy
    was restored from the store at start, so what is saved on the way out is the same sitting timer
    (not a blank policy), and no epoch is written."""
    wearable = add_wearable(source=WaveSource(), speed=1)
    config = config_for(wearable.address)
    settings = StoreSettings(path=str(tmp_path / "sitbreak.db"))
    ahead = int(time.time()) + 3600  # the stored data ends an hour after this host's clock
    policy = NudgePolicy(PolicySettings(), ExerciseLibrary.default(), UTC, wearable_id="w1")
    state = dataclasses.replace(
        policy.snapshot(), last_t=ahead - 1.0, timer_s=1500, bout_start=ahead - 1500.0
    )
    saved = SavedPolicy(ahead + 0.5, json.dumps(state.to_dict()))
    with Store(settings) as store:
        store.epochs.write("w1", ahead - 600, np.full(600, PostureCode.SIT, dtype=np.uint8))
        store.snapshots.save("w1", saved)
        service, _ = run(serve(config, store, None, lambda s: s.status_word() == "holding"))
        assert service.guard.held_samples > 0
        kept = store.snapshots.load("w1")
        assert kept is not None and json.loads(kept.state) == json.loads(saved.state)
        assert store.epochs.count("w1") == 600 and store.epochs.last_end("w1") == ahead
