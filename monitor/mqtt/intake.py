"""Command intake: what arrives on `cmd`, checked and queued for the service, or rejected (counted per
reason, logged at most once per interval per reason).

A command is checked twice: on arrival for everything that does not depend on time (size, JSON,
action, values: `read_command`), and when the service takes it, at the data time it takes effect
(`stamp`: staleness, a pause's end). Event loop thread only.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncGenerator

from monitor.mqtt.commands import CommandError, CommandLimits, CommandRequest, RejectReason, read_command
from monitor.mqtt.ratelimit import RateLimitedLog
from monitor.nudges.commands import Command

# The link's own logger: its lines keep one name in the journal whichever module writes them.
_LOGGER = logging.getLogger("monitor.mqtt.client")


class CommandIntake:
    """The `cmd` topic's queue of checked commands and its tally of rejected ones."""

    def __init__(
        self,
        topic: str,
        limits: CommandLimits,
        *,
        queue_size: int,
        counts: Counter[str],
        log_interval_s: float,
    ) -> None:
        self.topic = topic
        self.limits = limits
        self.counts = counts  # the link's counters, shared
        self._queue: asyncio.Queue[CommandRequest] = asyncio.Queue(maxsize=queue_size)
        self._rejects = RateLimitedLog(_LOGGER, log_interval_s)

    @property
    def rejected(self) -> Counter[str]:
        """How many `cmd` messages were ignored, per `RejectReason`."""
        return self._rejects.counts

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    def arrived(self, payload: bytes, retained: bool) -> None:
        """A message on `cmd`: queued when it passes the checks on arrival, else rejected."""
        try:
            if retained:
                raise CommandError(
                    RejectReason.RETAINED,
                    "retained commands are ignored (they would replay on every reconnect); clear it with "
                    "an empty retained message",
                )
            request = read_command(payload, self.limits)
        except CommandError as err:
            self._reject(err)
            return
        try:
            self._queue.put_nowait(request)
        except asyncio.QueueFull:
            self._rejects.log(
                RejectReason.QUEUE_FULL,
                "mqtt: %d commands waiting; ignored %s",
                self._queue.qsize(),
                request.action,
            )
            return
        self.counts["commands"] += 1
        _LOGGER.info("mqtt: command %s", request.action)

    async def requests(self) -> AsyncGenerator[CommandRequest, None]:
        while True:
            yield await self._queue.get()

    def get_nowait(self) -> CommandRequest | None:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def stamp(self, request: CommandRequest, now: float) -> Command | None:
        """The command taking effect at data time `now`, or None (rejected: too old by then, or a
        pause whose end no longer fits)."""
        try:
            return request.at(now, self.limits)
        except CommandError as err:
            self._reject(err)
            return None

    def _reject(self, err: CommandError) -> None:
        self._rejects.log(err.reason, "mqtt: ignored a command on %s: %s", self.topic, err)
