"""The silence watchdog on a real event loop: quiet while fed, fires once when starved."""

from __future__ import annotations

import asyncio

import pytest

from monitor.wearables.watchdog import SilenceWatchdog


def test_fed_watchdog_stays_quiet_and_starved_one_fires_once():
    async def main() -> tuple[list[float], float]:
        loop = asyncio.get_running_loop()
        fired: list[float] = []
        dog = SilenceWatchdog(loop, 0.2, fired.append)
        dog.start()
        for _ in range(8):  # 0.4 s of notifications every 50 ms
            await asyncio.sleep(0.05)
            dog.feed(loop.time())
        assert fired == []
        starved_at = loop.time()
        await asyncio.sleep(0.5)
        return fired, loop.time() - starved_at

    fired, _ = asyncio.run(main())
    assert len(fired) == 1
    assert fired[0] == pytest.approx(0.2, abs=0.1)


def test_stop_disarms():
    async def main() -> list[float]:
        fired: list[float] = []
        dog = SilenceWatchdog(asyncio.get_running_loop(), 0.05, fired.append)
        dog.start()
        armed_after_start = dog.armed
        dog.stop()
        assert armed_after_start and not dog.armed
        await asyncio.sleep(0.15)
        return fired

    assert asyncio.run(main()) == []


def test_timeout_must_be_positive():
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(ValueError, match="timeout_s=0"):
            SilenceWatchdog(loop, 0, lambda _s: None)
    finally:
        loop.close()
