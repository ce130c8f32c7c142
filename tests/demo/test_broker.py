"""The demo's embedded broker, exercised by the real paho-mqtt client (both protocol versions)."""

from __future__ import annotations

import asyncio
import queue
import socket
import threading
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from monitor.demo.broker import EmbeddedBroker, topic_matches

PROTOCOLS = [mqtt.MQTTv311, mqtt.MQTTv5]


class BrokerThread:
    """Runs the broker on its own event loop so synchronous paho clients can talk to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.broker = EmbeddedBroker()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> BrokerThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.broker.start(), self.loop).result(5)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.broker.stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    with BrokerThread() as bt:
        yield bt.broker


def client(
    broker: EmbeddedBroker, protocol: int, client_id: str = "", clean: bool = True
) -> tuple[mqtt.Client, queue.Queue[mqtt.MQTTMessage]]:
    inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    kwargs: dict[str, object] = {"client_id": client_id, "protocol": protocol}
    if protocol == mqtt.MQTTv311:
        kwargs["clean_session"] = clean
    c = mqtt.Client(CallbackAPIVersion.VERSION2, **kwargs)  # type: ignore[arg-type]
    c.on_message = lambda _c, _u, msg: inbox.put(msg)
    return c, inbox


def connect(c: mqtt.Client, broker: EmbeddedBroker, protocol: int, clean: bool = True) -> None:
    connected = threading.Event()
    c.on_connect = lambda *_a: connected.set()
    if protocol == mqtt.MQTTv5:
        c.connect("127.0.0.1", broker.port, keepalive=10, clean_start=clean)
    else:
        c.connect("127.0.0.1", broker.port, keepalive=10)
    c.loop_start()
    assert connected.wait(5), "no CONNACK from the embedded broker"


def subscribe(c: mqtt.Client, topic: str, qos: int = 1) -> None:
    done = threading.Event()
    c.on_subscribe = lambda *_a: done.set()
    c.subscribe(topic, qos)
    assert done.wait(5), "no SUBACK"


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("a/+/c", "a/b/c", True),
        ("a/+/c", "a/b/d", False),
        ("a/#", "a", True),
        ("a/#", "a/b/c", True),
        ("#", "$SYS/x", False),
        ("+/x", "$SYS/x", False),
        ("a/b", "a/b/c", False),
    ],
)
def test_topic_matching(topic_filter: str, topic: str, expected: bool) -> None:
    assert topic_matches(topic_filter, topic) is expected


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_publish_subscribe_and_retained(broker: EmbeddedBroker, protocol: int) -> None:
    pub, _ = client(broker, protocol)
    connect(pub, broker, protocol)
    pub.publish("sitbreak/w1/status", b"online", qos=1, retain=True).wait_for_publish(5)

    sub, inbox = client(broker, protocol)
    connect(sub, broker, protocol)
    subscribe(sub, "sitbreak/+/#")
    retained = inbox.get(timeout=5)
    assert (retained.topic, retained.payload, retained.retain) == ("sitbreak/w1/status", b"online", True)

    pub.publish("sitbreak/w1/nudge", b'{"id":"n1"}', qos=1).wait_for_publish(5)
    live = inbox.get(timeout=5)
    assert (live.topic, live.payload, live.retain, live.qos) == (
        "sitbreak/w1/nudge",
        b'{"id":"n1"}',
        False,
        1,
    )
    for c in (pub, sub):
        c.disconnect()
        c.loop_stop()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_last_will_on_unclean_disconnect(broker: EmbeddedBroker, protocol: int) -> None:
    watcher, inbox = client(broker, protocol)
    connect(watcher, broker, protocol)
    subscribe(watcher, "sitbreak/w1/status")

    # A raw socket that sends CONNECT with a will and then vanishes without DISCONNECT.
    will_topic, will_payload = b"sitbreak/w1/status", b"offline"
    body = b"\x00\x04MQTT\x04" + bytes([0x02 | 0x04 | 0x08 | 0x20]) + b"\x00\x3c"
    body += b"\x00\x04dead" + len(will_topic).to_bytes(2, "big") + will_topic
    body += len(will_payload).to_bytes(2, "big") + will_payload
    sock = socket.create_connection(("127.0.0.1", broker.port))
    sock.sendall(bytes([0x10, len(body)]) + body)
    assert sock.recv(4)[:1] == b"\x20"
    sock.close()

    msg = inbox.get(timeout=5)
    assert (msg.topic, msg.payload) == ("sitbreak/w1/status", b"offline")
    watcher.disconnect()
    watcher.loop_stop()


def test_persistent_session_queues_while_away(broker: EmbeddedBroker) -> None:
    protocol = mqtt.MQTTv311
    service, inbox = client(broker, protocol, client_id="svc", clean=False)
    connect(service, broker, protocol)
    subscribe(service, "sitbreak/w1/cmd")
    service.disconnect()
    service.loop_stop()

    phone, _ = client(broker, protocol)
    connect(phone, broker, protocol)
    phone.publish("sitbreak/w1/cmd", b'{"action":"ack"}', qos=1).wait_for_publish(5)

    service2, inbox2 = client(broker, protocol, client_id="svc", clean=False)
    connect(service2, broker, protocol)
    msg = inbox2.get(timeout=5)
    assert msg.payload == b'{"action":"ack"}'
    assert inbox.empty()
    for c in (phone, service2):
        c.disconnect()
        c.loop_stop()


def test_malformed_packet_closes_only_that_connection(broker: EmbeddedBroker) -> None:
    sock = socket.create_connection(("127.0.0.1", broker.port))
    sock.sendall(b"\x10\x02\x00\x05")  # CONNECT whose protocol name runs past the packet
    sock.settimeout(5)
    assert sock.recv(16) == b""  # closed by the broker
    sock.close()

    c, inbox = client(broker, mqtt.MQTTv311)
    connect(c, broker, mqtt.MQTTv311)
    subscribe(c, "t")
    c.publish("t", b"still alive", qos=1).wait_for_publish(5)
    assert inbox.get(timeout=5).payload == b"still alive"
    c.disconnect()
    c.loop_stop()
