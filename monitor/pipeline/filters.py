"""Causal low-pass filtering that gives the same output whatever the block boundaries.

The Butterworth filter is designed as second-order sections and run with `sosfilt`, carrying the
filter state (`zi`) from one block to the next (SciPy's code, without importing scipy.signal: iir.py).
`sosfiltfilt` would look into the future and could never
match live processing, so it is not used.
"""

from __future__ import annotations

from monitor.core.types import FloatArray

from .iir import butter_lowpass_sos, sosfilt, sosfilt_zi

FILTER_ORDER = 4  # Acti4 and the DESIGN: 4th-order Butterworth


def design_lowpass(rate_hz: float, cutoff_hz: float, order: int = FILTER_ORDER) -> FloatArray:
    """Butterworth low-pass as SOS. The cut-off is clamped below Nyquist for slow devices."""
    if rate_hz <= 0:
        raise ValueError(f"rate_hz must be > 0, got {rate_hz}")
    if cutoff_hz <= 0:
        raise ValueError(f"cutoff_hz must be > 0, got {cutoff_hz}")
    nyquist = rate_hz / 2.0
    cutoff = min(cutoff_hz, 0.9 * nyquist)
    return butter_lowpass_sos(order, cutoff, rate_hz)


class StreamingLowPass:
    """Low-pass over (3, N) blocks (one row per axis) with state carried between calls.

    A (re)start initialises the state to the steady state of the first sample, so the output starts at
    the input level instead of ringing up from zero (which would look like movement).
    """

    __slots__ = ("_sos", "_zi", "_zi_unit")

    def __init__(self, sos: FloatArray) -> None:
        self._sos = sos
        # (n_sections, 2) steady-state state for a unit step.
        self._zi_unit: FloatArray = sosfilt_zi(sos)
        self._zi: FloatArray | None = None

    def restart(self) -> None:
        """Forget the state; the next sample restarts the filter (after a gap)."""
        self._zi = None

    def process(self, x: FloatArray) -> FloatArray:
        """Filter x (3, N) float64 and return the filtered block."""
        if x.shape[1] == 0:
            return x
        if self._zi is None:
            # (sections, axes, 2): each axis starts in the steady state of its first sample.
            self._zi = self._zi_unit[:, None, :] * x[:, 0][None, :, None]
        y, zi = sosfilt(self._sos, x, self._zi)
        self._zi = zi
        out: FloatArray = y
        return out
