"""Connectivity error, "dim" variant: mmagic's ``ConnectivityError`` (step 0.1, /1000).

For each threshold ``t_i`` (i = 1..10) the reference labels ``B_i = {g >= t_i and p >= t_i}``
with 4-connectivity, keeps the largest component ``Omega_i`` (ties: the one whose first pixel
comes first in raster order, as OpenCV numbers labels) and gives every pixel that is still
unset and outside ``Omega_i`` the level ``t_{i-1}``; pixels in every ``Omega`` get 1. So a
pixel's level is ``t_d`` where ``d`` counts the leading thresholds whose ``Omega`` contains it.

Here each ``B_i`` is labelled as row runs (union-find over runs, not pixels), and the set of
pixels still unset is kept as runs too, so per threshold only a byte scan touches every pixel.
The error map is summed in NumPy's pairwise order without being stored, which gives the
reference's ``np.sum`` bit for bit.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..pairwise import leaf_bounds, pairwise_schedule, tree_sum

#: Thresholds exactly as ``np.arange(0, 1 + 0.1, 0.1)`` gives them: t6 is 0.6000000000000001,
#: so the 8-bit value 153 (exactly 0.6) does not reach it.
THRESHOLDS = np.arange(0, 1 + 0.1, 0.1)

#: The level of a pixel with depth d: t_d, and 1 for a pixel in every Omega.
_LEVELS = np.append(THRESHOLDS[:-1], 1.0)



@njit(cache=True)
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True)
def _depths(p, g, t):
    """``d`` per pixel (int8): how many leading thresholds t_1, t_2, ... have it in their Omega."""
    h, w = p.shape
    last = t.shape[0] - 1
    pf = p.ravel()
    gf = g.ravel()
    n = h * w
    # lev[x]: the highest i with x in B_i (0: none); the B_i are nested
    lev = np.empty(n, np.int8)
    for x in range(n):
        m = min(pf[x], gf[x])
        k = 0
        for j in range(1, last + 1):
            k += m >= t[j]
        lev[x] = k
    depth = np.zeros((h, w), np.int8)

    cap = h * ((w + 1) // 2)  # at most this many runs in any binary image of this size
    run_s = np.empty(cap, np.int32)
    run_e = np.empty(cap, np.int32)
    parent = np.empty(cap, np.int32)
    size = np.empty(cap, np.int64)
    row_ptr = np.empty(h + 1, np.int64)
    # runs of the pixels still unset (in every Omega so far), double-buffered
    alive_s = np.empty((2, cap), np.int32)
    alive_e = np.empty((2, cap), np.int32)
    alive_ptr = np.empty((2, h + 1), np.int64)
    for r in range(h):
        alive_s[0, r] = 0
        alive_e[0, r] = w
        alive_ptr[0, r] = r
    alive_ptr[0, h] = h
    cur = 0

    for i in range(1, last + 1):
        # row runs of B_i
        k = 0
        for r in range(h):
            row_ptr[r] = k
            base = r * w
            c = 0
            while c < w:
                if lev[base + c] >= i:
                    s = c
                    while c < w and lev[base + c] >= i:
                        c += 1
                    run_s[k] = s
                    run_e[k] = c
                    parent[k] = k
                    k += 1
                else:
                    c += 1
        row_ptr[h] = k
        if k == 0:
            break  # B_i empty: every unset pixel takes t_{i-1}, which depth already says

        # 4-connected runs: overlapping columns in consecutive rows. The root is the lowest run
        # index, i.e. the component's first run in raster order.
        for r in range(1, h):
            a, a_end = row_ptr[r - 1], row_ptr[r]
            b, b_end = row_ptr[r], row_ptr[r + 1]
            while a < a_end and b < b_end:
                if run_s[a] < run_e[b] and run_s[b] < run_e[a]:
                    ra = _find(parent, a)
                    rb = _find(parent, b)
                    if ra < rb:
                        parent[rb] = ra
                    elif rb < ra:
                        parent[ra] = rb
                if run_e[a] <= run_e[b]:
                    a += 1
                else:
                    b += 1
        for j in range(k):
            size[j] = 0
        for j in range(k):
            size[_find(parent, j)] += run_e[j] - run_s[j]
        best = -1
        best_size = 0
        for j in range(k):  # strict '>' in raster order: ties go to the first component
            if parent[j] == j and size[j] > best_size:
                best = j
                best_size = size[j]

        # unset pixels that stay unset: the old unset runs intersected with Omega_i's runs
        nxt = 1 - cur
        q = 0
        for r in range(h):
            alive_ptr[nxt, r] = q
            a, a_end = alive_ptr[cur, r], alive_ptr[cur, r + 1]
            b, b_end = row_ptr[r], row_ptr[r + 1]
            while a < a_end and b < b_end:
                if _find(parent, b) != best:
                    b += 1
                    continue
                lo = max(alive_s[cur, a], run_s[b])
                hi = min(alive_e[cur, a], run_e[b])
                if lo < hi:
                    alive_s[nxt, q] = lo
                    alive_e[nxt, q] = hi
                    q += 1
                    for c in range(lo, hi):
                        depth[r, c] = i
                if alive_e[cur, a] <= run_e[b]:
                    a += 1
                else:
                    b += 1
        alive_ptr[nxt, h] = q
        cur = nxt
        if q == 0:
            break
    return depth


@njit(cache=True, inline="always")
def _pixel_error(p, g, unknown, depth, levels, x):
    """``|phi_g - phi_p|`` masked to unknown pixels, in the reference's float64 operations.

    Written without branches (a mask multiplies, as in the reference): numba's loop is several
    times faster than with data-dependent ``if``s.
    """
    level = levels[depth[x]]
    dg = g[x] - level
    dp = p[x] - level
    phi_g = 1.0 - dg * (dg >= 0.15)
    phi_p = 1.0 - dp * (dp >= 0.15)
    return abs(phi_g - phi_p) * unknown[x]


@njit(cache=True)
def _error_block(p, g, unknown, depth, levels, s, n):
    """NumPy's pairwise sum of one block (``n <= 128``) of the error map: 8 interleaved lanes."""
    if n < 8:
        res = 0.0
        for x in range(s, s + n):
            res += _pixel_error(p, g, unknown, depth, levels, x)
        return res
    r0 = _pixel_error(p, g, unknown, depth, levels, s)
    r1 = _pixel_error(p, g, unknown, depth, levels, s + 1)
    r2 = _pixel_error(p, g, unknown, depth, levels, s + 2)
    r3 = _pixel_error(p, g, unknown, depth, levels, s + 3)
    r4 = _pixel_error(p, g, unknown, depth, levels, s + 4)
    r5 = _pixel_error(p, g, unknown, depth, levels, s + 5)
    r6 = _pixel_error(p, g, unknown, depth, levels, s + 6)
    r7 = _pixel_error(p, g, unknown, depth, levels, s + 7)
    m = n - n % 8
    for i in range(s + 8, s + m, 8):
        r0 += _pixel_error(p, g, unknown, depth, levels, i)
        r1 += _pixel_error(p, g, unknown, depth, levels, i + 1)
        r2 += _pixel_error(p, g, unknown, depth, levels, i + 2)
        r3 += _pixel_error(p, g, unknown, depth, levels, i + 3)
        r4 += _pixel_error(p, g, unknown, depth, levels, i + 4)
        r5 += _pixel_error(p, g, unknown, depth, levels, i + 5)
        r6 += _pixel_error(p, g, unknown, depth, levels, i + 6)
        r7 += _pixel_error(p, g, unknown, depth, levels, i + 7)
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for x in range(s + m, s + n):
        res += _pixel_error(p, g, unknown, depth, levels, x)
    return res


@njit(cache=True)
def _error_sum(p, g, unknown, depth, levels):
    """``np.sum`` of the reference's error map, in NumPy's pairwise order, without building it."""
    pf = p.ravel()
    gf = g.ravel()
    uf = unknown.ravel()
    df = depth.ravel()
    sched = pairwise_schedule(pf.size)
    bounds = leaf_bounds(sched)
    leaf = np.empty(bounds.size - 1)
    for j in range(leaf.size):
        leaf[j] = _error_block(pf, gf, uf, df, levels, bounds[j], bounds[j + 1] - bounds[j])
    return tree_sum(sched, leaf, 0.0)


def conn(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray) -> float:
    """Connectivity error over the unknown (128) pixels, /1000.

    ``pred`` and ``gt`` are float64 HxW in [0, 1] (as :func:`prepare_dim` returns them). Levels
    are computed on the whole image with 4-connectivity; when the intersection at a threshold is
    empty, every pixel not yet assigned takes the previous threshold.
    """
    p = np.ascontiguousarray(pred, dtype=np.float64)
    g = np.ascontiguousarray(gt, dtype=np.float64)
    unknown = np.ascontiguousarray(trimap == 128)
    if p.size == 0:
        return 0.0
    if p.size >= 2**31:
        raise ValueError("conn: image too large for 32-bit run indices")
    depth = _depths(p, g, THRESHOLDS)
    return float(_error_sum(p, g, unknown, depth, _LEVELS) / 1000)
