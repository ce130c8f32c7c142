"""A sitbreak MQTT link alone in a process, so a test can SIGKILL it and watch the LWT.

usage: python -m tests.mqtt.service_proc PORT WEARABLE OUTBOX_PATH
Prints "ready" once connected, then runs until killed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from monitor.mqtt.client import MqttLink
from tests.mqtt.helpers import FileOutbox, settings_for


async def main(port: int, wearable: str, outbox_path: Path) -> None:
    link = MqttLink(settings_for(port), wearable, FileOutbox(outbox_path))
    await link.start()
    await link.wait_connected(10)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])))
