"""docs/phone.md tells people what to publish on `cmd`: every command it shows must be accepted."""

from __future__ import annotations

import re

from monitor.mqtt.commands import parse_command
from tests.conftest import REPO

NOW = 1_763_978_400.0  # 2025-11-24T10:00:00Z, before the doc's example pause end (14:00Z)


def test_every_command_in_the_phone_doc_parses() -> None:
    text = (REPO / "docs" / "phone.md").read_text(encoding="utf-8")
    examples = re.findall(r"""-m '(\{"action".*?\})'""", text)  # mosquitto_pub lines
    examples += re.findall(r"`(\{\"action\": [^`]*\})`", text)  # the command table
    assert len(examples) >= 8
    for example in examples:
        parse_command(example.encode(), NOW)  # raises CommandError on anything the service would ignore
