"""Connectivity error of the "aim" variant: ``compute_connectivity_loss_whole_image``.

Official algorithm, for each threshold t_i of ``np.arange(0, 1.1, 0.1)[1:]`` (float values: the
7th is 0.6000000000000001, so 8-bit 153/255 fails it): Omega_i = the largest 4-connected
component of ``(pred >= t_i) & (alpha >= t_i)`` (ties: the component met first in raster
order, skimage's label order); an empty intersection is skipped; a pixel's level ``l`` is
``t_{i-1}`` for the first non-skipped i with the pixel outside Omega_i, stored in a float32
map, else 1; ``phi(x) = 1 - (x - l) * [x - l >= 0.15]``; ``conn = sum|phi(pred) - phi(alpha)| /
1000``. (The official code also computes a distance transform it never uses; we do not.)

Fast path, exactly equivalent:

1. Levels. The masks are the nested level sets ``k >= i`` of ``k = #{i : pred >= t_i and
   alpha >= t_i}`` (one uint8 per pixel).
2. Runs. Each row of each mask is a list of runs (maximal horizontal segments), read off
   64-pixel bit masks (one vector compare of 64 levels each): run starts and ends are where the
   mask bit changes. Each run is united (union-find over runs) with the runs of the same level
   in the row above that share a column: 4-connectivity. Runs are numbered by row, level and
   column, so within a level in raster order; union keeps the smaller number as root, so a
   component's root is its first run and a component met earlier in raster order has the
   smaller root. Each run also records ``up``, the run one level down that contains it.
3. Omega_i = the root of level i with the largest area, ties to the smaller root: skimage's
   first label. Pixels that are in every one of Omega_1..Omega_i form A_i. Omega_i is a
   connected part of mask i-1, so it lies inside one component of mask i-1: A_i is Omega_i
   when Omega_i lies in Omega_{i-1} (checked on ``up`` of Omega_i's root) and empty from the
   first i where it does not (``chain``: the last i with A_i = Omega_i). The official level of
   a pixel is then l = t_d with d the number of i whose A_i holds it, or 1 when d = top (top:
   the highest non-empty mask, so the pixel was never outside an Omega). d = min(k, chain)
   except in runs outside A whose ``up`` is inside A; only those are painted into the map.
4. ``sum |phi(pred) - phi(alpha)|`` in NumPy's pairwise order, 8 pixels at a time.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..pairwise import leaf_bounds, pairwise_schedule, tree_sum
from .simd import abs8, ge_mask64, lane_sum8, load8, store8, to_f32, to_f64, to_u8, trailing_zeros, where8

#: the official thresholds, bit for bit (arange's float values, not 0.1 * i)
THRESHOLDS = np.arange(0, 1.1, 0.1)
NLEV = THRESHOLDS.size - 1
# arange's values are start + i * step: t_i is i * 0.1 to the bit, which the phi kernel uses
assert all(THRESHOLDS[i] == i * 0.1 for i in range(NLEV + 1))
# compile-time constants for the level kernel
_T1, _T2, _T3, _T4, _T5, _T6, _T7, _T8, _T9, _T10 = (float(t) for t in THRESHOLDS[1:])
assert NLEV == 10


@njit(cache=True)
def _levels(p, g):
    """k per pixel (uint8), followed by 64 zero bytes so that 64-pixel words never read past
    the end. ``(pred >= t) & (alpha >= t)`` is ``min(pred, alpha) >= t``, and a NaN in either
    fails every test, as in the official code. 8 pixels at a time, k counted in float lanes."""
    n = p.size
    k = np.zeros(n + 64, dtype=np.uint8)
    m8 = n - n % 8
    for i in range(0, m8, 8):
        a = load8(p, i)
        b = load8(g, i)
        m = where8(a < b, a, b)      # b when b is NaN
        m = where8(a == a, m, a)     # NaN when a is NaN
        j = where8(m >= _T1, 1.0, 0.0)
        j = j + where8(m >= _T2, 1.0, 0.0)
        j = j + where8(m >= _T3, 1.0, 0.0)
        j = j + where8(m >= _T4, 1.0, 0.0)
        j = j + where8(m >= _T5, 1.0, 0.0)
        j = j + where8(m >= _T6, 1.0, 0.0)
        j = j + where8(m >= _T7, 1.0, 0.0)
        j = j + where8(m >= _T8, 1.0, 0.0)
        j = j + where8(m >= _T9, 1.0, 0.0)
        j = j + where8(m >= _T10, 1.0, 0.0)
        store8(k, i, to_u8(j))
    for i in range(m8, n):
        a = p[i]
        b = g[i]
        m = a if a < b else b
        m = m if a == a else a
        j = 0
        for t in (_T1, _T2, _T3, _T4, _T5, _T6, _T7, _T8, _T9, _T10):
            j += 1 if m >= t else 0
        k[i] = j
    return k


@njit(cache=True, inline="always")
def _find(uf, x):
    while uf[x] != x:
        uf[x] = uf[uf[x]]      # path halving
        x = uf[x]
    return x


@njit(cache=True)
def _count_runs(k, h, w):
    """The number of runs of all masks together: each rise of k by j opens j runs."""
    runs = 0
    for r in range(h):
        kr = k[r * w:(r + 1) * w]
        rises = np.int64(kr[0])
        for c in range(1, w):
            rises += max(np.int64(kr[c]) - np.int64(kr[c - 1]), 0)
        runs += rises
    return runs


@njit(cache=True)
def _runs(k, h, w, capacity):
    """The runs of all masks, numbered by row, then level, then column (so, within a level, in
    raster order): start (flat index), length, level, ``up`` (the run one level down that
    contains it, -1 at level 1) and the union-find forest ``uf`` of 4-connected runs (links
    point to smaller numbers; roots: the first run of each component). Returns empty arrays
    and -1 when there are more than ``capacity`` runs."""
    start = np.empty(capacity, dtype=np.int32)
    length = np.empty(capacity, dtype=np.int32)
    level = np.empty(capacity, dtype=np.uint8)
    up = np.empty(capacity, dtype=np.int32)
    uf = np.empty(capacity, dtype=np.int32)
    # per row parity and level, the row's runs: first column, end column, number
    cap = w // 2 + 2
    row_s = np.empty((2, NLEV + 1, cap), dtype=np.int32)
    row_e = np.empty((2, NLEV + 1, cap), dtype=np.int32)
    row_id = np.empty((2, NLEV + 1, cap), dtype=np.int32)
    row_n = np.zeros((2, NLEV + 1), dtype=np.int64)
    one = np.uint64(1)
    nr = 0
    words = w // 64 + 1          # the last word holds column w, where every run has ended
    for r in range(h):
        base = r * w
        cur = r % 2
        above = 1 - cur
        row_n[cur, :] = 0
        for lev in range(1, NLEV + 1):
            n = 0                    # runs of this level in this row
            n_above = row_n[above, lev] if r > 0 else 0
            scan = 0                 # first run above that may still overlap the next run
            inner = 0                # first run one level down that may contain the next run
            s = 0                    # first column of the open run
            carry = np.uint64(0)     # mask bit of the previous column: a run is open
            for q in range(words):
                m = ge_mask64(k, base + 64 * q, lev)
                if q == words - 1:           # keep columns < w: the rest is the next row
                    m &= (one << np.uint64(w - 64 * q)) - one
                # bits where the mask changes: starts and ends of runs, alternately
                edges = m ^ ((m << one) | carry)
                open_run = carry != 0
                carry = m >> np.uint64(63)
                while edges != 0:
                    if not open_run:
                        s = 64 * q + np.int64(trailing_zeros(edges))
                        edges &= edges - one
                        if edges == 0:
                            break            # the run goes on into the next word
                    open_run = False
                    c = 64 * q + np.int64(trailing_zeros(edges))
                    edges &= edges - one
                    run = nr         # the run [s, c) of this level is complete
                    if run == capacity:
                        return start[:0], length[:0], level[:0], up[:0], uf[:0], -1
                    nr += 1
                    start[run] = base + s
                    length[run] = c - s
                    level[run] = lev
                    uf[run] = run
                    if lev > 1:
                        while row_e[cur, lev - 1, inner] <= s:
                            inner += 1
                        up[run] = row_id[cur, lev - 1, inner]
                    else:
                        up[run] = -1
                    # 4-connectivity: unite with the runs above that share a column
                    root = run
                    i = scan
                    while i < n_above and row_e[above, lev, i] <= s:
                        i += 1
                    scan = i
                    while i < n_above and row_s[above, lev, i] < c:
                        other = _find(uf, row_id[above, lev, i])
                        if other < root:
                            uf[root] = other
                            root = other
                        elif root < other:
                            uf[other] = root
                        i += 1
                    row_s[cur, lev, n] = s
                    row_e[cur, lev, n] = c
                    row_id[cur, lev, n] = run
                    n += 1
            row_n[cur, lev] = n
            if n == 0:
                break                # the masks are nested: higher levels are empty here too
    return start[:nr], length[:nr], level[:nr], up[:nr], uf[:nr], nr


@njit(cache=True)
def _paint_depth(k, start, length, level, up, uf):
    """Turn k into d (see the module docstring) and return (top, chain): the highest
    non-empty level (0: every mask empty) and the last i with A_i = Omega_i.

    d(x) is min(k(x), chain) unless one of x's runs at levels <= chain is outside A: then it
    is one less than the level of the first such run. Those first runs (outside A, their run
    one level down inside A) are the only ones painted; the phi kernel caps d at chain."""
    nr = start.size
    # links always point to a smaller number, so one pass in order points every run at its root
    for i in range(nr):
        uf[i] = uf[uf[i]]
    area = np.zeros(nr, dtype=np.int64)
    for i in range(nr):
        area[uf[i]] += length[i]
    best = np.full(NLEV + 1, -1, dtype=np.int64)
    top = 0
    for i in range(nr):
        if uf[i] == i:
            lev = level[i]
            if best[lev] < 0 or area[i] > area[best[lev]]:    # ties: the earlier root stays
                best[lev] = i
            top = max(top, np.int64(lev))
    chain = 0
    for i in range(1, top + 1):
        if i > 1 and uf[up[best[i]]] != best[i - 1]:
            break
        chain = i
    inside = np.zeros(nr, dtype=np.bool_)       # run in A_level (a run comes after its up)
    for i in range(nr):
        lev = level[i]
        if lev > chain:
            continue
        inside[i] = uf[i] == best[lev]
        if not inside[i] and (lev == 1 or inside[up[i]]):
            s = start[i]
            k[s:s + length[i]] = lev - 1
    return top, chain


@njit(cache=True, inline="always")
def _phi8(p, g, d, i, top, chain):
    """``|phi(p) - phi(g)|`` of pixels i..i+7 with their level values: l = f32(t_d') for
    d' = min(d, chain) below top, else 1.0. t_j is j * 0.1 to the bit (checked at import), so no
    table is needed; phi is the official ``1 - x * [x >= 0.15]`` with x = p - l (x * 0 keeps a
    NaN)."""
    dv = to_f64(load8(d, i))
    dv = where8(dv < chain, dv, chain)
    lv = where8(dv < top, to_f64(to_f32(dv * 0.1)), 1.0)
    xp = load8(p, i) - lv
    xg = load8(g, i) - lv
    fp = 1.0 - xp * where8(xp >= 0.15, 1.0, 0.0)
    fg = 1.0 - xg * where8(xg >= 0.15, 1.0, 0.0)
    return abs8(fp - fg)


@njit(cache=True, inline="always")
def _phi1(p, g, d, i, top, chain):
    """The same for pixel i alone."""
    dv = min(np.float64(d[i]), chain)
    lv = np.float64(np.float32(dv * 0.1)) if dv < top else 1.0
    xp = p[i] - lv
    xg = g[i] - lv
    fp = 1.0 - xp * (1.0 if xp >= 0.15 else 0.0)
    fg = 1.0 - xg * (1.0 if xg >= 0.15 else 0.0)
    return abs(fp - fg)


@njit(cache=True)
def _phi_sum(p, g, d, top, chain):
    """sum |phi(p) - phi(g)| in NumPy's pairwise order. As in sad_mse_mad, each pairwise
    block's 8 lanes are the lanes of its consecutive 8-pixel vectors, accumulated in a register
    and combined as NumPy does (``lane_sum8``); NumPy's tree adds the block sums."""
    top_ = np.float64(top)
    chain_ = np.float64(chain)
    sched = pairwise_schedule(p.size)
    bounds = leaf_bounds(sched)
    leaf = np.empty(bounds.size - 1)
    for j in range(leaf.size):
        s = bounds[j]
        e = bounds[j + 1]
        m8 = s + (e - s) // 8 * 8
        res = 0.0
        if m8 > s:
            acc = _phi8(p, g, d, s, top_, chain_)
            for i in range(s + 8, m8, 8):
                acc = acc + _phi8(p, g, d, i, top_, chain_)
            res = lane_sum8(acc)
        for i in range(m8, e):
            res += _phi1(p, g, d, i, top_, chain_)
        leaf[j] = res
    return tree_sum(sched, leaf, 0.0)


def conn(pred: np.ndarray, alpha: np.ndarray) -> float:
    """Connectivity error / 1000 over the whole image, equal to the official value."""
    p = np.ascontiguousarray(pred, dtype=np.float64)
    g = np.ascontiguousarray(alpha, dtype=np.float64)
    if p.ndim != 2 or p.shape != g.shape:
        raise ValueError(f"pred and alpha must be equal-size 2-D arrays: {p.shape} vs {g.shape}")
    if p.size == 0:
        raise ValueError("empty image")
    h, w = p.shape
    if p.size + 64 >= 2**31:
        raise ValueError("image too large for 32-bit pixel indices")
    pf, gf = p.ravel(), g.ravel()
    k = _levels(pf, gf)
    *runs, nruns = _runs(k, h, w, p.size // 4 + 64)     # enough unless the image is noise
    if nruns < 0:
        *runs, nruns = _runs(k, h, w, _count_runs(k, h, w))
    top, chain = _paint_depth(k, *runs)
    return _phi_sum(pf, gf, k, top, chain) / 1000
