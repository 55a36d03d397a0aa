"""Gradient error of the "aim" variant: ``compute_gradient_whole_image`` in ``core/evaluate.py``.

The official value comes from four ``scipy.ndimage.gaussian_filter(x, 1.4, order=..,
output=float32)`` calls. Each runs one 1-D correlation per axis (axis 0 first) in double
precision, and the result of the first pass is *stored as float32* before the second pass reads
it. Magnitudes, squared differences and the final ``np.sum`` are float32.

scipy's ``correlate1d`` (``NI_Correlate1D`` in ``ni_filters.c``) detects that a Gaussian
kernel is symmetric (order 0) or antisymmetric (order 1) and computes each output as::

    out = x[0] * w[0]
    for j = -6 .. -1:  out += (x[j] + x[-j]) * w[j]      # (x[j] - x[-j]) when antisymmetric

in double, with x the line extended by ``mode='reflect'`` (d c b a | a b c d | d c b a). This
module repeats that arithmetic exactly — same weights (read off scipy itself), same operand
order for every add and multiply, same float32 roundings, NumPy's pairwise float32 sum — but
fused into one pass over the rows: for output row i the vertical filters of rows i-6..i+6 give
the row's two float32 intermediates (smoothed, differentiated), the horizontal filters give the
four gradients, and the squared magnitude difference goes straight into the pairwise sum. The
arithmetic runs on 8 pixels at a time (``simd.Vec8``: each lane is the scalar computation of
one pixel, so vectorising changes no result), and nothing image-sized is materialised.
"""
from __future__ import annotations

import functools

import numpy as np
from numba import njit

from ..pairwise import BLOCK, block_sum, leaf_bounds, pairwise_schedule, tree_sum
from .simd import load8, sqrt8, store8, to_f32, to_f64

SIGMA = 1.4
TRUNCATE = 4.0          # scipy's default
RADIUS = int(TRUNCATE * SIGMA + 0.5)     # 6: 13 taps; a constant, so the tap loops unroll
DBL_EPSILON = np.finfo(np.float64).eps


@functools.lru_cache(maxsize=None)
def filter_weights(order: int) -> tuple[np.ndarray, float]:
    """The weights scipy's ``correlate1d`` receives for ``gaussian_filter1d(.., order)`` and the
    symmetry it detects (+1 symmetric, -1 antisymmetric), read off an impulse response so they
    are scipy's own numbers bit for bit."""
    from scipy.ndimage import gaussian_filter1d  # 0.2 s to import: only when the weights are first needed

    radius = RADIUS
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


GROUP = 4    # output rows per vertical pass: 16 row loads serve 4 rows instead of 13 each
assert RADIUS == 6, "the 13-tap kernels below are written out for radius 6"


@njit(cache=True, inline="always")
def _sym13(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, w):
    """scipy's symmetric correlation of the 13 values v0..v12 (v6 the centre)."""
    s = v6 * w[6]
    s = s + (v0 + v12) * w[0]
    s = s + (v1 + v11) * w[1]
    s = s + (v2 + v10) * w[2]
    s = s + (v3 + v9) * w[3]
    s = s + (v4 + v8) * w[4]
    s = s + (v5 + v7) * w[5]
    return s


@njit(cache=True, inline="always")
def _anti13(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, w):
    """scipy's antisymmetric correlation of the 13 values v0..v12 (v6 the centre)."""
    d = v6 * w[6]
    d = d + (v0 - v12) * w[0]
    d = d + (v1 - v11) * w[1]
    d = d + (v2 - v10) * w[2]
    d = d + (v3 - v9) * w[3]
    d = d + (v4 - v8) * w[4]
    d = d + (v5 - v7) * w[5]
    return d


@njit(cache=True, inline="always")
def _taps(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, ws, wd):
    """Both correlations of v0..v12, rounded to float32 and widened back."""
    s = _sym13(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, ws)
    d = _anti13(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, wd)
    return to_f64(to_f32(s)), to_f64(to_f32(d))


@njit(cache=True)
def _vertical(x, off, ws, wd, es, ed):
    """GROUP consecutive rows of the symmetric (ws) and antisymmetric (wd) correlations along
    axis 0, rounded to float32 (the first pass's output dtype) and kept as doubles in
    ``es[u, R:R+w]``, ``ed[u, R:R+w]``, then extended by R reflected pixels each side for the
    pass along axis 1. ``off[q]``: flat offset of the (reflected) input row q - R of the group,
    so output row u reads rows off[u .. u + 2R]."""
    w = es.shape[1] - 2 * RADIUS
    m = w - w % 8
    s0, s1, s2, s3 = es[0], es[1], es[2], es[3]
    d0, d1, d2, d3 = ed[0], ed[1], ed[2], ed[3]
    for c in range(0, m, 8):
        v0 = load8(x, off[0] + c)
        v1 = load8(x, off[1] + c)
        v2 = load8(x, off[2] + c)
        v3 = load8(x, off[3] + c)
        v4 = load8(x, off[4] + c)
        v5 = load8(x, off[5] + c)
        v6 = load8(x, off[6] + c)
        v7 = load8(x, off[7] + c)
        v8 = load8(x, off[8] + c)
        v9 = load8(x, off[9] + c)
        v10 = load8(x, off[10] + c)
        v11 = load8(x, off[11] + c)
        v12 = load8(x, off[12] + c)
        v13 = load8(x, off[13] + c)
        v14 = load8(x, off[14] + c)
        v15 = load8(x, off[15] + c)
        o = RADIUS + c
        s, d = _taps(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, ws, wd)
        store8(s0, o, s)
        store8(d0, o, d)
        s, d = _taps(v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, ws, wd)
        store8(s1, o, s)
        store8(d1, o, d)
        s, d = _taps(v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, ws, wd)
        store8(s2, o, s)
        store8(d2, o, d)
        s, d = _taps(v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, ws, wd)
        store8(s3, o, s)
        store8(d3, o, d)
    for u in range(GROUP):
        for c in range(m, w):
            v = x[off[u + RADIUS] + c]
            s = v * ws[RADIUS]
            d = v * wd[RADIUS]
            for k in range(RADIUS):
                a = x[off[u + k] + c]
                b = x[off[u + 2 * RADIUS - k] + c]
                s += (a + b) * ws[k]
                d += (a - b) * wd[k]
            es[u, RADIUS + c] = np.float64(np.float32(s))
            ed[u, RADIUS + c] = np.float64(np.float32(d))
        # scipy extends each line by reflection before correlating it along axis 1
        for k in range(RADIUS):
            es[u, k] = es[u, RADIUS + _reflect(k - RADIUS, w)]
            ed[u, k] = ed[u, RADIUS + _reflect(k - RADIUS, w)]
            es[u, w + RADIUS + k] = es[u, RADIUS + _reflect(w + k, w)]
            ed[u, w + RADIUS + k] = ed[u, RADIUS + _reflect(w + k, w)]


@njit(cache=True)
def _magnitude(es, ed, ws, wd, mag):
    """|gradient| along axis 1 of the extended rows: x-gradient = smoothing (ws) of the vertical
    derivative ``ed``, y-gradient = derivative (wd) of the vertical smoothing ``es``; each
    rounded to float32, then ``sqrt(gx**2 + gy**2)`` in float32. Output pixels c..c+7 read
    es/ed[c .. c+19]; the 5 vectors at c+8.. are carried over to the next 8 pixels."""
    w = mag.size
    m = w - w % 8
    if m > 0:
        a0, a1, a2, a3, a4 = load8(ed, 0), load8(ed, 1), load8(ed, 2), load8(ed, 3), load8(ed, 4)
        b0, b1, b2, b3, b4 = load8(es, 0), load8(es, 1), load8(es, 2), load8(es, 3), load8(es, 4)
        for c in range(0, m, 8):
            a5, a6, a7, a8 = load8(ed, c + 5), load8(ed, c + 6), load8(ed, c + 7), load8(ed, c + 8)
            a9, a10, a11, a12 = load8(ed, c + 9), load8(ed, c + 10), load8(ed, c + 11), load8(ed, c + 12)
            gx = _sym13(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, ws)
            b5, b6, b7, b8 = load8(es, c + 5), load8(es, c + 6), load8(es, c + 7), load8(es, c + 8)
            b9, b10, b11, b12 = load8(es, c + 9), load8(es, c + 10), load8(es, c + 11), load8(es, c + 12)
            gy = _anti13(b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, wd)
            fx = to_f32(gx)
            fy = to_f32(gy)
            store8(mag, c, sqrt8(fx * fx + fy * fy))
            a0, a1, a2, a3, a4 = a8, a9, a10, a11, a12
            b0, b1, b2, b3, b4 = b8, b9, b10, b11, b12
    for c in range(m, w):
        gx = ed[c + RADIUS] * ws[RADIUS]
        gy = es[c + RADIUS] * wd[RADIUS]
        for k in range(RADIUS):
            gx += (ed[c + k] + ed[c + 2 * RADIUS - k]) * ws[k]
            gy += (es[c + k] - es[c + 2 * RADIUS - k]) * wd[k]
        fx = np.float32(gx)
        fy = np.float32(gy)
        mag[c] = np.sqrt(fx * fx + fy * fy)


@njit(cache=True)
def _gradient_sum(p, g, h, w, ws, wd):
    """float32 ``np.sum((|grad p| - |grad g|)**2)`` over the h x w images (flat p, g).

    Rows of the error map are appended to a small window ``err``; whenever NumPy's pairwise
    blocks are complete they are reduced (block_sum) and dropped, the unfinished tail moved to
    the front. The block sums are then added up NumPy's tree (tree_sum)."""
    sched = pairwise_schedule(h * w)
    bounds = leaf_bounds(sched)
    leaf = np.empty(bounds.size - 1, dtype=np.float32)
    off = np.empty(GROUP + 2 * RADIUS, dtype=np.int64)
    es_p = np.empty((GROUP, w + 2 * RADIUS))
    ed_p = np.empty((GROUP, w + 2 * RADIUS))
    es_g = np.empty((GROUP, w + 2 * RADIUS))
    ed_g = np.empty((GROUP, w + 2 * RADIUS))
    mag_p = np.empty(w, dtype=np.float32)
    mag_g = np.empty(w, dtype=np.float32)
    err = np.empty(w + 2 * BLOCK, dtype=np.float32)    # a row and the unfinished block
    base = 0        # flat index of err[0]
    used = 0        # values held in err
    j = 0           # next block to reduce
    m = w - w % 8
    for i0 in range(0, h, GROUP):
        for q in range(GROUP + 2 * RADIUS):      # rows past the end only feed unused outputs
            off[q] = _reflect(i0 - RADIUS + q, h) * w
        _vertical(p, off, ws, wd, es_p, ed_p)
        _vertical(g, off, ws, wd, es_g, ed_g)
        for u in range(min(GROUP, h - i0)):
            _magnitude(es_p[u], ed_p[u], ws, wd, mag_p)
            _magnitude(es_g[u], ed_g[u], ws, wd, mag_g)
            out = err[used:used + w]
            for c in range(0, m, 8):
                d = load8(mag_p, c) - load8(mag_g, c)
                store8(out, c, d * d)
            for c in range(m, w):
                d = mag_p[c] - mag_g[c]
                out[c] = d * d
            used += w
            while j < leaf.size and bounds[j + 1] <= base + used:
                leaf[j] = block_sum(err, bounds[j] - base, bounds[j + 1] - bounds[j], np.float32(0))
                j += 1
            keep = base + used - bounds[j]
            for c in range(keep):
                err[c] = err[used - keep + c]
            base = bounds[j]
            used = keep
    return tree_sum(sched, leaf, np.float32(0))


def grad(pred: np.ndarray, alpha: np.ndarray) -> float:
    """Gradient error: float32 ``sum((|grad pred| - |grad alpha|)**2) / 10`` over the whole image,
    exactly the official float32 value (returned as a Python float)."""
    p = np.ascontiguousarray(pred, dtype=np.float64)
    g = np.ascontiguousarray(alpha, dtype=np.float64)
    if p.ndim != 2 or p.shape != g.shape:
        raise ValueError(f"pred and alpha must be equal-size 2-D arrays: {p.shape} vs {g.shape}")
    if p.size == 0:
        raise ValueError("empty image")
    ws, _ = filter_weights(0)
    wd, _ = filter_weights(1)
    total = _gradient_sum(p.ravel(), g.ravel(), p.shape[0], p.shape[1], ws, wd)
    return float(np.float32(total) / np.float32(10))
