"""The outbox (the store's `mqtt_outbox` table) against the Outbox Protocol, on a real file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from monitor.core.outbox import OutboxKind, OutboxStatus
from monitor.mqtt.outbox import Outbox
from tests.mqtt.helpers import FileOutbox


def test_entries_survive_reopen_in_order(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    box = FileOutbox(path)
    a = box.enqueue("t/nudge", b'{"id":"a"}', 1, False, OutboxKind.NUDGE, 100.0)
    b = box.enqueue("t/report/daily", b"{}", 1, True, OutboxKind.REPORT, 200.0)
    box.close()

    reopened = FileOutbox(path)
    pending = reopened.pending()
    assert [e.id for e in pending] == [a, b]
    assert pending[0].payload == b'{"id":"a"}' and pending[0].kind is OutboxKind.NUDGE
    assert pending[1].retain is True and pending[1].created_ts == 200.0
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_mark_sent_removes_from_pending_and_ignores_unknown_ids(tmp_path: Path) -> None:
    box = FileOutbox(tmp_path / "o.db")
    a = box.enqueue("t/event", b"1", 1, False, OutboxKind.EVENT, 1.0)
    b = box.enqueue("t/event", b"2", 1, False, OutboxKind.EVENT, 2.0)
    box.mark_sent(a, 5.0)
    box.mark_sent(9999, 5.0)
    assert [e.id for e in box.pending()] == [b]
    assert box.status(a) is OutboxStatus.SENT
    assert box.counts() == {OutboxStatus.PENDING: 1, OutboxStatus.SENT: 1, OutboxStatus.EXPIRED: 0}


def test_expire_only_touches_the_given_kind_and_age(tmp_path: Path) -> None:
    box = FileOutbox(tmp_path / "o.db")
    old_nudge = box.enqueue("t/nudge", b"old", 1, False, OutboxKind.NUDGE, 100.0)
    new_nudge = box.enqueue("t/nudge", b"new", 1, False, OutboxKind.NUDGE, 1000.0)
    old_event = box.enqueue("t/event", b"ev", 1, False, OutboxKind.EVENT, 50.0)
    expired = box.expire(OutboxKind.NUDGE, created_before=500.0, now_ts=1100.0)
    assert [e.id for e in expired] == [old_nudge]
    assert box.status(old_nudge) is OutboxStatus.EXPIRED
    assert [e.id for e in box.pending()] == [new_nudge, old_event]
    # An expired entry acknowledged late stays expired: the record says it was not delivered in time.
    box.mark_sent(old_nudge, 1200.0)
    assert box.status(old_nudge) is OutboxStatus.EXPIRED


def test_purge_keeps_pending(tmp_path: Path) -> None:
    box = FileOutbox(tmp_path / "o.db")
    a = box.enqueue("t/event", b"1", 1, False, OutboxKind.EVENT, 1.0)
    b = box.enqueue("t/event", b"2", 1, False, OutboxKind.EVENT, 2.0)
    box.mark_sent(a, 10.0)
    assert box.purge(done_before=20.0) == 1
    assert box.status(a) is None
    assert [e.id for e in box.pending()] == [b]


def test_sqlite_outbox_satisfies_the_protocol(tmp_path: Path) -> None:
    box: Outbox = FileOutbox(tmp_path / "o.db")
    assert box.pending() == []
