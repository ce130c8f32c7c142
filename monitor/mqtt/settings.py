"""Settings for the MQTT edge. Pure: no I/O here; `monitor.config` fills it from TOML.

The password itself is never a setting: only where to find it (a file or an environment variable),
so a config file can be shared or logged without leaking it.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.core.fields import setting
from monitor.mqtt.topics import check_prefix

# Mosquitto on the Pi itself is the common setup; nothing leaves the machine unless configured.
DEFAULT_HOST = "localhost"
DEFAULT_PORT = 1883
# Short enough that the LWT `offline` shows within a minute of a dead Pi (the broker waits 1.5x).
DEFAULT_KEEPALIVE_S = 30
# A week: commands sent from the phone while the Pi was off for a weekend still arrive, and a Pi that
# is gone for good stops costing the broker memory after that.
DEFAULT_SESSION_EXPIRY_S = 7 * 24 * 3600
# paho doubles the delay after each failed attempt between these two bounds.
DEFAULT_RECONNECT_MIN_S = 1
DEFAULT_RECONNECT_MAX_S = 60
# A "stand up" that arrives after a quarter of an hour is about a different bout: drop it instead.
DEFAULT_NUDGE_MAX_AGE_MIN = 15.0
# A command is one small JSON object; 1 KiB leaves room for a reason text and nothing to abuse.
DEFAULT_COMMAND_MAX_BYTES = 1024
# Longest snooze the phone may ask for; the policy shortens it further for repeated snoozes.
DEFAULT_SNOOZE_MAX_MIN = 120.0
# A working day: a pause longer than this is what `active hours` and holidays are for.
DEFAULT_PAUSE_MAX_MIN = 12 * 60.0
# A command older than this (by its own `ts`) was queued while the service was away and is no longer
# what the wearer means (a snooze for a bout that ended hours ago).
DEFAULT_COMMAND_MAX_AGE_MIN = 30.0
# Repeated bad commands (a misconfigured automation) log one line per kind per this interval.
DEFAULT_LOG_INTERVAL_S = 60.0


@dataclass(frozen=True)
class MqttSettings:
    enabled: bool = setting(True, "Publish to an MQTT broker; off runs the monitor without a phone.")
    host: str = setting(DEFAULT_HOST, "Broker host name or IP address.")
    port: int = setting(DEFAULT_PORT, "Broker TCP port (1883 plain, 8883 usual for TLS).", min=1, max=65535)
    prefix: str = setting(
        "sitbreak", "First topic level: topics are <prefix>/<wearable id>/status, state, nudge, ..."
    )
    client_id: str = setting(
        "",
        "MQTT client id; empty means sitbreak-<wearable id>. Keep it stable: the broker keys "
        "the persistent session (commands queued while away) on it.",
    )
    username: str = setting("", "Broker user name; empty connects anonymously.")
    password_file: str = setting(
        "",
        "File holding the broker password (first line). Preferred over password_env. "
        "Environment variables expand: under systemd use "
        '"${CREDENTIALS_DIRECTORY}/mqtt-password" (the unit\'s LoadCredential=).',
    )
    password_env: str = setting(
        "", "Name of an environment variable holding the broker password, e.g. MQTT_PASSWORD."
    )
    tls: bool = setting(False, "Connect with TLS and verify the broker certificate.")
    ca_file: str = setting(
        "", "CA certificate (PEM) that signed the broker's; empty uses the system trust store."
    )
    cert_file: str = setting("", "Client certificate (PEM) for brokers that require one; optional.")
    key_file: str = setting("", "Private key (PEM) of cert_file.")
    keepalive_s: int = setting(
        DEFAULT_KEEPALIVE_S,
        "MQTT keep-alive; the broker declares us offline after 1.5x this.",
        unit="s",
        min=5,
        max=3600,
    )
    session_expiry_s: int = setting(
        DEFAULT_SESSION_EXPIRY_S,
        "How long the broker keeps our session and queued commands while we are away.",
        unit="s",
        min=0,
        max=30 * 24 * 3600,
    )
    reconnect_min_s: int = setting(
        DEFAULT_RECONNECT_MIN_S,
        "First reconnect delay; doubles after each failure.",
        unit="s",
        min=1,
        max=600,
    )
    reconnect_max_s: int = setting(
        DEFAULT_RECONNECT_MAX_S, "Longest reconnect delay.", unit="s", min=1, max=3600
    )
    nudge_max_age_min: float = setting(
        DEFAULT_NUDGE_MAX_AGE_MIN,
        "A nudge not delivered within this time (broker down) is dropped as stale. "
        "Events and reports are never dropped.",
        unit="min",
        min=1,
        max=240,
    )
    command_max_bytes: int = setting(
        DEFAULT_COMMAND_MAX_BYTES,
        "Larger messages on the cmd topic are ignored.",
        unit="B",
        min=64,
        max=65536,
    )
    snooze_max_min: float = setting(
        DEFAULT_SNOOZE_MAX_MIN, "Longest snooze a command may ask for.", unit="min", min=1, max=24 * 60
    )
    pause_max_min: float = setting(
        DEFAULT_PAUSE_MAX_MIN, "Longest pause a command may ask for.", unit="min", min=1, max=7 * 24 * 60
    )
    command_max_age_min: float = setting(
        DEFAULT_COMMAND_MAX_AGE_MIN,
        "A command whose own ts is older than this when it arrives is ignored.",
        unit="min",
        min=1,
        max=24 * 60,
    )
    discovery: bool = setting(True, "Publish Home Assistant MQTT discovery for the wearable's entities.")
    discovery_prefix: str = setting(
        "homeassistant", "Home Assistant's discovery prefix; its birth message is <prefix>/status."
    )
    log_interval_s: float = setting(
        DEFAULT_LOG_INTERVAL_S,
        "At most one log line per kind of rejected command per this interval.",
        unit="s",
        min=1,
        max=3600,
    )

    def __post_init__(self) -> None:
        # Topic prefixes are checked here, so a bad one is a config error naming the key, not a crash
        # at the first publish.
        check_prefix("prefix", self.prefix)
        check_prefix("discovery_prefix", self.discovery_prefix)
        # paho doubles the delay from the first up to the longest; a first delay above the longest
        # is a typo, which the client would otherwise hide by using the first for both.
        if self.reconnect_min_s > self.reconnect_max_s:
            raise ValueError(
                f"reconnect_min_s = {self.reconnect_min_s} s is above "
                f"reconnect_max_s = {self.reconnect_max_s} s"
            )
