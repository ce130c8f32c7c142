"""The bounded hand-over between the Bluetooth callback and the consumer (the pipeline).

The callback must never wait, so `put` never blocks. When the consumer falls behind and
`maxsize` sample blocks are waiting, the OLDEST block is dropped and replaced, in place, by a gap
event covering its time (consecutive dropped blocks merge into one gap). Dropping the oldest keeps
the live edge current (a nudge decided on fresh data beats one decided on stale data), and since the
blocks after the hole start later than the blocks before it, the pipeline's own gap detection
turns the hole into unknown epochs: dropped data is never guessed, never sitting. Events are never
dropped; they are few (state changes and rate-limited tallies).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import replace

from monitor.core.links import GapReason, LinkEvent, LinkEventKind
from monitor.core.types import SampleBlock

LinkItem = SampleBlock | LinkEvent


class DropOldestQueue:
    """Single-consumer queue of sample blocks and link events; see the module docstring."""

    def __init__(self, maxsize: int, period_s: float) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize={maxsize} must be >= 1")
        self.maxsize = maxsize
        self.period_s = period_s
        self._items: deque[LinkItem] = deque()
        self._blocks = 0
        self._waiter: asyncio.Future[None] | None = None
        self.dropped_blocks = 0
        self.dropped_seconds = 0.0

    def qsize(self) -> int:
        return len(self._items)

    def blocks(self) -> int:
        return self._blocks

    def put(self, item: LinkItem) -> None:
        """Never blocks. A block put into a full queue pushes the oldest block out (as a gap)."""
        if isinstance(item, SampleBlock):
            if self._blocks >= self.maxsize:
                self._drop_oldest_block()
            self._blocks += 1
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def get_nowait(self) -> LinkItem:
        if not self._items:
            raise asyncio.QueueEmpty
        item = self._items.popleft()
        if isinstance(item, SampleBlock):
            self._blocks -= 1
        return item

    async def get(self) -> LinkItem:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self.get_nowait()

    def _drop_oldest_block(self) -> None:
        i = next((k for k, item in enumerate(self._items) if isinstance(item, SampleBlock)), None)
        if i is None:  # pragma: no cover - _blocks says there is one
            return
        block = self._items[i]
        assert isinstance(block, SampleBlock)
        start = float(block.t[0])
        seconds = float(block.t[-1]) - start + self.period_s
        self.dropped_blocks += 1
        self.dropped_seconds += seconds
        self._blocks -= 1
        previous = self._items[i - 1] if i > 0 else None
        if (
            isinstance(previous, LinkEvent)
            and previous.kind is LinkEventKind.GAP
            and previous.reason == GapReason.CONSUMER_SLOW
            and previous.seconds is not None
        ):
            # Adjacent to the hole left by the last dropped block: widen that one.
            self._items[i - 1] = replace(previous, seconds=start + seconds - previous.t)
            del self._items[i]
            return
        self._items[i] = LinkEvent(
            LinkEventKind.GAP,
            t=start,
            seconds=seconds,
            reason=GapReason.CONSUMER_SLOW,
            detail="the consumer fell behind; the oldest queued samples were dropped",
        )
