"""Connectivity error of the "aim" variant: ``compute_connectivity_loss_whole_image``.

Official algorithm, for each threshold t_i of ``np.arange(0, 1.1, 0.1)[1:]`` (float values: the
7th is 0.6000000000000001, so 8-bit 153/255 fails it): Omega_i = the largest 4-connected
component of ``(pred >= t_i) & (alpha >= t_i)`` (ties: the component met first in raster
order, skimage's label order); an empty intersection is skipped; a pixel's level ``l`` is
``t_{i-1}`` for the first non-skipped i with the pixel outside Omega_i, stored in a float32
map, else 1; ``phi(x) = 1 - (x - l) * [x - l >= 0.15]``; ``conn = sum|phi(pred) - phi(alpha)| /
1000``. (The official code also computes a distance transform it never uses; we do not.)

Fast path: the ten masks are nested level sets of ``k = #{i : min(pred, alpha) >= t_i}``, so
one union-find pass that adds pixels from level 10 down to level 1 sees every component of
every mask. Links of the (uncompressed) merge forest remember the level at which they were
made, which gives in one more pass, per pixel, the set of levels at which it lies in Omega_i.
The final sum follows NumPy's pairwise order, so the value equals the official one exactly.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..pairwise import COMBINE, pairwise_schedule


#: the official thresholds, bit for bit (arange's float values, not 0.1 * i)
THRESHOLDS = np.arange(0, 1.1, 0.1)
#: ``l`` given to a pixel first outside Omega_i: t_{i-1} as stored in the float32 l_map
LEVEL_VALUES = np.array([np.float64(np.float32(t)) for t in THRESHOLDS[:-1]] + [1.0])
NLEV = THRESHOLDS.size - 1


@njit(cache=True)
def _levels(p, g, th):
    """k per pixel: how many thresholds min(p, g) reaches (the masks are the sets k >= i)."""
    n = p.size
    nlev = th.size - 1
    k = np.empty(n, dtype=np.uint8)
    for idx in range(n):
        m = min(p[idx], g[idx])
        # a guess from m * nlev, then corrected by exact comparisons with the thresholds
        j = min(max(int(m * nlev), 0), nlev)
        while j < nlev and m >= th[j + 1]:
            j += 1
        while j > 0 and m < th[j]:
            j -= 1
        k[idx] = j
    return k


@njit(cache=True, inline="always")
def _levroot(parent, k, x):
    """The node (level root) of pixel x: follow same-level parents, compressing the path."""
    r = x
    while True:
        q = parent[r]
        if q < 0 or k[q] != k[r]:
            break
        r = q
    while x != r:
        q = parent[x]
        parent[x] = r
        x = q
    return r


@njit(cache=True, inline="always")
def _connect(parent, k, x, y):
    """Merge the root paths of neighbours x and y (both at level >= 1) into one path sorted by
    level: afterwards they share every node at levels <= min(k[x], k[y])."""
    x = _levroot(parent, k, x)
    y = _levroot(parent, k, y)
    if k[y] > k[x]:
        x, y = y, x
    while x != y and y >= 0:
        if k[x] == k[y] and x < y:
            # equal levels: the older (smaller) pixel stays the node, which keeps paths short
            x, y = y, x
        z = parent[x]
        if z >= 0:
            z = _levroot(parent, k, z)
        if z >= 0 and k[z] >= k[y]:
            x = z
        else:
            parent[x] = y
            x = y
            y = z


@njit(cache=True)
def _membership(k, w, nlev):
    """Per pixel, a bit mask of the levels i at which it lies in Omega_i; and the highest
    level whose mask is not empty (0: all empty).

    Builds the component tree of the level map k in one raster pass (merging root paths of
    neighbours, as in Wilkinson et al.'s concurrent max-tree merge), so memory is walked in
    order; a node's component at level i is its subtree, Omega_i the largest one."""
    n = k.size
    parent = np.empty(n, dtype=np.int32)
    parent[:] = -1
    for a in range(1, min(w, n)):                # first row: left neighbours only
        if k[a] > 0 and k[a - 1] > 0:
            _connect(parent, k, a, a - 1)
    for row_start in range(w, n, w):             # (no a % w: a division per pixel is slow)
        a = row_start
        if k[a] > 0 and k[a - w] > 0:
            _connect(parent, k, a, a - w)
        for a in range(row_start + 1, row_start + w):
            if k[a] == 0:
                continue
            if k[a - w] > 0:
                _connect(parent, k, a, a - w)
            if k[a - 1] > 0:
                _connect(parent, k, a, a - 1)
    # nodes: area and first (raster) pixel of their own level's pixels, bucketed by level
    area = np.zeros(n, dtype=np.int32)       # int32 arrays: half the memory traffic of int64
    first = np.empty(n, dtype=np.int32)
    counts = np.zeros(nlev + 1, dtype=np.int64)
    for a in range(n):
        if k[a] == 0:
            continue
        r = _levroot(parent, k, a)
        if area[r] == 0:
            first[r] = a
            counts[k[r]] += 1
        area[r] += 1
    start = np.zeros(nlev + 2, dtype=np.int64)
    for j in range(1, nlev + 1):
        start[j + 1] = start[j] + counts[j]
    nodes = np.empty(max(start[nlev + 1], 1), dtype=np.int32)
    fill = start.copy()
    for a in range(n):
        if k[a] > 0 and area[a] > 0:          # a node: a level root
            nodes[fill[k[a]]] = a
            fill[k[a]] += 1
    # subtree sizes and first pixels, children (higher levels) before parents
    for q in range(start[nlev + 1] - 1, start[1] - 1, -1):
        v = nodes[q]
        pv = parent[v]
        if pv >= 0:
            pv = _levroot(parent, k, pv)
            parent[v] = pv
            area[pv] += area[v]
            if first[v] < first[pv]:
                first[pv] = first[v]
    # Omega_i: among nodes whose component is the one at level i (k[parent] < i <= k[v]),
    # the largest, ties to the smaller first pixel (skimage's label order)
    best = np.full(nlev + 1, -1, dtype=np.int64)
    for q in range(start[1], start[nlev + 1]):
        v = nodes[q]
        lo = k[parent[v]] + 1 if parent[v] >= 0 else 1
        for i in range(lo, k[v] + 1):
            b = best[i]
            if b < 0 or area[v] > area[b] or (area[v] == area[b] and first[v] < first[b]):
                best[i] = v
    top = 0
    for i in range(1, nlev + 1):
        if best[i] >= 0:
            top = i
    # membership of nodes, parents (lower levels) first, then of pixels
    member = np.zeros(n, dtype=np.uint16)
    for q in range(start[1], start[nlev + 1]):
        v = nodes[q]
        tag = 0
        for i in range(1, top + 1):          # the (at most nlev) Omega nodes, without a per-pixel map
            if best[i] == v:
                tag |= 1 << i
        pv = parent[v]
        if pv >= 0:
            member[v] = (member[pv] & np.uint16((2 << k[pv]) - 1)) | np.uint16(tag)
        else:
            member[v] = np.uint16(tag)
    for a in range(n):
        if k[a] > 0:
            member[a] = member[_levroot(parent, k, a)]
    return member, top


def level_table(top: int) -> np.ndarray:
    """``l`` for every membership bit mask: t_{i-1} for the lowest level i <= top missing from
    the mask, 1.0 when there is none."""
    table = np.ones(1 << (NLEV + 1))
    masks = np.arange(table.size)
    for i in range(top, 0, -1):          # lowest missing level wins: assign it last
        table[(masks >> i) & 1 == 0] = LEVEL_VALUES[i - 1]
    return table


@njit(cache=True, inline="always")
def _phi_term(p, g, member, table, idx):
    lv = table[member[idx]]
    dp = p[idx] - lv
    dg = g[idx] - lv
    fp = 1.0 - dp if dp >= 0.15 else 1.0
    fg = 1.0 - dg if dg >= 0.15 else 1.0
    return abs(fp - fg)


@njit(cache=True)
def _phi_block(p, g, member, table, s, n):
    if n < 8:
        res = 0.0
        for i in range(s, s + n):
            res += _phi_term(p, g, member, table, i)
        return res
    r = np.empty(8)
    for j in range(8):
        r[j] = _phi_term(p, g, member, table, s + j)
    m = n - n % 8
    i = 8
    while i < m:
        for j in range(8):
            r[j] += _phi_term(p, g, member, table, s + i + j)
        i += 8
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        res += _phi_term(p, g, member, table, s + i)
        i += 1
    return res


@njit(cache=True)
def _phi_sum(p, g, member, table):
    """sum |phi(p) - phi(g)| in NumPy's pairwise order."""
    sched = pairwise_schedule(p.size)
    stack = np.empty(64)
    sp = 0
    for q in range(sched.shape[0]):
        if sched[q, 0] == COMBINE:
            stack[sp - 2] = stack[sp - 2] + stack[sp - 1]
            sp -= 1
        else:
            stack[sp] = _phi_block(p, g, member, table, sched[q, 0], sched[q, 1])
            sp += 1
    return 0.0 + stack[0]


def conn(pred: np.ndarray, alpha: np.ndarray) -> float:
    """Connectivity error / 1000 over the whole image, equal to the official value."""
    p = np.ascontiguousarray(pred, dtype=np.float64)
    g = np.ascontiguousarray(alpha, dtype=np.float64)
    if p.ndim != 2 or p.shape != g.shape:
        raise ValueError(f"pred and alpha must be equal-size 2-D arrays: {p.shape} vs {g.shape}")
    if p.size >= 2**31 - 1:
        raise ValueError("image too large for 32-bit pixel indices")
    pf, gf = p.ravel(), g.ravel()
    k = _levels(pf, gf, THRESHOLDS)
    member, top = _membership(k, p.shape[1], NLEV)
    return _phi_sum(pf, gf, member, level_table(top)) / 1000
