"""A command the phone sends before the wearable's first data (a pause while it is out of range,
or while the service holds data back) is kept: the saved policy is restored at start, before MQTT,
and the command acts on it, instead of the saved state replacing the command when data arrives.

Real parts: the service in this process, a real Mosquitto and phone, the real link through
unmodified Bleak and the BlueZ emulator, a real SQLite file.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from datetime import UTC
from pathlib import Path
from typing import Any

from firmware_sim.motion import Activity, MotionConfig, Segment
from firmware_sim.source import motion_source
from monitor.config import Config, WearableSettings
from monitor.mqtt.settings import MqttSettings
from monitor.nudges import ExerciseLibrary, NudgePolicy, PolicySettings
from monitor.service import WearableService
from monitor.store import Store, StoreSettings
from monitor.store.calibration import SavedPolicy
from monitor.wearables.profiles import ProfileName
from tests.ble_fixtures import AddWearable, run
from tests.mqtt_fixtures import Broker, Phone
from tests.wearables.linkrun import FAST

WID = "w1"
SPEED = 50.0
SAVED_TIMER_S = 1500  # the sitting timer saved by the last run: 25 min
PAUSE_MIN = 90


def own_clock() -> float:
    """Real time, as a clock of the test's own (not `time.time` itself): the link takes it for a
    simulated clock and does not check the wearable's clock, SPEED times too fast, against it."""
    return time.time()


def _saved_policy(at: float) -> SavedPolicy:
    policy = NudgePolicy(PolicySettings(), ExerciseLibrary.default(), UTC, wearable_id=WID)
    state = dataclasses.replace(
        policy.snapshot(), last_t=at, timer_s=SAVED_TIMER_S, bout_start=at - SAVED_TIMER_S
    )
    return SavedPolicy(at, json.dumps(state.to_dict()))


def test_a_pause_sent_before_the_first_data_survives_it(
    tmp_path: Path, add_wearable: AddWearable, private_mosquitto: Broker
) -> None:
    settings = StoreSettings(path=str(tmp_path / "sitbreak.db"))
    saved_at = time.time() - 120.0
    with Store(settings) as store:
        store.snapshots.save(WID, _saved_policy(saved_at))
    phone = Phone(private_mosquitto.port, f"sitbreak/{WID}/#", client_id="cmd-phone")

    async def scenario() -> tuple[dict[str, Any], float]:
        with Store(settings) as store:
            # The wearable is not in range yet: the service is searching when the pause arrives.
            config = Config(
                timezone="UTC",
                wearables=(
                    WearableSettings(id=WID, profile=ProfileName.SITSENSE, address="F0:00:00:00:0A:01"),
                ),
                mqtt=MqttSettings(host="127.0.0.1", port=private_mosquitto.port, discovery=False),
                link=FAST,
            )
            service = WearableService(config.wearables[0], config, store, UTC, clock=own_clock)
            await service.start()
            try:
                assert service.mqtt is not None
                await service.mqtt.wait_connected(15)
                sent = time.time()
                phone.send(f"sitbreak/{WID}/cmd", json.dumps({"action": "pause", "minutes": PAUSE_MIN}))
                await phone.expect(f"sitbreak/{WID}/event", timeout=10)
                assert service.policy.snapshot().paused_until is not None
                # Now the wearable comes in range and data flows for a while.
                schedule = [Segment(Activity.SIT, 3600.0)]
                source = motion_source(schedule, MotionConfig(placement="thigh", seed=2))
                wearable = add_wearable(source=source, speed=SPEED, address="F0:00:00:00:0A:01")
                deadline = time.monotonic() + 30
                while store.epochs.last_end(WID) is None:
                    assert time.monotonic() < deadline, service.diagnostics()
                    await asyncio.sleep(0.1)
                assert wearable.connected
            finally:
                await service.stop()
            stored = store.snapshots.load(WID)
            assert stored is not None
            return json.loads(stored.state), sent

    try:
        state, sent = run(scenario(), timeout=60)
    finally:
        phone.close()
    # The pause is still there after the first data, and stored ...
    assert state["paused_until"] is not None
    assert abs(float(state["paused_until"]) - (sent + PAUSE_MIN * 60)) < 120
    # ... and the sitting timer carried on from the saved one rather than from zero.
    assert int(state["timer_s"]) >= SAVED_TIMER_S
