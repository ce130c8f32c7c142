"""MQTT edge: topics, payloads, the paho-based link, command validation, outbox, HA discovery."""

from monitor.mqtt.client import MqttLink
from monitor.mqtt.commands import (
    CommandError,
    CommandLimits,
    CommandRequest,
    RejectReason,
    parse_command,
    read_command,
)
from monitor.mqtt.connection import read_password
from monitor.mqtt.discovery import DeviceDescription, discovery_messages
from monitor.mqtt.errors import MqttCodeError, MqttConnectError, MqttError, MqttTlsError
from monitor.mqtt.outbox import Outbox
from monitor.mqtt.payloads import DailyReportPayload, EventPayload, NudgePayload, StatePayload
from monitor.mqtt.settings import MqttSettings
from monitor.mqtt.topics import Topics

__all__ = [
    "CommandError",
    "CommandLimits",
    "CommandRequest",
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
    "RejectReason",
    "StatePayload",
    "Topics",
    "discovery_messages",
    "parse_command",
    "read_command",
    "read_password",
]
