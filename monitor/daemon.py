"""The service process: every configured wearable, signals, systemd readiness and watchdog.

`Daemon.run()` mirrors itself: what `_start()` sets up, `_stop()` takes down in reverse. SIGTERM and
SIGINT stop it (streams end, epochs and bouts are flushed, `offline` is published, exit 0); SIGHUP
re-reads the configuration and applies it only when it is valid, keeping the running one otherwise.

Never half alive: every long-lived task runs under one `Supervisor` (monitor/service/supervisor.py).
A task that keeps failing ends the process the same clean way, with exit code 1 and STATUS `failed:
...`, so that systemd (`Restart=on-failure`) starts it afresh; the watchdog ping is sent only while
the event loop keeps time and no task is stuck; an exception in a loop callback (one message from
paho, one late timer) is logged and counted, and the rest runs on.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.config import Config, load_config
from monitor.core.errors import ConfigError, UserError
from monitor.heap import one_malloc_arena
from monitor.reports.zone import resolve_zone
from monitor.sdnotify import SystemdNotifier
from monitor.service import WearableService
from monitor.service.supervisor import Supervisor, TaskHandle
from monitor.store import Store, StoreSettings
from monitor.store.settings import DEFAULT_PATH as DEFAULT_STORE_PATH

_LOGGER = logging.getLogger(__name__)

# How late the watchdog tick may run before the loop counts as unhealthy and pings stop.
WATCHDOG_MAX_LAG_S = 5.0
# STATUS= lines are refreshed this often so `systemctl status` shows current counts.
STATUS_EVERY_S = 30.0


@dataclass(frozen=True, slots=True)
class DaemonOptions:
    config_path: Path | None
    state_dir: Path | None = None
    # The host clock the links map device time with; None is the real UTC clock.
    clock: Callable[[], float] | None = None
    # Daily reports also go out when the host clock passes the report time (a wearable that is off
    # still gets its report). False: only data time decides, for a simulated clock that runs ahead of
    # the data it maps (the demo's, sped up: on a busy machine the data trails it, and a report timed
    # on it would go out before the day's data is in). See WearableService.
    reports_on_host_clock: bool = True


class Daemon:
    """Runs until a stop signal; returns the process exit code."""

    def __init__(
        self, config: Config, options: DaemonOptions, notifier: SystemdNotifier | None = None
    ) -> None:
        self.config = config
        self.options = options
        self.notifier = notifier or SystemdNotifier()
        self.services: list[WearableService] = []
        self.store: Store | None = None
        self._stop = asyncio.Event()
        self._reload = asyncio.Event()
        self.supervisor = Supervisor(on_fatal=self._fatal)
        self._tasks: list[TaskHandle] = []
        self.exit_code = 0
        self.loop_errors = 0
        self._withheld: list[str] = []  # why the last watchdog ping was withheld

    # ------------------------------------------------------------------ paths

    def store_settings(self, config: Config) -> StoreSettings:
        path = config.store.path
        if self.options.state_dir is not None and path == DEFAULT_STORE_PATH:
            path = str(self.options.state_dir / "sitbreak.db")
        return StoreSettings(path=path, retention_days=config.store.retention_days)

    @property
    def report_dir(self) -> Path:
        return Path(self.store_settings(self.config).path).parent / "reports"

    # ------------------------------------------------------------------ lifecycle

    def request_stop(self) -> None:
        self._stop.set()

    def request_reload(self) -> None:
        self._reload.set()

    def _fatal(self, reason: str) -> None:
        """A task failed for good: stop cleanly and exit 1, so that systemd starts us afresh."""
        _LOGGER.critical("%s; stopping with exit code 1 so that systemd starts the service again", reason)
        self.exit_code = 1
        self.notifier.status(f"failed: {reason}")
        self.request_stop()

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """An exception nobody else handled: a callback (one message handed over from paho's thread,
        a timer) or a task outside supervision. That one item is lost; the rest runs on."""
        self.loop_errors += 1
        error = context.get("exception")
        _LOGGER.error(
            "unhandled: %s",
            context.get("message", "error in the event loop"),
            exc_info=error if error else None,
        )

    async def run(self) -> int:
        # Before any thread starts: daily reports are built in a worker thread, and malloc_trim
        # returns their memory only from the main arena (monitor/heap.py).
        one_malloc_arena()
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(self._loop_error)
        for sig, handler in (
            (signal.SIGTERM, self.request_stop),
            (signal.SIGINT, self.request_stop),
            (signal.SIGHUP, self.request_reload),
        ):
            loop.add_signal_handler(sig, handler)
        try:
            await self._start()
            self.notifier.ready(self._status())
            self._tasks.append(self.supervisor.spawn("watchdog", self._watchdog))
            while not self._stop.is_set():
                stop = asyncio.ensure_future(self._stop.wait())
                reload = asyncio.ensure_future(self._reload.wait())
                await asyncio.wait({stop, reload}, return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                reload.cancel()
                if self._reload.is_set() and not self._stop.is_set():
                    self._reload.clear()
                    await self._apply_reload()
        finally:
            self.notifier.stopping()
            await self._stop_all()
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
        if self.exit_code:
            _LOGGER.error("stopped after a failure (exit code %d)", self.exit_code)
            return self.exit_code
        _LOGGER.info("stopped")
        return 0

    def _check_runnable(self, config: Config) -> None:
        """What `load_config` accepts but a running service cannot do without."""
        if not config.wearables:
            raise ConfigError(
                f"{self.options.config_path or 'the configuration'}: no [[wearables]] configured; "
                "add one (see config/sitbreak.example.toml) or try `sitbreak demo`"
            )

    async def _start(self) -> None:
        self._check_runnable(self.config)
        self.store = Store(self.store_settings(self.config))
        tz = resolve_zone(self.config.timezone)
        for wearable in self.config.wearables:
            service = WearableService(
                wearable,
                self.config,
                self.store,
                tz,
                report_dir=self.report_dir,
                clock=self.options.clock,
                reports_on_host_clock=self.options.reports_on_host_clock,
                supervisor=self.supervisor,
            )
            await service.start()
            self.services.append(service)
        _LOGGER.info(
            "sitbreak running: %d wearable(s), store %s, MQTT %s:%d",
            len(self.services),
            self.store.path,
            self.config.mqtt.host,
            self.config.mqtt.port,
        )

    async def _stop_services(self) -> None:
        for service in reversed(self.services):
            try:
                await service.stop()
            except Exception:
                _LOGGER.exception("%s: error while stopping", service.id)
        self.services.clear()

    async def _stop_all(self) -> None:
        await self.supervisor.cancel(self._tasks)
        await self._stop_services()
        if self.store is not None:
            self.store.close()
            self.store = None

    async def _apply_reload(self) -> None:
        path = self.options.config_path
        if path is None:
            _LOGGER.info("SIGHUP: no configuration file to re-read (running on defaults)")
            return
        self.notifier.reloading()
        try:
            new = load_config(path)
            self._check_runnable(new)
        except ConfigError as exc:
            _LOGGER.error("SIGHUP: %s; keeping the running configuration", exc)
            self.notifier.ready(self._status())
            return
        except Exception:  # a loader bug on some odd file must not end a running service either
            _LOGGER.exception("SIGHUP: cannot read %s; keeping the running configuration", path)
            self.notifier.ready(self._status())
            return
        if new == self.config:
            _LOGGER.info("SIGHUP: %s unchanged", path)
            self.notifier.ready(self._status())
            return
        _LOGGER.info("SIGHUP: applying the new configuration from %s", path)
        # Each wearable saves its state on stop and resumes it on start, so a restart of the
        # services is a clean way to apply any change (placement, policy, broker, store path).
        old = self.config
        await self._restart_with(new)
        if not self.services:
            # Valid on paper but not startable (a store path it cannot open, a missing TLS file, ...):
            # carry on with what was running rather than leave the wearables unwatched.
            _LOGGER.error("SIGHUP: going back to the running configuration")
            await self._restart_with(old)
            if not self.services:
                self._fatal("SIGHUP: cannot start again on the running configuration either")
                return
        self.notifier.ready(self._status())

    async def _restart_with(self, config: Config) -> None:
        """Stop every service and start them again on `config`; on a user error nothing runs."""
        await self._stop_services()
        self._close_store()
        self.config = config
        try:
            await self._start()
        except (UserError, OSError) as exc:
            _LOGGER.error("SIGHUP: cannot start with %s: %s", self.options.config_path, exc)
            await self._stop_services()
            self._close_store()
        except Exception:  # a value the checks let through but a part cannot take: same as above
            _LOGGER.exception("SIGHUP: cannot start with %s", self.options.config_path)
            await self._stop_services()
            self._close_store()

    def _close_store(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    async def _watchdog(self) -> None:
        """Ping systemd while the loop keeps time and nothing is stuck; refresh STATUS."""
        loop = asyncio.get_running_loop()
        interval = self.notifier.watchdog_interval()
        tick = min(interval, STATUS_EVERY_S) if interval else STATUS_EVERY_S
        expected = loop.time() + tick
        while True:
            await asyncio.sleep(tick)
            lag = loop.time() - expected
            expected = loop.time() + tick
            stuck = self.supervisor.problems()
            if interval and lag < WATCHDOG_MAX_LAG_S and not stuck:
                self.notifier.watchdog()
            elif interval and lag >= WATCHDOG_MAX_LAG_S:
                _LOGGER.warning("event loop ran %.1f s late; withholding the watchdog ping", lag)
            elif interval and stuck != self._withheld:
                _LOGGER.error("withholding the watchdog ping: %s", "; ".join(stuck))
            self._withheld = stuck
            self.notifier.status(self._status())

    def _status(self) -> str:
        if self.supervisor.fatal is not None:
            return f"failed: {self.supervisor.fatal}"
        parts = []
        for service in self.services:
            words = [
                f"{service.id}: {service.status_word()}",
                f"{service.counts['nudges']} nudges",
                f"mqtt {_mqtt_word(service)}",
                *service.trouble(),
            ]
            parts.append(", ".join(words))
        stuck = self.supervisor.problems() if self.services else []
        if stuck:
            parts.append("stuck: " + ", ".join(stuck))
        if self.loop_errors:
            parts.append(f"{self.loop_errors} unhandled error(s) (see the journal)")
        return "; ".join(parts) or "starting"


def _mqtt_word(service: WearableService) -> str:
    if service.mqtt is None:
        return "off"
    return "up" if service.mqtt.connected else "down"
