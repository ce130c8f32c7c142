"""The upright reference: which way gravity points in device axes when the limb is upright.

A device in a pocket or strap can sit at any rotation, so inclination is measured against the mean
gravity direction seen while *walking* (the thigh and trunk are upright on average during gait), as
Acti4 does with its reference angle. Until walking has been seen, the placement's profile default is
used. Learning is causal and chunking-independent: an exponential mean over confirmed walking windows,
run with `lfilter` and its carried state.

Walking is recognised without knowing the orientation, from how the 2 s window moves relative to its own
mean gravity direction: at the thigh the leg swings through ~40 degrees each stride, so movement across
gravity is at least as large as along it (pedalling and vibration are mostly along it); at the waist
the trunk bounces vertically at each step, so movement along gravity dominates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Required, TypedDict

import numpy as np

from monitor.core.types import FloatArray, Placement

from .features import WindowStats, norm, parallel_perpendicular_sd, unit
from .iir import lfilter

Vec3 = tuple[float, float, float]

# Profile defaults. Thigh: device x runs down the thigh, z out of its front (HuGaDB, activPAL-like
# mounting), so upright reads (-1, 0, 0) g. Waist: +x up the trunk (HAPT's smartphone on a belt).
DEFAULT_UP: dict[Placement, Vec3] = {
    Placement.THIGH: (-1.0, 0.0, 0.0),
    Placement.WAIST: (1.0, 0.0, 0.0),
    Placement.WRIST: (-1.0, 0.0, 0.0),
}
DEFAULT_FORWARD: Vec3 = (0.0, 0.0, 1.0)
# The profile's forward axis is trusted only while the learned up is close to the profile's up;
# beyond this the device is mounted differently and lying (which needs forward) is not inferred.
FORWARD_TRUST_DEG = 30.0

# Gait bounds (g). Acti4 walks between SD 0.1 and its running threshold 0.72 along the thigh.
THIGH_WALK_SD_MIN = 0.15
THIGH_WALK_SD_MAX = 0.6
WAIST_WALK_SD_MIN = 0.1
WAIST_WALK_SD_MAX = 0.5
POWER_ITERATIONS = 20
# Variance (g^2) given to a persisted front axis when a stream restarts: about a tenth of a walking
# window's swing variance, so a few strides of new gait outweigh it.
SWING_PRIOR_G2 = 0.01
# A window's mean must look like gravity (1 g) to be trusted as a direction.
GRAVITY_MIN_G = 0.8
GRAVITY_MAX_G = 1.2


class ReferenceDict(TypedDict, total=False):
    placement: Required[str]
    up: Required[list[float]]
    walking_s: Required[float]
    forward: list[float]


@dataclass(frozen=True, slots=True)
class UprightReference:
    """Learned upright gravity direction (unit vector, device axes) and how much walking taught it."""

    placement: Placement
    up: Vec3
    walking_s: float
    forward: Vec3 = DEFAULT_FORWARD  # front of the limb (sign-free axis), from the gait swing
    forward_learned: bool = False  # False: `forward` is the profile's guess, not yet seen in gait

    def to_dict(self) -> ReferenceDict:
        out: ReferenceDict = {
            "placement": str(self.placement),
            "up": list(self.up),
            "walking_s": self.walking_s,
        }
        if self.forward_learned:
            out["forward"] = list(self.forward)
        return out

    @classmethod
    def from_dict(cls, data: ReferenceDict) -> UprightReference:
        up = data["up"]
        if len(up) != 3:
            raise ValueError(f"reference 'up' needs 3 numbers, got {up!r}")
        vec = np.asarray(up, dtype=np.float64)
        n = float(np.linalg.norm(vec))
        if not np.isfinite(n) or n < 0.5:
            raise ValueError(f"reference 'up' must be a unit vector, got {up!r}")
        fwd = np.asarray(data.get("forward", DEFAULT_FORWARD), dtype=np.float64)
        fwd = fwd - np.dot(fwd, vec / n) * vec / n
        fn = float(np.linalg.norm(fwd))
        if fwd.shape != (3,) or not np.isfinite(fn) or fn < 1e-6:
            raise ValueError(f"reference 'forward' must be a vector across 'up', got {data.get('forward')!r}")
        return cls(
            placement=Placement(data["placement"]),
            up=(float(vec[0] / n), float(vec[1] / n), float(vec[2] / n)),
            walking_s=float(data["walking_s"]),
            forward=(float(fwd[0] / fn), float(fwd[1] / fn), float(fwd[2] / fn)),
            forward_learned="forward" in data,
        )


def swing_axis(cov: FloatArray, up: FloatArray) -> FloatArray:
    """Principal axis of gait movement across `up`: the thigh swings in the sagittal plane, so this is
    the front-back axis. Power iteration on the projected covariance (rows of xx yy zz xy xz yz)."""
    c = np.empty((cov.shape[0], 3, 3))
    c[:, 0, 0], c[:, 1, 1], c[:, 2, 2] = cov[:, 0], cov[:, 1], cov[:, 2]
    c[:, 0, 1] = c[:, 1, 0] = cov[:, 3]
    c[:, 0, 2] = c[:, 2, 0] = cov[:, 4]
    c[:, 1, 2] = c[:, 2, 1] = cov[:, 5]
    p = np.eye(3)[None, :, :] - up[:, :, None] * up[:, None, :]
    m = p @ c @ p
    # Start from the across-up direction with the most variance among the device axes.
    v: FloatArray = np.einsum("nij,nj->ni", p, np.eye(3)[np.argmax(np.einsum("nii->ni", m), axis=1)])
    for _ in range(POWER_ITERATIONS):
        v = unit(np.einsum("nij,nj->ni", m, v) + 1e-12 * v)
    return v


def walking_candidates(stats: WindowStats, placement: Placement) -> np.ndarray:
    """Windows that look like level walking, whatever the device orientation."""
    par, perp = parallel_perpendicular_sd(stats)
    g = norm(stats.mean)
    gravity_like = (g > GRAVITY_MIN_G) & (g < GRAVITY_MAX_G) & stats.valid
    if placement is Placement.THIGH:
        gait = (par > THIGH_WALK_SD_MIN) & (par < THIGH_WALK_SD_MAX) & (perp >= par)
    elif placement is Placement.WAIST:
        gait = (par > WAIST_WALK_SD_MIN) & (par < WAIST_WALK_SD_MAX) & (perp <= par)
    else:
        gait = np.zeros(par.shape, dtype=bool)
    out: np.ndarray = gravity_like & gait
    return out


class ReferenceLearner:
    """Causal, chunking-independent learner of the upright reference.

    `push` returns, for every epoch, the reference in force at that epoch (after learning from it).
    """

    def __init__(
        self,
        placement: Placement,
        confirm_epochs: int,
        time_constant_epochs: float,
        initial: UprightReference | None = None,
    ) -> None:
        self._placement = placement
        self._confirm = max(1, confirm_epochs)
        alpha = 1.0 / max(1.0, time_constant_epochs)
        self._b = np.array([alpha])
        self._a = np.array([1.0, alpha - 1.0])
        self._history = np.zeros(self._confirm - 1, dtype=np.int64)
        self._zi: FloatArray | None = None
        self._up: FloatArray = np.asarray(DEFAULT_UP[placement], dtype=np.float64)
        self._forward: FloatArray = np.asarray(DEFAULT_FORWARD, dtype=np.float64)
        self._walking = 0.0
        self._learned = False
        self._forward_learned = False
        if initial is not None:
            self._up = np.asarray(initial.up, dtype=np.float64)
            self._forward = np.asarray(initial.forward, dtype=np.float64)
            self._forward_learned = initial.forward_learned
            # The swing covariance restarts as a small spread along the persisted front axis (none
            # when that axis is only the profile's guess), so new gait soon dominates it.
            f = self._forward if self._forward_learned else np.zeros(3)
            cov = np.array([f[0] * f[0], f[1] * f[1], f[2] * f[2], f[0] * f[1], f[0] * f[2], f[1] * f[2]])
            self._zi = (1.0 - alpha) * np.concatenate((self._up, SWING_PRIOR_G2 * cov))[None, :]
            self._walking = initial.walking_s
            self._learned = True

    @property
    def reference(self) -> UprightReference | None:
        if not self._learned:
            return None
        u, f = self._up, self._forward
        return UprightReference(
            self._placement,
            (float(u[0]), float(u[1]), float(u[2])),
            self._walking,
            (float(f[0]), float(f[1]), float(f[2])),
            self._forward_learned,
        )

    @property
    def learned(self) -> bool:
        return self._learned

    @property
    def default_up(self) -> FloatArray:
        return np.asarray(DEFAULT_UP[self._placement], dtype=np.float64)

    def push(self, stats: WindowStats) -> tuple[FloatArray, FloatArray, np.ndarray]:
        """Per epoch, after learning from it: up direction, front axis (sign-free), and whether that
        front axis was learned from gait (else it is the profile's guess)."""
        n = stats.mean.shape[0]
        cand = walking_candidates(stats, self._placement).astype(np.int64)
        if self._confirm > 1:
            seq = np.concatenate((self._history, cand))
            csum = np.concatenate(([0], np.cumsum(seq)))
            run = csum[self._confirm :] - csum[: -self._confirm]
            confirmed = run == self._confirm
            self._history = seq[-(self._confirm - 1) :]
        else:
            confirmed = cand.astype(bool)
        idx = np.flatnonzero(confirmed)
        if idx.shape[0] == 0:
            return (
                np.broadcast_to(self._up, (n, 3)).copy(),
                np.broadcast_to(self._forward, (n, 3)).copy(),
                np.full(n, self._forward_learned),
            )
        w = np.concatenate((unit(stats.mean[idx]), stats.cov[idx]), axis=1)
        if self._zi is None:
            self._zi = (1.0 - self._b[0]) * w[:1].copy()
        y, self._zi = lfilter(self._b, self._a, w, 0, self._zi)
        up = unit(y[:, :3])
        fwd = swing_axis(y[:, 3:], up)
        pos = np.full(n, -1, dtype=np.int64)
        pos[idx] = np.arange(idx.shape[0])
        pos = np.maximum.accumulate(pos) + 1
        ups = np.concatenate((self._up[None, :], up))[pos]
        fwds = np.concatenate((self._forward[None, :], fwd))[pos]
        learned = (pos > 0) | self._forward_learned
        self._up, self._forward = up[-1].copy(), fwd[-1].copy()
        self._walking += float(idx.shape[0])
        self._learned = self._forward_learned = True
        return ups, fwds, learned
