"""The asyncio-facing MQTT link of one wearable, over paho-mqtt 2.x (CallbackAPIVersion.VERSION2).

Threads: paho runs its own network thread (`loop_start`), which also does the reconnect backoff. Its
callbacks never touch our state; they hand plain values to the event loop with `call_soon_threadsafe`,
and every decision (outbox, commands, discovery) happens on the loop. `call_soon_threadsafe` keeps
paho's order, so a PUBACK is always handled before the disconnect that followed it.

Protocol: MQTT 5, chosen over 3.1.1 for three things this service needs:
- a *session expiry interval*, so the broker keeps our session and the commands sent while we are away
  (clean_start=False) for a bounded time instead of forever;
- a *message expiry interval* on nudges, so a phone that was offline is not handed a stale "stand up";
- reason codes on CONNACK and PUBACK, so "bad password" and "not authorised by the ACL" are errors in
  words rather than a silent reconnect loop.

Delivery: nudges, events and reports go through the durable `Outbox` first and leave it only on the
broker's PUBACK (at-least-once). On every reconnect paho's own in-memory retry queue is dropped and the
outbox is replayed instead, so each message has one owner and a broker restart delivers it once.

The jobs are split by module: `connection` sets paho up (credentials, TLS, LWT, session) and takes it
down, `delivery` keeps the outbox bookkeeping, `intake` checks and queues commands; this module is
the link's lifecycle and paho's callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import sys
import time
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Iterator
from types import TracebackType
from typing import cast

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from monitor.core.outbox import OutboxKind
from monitor.mqtt.commands import CommandLimits, CommandRequest
from monitor.mqtt.connection import QOS, connect_async, new_client, stop_network_thread
from monitor.mqtt.delivery import OutboxDelivery, json_properties
from monitor.mqtt.discovery import DeviceDescription, discovery_messages
from monitor.mqtt.errors import FATAL_CONNACK_CODES, MqttConnectError, MqttError, MqttTlsError
from monitor.mqtt.intake import CommandIntake
from monitor.mqtt.outbox import Outbox
from monitor.mqtt.payloads import (
    STATUS_OFFLINE,
    STATUS_ONLINE,
    DailyReportPayload,
    EventPayload,
    NudgePayload,
    StatePayload,
    encode,
)
from monitor.mqtt.ratelimit import RateLimitedLog
from monitor.mqtt.settings import MqttSettings
from monitor.mqtt.topics import Topics, slug
from monitor.nudges.commands import Command

_LOGGER = logging.getLogger(__name__)

# Commands are answered within a second by the policy; 64 waiting means the consumer is stuck, and
# further ones are dropped (counted) rather than growing memory without bound.
COMMAND_QUEUE_SIZE = 64
# Clean shutdown waits this long for the broker to acknowledge `offline` before disconnecting anyway.
STOP_TIMEOUT_S = 3.0


class MqttLink:
    """Publishes one wearable's status, state, nudges, events and reports; receives its commands.

    Call from the event loop thread only. `start()` returns at once (the broker may be down; nudges
    wait in the outbox); `wait_connected()` waits for the first connection, and `wait_fatal()` returns
    the error that made the link give up (refused credentials, untrusted certificate).

    Time: the link has no clock of its own. Nudge staleness (on publishing, on re-sending the outbox
    after a reconnect) and the time a delivery is recorded are judged on the data time the service
    hands over: `now` of `publish_nudge`, or `advance()` as data comes in, so a replay faster than
    real time behaves like live. A link never handed a data time (a tool, a test) uses the wall
    clock, which is data time live. Commands are placed in data time by the service when it takes
    them (`stamp`), not on arrival here.
    """

    def __init__(
        self,
        settings: MqttSettings,
        wearable: str,
        outbox: Outbox,
        *,
        device: DeviceDescription | None = None,
        command_queue_size: int = COMMAND_QUEUE_SIZE,
    ) -> None:
        self.settings = settings
        self.topics = Topics(settings.prefix, wearable, settings.discovery_prefix)
        self._data_time: float | None = None
        self._device = device
        self.client_id = settings.client_id or f"sitbreak-{slug(wearable)}"
        self._where = f"{settings.host}:{settings.port}"
        self._paho: paho.Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connected = False
        self._connected_event = asyncio.Event()
        self._fatal: asyncio.Future[MqttError] | None = None
        self._stopping = False
        self._ack_waiters: dict[int, asyncio.Future[None]] = {}
        self._last_state: bytes | None = None
        self._cmd_sub_mid: int | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._warnings = RateLimitedLog(_LOGGER, settings.log_interval_s)
        self.counts: Counter[str] = Counter()
        self._delivery = OutboxDelivery(
            outbox,
            settings.nudge_max_age_min,
            where=self._where,
            counts=self.counts,
            warnings=self._warnings,
        )
        limits = CommandLimits(
            max_bytes=settings.command_max_bytes,
            snooze_max_min=settings.snooze_max_min,
            pause_max_min=settings.pause_max_min,
            max_age_min=settings.command_max_age_min,
        )
        self._intake = CommandIntake(
            self.topics.cmd,
            limits,
            queue_size=command_queue_size,
            counts=self.counts,
            log_interval_s=settings.log_interval_s,
        )

    # ----------------------------------------------------------------- lifecycle (event loop thread)

    async def start(self) -> None:
        """Set the LWT and start connecting in paho's thread. Raises ConfigError for unusable settings."""
        if self._paho is not None:
            raise RuntimeError("MqttLink.start() called twice")
        self._loop = asyncio.get_running_loop()
        self._fatal = self._loop.create_future()
        client = new_client(self.settings, self.client_id, self.topics)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        self._paho = client
        connect_async(client, self.settings)
        _LOGGER.info(
            "mqtt: connecting to %s as %s (client id %s)",
            self._where,
            self.settings.username or "anonymous",
            self.client_id,
        )

    async def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Publish `offline` (retained), wait for its PUBACK, disconnect cleanly, stop paho's thread."""
        client = self._paho
        if client is None:
            return
        if self._stopping:
            # Already stopping after a fatal error (or a concurrent stop): wait for paho's thread to end.
            await asyncio.gather(*self._tasks, return_exceptions=True)
            return
        self._stopping = True
        if self._connected:
            info = client.publish(self.topics.status, STATUS_OFFLINE, qos=QOS, retain=True)
            if info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                waiter = self._waiter(info.mid)
                try:
                    await asyncio.wait_for(waiter, timeout)
                except TimeoutError:
                    _LOGGER.warning("mqtt: broker did not acknowledge 'offline' within %.1f s", timeout)
        if self._connected:
            client.disconnect()
        # Not connected: paho logs an error for disconnect(); loop_stop alone ends its thread.
        await stop_network_thread(client)
        self._connected = False
        self._connected_event.clear()
        _LOGGER.info("mqtt: disconnected from %s", self._where)

    async def __aenter__(self) -> MqttLink:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def wait_connected(self, timeout: float) -> None:
        """Wait until connected and subscribed to `cmd`.

        Raises the fatal error if the broker refused us, MqttError on timeout."""
        fatal = self._require_started()
        if self._connected_event.is_set():
            return
        waiter = cast("asyncio.Future[object]", asyncio.ensure_future(self._connected_event.wait()))
        try:
            either: list[asyncio.Future[object]] = [waiter, cast("asyncio.Future[object]", fatal)]
            await asyncio.wait(either, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if fatal.done():
            raise fatal.result()
        if not self._connected_event.is_set():
            raise MqttError(f"no connection to the MQTT broker {self._where} within {timeout:g} s")

    async def wait_fatal(self) -> MqttError:
        """Return (never raise) the error after which the link stopped retrying."""
        return await asyncio.shield(self._require_started())

    @property
    def connected(self) -> bool:
        return self._connected

    def commands(self) -> AsyncGenerator[CommandRequest, None]:
        """Commands from the phone that passed the checks on arrival, in order; `stamp` each."""
        return self._intake.requests()

    def get_command_nowait(self) -> CommandRequest | None:
        return self._intake.get_nowait()

    def stamp(self, request: CommandRequest, now: float) -> Command | None:
        """The command taking effect at data time `now` (when the service takes it), or None when it
        is too old by then or its pause no longer fits (logged and counted as rejected)."""
        return self._intake.stamp(request, now)

    @property
    def data_time(self) -> float:
        """The data time the service last handed over (the wall clock until it has)."""
        return self._data_time if self._data_time is not None else time.time()

    def advance(self, now: float) -> None:
        """The data time the service has reached: stale nudges and deliveries are judged on it."""
        self._data_time = now

    def diagnostics(self) -> dict[str, object]:
        return {
            "broker": self._where,
            "client_id": self.client_id,
            "connected": self._connected,
            "inflight": self._delivery.inflight,
            "commands_waiting": self._intake.waiting,
            "counts": dict(self.counts),
            "rejected_commands": dict(self._intake.rejected),
        }

    @property
    def rejected(self) -> Counter[str]:
        """How many `cmd` messages were ignored, per `RejectReason`."""
        return self._intake.rejected

    # ----------------------------------------------------------------- publishing (event loop thread)

    def publish_nudge(self, payload: NudgePayload, data_ts: float, *, now: float) -> int:
        """Queue a nudge made at data time `data_ts` durably and send it now if connected; its outbox
        id. `now` is the data time the service has reached (see `advance`): a nudge already older
        than `nudge_max_age_min` then is recorded as expired and never shown."""
        self.advance(now)
        return self._enqueue(self.topics.nudge, encode(payload), False, OutboxKind.NUDGE, data_ts)

    def publish_event(self, payload: EventPayload, data_ts: float) -> int:
        return self._enqueue(self.topics.event, encode(payload), False, OutboxKind.EVENT, data_ts)

    def publish_report(self, payload: DailyReportPayload, data_ts: float) -> int:
        return self._enqueue(self.topics.report_daily, encode(payload), True, OutboxKind.REPORT, data_ts)

    def publish_state(self, payload: StatePayload) -> None:
        """Retained latest state. Not queued: only the newest matters, and it is re-sent on reconnect."""
        self._last_state = encode(payload)
        if self._connected and self._paho is not None:
            self._paho.publish(
                self.topics.state, self._last_state, qos=QOS, retain=True, properties=json_properties()
            )

    @contextlib.contextmanager
    def sends_after(self) -> Iterator[None]:
        """Messages queued inside go to the broker when the block ends normally, i.e. after the
        caller's transaction that stored them in the outbox committed; when it ends with an exception
        (the transaction rolled back) they are forgotten, never sent under an id the outbox does not
        hold. Wrap it around `store.atomic()`, not inside."""
        outer = self._delivery.hold()
        try:
            yield
        except BaseException:
            self._delivery.discard(outer)
            raise
        self._delivery.release(self._paho if self._connected else None, outer, self.data_time)

    def _enqueue(self, topic: str, data: bytes, retain: bool, kind: OutboxKind, data_ts: float) -> int:
        client = self._paho if self._connected else None
        return self._delivery.enqueue(
            client, topic, data, retain=retain, kind=kind, data_ts=data_ts, now=self.data_time
        )

    def _publish_discovery(self) -> None:
        assert self._paho is not None
        for msg in discovery_messages(self.topics, self._device):
            self._paho.publish(msg.topic, msg.payload, qos=QOS, retain=True)
        self.counts["discovery_published"] += 1

    def _waiter(self, mid: int) -> asyncio.Future[None]:
        assert self._loop is not None
        fut: asyncio.Future[None] = self._loop.create_future()
        self._ack_waiters[mid] = fut
        return fut

    def _require_started(self) -> asyncio.Future[MqttError]:
        if self._fatal is None:
            raise RuntimeError("MqttLink.start() has not been called")
        return self._fatal

    # ----------------------------------------------------------------- paho's thread: hand over only

    def _post(self, handler: Callable[..., None], *args: object) -> None:
        loop = self._loop
        if loop is None:
            return
        # RuntimeError: the loop closed under a late callback at shutdown; nobody is left to inform.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(handler, *args)

    def _on_connect(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self._post(self._handle_refused, reason_code.value, reason_code.getName())
            return
        # Called before paho re-sends its own queue: drop it, the outbox re-sends what was not acked.
        dropped = [m.mid for m in client.drop_out_messages()]
        self._post(self._handle_connected, flags.session_present, dropped)

    def _on_connect_fail(self, client: paho.Client, userdata: object) -> None:
        # paho calls this inside its `except OSError` around connect, so the cause is still in flight.
        err = sys.exc_info()[1]
        self._post(
            self._handle_connect_fail,
            repr(err) if err else "unknown error",
            err.verify_message if isinstance(err, ssl.SSLCertVerificationError) else None,
        )

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._post(self._handle_disconnected, reason_code.value, reason_code.getName())

    def _on_publish(
        self, client: paho.Client, userdata: object, mid: int, reason_code: ReasonCode, properties: Properties
    ) -> None:
        self._post(self._handle_puback, mid, reason_code.value, reason_code.getName(), reason_code.is_failure)

    def _on_message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        self._post(self._handle_message, message.topic, bytes(message.payload), bool(message.retain))

    def _on_subscribe(
        self,
        client: paho.Client,
        userdata: object,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        failed = [(rc.value, rc.getName()) for rc in reason_codes if rc.is_failure]
        self._post(self._handle_suback, mid, failed)

    # ----------------------------------------------------------------- handlers (event loop thread)

    def _handle_connected(self, session_present: bool, dropped_mids: list[int]) -> None:
        self._delivery.forget(dropped_mids)
        if self._stopping or self._paho is None:
            return
        self._connected = True
        self.counts["connects"] += 1
        _LOGGER.info("mqtt: connected to %s (session present: %s)", self._where, session_present)
        client = self._paho
        client.publish(self.topics.status, STATUS_ONLINE, qos=QOS, retain=True)
        # Subscribing again is harmless with a present session and needed without one.
        # wait_connected() returns on this SUBACK: from then on no command from the phone is missed.
        _, self._cmd_sub_mid = client.subscribe(self.topics.cmd, qos=QOS)
        if self.settings.discovery:
            client.subscribe(self.topics.ha_status, qos=QOS)
            self._publish_discovery()
        if self._last_state is not None:
            client.publish(
                self.topics.state, self._last_state, qos=QOS, retain=True, properties=json_properties()
            )
        self._delivery.flush(client, self.data_time)

    def _handle_disconnected(self, code: int, reason: str) -> None:
        was_connected = self._connected
        self._connected = False
        self._connected_event.clear()
        if self._stopping:
            return
        if was_connected:
            self.counts["disconnects"] += 1
            _LOGGER.warning(
                "mqtt: lost the broker %s ([code:%d] %s); reconnecting, backoff up to %d s",
                self._where,
                code,
                reason,
                self.settings.reconnect_max_s,
            )

    def _handle_refused(self, code: int, reason: str) -> None:
        advice = FATAL_CONNACK_CODES.get(code)
        if advice is None:
            self._warnings.log(
                "refused",
                "mqtt: broker %s refused the connection ([code:%d] %s); retrying",
                self._where,
                code,
                reason,
            )
            return
        who = self.settings.username or "anonymous"
        self._fail(MqttConnectError(code, reason, f"broker {self._where} refused {who}: {advice}"))

    def _handle_connect_fail(self, error: str, verify_message: str | None) -> None:
        if self._stopping:
            return
        if verify_message is not None:
            where = self.settings.ca_file or "the system trust store"
            self._fail(
                MqttTlsError(
                    f"TLS: the certificate of broker {self._where} is not accepted ({verify_message}); "
                    f"check mqtt.ca_file ({where}) and that mqtt.host matches the certificate's name"
                )
            )
            return
        self._warnings.log(
            "connect",
            "mqtt: cannot reach the broker %s (%s); retrying, backoff up to %d s",
            self._where,
            error,
            self.settings.reconnect_max_s,
        )

    def _handle_suback(self, mid: int, failed: list[tuple[int, str]]) -> None:
        if mid == self._cmd_sub_mid and self._connected:
            self._connected_event.set()
        for code, reason in failed:
            _LOGGER.error(
                "mqtt: broker refused the subscription to %s ([code:%d] %s): commands from the "
                "phone will not arrive; check the broker's ACL",
                self.topics.cmd,
                code,
                reason,
            )

    def _fail(self, err: MqttError) -> None:
        fatal = self._require_started()
        if fatal.done():
            return
        _LOGGER.error("mqtt: %s; giving up on the broker", err)
        fatal.set_result(err)
        self._stopping = True
        client = self._paho
        if client is not None:
            task = asyncio.get_running_loop().create_task(stop_network_thread(client))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _handle_puback(self, mid: int, code: int, reason: str, failure: bool) -> None:
        waiter = self._ack_waiters.pop(mid, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self._delivery.acknowledged(mid, code, reason, failure, now=self.data_time)

    def _handle_message(self, topic: str, payload: bytes, retained: bool) -> None:
        if topic == self.topics.cmd:
            self._intake.arrived(payload, retained)
        elif topic == self.topics.ha_status and self._ha_came_online(payload):
            _LOGGER.info("mqtt: Home Assistant is online; re-publishing discovery")
            self._publish_discovery()

    def _ha_came_online(self, payload: bytes) -> bool:
        return payload.strip() == STATUS_ONLINE.encode() and self.settings.discovery and self._connected
