"""A slow consumer: the queue never blocks, drops the oldest blocks and says where the hole is."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from monitor.core.links import GapReason, LinkEvent, LinkEventKind
from monitor.core.types import SampleBlock
from monitor.wearables.queue import DropOldestQueue

P = 0.02


def block(k: int, n: int = 50) -> SampleBlock:
    """Block k covers [k, k + 1) s at 50 Hz."""
    t = (k + np.arange(n) * P).astype(np.float64)
    return SampleBlock(t, np.zeros((n, 3), dtype=np.float32), seq=k)


def event(t: float) -> LinkEvent:
    return LinkEvent(LinkEventKind.BATTERY, t, level=50)


def test_full_queue_drops_oldest_blocks_as_one_merged_gap():
    q = DropOldestQueue(3, P)
    q.put(event(0.0))
    for k in range(6):
        q.put(block(k))  # blocks 0, 1, 2 are pushed out by 3, 4, 5
    items = [q.get_nowait() for _ in range(q.qsize())]
    assert items[0] == event(0.0)
    gap = items[1]
    assert isinstance(gap, LinkEvent) and gap.kind is LinkEventKind.GAP
    assert gap.reason == GapReason.CONSUMER_SLOW
    assert gap.t == 0.0 and gap.seconds == pytest.approx(3.0)
    kept = items[2:]
    assert [b.seq for b in kept if isinstance(b, SampleBlock)] == [3, 4, 5]
    assert q.dropped_blocks == 3 and q.dropped_seconds == pytest.approx(3.0)
    # the first kept block starts exactly where the reported hole ends: the pipeline sees the jump
    first = kept[0]
    assert isinstance(first, SampleBlock) and gap.seconds is not None
    assert float(first.t[0]) == pytest.approx(gap.t + gap.seconds)


def test_events_are_never_dropped_and_keep_their_place():
    q = DropOldestQueue(2, P)
    q.put(block(0))
    q.put(event(0.5))
    q.put(block(1))
    q.put(block(2))  # pushes block 0 out; the battery event stays after the hole
    items = [q.get_nowait() for _ in range(q.qsize())]
    kinds = [i.kind if isinstance(i, LinkEvent) else "block" for i in items]
    assert kinds == [LinkEventKind.GAP, LinkEventKind.BATTERY, "block", "block"]
    assert q.blocks() == 0


def test_separate_holes_stay_separate():
    q = DropOldestQueue(2, P)
    q.put(block(0))
    q.put(block(1))
    q.put(block(2))  # drops 0
    assert isinstance(q.get_nowait(), LinkEvent)  # consumer takes the gap, then catches up once
    assert isinstance(q.get_nowait(), SampleBlock)  # block 1
    q.put(block(3))
    q.put(block(4))  # drops 2 (block 1 already taken): a second, separate gap
    gaps = [i for i in (q.get_nowait() for _ in range(q.qsize())) if isinstance(i, LinkEvent)]
    assert len(gaps) == 1
    assert gaps[0].t == 2.0 and gaps[0].seconds == pytest.approx(1.0)


def test_get_waits_for_a_put():
    async def main() -> None:
        q = DropOldestQueue(2, P)
        waiter = asyncio.create_task(q.get())
        await asyncio.sleep(0.01)
        assert not waiter.done()
        q.put(block(7))
        got = await asyncio.wait_for(waiter, 1)
        assert isinstance(got, SampleBlock) and got.seq == 7

    asyncio.run(main())
