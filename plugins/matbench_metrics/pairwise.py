"""NumPy's pairwise summation, replicated in numba so fused kernels sum in NumPy's exact order.

``np.sum`` of a contiguous float array adds ``0.0 + pairwise(a)`` where ``pairwise`` sums blocks
of at most 128 values in 8 interleaved lanes and halves longer runs (at multiples of 8). Matching
that order is what makes our sums equal the official ``np.sum`` bit for bit, not just to 1e-15.

The tree is walked from a precomputed post-order schedule rather than by recursion: numba's
on-disk cache of recursive functions can crash when it is loaded again.

Fused kernels use it in three steps: :func:`leaf_bounds` gives the blocks (the tree's leaves) in
order; the kernel sums each block as NumPy does — 8 interleaved lanes, lane j adding
``a[s+j], a[s+8+j], ...`` in that order, then ``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))``
and the last ``n % 8`` values one by one — either over a buffer of its terms
(:func:`block_sum`) or with the lanes kept in an 8-wide vector register while the terms are
computed; :func:`tree_sum` then adds the block sums up the tree. Vector adds are lane-wise IEEE
adds of the same two numbers as NumPy's scalar code, so vectorising changes nothing but the
speed.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

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


@intrinsic
def lanes8(typingctx, a, s, m):
    """The 8 lane sums of NumPy's block loop over ``a[s:s+m]`` (m a positive multiple of 8),
    as a tuple: lane j is ``((a[s+j] + a[s+8+j]) + a[s+16+j]) + ...``. One <8 x float> add per
    step; the adds are plain IEEE adds (no fast-math flags), so LLVM cannot reorder them. No
    bounds check: the caller guarantees ``0 <= s`` and ``s + m <= a.size``."""
    if not (isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C"
            and a.dtype in (types.float32, types.float64)
            and isinstance(s, types.Integer) and isinstance(m, types.Integer)):
        return None
    sig = types.UniTuple(a.dtype, 8)(a, s, m)

    def codegen(context, builder, signature, args):
        aty, sty, mty = signature.args
        i64 = ir.IntType(64)
        data = context.make_array(aty)(context, builder, args[0]).data
        start = context.cast(builder, args[1], sty, types.int64)
        count = context.cast(builder, args[2], mty, types.int64)
        vec = ir.VectorType(context.get_data_type(aty.dtype), 8)
        align = aty.dtype.bitwidth // 8
        vptr = builder.bitcast(builder.gep(data, [start]), vec.as_pointer())
        acc = cgutils.alloca_once(builder, vec)           # promoted to a register by LLVM
        builder.store(builder.load(vptr, align=align), acc)
        steps = builder.udiv(count, ir.Constant(i64, 8))
        with cgutils.for_range_slice(builder, ir.Constant(i64, 1), steps, ir.Constant(i64, 1)) as (i, _):
            nxt = builder.load(builder.gep(vptr, [i]), align=align)
            builder.store(builder.fadd(builder.load(acc), nxt), acc)
        total = builder.load(acc)
        lanes = [builder.extract_element(total, ir.Constant(ir.IntType(32), j)) for j in range(8)]
        return context.make_tuple(builder, signature.return_type, lanes)

    return sig, codegen


@njit(cache=True)
def block_sum(a, s, n, zero):
    """One block of NumPy's pairwise sum (n <= 128), accumulating in ``zero``'s type."""
    if n < 8:
        res = zero
        for i in range(s, s + n):
            res += a[i]
        return res
    m = n - n % 8
    r = lanes8(a, s, m)
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    for i in range(s + m, s + n):
        res += a[i]
    return res


@njit(cache=True)
def leaf_bounds(sched):
    """Start of every block of the schedule, in order, and the end of the last: int64[L + 1]."""
    nleaf = 0
    for q in range(sched.shape[0]):
        if sched[q, 0] != COMBINE:
            nleaf += 1
    bounds = np.zeros(nleaf + 1, dtype=np.int64)
    j = 0
    for q in range(sched.shape[0]):
        if sched[q, 0] != COMBINE:
            bounds[j] = sched[q, 0]
            bounds[j + 1] = sched[q, 0] + sched[q, 1]
            j += 1
    return bounds


@njit(cache=True)
def tree_sum(sched, leaf, zero):
    """``zero + pairwise`` from the block sums ``leaf`` (in schedule order): NumPy's np.sum."""
    stack = np.empty(64, dtype=leaf.dtype)
    sp = 0
    j = 0
    for q in range(sched.shape[0]):
        if sched[q, 0] == COMBINE:
            stack[sp - 2] = stack[sp - 2] + stack[sp - 1]
            sp -= 1
        else:
            stack[sp] = leaf[j]
            sp += 1
            j += 1
    return zero + stack[0]


@njit(cache=True)
def pairwise_sum(a, zero):
    """``np.sum(a)`` of a 1-D contiguous array (float64 or float32, typed by ``zero``)."""
    sched = pairwise_schedule(a.size)
    bounds = leaf_bounds(sched)
    leaf = np.empty(bounds.size - 1, dtype=a.dtype)
    for j in range(leaf.size):
        leaf[j] = block_sum(a, bounds[j], bounds[j + 1] - bounds[j], zero)
    return tree_sum(sched, leaf, zero)


def numpy_sum(a: np.ndarray) -> float:
    """``np.sum(a)`` through :func:`pairwise_sum` (for tests of the replication)."""
    flat = np.ascontiguousarray(a).ravel()
    return pairwise_sum(flat, flat.dtype.type(0))


def pairwise_leaves(n: int) -> list[tuple[int, int]]:
    """The (start, length) blocks of NumPy's pairwise tree over ``n`` values, left to right."""
    sched = pairwise_schedule(n)
    return [(int(s), int(m)) for s, m in sched if s != COMBINE]
