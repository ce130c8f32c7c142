"""MQTT edge: topics, payloads, the paho-based link, command validation, outbox, HA discovery."""

from monitor.mqtt.client import MqttLink, read_password
from monitor.mqtt.commands import CommandError, CommandLimits, RejectReason, parse_command
from monitor.mqtt.discovery import DeviceDescription, discovery_messages
from monitor.mqtt.errors import MqttCodeError, MqttConnectError, MqttError, MqttTlsError
from monitor.mqtt.outbox import Outbox, OutboxEntry, OutboxKind, OutboxStatus
from monitor.mqtt.payloads import (
    DailyReportPayload,
    EventPayload,
    NudgePayload,
    StatePayload,
    iso_time,
)
from monitor.mqtt.settings import MqttSettings
from monitor.mqtt.topics import Topics

__all__ = [
    "CommandError",
    "CommandLimits",
    "DailyReportPayload",
    "DeviceDescription",
    "EventPayload",
    "MqttCodeError",
    "MqttConnectError",
    "MqttError",
    "MqttLink",
    "MqttSettings",
    "MqttTlsError",
    "NudgePayload",
    "Outbox",
    "OutboxEntry",
    "OutboxKind",
    "OutboxStatus",
    "RejectReason",
    "StatePayload",
    "Topics",
    "discovery_messages",
    "iso_time",
    "parse_command",
    "read_password",
]
