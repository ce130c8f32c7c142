"""The stored-data guard: after a restart with the host clock behind the stored data, nothing timed at
or before the end of the stored data reaches the pipeline or the store (moved here from the link's own
hold: protecting stored data is the service's business, not the radio layer's)."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.core.links import LinkEvent, LinkEventKind
from monitor.core.types import SampleBlock
from monitor.service.guard import StoredDataGuard

P = 0.02  # 50 Hz
T0 = 1_764_000_000.0


def block(first: float, n: int = 50) -> SampleBlock:
    t = first + np.arange(n, dtype=np.float64) * P
    return SampleBlock(t, np.zeros((n, 3), np.float32))


def guard(floor: float | None) -> StoredDataGuard:
    return StoredDataGuard(floor, jitter_s=2.0, period_s=P)


def test_data_at_or_before_the_stored_data_is_dropped_until_data_time_passes_it() -> None:
    floor = T0 + 4.01
    g = guard(floor)
    first = g.admit(block(T0))  # 1 s, all before the floor
    assert first.block is None and first.began is not None and first.began.noted
    assert first.began.first_t == T0 and first.began.behind_s == pytest.approx(4.01)
    assert (g.holding, g.floor) == (True, floor)
    for k in range(1, 4):
        assert g.admit(block(T0 + k)).block is None
    passed = g.admit(block(T0 + 4))  # samples T0+4.00 .. +4.98: the first past the floor is 4.02
    assert passed.block is not None and passed.block.t[0] == pytest.approx(T0 + 4.02)
    assert len(passed.block) == 49
    assert passed.ended == LinkEvent(
        LinkEventKind.HELD,
        floor,
        count=201,
        detail="timed 2025-11-24 16:00:00 UTC .. 2025-11-24 16:00:04 UTC",
    )
    # (tuples: mypy would take the properties as still narrowed by the asserts above)
    assert (g.holding, g.floor, g.held_samples) == (False, None, 201)
    assert g.admit(block(T0 + 5)).block is not None  # over for good
    assert g.seconds_of(201) == pytest.approx(4.02)


def test_overlap_by_mere_jitter_is_dropped_quietly() -> None:
    """The newest stored second is cut at a sample's time: a restart on a good clock overlaps it by
    less than a second. Those samples are dropped, but that is no hold: no state, no event."""
    g = guard(T0 + 0.5)
    admitted = g.admit(block(T0))
    assert admitted.began is not None and not admitted.began.noted
    assert not g.holding
    assert admitted.block is not None and admitted.block.t[0] > T0 + 0.5
    assert admitted.ended is None and g.held_samples == 26


def test_a_floor_already_passed_holds_nothing() -> None:
    g = guard(T0 - 60.0)
    admitted = g.admit(block(T0))
    assert admitted.block is not None and len(admitted.block) == 50
    assert admitted.began is None and admitted.ended is None
    assert g.floor is None and g.held_samples == 0


def test_no_stored_data_no_guard() -> None:
    g = guard(None)
    b = block(T0)
    assert g.admit(b).block is b and not g.holding


def test_link_events_while_holding_are_timed_no_earlier_than_the_floor() -> None:
    """A gap or a connection timed inside the stored data would describe data that is not the one
    stored there: while the guard holds, such events are stored at the floor."""
    floor = T0 + 60.0
    g = guard(floor)
    connected = LinkEvent(LinkEventKind.CONNECTED, T0)
    assert g.event(connected).t == floor
    later = LinkEvent(LinkEventKind.GAP, floor + 5, seconds=3.0)
    assert g.event(later) is later
    g.admit(block(floor + 1))
    assert g.event(connected) is connected  # the hold is over: events keep their own time
