"""The store's outbox keeps the `monitor.mqtt.outbox.Outbox` contract, across reopen."""

from __future__ import annotations

from pathlib import Path

from monitor.core.outbox import OutboxKind, OutboxStatus
from monitor.mqtt.outbox import Outbox
from monitor.store import Store

T0 = 1_700_000_000.0


def test_queue_order_sent_and_expiry(store: Store) -> None:
    outbox: Outbox = store.outbox  # structural check by mypy: the same Protocol
    n1 = outbox.enqueue("sitbreak/w1/nudge", b'{"id":"n1"}', 1, False, OutboxKind.NUDGE, T0)
    e1 = outbox.enqueue("sitbreak/w1/event", b"{}", 1, False, OutboxKind.EVENT, T0 + 1)
    r1 = outbox.enqueue("sitbreak/w1/report/daily", b"{}", 1, True, OutboxKind.REPORT, T0 + 2)
    n2 = outbox.enqueue("sitbreak/w1/nudge", b'{"id":"n2"}', 1, False, OutboxKind.NUDGE, T0 + 3000)
    assert [e.id for e in outbox.pending()] == [n1, e1, r1, n2]
    report = outbox.pending()[2]
    assert (report.topic, report.payload, report.qos, report.retain, report.kind) == (
        "sitbreak/w1/report/daily",
        b"{}",
        1,
        True,
        OutboxKind.REPORT,
    )

    outbox.mark_sent(e1, T0 + 5)
    outbox.mark_sent(e1, T0 + 6)  # a second PUBACK is harmless
    outbox.mark_sent(9999, T0 + 6)  # unknown ids are ignored
    stale = outbox.expire(OutboxKind.NUDGE, created_before=T0 + 2000, now_ts=T0 + 3600)
    assert [e.id for e in stale] == [n1]
    assert outbox.expire(OutboxKind.NUDGE, created_before=T0 + 2000, now_ts=T0 + 3601) == []
    assert [e.id for e in outbox.pending()] == [r1, n2]
    assert store.outbox.status(n1) is OutboxStatus.EXPIRED
    assert store.outbox.status(e1) is OutboxStatus.SENT
    assert store.outbox.status(r1) is OutboxStatus.PENDING
    assert store.outbox.status(4242) is None
    assert store.outbox.counts() == {OutboxStatus.PENDING: 2, OutboxStatus.SENT: 1, OutboxStatus.EXPIRED: 1}


def test_reports_and_events_are_never_expired_by_age(store: Store) -> None:
    store.outbox.enqueue("t/e", b"e", 1, False, OutboxKind.EVENT, T0)
    store.outbox.enqueue("t/r", b"r", 1, True, OutboxKind.REPORT, T0)
    assert store.outbox.expire(OutboxKind.NUDGE, T0 + 10**6, T0 + 10**6) == []
    assert len(store.outbox.pending()) == 2


def test_pending_survives_reopen_and_purge_keeps_pending(db_path: Path) -> None:
    with Store.open(db_path) as store:
        a = store.outbox.enqueue("t/a", b"a", 1, False, OutboxKind.EVENT, T0)
        b = store.outbox.enqueue("t/b", b"b", 1, False, OutboxKind.EVENT, T0)
        store.outbox.mark_sent(a, T0 + 1)
    with Store.open(db_path) as store:
        assert [e.id for e in store.outbox.pending()] == [b]
        assert store.outbox.purge(done_before=T0 + 2) == 1
        assert store.outbox.purge(done_before=T0 + 10**9) == 0
        assert store.outbox.status(b) is OutboxStatus.PENDING
        c = store.outbox.enqueue("t/c", b"c", 1, False, OutboxKind.EVENT, T0)
        assert c > b, "AUTOINCREMENT never reuses an id"
