"""EpochLedger: what of a live pass is new, for the policy, the store and today's totals."""

from __future__ import annotations

import numpy as np

from monitor.core.types import EpochBlock, PostureCode
from monitor.pipeline import StreamOutput
from monitor.service.epoch_ledger import REWRITE_S, EpochLedger

S, ST = int(PostureCode.SIT), int(PostureCode.STAND)


def block(t0: float, n: int, code: int = S) -> EpochBlock:
    return EpochBlock(t0, np.full(n, code, dtype=np.uint8))


def ends(ledger: EpochLedger) -> tuple[float | None, float | None, float | None]:
    return ledger.live_end, ledger.final_end, ledger.provisional_end


def out(final: EpochBlock, live: EpochBlock, held: EpochBlock) -> StreamOutput:
    return StreamOutput(final, live, held, None)


def test_a_pass_is_cut_to_what_is_new_and_the_ends_move_on() -> None:
    ledger = EpochLedger()
    first = ledger.take(out(block(0, 0), block(0, 10), block(10, 20)))
    assert [(b.t0, len(b)) for b in first.stored] == [(0, 10), (10, 20)]
    assert first.counted == (first.live,)  # held epochs are not counted
    assert first.span == (0.0, 30.0)
    assert ends(ledger) == (10, None, 30)
    # The next pass: the held tail is written again only from REWRITE_S before what was stored.
    second = ledger.take(out(block(0, 5, ST), block(10, 3), block(13, 20)))
    assert (second.held.t0, len(second.held)) == (30 - REWRITE_S, 33 - (30 - REWRITE_S))
    assert second.span == (30.0, 33.0)
    # The final labels are written last, over the provisional ones.
    assert [b.t0 for b in second.stored] == [10, 30 - REWRITE_S, 0]
    assert ends(ledger) == (13, 5, 33)


def test_live_epochs_the_final_ones_already_cover_are_dropped_and_an_empty_pass_is_empty() -> None:
    ledger = EpochLedger()
    ledger.take(out(block(0, 20), block(0, 25), block(25, 0)))
    again = ledger.take(out(block(20, 5), block(15, 10), block(25, 0)))  # a flush catching up
    assert (again.live.t0, len(again.live)) == (20, 5)
    assert again.span is None  # nothing past what was stored: a unit of no length
    assert ledger.take(out(block(25, 0), block(25, 0), block(25, 0))).empty
