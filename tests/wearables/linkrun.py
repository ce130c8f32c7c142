"""Driving a `WearableLink` from a test: run it, collect what it hands on, stop it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from monitor.core.links import LinkEvent, LinkEventKind
from monitor.core.types import SampleBlock
from monitor.wearables.link import WearableLink
from monitor.wearables.queue import LinkItem
from monitor.wearables.settings import LinkSettings

# Short everything so failures and recoveries happen within a test's seconds.
FAST = LinkSettings(
    silence_timeout_s=1.5,
    backoff_min_s=0.1,
    backoff_max_s=0.4,
    scan_timeout_s=5.0,
    connect_timeout_s=6.0,
    connect_attempts=1,
    start_timeout_s=2.0,
    block_max_s=0.5,
    disconnect_timeout_s=2.0,
    malformed_log_interval_s=1.0,
)


@dataclass
class Collected:
    """Items in arrival order, each with the monotonic wall time it was taken off the queue."""

    items: list[LinkItem] = field(default_factory=list)
    at: list[float] = field(default_factory=list)

    def blocks(self) -> list[SampleBlock]:
        return [i for i in self.items if isinstance(i, SampleBlock)]

    def events(self, kind: LinkEventKind | None = None) -> list[LinkEvent]:
        return [i for i in self.items if isinstance(i, LinkEvent) and (kind is None or i.kind is kind)]

    def kinds(self) -> list[LinkEventKind]:
        return [e.kind for e in self.events()]

    def samples(self) -> int:
        return sum(len(b) for b in self.blocks())

    def xyz(self) -> np.ndarray:
        return np.concatenate([b.xyz for b in self.blocks()])

    def t(self) -> np.ndarray:
        return np.concatenate([b.t for b in self.blocks()])

    def index(self, kind: LinkEventKind, nth: int = 0) -> int:
        hits = [k for k, i in enumerate(self.items) if isinstance(i, LinkEvent) and i.kind is kind]
        return hits[nth]


class LinkRun:
    """``async with LinkRun(link) as r: await r.until(pred)``: the link runs in a task meanwhile."""

    def __init__(self, link: WearableLink) -> None:
        self.link = link
        self.got = Collected()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LinkRun:
        self._task = asyncio.create_task(self.link.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.link.stop()
        assert self._task is not None
        await asyncio.wait_for(self._task, 15)
        self.drain()

    def drain(self) -> None:
        while self.link.queue.qsize():
            self.got.items.append(self.link.queue.get_nowait())
            self.got.at.append(time.monotonic())

    async def until(self, done: Callable[[Collected], bool], timeout: float = 20.0) -> Collected:
        deadline = time.monotonic() + timeout
        while not done(self.got):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"condition not met within {timeout} s; state {self.link.state}, "
                    f"events {self.got.kinds()}, {self.got.samples()} samples, {self.link.diagnostics()}"
                )
            try:
                item = await asyncio.wait_for(self.link.get(), remaining)
            except TimeoutError:
                continue
            self.got.items.append(item)
            self.got.at.append(time.monotonic())
        return self.got

    async def samples(self, n: int, timeout: float = 20.0) -> Collected:
        return await self.until(lambda c: c.samples() >= n, timeout)
