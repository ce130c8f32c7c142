"""The wearable link: find, connect, stream, decode, and recover, forever.

    link = WearableLink(WearableTarget(name="SitSense-*"), make_profile("sitsense"))
    task = asyncio.create_task(link.run())
    async for item in link:            # SampleBlock or LinkEvent, in data order
        ...
    await link.stop()

One cycle: scan (one BleakScanner per loop, shared by all links) until the target advertises; connect with
bleak-retry-connector's `establish_connection` under a safety timeout; subscribe; run the profile's
start writes; then stream until Bleak reports the disconnect, the silence watchdog fires, or the
link is stopped. Every end is followed by a teardown that tolerates whatever `disconnect()` raises,
then a backoff (a pure function of the failures so far) and the next cycle. "Bluetooth
unavailable" (no bus, no org.bluez, adapter off) is a state of its own, retried with the same
backoff and logged once.

The notification callback is the hot path: it feeds the silence watchdog and stashes the payload.
Stashed notifications are decoded, placed on the timeline and appended to the pending block in
batches (`RAW_BATCH_MAX` of them, or `block_max_s` of wall time after the first), because a process
woken for one notification runs with cold caches. Blocks are handed on when they span `block_max_s`
of data, when a gap starts, or at the end of each batch, through a queue that never blocks the
callback (see `queue`).
Every state change is one log line, "name - address: what (why)", with %-args.

The host clock is checked for steps at each connection and about once a second while data flows
(wall clock minus the boot-time clock: NTP slews move both alike, only a step changes the
difference). A step beyond `CLOCK_STEP_TOLERANCE_S` is logged once, recorded as a CLOCK_STEP event,
and moves the timeline's mapping (see `timeline`: forward = a gap, backward = samples dropped until
the corrected time passes the data already handed on). `hold_until` lets the service keep the link
from handing on data timed at or before what the store already holds (a restart with the clock
behind); meanwhile the link is HOLDING, says why once, and reports how much it dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import TypedDict

import numpy as np
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak_retry_connector import (
    BleakClientWithServiceCache,
    close_stale_connections_by_address,
    establish_connection,
)

from monitor.core.links import GapReason, LinkEvent, LinkEventKind, LinkState
from monitor.core.timefmt import utc_text
from monitor.core.types import SampleBlock
from monitor.wearables.backoff import backoff_delay
from monitor.wearables.hostclock import behind_cause, clock_synchronised, step_cause
from monitor.wearables.profiles import (
    BATTERY_LEVEL_UUID,
    ControlKind,
    DecodeError,
    DeviceProfile,
    GattRead,
    StreamStartError,
)
from monitor.wearables.queue import DropOldestQueue, LinkItem
from monitor.wearables.scanner import (
    UNAVAILABLE_ADVICE,
    WearableScanner,
    WearableTarget,
    bluetooth_unavailable,
)
from monitor.wearables.settings import LinkSettings
from monitor.wearables.timeline import PacketTimeline, PlacedPacket, Verdict
from monitor.wearables.watchdog import SilenceWatchdog

_LOGGER = logging.getLogger(__name__)

# The host clock is checked for steps this often (loop seconds) while data flows: a step is noticed
# within a second, at the cost of two clock reads per second.
CLOCK_CHECK_EVERY_S = 1.0
# A change of (wall - boot-time clock) beyond this is a step. NTP slews small errors (both clocks alike);
# timesyncd and chrony step only for larger ones, and a second or two of data time does not matter
# for posture. Smaller changes add up until they pass it, then count in full.
CLOCK_STEP_TOLERANCE_S = 2.0
# Notifications are stashed as they arrive and decoded in batches: when this many wait, or
# `block_max_s` after the first. A service woken for one notification runs with cold caches, where
# decoding it costs ~140 us (19 us warm; every numpy call then costs tens of microseconds); decoding a
# batch back to back pays that once. At 50 Hz that is one batch per block instead of ~6 wake-ups.
RAW_BATCH_MAX = 32
# Steps are measured against CLOCK_BOOTTIME (Linux): never stepped, and it runs on through a suspend.
_BOOT_CLOCK = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)


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


class _Tally:
    """Counts of dropped packets of one family, reported at most once per interval (log + event)."""

    def __init__(self, kind: LinkEventKind) -> None:
        self.kind = kind
        self.total: Counter[str] = Counter()
        self.pending: Counter[str] = Counter()
        self.last_detail = ""
        self.next_report = 0.0

    def add(self, label: str, detail: str = "") -> None:
        self.total[label] += 1
        self.pending[label] += 1
        if detail:
            self.last_detail = detail


class _Hold:
    """The samples dropped by the current hold (see `PacketTimeline.hold_until`)."""

    def __init__(self) -> None:
        self.first_t: float | None = None  # data time of the first sample held, None when not holding
        self.until = 0.0
        self.samples = 0
        self.noted = False  # worth a state change and a HELD event (more than clock jitter)
        self.after_step = False  # the step's own warning already said why


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
        rng: random.Random | None = None,
    ) -> None:
        """`wall_clock` is the host's UTC clock. `clock_steps` turns step detection on or off; by
        default it is on for the system clock and off for any other (the demo's simulated clock runs
        faster than the monotonic one it would be compared with, and has no steps)."""
        self.target = target
        self.profile = profile
        self.settings = settings or LinkSettings()
        self._wall_clock = wall_clock
        self._detect_steps = wall_clock is time.time if clock_steps is None else clock_steps
        self._rng = rng or random.Random()
        self._address = target.address or target.describe()
        self._name = target.name or profile.title
        self.queue = DropOldestQueue(self.settings.queue_size, profile.period_s)
        self._scanner = WearableScanner(target, profile)
        self._timeline = PacketTimeline(
            profile.period_s,
            seq_modulus=profile.seq_modulus,
            time_modulus_s=profile.time_modulus_s,
            arrival_gap_s=self.settings.arrival_gap_s,
        )
        self._state = LinkState.IDLE
        self._rssi = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._mono_to_utc = 0.0
        self._clock_ref: float | None = None  # wall - boot-time clock at the last step (or the start)
        self._next_clock_check = math.inf
        self._clock_steps = 0
        self._step_gap = False  # a forward step since the last accepted packet: its gap's reason
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._lost: asyncio.Future[str] | None = None
        self._client: BleakClientWithServiceCache | None = None
        self._watchdog: SilenceWatchdog | None = None
        self._reply: asyncio.Future[bytes] | None = None
        # per connection / per cycle
        self._streaming = False
        self._streaming_this_cycle = False
        # pending block
        self._pend_t: list[np.ndarray] = []
        self._pend_xyz: list[np.ndarray] = []
        self._pend_seq: int | None = None
        self._pend_start = 0.0
        # notifications not decoded yet: (arrival, loop time; payload)
        self._raw: list[tuple[float, bytes]] = []
        self._raw_handle: asyncio.TimerHandle | None = None
        # counters
        self._ever_streamed = False
        self._unavailable_logged = False
        self._connects = 0
        self._losses = 0
        self._connect_failures = 0
        self._packets = 0
        self._samples = 0
        self._blocks = 0
        self._gaps = 0
        self._gap_seconds = 0.0
        self._battery: int | None = None
        self._battery_reported: int | None = None
        self._last_error: str | None = None
        self._held_samples = 0
        self._hold = _Hold()
        self._malformed = _Tally(LinkEventKind.MALFORMED)
        self._duplicates = _Tally(LinkEventKind.DUPLICATE)
        self._reordered = _Tally(LinkEventKind.OUT_OF_ORDER)

    # ------------------------------------------------------------------ public

    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def stopping(self) -> bool:
        return self._stopping

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
        return LinkDiagnostics(
            state=self._state.value,
            wearable=self._address,
            name=self._name,
            profile=self.profile.name.value,
            rate_hz=self.profile.rate_hz,
            connects=self._connects,
            losses=self._losses,
            connect_failures=self._connect_failures,
            silence_timeouts=self._watchdog.fired if self._watchdog else 0,
            packets=self._packets,
            samples=self._samples,
            blocks=self._blocks,
            malformed=dict(self._malformed.total),
            duplicates=sum(self._duplicates.total.values()),
            out_of_order=sum(self._reordered.total.values()),
            gaps=self._gaps,
            gap_seconds=self._gap_seconds,
            dropped_blocks=self.queue.dropped_blocks,
            dropped_seconds=self.queue.dropped_seconds,
            queued=self.queue.qsize(),
            battery=self._battery,
            last_error=self._last_error,
            clock_steps=self._clock_steps,
            held_samples=self._held_samples,
            holding_until=self._timeline.hold_floor,
        )

    def hold_until(self, t: float) -> None:
        """Hand on no data timed at or before `t` (UTC): the service passes the end of the data the
        store already holds, so a restart with the host clock behind overwrites nothing. Samples
        before it are dropped and counted; the first one after it ends the hold."""
        self._timeline.hold_until(t)

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
        self._wake = asyncio.Event()
        self._watchdog = SilenceWatchdog(self._loop, self.settings.silence_timeout_s, self._on_silence)
        failures = 0
        try:
            while not self.stopping:
                error: BaseException | None = None
                try:
                    device = await self._find()
                    if device is None:
                        continue
                    await self._connect_and_stream(device)
                except LinkLostError as exc:
                    if exc.reason == "stopped":
                        break
                    error = exc
                except Exception as exc:  # Bleak, D-Bus, OS and start errors of every kind: retried
                    error = exc
                if self._stop_requested():
                    break
                if self._streaming_this_cycle:
                    failures = 0
                delay = backoff_delay(failures, self.settings, error, self._rng.uniform(-1.0, 1.0))
                failures += 1
                self._enter_backoff(error, delay)
                await self._sleep(delay)
        finally:
            self._drain()
            self._report_tallies(force=True)
            self._set_state(LinkState.STOPPED, "stopped")

    # ------------------------------------------------------------------ cycle

    async def _find(self) -> BLEDevice | None:
        self._streaming_this_cycle = False
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
                self._name,
                self._address,
                self.settings.scan_timeout_s,
                self._scanner.seen,
            )
            return None
        device, adv = found
        self._rssi = adv.rssi
        self._address = device.address
        self._name = adv.local_name or device.name or self._name
        return device

    async def _release_stale_connection(self) -> None:
        """A wearable bluetoothd still holds connected for nobody (this service was killed, or crashed
        and was restarted by systemd) does not advertise, so scanning would never find it: disconnect
        it first. Only possible when the address is known (configured, or seen earlier)."""
        address = self.target.address or (self._address if self._ever_streamed else "")
        if not address or self._client is not None:
            return
        try:
            await close_stale_connections_by_address(address)
        except Exception as exc:  # no bus / no BlueZ: the scan that follows reports it properly
            _LOGGER.debug("%s - %s: could not check for a stale connection: %s", self._name, address, exc)

    async def _connect_and_stream(self, device: BLEDevice) -> None:
        assert self._loop is not None and self._watchdog is not None
        self._set_state(LinkState.CONNECTING, f"advertising at {self._rssi} dBm")
        self._lost = self._loop.create_future()
        client: BleakClientWithServiceCache | None = None
        try:
            try:
                async with asyncio.timeout(self.settings.connect_timeout_s):
                    client = await establish_connection(
                        BleakClientWithServiceCache,
                        device,
                        self._name,
                        disconnected_callback=self._on_disconnected,
                        max_attempts=self.settings.connect_attempts,
                        use_services_cache=False,
                    )
            except BaseException:
                self._connect_failures += 1
                raise
            self._client = client
            self._sync_clock()
            self._timeline.new_session()
            async with asyncio.timeout(self.settings.connect_timeout_s):
                await self._start_stream(client)
            self._watchdog.start()
            reason = await self._lost
            raise LinkLostError(reason)
        finally:
            self._watchdog.stop()
            self._client = None
            self._drain()
            self._report_tallies(force=True)
            if self._streaming:
                self._streaming = False
                if self._lost_reason() != "stopped":
                    self._losses += 1
                self._emit(LinkEvent(LinkEventKind.LOST, self._data_now(), reason=self._lost_reason()))
            if client is not None:
                await self._teardown(client)

    async def _start_stream(self, client: BleakClientWithServiceCache) -> None:
        profile = self.profile
        if profile.control_uuid is not None:
            await client.start_notify(profile.control_uuid, self._on_control)
        await client.start_notify(
            profile.data_uuid, self._on_data, bluez={"use_start_notify": not self.settings.acquire_notify}
        )
        steps = profile.start_sequence()
        reply: bytes | None = None
        try:
            while True:
                write = steps.send(reply)
                reply = None
                if isinstance(write, GattRead):  # the profile reads a value to decide its next step
                    reply = bytes(await client.read_gatt_char(write.char_uuid))
                    continue
                if write.await_reply:
                    assert self._loop is not None
                    self._reply = self._loop.create_future()
                await client.write_gatt_char(write.char_uuid, write.data, response=write.response)
                if self._reply is not None:
                    try:
                        async with asyncio.timeout(self.settings.start_timeout_s):
                            reply = await self._reply
                    except TimeoutError:
                        raise StreamStartError(
                            profile.name,
                            f"no answer to {write.purpose or 'the start write'} within "
                            f"{self.settings.start_timeout_s:g} s",
                        ) from None
                    finally:
                        self._reply = None
        except StopIteration:
            pass
        await self._subscribe_battery(client)
        self._set_state(LinkState.CONNECTING, "subscribed, waiting for data")

    async def _subscribe_battery(self, client: BleakClientWithServiceCache) -> None:
        if client.services.get_characteristic(BATTERY_LEVEL_UUID) is None:
            return
        try:
            value = await client.read_gatt_char(BATTERY_LEVEL_UUID)
            self._on_battery(None, value)
            await client.start_notify(BATTERY_LEVEL_UUID, self._on_battery)
        except Exception as exc:  # battery is optional: never lose the stream over it
            _LOGGER.debug("%s - %s: battery level unavailable: %r", self._name, self._address, exc)

    async def _teardown(self, client: BleakClientWithServiceCache) -> None:
        """Pause the wearable if we chose to leave, then disconnect; tolerate every failure."""
        try:
            async with asyncio.timeout(self.settings.disconnect_timeout_s):
                if self._stopping and client.is_connected:
                    for write in self.profile.stop_writes():
                        await client.write_gatt_char(write.char_uuid, write.data, response=write.response)
                await client.disconnect()
        except Exception as exc:  # a dead bluetoothd, a vanished device: the link is gone anyway
            _LOGGER.debug("%s - %s: disconnect failed (ignored): %r", self._name, self._address, exc)

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
                _LOGGER.debug("%s - %s: still unavailable: %s", self._name, self._address, unavailable)
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
        """Decode and place the stashed notifications in arrival order, then hand the block on."""
        if self._raw_handle is not None:
            self._raw_handle.cancel()
            self._raw_handle = None
        raw, self._raw = self._raw, []
        for now, data in raw:
            self._on_packet(now, data)
        self._flush()

    def _on_packet(self, now: float, data: bytes) -> None:
        """One notification, `now` being its arrival (loop time)."""
        try:
            packet = self.profile.decode(data)
        except DecodeError as exc:
            self._malformed.add(exc.kind.value, str(exc))
            self._report_tallies()
            return
        if now >= self._next_clock_check:
            self._check_clock(now)
        placed = self._timeline.push(packet, now + self._mono_to_utc)
        if placed.verdict is not Verdict.ACCEPTED:
            if placed.verdict is Verdict.HELD:
                self._on_held(placed)
                return
            tally = self._duplicates if placed.verdict is Verdict.DUPLICATE else self._reordered
            tally.add(placed.verdict.value, f"seq {packet.seq}" if packet.seq is not None else "")
            self._report_tallies()
            return
        t = placed.t
        assert t is not None
        xyz = packet.xyz
        if placed.skip:
            xyz = xyz[placed.skip :]
            self._held_samples += placed.skip
            self._hold.samples += placed.skip
        if self._hold.first_t is not None:
            self._end_hold()
        first_of_connection = not self._streaming
        if first_of_connection:
            self._begin_streaming(float(t[0]))
        if placed.gap_s > 0:
            self._flush()
            self._gaps += 1
            self._gap_seconds += placed.gap_s
            self._emit(
                LinkEvent(
                    LinkEventKind.GAP,
                    placed.gap_start,
                    seconds=placed.gap_s,
                    count=placed.lost_packets or None,
                    reason=self._gap_reason(first_of_connection, packet.device_dropped, self._step_gap),
                )
            )
        self._step_gap = False
        if not self._pend_t:
            self._pend_seq = packet.seq
            self._pend_start = float(t[0])
        self._pend_t.append(t)
        self._pend_xyz.append(xyz)
        self._samples += len(t)
        if t[-1] - self._pend_start >= self.settings.block_max_s:
            self._flush()

    @staticmethod
    def _gap_reason(first_of_connection: bool, device_dropped: bool, clock_step: bool) -> GapReason:
        if first_of_connection:  # the first data of a connection closes the time the link was down
            return GapReason.LINK_LOST
        if clock_step:
            return GapReason.CLOCK_STEP
        return GapReason.DEVICE_OVERFLOW if device_dropped else GapReason.PACKETS_LOST

    # ------------------------------------------------------------------ host clock

    def _sync_clock(self) -> None:
        """At each connection: the arrival mapping, checked for a step since the last one."""
        assert self._loop is not None
        now = self._loop.time()
        if not self._detect_steps:
            self._mono_to_utc = self._wall_clock() - now
            return
        self._check_clock(now)

    def _check_clock(self, now: float) -> None:
        self._next_clock_check = now + CLOCK_CHECK_EVERY_S
        wall = self._wall_clock()
        # Arrival times follow the wall clock as it is now (the loop's clock stops during a suspend).
        self._mono_to_utc = wall - now
        # Steps are measured against the boot-time clock: like the monotonic clock it is slewed with
        # the wall clock and never stepped, and unlike it, it runs on through a suspend, so a laptop
        # waking up is not mistaken for a step (a wearable's own clock ran on meanwhile too).
        offset = wall - _since_boot()
        if self._clock_ref is None:
            self._clock_ref = offset
            return
        step = offset - self._clock_ref
        if abs(step) <= CLOCK_STEP_TOLERANCE_S:
            return
        self._clock_ref = offset
        self._on_clock_step(step)

    def _on_clock_step(self, step: float) -> None:
        self._flush()  # data timed before the step goes out first: the queue stays in data order
        at = self._data_now()
        self._clock_steps += 1
        cause = step_cause(step, clock_synchronised())
        self._timeline.shift_clock(step)
        if step > 0:
            self._step_gap = True
            then = "data continues at the corrected time; the time skipped is a gap"
        elif self._timeline.hold_floor is not None:
            self._hold.after_step = True
            then = (
                f"data time does not go back: samples are dropped until the clock passes {utc_text(at)}, "
                "nothing recorded is overwritten"
            )
        else:
            then = "no data handed on yet, so nothing to hold back"
        _LOGGER.warning(
            "%s - %s: system clock stepped by %+.0f s (%s); %s", self._name, self._address, step, cause, then
        )
        self._emit(LinkEvent(LinkEventKind.CLOCK_STEP, at, seconds=step, detail=cause))

    def _on_held(self, placed: PlacedPacket) -> None:
        """Samples timed at or before the hold floor: dropped and counted; the first says why."""
        assert placed.t is not None
        hold = self._hold
        hold.samples += placed.skip
        self._held_samples += placed.skip
        floor = self._timeline.hold_floor
        assert floor is not None
        hold.until = floor
        if hold.first_t is None:
            hold.first_t = float(placed.t[0])
            behind = floor - hold.first_t
            hold.noted = behind > CLOCK_STEP_TOLERANCE_S or hold.after_step
            if hold.noted and not hold.after_step:
                _LOGGER.warning(
                    "%s - %s: the wearable's data is timed %s, %.0f s before data already recorded up to "
                    "%s; dropping it (counted, nothing recorded is overwritten) until the clock passes "
                    "that. Likely cause: %s",
                    self._name,
                    self._address,
                    utc_text(hold.first_t),
                    behind,
                    utc_text(floor),
                    behind_cause(clock_synchronised()),
                )
            elif not hold.noted:
                _LOGGER.debug(
                    "%s - %s: %.2f s of data overlap what is recorded; dropped",
                    self._name,
                    self._address,
                    behind,
                )
        if hold.noted:
            self._set_state(LinkState.HOLDING, f"data held back until the clock passes {utc_text(floor)}")

    def _end_hold(self) -> None:
        hold = self._hold
        self._hold = _Hold()
        if not hold.noted:
            return
        if self._streaming:  # else the first data of the connection says "streaming" right after
            self._set_state(LinkState.STREAMING, "data time has passed the data already recorded")
        _LOGGER.info(
            "%s - %s: data time has passed %s; %d samples (%.0f s) timed before it were dropped",
            self._name,
            self._address,
            utc_text(hold.until),
            hold.samples,
            hold.samples * self.profile.period_s,
        )
        self._emit(
            LinkEvent(
                LinkEventKind.HELD,
                hold.until,
                count=hold.samples,
                detail=f"timed {utc_text(hold.first_t or hold.until)} .. {utc_text(hold.until)}",
            )
        )

    def _begin_streaming(self, t0: float) -> None:
        self._streaming = True
        self._streaming_this_cycle = True
        self._connects += 1
        kind = LinkEventKind.RECONNECTED if self._ever_streamed else LinkEventKind.CONNECTED
        self._ever_streamed = True
        self._set_state(LinkState.STREAMING, f"{self.profile.describe()}, first data in")
        self._emit(LinkEvent(kind, t0, detail=self.profile.describe()))
        self._report_battery()

    def _flush(self) -> None:
        if not self._pend_t:
            return
        if len(self._pend_t) == 1:
            t, xyz = self._pend_t[0], self._pend_xyz[0]
        else:
            t, xyz = np.concatenate(self._pend_t), np.concatenate(self._pend_xyz)
        self._pend_t, self._pend_xyz = [], []
        self._blocks += 1
        self.queue.put(SampleBlock(t, xyz, self._pend_seq))
        self._report_tallies()

    def _on_control(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        message = self.profile.control_message(bytes(data))  # reassembles and classifies
        reply = self._reply
        if message.kind is ControlKind.REPLY and reply is not None and not reply.done():
            reply.set_result(message.data)
        elif message.kind is ControlKind.STREAM_STOPPED:
            _LOGGER.warning(
                "%s - %s: %s; reconnecting to start it again", self._name, self._address, message.detail
            )
            self._end_stream("device_stopped")
        else:
            _LOGGER.debug(
                "%s - %s: control point says %s (%s)",
                self._name,
                self._address,
                data.hex(" "),
                message.detail,
            )

    def _on_battery(self, _char: BleakGATTCharacteristic | None, data: bytearray) -> None:
        if len(data) != 1 or data[0] > 100:
            _LOGGER.debug("%s - %s: ignoring battery value %s", self._name, self._address, bytes(data).hex())
            return
        self._battery = data[0]
        if self._streaming:
            self._report_battery()

    def _report_battery(self) -> None:
        """One BATTERY event per change, on the data-time axis (so not before the stream starts)."""
        if self._battery is not None and self._battery != self._battery_reported:
            self._battery_reported = self._battery
            self._emit(LinkEvent(LinkEventKind.BATTERY, self._data_now(), level=self._battery))

    def _on_disconnected(self, client: BleakClientWithServiceCache) -> None:
        if client is self._client:
            self._end_stream("disconnected")

    def _on_silence(self, silent_for: float) -> None:
        _LOGGER.warning(
            "%s - %s: no data for %.1f s while connected; tearing the link down and reconnecting "
            "(Bleak is not told when bluetoothd dies: check `journalctl -u bluetooth`)",
            self._name,
            self._address,
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

    # ------------------------------------------------------------------ helpers

    def _emit(self, event: LinkEvent) -> None:
        self.queue.put(event)

    def _data_now(self) -> float:
        """Data time for an event: the end of the data so far (or the hold it must pass), else the
        wall clock."""
        last = self._timeline.last_t
        floor = self._timeline.hold_floor
        if last is None:
            return floor if floor is not None else self._wall_clock()
        return last if floor is None else max(last, floor)

    def _set_state(self, state: LinkState, why: str) -> None:
        if state is self._state:
            return
        self._state = state
        level = logging.WARNING if state is LinkState.UNAVAILABLE else logging.INFO
        _LOGGER.log(level, "%s - %s: %s (%s)", self._name, self._address, state.value, why)

    def _report_tallies(self, force: bool = False) -> None:
        now = self._loop.time() if self._loop is not None else 0.0
        for tally in (self._malformed, self._duplicates, self._reordered):
            if not tally.pending or (not force and now < tally.next_report):
                continue
            count = sum(tally.pending.values())
            kinds = ", ".join(f"{k}: {n}" for k, n in sorted(tally.pending.items()))
            _LOGGER.warning(
                "%s - %s: dropped %d %s packet(s) (%s); last: %s",
                self._name,
                self._address,
                count,
                tally.kind.value.replace("_", " "),
                kinds,
                tally.last_detail or "-",
            )
            self._emit(LinkEvent(tally.kind, self._data_now(), count=count, detail=kinds))
            tally.pending.clear()
            tally.next_report = now + self.settings.malformed_log_interval_s


def _since_boot() -> float:
    """CLOCK_BOOTTIME where there is one (Linux), else the monotonic clock."""
    return time.clock_gettime(_BOOT_CLOCK)
