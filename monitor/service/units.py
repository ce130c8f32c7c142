"""The records of each step of the data path as `WriteUnit`s: what one transaction stores.

Each builder takes the values as they are now (a closure over mutable service state would store
what the state became by the time a unit that waited is written).
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.core.links import LinkEvent
from monitor.core.records import DecisionRecords
from monitor.core.types import Bout
from monitor.service.epoch_ledger import PassEpochs
from monitor.service.writer import WriteUnit
from monitor.store import Store
from monitor.store.calibration import Calibration, SavedPolicy

Publish = Callable[[], object] | None


def pipeline_pass(
    wearable: str,
    epochs: PassEpochs,
    bouts: tuple[list[Bout], Bout | None] | None,
    *,
    records: list[DecisionRecords],
    policy: SavedPolicy | None,
    publish: Publish,
) -> WriteUnit:
    """A pipeline pass: its epochs (the provisional ones first, the final ones over them), the bouts
    its final epochs closed and the bout still open (`bouts`, None when it had no final epochs), the
    decisions it caused, the policy's state after it (`policy`: after a crash the sitting timer
    resumes where the stored epochs end), and (`publish`) the decisions' messages into the outbox,
    in the same transaction: a crash cannot keep a decision and lose its message (at worst the
    message goes out twice, with the same id)."""
    blocks = epochs.stored

    def write(store: Store) -> None:
        for block in blocks:
            store.epochs.write_block(wearable, block)
        if bouts is not None:
            closed, open_bout = bouts
            if closed:
                store.bouts.add(wearable, closed)
            store.bouts.set_open(wearable, open_bout)
        for record in records:
            store.record_decision(wearable, record)
        if policy is not None:
            store.snapshots.save(wearable, policy)

    span = epochs.span
    if span is None:  # only seconds stored before (a pass at stop): a data unit of no length
        assert blocks, "a pass with nothing to store is not submitted"
        end = max(b.t_end for b in blocks)
        span = (end, end)
    return WriteUnit("a pipeline pass", write, publish, span=span)


def link_event(wearable: str, event: LinkEvent, publish: Publish) -> WriteUnit:
    def write(store: Store) -> None:
        store.links.add(wearable, event)

    return WriteUnit(f"a {event.kind} link event", write, publish)


def decisions(wearable: str, records: list[DecisionRecords], publish: Publish) -> WriteUnit:
    """Decisions made outside a pipeline pass (a command's)."""

    def write(store: Store) -> None:
        for record in records:
            store.record_decision(wearable, record)

    return WriteUnit("a command's decisions", write, publish)


def snapshot(wearable: str, saved: SavedPolicy, calibration: Calibration | None) -> WriteUnit:
    """The policy's state and the upright reference; only the newest waiting one is kept."""

    def write(store: Store) -> None:
        store.snapshots.save(wearable, saved)
        if calibration is not None:
            store.calibration.save(wearable, calibration)

    return WriteUnit("the policy snapshot", write, key="snapshot")


def prune(now: float) -> WriteUnit:
    def write(store: Store) -> None:
        store.prune(now)

    return WriteUnit("the retention pruning", write, key="prune")


def message(what: str, publish: Callable[[], object]) -> WriteUnit:
    """Only a message (into the outbox; from memory while the store cannot be written)."""
    return WriteUnit(what, _nothing, publish)


def _nothing(_store: Store) -> None:
    pass
