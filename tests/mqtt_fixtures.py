"""A real Mosquitto for the tests: anonymous, password (+ACL), TLS and mutual-TLS listeners on 127.0.0.1.

The broker runs from a generated config in a temporary directory, on free ports chosen per session; it
is stopped by PID and can be stopped and restarted mid-test on the same ports (persistence on, so
sessions and queued messages survive like on a real Pi). The test CA and certificates are made with
the openssl CLI at test time. A missing mosquitto or openssl fails loudly: these tests never skip.

`Phone` plays the wearer's phone: a plain paho client that records what arrives and can publish
commands, awaited from asyncio without blocking the loop the service runs on.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

MOSQUITTO = os.environ.get("SITBREAK_MOSQUITTO", "/usr/sbin/mosquitto")
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
START_TIMEOUT_S = 10.0

SERVICE_USER = "sitbreak"
SERVICE_PASSWORD = "pw-sitbreak-0"
PHONE_USER = "phone"
PHONE_PASSWORD = "pw-phone-1"

ACL = """\
# The service publishes under its prefix and Home Assistant discovery; reads its commands and HA's birth.
user sitbreak
topic readwrite sitbreak/#
topic readwrite homeassistant/#

# The phone reads everything of every wearable and may only write commands.
user phone
topic read sitbreak/#
topic write sitbreak/+/cmd
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(*argv: str, cwd: Path) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")


@dataclass(frozen=True)
class Certs:
    ca_file: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca_file: Path  # a CA that signed nothing we use: the "untrusted broker" case


def make_certs(folder: Path) -> Certs:
    """A throw-away CA, a server certificate for localhost/127.0.0.1 and a client certificate."""
    folder.mkdir(parents=True, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    ca_ext = (
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    for name in ("ca", "other-ca"):
        _run(
            OPENSSL,
            "req",
            "-x509",
            *ec,
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.pem",
            "-days",
            "2",
            "-subj",
            f"/CN=sitbreak test {name}",
            *ca_ext,
            cwd=folder,
        )
    (folder / "server.ext").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n", encoding="utf-8"
    )
    (folder / "client.ext").write_text("extendedKeyUsage=clientAuth\n", encoding="utf-8")
    for name, cn in (("server", "localhost"), ("client", "sitbreak-test-client")):
        _run(
            OPENSSL,
            "req",
            *ec,
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.csr",
            "-subj",
            f"/CN={cn}",
            cwd=folder,
        )
        _run(
            OPENSSL,
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            f"{name}.pem",
            "-days",
            "2",
            "-extfile",
            f"{name}.ext",
            cwd=folder,
        )
    return Certs(
        ca_file=folder / "ca.pem",
        server_cert=folder / "server.pem",
        server_key=folder / "server.key",
        client_cert=folder / "client.pem",
        client_key=folder / "client.key",
        other_ca_file=folder / "other-ca.pem",
    )


def start_mosquitto(conf: Path, ports: tuple[int, ...], log_file: Path) -> subprocess.Popen[bytes]:
    """Start Mosquitto on `conf` and wait until every port accepts connections; stop it on failure."""
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + START_TIMEOUT_S
    for port in ports:
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                log = log_file.read_text(errors="replace") if log_file.exists() else ""
                raise RuntimeError(f"mosquitto exited with {proc.returncode}: {err}{log}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline:
                stop_mosquitto(proc)
                raise RuntimeError(f"mosquitto did not listen on {port} within {START_TIMEOUT_S} s")
            time.sleep(0.02)
    return proc


def stop_mosquitto(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (Mosquitto saves its persistence file), SIGKILL if it does not exit."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    if proc.stderr:
        proc.stderr.close()


@dataclass
class Broker:
    """One Mosquitto process with four listeners; `stop()`/`start()` keep ports, config and data."""

    folder: Path
    certs: Certs
    port: int = field(default_factory=free_port)  # anonymous
    auth_port: int = field(default_factory=free_port)  # password file + ACL
    tls_port: int = field(default_factory=free_port)  # TLS, server certificate only
    mtls_port: int = field(default_factory=free_port)  # TLS, client certificate required
    proc: subprocess.Popen[bytes] | None = None

    @property
    def log_file(self) -> Path:
        return self.folder / "mosquitto.log"

    def write_config(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        passwd = self.folder / "passwd"
        passwd.unlink(missing_ok=True)
        _run(MOSQUITTO_PASSWD, "-c", "-b", str(passwd), SERVICE_USER, SERVICE_PASSWORD, cwd=self.folder)
        _run(MOSQUITTO_PASSWD, "-b", str(passwd), PHONE_USER, PHONE_PASSWORD, cwd=self.folder)
        (self.folder / "acl").write_text(ACL, encoding="utf-8")
        c = self.certs
        tls = f"cafile {c.ca_file}\ncertfile {c.server_cert}\nkeyfile {c.server_key}\n"
        conf = self.folder / "mosquitto.conf"
        conf.write_text(
            f"""\
# generated by tests/mqtt_fixtures.py
user {getpass.getuser()}
per_listener_settings true
persistence true
persistence_location {self.folder}/
log_dest file {self.log_file}
log_type error
log_type warning
log_type notice
log_type information
connection_messages true

listener {self.port} 127.0.0.1
allow_anonymous true

listener {self.auth_port} 127.0.0.1
allow_anonymous false
password_file {passwd}
acl_file {self.folder / "acl"}

listener {self.tls_port} 127.0.0.1
allow_anonymous true
{tls}
listener {self.mtls_port} 127.0.0.1
allow_anonymous true
require_certificate true
{tls}""",
            encoding="utf-8",
        )
        return conf

    def start(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("broker already running")
        conf = self.folder / "mosquitto.conf"
        if not conf.exists():
            self.write_config()
        self.proc = start_mosquitto(
            conf, (self.port, self.auth_port, self.tls_port, self.mtls_port), self.log_file
        )

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            stop_mosquitto(proc)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace") if self.log_file.exists() else ""


@pytest.fixture(scope="session")
def mqtt_certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("mqtt-certs"))


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory, mqtt_certs: Certs) -> Iterator[Broker]:
    """The session's broker. Tests must not stop it; use `private_mosquitto` for that."""
    broker = Broker(tmp_path_factory.mktemp("mosquitto"), mqtt_certs)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def private_mosquitto(tmp_path: Path, mqtt_certs: Certs) -> Iterator[Broker]:
    """A broker of this test's own, free to be stopped and restarted."""
    broker = Broker(tmp_path / "mosquitto", mqtt_certs)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool
    at: float  # time.monotonic() on arrival
    dup: bool = False  # the broker re-sent it after losing our PUBACK (its leg, not the service's)


class Phone:
    """A paho client in its own thread that records every message on its subscriptions."""

    def __init__(
        self,
        port: int,
        *subscriptions: str,
        client_id: str = "",
        username: str | None = None,
        password: str | None = None,
        persistent: bool = False,
        tls_ca: str | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._messages: list[Received] = []
        self._subscribed = threading.Event()
        self._subs = subscriptions
        self.client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id or f"phone-{os.getpid()}-{id(self)}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        if username:
            self.client.username_pw_set(username, password)
        if tls_ca:
            self.client.tls_set(ca_certs=tls_ca)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.reconnect_delay_set(1, 1)
        props = None
        if persistent:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = 3600
        self.client.connect("127.0.0.1", port, 30, clean_start=not persistent, properties=props)
        self.client.loop_start()
        if subscriptions and not self._subscribed.wait(5):
            raise RuntimeError("phone: no SUBACK within 5 s")

    def _on_connect(
        self, client: paho.Client, userdata: object, flags: object, rc: object, props: object
    ) -> None:
        if self._subs:
            client.subscribe([(topic, 1) for topic in self._subs])

    def _on_subscribe(
        self, client: paho.Client, userdata: object, mid: int, rcs: object, props: object
    ) -> None:
        self._subscribed.set()

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        with self._lock:
            self._messages.append(
                Received(msg.topic, bytes(msg.payload), bool(msg.retain), time.monotonic(), bool(msg.dup))
            )

    def messages(self, topic: str | None = None) -> list[Received]:
        with self._lock:
            return [m for m in self._messages if topic is None or m.topic == topic]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    async def expect(self, topic: str, count: int = 1, timeout: float = 10.0) -> list[Received]:
        """Wait (without blocking the event loop) until `count` messages arrived on `topic`."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.messages(topic)
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"phone: {len(got)}/{count} messages on {topic} after {timeout} s: {got}"
                )
            await asyncio.sleep(0.01)

    async def expect_count(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until `count` messages arrived on any subscribed topic."""
        deadline = time.monotonic() + timeout
        while len(got := self.messages()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"phone: {len(got)}/{count} messages after {timeout} s")
            await asyncio.sleep(0.01)
        return got

    def send(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        # Break the callback cycle so paho's __del__ closes its socket pair (see monitor.mqtt.client).
        self.client.on_connect = self.client.on_message = self.client.on_subscribe = None
