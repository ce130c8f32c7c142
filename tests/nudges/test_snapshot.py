"""Restarting from a snapshot gives exactly the events an uninterrupted run gives."""

from __future__ import annotations

import json

import pytest

from monitor.nudges import EventKind
from monitor.nudges.state import SNAPSHOT_VERSION, PolicyState
from tests.nudges.scenario import WED_0900, feed, items, make_policy

# Everything at once: escalation, snooze (twice), pause and resume, ack, a credited break, a short
# stand-up, non-wear and a gap, quiet-free active hours, and an ignored nudge.
SCRIPT = (
    "S31m @snooze:10 S12m @snooze:10 S4m U1m S5m @pause:20 S25m U3m S35m @ack S15m "
    "N20m S10m _5m S20m @pause:60 S5m @resume S40m M2m S10m"
)


def _stream() -> list[object]:
    return list(items(SCRIPT, WED_0900.timestamp()))


def test_script_exercises_the_interesting_paths() -> None:
    kinds = {e.kind for e in feed(make_policy(), _stream())}  # type: ignore[arg-type]
    for kind in (
        EventKind.NUDGE,
        EventKind.ESCALATION,
        EventKind.SNOOZED,
        EventKind.SUPPRESSED,
        EventKind.ACKED,
        EventKind.FOLLOWED,
        EventKind.IGNORED,
        EventKind.PAUSED,
        EventKind.RESUMED,
        EventKind.BREAK_CREDITED,
    ):
        assert kind in kinds, kind


@pytest.mark.parametrize("split", [1, 1799, 1800, 1801, 1860, 2600, 3000, 4000, 6100, 7000, 9000])
def test_two_halves_with_restore_equal_one_run(split: int) -> None:
    stream = _stream()
    whole = feed(make_policy(), stream)  # type: ignore[arg-type]

    first = make_policy()
    events = feed(first, stream[:split])  # type: ignore[arg-type]
    saved = json.dumps(first.snapshot().to_dict())  # what the store keeps

    second = make_policy()  # a new process
    second.restore(PolicyState.from_dict(json.loads(saved)))
    events += feed(second, stream[split:])  # type: ignore[arg-type]
    assert events == whole
    assert second.snapshot() == feed_all_snapshot(stream)


def feed_all_snapshot(stream: list[object]) -> PolicyState:
    policy = make_policy()
    feed(policy, stream)  # type: ignore[arg-type]
    return policy.snapshot()


def test_snapshot_of_another_version_is_refused() -> None:
    data = make_policy().snapshot().to_dict()
    data["version"] = SNAPSHOT_VERSION + 1
    with pytest.raises(ValueError, match="version"):
        PolicyState.from_dict(data)
    data["version"] = SNAPSHOT_VERSION
    del data["timer_s"]
    with pytest.raises(ValueError, match="timer_s"):
        PolicyState.from_dict(data)
