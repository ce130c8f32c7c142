"""Setting up paho's client for one broker, and taking it down: credentials, TLS, the LWT, the MQTT 5
session, and a network thread that ticks slowly when idle.

Everything here runs before the first connect (the LWT and credentials must be in the CONNECT
packet) or after the last; what happens while connected is `monitor.mqtt.client`'s.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from monitor.core.errors import ConfigError
from monitor.mqtt.payloads import STATUS_OFFLINE
from monitor.mqtt.settings import MqttSettings
from monitor.mqtt.topics import Topics

QOS = 1
# paho's network thread wakes at most this often when nothing happens (paho's own default is 1 s),
# and at least every quarter of the keep-alive (7.5 s by default), which keeps pings well inside the
# broker's 1.5x grace. Sending, receiving and disconnecting wake it at once, so the tick only paces
# keep-alive checks. Each idle wake-up costs about 0.1 ms, which at 1 s was a fifth of the service's
# whole CPU on a quiet Raspberry Pi.
NETWORK_TICK_S = 15.0


class _QuietPahoFilter(logging.Filter):
    """paho logs "Client is not connected" at ERROR when a publish or disconnect meets a dropped
    connection; the link already logs each outage once (and queues in the outbox), so this is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Client is not connected")


PAHO_LOGGER = logging.getLogger("monitor.mqtt.client.paho")
PAHO_LOGGER.addFilter(_QuietPahoFilter())


def read_password(settings: MqttSettings) -> str | None:
    """The broker password from `password_file` (first line) or `password_env`; None if neither set."""
    if settings.password_file:
        # "${CREDENTIALS_DIRECTORY}/mqtt-password" reads the systemd credential (LoadCredential=).
        path = Path(os.path.expandvars(settings.password_file))
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
            raise ConfigError(f"mqtt.password_file: cannot read {path}: {reason}") from None
        lines = text.splitlines()
        if not lines or not lines[0]:
            raise ConfigError(f"mqtt.password_file: {path} is empty (the first line must be the password)")
        return lines[0]
    if settings.password_env:
        value = os.environ.get(settings.password_env)
        if not value:
            raise ConfigError(
                f"mqtt.password_env: environment variable {settings.password_env} is not set or empty"
            )
        return value
    return None


def properties(packet_type: int) -> Properties:
    return Properties(packet_type)  # type: ignore[no-untyped-call]  # paho leaves __init__ unannotated


class _Client(paho.Client):
    """paho's client with a slower idle tick for the network thread `loop_start` runs."""

    network_tick_s = NETWORK_TICK_S

    def _thread_main(self) -> None:
        # Mirrors paho 2.x's own _thread_main, which calls loop_forever with its 1 s default.
        try:
            self.loop_forever(timeout=self.network_tick_s, retry_first_connection=True)
        finally:
            self._thread = None


def _check_tls_files(settings: MqttSettings) -> None:
    for key in ("ca_file", "cert_file", "key_file"):
        name = getattr(settings, key)
        if name and not Path(name).is_file():
            raise ConfigError(f"mqtt.{key}: {name} does not exist or is not a file")
    if bool(settings.cert_file) != bool(settings.key_file):
        raise ConfigError("mqtt.cert_file and mqtt.key_file: set both (a client certificate needs its key)")


def _set_credentials(client: paho.Client, s: MqttSettings) -> None:
    if s.username:
        client.username_pw_set(s.username, read_password(s))
    elif s.password_file or s.password_env:
        raise ConfigError("mqtt.username: a password is configured but no user name")
    if s.tls:
        _check_tls_files(s)
        try:
            client.tls_set(
                ca_certs=s.ca_file or None,
                certfile=s.cert_file or None,
                keyfile=s.key_file or None,
                cert_reqs=ssl.CERT_REQUIRED,
            )
        except (OSError, ssl.SSLError) as err:
            raise ConfigError(f"mqtt.ca_file/cert_file/key_file: cannot load TLS material: {err}") from None


def new_client(settings: MqttSettings, client_id: str, topics: Topics) -> paho.Client:
    """A paho client for MQTT 5 with credentials, TLS, the LWT and the reconnect backoff set, not
    yet connected. Raises ConfigError for settings it cannot use (a password file it cannot read,
    TLS files that are missing or unreadable)."""
    client = _Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    client.network_tick_s = min(NETWORK_TICK_S, settings.keepalive_s / 4)
    client.enable_logger(PAHO_LOGGER)
    _set_credentials(client, settings)
    # The LWT must be in the CONNECT packet, so it is set before the first connect.
    client.will_set(topics.status, STATUS_OFFLINE, qos=QOS, retain=True)
    client.reconnect_delay_set(
        settings.reconnect_min_s, max(settings.reconnect_min_s, settings.reconnect_max_s)
    )
    return client


def connect_async(client: paho.Client, settings: MqttSettings) -> None:
    """Start connecting in paho's network thread: a persistent session (clean_start=False) that the
    broker keeps for `session_expiry_s`, so commands sent while we are away arrive."""
    props = properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = settings.session_expiry_s
    client.connect_async(
        settings.host, settings.port, settings.keepalive_s, clean_start=False, properties=props
    )
    client.loop_start()


async def stop_network_thread(client: paho.Client) -> None:
    # loop_stop joins paho's thread, which may sit in a reconnect wait of up to a second.
    await asyncio.to_thread(client.loop_stop)
    # Our bound-method callbacks make a reference cycle with the client; broken here, the client is
    # freed by reference counting and its __del__ closes its wake-up socket pair, instead of the cycle
    # collector finalising those sockets first (a ResourceWarning per client).
    client.on_connect = client.on_connect_fail = client.on_disconnect = None
    client.on_publish = client.on_message = client.on_subscribe = None
