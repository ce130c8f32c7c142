"""Data types that travel through the pipeline and beyond it.

Times are data time: float seconds since the Unix epoch (UTC), taken from the device's sample clock
mapped to UTC at connect (live) or from the recording (offline). Nothing here reads the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from itertools import pairwise

import numpy as np
import numpy.typing as npt


class Placement(StrEnum):
    """Where the wearable is worn; decides which classifier runs."""

    THIGH = "thigh"
    WAIST = "waist"
    WRIST = "wrist"


class Posture(StrEnum):
    """Per-second epoch label."""

    SIT = "sit"
    LIE = "lie"
    STAND = "stand"
    MOVE = "move"
    CYCLE = "cycle"
    NON_WEAR = "non_wear"
    UNKNOWN = "unknown"

    @property
    def code(self) -> int:
        return int(PostureCode[self.name])

    @property
    def sedentary(self) -> bool:
        return self in SEDENTARY

    @property
    def upright(self) -> bool:
        return self in UPRIGHT

    @classmethod
    def from_code(cls, code: int) -> Posture:
        return cls[PostureCode(code).name]


class PostureCode(IntEnum):
    """Compact integer codes for `Posture`, used in NumPy arrays and the store."""

    SIT = 0
    LIE = 1
    STAND = 2
    MOVE = 3
    CYCLE = 4
    NON_WEAR = 5
    UNKNOWN = 6


SEDENTARY: frozenset[Posture] = frozenset({Posture.SIT, Posture.LIE})
UPRIGHT: frozenset[Posture] = frozenset({Posture.STAND, Posture.MOVE, Posture.CYCLE})

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]
CodeArray = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class SampleBlock:
    """A run of accelerometer samples as decoded from one or more BLE notifications.

    t:   sample times, seconds (data time), float64, shape (N,), non-decreasing.
    xyz: acceleration in g, float32, shape (N, 3), device axes.
    seq: sequence number of the first packet in the block when the device provides one, else None.
    """

    t: FloatArray
    xyz: Float32Array
    seq: int | None = None

    def __post_init__(self) -> None:
        if self.t.ndim != 1 or self.xyz.shape != (self.t.shape[0], 3):
            raise ValueError(
                f"SampleBlock: t has shape {self.t.shape} and xyz {self.xyz.shape}; need (N,) and (N, 3)"
            )

    def __len__(self) -> int:
        return int(self.t.shape[0])


@dataclass(frozen=True, slots=True)
class Epoch:
    """One labelled second: [t, t + 1)."""

    t: float
    label: Posture


@dataclass(frozen=True, slots=True)
class Bout:
    """A maximal run of one label, [start, end) in data time seconds."""

    start: float
    end: float
    label: Posture

    @property
    def duration(self) -> float:
        return self.end - self.start


_NO_CODES: CodeArray = np.zeros(0, dtype=np.uint8)
_NO_CODES.flags.writeable = False


@dataclass(frozen=True, slots=True)
class EpochBlock:
    """Consecutive whole seconds of data time, one label code each.

    t0 is the start of the first epoch and always a whole second: epochs are aligned to integer
    data-time seconds, so epoch i covers [t0 + i, t0 + i + 1).
    """

    t0: float
    labels: CodeArray

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def t_end(self) -> float:
        """End of the last epoch (== t0 when empty)."""
        return self.t0 + float(self.labels.shape[0])

    def epochs(self) -> Iterator[Epoch]:
        for i, code in enumerate(self.labels.tolist()):
            yield Epoch(self.t0 + i, Posture.from_code(code))

    @classmethod
    def empty(cls, t0: float = 0.0) -> EpochBlock:
        return cls(t0, _NO_CODES)

    @classmethod
    def concat(cls, blocks: Sequence[EpochBlock]) -> EpochBlock:
        """Join consecutive blocks (each must start where the previous ended)."""
        parts = [b for b in blocks if len(b)]
        if not parts:
            return cls.empty(blocks[0].t0 if blocks else 0.0)
        for prev, nxt in pairwise(parts):
            if nxt.t0 != prev.t_end:
                raise ValueError(
                    f"EpochBlock.concat: block at {nxt.t0} does not follow one ending at {prev.t_end}"
                )
        return cls(parts[0].t0, np.concatenate([b.labels for b in parts]))
