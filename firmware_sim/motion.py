"""Activity schedule -> realistic tri-axial acceleration in g (thigh, waist or wrist placement).

The model is kinematic, not statistical: each activity sets the orientation of the limb the device is
worn on (flexion `theta` from vertical, roll `psi` about the limb's long axis) with natural sway and
posture shifts, gait or pedalling swings the limb at a plausible cadence, and the body's vertical and
forward accelerations are added in world axes. The accelerometer reads the specific force (gravity's
reaction plus motion) in its own axes, after a device-to-limb rotation (pockets and straps vary),
a calibration offset and scale error, sensor noise and range clipping.

Axes of the unrotated device (as HuGaDB's thigh IMU):
  thigh  +x along the thigh towards the knee (-1 g standing), +z out of the front of the thigh
         (+1 g seated), +y completes a right-handed frame.
  waist  +x down along the trunk (-1 g upright), +z out of the belly.
  wrist  +x along the forearm towards the hand (-1 g arm hanging), +z out of the back of the wrist.

Every sample is a pure function of (schedule, config, sample index): per-segment parameters come from
a generator seeded by (seed, segment), noise from generators seeded by (seed, fixed block of samples),
so `render(start, count)` gives identical numbers however a recording is split into chunks.

This model exists for tests, the benchmarks and the demo. It is never used to tune the classifier's
thresholds: those come from the literature and are checked on real recordings.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]

PLACEMENTS: tuple[str, ...] = ("thigh", "waist", "wrist")

# Samples per noise block. Noise for sample i comes from the block i // NOISE_BLOCK only, which is what
# makes rendering independent of how a caller chunks it.
NOISE_BLOCK = 16384
# Standard gravity, to turn m/s^2 of limb kinematics into g.
G_MS2 = 9.80665
# Between two activities that are not a sit-to-stand, the posture blends over this long, s: about the
# time a person needs to set off walking or to stop.
_PLAIN_TRANSITION_S = 1.0
# Vertical acceleration peak during a sit-to-stand (Janssen 2008: ~0.2-0.3 g at the trunk), g.
_STS_VERTICAL_G = 0.25
# Forward trunk lean during a sit-to-stand, deg (flexion-momentum phase).
_STS_TRUNK_LEAN_DEG = 30.0
# Posture shifts (crossing legs, rolling over) blend over this long, s.
_SHIFT_BLEND_S = 2.0

_NOISE_STREAM = 1
_SEGMENT_STREAM = 2
_SETUP_STREAM = 3


class Activity(StrEnum):
    """What the wearer is doing during a schedule segment."""

    SIT = "sit"
    STAND = "stand"
    WALK = "walk"
    RUN = "run"
    STAIRS_UP = "stairs_up"
    STAIRS_DOWN = "stairs_down"
    CYCLE = "cycle"
    LIE = "lie"
    DESK = "desk"  # device still, off the body, lying flat on a table


# Activities between which a sit-to-stand (or stand-to-sit) is rendered.
_SEATED = frozenset({Activity.SIT})
_ON_FEET = frozenset({Activity.STAND, Activity.WALK, Activity.RUN, Activity.STAIRS_UP, Activity.STAIRS_DOWN})


@dataclass(frozen=True, slots=True)
class Segment:
    """One stretch of a schedule: an activity held for `duration_s` seconds."""

    activity: Activity
    duration_s: float

    def __post_init__(self) -> None:
        if not self.duration_s > 0:
            raise ValueError(f"Segment duration_s must be > 0 s, got {self.duration_s!r}")


@dataclass(frozen=True)
class MotionConfig:
    """How the simulated device is worn and how good its sensor is.

    rotation_deg: device rotation relative to the limb as x, y, z Euler angles in degrees (applied in
    that order); None draws a seeded random rotation up to `random_rotation_max_deg` about a random axis.
    offset_g / scale_error: explicit per-axis calibration errors; None draws seeded random ones up to
    `offset_max_g` / `scale_error_max`.
    """

    placement: str = "thigh"
    rate_hz: float = 50.0
    seed: int = 0
    noise_g: float = 0.007
    rotation_deg: tuple[float, float, float] | None = None
    random_rotation_max_deg: float = 35.0
    offset_g: tuple[float, float, float] | None = None
    offset_max_g: float = 0.02
    scale_error: tuple[float, float, float] | None = None
    scale_error_max: float = 0.02
    range_g: float = 8.0
    sit_to_stand_s: float = 2.0

    def __post_init__(self) -> None:
        if self.placement not in PLACEMENTS:
            raise ValueError(f"placement must be one of {', '.join(PLACEMENTS)}, got {self.placement!r}")
        if not 1.0 <= self.rate_hz <= 2000.0:
            raise ValueError(f"rate_hz must be within 1..2000 Hz, got {self.rate_hz!r}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed!r}")
        if self.noise_g < 0 or self.range_g <= 0 or self.sit_to_stand_s <= 0:
            raise ValueError("noise_g must be >= 0, range_g and sit_to_stand_s > 0")


# ---------------------------------------------------------------------------------------------------------
# Per-activity kinematics. Angles in degrees, frequencies in Hz, accelerations in g.


@dataclass(frozen=True, slots=True)
class _Posture:
    """How an activity holds and moves the limb the device is on."""

    theta: tuple[float, float]  # segment flexion from vertical: mean, SD across segments
    psi_modes: tuple[tuple[float, float, float], ...] = ((1.0, 0.0, 5.0),)  # (weight, mean, SD) of roll
    shift_every: tuple[float, float] = (60.0, 240.0)  # posture shift interval range, s
    shift_theta_sd: float = 3.0
    shift_psi_sd: float = 4.0
    remode_p: float = 0.0  # chance a shift picks a new roll mode (crossing legs, rolling over)
    sway_deg: float = 1.0  # slow postural sway / fidgeting amplitude
    sway_hz: tuple[float, float] = (0.05, 0.4)
    swing_hz: tuple[float, float] | None = None  # limb oscillation (stride or pedal) frequency
    swing_deg: tuple[float, float] = (0.0, 0.0)
    bounce_g: tuple[float, float] = (0.0, 0.0)  # vertical body acceleration at step frequency
    impact: float = 0.35  # relative size of the heel-strike harmonic
    forward_g: float = 0.0
    vibration_g: float = 0.0  # broadband (road, machine) vibration SD
    fidget_g: float = 0.0  # RMS of small body movements (shifting weight, gestures) while still


_PSI_SIT = ((0.7, 0.0, 8.0), (0.15, 25.0, 8.0), (0.15, -25.0, 8.0))  # legs crossed either way
_PSI_LIE = ((0.4, 0.0, 10.0), (0.25, 90.0, 10.0), (0.25, -90.0, 10.0), (0.1, 180.0, 10.0))
_DESK = _Posture(theta=(0.0, 0.0), sway_deg=0.0)

_THIGH_RADIUS_M = 0.38  # hip joint to a sensor a hand above the knee
_WRIST_RADIUS_M = 0.55  # shoulder to wrist
# Device distance from the joint the limb rotates about (hip, shoulder); the waist barely rotates.
_RADIUS_M: dict[str, float] = {"thigh": _THIGH_RADIUS_M, "waist": 0.0, "wrist": _WRIST_RADIUS_M}

_THIGH: dict[Activity, _Posture] = {
    Activity.SIT: _Posture(
        theta=(86.0, 8.0),
        psi_modes=_PSI_SIT,
        shift_every=(90.0, 300.0),
        remode_p=0.3,
        sway_deg=1.5,
        fidget_g=0.005,
    ),
    Activity.STAND: _Posture(
        theta=(2.0, 3.0), shift_every=(15.0, 60.0), sway_deg=2.5, sway_hz=(0.1, 1.0), fidget_g=0.03
    ),
    Activity.WALK: _Posture(
        theta=(8.0, 2.0),
        swing_hz=(0.88, 1.02),
        swing_deg=(20.0, 26.0),
        bounce_g=(0.5, 0.7),
        forward_g=0.3,
    ),
    Activity.RUN: _Posture(
        theta=(20.0, 3.0),
        swing_hz=(1.3, 1.5),
        swing_deg=(35.0, 45.0),
        bounce_g=(1.0, 1.4),
        impact=0.6,
        forward_g=0.3,
    ),
    # Each step lifts the thigh further than walking does, yet on average it hangs only ~10 deg
    # forward (HuGaDB going_up), as the swing reaches back below vertical too.
    Activity.STAIRS_UP: _Posture(
        theta=(12.0, 3.0),
        swing_hz=(0.7, 0.85),
        swing_deg=(26.0, 30.0),
        bounce_g=(0.4, 0.5),
        forward_g=0.2,
    ),
    Activity.STAIRS_DOWN: _Posture(
        theta=(12.0, 3.0),
        swing_hz=(0.8, 0.95),
        swing_deg=(18.0, 22.0),
        bounce_g=(0.5, 0.7),
        impact=0.5,
        forward_g=0.2,
    ),
    # Pedalling: the thigh swings through large angles around a forward tilt (HuGaDB: ~30-40 deg).
    Activity.CYCLE: _Posture(
        theta=(40.0, 6.0),
        swing_hz=(0.9, 1.3),
        swing_deg=(14.0, 18.0),
        bounce_g=(0.03, 0.06),
        impact=0.0,
        vibration_g=0.04,
        sway_deg=2.0,
    ),
    Activity.LIE: _Posture(
        theta=(88.0, 8.0),
        psi_modes=_PSI_LIE,
        shift_every=(300.0, 1200.0),
        shift_theta_sd=8.0,
        remode_p=0.5,
        sway_deg=0.5,
    ),
    Activity.DESK: _DESK,
}

_WAIST: dict[Activity, _Posture] = {
    # Seated, the pelvis tilts back; at a desk the trunk ranges from leaning in to reclining.
    Activity.SIT: _Posture(theta=(-10.0, 8.0), shift_every=(60.0, 300.0), shift_theta_sd=6.0, fidget_g=0.005),
    Activity.STAND: _Posture(theta=(2.0, 3.0), shift_every=(15.0, 60.0), sway_deg=1.0, fidget_g=0.02),
    Activity.WALK: _Posture(
        theta=(3.0, 2.0), swing_hz=(0.88, 1.02), swing_deg=(2.0, 3.0), bounce_g=(0.25, 0.35), forward_g=0.1
    ),
    Activity.RUN: _Posture(
        theta=(8.0, 3.0),
        swing_hz=(1.3, 1.5),
        swing_deg=(3.0, 4.0),
        bounce_g=(0.9, 1.2),
        impact=0.6,
        forward_g=0.2,
    ),
    Activity.STAIRS_UP: _Posture(
        theta=(10.0, 3.0), swing_hz=(0.7, 0.85), swing_deg=(2.0, 3.0), bounce_g=(0.2, 0.3), forward_g=0.1
    ),
    Activity.STAIRS_DOWN: _Posture(
        theta=(0.0, 3.0),
        swing_hz=(0.8, 0.95),
        swing_deg=(2.0, 3.0),
        bounce_g=(0.3, 0.45),
        impact=0.5,
        forward_g=0.1,
    ),
    Activity.CYCLE: _Posture(
        theta=(25.0, 8.0),
        swing_hz=(1.0, 1.5),
        swing_deg=(1.0, 2.0),
        bounce_g=(0.03, 0.06),
        impact=0.0,
        vibration_g=0.04,
    ),
    Activity.LIE: _Posture(
        theta=(90.0, 5.0), psi_modes=_PSI_LIE, shift_every=(300.0, 1200.0), remode_p=0.5, sway_deg=0.5
    ),
    Activity.DESK: _DESK,
}

_WRIST: dict[Activity, _Posture] = {
    # Typing and mousing: forearm near horizontal, frequent small reaches and gestures.
    Activity.SIT: _Posture(
        theta=(80.0, 10.0),
        psi_modes=((1.0, 10.0, 20.0),),
        shift_every=(5.0, 30.0),
        shift_theta_sd=15.0,
        shift_psi_sd=25.0,
        sway_deg=3.0,
        sway_hz=(0.1, 2.0),
    ),
    Activity.STAND: _Posture(
        theta=(25.0, 20.0),
        shift_every=(5.0, 30.0),
        shift_theta_sd=20.0,
        shift_psi_sd=20.0,
        sway_deg=3.0,
        sway_hz=(0.1, 2.0),
    ),
    Activity.WALK: _Posture(
        theta=(5.0, 3.0),
        swing_hz=(0.88, 1.02),
        swing_deg=(15.0, 25.0),
        bounce_g=(0.2, 0.3),
        forward_g=0.1,
    ),
    Activity.RUN: _Posture(
        theta=(80.0, 10.0),
        swing_hz=(1.3, 1.5),
        swing_deg=(20.0, 30.0),
        bounce_g=(0.8, 1.1),
        impact=0.6,
        forward_g=0.2,
    ),
    Activity.STAIRS_UP: _Posture(
        theta=(10.0, 5.0),
        swing_hz=(0.7, 0.85),
        swing_deg=(8.0, 15.0),
        bounce_g=(0.2, 0.3),
    ),
    Activity.STAIRS_DOWN: _Posture(
        theta=(10.0, 5.0),
        swing_hz=(0.8, 0.95),
        swing_deg=(8.0, 15.0),
        bounce_g=(0.3, 0.4),
        impact=0.5,
    ),
    Activity.CYCLE: _Posture(
        theta=(60.0, 10.0),
        psi_modes=((1.0, -30.0, 15.0),),
        bounce_g=(0.03, 0.06),
        impact=0.0,
        vibration_g=0.05,
        sway_deg=2.0,
    ),
    Activity.LIE: _Posture(
        theta=(90.0, 20.0), psi_modes=_PSI_LIE, shift_every=(120.0, 900.0), remode_p=0.5, sway_deg=1.0
    ),
    Activity.DESK: _DESK,
}

_PROFILES: dict[str, dict[Activity, _Posture]] = {"thigh": _THIGH, "waist": _WAIST, "wrist": _WRIST}

_N_SWAY = 3  # sinusoids summed for sway; incommensurate frequencies never visibly repeat
_N_FIDGET = 4  # sinusoids per axis for fidgeting
_FIDGET_HZ = (0.3, 4.0)


@dataclass(frozen=True, slots=True)
class _SegmentParams:
    """Everything random about one segment, drawn once from (seed, segment index)."""

    start: float
    end: float
    activity: Activity
    shift_len: float
    shift_theta: F64  # absolute theta per posture-shift interval, deg
    shift_psi: F64  # absolute psi per posture-shift interval, deg
    sway_amp: F64  # (2, _N_SWAY) deg, for theta and psi
    sway_hz: F64
    sway_phase: F64
    swing_hz: float
    swing_deg: float
    swing_phase: float
    cadence_mod: float  # rad of phase wobble: cadence is never metronomic
    cadence_mod_hz: float
    bounce_g: float
    fidget_amp: F64  # (2, _N_FIDGET) g, vertical and forward
    fidget_hz: F64
    fidget_phase: F64
    desk_up: F64  # device-frame up vector while lying on a desk


def _smoothstep(x: F64) -> F64:
    x = np.clip(x, 0.0, 1.0)
    out: F64 = x * x * (3.0 - 2.0 * x)
    return out


def _rotation_matrix(axis: F64, angle_rad: float) -> F64:
    axis = axis / np.linalg.norm(axis)
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    out: F64 = np.eye(3) + math.sin(angle_rad) * k + (1.0 - math.cos(angle_rad)) * (k @ k)
    return out


def euler_matrix(deg: Sequence[float]) -> F64:
    """Rotation matrix for x, y, z Euler angles in degrees, applied in that order."""
    rx = _rotation_matrix(np.array([1.0, 0.0, 0.0]), math.radians(deg[0]))
    ry = _rotation_matrix(np.array([0.0, 1.0, 0.0]), math.radians(deg[1]))
    rz = _rotation_matrix(np.array([0.0, 0.0, 1.0]), math.radians(deg[2]))
    out: F64 = rz @ ry @ rx
    return out


class MotionModel:
    """Renders a schedule of activities as accelerometer samples.

    >>> model = MotionModel([Segment(Activity.SIT, 60), Segment(Activity.WALK, 30)], MotionConfig())
    >>> model.render(0, 50).shape
    (50, 3)
    """

    def __init__(self, schedule: Sequence[Segment], config: MotionConfig | None = None) -> None:
        if not schedule:
            raise ValueError("schedule is empty: give at least one Segment")
        self.config = config if config is not None else MotionConfig()
        self.schedule: tuple[Segment, ...] = tuple(schedule)
        self.rate_hz = self.config.rate_hz
        bounds = np.concatenate([[0.0], np.cumsum([s.duration_s for s in self.schedule])])
        self._bounds: F64 = bounds
        self.duration_s = float(bounds[-1])
        self.n_samples = math.floor(self.duration_s * self.rate_hz + 1e-9)
        profile = _PROFILES[self.config.placement]
        self._segments = [
            _draw_segment(
                self.config.seed, k, seg, (float(bounds[k]), float(bounds[k + 1])), profile[seg.activity]
            )
            for k, seg in enumerate(self.schedule)
        ]
        self._profile = profile
        # Half-width of the blend at each inner boundary, never more than half of either neighbour.
        half = []
        for k in range(1, len(self.schedule)):
            a, b = self.schedule[k - 1], self.schedule[k]
            sts = (a.activity in _SEATED and b.activity in _ON_FEET) or (
                b.activity in _SEATED and a.activity in _ON_FEET
            )
            width = self.config.sit_to_stand_s if sts else _PLAIN_TRANSITION_S
            half.append(min(width / 2.0, a.duration_s / 2.0, b.duration_s / 2.0))
        self._half: F64 = np.array(half, dtype=np.float64)
        self._sts_sign: F64 = np.array(
            [
                1.0
                if self.schedule[k - 1].activity in _SEATED and self.schedule[k].activity in _ON_FEET
                else -1.0
                if self.schedule[k].activity in _SEATED and self.schedule[k - 1].activity in _ON_FEET
                else 0.0
                for k in range(1, len(self.schedule))
            ],
            dtype=np.float64,
        )
        rng = np.random.default_rng([self.config.seed, _SETUP_STREAM])
        self.device_rotation: F64 = self._draw_rotation(rng)
        self.offset_g: F64 = (
            np.array(self.config.offset_g, dtype=np.float64)
            if self.config.offset_g is not None
            else rng.uniform(-self.config.offset_max_g, self.config.offset_max_g, 3)
        )
        self.scale: F64 = 1.0 + (
            np.array(self.config.scale_error, dtype=np.float64)
            if self.config.scale_error is not None
            else rng.uniform(-self.config.scale_error_max, self.config.scale_error_max, 3)
        )

    def _draw_rotation(self, rng: np.random.Generator) -> F64:
        axis = rng.normal(size=3)
        angle = math.radians(rng.uniform(0.0, self.config.random_rotation_max_deg))
        if self.config.rotation_deg is not None:
            return euler_matrix(self.config.rotation_deg)
        return _rotation_matrix(axis, angle)

    # -- public -------------------------------------------------------------------------------------------

    def truth(self) -> list[tuple[float, float, Activity]]:
        """The schedule as (start_s, end_s, activity), seconds from the start of the recording."""
        return [
            (float(self._bounds[k]), float(self._bounds[k + 1]), seg.activity)
            for k, seg in enumerate(self.schedule)
        ]

    def activity_at(self, t: F64) -> list[Activity]:
        """The scheduled activity at each time t (s from the start)."""
        idx = np.clip(np.searchsorted(self._bounds, t, side="right") - 1, 0, len(self.schedule) - 1)
        return [self.schedule[int(i)].activity for i in idx]

    def times(self, start: int, count: int) -> F64:
        """Sample times in seconds from the start of the recording."""
        out: F64 = np.arange(start, start + count, dtype=np.float64) / self.rate_hz
        return out

    def render(self, start: int, count: int) -> F32:
        """Samples [start, start + count) as float32 (count, 3) in g, device axes.

        Deterministic and independent of chunking: render(0, n) equals the concatenation of any split.
        Samples past the end of the schedule continue the last activity.
        """
        if start < 0 or count < 0:
            raise ValueError(f"render: start and count must be >= 0, got {start}, {count}")
        if count == 0:
            return np.zeros((0, 3), dtype=np.float32)
        up_limb, dyn_limb, up_desk, w_desk, vib = self._limb_signal(start, count)
        up_limb += dyn_limb
        device = up_limb @ self.device_rotation.T
        # Skipping a term that is zero for every sample of this chunk gives the same bits as adding it,
        # so chunks with and without a desk or vibration stay consistent.
        if w_desk.any():
            wd = w_desk[:, None]
            up_desk /= np.maximum(np.linalg.norm(up_desk, axis=1), 1e-12)[:, None]
            device = (1.0 - wd) * device + wd * up_desk
        noise = self._noise(start, count)
        device += noise[:, :3] * self.config.noise_g
        if vib.any():
            device += noise[:, 3:] * vib[:, None]
        device *= self.scale
        device += self.offset_g
        np.clip(device, -self.config.range_g, self.config.range_g, out=device)
        return device.astype(np.float32)

    # -- internals ----------------------------------------------------------------------------------------

    def _noise(self, start: int, count: int) -> F64:
        first, last = start // NOISE_BLOCK, (start + count - 1) // NOISE_BLOCK
        blocks = [
            np.random.default_rng([self.config.seed, _NOISE_STREAM, b]).standard_normal((NOISE_BLOCK, 6))
            for b in range(first, last + 1)
        ]
        all_noise = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
        off = start - first * NOISE_BLOCK
        out: F64 = all_noise[off : off + count]
        return out

    def _weights(self, k: int, t: F64) -> F64:
        """Partition-of-unity weight of segment k at times t (smooth ramps at its boundaries)."""
        w = np.ones_like(t)
        if k > 0:
            h = self._half[k - 1]
            b = self._bounds[k]
            w *= _smoothstep((t - (b - h)) / (2.0 * h))
        if k < len(self.schedule) - 1:
            h = self._half[k]
            b = self._bounds[k + 1]
            w *= 1.0 - _smoothstep((t - (b - h)) / (2.0 * h))
        return w

    def _active_segments(self, t0: float, t1: float) -> range:
        margin = max(self.config.sit_to_stand_s, _PLAIN_TRANSITION_S)
        n_seg = len(self.schedule)
        lo = int(np.searchsorted(self._bounds, t0 - margin, side="right")) - 1
        hi = int(np.searchsorted(self._bounds, t1 + margin, side="left"))
        # Before the start and past the end, the first and last activities continue.
        lo = min(max(lo, 0), n_seg - 1)
        return range(lo, max(min(hi, n_seg), lo + 1))

    def _angles(self, t: F64, segs: range) -> tuple[F64, F64, F64, F64, F64, F64, F64]:
        """Blended theta, psi (rad), bounce, forward (g), desk weight, desk up (N,3), vibration SD."""
        theta = np.zeros_like(t)
        psi = np.zeros_like(t)
        w_limb = np.zeros_like(t)
        bounce = np.zeros_like(t)
        forward = np.zeros_like(t)
        w_desk = np.zeros_like(t)
        up_desk = np.zeros((t.shape[0], 3))
        vib = np.zeros_like(t)
        n_seg = len(self.schedule)
        for k in segs:
            p = self._segments[k]
            prof = self._profile[p.activity]
            # Samples where this segment's weight is non-zero form one contiguous run of sorted t.
            lo_t = self._bounds[k] - self._half[k - 1] if k > 0 else -np.inf
            hi_t = self._bounds[k + 1] + self._half[k] if k < n_seg - 1 else np.inf
            sel = slice(
                int(np.searchsorted(t, lo_t, side="right")), int(np.searchsorted(t, hi_t, side="left"))
            )
            ts = t[sel]
            if ts.size == 0:
                continue
            ws = self._weights(k, ts)
            if prof.vibration_g:
                vib[sel] += ws * prof.vibration_g
            if p.activity is Activity.DESK:
                w_desk[sel] += ws
                up_desk[sel] += ws[:, None] * p.desk_up
                continue
            th, ps, bo, fw = _segment_kinematics(p, prof, ts)
            theta[sel] += ws * th
            psi[sel] += ws * ps
            w_limb[sel] += ws
            bounce[sel] += ws * bo
            forward[sel] += ws * fw
        # Angles are averaged over the worn segments only, so a device picked up from a desk takes the
        # posture of the activity that follows.
        norm = np.where(w_limb > 0, w_limb, 1.0)
        theta /= norm
        psi /= norm
        return theta, psi, bounce, forward, w_desk, up_desk, vib

    def _sts(self, t: F64) -> tuple[F64, F64]:
        """Sit-to-stand extras: vertical acceleration (g) and trunk lean (deg) around boundaries."""
        vert = np.zeros_like(t)
        lean = np.zeros_like(t)
        lo = int(np.searchsorted(self._bounds, t[0] - self.config.sit_to_stand_s, side="left"))
        hi = int(np.searchsorted(self._bounds, t[-1] + self.config.sit_to_stand_s, side="right"))
        for j in range(max(lo, 1), min(hi, len(self.schedule))):
            sign = self._sts_sign[j - 1]
            if sign == 0.0:
                continue
            h = self._half[j - 1]
            b = self._bounds[j]
            sel = slice(int(np.searchsorted(t, b - h, side="right")), int(np.searchsorted(t, b + h)))
            u = (t[sel] - (b - h)) / (2.0 * h)
            vert[sel] += sign * _STS_VERTICAL_G * np.sin(2.0 * np.pi * u)
            lean[sel] += _STS_TRUNK_LEAN_DEG * np.sin(np.pi * u)
        return vert, lean

    def _limb_signal(self, start: int, count: int) -> tuple[F64, F64, F64, F64, F64]:
        # One extra sample on each side: angular velocity and acceleration come from central differences
        # on the sample grid. Times come from integer indices, so chunking changes no bit.
        dt = 1.0 / self.rate_hz
        te = self.times(start - 1, count + 2)
        segs = self._active_segments(float(te[0]), float(te[-1]))
        theta_e, psi_e, bounce_e, forward_e, w_desk_e, up_desk_e, vib_e = self._angles(te, segs)
        sts_vert, sts_lean = self._sts(te)
        if self.config.placement == "waist":
            theta_e = theta_e + np.radians(sts_lean)
        inner = slice(1, -1)
        theta, psi = theta_e[inner], psi_e[inner]
        bounce = bounce_e[inner] + sts_vert[inner]
        forward, w_desk, up_desk, vib = forward_e[inner], w_desk_e[inner], up_desk_e[inner], vib_e[inner]
        st, ct = np.sin(theta), np.cos(theta)
        sp, cp = np.sin(psi), np.cos(psi)
        up = np.stack([-ct, st * sp, st * cp], axis=1)
        fwd = np.stack([st, ct * sp, ct * cp], axis=1)
        dyn = up * bounce[:, None] + fwd * forward[:, None]
        radius = _RADIUS_M[self.config.placement]
        if radius > 0.0:
            omega = (theta_e[2:] - theta_e[:-2]) / (2.0 * dt)
            alpha = (theta_e[2:] - 2.0 * theta + theta_e[:-2]) / (dt * dt)
            # Limb rotation in the sagittal plane: tangential along the limb's front, centripetal
            # towards the hip or shoulder.
            tangential = radius * alpha / G_MS2
            dyn[:, 0] -= radius * omega * omega / G_MS2
            dyn[:, 1] += tangential * sp
            dyn[:, 2] += tangential * cp
        return up, dyn, up_desk, w_desk, vib


def _draw_segment(
    seed: int, k: int, seg: Segment, span: tuple[float, float], prof: _Posture
) -> _SegmentParams:
    start, end = span
    rng = np.random.default_rng([seed, _SEGMENT_STREAM, k])
    shift_len = float(rng.uniform(*prof.shift_every))
    n_shift = math.ceil(seg.duration_s / shift_len) + 1
    theta0 = rng.normal(prof.theta[0], prof.theta[1])
    weights = np.array([m[0] for m in prof.psi_modes])
    weights = weights / weights.sum()

    def draw_psi() -> float:
        mode = prof.psi_modes[int(rng.choice(len(prof.psi_modes), p=weights))]
        return float(rng.normal(mode[1], mode[2]))

    base_psi = draw_psi()
    shift_theta = np.empty(n_shift)
    shift_psi = np.empty(n_shift)
    psi_mode = base_psi
    for j in range(n_shift):
        if j > 0 and rng.uniform() < prof.remode_p:
            psi_mode = draw_psi()
        shift_theta[j] = theta0 + (rng.normal(0.0, prof.shift_theta_sd) if j > 0 else 0.0)
        shift_psi[j] = psi_mode + (rng.normal(0.0, prof.shift_psi_sd) if j > 0 else 0.0)
    sway_amp = np.abs(rng.normal(prof.sway_deg, prof.sway_deg * 0.3 + 1e-9, (2, _N_SWAY))) / math.sqrt(
        _N_SWAY
    )
    sway_hz = rng.uniform(prof.sway_hz[0], prof.sway_hz[1], (2, _N_SWAY))
    sway_phase = rng.uniform(0.0, 2.0 * np.pi, (2, _N_SWAY))
    swing_hz = float(rng.uniform(*prof.swing_hz)) if prof.swing_hz else 0.0
    tilt = math.radians(rng.uniform(0.0, 3.0))  # tables are nearly level
    azimuth = rng.uniform(0.0, 2.0 * np.pi)
    desk_up = np.array(
        [math.sin(tilt) * math.cos(azimuth), math.sin(tilt) * math.sin(azimuth), math.cos(tilt)]
    )
    return _SegmentParams(
        start=start,
        end=end,
        activity=seg.activity,
        shift_len=shift_len,
        shift_theta=shift_theta,
        shift_psi=shift_psi,
        sway_amp=sway_amp,
        sway_hz=sway_hz,
        sway_phase=sway_phase,
        swing_hz=swing_hz,
        swing_deg=float(rng.uniform(*prof.swing_deg)),
        swing_phase=float(rng.uniform(0.0, 2.0 * np.pi)),
        cadence_mod=float(rng.uniform(0.2, 0.6)),
        cadence_mod_hz=float(rng.uniform(0.02, 0.08)),
        bounce_g=float(rng.uniform(*prof.bounce_g)),
        fidget_amp=prof.fidget_g * np.sqrt(2.0 / _N_FIDGET) * rng.uniform(0.5, 1.5, (2, _N_FIDGET)),
        fidget_hz=rng.uniform(_FIDGET_HZ[0], _FIDGET_HZ[1], (2, _N_FIDGET)),
        fidget_phase=rng.uniform(0.0, 2.0 * np.pi, (2, _N_FIDGET)),
        desk_up=desk_up,
    )


def _segment_kinematics(p: _SegmentParams, prof: _Posture, t: F64) -> tuple[F64, F64, F64, F64]:
    """Theta, psi (rad), vertical and forward acceleration (g) of one segment at times t."""
    # Posture shifts: piecewise-constant targets, each blended in over _SHIFT_BLEND_S.
    u = np.clip(t - p.start, 0.0, None) / p.shift_len
    j = np.minimum(np.floor(u).astype(np.int64), p.shift_theta.shape[0] - 1)
    frac = u - j
    blend = _smoothstep(frac * p.shift_len / _SHIFT_BLEND_S)
    prev = np.maximum(j - 1, 0)
    theta = p.shift_theta[prev] + (p.shift_theta[j] - p.shift_theta[prev]) * blend
    psi = p.shift_psi[prev] + (p.shift_psi[j] - p.shift_psi[prev]) * blend
    for i in range(_N_SWAY):
        theta = theta + p.sway_amp[0, i] * np.sin(2.0 * np.pi * p.sway_hz[0, i] * t + p.sway_phase[0, i])
        psi = psi + p.sway_amp[1, i] * np.sin(2.0 * np.pi * p.sway_hz[1, i] * t + p.sway_phase[1, i])
    bounce = np.zeros_like(t)
    forward = np.zeros_like(t)
    if prof.fidget_g > 0.0:
        for i in range(_N_FIDGET):
            bounce += p.fidget_amp[0, i] * np.sin(2.0 * np.pi * p.fidget_hz[0, i] * t + p.fidget_phase[0, i])
            forward += p.fidget_amp[1, i] * np.sin(2.0 * np.pi * p.fidget_hz[1, i] * t + p.fidget_phase[1, i])
    if p.swing_hz > 0.0:
        phase = (
            2.0 * np.pi * p.swing_hz * (t - p.start)
            + p.swing_phase
            + p.cadence_mod * np.sin(2.0 * np.pi * p.cadence_mod_hz * t)
        )
        # Thigh flexion leads with a little asymmetry (longer stance than swing).
        theta = theta + p.swing_deg * (np.sin(phase) + 0.15 * np.sin(2.0 * phase + 0.6))
        # Two steps per stride: body bounce at twice the stride frequency, heel strikes as harmonics.
        bounce += p.bounce_g * (np.sin(2.0 * phase) + prof.impact * np.sin(4.0 * phase + 0.9))
        forward += prof.forward_g * np.sin(2.0 * phase + 1.7)
    return np.radians(theta), np.radians(psi), bounce, forward


# ---------------------------------------------------------------------------------------------------------
# Schedules


def _m(activity: Activity, minutes: float) -> Segment:
    return Segment(activity, minutes * 60.0)


def office_day() -> list[Segment]:
    """About 8 h of an office day, starting on arrival.

    Desk work in long and short bouts (two over 30 min with no break), a meeting, stand-ups of under two
    minutes that pause but do not break a sitting bout, a lunch walk, stairs, and the device taken off
    and left on the desk for about half an hour.
    """
    a = Activity
    return [
        _m(a.WALK, 6),  # from the bus stop: the first walking teaches the upright reference
        _m(a.STAIRS_UP, 0.75),
        _m(a.WALK, 1),
        _m(a.STAND, 2),
        _m(a.SIT, 52),  # long desk bout: one nudge expected
        _m(a.STAND, 1),  # a stand-up under two minutes: not a credited break
        _m(a.SIT, 24),
        _m(a.WALK, 2),
        _m(a.STAND, 5),  # coffee and a chat
        _m(a.WALK, 2),
        _m(a.SIT, 18),
        _m(a.STAND, 0.5),
        _m(a.SIT, 12),
        _m(a.WALK, 1.5),
        _m(a.STAIRS_DOWN, 0.5),
        _m(a.WALK, 1),
        _m(a.SIT, 45),  # meeting
        _m(a.WALK, 1),
        _m(a.STAIRS_UP, 0.5),
        _m(a.WALK, 1),
        _m(a.SIT, 20),
        _m(a.WALK, 12),  # lunch walk
        _m(a.STAND, 6),  # queue
        _m(a.SIT, 22),  # lunch
        _m(a.WALK, 10),
        _m(a.SIT, 35),
        _m(a.DESK, 30),  # device taken off and left on the desk
        _m(a.SIT, 28),
        _m(a.STAND, 1.5),
        _m(a.SIT, 40),
        _m(a.WALK, 3),
        _m(a.STAND, 3),
        _m(a.SIT, 25),
        _m(a.WALK, 2),
        _m(a.STAND, 1),
        _m(a.SIT, 33),
        _m(a.WALK, 3),
        _m(a.SIT, 4),
        _m(a.STAND, 0.75),
        _m(a.SIT, 21),
        _m(a.WALK, 2),
        _m(a.STAIRS_DOWN, 0.75),
        _m(a.WALK, 5),
    ]


def full_day() -> list[Segment]:
    """24 h: a night's sleep, a morning run and a cycle commute, the office day, an evening on a sofa."""
    a = Activity
    morning = [
        _m(a.LIE, 7 * 60),
        _m(a.STAND, 10),
        _m(a.WALK, 3),
        _m(a.RUN, 20),
        _m(a.WALK, 4),
        _m(a.STAND, 15),
        _m(a.SIT, 20),  # breakfast
        _m(a.WALK, 2),
        _m(a.CYCLE, 18),
    ]
    evening = [
        _m(a.CYCLE, 20),
        _m(a.WALK, 2),
        _m(a.STAND, 40),  # cooking
        _m(a.SIT, 30),  # dinner
        _m(a.WALK, 2),
        _m(a.SIT, 95),  # sofa
        _m(a.STAND, 10),
        _m(a.LIE, 1),
    ]
    day = morning + office_day() + evening
    total = sum(s.duration_s for s in day)
    rest = 24 * 3600.0 - total
    return [*day, Segment(a.LIE, rest)] if rest > 0 else day


SCHEDULES: dict[str, Callable[[], list[Segment]]] = {"office": office_day, "day": full_day}


# ---------------------------------------------------------------------------------------------------------
# CLI: write a simulated recording as CSV for `sitbreak analyze`.

_CSV_CHUNK = 1 << 16


def write_csv(model: MotionModel, out: Path, start_unix: float) -> None:
    """Write `t,x,y,z` rows: t in Unix seconds, x/y/z in g."""
    with out.open("w", encoding="ascii", newline="\n") as fh:
        fh.write("t,x,y,z\n")
        for first in range(0, model.n_samples, _CSV_CHUNK):
            count = min(_CSV_CHUNK, model.n_samples - first)
            t = start_unix + model.times(first, count)
            xyz = model.render(first, count)
            block = np.column_stack([t, xyz.astype(np.float64)])
            np.savetxt(fh, block, fmt=("%.3f", "%.4f", "%.4f", "%.4f"), delimiter=",")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m firmware_sim.motion",
        description="Simulate a wearer's accelerometer and write it as CSV (t,x,y,z; t in Unix s, g).",
        epilog="example: python -m firmware_sim.motion --schedule office --rate 50 --out day.csv",
    )
    parser.add_argument("--schedule", choices=sorted(SCHEDULES), default="office")
    parser.add_argument("--days", type=int, default=1, help="repeat the schedule this many times")
    parser.add_argument("--placement", choices=PLACEMENTS, default="thigh")
    parser.add_argument("--rate", type=float, default=50.0, help="sample rate, Hz (default: 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--start", default="2024-03-04T08:00:00+00:00", help="ISO-8601 time of the first sample"
    )
    parser.add_argument("--truth", type=Path, help="also write the schedule as start,end,activity CSV")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    start = datetime.fromisoformat(args.start)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    schedule = SCHEDULES[args.schedule]() * max(args.days, 1)
    model = MotionModel(schedule, MotionConfig(placement=args.placement, rate_hz=args.rate, seed=args.seed))
    write_csv(model, args.out, start.timestamp())
    if args.truth:
        with args.truth.open("w", encoding="ascii") as fh:
            fh.write("start,end,activity\n")
            for s, e, act in model.truth():
                fh.write(f"{start.timestamp() + s:.3f},{start.timestamp() + e:.3f},{act}\n")
    sys.stderr.write(f"wrote {model.n_samples} samples ({model.duration_s / 3600:.2f} h) to {args.out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
