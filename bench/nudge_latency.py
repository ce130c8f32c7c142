"""Latency of a nudge: from the data-time threshold crossing to the phone receiving it, through a real
Mosquitto. Target: p99 <= 1.5 s with 1 s epochs.

Live, data time is UTC wall time and an epoch [t, t+1) is final at wall time t+1. For each nudge this
bench replays 29 min 59 s of sitting into a fresh `NudgePolicy` instantly (history), then feeds the last
1 s epoch in real time, at the wall moment it ends: that epoch crosses `nudge_after`. From there the
real path runs: policy step -> payload -> durable outbox (SQLite commit) -> paho -> Mosquitto -> a
subscribed phone client (paho, QoS 1), which stamps arrival with the wall clock.

Two numbers per nudge:
  crossing -> phone   threshold crossing (epoch end, data time == wall time) to arrival
  handoff  -> phone   the moment `MqttLink.publish_nudge` is called to arrival

    python bench/nudge_latency.py                 # 40 nudges through a private Mosquitto
    python bench/nudge_latency.py --count 200 --json
    python bench/nudge_latency.py --host 127.0.0.1 --port 1883   # an already running broker
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from monitor.core.types import Epoch, Posture
from monitor.mqtt.client import MqttLink
from monitor.mqtt.convert import nudge_payload
from monitor.mqtt.settings import MqttSettings
from monitor.nudges.library import ExerciseLibrary
from monitor.nudges.policy import NudgePolicy
from monitor.nudges.settings import PolicySettings
from monitor.store import Store

TARGET_P99_S = 1.5
WEARABLE = "bench"
MOSQUITTO = os.environ.get("SITBREAK_MOSQUITTO", "/usr/sbin/mosquitto")
ALL_DAY = "00:00-24:00"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): an observed value, honest for small N."""
    ranked = sorted(values)
    k = max(0, min(len(ranked) - 1, round(q / 100 * len(ranked) + 0.5) - 1))
    return ranked[k]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_s": round(percentile(values, 50), 4),
        "p99_s": round(percentile(values, 99), 4),
        "max_s": round(max(values), 4),
        "mean_s": round(statistics.fmean(values), 4),
    }


@contextlib.contextmanager
def private_broker() -> Iterator[int]:
    """Mosquitto on a free 127.0.0.1 port with a throw-away config; stopped by PID."""
    if not Path(MOSQUITTO).exists():
        sys.exit(f"bench: {MOSQUITTO} not found (install the mosquitto package or pass --port)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    folder = Path(tempfile.mkdtemp(prefix="sitbreak-bench-"))
    conf = folder / "mosquitto.conf"
    conf.write_text(f"user {getpass.getuser()}\nlistener {port} 127.0.0.1\nallow_anonymous true\n")
    proc = subprocess.Popen(
        [MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit("bench: mosquitto did not start")
            time.sleep(0.02)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        shutil.rmtree(folder, ignore_errors=True)


class PhoneClock:
    """The phone: stamps each nudge id with the wall time it arrived."""

    def __init__(self, host: str, port: int, topic: str) -> None:
        self.arrived: dict[str, float] = {}
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"bench-phone-{os.getpid()}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self._ready.set()
        self.client.on_message = self._on_message
        self.client.connect(host, port, 30)
        self.client.loop_start()
        if not self._ready.wait(10):
            sys.exit("bench: the phone client could not subscribe")

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        now = time.time()
        nudge_id = json.loads(msg.payload)["id"]
        with self._lock:
            self.arrived.setdefault(nudge_id, now)

    def get(self, nudge_id: str) -> float | None:
        with self._lock:
            return self.arrived.get(nudge_id)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def policy_settings() -> PolicySettings:
    return PolicySettings(
        active_mon=ALL_DAY, active_tue=ALL_DAY, active_wed=ALL_DAY, active_thu=ALL_DAY,
        active_fri=ALL_DAY, active_sat=ALL_DAY, active_sun=ALL_DAY,
    )  # fmt: skip


async def run(host: str, port: int, count: int, folder: Path) -> dict[str, object]:
    settings = policy_settings()
    library = ExerciseLibrary.default()
    threshold_s = int(settings.nudge_after * 60)
    store = Store.open(folder / "outbox.db")
    outbox = store.outbox
    link = MqttLink(MqttSettings(host=host, port=port, discovery=False), WEARABLE, outbox)
    phone = PhoneClock(host, port, link.topics.nudge)
    crossing: list[float] = []
    handoff: list[float] = []
    try:
        await link.start()
        await link.wait_connected(10)
        for i in range(count):
            policy = NudgePolicy(settings, library, UTC, wearable_id=f"{WEARABLE}{i}")
            # The last epoch [t_last, t_last + 1) ends on the next whole wall second.
            t_last = float(int(time.time()) + 1)
            history = (Epoch(t=t_last - k, label=Posture.SIT) for k in range(threshold_s - 1, 0, -1))
            assert not any(e.is_prompt for e in policy.feed_epochs(history))
            await asyncio.sleep(max(0.0, t_last + 1.0 - time.time()))
            t_cross = t_last + 1.0  # data time (== wall time, live) at which the epoch became final
            prompts = [e for e in policy.feed_epoch(Epoch(t=t_last, label=Posture.SIT)) if e.is_prompt]
            if len(prompts) != 1:
                raise RuntimeError(f"expected one nudge at the threshold, got {prompts}")
            t_handoff = time.time()
            link.publish_nudge(nudge_payload(prompts[0], WEARABLE, UTC), prompts[0].t, now=t_cross)
            nudge_id = prompts[0].nudge_id
            assert nudge_id is not None
            while (arrived := phone.get(nudge_id)) is None:
                if time.time() - t_handoff > 10:
                    raise RuntimeError(f"nudge {nudge_id} did not arrive within 10 s")
                await asyncio.sleep(0.001)
            crossing.append(arrived - t_cross)
            handoff.append(arrived - t_handoff)
            print(f"\r{i + 1}/{count} nudges", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
    finally:
        await link.stop()
        phone.close()
        store.close()
    result: dict[str, object] = {
        "nudges": count,
        "epoch_s": 1.0,
        "crossing_to_phone": summary(crossing),
        "handoff_to_phone": summary(handoff),
        "target_p99_s": TARGET_P99_S,
    }
    result["meets_target"] = summary(crossing)["p99_s"] <= TARGET_P99_S
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=40, help="nudges to time (about 1 s each; default 40)")
    parser.add_argument("--host", default="127.0.0.1", help="broker host when --port is given")
    parser.add_argument("--port", type=int, help="use a running broker instead of starting a private one")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    with tempfile.TemporaryDirectory(prefix="sitbreak-bench-") as tmp:
        if args.port is None:
            with private_broker() as port:
                result = asyncio.run(run("127.0.0.1", port, args.count, Path(tmp)))
        else:
            result = asyncio.run(run(args.host, args.port, args.count, Path(tmp)))
    if args.json:
        print(json.dumps(result))
    else:
        for key in ("crossing_to_phone", "handoff_to_phone"):
            s = result[key]
            assert isinstance(s, dict)
            ms = {k: v * 1000 for k, v in s.items()}
            print(
                f"{key.replace('_', ' '):<18} p50 {ms['p50_s']:7.1f} ms   p99 {ms['p99_s']:7.1f} ms"
                f"   max {ms['max_s']:7.1f} ms   mean {ms['mean_s']:7.1f} ms"
            )
        verdict = "meets" if result["meets_target"] else "MISSES"
        print(f"{result['nudges']} nudges, 1 s epochs: p99 {verdict} the {TARGET_P99_S} s target")
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
