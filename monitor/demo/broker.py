"""A small embedded MQTT broker so that `sitbreak demo` runs where no broker is installed.

The demo prefers the machine's Mosquitto (`monitor.demo.mosquitto`) and starts this one only when
there is none. It is kept because the demo must work with no broker installed and no maintained
MQTT 5 broker installs from PyPI (amqtt 0.12 speaks only MQTT 3.1.1, and the service uses MQTT 5);
once one does, it can replace this module.

It is not a production broker: it binds to loopback only, keeps everything in memory and has no
authentication. It speaks MQTT 3.1.1 and 5.0 well enough for the service and any ordinary client
(mosquitto_sub, MQTT Explorer, Home Assistant) to use it during the demo: QoS 0 and 1 (QoS 2 is
accepted and delivered as QoS 1), retained messages, `+`/`#` wildcards (not matching `$` topics at the
first level), last will on an unclean disconnect, keep-alive timeouts and persistent sessions that
queue QoS 1 messages while the client is away. Production uses Mosquitto (see config/mosquitto.conf).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import struct
from collections import deque
from dataclasses import dataclass, field
from enum import IntEnum

_LOGGER = logging.getLogger(__name__)

# A session keeps at most this many QoS 1 messages for an absent client; a demo never needs more.
MAX_QUEUED_PER_SESSION = 1000
# Packets larger than this are a protocol error here; sitbreak's largest (a report) is a few KiB.
MAX_PACKET_BYTES = 256 * 1024
# MQTT 3.1.1 §3.1.2.10: the server disconnects after one and a half keep-alive periods of silence.
KEEPALIVE_GRACE = 1.5


class PacketType(IntEnum):
    CONNECT = 1
    CONNACK = 2
    PUBLISH = 3
    PUBACK = 4
    PUBREC = 5
    PUBREL = 6
    PUBCOMP = 7
    SUBSCRIBE = 8
    SUBACK = 9
    UNSUBSCRIBE = 10
    UNSUBACK = 11
    PINGREQ = 12
    PINGRESP = 13
    DISCONNECT = 14
    AUTH = 15


class ProtocolError(Exception):
    """The peer sent something this broker cannot accept; the connection is closed."""


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    qos: int
    retain: bool


@dataclass(slots=True)
class Session:
    client_id: str
    persistent: bool
    subscriptions: dict[str, int] = field(default_factory=dict)
    queued: deque[Message] = field(default_factory=lambda: deque(maxlen=MAX_QUEUED_PER_SESSION))
    connection: _Connection | None = None


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT topic matching with `+` and `#`; wildcards at the first level never match `$` topics."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    f_parts = topic_filter.split("/")
    t_parts = topic.split("/")
    for i, part in enumerate(f_parts):
        if part == "#":
            return True
        if i >= len(t_parts):
            return False
        if part not in ("+", t_parts[i]):
            return False
    return len(f_parts) == len(t_parts)


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value % 128, value // 128
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _encode_str(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("!H", len(raw)) + raw


def _packet(ptype: PacketType, flags: int, body: bytes) -> bytes:
    return bytes([(ptype << 4) | flags]) + _encode_varint(len(body)) + body


class _Reader:
    """Cursor over one packet body."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def u8(self) -> int:
        if self.pos >= len(self.data):
            raise ProtocolError("packet truncated")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def u16(self) -> int:
        if self.pos + 2 > len(self.data):
            raise ProtocolError("packet truncated")
        (value,) = struct.unpack_from("!H", self.data, self.pos)
        self.pos += 2
        return int(value)

    def varint(self) -> int:
        value, shift = 0, 0
        for _ in range(4):
            byte = self.u8()
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
        raise ProtocolError("malformed variable byte integer")

    def binary(self) -> bytes:
        length = self.u16()
        if self.pos + length > len(self.data):
            raise ProtocolError("packet truncated")
        value = self.data[self.pos : self.pos + length]
        self.pos += length
        return value

    def text(self) -> str:
        try:
            return self.binary().decode()
        except UnicodeDecodeError as exc:
            raise ProtocolError("string is not UTF-8") from exc

    def skip_properties(self) -> None:
        length = self.varint()
        if self.pos + length > len(self.data):
            raise ProtocolError("properties truncated")
        self.pos += length

    def rest(self) -> bytes:
        value = self.data[self.pos :]
        self.pos = len(self.data)
        return value


class _Connection:
    def __init__(self, broker: EmbeddedBroker, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.broker = broker
        self.reader = reader
        self.writer = writer
        self.version = 4
        self.client_id = ""
        self.keepalive = 0
        self.will: Message | None = None
        self.session: Session | None = None
        self._mids = itertools.cycle(range(1, 65536))

    @property
    def v5(self) -> bool:
        return self.version == 5

    async def read_packet(self) -> tuple[int, int, bytes]:
        header = await self.reader.readexactly(1)
        length, shift = 0, 0
        for _ in range(4):
            byte = (await self.reader.readexactly(1))[0]
            length |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
            shift += 7
        else:
            raise ProtocolError("malformed remaining length")
        if length > MAX_PACKET_BYTES:
            raise ProtocolError(f"packet of {length} bytes exceeds {MAX_PACKET_BYTES}")
        body = await self.reader.readexactly(length)
        return header[0] >> 4, header[0] & 0x0F, body

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    def deliver(self, message: Message, qos: int) -> None:
        qos = min(qos, message.qos, 1)
        body = _encode_str(message.topic)
        if qos:
            body += struct.pack("!H", next(self._mids))
        if self.v5:
            body += b"\x00"
        flags = (qos << 1) | (1 if message.retain else 0)
        self.send(_packet(PacketType.PUBLISH, flags, body + message.payload))

    async def serve(self) -> None:
        clean = False
        try:
            ptype, _, body = await asyncio.wait_for(self.read_packet(), timeout=10)
            if ptype != PacketType.CONNECT:
                raise ProtocolError("first packet is not CONNECT")
            self._connect(_Reader(body))
            while True:
                timeout = self.keepalive * KEEPALIVE_GRACE if self.keepalive else None
                ptype, flags, body = await asyncio.wait_for(self.read_packet(), timeout=timeout)
                if ptype == PacketType.DISCONNECT:
                    reader = _Reader(body)
                    # MQTT 5 reason 0x04 "disconnect with will message" keeps the will.
                    clean = not (self.v5 and body and reader.u8() == 0x04)
                    return
                self._dispatch(ptype, flags, _Reader(body))
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        except ProtocolError as exc:
            _LOGGER.warning("embedded broker: client %r: %s; closing", self.client_id, exc)
        finally:
            if not clean and self.will is not None:
                self.broker.publish(self.will)
            self.broker.detach(self)
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()

    def _connect(self, r: _Reader) -> None:
        if r.text() not in ("MQTT", "MQIsdp"):
            raise ProtocolError("unknown protocol name")
        self.version = r.u8()
        if self.version not in (3, 4, 5):
            self.send(_packet(PacketType.CONNACK, 0, b"\x00\x01"))
            raise ProtocolError(f"unsupported protocol level {self.version}")
        flags = r.u8()
        self.keepalive = r.u16()
        if self.v5:
            r.skip_properties()
        self.client_id = r.text() or f"auto-{id(self):x}"
        if flags & 0x04:
            if self.v5:
                r.skip_properties()
            topic = r.text()
            payload = r.binary()
            self.will = Message(topic, payload, (flags >> 3) & 0x03, bool(flags & 0x20))
        clean_start = bool(flags & 0x02)
        # Username and password are accepted and ignored: the demo broker is loopback-only.
        present = self.broker.attach(self, clean_start)
        ack = bytes([1 if present else 0, 0])
        if self.v5:
            ack += b"\x00"
        self.send(_packet(PacketType.CONNACK, 0, ack))
        assert self.session is not None
        while self.session.queued:
            message = self.session.queued.popleft()
            self.deliver(message, message.qos)

    def _dispatch(self, ptype: int, flags: int, r: _Reader) -> None:
        if ptype == PacketType.PUBLISH:
            self._publish(flags, r)
        elif ptype == PacketType.PUBREL:
            mid = r.u16()
            self.send(_packet(PacketType.PUBCOMP, 0, struct.pack("!H", mid)))
        elif ptype in (PacketType.PUBACK, PacketType.PUBREC, PacketType.PUBCOMP):
            if ptype == PacketType.PUBREC:
                self.send(_packet(PacketType.PUBREL, 2, struct.pack("!H", r.u16())))
        elif ptype == PacketType.SUBSCRIBE:
            self._subscribe(r)
        elif ptype == PacketType.UNSUBSCRIBE:
            self._unsubscribe(r)
        elif ptype == PacketType.PINGREQ:
            self.send(_packet(PacketType.PINGRESP, 0, b""))
        else:
            raise ProtocolError(f"unexpected packet type {ptype}")

    def _publish(self, flags: int, r: _Reader) -> None:
        qos = (flags >> 1) & 0x03
        if qos == 3:
            raise ProtocolError("PUBLISH with QoS 3")
        topic = r.text()
        if not topic or "+" in topic or "#" in topic:
            raise ProtocolError(f"invalid topic name {topic!r}")
        mid = r.u16() if qos else 0
        if self.v5:
            r.skip_properties()
        self.broker.publish(Message(topic, r.rest(), qos, bool(flags & 0x01)))
        if qos == 1:
            self.send(_packet(PacketType.PUBACK, 0, struct.pack("!H", mid)))
        elif qos == 2:
            self.send(_packet(PacketType.PUBREC, 0, struct.pack("!H", mid)))

    def _subscribe(self, r: _Reader) -> None:
        mid = r.u16()
        if self.v5:
            r.skip_properties()
        granted = bytearray()
        filters: list[tuple[str, int]] = []
        while r.pos < len(r.data):
            topic_filter = r.text()
            qos = min(r.u8() & 0x03, 1)
            filters.append((topic_filter, qos))
            granted.append(qos)
        if not filters:
            raise ProtocolError("SUBSCRIBE without topic filters")
        body = struct.pack("!H", mid) + (b"\x00" if self.v5 else b"") + bytes(granted)
        self.send(_packet(PacketType.SUBACK, 0, body))
        assert self.session is not None
        for topic_filter, qos in filters:
            self.session.subscriptions[topic_filter] = qos
            for message in self.broker.retained_for(topic_filter):
                self.deliver(message, qos)

    def _unsubscribe(self, r: _Reader) -> None:
        mid = r.u16()
        if self.v5:
            r.skip_properties()
        assert self.session is not None
        codes = bytearray()
        while r.pos < len(r.data):
            existed = self.session.subscriptions.pop(r.text(), None) is not None
            codes.append(0x00 if existed else 0x11)
        body = struct.pack("!H", mid) + ((b"\x00" + bytes(codes)) if self.v5 else b"")
        self.send(_packet(PacketType.UNSUBACK, 0, body))


class EmbeddedBroker:
    """In-memory MQTT broker on 127.0.0.1; `async with EmbeddedBroker() as broker: broker.port`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._sessions: dict[str, Session] = {}
        self._retained: dict[str, Message] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_client, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        _LOGGER.info("embedded MQTT broker listening on %s:%d (demo only, no auth)", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for session in self._sessions.values():
                if session.connection is not None:
                    session.connection.writer.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await _Connection(self, reader, writer).serve()
        except asyncio.CancelledError:
            # Cancelled by stop(); asyncio's stream callback would log a cancelled task as an error.
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)

    def attach(self, conn: _Connection, clean_start: bool) -> bool:
        """Bind a connection to its session; returns whether an earlier session was resumed."""
        session = self._sessions.get(conn.client_id)
        if session is not None and session.connection is not None:
            # MQTT: a second connection with the same client id takes over; the old one goes.
            session.connection.will = None
            session.connection.writer.close()
        resumed = session is not None and session.persistent and not clean_start
        if not resumed or session is None:
            session = Session(conn.client_id, persistent=not clean_start)
            self._sessions[conn.client_id] = session
        session.connection = conn
        conn.session = session
        return resumed

    def detach(self, conn: _Connection) -> None:
        session = conn.session
        if session is None or session.connection is not conn:
            return
        session.connection = None
        if not session.persistent:
            del self._sessions[session.client_id]

    def retained_for(self, topic_filter: str) -> list[Message]:
        return [m for t, m in self._retained.items() if topic_matches(topic_filter, t)]

    def publish(self, message: Message) -> None:
        if message.retain:
            if message.payload:
                self._retained[message.topic] = message
            else:
                self._retained.pop(message.topic, None)
        # Retain is only set on delivery of stored messages to new subscriptions (MQTT 3.3.1.3).
        live = Message(message.topic, message.payload, message.qos, retain=False)
        for session in self._sessions.values():
            qos = max(
                (q for f, q in session.subscriptions.items() if topic_matches(f, message.topic)),
                default=None,
            )
            if qos is None:
                continue
            if session.connection is not None:
                session.connection.deliver(live, qos)
            elif min(qos, message.qos) >= 1:
                session.queued.append(live)
