"""The wearable link: the Bleak lifecycle of one wearable, forever.

    link = WearableLink(WearableTarget(name="SitSense-*"), make_profile("sitsense"))
    task = asyncio.create_task(link.run())
    async for item in link:            # SampleBlock or LinkEvent, in data order
        ...
    await link.stop()

One cycle: scan (one BleakScanner per loop, shared by all links) until the target advertises; connect,
subscribe and run the profile's start sequence (`streamstart`, shared with `sitbreak doctor`: it
pairs once when the device asks for an encrypted link); then stream until Bleak reports the
disconnect, the silence watchdog fires, the device says it stopped the stream, or the link is
stopped. Every end is followed by a teardown that tolerates whatever `disconnect()` raises, then a
backoff (a pure function of the failures so far) and the next cycle. "Bluetooth
unavailable" (no bus, no org.bluez, adapter off) is a state of its own, retried with the same
backoff and logged once. Every state change is one log line, "name - address: what (why)", with
%-args.

The link moves bytes and keeps time; the jobs around it are pure and tested on their own:
- `assembler.PacketAssembler`: notification bytes -> decoded -> placed on the data-time axis ->
  `SampleBlock`s and the `LinkEvent`s that sit in the data (gaps, tallies, holds, clock steps,
  connected, battery), with its counters. The link hands it each notification with its arrival
  time and acts on the `News` it returns (states, log lines); what it emits goes on the queue.
- `clockwatch.ClockWatch`: arrival times (loop time -> UTC) and host clock steps, checked at each
  connection and about once a second while data flows; a step's likely cause comes from `hostclock`.
- `devclock`: the device's time against those arrivals (on with the system clock): data is never
  timed after its arrival by more than the tolerance; `device_clock` says how the device's clock
  stands ("ok", "ahead", "behind"; "off" when unchecked), for the service's status line.
- `queue.DropOldestQueue`: the hand-over to the consumer, which never blocks the callback.

The notification callback is the hot path: it feeds the silence watchdog and stashes the payload.
Stashed notifications go to the assembler in batches (`RAW_BATCH_MAX` of them, or `block_max_s` of
wall time after the first), because a process woken for one notification runs with cold caches.

The link knows nothing of what is stored: keeping data off what the store already holds (a restart
with the host clock behind) is the service's `StoredDataGuard`, at the service/store boundary.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TypedDict

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak_retry_connector import BleakClientWithServiceCache, close_stale_connections_by_address

from monitor.core.links import LinkEvent, LinkEventKind, LinkState
from monitor.core.timefmt import utc_text
from monitor.wearables.assembler import News, PacketAssembler, Who
from monitor.wearables.backoff import backoff_delay
from monitor.wearables.clockwatch import ClockWatch
from monitor.wearables.hostclock import clock_synchronised, step_cause
from monitor.wearables.profiles import DeviceProfile
from monitor.wearables.queue import DropOldestQueue, LinkItem
from monitor.wearables.scanner import (
    UNAVAILABLE_ADVICE,
    WearableScanner,
    WearableTarget,
    bluetooth_unavailable,
)
from monitor.wearables.settings import LinkSettings
from monitor.wearables.streamstart import (
    ControlPoint,
    battery_level,
    connect,
    start_stream,
    subscribe_battery,
    teardown,
)
from monitor.wearables.watchdog import SilenceWatchdog

_LOGGER = logging.getLogger(__name__)

# Notifications are stashed as they arrive and decoded in batches: when this many wait, or
# `block_max_s` after the first. A service woken for one notification runs with cold caches, where
# decoding it costs ~140 us (19 us warm; every numpy call then costs tens of microseconds); decoding a
# batch back to back pays that once. At 50 Hz that is one batch per block instead of ~6 wake-ups.
RAW_BATCH_MAX = 32


class LinkLostError(Exception):
    """The stream ended; `reason` says how (disconnected, silent, stopped)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LinkDiagnostics(TypedDict):
    """Counters for the daemon's status output and MQTT state; all since the link started."""

    state: str
    wearable: str
    name: str | None
    profile: str
    rate_hz: float
    connects: int
    losses: int
    connect_failures: int
    silence_timeouts: int
    packets: int
    samples: int
    blocks: int
    malformed: dict[str, int]
    duplicates: int
    out_of_order: int
    gaps: int
    gap_seconds: float
    dropped_blocks: int
    dropped_seconds: float
    queued: int
    battery: int | None
    last_error: str | None
    clock_steps: int
    held_samples: int
    holding_until: float | None
    device_clock: str  # "ok", "ahead", "behind" (a fault episode under way), or "off" (not checked)
    device_clock_faults: int
    device_clock_error_s: float | None  # the last fault's: device time against arrival, + ahead
    retimed_samples: int  # dropped by re-timing: timed at or before data already handed on


@dataclass(slots=True)
class _LinkCounts:
    """The link's own counters (the data's are the assembler's)."""

    connects: int = 0  # connections that delivered data
    losses: int = 0
    connect_failures: int = 0


class WearableLink:
    """One wearable, one stream. Create inside or outside a loop; `run()` inside one."""

    def __init__(
        self,
        target: WearableTarget,
        profile: DeviceProfile,
        settings: LinkSettings | None = None,
        *,
        wall_clock: Callable[[], float] = time.time,
        clock_steps: bool | None = None,
        device_clock_check: bool | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """`wall_clock` is the host's UTC clock. `clock_steps` turns step detection on or off; by
        default it is on for the system clock and off for any other (the demo's simulated clock runs
        faster than the monotonic one it would be compared with, and has no steps).
        `device_clock_check` likewise turns the check of device time against arrival on or off
        (`devclock`); by default on for the system clock only: a wearable simulated faster than
        real time, as the demo and the tests run one, is by design what the check refuses."""
        self.target = target
        self.profile = profile
        self.settings = settings or LinkSettings()
        self.queue = DropOldestQueue(self.settings.queue_size, profile.period_s)
        self._clock = ClockWatch(wall_clock, detect_steps=clock_steps)
        self._rng = rng or random.Random()
        self._who = Who(target.name or profile.title, target.address or target.describe())
        self._assembler = PacketAssembler(
            profile,
            self.settings,
            self.queue.put,
            self._who,
            check_device_clock=wall_clock is time.time if device_clock_check is None else device_clock_check,
        )
        self._scanner = WearableScanner(target, profile)
        self._state = LinkState.IDLE
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._lost: asyncio.Future[str] | None = None
        self._client: BleakClientWithServiceCache | None = None
        self._watchdog: SilenceWatchdog | None = None
        self._control = ControlPoint(profile, self._who, self._on_device_stopped)
        # notifications not handed to the assembler yet: (arrival, loop time; payload)
        self._raw: list[tuple[float, bytes]] = []
        self._raw_handle: asyncio.TimerHandle | None = None
        self._unavailable_logged = False
        self._last_error: str | None = None
        self._packets = 0  # not in _counts: the notification callback counts it (one lookup fewer)
        self._counts = _LinkCounts()

    # ------------------------------------------------------------------ public

    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def rate_hz(self) -> float:
        """The rate the data comes at: as the device declared it at the latest connection (the
        micro:bit's read-back period, SitSense's rate code) or as the start sequence chose it (Polar,
        Thingy), else the profile's rate for the configured one."""
        return self._assembler.rate_hz

    @property
    def device_clock(self) -> str:
        """The device clock check's state: "ok", "ahead" or "behind" while faults go on, "off"."""
        return self._assembler.clock_faults.state(self._clock.wall_clock())

    def _stop_requested(self) -> bool:
        # a call, not an attribute: `stop()` flips the flag while run() awaits
        return self._stopping

    async def get(self) -> LinkItem:
        """The next sample block or link event (waits)."""
        return await self.queue.get()

    def __aiter__(self) -> AsyncIterator[LinkItem]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[LinkItem]:
        while True:
            yield await self.queue.get()

    def diagnostics(self) -> LinkDiagnostics:
        data = self._assembler
        counts = data.counts
        return LinkDiagnostics(
            state=self._state.value,
            wearable=self._who.address,
            name=self._who.name,
            profile=self.profile.name.value,
            rate_hz=self.rate_hz,
            connects=self._counts.connects,
            losses=self._counts.losses,
            connect_failures=self._counts.connect_failures,
            silence_timeouts=self._watchdog.fired if self._watchdog else 0,
            packets=self._packets,
            samples=counts.samples,
            blocks=counts.blocks,
            malformed=data.malformed(),
            duplicates=data.duplicates(),
            out_of_order=data.out_of_order(),
            gaps=counts.gaps,
            gap_seconds=counts.gap_seconds,
            dropped_blocks=self.queue.dropped_blocks,
            dropped_seconds=self.queue.dropped_seconds,
            queued=self.queue.qsize(),
            battery=data.battery,
            last_error=self._last_error,
            clock_steps=self._clock.steps,
            held_samples=counts.held_samples,
            holding_until=data.hold_floor,
            device_clock=self.device_clock,
            device_clock_faults=data.clock_faults.faults,
            device_clock_error_s=data.clock_faults.last.error_s if data.clock_faults.last else None,
            retimed_samples=data.clock_faults.dropped,
        )

    async def stop(self) -> None:
        """End the stream (pausing the wearable when it supports it) and make `run()` return."""
        self._stopping = True
        self._scanner.cancel()
        self._end_stream("stopped")
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        """Find, connect and stream until `stop()`; every failure is retried after a backoff."""
        self._loop = asyncio.get_running_loop()
        self._clock.loop_clock = self._loop.time  # the clock arrivals are stamped with
        self._wake = asyncio.Event()
        self._watchdog = SilenceWatchdog(self._loop, self.settings.silence_timeout_s, self._on_silence)
        failures = 0
        try:
            while not self.stopping:
                error: BaseException | None = None
                connects = self._counts.connects
                try:
                    found = await self._find()
                    if found is None:
                        continue
                    await self._connect_and_stream(*found)
                except LinkLostError as exc:
                    if exc.reason == "stopped":
                        break
                    error = exc
                except Exception as exc:  # Bleak, D-Bus, OS and start errors of every kind: retried
                    error = exc
                if self._stop_requested():
                    break
                if self._counts.connects > connects:  # data flowed this cycle: start the backoff afresh
                    failures = 0
                delay = backoff_delay(failures, self.settings, error, self._rng.uniform(-1.0, 1.0))
                failures += 1
                self._enter_backoff(error, delay)
                await self._sleep(delay)
        finally:
            self._drain()
            self._assembler.end_session()
            self._set_state(LinkState.STOPPED, "stopped")

    # ------------------------------------------------------------------ cycle

    async def _find(self) -> tuple[BLEDevice, int] | None:
        """The target's device and its signal strength (dBm), once it advertises."""
        if not self._unavailable_logged:
            self._set_state(LinkState.SCANNING, f"looking for {self.target.describe()}")
        await self._release_stale_connection()
        found = await self._scanner.find(self.settings.scan_timeout_s)
        if self._unavailable_logged:
            self._unavailable_logged = False
            self._set_state(LinkState.SCANNING, "Bluetooth is available again")
        if found is None:
            _LOGGER.debug(
                "%s - %s: not seen in %.0f s of scanning (%d advertisements heard); still looking",
                self._who.name,
                self._who.address,
                self.settings.scan_timeout_s,
                self._scanner.seen,
            )
            return None
        device, adv = found
        self._who.address = device.address
        self._who.name = adv.local_name or device.name or self._who.name
        return device, adv.rssi

    async def _release_stale_connection(self) -> None:
        """A wearable bluetoothd still holds connected for nobody (this service was killed, or crashed
        and was restarted by systemd) does not advertise, so scanning would never find it: disconnect
        it first. Only possible when the address is known (configured, or seen earlier)."""
        address = self.target.address or (self._who.address if self._counts.connects else "")
        if not address or self._client is not None:
            return
        try:
            await close_stale_connections_by_address(address)
        except Exception as exc:  # no bus / no BlueZ: the scan that follows reports it properly
            _LOGGER.debug("%s - %s: could not check for a stale connection: %s", self._who.name, address, exc)

    async def _connect_and_stream(self, device: BLEDevice, rssi: int) -> None:
        assert self._loop is not None and self._watchdog is not None
        self._set_state(LinkState.CONNECTING, f"advertising at {rssi} dBm")
        self._lost = self._loop.create_future()
        client: BleakClientWithServiceCache | None = None
        try:
            try:
                client = await connect(device, self._who.name, self.settings, self._on_disconnected)
            except BaseException:
                self._counts.connect_failures += 1
                raise
            self._client = client
            self._sync_clock()
            self._assembler.new_session()
            async with asyncio.timeout(self.settings.connect_timeout_s):
                await self._start_stream(client)
            self._watchdog.start()
            reason = await self._lost
            raise LinkLostError(reason)
        finally:
            self._watchdog.stop()
            self._client = None
            self._drain()
            if self._assembler.end_session():  # data had flowed: the stream is lost
                if self._lost_reason() != "stopped":
                    self._counts.losses += 1
                self._emit(LinkEvent(LinkEventKind.LOST, self._data_now(), reason=self._lost_reason()))
            if client is not None:  # pause the wearable only when we chose to leave
                await teardown(client, self.profile, self.settings, self._who, pause=self._stopping)

    async def _start_stream(self, client: BleakClientWithServiceCache) -> None:
        # shared with `sitbreak doctor`; pairs once when the device asks (logged there)
        await start_stream(
            client, self.profile, self._control, self._on_data, settings=self.settings, who=self._who
        )
        await subscribe_battery(client, self._on_battery, self._who)
        self._set_state(LinkState.CONNECTING, "subscribed, waiting for data")

    def _enter_backoff(self, error: BaseException | None, delay: float) -> None:
        why = self._describe_error(error)
        self._last_error = why
        unavailable = bluetooth_unavailable(error) if error is not None else None
        if unavailable is not None:
            if not self._unavailable_logged:
                self._unavailable_logged = True
                self._set_state(LinkState.UNAVAILABLE, f"{unavailable}; {UNAVAILABLE_ADVICE}")
                self._emit(LinkEvent(LinkEventKind.UNAVAILABLE, self._data_now(), detail=unavailable))
            else:
                _LOGGER.debug(
                    "%s - %s: still unavailable: %s", self._who.name, self._who.address, unavailable
                )
            return
        self._set_state(LinkState.BACKOFF, f"{why}; retrying in {delay:.1f} s")

    @staticmethod
    def _describe_error(error: BaseException | None) -> str:
        if error is None:
            return "not found"
        if isinstance(error, LinkLostError):
            return f"link lost ({error.reason})"
        text = str(error) or type(error).__name__
        return f"{type(error).__name__}: {text}"

    async def _sleep(self, delay: float) -> None:
        """Wait `delay` seconds, or less if `stop()` is called (the event is set once, never cleared)."""
        assert self._wake is not None
        if self._stop_requested():
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._wake.wait()

    # ------------------------------------------------------------------ callbacks (hot path first)

    def _on_data(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        assert self._loop is not None and self._watchdog is not None
        if self._client is None:
            # The stream has ended (LOST already emitted); packets still in flight while the link is
            # torn down must not start a new "connected" stream after it.
            return
        now = self._loop.time()
        self._watchdog.last_feed = now  # SilenceWatchdog.feed, inlined: this runs per packet
        self._packets += 1
        raw = self._raw
        raw.append((now, bytes(data)))
        if len(raw) == 1:
            self._raw_handle = self._loop.call_later(self.settings.block_max_s, self._drain)
        elif len(raw) >= RAW_BATCH_MAX:
            self._drain()

    def _drain(self) -> None:
        """Hand the stashed notifications to the assembler in arrival order, then the block on."""
        if self._raw_handle is not None:
            self._raw_handle.cancel()
            self._raw_handle = None
        raw, self._raw = self._raw, []
        clock, assembler = self._clock, self._assembler
        for now, data in raw:
            if now >= clock.next_check:  # due: read the clocks now (not at `now`, maybe seconds ago)
                self._check_clock()
            news = assembler.push(data, now, now + clock.mono_to_utc)
            if news:
                self._on_news(news)
        assembler.flush()

    def _on_news(self, news: News) -> None:
        """Act on what a notification changed: the connection's first data, the start or end of a hold."""
        if news & News.HOLD_ENDED and not news & News.FIRST_DATA:
            # (with the connection's first data, "streaming" follows right below)
            self._set_state(LinkState.STREAMING, "data time has passed the data already recorded")
        if news & News.FIRST_DATA:
            self._counts.connects += 1
            self._set_state(LinkState.STREAMING, f"{self.profile.describe()}, first data in")
        if news & News.HOLDING:
            floor = self._assembler.hold_floor
            assert floor is not None
            self._set_state(LinkState.HOLDING, f"data held back until the clock passes {utc_text(floor)}")

    def _on_device_stopped(self, detail: str) -> None:
        """The device says it stopped the stream itself (`ControlPoint`): start it again."""
        _LOGGER.warning(
            "%s - %s: %s; reconnecting to start it again", self._who.name, self._who.address, detail
        )
        self._end_stream("device_stopped")

    def _on_battery(self, _char: BleakGATTCharacteristic | None, data: bytearray) -> None:
        level = battery_level(data)
        if level is None:
            _LOGGER.debug(
                "%s - %s: ignoring battery value %s", self._who.name, self._who.address, bytes(data).hex()
            )
            return
        self._assembler.set_battery(level)

    def _on_disconnected(self, client: BleakClientWithServiceCache) -> None:
        if client is self._client:
            self._end_stream("disconnected")

    def _on_silence(self, silent_for: float) -> None:
        _LOGGER.warning(
            "%s - %s: no data for %.1f s while connected; tearing the link down and reconnecting "
            "(Bleak is not told when bluetoothd dies: check `journalctl -u bluetooth`)",
            self._who.name,
            self._who.address,
            silent_for,
        )
        self._end_stream("silent")

    def _end_stream(self, reason: str) -> None:
        lost = self._lost
        if lost is not None and not lost.done():
            lost.set_result(reason)

    def _lost_reason(self) -> str:
        lost = self._lost
        return lost.result() if lost is not None and lost.done() and not lost.cancelled() else "error"

    # ------------------------------------------------------------------ host clock

    def _sync_clock(self) -> None:
        """At each connection: the arrival mapping, checked for a step since the last check."""
        step = self._clock.sync()
        if step is not None:
            self._clock_stepped(step)

    def _check_clock(self) -> None:
        step = self._clock.check()
        if step is not None:
            self._clock_stepped(step)

    def _clock_stepped(self, step: float) -> None:
        # the cause is read from the host here, so the assembler stays free of it
        cause = step_cause(step, clock_synchronised())
        self._assembler.clock_stepped(step, cause, self._clock.checked_utc)

    # ------------------------------------------------------------------ helpers

    def _emit(self, event: LinkEvent) -> None:
        self.queue.put(event)

    def _data_now(self) -> float:
        """Data time for an event: the end of the data so far (or the hold it must pass), else the
        wall clock."""
        t = self._assembler.data_time()
        return self._clock.wall_clock() if t is None else t

    def _set_state(self, state: LinkState, why: str) -> None:
        if state is self._state:
            return
        self._state = state
        level = logging.WARNING if state is LinkState.UNAVAILABLE else logging.INFO
        _LOGGER.log(level, "%s - %s: %s (%s)", self._who.name, self._who.address, state.value, why)
