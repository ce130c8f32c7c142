"""docs/phone.md tells people what to publish on `cmd`: every command it shows must be accepted."""

from __future__ import annotations

import re
from datetime import UTC
from types import SimpleNamespace

from monitor.mqtt.commands import parse_command
from monitor.nudges.library import ExerciseLibrary
from monitor.nudges.policy import NudgePolicy
from monitor.nudges.settings import PolicySettings
from tests.conftest import REPO

NOW = 1_763_978_400.0  # 2025-11-24T10:00:00Z, before the doc's example pause end (14:00Z)


def test_every_command_in_the_phone_doc_parses() -> None:
    text = (REPO / "docs" / "phone.md").read_text(encoding="utf-8")
    examples = re.findall(r"""-m '(\{"action".*?\})'""", text)  # mosquitto_pub lines
    examples += re.findall(r"`(\{\"action\": [^`]*\})`", text)  # the command table
    assert len(examples) >= 8
    for example in examples:
        parse_command(example.encode(), NOW)  # raises CommandError on anything the service would ignore


def automation_yaml() -> str:
    text = (REPO / "docs" / "phone.md").read_text(encoding="utf-8")
    blocks: list[str] = re.findall(r"```yaml\n(.*?)```", text, re.S)
    (block,) = blocks
    return block


def test_the_automations_serve_every_wearable() -> None:
    """No wearable id is written into the automations: they listen on `+` and answer on the topic of
    the wearable named by the nudge id."""
    block = automation_yaml()
    assert "thigh1" not in block
    assert "topic: sitbreak/+/nudge" in block
    assert 'topic: "sitbreak/{{ wearable }}/cmd"' in block
    # The exercise keeps its own line in the notification.
    assert "message: |-" in block


def test_the_answer_automation_finds_the_wearable_and_nudge_of_a_button() -> None:
    """The doc's own template expressions (Jinja here, the same syntax as Python for these), applied to
    the action id a real nudge produces, give back its nudge id and wearable, even with `_` and `-`."""
    block = automation_yaml()
    expressions = dict(re.findall(r"^\s+(verb|nudge_id|wearable): \"\{\{ (.+?) \}\}\"", block, re.M))
    assert set(expressions) == {"verb", "nudge_id", "wearable"}
    for wearable in ("thigh1", "Thigh-1", "left_thigh", "a-b_c-9"):
        policy = NudgePolicy(PolicySettings(), ExerciseLibrary.default(), UTC, wearable_id=wearable)
        nudge_id = policy._nudge_id(1_763_976_600.0)
        for verb in ("DONE", "SNOOZE"):
            trigger = SimpleNamespace(
                event=SimpleNamespace(data=SimpleNamespace(action=f"SITBREAK_{verb}_{nudge_id}"))
            )
            scope: dict[str, object] = {"trigger": trigger}
            for name in ("verb", "nudge_id", "wearable"):
                scope[name] = eval(expressions[name], {}, scope)  # the doc's expression, as written
            assert (scope["verb"], scope["nudge_id"], scope["wearable"]) == (verb, nudge_id, wearable)
