"""Writing what the data path stores: in order, and on through a storage fault.

Everything one wearable's service stores (the epochs of a pipeline pass with their bouts and
decisions, a link event, a command's decisions, the policy snapshot, a daily report's mark, and the
outbox rows of the messages they cause) is a `WriteUnit`, written in one transaction by
`StoreWriter.submit`, its messages sent once that transaction committed. While the store takes
writes, that is all. When a write fails for a reason that may pass (`monitor.store.storage_problem`:
the disk full, an I/O error, a read-only remount, a lock held too long), the data path goes on:

- The unit and every later one wait in memory, in order (no unit is written before an earlier one),
  and are tried again with each new pipeline pass and every `RETRY_S` on a timer (`run`).
- Their messages reach the phone at once, from memory (`ResilientOutbox`): a nudge is not late
  because the disk is full.
- `problem` (in words) and `waiting_s` (data seconds waiting) say what is wrong; the service shows
  them in `state`, in a `problem` event and in systemd's STATUS line.
- When the store takes writes again, the waiting units are written oldest first.
- Beyond `WAIT_MAX_S` of data waiting, the oldest units are dropped (counted, logged); once writing
  resumes their seconds are recorded as `unknown`, with a `gap` link event (detail `storage`), so a
  report shows the hole for what it is. Decisions among them are lost; their messages reached the phone.

Why six hours: memory is not what limits it (six hours of epochs with their bouts and decisions are
~360 units, measured at well under 1 MiB), but data waiting in memory is lost with the process (a
power cut, a restart, an upgrade), so holding more promises more than the service can keep. Six
hours spans a working morning or afternoon: a disk that fills during the day, announced on the
phone, can be cleared the same day with nothing lost; a Pi left with a full disk for longer keeps
nudging and shows the gap as unknown rather than as a day that never happened.

A unit that fails for any other reason (a bad record, a bug) would fail the same way every time: it
is dropped whole, records and messages (its transaction rolled back), logged with its traceback and
counted, and the units after it are written (per-record isolation;
`monitor.service.supervisor.Isolation` limits how many may fail in a row).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from monitor.core.links import LinkEvent, LinkEventKind
from monitor.core.timefmt import utc_text
from monitor.service.outbox import ResilientOutbox
from monitor.store import Store, storage_problem

_LOGGER = logging.getLogger(__name__)

WAIT_MAX_S = 6 * 3600.0
# Units of any kind waiting at most (link events and commands carry no data time; a link that flaps
# for hours must not grow memory either).
WAIT_MAX_UNITS = 20_000
# Wall seconds between retries while units wait (besides the retry with each pipeline pass).
RETRY_S = 30.0
# The link event's detail for seconds dropped here.
GAP_DETAIL = "storage"

Hold = Callable[[], AbstractContextManager[None]]


@dataclass(slots=True)
class WriteUnit:
    """One transaction's worth of records.

    write:   stores the records (called inside the transaction).
    publish: hands their messages to MQTT (into the outbox, inside the same transaction; from memory
             when the store cannot be written). Called once, whichever way.
    span:    the data time [start, end) of the epochs it carries, None when it carries none.
    key:     a waiting unit with the same key is replaced by this one (only the newest snapshot counts).
    """

    what: str
    write: Callable[[Store], object]
    publish: Callable[[], object] | None = None
    span: tuple[float, float] | None = None
    key: str | None = None
    published: bool = False

    @property
    def seconds(self) -> float:
        return 0.0 if self.span is None else max(0.0, self.span[1] - self.span[0])


@dataclass(slots=True)
class _Dropped:
    """The data time of units dropped beyond the bound, to be recorded as unknown."""

    start: float
    end: float
    seconds: float


class StoreWriter:
    """One wearable's writes (module doc). Event loop thread only."""

    def __init__(
        self,
        wearable: str,
        store: Store,
        outbox: ResilientOutbox,
        *,
        hold: Hold | None = None,
        on_problem: Callable[[str | None], None] | None = None,
        wait_max_s: float = WAIT_MAX_S,
    ) -> None:
        """`hold`: a context that sends the messages queued inside once it ends normally
        (`MqttLink.sends_after`); `on_problem(words | None)` is told when a fault begins and ends."""
        self.wearable = wearable
        self.store = store
        self.outbox = outbox
        self._hold = hold or contextlib.nullcontext
        self._on_problem = on_problem or (lambda _p: None)
        self.wait_max_s = wait_max_s
        self._waiting: deque[WriteUnit] = deque()
        self._waiting_s = 0.0
        self._dropped: _Dropped | None = None
        self.problem: str | None = None
        self.since: float | None = None  # wall time the current fault began
        # Data seconds written late and dropped in the current (or last) fault.
        self.written_s = 0.0
        self.dropped_s = 0.0
        self._wake = asyncio.Event()
        self.counts: Counter[str] = Counter()

    # ------------------------------------------------------------------ state

    @property
    def waiting(self) -> int:
        """Units waiting to be written."""
        return len(self._waiting) + (self._dropped is not None)

    @property
    def waiting_s(self) -> float:
        """Data seconds waiting to be written."""
        return self._waiting_s

    def status(self) -> str:
        """The fault and what waits, for systemd's STATUS line."""
        waiting = self._waiting_s
        amount = f"{waiting:.0f} s" if waiting < 120 else f"{waiting / 60:.0f} min"
        return f"storage: {self.problem or 'ok'}, {amount} of data waiting"

    def diagnostics(self) -> dict[str, object]:
        return {
            "problem": self.problem,
            "waiting_units": self.waiting,
            "waiting_s": self._waiting_s,
            "outbox_in_memory": self.outbox.in_memory_count,
            "counts": dict(self.counts),
        }

    # ------------------------------------------------------------------ writing

    def submit(self, unit: WriteUnit) -> bool:
        """Write `unit` now, or keep it waiting behind earlier ones; True when it was written.

        A failure that is not a storage problem is raised: the unit is dropped whole (records and
        messages, as its rolled-back transaction left them), the caller's `Isolation` counts it, and
        many in a row fail the caller's task."""
        if not self._waiting and self._dropped is None:
            try:
                self._write(unit)
            except Exception as exc:
                problem = storage_problem(exc)
                if problem is None:
                    self.counts["failed_units"] += 1
                    raise
                self._keep(unit)
                self._begin(problem, exc)  # after: what it submits waits behind this unit
                return False
            return True
        self._keep(unit)
        if unit.span is not None:
            self.retry()  # with each new pipeline pass
        return False

    def retry(self) -> bool:
        """Write what waits, oldest first, until a write fails; True when nothing waits any more."""
        if self._dropped is not None and not self._write_dropped():
            return False
        while self._waiting:
            unit = self._waiting[0]
            try:
                self._write(unit)
            except Exception as exc:
                problem = storage_problem(exc)
                if problem is not None:
                    self._still(problem)
                    return False
                self._failed(unit, exc)
            self._waiting.popleft()
            self._waiting_s -= unit.seconds
            self.written_s += unit.seconds
            self.counts["written_late"] += 1
        if self.outbox.marks_waiting:
            try:
                self.outbox.write_marks()
            except Exception as exc:
                problem = storage_problem(exc)
                if problem is None:
                    raise
                self._still(problem)
                return False
        self._waiting_s = 0.0
        self._end()
        return True

    async def run(self) -> None:
        """Retry every RETRY_S (wall) while anything waits: data may stop coming (device off)
        while the disk is full, and what waits must still be written when space returns."""
        while True:
            await self._wake.wait()
            while self.problem is not None:
                await asyncio.sleep(RETRY_S)
                self.retry()
            self._wake.clear()

    def close(self) -> None:
        """At stop: a last try; what still waits is lost with the process, and said so."""
        if self.problem is None:
            return
        if self.retry():
            return
        _LOGGER.error(
            "%s: stopping with %d record(s) (%.0f s of data) not written (%s): they are lost; "
            "the time is recorded as unknown at the next start",
            self.wearable,
            self.waiting,
            self._waiting_s,
            self.problem,
        )

    def _write(self, unit: WriteUnit) -> None:
        with self._hold(), self.store.atomic():
            unit.write(self.store)
            if unit.publish is not None and not unit.published:
                unit.publish()
        unit.published = True

    def _keep(self, unit: WriteUnit) -> None:
        if unit.publish is not None and not unit.published:
            with self.outbox.in_memory():
                unit.publish()
            unit.published = True
        if unit.key is not None:
            for old in [u for u in self._waiting if u.key == unit.key]:
                self._waiting.remove(old)
                self._waiting_s -= old.seconds
        self._waiting.append(unit)
        self._waiting_s += unit.seconds
        self._bound()

    def _bound(self) -> None:
        while self._waiting and (self._waiting_s > self.wait_max_s or len(self._waiting) > WAIT_MAX_UNITS):
            unit = self._waiting.popleft()
            self._waiting_s -= unit.seconds
            self.counts["dropped_units"] += 1
            self.counts["dropped_s"] += round(unit.seconds)
            self.dropped_s += unit.seconds
            if unit.span is not None:
                if self._dropped is None:
                    self._dropped = _Dropped(unit.span[0], unit.span[1], 0.0)
                    _LOGGER.error(
                        "%s: more than %.0f h of data wait to be written (%s); dropping the oldest, "
                        "from %s, which will read as unknown",
                        self.wearable,
                        self.wait_max_s / 3600,
                        self.problem,
                        utc_text(unit.span[0]),
                    )
                self._dropped.start = min(self._dropped.start, unit.span[0])
                self._dropped.end = max(self._dropped.end, unit.span[1])
                self._dropped.seconds += unit.seconds

    def _write_dropped(self) -> bool:
        """Record the dropped span as unknown, with a gap event, before anything after it."""
        dropped = self._dropped
        assert dropped is not None
        start, end = int(dropped.start), int(dropped.end)

        def write(store: Store) -> None:
            store.epochs.fill_unknown(self.wearable, start, end)
            event = LinkEvent(LinkEventKind.GAP, start, seconds=float(end - start), detail=GAP_DETAIL)
            store.links.add(self.wearable, event)

        try:
            with self.store.atomic():
                write(self.store)
        except Exception as exc:
            problem = storage_problem(exc)
            if problem is None:
                raise
            self._still(problem)
            return False
        _LOGGER.warning(
            "%s: %.0f s of data dropped while the store could not be written are recorded as unknown",
            self.wearable,
            dropped.seconds,
        )
        self._dropped = None
        return True

    # ------------------------------------------------------------------ fault state

    def _begin(self, problem: str, exc: BaseException) -> None:
        self.counts["faults"] += 1
        self.problem = problem
        self.since = time.monotonic()
        self.written_s = self.dropped_s = 0.0
        self._wake.set()
        _LOGGER.error(
            "%s: cannot write to the database (%s: %s); data waits in memory (up to %.0f h) and the "
            "writes are retried; nudges still reach the phone",
            self.wearable,
            problem,
            " ".join(str(exc).split()),
            self.wait_max_s / 3600,
        )
        self._on_problem(problem)

    def _still(self, problem: str) -> None:
        if problem != self.problem:
            _LOGGER.error("%s: still cannot write to the database: %s", self.wearable, problem)
            self.problem = problem
            self._on_problem(problem)

    def _end(self) -> None:
        if self.problem is None:
            return
        took = time.monotonic() - (self.since or time.monotonic())
        _LOGGER.warning(
            "%s: the database takes writes again after %.0f s; %.0f s of data that waited are written%s",
            self.wearable,
            took,
            self.written_s,
            f" ({self.dropped_s:.0f} s were dropped)" if self.dropped_s else "",
        )
        self.problem = None
        self.since = None
        self._on_problem(None)

    def _failed(self, unit: WriteUnit, exc: BaseException) -> None:
        """A waiting unit failed for a reason other than storage: it would fail the same way every
        time. Dropped (the ones after it are written)."""
        self.counts["failed_units"] += 1
        _LOGGER.error(
            "%s: cannot store %s, dropped: %s: %s",
            self.wearable,
            unit.what,
            type(exc).__name__,
            exc,
            exc_info=exc if self.counts["failed_units"] == 1 else None,
        )
