"""Supervision: no long-lived task of the service may die while the process lives on.

Every long-lived task of the process (each wearable's link, data consumer, command intake, report
timer and store retry, the MQTT watcher; the daemon's watchdog) runs under one `Supervisor`:

- An exception that escapes a task is logged with its traceback (the first time for that task and
  kind of error; later ones in one line with a count), counted, and the task is started again after
  a backoff (1 s, doubling, at most `BACKOFF_MAX_S`).
- A task that fails `RESTART_LIMIT` times within `RESTART_WINDOW_S` is broken, not unlucky: the
  supervisor calls `on_fatal`, and the daemon ends the process with exit code 1, so that systemd
  (`Restart=on-failure`) starts it afresh. A process with a dead task is never left running.
- A task that returns although it should run for ever counts as failed; one that may end by design
  (the MQTT watcher, once the broker refused us for good) says so (`ends=True`).

`Isolation` keeps one bad item (a packet, a command, a record) from ending its loop: the exception is
logged, counted and the item dropped. Half of the last `ISOLATION_WINDOW` items failing means the
handler itself is broken, and the loop's task fails (then the rules above apply), so a loop that
drops everything never passes for a working one.

Progress: `problems()` names what is stuck: a check registered with `watch()` (a report build
running far longer than it ever takes, a connection attempt that never ends) or a task the
supervisor gave up on. Waiting for input is not stuck. The daemon sends systemd's watchdog ping only
while there are no problems and the event loop keeps time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

_LOGGER = logging.getLogger(__name__)

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0
# More failures than this within the window end the process (systemd restarts it).
RESTART_LIMIT = 5
RESTART_WINDOW_S = 600.0
# Per-item isolation: a loop whose handler failed on half of its last items is broken.
ISOLATION_WINDOW = 20
# After the first traceback of a kind of error, its repeats are logged at most this often.
REPEAT_LOG_S = 60.0

Factory = Callable[[], Coroutine[Any, Any, None]]
Check = Callable[[float], str | None]


class HandlerBrokenError(RuntimeError):
    """A loop's handler failed on too many of its recent items: the loop's task fails."""


@dataclass(slots=True)
class TaskHandle:
    """One supervised task: what runs it, its recent failures, and where it is."""

    name: str
    factory: Factory
    ends: bool
    failures: deque[float] = field(default_factory=deque)
    state: str = "running"  # running | backoff | ended | failed
    task: asyncio.Task[None] | None = None


class Supervisor:
    """Starts, restarts and watches tasks on the running loop. One per process (the daemon's)."""

    def __init__(
        self,
        on_fatal: Callable[[str], None] | None = None,
        *,
        restart_limit: int = RESTART_LIMIT,
        window_s: float = RESTART_WINDOW_S,
        backoff_first_s: float = BACKOFF_FIRST_S,
    ) -> None:
        self._on_fatal = on_fatal or _log_fatal
        self.restart_limit = restart_limit
        self.window_s = window_s
        self.backoff_first_s = backoff_first_s
        self.handles: list[TaskHandle] = []
        self._checks: dict[str, Check] = {}
        self.counts: Counter[str] = Counter()  # failures per task name
        self.fatal: str | None = None
        self._tracebacks: set[tuple[str, type[BaseException]]] = set()

    # ------------------------------------------------------------------ tasks

    def spawn(self, name: str, factory: Factory, *, ends: bool = False) -> TaskHandle:
        """Run `factory()` as a task under supervision; `ends`: it may return by design."""
        handle = TaskHandle(name, factory, ends)
        handle.task = asyncio.get_running_loop().create_task(self._run(handle), name=name)
        self.handles.append(handle)
        return handle

    async def cancel(self, handles: list[TaskHandle]) -> None:
        """Stop these tasks (a wearable stopping, the daemon stopping) and forget them."""
        tasks = [h.task for h in handles if h.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for h in handles:
            if h in self.handles:
                self.handles.remove(h)

    async def _run(self, handle: TaskHandle) -> None:
        loop = asyncio.get_running_loop()
        while True:
            handle.state = "running"
            error: BaseException
            try:
                await handle.factory()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = exc
            else:
                if handle.ends:
                    handle.state = "ended"
                    return
                error = RuntimeError("returned, though it should run until the service stops")
            now = loop.time()
            handle.failures.append(now)
            while handle.failures and handle.failures[0] < now - self.window_s:
                handle.failures.popleft()
            self.counts[handle.name] += 1
            self._log_failure(handle, error)
            if len(handle.failures) > self.restart_limit:
                handle.state = "failed"
                reason = (
                    f"{handle.name} failed {len(handle.failures)} times in "
                    f"{self.window_s / 60:.0f} min (last: {_describe(error)})"
                )
                self.fatal = self.fatal or reason
                self._on_fatal(reason)
                return
            handle.state = "backoff"
            delay = min(BACKOFF_MAX_S, self.backoff_first_s * 2 ** (len(handle.failures) - 1))
            _LOGGER.warning("%s: starting it again in %.0f s", handle.name, delay)
            await asyncio.sleep(delay)

    def _log_failure(self, handle: TaskHandle, error: BaseException) -> None:
        key = (handle.name, type(error))
        if key not in self._tracebacks:
            self._tracebacks.add(key)
            _LOGGER.error("%s: the task failed: %s", handle.name, _describe(error), exc_info=error)
        else:
            _LOGGER.error(
                "%s: the task failed again (%d times so far): %s",
                handle.name,
                self.counts[handle.name],
                _describe(error),
            )

    # ------------------------------------------------------------------ progress

    def watch(self, name: str, check: Check) -> None:
        """`check(loop_time)` returns what is stuck, in words, or None; `problems()` asks it."""
        self._checks[name] = check

    def unwatch(self, name: str) -> None:
        self._checks.pop(name, None)

    def problems(self) -> list[str]:
        """What is stuck or dead right now; empty while all is well."""
        now = asyncio.get_running_loop().time()
        out = [f"{h.name} failed" for h in self.handles if h.state == "failed"]
        for check in self._checks.values():
            problem = check(now)
            if problem is not None:
                out.append(problem)
        return out

    def failures(self, prefix: str) -> int:
        """How many times tasks whose name starts with `prefix` failed."""
        return sum(n for name, n in self.counts.items() if name.startswith(prefix))


class Isolation:
    """Each item of one loop handled on its own (see the module doc)."""

    def __init__(self, name: str, counts: Counter[str], *, window: int = ISOLATION_WINDOW) -> None:
        self.name = name
        self.counts = counts  # the owner's counters: `errors` and `errors <name>` are added up here
        self._recent: deque[bool] = deque(maxlen=window)
        self._seen: set[type[BaseException]] = set()
        self._last_line = -REPEAT_LOG_S
        self._held = 0

    @contextlib.contextmanager
    def item(self, what: str) -> Iterator[None]:
        """Handle one item: an exception is logged, counted and the item dropped (it does not leave
        the block) unless half of the recent items failed; then `HandlerBrokenError` leaves it."""
        try:
            yield
        except Exception as exc:
            self._recent.append(False)
            self.counts["errors"] += 1
            self.counts[f"errors {self.name}"] += 1
            self._log(what, exc)
            failed = self._recent.count(False)
            if failed * 2 >= (self._recent.maxlen or 1):
                raise HandlerBrokenError(
                    f"{self.name}: {failed} of the last {len(self._recent)} items failed"
                ) from exc
        else:
            self._recent.append(True)

    def _log(self, what: str, exc: Exception) -> None:
        if type(exc) not in self._seen:
            self._seen.add(type(exc))
            _LOGGER.error("%s: %s failed and was dropped: %s", self.name, what, _describe(exc), exc_info=exc)
            return
        now = time.monotonic()
        if now - self._last_line < REPEAT_LOG_S:
            self._held += 1
            return
        held, self._held, self._last_line = self._held, 0, now
        more = f" (and {held} more since the last line)" if held else ""
        _LOGGER.error("%s: %s failed and was dropped: %s%s", self.name, what, _describe(exc), more)


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _log_fatal(reason: str) -> None:
    _LOGGER.critical("%s; nothing to end the process here", reason)
