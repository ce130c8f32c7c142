"""Which epochs of a live stream's pass go to the policy, the store and today's tally.

A live `PostureStream` pass (`feed_live`, monitor/pipeline/live.py) gives three kinds of epochs:

- *live* labels, a few seconds behind the samples: fed to the nudge policy and stored at once;
- *held* epochs (a still device that non-wear may yet call off-body), labelled as if worn: stored
  provisionally, so that a crash loses none of them, but neither fed to the policy nor counted;
- *final* labels, ~41 s behind the samples: stored over the provisional ones of the same seconds,
  and fed to the bout tracker.

`EpochLedger` remembers where each kind ends and cuts a pass down to what is new: live epochs after
the final ones already stored (a flush at stop may give live epochs the final ones already cover),
and held epochs from `REWRITE_S` before the end of what was stored provisionally (the last few held
labels may change as more data confirms or ends a run). It holds three floats; the service keeps one.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.core.types import EpochBlock
from monitor.pipeline import StreamOutput

# Held labels near the end of what was stored provisionally may still change (a run not yet
# confirmed): they are written again from this many seconds before that end.
REWRITE_S = 5


@dataclass(frozen=True, slots=True)
class PassEpochs:
    """The epochs of one pass, cut to what is new (see the module doc).

    span: the data time [start, end) this pass newly covers (what the writer counts as data
    waiting); None when it covers nothing new."""

    live: EpochBlock
    held: EpochBlock
    final: EpochBlock
    span: tuple[float, float] | None

    @property
    def stored(self) -> tuple[EpochBlock, ...]:
        """The blocks to write, in order: the provisional ones first, the final ones over them."""
        return tuple(b for b in (self.live, self.held, self.final) if len(b))

    @property
    def counted(self) -> tuple[EpochBlock, ...]:
        """The blocks today's totals take (not the held ones: a device on the desk must not count
        as sitting for the ten minutes non-wear takes to decide)."""
        return tuple(b for b in (self.live, self.final) if len(b))

    @property
    def empty(self) -> bool:
        return not self.stored


class EpochLedger:
    """Where the live, final and provisional epochs of one stream end (data time)."""

    __slots__ = ("final_end", "live_end", "provisional_end")

    def __init__(self) -> None:
        self.live_end: float | None = None  # the policy has been fed up to here
        self.final_end: float | None = None  # final labels are stored up to here
        self.provisional_end: float | None = None  # live or held labels are stored up to here

    def take(self, out: StreamOutput) -> PassEpochs:
        """Cut `out` to what is new and move the ends past it."""
        rewrite = None if self.provisional_end is None else self.provisional_end - REWRITE_S
        live = _after(out.live, self.final_end)
        held = _after(out.held, rewrite)
        final = out.final
        before = self.provisional_end
        if len(live):
            self.live_end = live.t_end
        if len(final):
            self.final_end = final.t_end
        ends = [b.t_end for b in (live, out.held, final) if len(b)]
        if ends:
            self.provisional_end = max([*ends, *([] if before is None else [before])])
        span = None
        if self.provisional_end is not None:
            starts = [b.t0 for b in (live, held, final) if len(b)]
            start = before if before is not None else min(starts, default=self.provisional_end)
            if self.provisional_end > start:
                span = (start, self.provisional_end)
        return PassEpochs(live, held, final, span)


def _after(block: EpochBlock, t: float | None) -> EpochBlock:
    """The epochs of `block` from data time `t` on (all of them when `t` is None)."""
    if t is None or block.t0 >= t:
        return block
    skip = min(len(block), int(t - block.t0))
    return EpochBlock(block.t0 + skip, block.labels[skip:])
