"""The IIR filtering the pipeline needs, without importing `scipy.signal`.

`import scipy.signal` runs the package's `__init__`, which imports scipy.stats, scipy.interpolate,
scipy.linalg, scipy.special and more: ~73 MiB resident in the daemon for three functions (measured:
a fresh interpreter with numpy is 26 MiB, with scipy.signal 101 MiB; issue 12's budget for the whole
daemon is 120 MiB). So:

- the per-sample loops are scipy's own compiled ones (`scipy/signal/_sosfilt*.so`, `_sigtools*.so`),
  loaded straight from their files, which import only numpy; where that fails (another SciPy
  layout), `scipy.signal` is imported after all (`_compiled`);
- the Butterworth design (`butter_lowpass_sos`) and the steady-state filter state (`sosfilt_zi`) are
  SciPy 1.17's code paths for exactly what the pipeline asks (a digital low-pass, second-order
  sections, 'nearest' pairing), copied (BSD-3-Clause, Copyright (c) 2001-2002 Enthought, Inc. and
  2003-2024 SciPy Developers) with the branches it never takes left out; tests/pipeline/test_iir.py
  checks they give bit for bit what `scipy.signal` gives.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from monitor.core.types import FloatArray

_LOADED: dict[str, Any] = {}


def _extension(name: str) -> ModuleType | None:
    """scipy/signal/NAME.*.so loaded without running scipy.signal's __init__ (None if not found)."""
    spec = importlib.util.find_spec("scipy")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "signal"
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = folder / f"{name}{suffix}"
        if path.is_file():
            full = f"scipy.signal.{name}"
            loader = importlib.machinery.ExtensionFileLoader(full, str(path))
            module_spec = importlib.util.spec_from_file_location(full, str(path), loader=loader)
            if module_spec is None:
                return None
            module = importlib.util.module_from_spec(module_spec)
            loader.exec_module(module)
            return module
    return None


def _compiled(module: str, function: str) -> Any:
    """scipy.signal's compiled `function` from `module` (cached)."""
    key = f"{module}.{function}"
    found = _LOADED.get(key)
    if found is None:
        try:
            ext = _extension(module)
            found = getattr(ext, function) if ext is not None else None
        except (ImportError, OSError, AttributeError):
            found = None
        if found is None:  # another layout: the whole package after all
            found = getattr(importlib.import_module(f"scipy.signal.{module}"), function)
        _LOADED[key] = found
    return found


# ------------------------------------------------------------------ filtering


def sosfilt(sos: FloatArray, x: FloatArray, zi: FloatArray) -> tuple[FloatArray, FloatArray]:
    """`scipy.signal.sosfilt(sos, x, axis=-1, zi=zi)` for float64 `x` (..., N) and `zi`
    (n_sections, ..., 2): the filtered block and the final state."""
    n_sections = sos.shape[0]
    x_shape = x.shape
    zi = np.moveaxis(np.array(zi, dtype=np.float64), 0, -2)  # (..., n_sections, 2), a copy
    zi_shape = zi.shape
    out = np.array(np.reshape(x, (-1, x.shape[-1])), np.float64, order="C")
    state = np.ascontiguousarray(np.reshape(zi, (-1, n_sections, 2)))
    _compiled("_sosfilt", "_sosfilt")(np.asarray(sos, dtype=np.float64), out, state)
    return out.reshape(x_shape), np.moveaxis(state.reshape(zi_shape), -2, 0)


def lfilter(
    b: FloatArray, a: FloatArray, x: FloatArray, axis: int, zi: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """`scipy.signal.lfilter(b, a, x, axis=axis, zi=zi)` for float64 arrays and `len(a) > 1`."""
    result: tuple[FloatArray, FloatArray] = _compiled("_sigtools", "_linear_filter")(b, a, x, axis, zi)
    return result


# ------------------------------------------------------------------ design (SciPy 1.17's code paths)


def butter_lowpass_sos(order: int, cutoff_hz: float, fs: float) -> FloatArray:
    """`scipy.signal.butter(order, cutoff_hz, btype="low", fs=fs, output="sos")`."""
    if order < 1 or cutoff_hz <= 0 or not 0 < cutoff_hz / (fs / 2) < 1:
        raise ValueError(f"need order >= 1 and 0 < cutoff < fs/2, got {order}, {cutoff_hz}, {fs}")
    wn = np.asarray(cutoff_hz, dtype=np.float64) / (fs / 2)
    # buttap
    z: np.ndarray = np.asarray([], dtype=np.float64)
    m = np.arange(-order + 1, order, 2, dtype=np.float64)
    p: np.ndarray = -np.exp(1j * np.pi * m / (2 * order))
    k: Any = 1.0
    # iirfilter: pre-warp for the bilinear transform at fs = 2
    warped = 2 * 2.0 * np.tan(np.pi * wn / 2.0)
    # lp2lp_zpk
    wo = float(warped)
    degree = p.shape[0] - z.shape[0]
    z, p, k = wo * z, wo * p, k * wo**degree
    # bilinear_zpk (fs = 2)
    fs2 = 2.0 * 2.0
    z_z = (fs2 + z) / (fs2 - z)
    p_z = (fs2 + p) / (fs2 - p)
    z_z = np.concatenate((z_z, -np.ones(degree)))
    k_z = k * np.real(np.prod(fs2 - z) / np.prod(fs2 - p))
    return _zpk2sos(z_z, p_z, k_z)


def sosfilt_zi(sos: FloatArray) -> FloatArray:
    """`scipy.signal.sosfilt_zi(sos)`: (n_sections, 2), the state of a unit step's steady state."""
    n_sections = sos.shape[0]
    zi = np.empty((n_sections, 2), dtype=sos.dtype)
    scale = 1.0
    for section in range(n_sections):
        b = sos[section, :3]
        a = sos[section, 3:]
        zi[section, ...] = scale * _lfilter_zi(b, a)
        scale *= np.sum(b) / np.sum(a)
    return zi


def _lfilter_zi(b: FloatArray, a: FloatArray) -> FloatArray:
    while a.shape[0] > 1 and a[0] == 0.0:
        a = a[1:]
    if a[0] != 1.0:
        b = b / a[0]
        a = a / a[0]
    n = max(a.shape[0], b.shape[0])
    if a.shape[0] < n:
        a = np.concatenate((a, np.zeros(n - a.shape[0], dtype=a.dtype)))
    elif b.shape[0] < n:
        b = np.concatenate((b, np.zeros(n - b.shape[0], dtype=b.dtype)))
    dt = np.result_type(a, b)
    i_minus_a = np.asarray(np.eye(n - 1) - _companion(a).T, dtype=dt)
    rhs = b[1:] - a[1:] * b[0]
    zi: FloatArray = np.linalg.solve(i_minus_a, rhs)
    return zi


def _companion(a: FloatArray) -> FloatArray:
    n = a.shape[-1]
    first_row = -a[..., 1:] / (1.0 * a[..., 0:1])
    c = np.zeros((*a.shape[:-1], n - 1, n - 1), dtype=first_row.dtype)
    c[..., 0, :] = first_row
    c[..., np.arange(1, n - 1), np.arange(0, n - 2)] = 1
    return c


def _poly(zeros: np.ndarray) -> np.ndarray:
    zeros = np.atleast_1d(np.asarray(zeros))
    if zeros.shape[0] == 0:
        return np.asarray(1.0, dtype=np.real(zeros).dtype)
    a = np.ones((1,), dtype=zeros.dtype)
    one = np.ones_like(zeros[0])
    for zero in zeros:
        a = np.convolve(a, np.stack((one, -zero)), mode="full")
    if np.iscomplexobj(a):
        roots = np.asarray(zeros, dtype=np.complex128)
        if np.all(np.sort(np.imag(roots)) == np.sort(np.imag(np.conj(roots)))):
            a = np.asarray(np.real(a)).copy()
    return a


def _single_zpksos(z: list[Any], p: list[Any]) -> np.ndarray:
    sos = np.zeros(6)
    z_arr, p_arr = np.atleast_1d(np.asarray(z)), np.atleast_1d(np.asarray(p))
    b = np.atleast_1d(
        np.multiply(np.asarray(1, dtype=np.result_type(np.real(z_arr), np.real(p_arr), 1)), _poly(z_arr))
    )
    a = np.atleast_1d(_poly(p_arr))
    sos[3 - len(b) : 3] = b
    sos[6 - len(a) : 6] = a
    return sos


def _nearest_idx(fro: np.ndarray, to: Any, which: str) -> int:
    order = np.argsort(np.abs(fro - to))
    if which == "any":
        return int(order[0])
    mask = np.isreal(fro[order])
    if which == "complex":
        mask = ~mask
    return int(order[np.nonzero(mask)[0][0]])


def _cplxreal(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.atleast_1d(z)
    if z.size == 0:
        return z, z
    tol = 100 * np.finfo((1.0 * z).dtype).eps
    z = z[np.lexsort((abs(z.imag), z.real))]
    real_indices = abs(z.imag) <= tol * abs(z)
    zr = z[real_indices].real
    if len(zr) == len(z):
        return np.array([]), zr
    z = z[~real_indices]
    zp = z[z.imag > 0]
    zn = z[z.imag < 0]
    if len(zp) != len(zn):
        raise ValueError("Array contains complex value with no matching conjugate.")
    same_real = np.diff(zp.real) <= tol * abs(zp[:-1])
    diffs = np.diff(np.concatenate(([0], same_real, [0])))
    run_starts = np.nonzero(diffs > 0)[0]
    run_stops = np.nonzero(diffs < 0)[0]
    for i in range(len(run_starts)):
        start = run_starts[i]
        stop = run_stops[i] + 1
        for chunk in (zp[start:stop], zn[start:stop]):
            chunk[...] = chunk[np.lexsort([abs(chunk.imag)])]
    if any(abs(zp - zn.conj()) > tol * abs(zn)):
        raise ValueError("Array contains complex value with no matching conjugate.")
    zc = (zp + zn.conj()) / 2
    return zc, zr


def _zpk2sos(z: np.ndarray, p: np.ndarray, k: Any) -> FloatArray:
    """zpk2sos(z, p, k) for a digital filter, pairing 'nearest'."""
    p = np.concatenate((p, np.zeros(max(len(z) - len(p), 0))))
    z = np.concatenate((z, np.zeros(max(len(p) - len(z), 0))))
    n_sections = (max(len(p), len(z)) + 1) // 2
    if len(p) % 2 == 1:
        p = np.concatenate((p, [0.0]))
        z = np.concatenate((z, [0.0]))
    z = np.concatenate(_cplxreal(z))
    p = np.concatenate(_cplxreal(p))
    k = np.asarray(k).real

    def idx_worst(q: np.ndarray) -> int:
        return int(np.argmin(np.abs(1 - np.abs(q))))

    sos = np.zeros((n_sections, 6))
    for si in range(n_sections - 1, -1, -1):
        p1_idx = idx_worst(p)
        p1 = p[p1_idx]
        p = np.delete(p, p1_idx)
        if np.isreal(p1) and np.isreal(p).sum() == 0:
            z1_idx = _nearest_idx(z, p1, "real")
            z1 = z[z1_idx]
            z = np.delete(z, z1_idx)
            sos[si] = _single_zpksos([z1, 0], [p1, 0])
        elif (
            len(p) + 1 == len(z) and not np.isreal(p1) and np.isreal(p).sum() == 1 and np.isreal(z).sum() == 1
        ):
            z1_idx = _nearest_idx(z, p1, "complex")
            z1 = z[z1_idx]
            z = np.delete(z, z1_idx)
            sos[si] = _single_zpksos([z1, z1.conj()], [p1, p1.conj()])
        else:
            if np.isreal(p1):
                prealidx = np.flatnonzero(np.isreal(p))
                p2_idx = prealidx[idx_worst(p[prealidx])]
                p2 = p[p2_idx]
                p = np.delete(p, p2_idx)
            else:
                p2 = p1.conj()
            if len(z) > 0:
                z1_idx = _nearest_idx(z, p1, "any")
                z1 = z[z1_idx]
                z = np.delete(z, z1_idx)
                if not np.isreal(z1):
                    sos[si] = _single_zpksos([z1, z1.conj()], [p1, p2])
                elif len(z) > 0:
                    z2_idx = _nearest_idx(z, p1, "real")
                    z2 = z[z2_idx]
                    z = np.delete(z, z2_idx)
                    sos[si] = _single_zpksos([z1, z2], [p1, p2])
                else:
                    sos[si] = _single_zpksos([z1], [p1, p2])
            else:
                sos[si] = _single_zpksos([], [p1, p2])
    sos[0][:3] *= k
    out: FloatArray = sos
    return out


__all__ = ["butter_lowpass_sos", "lfilter", "sosfilt", "sosfilt_zi"]
