"""config/mosquitto.conf and config/sitbreak.acl are real: Mosquitto runs them (paths and ports moved
into a temporary folder), and the users can do what the comments say and nothing else."""

from __future__ import annotations

import asyncio
import getpass
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.mqtt.helpers import make_link, nudge, settings_for
from tests.mqtt_fixtures import MOSQUITTO_PASSWD, Certs, Phone, free_port, start_mosquitto, stop_mosquitto

PASSWORDS = {"sitbreak": "pw-s", "homeassistant": "pw-ha", "phone": "pw-ph"}


@pytest.fixture
def example_broker(tmp_path: Path, mqtt_certs: Certs) -> Iterator[tuple[int, int]]:
    passwd = tmp_path / "passwd"
    for i, (user, pw) in enumerate(PASSWORDS.items()):
        create = ["-c"] if i == 0 else []
        subprocess.run(
            [MOSQUITTO_PASSWD, *create, "-b", str(passwd), user, pw], check=True, capture_output=True
        )
    plain, tls = free_port(), free_port()
    text = (REPO / "config" / "mosquitto.conf").read_text(encoding="utf-8")
    replacements = {
        "/etc/mosquitto/passwd": str(passwd),
        "/etc/mosquitto/sitbreak.acl": str(REPO / "config" / "sitbreak.acl"),
        "/etc/mosquitto/certs/ca.crt": str(mqtt_certs.ca_file),
        "/etc/mosquitto/certs/server.crt": str(mqtt_certs.server_cert),
        "/etc/mosquitto/certs/server.key": str(mqtt_certs.server_key),
        "/var/lib/mosquitto/": f"{tmp_path}/",
        "listener 1883 127.0.0.1": f"listener {plain} 127.0.0.1",
        "listener 8883": f"listener {tls} 127.0.0.1",
    }
    for old, new in replacements.items():
        assert old in text, f"config/mosquitto.conf no longer contains {old!r}"
        text = text.replace(old, new)
    conf = tmp_path / "mosquitto.conf"
    log = tmp_path / "mosquitto.log"
    conf.write_text(f"user {getpass.getuser()}\nlog_dest file {log}\n{text}", encoding="utf-8")
    proc = start_mosquitto(conf, (plain, tls), log)
    try:
        yield plain, tls
    finally:
        stop_mosquitto(proc)


def test_example_config_runs_and_the_acl_holds(
    example_broker: tuple[int, int], mqtt_certs: Certs, tmp_path: Path
) -> None:
    plain, tls = example_broker
    secret = tmp_path / "pw"
    secret.write_text(PASSWORDS["sitbreak"], encoding="utf-8")
    link, _ = make_link(tmp_path, settings_for(plain, username="sitbreak", password_file=str(secret)), "ex1")
    ha = Phone(tls, "sitbreak/#", username="homeassistant", password=PASSWORDS["homeassistant"],
               tls_ca=str(mqtt_certs.ca_file))  # fmt: skip
    phone = Phone(tls, "sitbreak/ex1/nudge", username="phone", password=PASSWORDS["phone"],
                  tls_ca=str(mqtt_certs.ca_file))  # fmt: skip

    async def scenario() -> None:
        await link.start()
        await link.wait_connected(10)
        now = time.time()  # data time is the wall clock here, as live
        link.publish_nudge(nudge("x-1", now, "ex1"), now, now=now)
        got = await phone.expect("sitbreak/ex1/nudge")
        assert json.loads(got[0].payload)["id"] == "x-1"
        # The phone may send commands ...
        phone.send("sitbreak/ex1/cmd", '{"action":"resume"}')
        agen = link.commands()
        assert (await asyncio.wait_for(anext(agen), 10)).action == "resume"
        await agen.aclose()
        # ... but not impersonate the service: Home Assistant never sees a forged state.
        phone.send("sitbreak/ex1/state", '{"posture":"stand"}')
        await ha.expect("sitbreak/ex1/cmd")  # HA sees the command (sent before the forgery) ...
        await asyncio.sleep(0.3)
        assert ha.messages("sitbreak/ex1/state") == []  # ... and no state
        await link.stop()

    try:
        asyncio.run(scenario())
    finally:
        phone.close()
        ha.close()
