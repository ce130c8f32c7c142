"""Where a simulated wearable's acceleration comes from.

A firmware asks its source for samples by index on its own sample clock: sample ``k`` at rate ``r`` is
taken ``k / r`` seconds after the device booted. Any object with a matching ``samples`` method will do,
so tests can feed exact, known signals and the demo feeds the motion model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
import numpy.typing as npt

from firmware_sim.motion import MotionConfig, MotionModel, Segment

Float32Array = npt.NDArray[np.float32]


class SampleSource(Protocol):
    def samples(self, rate_hz: float, start: int, count: int) -> Float32Array:
        """Acceleration in g, float32 shape (count, 3), device axes, for samples start..start+count-1.

        Deterministic: the same arguments give the same values, however the calls are chunked."""
        ...


@dataclass(frozen=True, slots=True)
class ConstantSource:
    """A device lying still: the same reading forever (default flat on a table, z up)."""

    xyz: tuple[float, float, float] = (0.0, 0.0, 1.0)

    def samples(self, rate_hz: float, start: int, count: int) -> Float32Array:
        return np.tile(np.asarray(self.xyz, dtype=np.float32), (count, 1))


@dataclass(frozen=True, slots=True)
class WaveSource:
    """Gravity plus three incommensurate sinusoids: every sample differs, so a lost, duplicated or
    reordered sample shows up in a comparison. ``amplitude_g`` stays inside ±2 g by default."""

    amplitude_g: float = 0.6
    periods_s: tuple[float, float, float] = (1.3, 2.9, 0.7)
    gravity: tuple[float, float, float] = (0.0, -1.0, 0.0)

    def samples(self, rate_hz: float, start: int, count: int) -> Float32Array:
        t = (start + np.arange(count, dtype=np.float64)) / rate_hz
        waves = np.stack([np.sin(2 * math.pi * t / p + i) for i, p in enumerate(self.periods_s)], axis=1)
        return (np.asarray(self.gravity) + self.amplitude_g * waves).astype(np.float32)


class RenderModel(Protocol):
    """What `MotionSource` needs from ``firmware_sim.motion.MotionModel``."""

    @property
    def n_samples(self) -> int: ...

    def render(self, start: int, count: int) -> npt.NDArray[np.floating]: ...


@dataclass
class MotionSource:
    """The motion model (``firmware_sim.motion``) behind the source interface.

    The model renders at one rate, so ``make_model(rate_hz)`` builds one per rate the firmware asks for
    (the rate changes when the host writes the config). Past the end of the schedule the day repeats."""

    make_model: Callable[[float], RenderModel]
    _models: dict[float, RenderModel] = field(default_factory=dict, init=False, repr=False)

    def model(self, rate_hz: float) -> RenderModel:
        if rate_hz not in self._models:
            self._models[rate_hz] = self.make_model(rate_hz)
        return self._models[rate_hz]

    def samples(self, rate_hz: float, start: int, count: int) -> Float32Array:
        model = self.model(rate_hz)
        total = model.n_samples
        out = np.empty((count, 3), dtype=np.float32)
        done = 0
        while done < count:
            pos = (start + done) % total
            take = min(count - done, total - pos)
            out[done : done + take] = model.render(pos, take)
            done += take
        return out


def motion_source(schedule: Sequence[Segment], config: MotionConfig | None = None) -> MotionSource:
    """A source rendering ``schedule`` with the motion model; ``config.rate_hz`` is replaced by
    whatever rate the firmware samples at."""
    base = config if config is not None else MotionConfig()
    return MotionSource(lambda rate_hz: MotionModel(schedule, replace(base, rate_hz=rate_hz)))
