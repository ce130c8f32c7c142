"""The records of each step of the data path as `WriteUnit`s: what one transaction stores.

Each builder takes the values as they are now (a closure over mutable service state would store
what the state became by the time a unit that waited is written).
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.core.links import LinkEvent
from monitor.core.records import DecisionRecords
from monitor.core.types import Bout, EpochBlock
from monitor.service.writer import WriteUnit
from monitor.store import Store
from monitor.store.calibration import Calibration, SavedPolicy

Publish = Callable[[], object] | None


def pipeline_pass(
    wearable: str,
    epochs: EpochBlock,
    closed: list[Bout],
    open_bout: Bout | None,
    *,
    records: list[DecisionRecords],
    publish: Publish,
) -> WriteUnit:
    """A pipeline pass: its epochs, the bouts it closed, the bout still open, the decisions it
    caused, and (`publish`) their messages into the outbox, in the same transaction: a crash cannot
    keep a decision and lose its message (at worst the message goes out twice, with the same id)."""

    def write(store: Store) -> None:
        store.epochs.write_block(wearable, epochs)
        if closed:
            store.bouts.add(wearable, closed)
        store.bouts.set_open(wearable, open_bout)
        for record in records:
            store.record_decision(wearable, record)

    return WriteUnit("a pipeline pass", write, publish, span=(epochs.t0, epochs.t_end))


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
