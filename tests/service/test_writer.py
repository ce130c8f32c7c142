"""The service's writes through a storage fault, on a real filesystem that fills up (a small tmpfs).

The daemon-level test (the service streaming on, STATUS, the phone) is in test_never_half_alive.py;
here the writer and the outbox on their own: order, the bound, messages from memory, recovery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from monitor.core.links import LinkEventKind
from monitor.core.outbox import OutboxKind, OutboxStatus
from monitor.core.types import EpochBlock, PostureCode
from monitor.service.outbox import ResilientOutbox
from monitor.service.writer import GAP_DETAIL, StoreWriter, WriteUnit
from monitor.store import SavedPolicy, Store
from tests.diskfull import SmallDisk, small_disk

W = "w1"
T0 = 1_764_000_000


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    with small_disk(tmp_path / "disk", 4096) as d:
        yield d


@pytest.fixture
def store(disk: SmallDisk) -> Iterator[Store]:
    with Store.open(disk.path / "state" / "sitbreak.db") as s:
        yield s


def block(i: int, label: PostureCode = PostureCode.SIT) -> EpochBlock:
    """The i-th minute of data."""
    return EpochBlock(float(T0 + 60 * i), np.full(60, int(label), dtype=np.uint8))


def unit(epochs: EpochBlock, publish: Callable[[], object] | None = None) -> WriteUnit:
    def write(store: Store) -> None:
        store.epochs.write_block(W, epochs)

    return WriteUnit("a pipeline pass", write, publish, span=(epochs.t0, epochs.t_end))


def message(outbox: ResilientOutbox, sent: list[int], t: float) -> Callable[[], None]:
    """What the MQTT link does with a decision's message: into the outbox."""

    def publish() -> None:
        sent.append(outbox.enqueue(f"sitbreak/{W}/event", b"{}", 1, False, OutboxKind.EVENT, t))

    return publish


def test_a_full_disk_keeps_the_data_in_order_sends_messages_from_memory_and_writes_it_all_later(
    disk: SmallDisk, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = ResilientOutbox(store.outbox)
    problems: list[str | None] = []
    writer = StoreWriter(W, store, outbox, on_problem=problems.append)
    sent: list[int] = []
    assert writer.submit(unit(block(0), message(outbox, sent, T0)))
    stored_id = sent[0]
    assert stored_id > 0 and outbox.table.status(stored_id) is OutboxStatus.PENDING

    disk.fill()
    caplog.set_level(logging.WARNING, logger="monitor.service.writer")
    for i in range(1, 6):
        assert not writer.submit(unit(block(i, PostureCode.STAND), message(outbox, sent, T0 + 60 * i)))
    assert problems == ["the disk is full"]
    assert writer.problem == "the disk is full" and writer.waiting_s == 300 and writer.waiting == 5
    assert "cannot write to the database (the disk is full" in caplog.text
    # The messages went out at once, from memory (negative ids), and are pending there. (The first
    # was queued in the transaction that failed too; the MQTT link forgets those, see sends_after.)
    memory = [i for i in sent if i < 0]
    assert len(memory) == 5 and outbox.in_memory_count == 5
    assert [e.id for e in outbox.pending()] == [stored_id, *memory]
    # The broker acknowledges the stored message: the mark cannot be written, it is remembered.
    outbox.mark_sent(stored_id, T0 + 400)
    outbox.mark_sent(memory[0], T0 + 400)
    assert [e.id for e in outbox.pending()] == memory[1:]
    assert store.epochs.last_end(W) == T0 + 60
    assert writer.status() == "storage: the disk is full, 5 min of data waiting"

    disk.free()
    assert writer.retry()
    assert problems == ["the disk is full", None]
    after = writer.diagnostics()
    assert (after["problem"], after["waiting_units"], after["waiting_s"]) == (None, 0, 0)
    labels = store.epochs.read(W, T0, T0 + 360).labels
    assert labels[:60].tolist() == [PostureCode.SIT] * 60
    assert labels[60:].tolist() == [PostureCode.STAND] * 300
    assert outbox.table.status(stored_id) is OutboxStatus.SENT
    # Delivered from memory: not written to the table afterwards (it is a delivery queue).
    assert outbox.table.counts()[OutboxStatus.PENDING] == 0
    assert [e.id for e in outbox.pending()] == memory[1:]


def test_beyond_the_bound_the_oldest_waiting_data_is_dropped_and_recorded_as_unknown(
    disk: SmallDisk, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    writer = StoreWriter(W, store, ResilientOutbox(store.outbox), wait_max_s=180)
    writer.submit(unit(block(0)))
    disk.fill()
    caplog.set_level(logging.WARNING, logger="monitor.service.writer")
    for i in range(1, 7):
        writer.submit(unit(block(i, PostureCode.STAND)))
    assert writer.waiting_s == 180
    assert writer.counts["dropped_s"] == 180 and writer.counts["dropped_units"] == 3
    assert "more than 0 h of data wait to be written" in caplog.text
    disk.free()
    assert writer.retry()
    labels = store.epochs.read(W, T0, T0 + 420).labels.tolist()
    assert labels == [PostureCode.SIT] * 60 + [PostureCode.UNKNOWN] * 180 + [PostureCode.STAND] * 180
    assert store.epochs.count(W) == 420  # the dropped seconds are stored, as unknown
    gaps = [e for e in store.links.between(W, T0, T0 + 420) if e.kind is LinkEventKind.GAP]
    assert [(g.t, g.seconds, g.detail) for g in gaps] == [(T0 + 60, 180.0, GAP_DETAIL)]


def test_a_record_that_cannot_be_stored_is_dropped_and_the_next_ones_are_written(
    disk: SmallDisk, store: Store
) -> None:
    writer = StoreWriter(W, store, ResilientOutbox(store.outbox))

    def bad(_store: Store) -> None:
        raise ValueError("labels must be 1-D PostureCode values")

    # Written at once: the caller's Isolation gets the error (and counts it).
    with pytest.raises(ValueError, match="1-D"):
        writer.submit(WriteUnit("a bad pass", bad))
    assert writer.problem is None and writer.waiting == 0
    assert writer.submit(unit(block(0)))
    # Waiting behind a storage fault: dropped there, and the ones after it are written.
    disk.fill()
    writer.submit(unit(block(1)))
    writer.submit(WriteUnit("a bad pass", bad))
    writer.submit(unit(block(2)))
    disk.free()
    assert writer.retry()
    assert store.epochs.count(W) == 180 and writer.counts["failed_units"] == 2


def test_only_the_newest_waiting_snapshot_is_kept(disk: SmallDisk, store: Store) -> None:
    writer = StoreWriter(W, store, ResilientOutbox(store.outbox))
    written: list[float] = []

    def snapshot(t: float) -> WriteUnit:
        def write(store: Store) -> None:
            store.snapshots.save(W, SavedPolicy(t, "{}"))
            written.append(t)

        return WriteUnit("the policy snapshot", write, key="snapshot")

    writer.submit(unit(block(0)))
    disk.fill()
    for i in range(1, 6):
        writer.submit(unit(block(i)))
        writer.submit(snapshot(T0 + 60.0 * i))
    assert writer.waiting == 6
    disk.free()
    assert writer.retry()
    assert written == [T0 + 300.0]
