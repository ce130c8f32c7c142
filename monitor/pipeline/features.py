"""Per-epoch features from window sums: mean gravity vector, covariance, SDs, angles. Vectorised.

Units: acceleration in g, angles in degrees. SDs use the sample (n - 1) convention like Acti4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.core.types import FloatArray

from .windows import SENMO, SN, SX, SXX, SXY, SXZ, SYY, SYZ, SZ, SZZ, WindowSums

BoolArray = np.ndarray


@dataclass(frozen=True, slots=True)
class WindowStats:
    """Statistics of each epoch's 2 s window. Arrays have one row per epoch."""

    mean: FloatArray  # (n, 3) mean acceleration = gravity direction when still [g]
    cov: FloatArray  # (n, 6) covariance xx, yy, zz, xy, xz, yz [g^2]
    enmo: FloatArray  # (n,) mean of max(|a| - 1, 0) [g]; only summed for wrist streams, else 0
    count: FloatArray  # (n,) samples in the window
    valid: BoolArray  # (n,) enough samples in the epoch itself


def window_stats(ws: WindowSums, min_epoch_samples: float) -> WindowStats:
    s = ws.sums
    n = s[:, SN]
    has = n >= 2
    safe_n = np.where(has, n, 2.0)
    mean = s[:, SX : SZ + 1] / safe_n[:, None]
    dof = safe_n - 1.0
    cov = np.empty((s.shape[0], 6))
    cov[:, 0] = s[:, SXX] - safe_n * mean[:, 0] * mean[:, 0]
    cov[:, 1] = s[:, SYY] - safe_n * mean[:, 1] * mean[:, 1]
    cov[:, 2] = s[:, SZZ] - safe_n * mean[:, 2] * mean[:, 2]
    cov[:, 3] = s[:, SXY] - safe_n * mean[:, 0] * mean[:, 1]
    cov[:, 4] = s[:, SXZ] - safe_n * mean[:, 0] * mean[:, 2]
    cov[:, 5] = s[:, SYZ] - safe_n * mean[:, 1] * mean[:, 2]
    cov /= dof[:, None]
    cov[:, :3] = np.maximum(cov[:, :3], 0.0)
    enmo = s[:, SENMO] / safe_n
    valid = has & (ws.epoch_counts >= min_epoch_samples)
    return WindowStats(mean=mean, cov=cov, enmo=enmo, count=n, valid=valid)


def norm(v: FloatArray) -> FloatArray:
    out: FloatArray = np.sqrt(np.einsum("ij,ij->i", v, v))
    return out


def unit(v: FloatArray) -> FloatArray:
    n = norm(v)
    out: FloatArray = v / np.where(n > 0, n, 1.0)[:, None]
    return out


def quad(cov: FloatArray, u: FloatArray) -> FloatArray:
    """u^T C u per row: variance along the unit vectors u (n, 3)."""
    x, y, z = u[:, 0], u[:, 1], u[:, 2]
    q = (
        cov[:, 0] * x * x
        + cov[:, 1] * y * y
        + cov[:, 2] * z * z
        + 2.0 * (cov[:, 3] * x * y + cov[:, 4] * x * z + cov[:, 5] * y * z)
    )
    out: FloatArray = np.maximum(q, 0.0)
    return out


def angle_deg(a: FloatArray, b: FloatArray) -> FloatArray:
    """Angle between row vectors a and unit row vectors b, degrees."""
    cos = np.einsum("ij,ij->i", a, b) / np.where((na := norm(a)) > 0, na, 1.0)
    out: FloatArray = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    return out


def total_var(cov: FloatArray) -> FloatArray:
    out: FloatArray = cov[:, 0] + cov[:, 1] + cov[:, 2]
    return out


def max_sd(cov: FloatArray) -> FloatArray:
    """SD along the direction of largest variance: sqrt of the top eigenvalue, closed form.

    Rotation-invariant stand-in for Acti4's max of per-axis SDs (which depends on how the device sits).
    """
    a, b, c, d, e, f = (cov[:, i] for i in range(6))  # xx yy zz xy xz yz
    p1 = d * d + e * e + f * f
    q = (a + b + c) / 3.0
    p2 = (a - q) ** 2 + (b - q) ** 2 + (c - q) ** 2 + 2.0 * p1
    p = np.sqrt(p2 / 6.0)
    safe_p = np.where(p > 1e-12, p, 1.0)
    ba, bb, bc = (a - q) / safe_p, (b - q) / safe_p, (c - q) / safe_p
    bd, be, bf = d / safe_p, e / safe_p, f / safe_p
    det = ba * (bb * bc - bf * bf) - bd * (bd * bc - bf * be) + be * (bd * bf - bb * be)
    r = np.clip(det / 2.0, -1.0, 1.0)
    phi = np.arccos(r) / 3.0
    top = np.where(p > 1e-12, q + 2.0 * p * np.cos(phi), np.maximum(a, np.maximum(b, c)))
    out: FloatArray = np.sqrt(np.maximum(top, 0.0))
    return out


def parallel_perpendicular_sd(stats: WindowStats) -> tuple[FloatArray, FloatArray]:
    """SD along the window's own gravity direction and across it (orientation-free gait features)."""
    d = unit(stats.mean)
    par_var = quad(stats.cov, d)
    perp_var = np.maximum(total_var(stats.cov) - par_var, 0.0)
    return np.sqrt(par_var), np.sqrt(perp_var)
