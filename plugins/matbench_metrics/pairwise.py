"""NumPy's pairwise summation, replicated in numba so fused kernels sum in NumPy's exact order.

``np.sum`` of a contiguous float array adds ``0.0 + pairwise(a)`` where ``pairwise`` sums blocks
of at most 128 values in 8 interleaved lanes and halves longer runs (at multiples of 8). Matching
that order is what makes our sums equal the official ``np.sum`` bit for bit, not just to 1e-15.

The tree is walked from a precomputed post-order schedule rather than by recursion: numba's
on-disk cache of recursive functions can crash when it is loaded again.
"""
from __future__ import annotations

import numpy as np
from numba import njit

BLOCK = 128
COMBINE = -1      # schedule entry: add the top two partial sums


@njit(cache=True)
def pairwise_schedule(n):
    """Post-order walk of NumPy's pairwise tree over n values: rows (start, length) for blocks
    (evaluate and push) and (COMBINE, 0) for internal nodes (pop two, push their sum)."""
    out = np.empty((2 * (n // 64) + 4, 2), dtype=np.int64)
    k = 0
    st_s = np.empty(64, dtype=np.int64)
    st_n = np.empty(64, dtype=np.int64)
    st_stage = np.empty(64, dtype=np.int64)
    st_s[0], st_n[0], st_stage[0] = 0, n, 0
    sp = 1
    while sp > 0:
        s, m, stage = st_s[sp - 1], st_n[sp - 1], st_stage[sp - 1]
        if m <= BLOCK:
            out[k, 0], out[k, 1] = s, m
            k += 1
            sp -= 1
            continue
        h = m // 2
        h -= h % 8
        if stage == 0:
            st_stage[sp - 1] = 1
            st_s[sp], st_n[sp], st_stage[sp] = s, h, 0
            sp += 1
        elif stage == 1:
            st_stage[sp - 1] = 2
            st_s[sp], st_n[sp], st_stage[sp] = s + h, m - h, 0
            sp += 1
        else:
            out[k, 0], out[k, 1] = COMBINE, 0
            k += 1
            sp -= 1
    return out[:k]


@njit(cache=True)
def block_sum(a, s, n, zero):
    """One block of NumPy's pairwise sum (n <= 128), accumulating in ``zero``'s type."""
    if n < 8:
        res = zero
        for i in range(s, s + n):
            res += a[i]
        return res
    r0 = a[s]
    r1 = a[s + 1]
    r2 = a[s + 2]
    r3 = a[s + 3]
    r4 = a[s + 4]
    r5 = a[s + 5]
    r6 = a[s + 6]
    r7 = a[s + 7]
    m = n - n % 8
    i = 8
    while i < m:
        r0 += a[s + i]
        r1 += a[s + i + 1]
        r2 += a[s + i + 2]
        r3 += a[s + i + 3]
        r4 += a[s + i + 4]
        r5 += a[s + i + 5]
        r6 += a[s + i + 6]
        r7 += a[s + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[s + i]
        i += 1
    return res


@njit(cache=True)
def pairwise_sum(a, zero):
    """``np.sum(a)`` of a 1-D contiguous array (float64 or float32, typed by ``zero``)."""
    sched = pairwise_schedule(a.size)
    stack = np.empty(64, dtype=a.dtype)
    sp = 0
    for q in range(sched.shape[0]):
        if sched[q, 0] == COMBINE:
            stack[sp - 2] = stack[sp - 2] + stack[sp - 1]
            sp -= 1
        else:
            stack[sp] = block_sum(a, sched[q, 0], sched[q, 1], zero)
            sp += 1
    return zero + stack[0]


def numpy_sum(a: np.ndarray) -> float:
    """``np.sum(a)`` through :func:`pairwise_sum` (for tests of the replication)."""
    flat = np.ascontiguousarray(a).ravel()
    return pairwise_sum(flat, flat.dtype.type(0))


def pairwise_leaves(n: int) -> list[tuple[int, int]]:
    """The (start, length) blocks of NumPy's pairwise tree over ``n`` values, left to right."""
    sched = pairwise_schedule(n)
    return [(int(s), int(m)) for s, m in sched if s != COMBINE]
