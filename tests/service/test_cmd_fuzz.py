"""Whatever arrives on `cmd`, the running service keeps phone control: property-based, end to end.

tests/mqtt/test_commands_hostile.py drives the parser and what follows it in process. Here the same
strategies (arbitrary bytes, command-shaped JSON with hostile strings: lone surrogates, control
characters, huge numbers, wrong types) go through a real Mosquitto to `sitbreak run` in its own
process, and after each example a valid pause, with a reason the example cannot have sent, must be
applied and published. Finding 1 of issue 11 was one such message (a pause whose reason held a lone
surrogate) ending the command task for good.

Examples: a modest number in `make test` (each is a round trip through the broker and the service);
SITBREAK_FUZZ=1 runs sixty times as many (tests/conftest.py).
"""

from __future__ import annotations

import itertools
import json
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from firmware_sim.bluez import BlueZEmulator
from tests.conftest import examples
from tests.mqtt.test_commands_hostile import COMMAND_OBJECTS
from tests.mqtt_fixtures import Broker, Phone
from tests.service.procs import STOP_SLACK_S, STOP_WITHIN_S, ServiceProcess, config_text, payloads, wait_for

pytestmark = pytest.mark.timeout(600)

WID = "fuzz"
# A wearable nobody advertises: commands work before any data (the policy is restored at start).
ADDRESS = "F0:5E:00:00:0F:02"
APPLIED_WITHIN_S = 15.0


def _json(obj: dict[str, Any]) -> bytes:
    # ensure_ascii writes lone surrogates as \udxxx escapes, exactly what a hostile sender would send.
    return json.dumps(obj, ensure_ascii=True, allow_nan=True).encode()


# The probe's message of finding 1, always among the examples.
FINDING_1 = b'{"action":"pause","minutes":5,"reason":"\\ud800"}'
HOSTILE = st.lists(st.binary(max_size=1200) | COMMAND_OBJECTS.map(_json), min_size=1, max_size=4)


@dataclass
class Running:
    proc: ServiceProcess
    phone: Phone
    probes: Iterator[int]


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory, bluez: BlueZEmulator, mosquitto: Broker
) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("cmd-fuzz")
    config = tmp / "sitbreak.toml"
    config.write_text(config_text(wearable=WID, address=ADDRESS, mqtt_port=mosquitto.port), encoding="utf-8")
    phone = Phone(mosquitto.port, f"sitbreak/{WID}/event")
    proc = ServiceProcess.run(config, tmp / "state", tmp / "service.log")
    try:
        proc.wait_log(r"mqtt: connected to")
        yield Running(proc, phone, itertools.count())
        assert proc.returncode is None, proc.log()[-4000:]
        log = proc.log()
        # Every hostile message was refused at the edge: none reached a handler and made it raise.
        assert "failed and was dropped" not in log and "Traceback" not in log, log[-4000:]
        proc.signal(signal.SIGTERM)
        assert proc.wait(STOP_WITHIN_S + STOP_SLACK_S) == 0
    finally:
        proc.stop()
        phone.close()


@settings(
    max_examples=examples(12),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(hostile=HOSTILE)
@example(hostile=[FINDING_1])
def test_after_any_messages_on_cmd_a_valid_command_is_still_applied(
    running: Running, hostile: list[bytes]
) -> None:
    cmd = f"sitbreak/{WID}/cmd"
    for payload in hostile:
        running.phone.send(cmd, payload)
    # A reason no example sends (hypothesis' text never makes this exact word with the counter).
    probe = f"probe-{next(running.probes)}-applied"
    running.phone.send(cmd, json.dumps({"action": "pause", "minutes": 5, "reason": probe}))

    def applied() -> bool:
        return any(
            e.get("kind") == "paused" and probe in str(e.get("detail", {}).get("note", ""))
            for e in payloads(running.phone, f"sitbreak/{WID}/event")
        )

    wait_for(
        f"the pause {probe} applied after {len(hostile)} hostile message(s)",
        applied,
        APPLIED_WITHIN_S,
        running.proc,
    )
    running.phone.clear()
