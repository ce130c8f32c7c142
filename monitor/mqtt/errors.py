"""Errors of the MQTT edge. Each carries the broker's reason code in words: `[code:N] reason`."""

from __future__ import annotations

from monitor.core.errors import UserError

# MQTT 5 CONNACK reason codes after which retrying with the same settings cannot succeed: the fix is in
# the configuration (or on the broker), so the service reports them instead of looping silently.
FATAL_CONNACK_CODES: dict[int, str] = {
    0x84: "check the broker supports MQTT 5 (Mosquitto >= 1.6)",
    0x85: "the broker rejected the client id; set mqtt.client_id",
    0x86: "check mqtt.username and the password in mqtt.password_file / mqtt.password_env",
    # Mosquitto 2.0 answers a wrong password with this code too, so the advice covers both.
    0x87: "check mqtt.username and the password in mqtt.password_file / mqtt.password_env; if they "
    "are right, the broker does not allow this user to connect",
    0x8A: "the broker has banned this client",
    0x8C: "the broker wants another authentication method",
}


class MqttError(Exception):
    """Something went wrong talking to the broker."""


class MqttCodeError(MqttError):
    """The broker answered with a failure reason code."""

    def __init__(self, code: int, reason: str, context: str = "") -> None:
        self.code = code
        self.reason = reason
        self.context = context
        super().__init__(code, reason, context)

    def __str__(self) -> str:
        text = f"[code:{self.code}] {self.reason}"
        return f"{text}: {self.context}" if self.context else text


class MqttConnectError(MqttCodeError, UserError):
    """The broker refused the connection (bad credentials, not authorised, ...); not worth retrying."""


class MqttTlsError(MqttError, UserError):
    """The TLS handshake failed in a way retrying will not fix (untrusted or mismatched certificate)."""
