"""Stored data is never written over: samples timed at or before what the store holds are held back.

A Raspberry Pi has no real-time clock. After a power cut it boots on fake-hwclock's saved time, up to
an hour (or, offline, days) behind, and the wearable's data is timed on that clock until NTP steps
it. Data timed at or before the end of what is already stored would overwrite epochs or interleave
with them. The service asks the store where its data ends (`Store.stored_until`) and puts this guard
between the link and the pipeline: held samples are dropped and counted (moving them later would
invent data there), the hold ends by itself with the first sample past the stored data, and a HELD
link event records how much was dropped.

This is a rule about the database, so it lives at the service/store boundary: the radio layer knows
nothing of what is stored. (The link has a hold of its own with the same shape for a different
reason: after a backward clock step its own output must not go back in time.)

Pure: no I/O, no clock; the service logs what the guard reports.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from monitor.core.links import LinkEvent, LinkEventKind
from monitor.core.timefmt import utc_text
from monitor.core.types import SampleBlock


@dataclass(frozen=True, slots=True)
class HoldBegan:
    """The first samples held: `first_t` is how they are timed, `floor` where the stored data ends.
    `noted`: further behind than clock jitter, worth a warning and the `holding` state; a fraction
    of a second of overlap (the newest stored second is cut at a sample's time) is not."""

    first_t: float
    floor: float
    noted: bool

    @property
    def behind_s(self) -> float:
        return self.floor - self.first_t


@dataclass(frozen=True, slots=True)
class Admitted:
    """What `StoredDataGuard.admit` let through (`block`, None when all of it was held), and whether
    a hold began (`began`) or ended (`ended`: the HELD event to record, None for mere jitter)."""

    block: SampleBlock | None
    began: HoldBegan | None = None
    ended: LinkEvent | None = None


class StoredDataGuard:
    """Between the link and the pipeline: nothing at or before `floor` (data time, UTC s) gets through.

    `jitter_s`: a hold that starts less than this behind the floor is overlap, not a clock behind.
    `period_s`: the nominal sample period, to say how much time the dropped samples were.
    """

    def __init__(self, floor: float | None, *, jitter_s: float, period_s: float) -> None:
        self._floor = floor
        self._jitter_s = jitter_s
        self._period_s = period_s
        self._began: HoldBegan | None = None
        self._samples = 0  # dropped by the current hold
        self.held_samples = 0  # dropped by every hold, since the start

    @property
    def floor(self) -> float | None:
        """The data time held samples must pass, while the guard holds (else None)."""
        return self._floor

    @property
    def holding(self) -> bool:
        """Samples are being dropped, and it is more than jitter (what `systemctl status` shows)."""
        return self._began is not None and self._began.noted

    def admit(self, block: SampleBlock) -> Admitted:
        floor = self._floor
        if floor is None or len(block) == 0:
            return Admitted(block)
        t = block.t
        held = int(t.searchsorted(floor, side="right"))  # samples at or before the floor
        began = None
        if held and self._began is None:
            first = float(t[0])
            began = self._began = HoldBegan(first, floor, floor - first > self._jitter_s)
        self._samples += held
        self.held_samples += held
        if held == len(block):
            return Admitted(None, began)
        return Admitted(SampleBlock(t[held:], block.xyz[held:], block.seq), began, self._end())

    def event(self, event: LinkEvent) -> LinkEvent:
        """A link event as the store may keep it: while holding, timed no earlier than the floor (a
        gap or a connection timed inside the stored data would describe data that is not the one
        stored there)."""
        if self._floor is not None and event.t < self._floor:
            return dataclasses.replace(event, t=self._floor)
        return event

    def diagnostics(self) -> dict[str, object]:
        return {"held_samples": self.held_samples, "holding_until": self._floor}

    def _end(self) -> LinkEvent | None:
        """The first sample past the floor: the hold is over (for good: the floor only ever falls)."""
        began, floor, samples = self._began, self._floor, self._samples
        self._floor, self._began, self._samples = None, None, 0
        if began is None or not began.noted or floor is None:
            return None
        detail = f"timed {utc_text(began.first_t)} .. {utc_text(floor)}"
        return LinkEvent(LinkEventKind.HELD, floor, count=samples, detail=detail)

    def seconds_of(self, samples: int) -> float:
        """How much data time `samples` held samples were, at the nominal rate."""
        return samples * self._period_s
