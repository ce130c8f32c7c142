"""A real Home Assistant against sitbreak's MQTT: discovery, entity states, buttons, and the automation
in docs/phone.md. A check to run by hand, like the benchmarks; not part of `make test`.

    python bench/ha_check.py               # first run installs Home Assistant (a few minutes)
    python bench/ha_check.py --demo        # also `sitbreak demo` against the same broker (~2 min more)
    python bench/ha_check.py --keep        # keep Home Assistant's config folder and log to look at

What it does:
1. Installs `homeassistant==2025.4.4` (and the MQTT integration's paho-mqtt) in a virtual environment
   of its own under ~/.cache/sitbreak-bench (Home Assistant needs Python 3.13: `--python`, else the
   newest 3.13 under ~/.pyenv or /root/.pyenv, else python3.13 on PATH). Once; later runs reuse it.
2. Starts Mosquitto on a free 127.0.0.1 port (`monitor.demo.mosquitto`, as the demo does) and Home
   Assistant on another, with a config of its own: http, api, config, onboarding, automation,
   input_text (the helper docs/phone.md asks for) and the two automations of docs/phone.md as written,
   except that the phone notification (`notify.mobile_app_my_phone`, which needs a real phone) becomes an
   event that a third automation publishes on `sitbreak-check/notification`.
3. Creates a user through onboarding, a token, and the MQTT integration through its config flow
   (the REST API a person's clicks use), then reloads the automations.
4. Publishes what the service publishes, built by its own code (`discovery_messages`, `state_payload`,
   `nudge_payload`): discovery, `online`, then states for every posture, the link lost, no battery yet.
   Checks each entity's state through the REST API: numbers where numbers belong, HA's no-value
   (`unknown`) for a battery not reported yet, our own `no_data` for an unknown posture, on/off for worn,
   and every entity `unavailable` after `offline`.
5. Presses both buttons (`button.press`); the `cmd` payloads must be accepted by the service's parser.
6. Publishes a real nudge: the event entity fires, the automation sets `input_text.sitbreak_last_nudge`
   and "notifies" with Done/Snooze actions carrying the nudge id; the same nudge again is skipped
   (at-least-once delivery); a `mobile_app_notification_action` event for Snooze publishes a command the
   service accepts.
7. With --demo: `sitbreak demo --mqtt-host/--mqtt-port` against the same broker; every entity must
   show valid states while it runs.
8. Home Assistant's log must hold no ERROR or WARNING about sitbreak's entities or templates.

Prints one line per check and exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from monitor.core.types import EpochBlock, Posture
from monitor.demo.mosquitto import MosquittoProcess, find_mosquitto
from monitor.demo.run import DEMO_WEARABLE
from monitor.mqtt.commands import parse_command
from monitor.mqtt.convert import LiveState, TodayCounts, nudge_payload, state_payload
from monitor.mqtt.discovery import discovery_messages
from monitor.mqtt.payloads import STATE_POSTURES, STATUS_OFFLINE, STATUS_ONLINE, encode
from monitor.mqtt.topics import Topics
from monitor.nudges import ExerciseLibrary, NudgePolicy, PolicySettings

REPO = Path(__file__).resolve().parent.parent
HA_VERSION = "2025.4.4"
# The MQTT integration's requirement in that release (homeassistant/components/mqtt/manifest.json).
PAHO_FOR_HA = "paho-mqtt==2.1.0"
WEARABLE = "thigh1"
PREFIX = "sitbreak"
NOTIFY_TOPIC = "sitbreak-check/notification"
USER, PASSWORD = "sitbreak-check", "sitbreak-check-password"
# Entity ids Home Assistant before 2025.10 creates (docs/phone.md, "Home Assistant").
ENTITY_PATTERNS = {
    "sitting_today": "sensor.sitbreak_{w}_sitting_today",
    "current_bout": "sensor.sitbreak_{w}_current_bout",
    "posture": "sensor.sitbreak_{w}_posture",
    "worn": "binary_sensor.sitbreak_{w}_worn",
    "battery": "sensor.sitbreak_{w}_battery",
    "nudge": "event.sitbreak_{w}_nudge",
    "ack": "button.sitbreak_{w}_done_ack",
    "snooze": "button.sitbreak_{w}_snooze_10_min",
}


def entities(wearable: str) -> dict[str, str]:
    return {key: pattern.format(w=wearable) for key, pattern in ENTITY_PATTERNS.items()}


ENTITIES = entities(WEARABLE)
HA_START_TIMEOUT_S = 300.0  # the first start installs what the integrations need
WAIT_S = 15.0


class Checks:
    def __init__(self) -> None:
        self.failed = 0

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        self.failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'}  {what}" + (f": {detail}" if detail else ""), flush=True)
        return ok


# --- Home Assistant installed and running --------------------------------------------------------------


def find_python313(given: str | None) -> Path:
    if given:
        return Path(given)
    homes = [Path.home() / ".pyenv", Path("/root/.pyenv")]
    found = sorted(p for home in homes for p in home.glob("versions/3.13*/bin/python3") if p.is_file())
    if found:
        return found[-1]
    which = shutil.which("python3.13")
    if which is None:
        sys.exit("ha_check: Home Assistant 2025.4 needs Python 3.13; give one with --python")
    return Path(which)


def ensure_home_assistant(python: Path, cache: Path) -> Path:
    """The venv's `hass`, installing Home Assistant first if needed."""
    venv = cache / f"ha-{HA_VERSION}"
    hass = venv / "bin" / "hass"
    if hass.exists():
        return hass
    print(f"installing homeassistant=={HA_VERSION} into {venv} (once; a few minutes)", flush=True)
    subprocess.run([str(python), "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, f"homeassistant=={HA_VERSION}", PAHO_FOR_HA], check=True)
    return hass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CONFIGURATION = """\
homeassistant:
  name: sitbreak check
  latitude: 52.5
  longitude: 13.4
  elevation: 0
  unit_system: metric
  time_zone: UTC
  country: DE
  currency: EUR
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
config:
onboarding:
automation: !include automations.yaml
input_text:
  sitbreak_last_nudge:
    name: sitbreak last nudge
    max: 255
logger:
  default: warning
"""

# The phone notification, which needs a real phone, becomes an event; this automation hands it on.
NOTIFY_STAND_IN = f"""
- id: sitbreak_check_notification_to_mqtt
  alias: "check: notification to MQTT"
  mode: queued
  triggers:
    - trigger: event
      event_type: sitbreak_check_notification
  actions:
    - action: mqtt.publish
      data:
        topic: {NOTIFY_TOPIC}
        qos: 1
        payload: "{{{{ trigger.event.data | tojson }}}}"
"""


def phone_automations() -> str:
    """docs/phone.md's automations as written, the notify action replaced by an event."""
    text = (REPO / "docs" / "phone.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```yaml\n(.*?)```", text, re.S)
    notify = "    - action: notify.mobile_app_my_phone\n      data:\n"
    if notify not in block:
        sys.exit("ha_check: docs/phone.md's automation no longer calls notify.mobile_app_my_phone")
    return str(
        block.replace(notify, "    - event: sitbreak_check_notification\n      event_data:\n")
        + NOTIFY_STAND_IN
    )


class HomeAssistant:
    def __init__(self, hass: Path, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        (folder / "configuration.yaml").write_text(CONFIGURATION.format(port=self.port), encoding="utf-8")
        # Empty until MQTT is set up: an MQTT trigger cannot attach before (an ERROR in the log).
        (folder / "automations.yaml").write_text("[]\n", encoding="utf-8")
        self.log = folder / "home-assistant.log"
        self._out = (folder / "hass.stdout").open("wb")
        self.process = subprocess.Popen(
            [str(hass), "--config", str(folder), "--log-file", str(self.log)],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.token = ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._out.close()

    def request(
        self, method: str, path: str, body: object = None, *, form: dict[str, str] | None = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        with urllib.request.urlopen(req, timeout=30) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def wait_started(self) -> None:
        deadline = time.monotonic() + HA_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"ha_check: Home Assistant exited ({self.process.returncode}); see {self.folder}")
            try:
                self.request("GET", "/api/onboarding")
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(1)
        sys.exit(f"ha_check: Home Assistant did not answer within {HA_START_TIMEOUT_S:g} s")

    def log_in(self) -> None:
        client = f"{self.base}/"
        user = self.request(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": client,
                "name": "sitbreak check",
                "username": USER,
                "password": PASSWORD,
                "language": "en",
            },
        )
        tokens = self.request(
            "POST",
            "/auth/token",
            form={"grant_type": "authorization_code", "code": user["auth_code"], "client_id": client},
        )
        self.token = tokens["access_token"]

    def add_mqtt(self, port: int) -> dict[str, Any]:
        flow = self.request("POST", "/api/config/config_entries/flow", {"handler": "mqtt"})
        result: dict[str, Any] = flow
        for _ in range(4):  # the broker form, perhaps a menu first
            if result.get("type") == "create_entry":
                return result
            step: dict[str, object] = (
                {"next_step_id": "broker"}
                if result.get("type") == "menu"
                else {"broker": "127.0.0.1", "port": port}
            )
            result = self.request("POST", f"/api/config/config_entries/flow/{flow['flow_id']}", step)
        return result

    def state(self, entity: str) -> dict[str, Any] | None:
        try:
            value: dict[str, Any] = self.request("GET", f"/api/states/{entity}")
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            raise
        return value

    def wait_state(self, entity: str, want: Callable[[str], bool], timeout: float = WAIT_S) -> str | None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            got = self.state(entity)
            last = None if got is None else str(got["state"])
            if last is not None and want(last):
                return last
            time.sleep(0.2)
        return last

    def call(self, service: str, data: dict[str, Any]) -> None:
        domain, name = service.split(".")
        self.request("POST", f"/api/services/{domain}/{name}", data)

    def fire(self, event: str, data: dict[str, Any]) -> None:
        self.request("POST", f"/api/events/{event}", data)


# --- the MQTT side: publishing what the service publishes, and listening ------------------------------


class Wire:
    """One paho client: publishes as sitbreak does and records what arrives on its subscriptions."""

    def __init__(self, port: int, *topics: str) -> None:
        self._lock = threading.Lock()
        self.got: list[tuple[str, bytes]] = []
        self._subscribed = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"sitbreak-check-{os.getpid()}")
        self.client.on_connect = lambda c, *_: c.subscribe([(t, 1) for t in topics])
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            sys.exit("ha_check: no subscription to the check's own broker")

    def _on_message(self, _c: object, _u: object, msg: paho.MQTTMessage) -> None:
        with self._lock:
            self.got.append((msg.topic, bytes(msg.payload)))

    def messages(self, topic: str) -> list[bytes]:
        with self._lock:
            return [p for t, p in self.got if t == topic]

    def wait(self, topic: str, count: int, timeout: float = WAIT_S) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while len(self.messages(topic)) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages(topic)

    def publish(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def real_nudge(wearable: str) -> bytes:
    """A nudge as the service publishes it: the policy fed 40 minutes of sitting."""
    policy = NudgePolicy(PolicySettings(), ExerciseLibrary.default(), UTC, wearable_id=wearable)
    t = time.time() // 60 * 60 - 45 * 60
    for _ in range(45):
        for event in policy.feed(EpochBlock(t, np.zeros(60, dtype=np.uint8))):
            if event.is_prompt:
                return encode(nudge_payload(event, wearable, UTC))
        t += 60
    raise RuntimeError("the policy gave no nudge for 45 minutes of sitting (outside its active hours?)")


def check_states(ha: HomeAssistant, wire: Wire, topics: Topics, checks: Checks) -> None:
    now = time.time()
    today = TodayCounts(posture_s={Posture.SIT: 3 * 3600, Posture.STAND: 1200}, breaks=4, nudges=2)
    lost = LiveState(posture=Posture.SIT, posture_since=now - 600, link_up=False, battery=None, today=today)
    wire.publish(topics.state, encode(state_payload(lost, now, WEARABLE, UTC)), retain=True)
    battery = ha.wait_state(ENTITIES["battery"], lambda s: s == "unknown")
    checks.check(
        battery == "unknown", "battery not reported yet: Home Assistant's no value", f"state {battery!r}"
    )
    posture = ha.wait_state(ENTITIES["posture"], lambda s: s == "no_data")
    checks.check(posture == "no_data", "link lost: posture no_data", f"state {posture!r}")
    worn = ha.wait_state(ENTITIES["worn"], lambda s: s == "off")
    checks.check(worn == "off", "link lost: not worn", f"state {worn!r}")
    for key in ("sitting_today", "current_bout"):
        value = ha.wait_state(ENTITIES[key], is_number)
        checks.check(value is not None and is_number(value), f"{key} is a number", f"state {value!r}")
    for posture_value in Posture:
        state = LiveState(
            posture=posture_value, posture_since=now - 300, link_up=True, battery=87, today=today
        )
        payload = state_payload(state, now, WEARABLE, UTC)
        wire.publish(topics.state, encode(payload), retain=True)
        word, expect_worn = payload["posture"], "on" if payload["worn"] else "off"
        shown = ha.wait_state(ENTITIES["posture"], word.__eq__)
        worn = ha.wait_state(ENTITIES["worn"], expect_worn.__eq__)
        checks.check(
            shown == payload["posture"] and shown in STATE_POSTURES and worn == expect_worn,
            f"posture {posture_value.value}: shown as {payload['posture']}, worn {expect_worn}",
            f"states {shown!r}, {worn!r}",
        )
    battery = ha.wait_state(ENTITIES["battery"], lambda s: s == "87")
    checks.check(battery == "87", "battery 87 %", f"state {battery!r}")


def check_buttons(ha: HomeAssistant, wire: Wire, topics: Topics, checks: Checks) -> None:
    for key in ("ack", "snooze"):
        before = len(wire.messages(topics.cmd))
        ha.call("button.press", {"entity_id": ENTITIES[key]})
        got = wire.wait(topics.cmd, before + 1)
        if not checks.check(len(got) > before, f"button {ENTITIES[key]} publishes on {topics.cmd}"):
            continue
        try:
            command = parse_command(got[-1], time.time())
        except Exception as exc:
            checks.check(False, f"{key} command accepted", f"{got[-1]!r}: {exc}")
        else:
            checks.check(True, f"{key} command accepted", repr(command))


def check_automation(ha: HomeAssistant, wire: Wire, topics: Topics, checks: Checks) -> None:
    nudge = real_nudge(WEARABLE)
    body = json.loads(nudge)
    wire.publish(topics.nudge, nudge)
    event = ha.wait_state(ENTITIES["nudge"], lambda s: s not in ("unknown", "unavailable"))
    attributes = (ha.state(ENTITIES["nudge"]) or {}).get("attributes", {})
    checks.check(
        attributes.get("event_type") == "nudge" and attributes.get("id") == body["id"],
        "the nudge event entity fires with the whole nudge",
        f"state {event!r}, event_type {attributes.get('event_type')!r}",
    )
    helper = ha.wait_state("input_text.sitbreak_last_nudge", lambda s: s == body["id"])
    checks.check(helper == body["id"], "automation 1 remembers the nudge id", f"state {helper!r}")
    notes = wire.wait(NOTIFY_TOPIC, 1)
    if checks.check(len(notes) == 1, "automation 1 notifies the phone"):
        note = json.loads(notes[0])
        actions = [a.get("action") for a in note.get("data", {}).get("actions", [])]
        checks.check(
            note.get("title") == body["title"]
            and body["exercise"]["name"] in note.get("message", "")
            and actions == [f"SITBREAK_DONE_{body['id']}", f"SITBREAK_SNOOZE_{body['id']}"],
            "the notification: title, message with the exercise on its own line, Done/Snooze actions",
            json.dumps(note)[:300],
        )
        checks.check(
            "\n" + body["exercise"]["name"] in note.get("message", ""),
            "the exercise keeps its own line (|-, not >-)",
        )
    wire.publish(topics.nudge, nudge)  # delivered twice (at least once): no second notification
    time.sleep(3)
    checks.check(len(wire.messages(NOTIFY_TOPIC)) == 1, "a repeated nudge is not notified twice")
    before = len(wire.messages(topics.cmd))
    ha.fire("mobile_app_notification_action", {"action": f"SITBREAK_SNOOZE_{body['id']}"})
    got = wire.wait(topics.cmd, before + 1)
    if checks.check(len(got) > before, "automation 2 answers Snooze on the wearable's cmd topic"):
        try:
            command = parse_command(got[-1], time.time())
        except Exception as exc:
            checks.check(False, "the answer is a command the service accepts", f"{got[-1]!r}: {exc}")
        else:
            checks.check(True, "the answer is a command the service accepts", repr(command))


def check_offline(ha: HomeAssistant, wire: Wire, topics: Topics, checks: Checks) -> None:
    wire.publish(topics.status, STATUS_OFFLINE, retain=True)
    for key, entity in ENTITIES.items():
        state = ha.wait_state(entity, lambda s: s == "unavailable")
        checks.check(state == "unavailable", f"offline: {key} unavailable", f"state {state!r}")
    wire.publish(topics.status, STATUS_ONLINE, retain=True)


def check_demo(ha: HomeAssistant, broker_port: int, folder: Path, checks: Checks) -> None:
    """`sitbreak demo` against the same broker: every entity of its wearable shows valid states while
    it runs, and the posture takes more than one value (the states follow the day)."""
    sitbreak = Path(sys.executable).parent / "sitbreak"
    demo_entities = entities(DEMO_WEARABLE)
    cmd = [str(sitbreak), "demo", "--mqtt-host", "127.0.0.1", "--mqtt-port", str(broker_port)]
    cmd += ["--state-dir", str(folder / "demo"), "-q"]
    seen: dict[str, set[str]] = {key: set() for key in demo_entities}
    with (folder / "demo.log").open("w") as log:
        demo = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        while demo.poll() is None:
            for key, entity in demo_entities.items():
                got = ha.state(entity)
                if got is not None:
                    seen[key].add(str(got["state"]))
            time.sleep(1)
    checks.check(
        demo.returncode == 0, "sitbreak demo against Home Assistant's broker", f"exit {demo.returncode}"
    )
    valid: dict[str, Callable[[str], bool]] = {
        "sitting_today": is_number,
        "current_bout": is_number,
        "posture": lambda s: s in STATE_POSTURES,
        "worn": lambda s: s in ("on", "off"),
        "battery": is_number,
    }
    for key, values in seen.items():
        # A button's (and an event's) state is when it last fired: `unknown` until then, and available.
        live = values - ({"unavailable"} if key in ("ack", "snooze", "nudge") else {"unavailable", "unknown"})
        good = valid.get(key, _anything)
        checks.check(
            bool(live) and all(good(v) for v in live),
            f"demo: {demo_entities[key]} live with valid states",
            ", ".join(sorted(values))[:200],
        )
    postures = seen["posture"] & set(STATE_POSTURES)
    checks.check(len(postures) >= 3, "demo: the posture follows the day", ", ".join(sorted(postures)))


def _anything(_state: str) -> bool:
    return True


def check_log(ha: HomeAssistant, checks: Checks) -> None:
    text = ha.log.read_text(encoding="utf-8", errors="replace") if ha.log.exists() else ""
    bad = [
        line
        for line in text.splitlines()
        if re.search(r"\b(ERROR|WARNING)\b", line) and re.search(r"sitbreak|mqtt|template", line, re.I)
    ]
    checks.check(not bad, "Home Assistant's log has no error or warning about sitbreak", "; ".join(bad)[:600])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--python", help="a Python 3.13 to install Home Assistant with")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sitbreak-bench",
    )
    parser.add_argument("--demo", action="store_true", help="also run `sitbreak demo` against the broker")
    parser.add_argument("--keep", action="store_true", help="keep Home Assistant's config folder and log")
    args = parser.parse_args()

    hass = ensure_home_assistant(find_python313(args.python), args.cache)
    mosquitto_binary = find_mosquitto()
    if mosquitto_binary is None:
        sys.exit("ha_check: needs mosquitto (apt-get install mosquitto)")
    broker = MosquittoProcess(mosquitto_binary)
    asyncio.run(broker.start())
    folder = Path(tempfile.mkdtemp(prefix="sitbreak-ha-check-"))
    checks = Checks()
    ha = HomeAssistant(hass, folder)
    topics = Topics(PREFIX, WEARABLE)
    wire: Wire | None = None
    try:
        print(
            f"Home Assistant {HA_VERSION} on 127.0.0.1:{ha.port}, Mosquitto on 127.0.0.1:{broker.port}",
            flush=True,
        )
        ha.wait_started()
        ha.log_in()
        entry = ha.add_mqtt(broker.port)
        if not checks.check(
            entry.get("type") == "create_entry", "MQTT integration set up", json.dumps(entry)[:300]
        ):
            return 1
        wire = Wire(broker.port, topics.cmd, NOTIFY_TOPIC)
        for message in discovery_messages(topics):
            wire.publish(message.topic, message.payload, retain=True)
        wire.publish(topics.status, STATUS_ONLINE, retain=True)
        for key, entity in ENTITIES.items():
            found = ha.wait_state(entity, _anything)
            checks.check(found is not None, f"entity {entity} ({key}) discovered")
        # MQTT is connected now (it delivered discovery): the automations can subscribe.
        (folder / "automations.yaml").write_text(phone_automations(), encoding="utf-8")
        ha.call("automation.reload", {})
        for automation in ("sitbreak_nudge_to_phone", "sitbreak_phone_button_to_cmd"):
            state = ha.wait_state(f"automation.{automation}", "on".__eq__)
            checks.check(state == "on", f"docs/phone.md automation {automation} loaded", f"state {state!r}")
        check_states(ha, wire, topics, checks)
        check_buttons(ha, wire, topics, checks)
        check_automation(ha, wire, topics, checks)
        check_offline(ha, wire, topics, checks)
        if args.demo:
            check_demo(ha, broker.port, folder, checks)
        check_log(ha, checks)
    finally:
        if wire is not None:
            wire.close()
        ha.stop()
        broker.stop()
        if args.keep:
            print(f"Home Assistant's folder: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{checks.failed} check(s) failed" if checks.failed else "\nall checks passed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
