"""SAD / MSE / MAD over the whole image, over the trimap-fixed image and over the fg / bg regions.

Official units (``core/evaluate.py``): sums of absolute errors are divided by 1000, means by a
pixel count. One fused numba pass computes the six sums in NumPy's pairwise order (so they equal
the official ``np.sum`` values exactly) without building the official temporaries: each term is
the official temporary's value for that pixel (same operations on the same float64 numbers),
added in the same order as ``np.sum`` adds that temporary.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..pairwise import leaf_bounds, pairwise_schedule, tree_sum
from .simd import abs8, count8, lane_sum8, load8, where8

# positions of the six sums in the fused kernel's result
_ABS, _SQ, _ABS_T, _SQ_T, _ABS_FG, _ABS_BG = range(6)


@njit(cache=True, inline="always")
def _terms8(p, g, t, i):
    """The six terms of pixels i..i+7, as the official temporaries hold them, and how many of
    the pixels have trimap 0 / 128 / 255."""
    pv = load8(p, i)
    gv = load8(g, i)
    tv = load8(t, i)
    fg = tv == np.uint8(255)
    bg = tv == np.uint8(0)
    d = pv - gv
    ad = abs8(d)
    # trimap-fixed prediction: 1.0 / 0.0 where the trimap is 255 / 0, then minus alpha
    dt = where8(fg, 1.0 - gv, where8(bg, 0.0 - gv, d))
    # fg / bg: diff * weight_fg (a product, as the official code has it)
    return (ad, d * d, abs8(dt), dt * dt, ad * where8(fg, 1.0, 0.0), ad * where8(bg, 1.0, 0.0),
            count8(bg), count8(tv == np.uint8(128)), count8(fg))


@njit(cache=True, inline="always")
def _terms1(p, g, t, i):
    """The same for pixel i alone."""
    pv = p[i]
    gv = g[i]
    tv = t[i]
    fg = tv == 255
    bg = tv == 0
    d = pv - gv
    ad = abs(d)
    dt = (1.0 - gv) if fg else ((0.0 - gv) if bg else d)
    return (ad, d * d, abs(dt), dt * dt, ad * (1.0 if fg else 0.0), ad * (1.0 if bg else 0.0),
            1 if bg else 0, 1 if tv == 128 else 0, 1 if fg else 0)


@njit(cache=True)
def _fused(p, g, t):
    """The six sums (NumPy's pairwise order) and the counts of trimap 0 / 128 / 255.

    NumPy's lane j of a block starting at s adds the pixels s+j, s+8+j, s+16+j, ...: the lane j
    of the block's consecutive 8-pixel vectors. So each block's six lane accumulators stay in
    registers while its terms are computed, ``lane_sum8`` combines them as NumPy does and the
    block's last pixels (fewer than 8) are added one by one. NumPy's tree then adds the block
    sums."""
    sched = pairwise_schedule(p.size)
    bounds = leaf_bounds(sched)
    leaf = np.empty((6, bounds.size - 1))
    n0 = 0
    n128 = 0
    n255 = 0
    for j in range(bounds.size - 1):
        s = bounds[j]
        e = bounds[j + 1]
        m8 = s + (e - s) // 8 * 8
        r0 = r1 = r2 = r3 = r4 = r5 = 0.0
        if m8 > s:
            a0, a1, a2, a3, a4, a5, c0, c128, c255 = _terms8(p, g, t, s)
            n0 += c0
            n128 += c128
            n255 += c255
            for i in range(s + 8, m8, 8):
                b0, b1, b2, b3, b4, b5, c0, c128, c255 = _terms8(p, g, t, i)
                a0 = a0 + b0
                a1 = a1 + b1
                a2 = a2 + b2
                a3 = a3 + b3
                a4 = a4 + b4
                a5 = a5 + b5
                n0 += c0
                n128 += c128
                n255 += c255
            r0, r1, r2 = lane_sum8(a0), lane_sum8(a1), lane_sum8(a2)
            r3, r4, r5 = lane_sum8(a3), lane_sum8(a4), lane_sum8(a5)
        for i in range(m8, e):
            b0, b1, b2, b3, b4, b5, c0, c128, c255 = _terms1(p, g, t, i)
            r0 += b0
            r1 += b1
            r2 += b2
            r3 += b3
            r4 += b4
            r5 += b5
            n0 += c0
            n128 += c128
            n255 += c255
        leaf[0, j], leaf[1, j], leaf[2, j] = r0, r1, r2
        leaf[3, j], leaf[4, j], leaf[5, j] = r3, r4, r5
    sums = (tree_sum(sched, leaf[0], 0.0), tree_sum(sched, leaf[1], 0.0), tree_sum(sched, leaf[2], 0.0),
            tree_sum(sched, leaf[3], 0.0), tree_sum(sched, leaf[4], 0.0), tree_sum(sched, leaf[5], 0.0))
    return sums, np.array([n0, n128, n255])


def _flat(pred, alpha, trimap=None):
    p = np.ascontiguousarray(pred, dtype=np.float64).ravel()
    g = np.ascontiguousarray(alpha, dtype=np.float64).ravel()
    if p.shape != g.shape:
        raise ValueError(f"pred and alpha differ in size: {np.shape(pred)} vs {np.shape(alpha)}")
    if trimap is None:
        t = np.full(p.size, 128, dtype=np.uint8)
    else:
        t = np.ascontiguousarray(trimap, dtype=np.uint8).ravel()
        if t.shape != p.shape:
            raise ValueError(f"trimap differs in size: {np.shape(trimap)} vs {np.shape(pred)}")
    return p, g, t


def sad_mse_mad_group(pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray) -> dict[str, float | None]:
    """The eight SAD/MSE/MAD values of the "aim" variant in one pass.

    ``mse_trimap`` and ``mad_trimap`` divide by the number of unknown (128) pixels; when there is
    none the official code divides by ``N - #255 - #0`` (0 for a valid trimap: inf or nan), and
    matbench returns ``None`` for both instead — the image has no unknown region. ``sad_trimap``
    stays defined.
    """
    p, g, t = _flat(pred, alpha, trimap)
    if p.size == 0:
        raise ValueError("empty image")
    sums, counts = _fused(p, g, t)
    n = p.size
    unknown = int(counts[1])
    if unknown == 0:
        unknown = n - int(counts[2]) - int(counts[0])     # the official fallback
    return {
        "sad": sums[_ABS] / 1000,
        "mse": sums[_SQ] / n,
        "mad": sums[_ABS] / n,
        "sad_trimap": sums[_ABS_T] / 1000,
        "mse_trimap": sums[_SQ_T] / unknown if unknown else None,
        "mad_trimap": sums[_ABS_T] / unknown if unknown else None,
        "sad_fg": sums[_ABS_FG] / 1000,
        "sad_bg": sums[_ABS_BG] / 1000,
    }


def sad(pred: np.ndarray, alpha: np.ndarray) -> float:
    """Whole-image sum of absolute differences / 1000."""
    p, g, t = _flat(pred, alpha)
    return _fused(p, g, t)[0][_ABS] / 1000


def mse(pred: np.ndarray, alpha: np.ndarray) -> float:
    """Whole-image mean squared error."""
    p, g, t = _flat(pred, alpha)
    return _fused(p, g, t)[0][_SQ] / p.size


def mad(pred: np.ndarray, alpha: np.ndarray) -> float:
    """Whole-image mean absolute difference."""
    p, g, t = _flat(pred, alpha)
    return _fused(p, g, t)[0][_ABS] / p.size


def sad_trimap(pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray) -> float:
    """SAD / 1000 after setting ``pred`` to 1 where trimap is 255 and to 0 where it is 0."""
    return sad_mse_mad_group(pred, alpha, trimap)["sad_trimap"]


def mse_trimap(pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray) -> float | None:
    """Squared error of the trimap-fixed prediction / #unknown pixels (None if there is none)."""
    return sad_mse_mad_group(pred, alpha, trimap)["mse_trimap"]


def mad_trimap(pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray) -> float | None:
    """Absolute error of the trimap-fixed prediction / #unknown pixels (None if there is none)."""
    return sad_mse_mad_group(pred, alpha, trimap)["mad_trimap"]


def sad_fg(pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray) -> float:
    """SAD / 1000 over the trimap's foreground (255)."""
    return sad_mse_mad_group(pred, alpha, trimap)["sad_fg"]


def sad_bg(pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray) -> float:
    """SAD / 1000 over the trimap's background (0)."""
    return sad_mse_mad_group(pred, alpha, trimap)["sad_bg"]
