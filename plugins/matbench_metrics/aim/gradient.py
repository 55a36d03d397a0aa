"""Gradient error of the "aim" variant: ``compute_gradient_whole_image`` in ``core/evaluate.py``.

The official value comes from four ``scipy.ndimage.gaussian_filter(x, 1.4, order=..,
output=float32)`` calls: each runs one 1-D correlation per axis in double precision, and the
result of the first pass is *stored as float32* before the second pass reads it. Magnitudes,
squared differences and the final ``np.sum`` are float32. This module repeats that arithmetic
exactly (same kernels, same per-pixel accumulation order, same roundings, NumPy's pairwise
float32 sum) in one fused numba pass that shares the loads of the two vertical filters and never
materialises the eight intermediate images.
"""
from __future__ import annotations

import functools

import numpy as np
from numba import njit
from scipy.ndimage import gaussian_filter1d

from ..pairwise import pairwise_sum

SIGMA = 1.4
TRUNCATE = 4.0          # scipy's default; radius int(4.0 * 1.4 + 0.5) = 6
DBL_EPSILON = np.finfo(np.float64).eps


@functools.lru_cache(maxsize=None)
def filter_weights(order: int) -> tuple[np.ndarray, float]:
    """The weights scipy's ``correlate1d`` receives for ``gaussian_filter1d(.., order)`` and the
    symmetry it detects (+1 symmetric, -1 antisymmetric), read off an impulse response so they
    are scipy's own numbers bit for bit."""
    radius = int(TRUNCATE * SIGMA + 0.5)
    delta = np.zeros(2 * radius + 1)
    delta[radius] = 1.0
    # correlating an impulse reproduces every weight exactly (x*1 + 0 terms are exact)
    w = gaussian_filter1d(delta, SIGMA, order=order, mode="constant", truncate=TRUNCATE)[::-1].copy()
    half = np.arange(1, radius + 1)
    if np.all(np.abs(w[radius + half] - w[radius - half]) <= DBL_EPSILON):
        sign = 1.0
    elif np.all(np.abs(w[radius + half] + w[radius - half]) <= DBL_EPSILON):
        sign = -1.0
    else:       # never for a Gaussian; the fused kernel relies on the (anti)symmetric path
        raise RuntimeError("gaussian kernel is neither symmetric nor antisymmetric")
    if sign != (1.0 if order % 2 == 0 else -1.0):
        raise RuntimeError("unexpected symmetry of the gaussian derivative kernel")
    return w, sign


@njit(cache=True, inline="always")
def _reflect(i, n):
    """scipy's mode='reflect' (d c b a | a b c d | d c b a), valid for any line length."""
    i = i % (2 * n)
    return i if i < n else 2 * n - 1 - i


@njit(cache=True)
def _vertical(p, g, i, ws, wd, r, sp, dp, sg, dg):
    """Row i of the smoothing (symmetric) and derivative (antisymmetric) correlations along
    axis 0 of p and g, in double, each accumulated in scipy's order (centre, then pairs
    from the outermost in)."""
    h = p.shape[0]
    p0 = p[i]
    g0 = g[i]
    s0 = ws[r]
    d0 = wd[r]
    for c in range(sp.size):
        sp[c] = p0[c] * s0
        dp[c] = p0[c] * d0
        sg[c] = g0[c] * s0
        dg[c] = g0[c] * d0
    for jj in range(-r, 0):
        ia = _reflect(i + jj, h)
        ib = _reflect(i - jj, h)
        pa = p[ia]
        pb = p[ib]
        ga = g[ia]
        gb = g[ib]
        sj = ws[r + jj]
        dj = wd[r + jj]
        for c in range(sp.size):
            sp[c] += (pa[c] + pb[c]) * sj
            dp[c] += (pa[c] - pb[c]) * dj
            sg[c] += (ga[c] + gb[c]) * sj
            dg[c] += (ga[c] - gb[c]) * dj


@njit(cache=True)
def _extend(acc, r, ext):
    """Round a double row to float32 (the first pass's output dtype) and pad it by r pixels
    each side as scipy's 'reflect' mode does."""
    n = acc.size
    for c in range(n):
        ext[c + r] = np.float64(np.float32(acc[c]))
    for k in range(r):
        ext[k] = ext[r + _reflect(k - r, n)]
        ext[n + r + k] = ext[r + _reflect(n + k, n)]


@njit(cache=True)
def _horizontal(ext_s, ext_d, w_s, w_d, r, out_s, out_d):
    """Correlations along axis 1: symmetric w_s over ext_s and antisymmetric w_d over ext_d."""
    n = out_s.size
    s0 = w_s[r]
    d0 = w_d[r]
    for c in range(n):
        out_s[c] = ext_s[c + r] * s0
        out_d[c] = ext_d[c + r] * d0
    for jj in range(-r, 0):
        # slices keep the indices provably non-negative, so the loops vectorise
        a = ext_s[r + jj:r + jj + n]
        b = ext_s[r - jj:r - jj + n]
        sj = w_s[r + jj]
        for c in range(n):
            out_s[c] += (a[c] + b[c]) * sj
        a = ext_d[r + jj:r + jj + n]
        b = ext_d[r - jj:r - jj + n]
        dj = w_d[r + jj]
        for c in range(n):
            out_d[c] += (a[c] - b[c]) * dj


@njit(cache=True)
def _error_map(p, g, ws, wd, r):
    h, w = p.shape
    err = np.empty((h, w), dtype=np.float32)
    sp = np.empty(w)
    dp = np.empty(w)
    sg = np.empty(w)
    dg = np.empty(w)
    e_sp = np.empty(w + 2 * r)
    e_dp = np.empty(w + 2 * r)
    e_sg = np.empty(w + 2 * r)
    e_dg = np.empty(w + 2 * r)
    for i in range(h):
        _vertical(p, g, i, ws, wd, r, sp, dp, sg, dg)
        _extend(sp, r, e_sp)
        _extend(dp, r, e_dp)
        _extend(sg, r, e_sg)
        _extend(dg, r, e_dg)
        # order [1, 0] = derivative down, then smoothing across; order [0, 1] the other way
        _horizontal(e_dp, e_sp, ws, wd, r, sp, dp)      # sp <- x-grad of p, dp <- y-grad of p
        _horizontal(e_dg, e_sg, ws, wd, r, sg, dg)
        e = err[i]
        for c in range(w):
            px = np.float32(sp[c])
            py = np.float32(dp[c])
            gx = np.float32(sg[c])
            gy = np.float32(dg[c])
            d = np.sqrt(px * px + py * py) - np.sqrt(gx * gx + gy * gy)
            e[c] = d * d
    return err


def gradient_error_map(pred: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The official float32 ``(|grad pred| - |grad alpha|)**2`` map (sigma 1.4, reflect border)."""
    p = np.ascontiguousarray(pred, dtype=np.float64)
    g = np.ascontiguousarray(alpha, dtype=np.float64)
    if p.ndim != 2 or p.shape != g.shape:
        raise ValueError(f"pred and alpha must be equal-size 2-D arrays: {p.shape} vs {g.shape}")
    ws, _ = filter_weights(0)
    wd, _ = filter_weights(1)
    return _error_map(p, g, ws, wd, (ws.size - 1) // 2)


def grad(pred: np.ndarray, alpha: np.ndarray) -> float:
    """Gradient error: float32 ``sum((|grad pred| - |grad alpha|)**2) / 10`` over the whole image,
    exactly the official float32 value (returned as a Python float)."""
    err = gradient_error_map(pred, alpha).ravel()
    total = pairwise_sum(err, np.float32(0))
    return float(np.float32(total) / np.float32(10))
