"""The service builds its pipeline on the rate the wearable really runs at, as the link learned it.

A micro:bit V1 with the FXOS8700 rounds the 20 ms period asked for 50 Hz up to 80 ms and reads that
back: 12.5 Hz. A pipeline built for the configured 50 Hz would expect four times the samples it
gets in every window (its coverage rule makes such windows `unknown`) and filter at the wrong
rate. Real parts: the service in this process, the real link through unmodified Bleak and the BlueZ
emulator (a V1 board at real speed, on the real clock, where the device clock check is on), a real
SQLite file; MQTT off.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC
from pathlib import Path

from firmware_sim.source import WaveSource
from monitor.config import Config, WearableSettings
from monitor.mqtt.settings import MqttSettings
from monitor.service import WearableService
from monitor.store import Store, StoreSettings
from monitor.wearables.profiles import ProfileName
from tests.ble_fixtures import AddWearable, run
from tests.wearables.linkrun import FAST


def test_a_micro_bit_v1_streams_into_a_pipeline_at_its_own_rate(
    tmp_path: Path, add_wearable: AddWearable
) -> None:
    wearable = add_wearable("microbit", source=WaveSource(), board="v1-fxos")
    config = Config(
        timezone="UTC",
        wearables=(
            WearableSettings(id="w1", profile=ProfileName.MICROBIT, address=wearable.address, rate_hz=50),
        ),
        mqtt=MqttSettings(enabled=False),
        link=FAST,
    )

    async def scenario() -> tuple[float, dict[str, object]]:
        with Store(StoreSettings(path=str(tmp_path / "sitbreak.db"))) as store:
            service = WearableService(config.wearables[0], config, store, UTC)
            await service.start()
            try:
                deadline = time.monotonic() + 30
                while service.stream is None:
                    assert time.monotonic() < deadline, service.diagnostics()
                    await asyncio.sleep(0.05)
                return service.stream.rate_hz, dict(service.link.diagnostics())
            finally:
                await service.stop()

    rate_hz, link = run(scenario(), timeout=45)
    assert rate_hz == 12.5
    assert link["rate_hz"] == 12.5 and link["device_clock"] == "ok"
