"""monitor/pipeline/iir.py gives bit for bit what scipy.signal gives, without importing it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import signal

from monitor.pipeline import iir

RATES = [12.5, 20.0, 25.0, 50.0, 52.0, 58.82, 100.0, 104.0, 200.0, 400.0]
CUTOFFS = [0.5, 1.0, 2.0, 3.0, 5.0, 5.6, 10.0, 11.0]


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 6])
def test_the_design_and_the_steady_state_equal_scipy_s_bit_for_bit(order: int) -> None:
    for rate in RATES:
        for cutoff in CUTOFFS:
            if cutoff >= 0.9 * rate / 2:
                continue
            want = signal.butter(order, cutoff, btype="low", fs=rate, output="sos")
            got = iir.butter_lowpass_sos(order, cutoff, rate)
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(iir.sosfilt_zi(got), signal.sosfilt_zi(want))


def test_the_filters_equal_scipy_s_bit_for_bit() -> None:
    rng = np.random.default_rng(1)
    sos = signal.butter(4, 3.0, fs=50.0, output="sos")
    x = rng.normal(size=(3, 500))
    zi = signal.sosfilt_zi(sos)[:, None, :] * x[:, 0][None, :, None]
    want_y, want_zf = signal.sosfilt(sos, x, axis=-1, zi=zi)
    got_y, got_zf = iir.sosfilt(sos, x, zi)
    np.testing.assert_array_equal(got_y, want_y)
    np.testing.assert_array_equal(got_zf, want_zf)
    np.testing.assert_array_equal(
        zi, signal.sosfilt_zi(sos)[:, None, :] * x[:, 0][None, :, None]
    )  # not changed
    b, a = np.array([0.05]), np.array([1.0, -0.95])
    w = rng.normal(size=(40, 3))
    z0 = (1.0 - b[0]) * w[:1].copy()
    want = signal.lfilter(b, a, w, axis=0, zi=z0)
    got = iir.lfilter(b, a, w, 0, z0)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_the_daemon_does_not_import_scipy_signal() -> None:
    code = """
import sys
import numpy as np
import monitor.daemon
from monitor.pipeline import iir
sos = iir.butter_lowpass_sos(4, 3.0, 50.0)
iir.sosfilt(sos, np.ones((3, 10)), iir.sosfilt_zi(sos)[:, None, :] * np.ones((1, 3, 1)))
iir.lfilter(np.array([0.1]), np.array([1.0, -0.9]), np.ones((5, 2)), 0, np.zeros((1, 2)))
print(sorted(m for m in sys.modules if m.startswith("scipy.")))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = eval(out)  # a list of module names
    # Only the compiled loops (and scipy's own small top level), not the package scipy.signal.
    assert "scipy.signal" not in loaded, loaded
    assert not [m for m in loaded if m.startswith(("scipy.stats", "scipy.linalg", "scipy.special"))], loaded
