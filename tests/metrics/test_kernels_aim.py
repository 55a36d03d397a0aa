"""Edge cases of the fused "aim" kernels (sad_mse_mad, gradient, connectivity, pairwise, simd)
against the plain port of the official code (reference.py), with exact equality.

The kernels work 8 pixels at a time with a scalar tail, 4 output rows at a time in the vertical
Gaussian pass, 64 pixels per mask word in the connectivity runs and pairwise block by pairwise
block, so the shapes below put every tail, partial group and word boundary in play."""
from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit

from matbench_metrics.aim import aim_metrics, conn, grad, sad_mse_mad_group
from matbench_metrics.aim import connectivity, reference
from matbench_metrics.aim.simd import (abs8, count8, lane_sum8, load8, splat8, store8, to_f32, to_f64, to_u8,
                                       where8)
from matbench_metrics.pairwise import block_sum, leaf_bounds, pairwise_schedule, tree_sum

SHAPES = [(1, 1), (1, 2), (1, 7), (1, 8), (1, 9), (1, 64), (1, 65), (1, 300), (2, 1), (7, 1), (9, 1),
          (300, 1), (2, 2), (3, 5), (4, 8), (5, 13), (6, 63), (7, 64), (8, 65), (13, 127), (14, 128),
          (17, 129), (31, 33), (40, 16), (12, 250)]


def _same(a, b) -> bool:
    """Equal to the bit, or both NaN (or both None)."""
    if a is None or b is None:
        return a is b
    return a == b or (math.isnan(a) and math.isnan(b))


def _assert_same(got: dict, want: dict, where: str) -> None:
    bad = {k: (got[k], want[k]) for k in want if not _same(got[k], want[k])}
    assert not bad, f"{where}: {bad}"


def _images(rng: np.random.Generator, shape: tuple[int, int], kind: str):
    h, w = shape
    if kind == "noise":
        g, p = rng.random(shape), rng.random(shape)
    elif kind == "8bit":
        g = np.round(rng.random(shape) * 255) / 255
        p = np.clip(g + np.round(rng.normal(0, 20, shape)) / 255, 0, 1)
    elif kind == "grid":             # exactly on the thresholds and their neighbours
        g = rng.integers(0, 11, shape) / 10
        p = np.where(rng.random(shape) < 0.5, g, np.nextafter(g, rng.choice([-1.0, 2.0], shape)))
    elif kind == "binary":
        g = (rng.random(shape) < 0.5).astype(float)
        p = np.where(rng.random(shape) < 0.8, g, 1 - g)
    elif kind == "zeros":
        g, p = np.zeros(shape), np.zeros(shape)
    elif kind == "ones":
        g, p = np.ones(shape), np.ones(shape)
    elif kind == "zero_vs_one":
        g, p = np.zeros(shape), np.ones(shape)
    else:                            # "smooth": a blob with soft edges, 8-bit
        yy, xx = np.mgrid[0:h, 0:w]
        g = np.clip(1.5 - np.hypot((yy - h / 2) / max(h, 2), (xx - w / 3) / max(w, 2)) * 4, 0, 1)
        p = np.clip(g + rng.normal(0, 0.05, shape), 0, 1)
        g, p = np.round(g * 255) / 255, np.round(p * 255) / 255
    t = rng.choice(np.array([0, 128, 255], np.uint8), shape, p=[0.3, 0.4, 0.3])
    return p, g, t


KINDS = ["noise", "8bit", "grid", "binary", "zeros", "ones", "zero_vs_one", "smooth"]


@pytest.mark.parametrize("kind", KINDS)
def test_all_ten_values_on_every_shape(kind):
    rng = np.random.default_rng(KINDS.index(kind))
    for shape in SHAPES:
        p, g, t = _images(rng, shape, kind)
        _assert_same(aim_metrics(p, g, t), reference.aim_metrics_reference(p, g, t), f"{kind} {shape}")


def test_components_on_larger_random_images():
    rng = np.random.default_rng(7)
    for shape in [(61, 200), (130, 97), (64, 64)]:
        for kind in ("8bit", "smooth", "noise"):
            p, g, t = _images(rng, shape, kind)
            want = reference.sad_mse_mad(p, g, t)
            got = sad_mse_mad_group(p, g, t)
            _assert_same(got, {k: None if v is None else float(v) for k, v in want.items()}, f"{kind} {shape}")
            assert _same(grad(p, g), reference.grad(p, g)), (kind, shape)
            assert _same(conn(p, g), reference.conn(p, g)), (kind, shape)


def test_nan_and_inf_propagate_as_in_the_official_code():
    rng = np.random.default_rng(3)
    for shape in [(9, 11), (16, 70)]:
        p, g, t = _images(rng, shape, "8bit")
        for bad in (np.nan, np.inf, -np.inf):
            for arr in ("p", "g"):
                pp, gg = p.copy(), g.copy()
                (pp if arr == "p" else gg)[shape[0] // 2, shape[1] // 3] = bad
                with np.errstate(invalid="ignore"):
                    want = reference.aim_metrics_reference(pp, gg, t)
                _assert_same(aim_metrics(pp, gg, t), want, f"{bad} in {arr}")


def test_trimap_values_outside_0_128_255():
    rng = np.random.default_rng(4)
    p, g, _ = _images(rng, (20, 30), "8bit")
    t = rng.integers(0, 256, (20, 30)).astype(np.uint8)
    _assert_same(aim_metrics(p, g, t), reference.aim_metrics_reference(p, g, t), "arbitrary trimap")


def test_conn_chain_of_largest_components_breaks():
    # level 1: the left block is the largest component; level 2: the right one (only it reaches
    # 0.2). Omega_2 is not inside Omega_1, so no pixel passes both: every pixel of Omega_2 gets
    # l = t_1 although it is in Omega_2.
    g = np.zeros((12, 20))
    g[1:11, 1:9] = 0.15
    g[3:6, 12:18] = 0.95
    p = np.clip(g + 0.01, 0, 1)
    h, w = g.shape
    k = connectivity._levels(p.ravel(), g.ravel())
    *runs, _ = connectivity._runs(k, h, w, k.size)
    top, chain = connectivity._paint_depth(k, *runs)
    assert (top, chain) == (9, 1)
    assert conn(p, g) == reference.conn(p, g)


def test_conn_runs_fall_back_to_an_exact_count():
    rng = np.random.default_rng(5)
    p, g = rng.random((40, 70)), rng.random((40, 70))       # noise: many more runs than n / 4
    h, w = p.shape
    k = connectivity._levels(p.ravel(), g.ravel())
    assert connectivity._runs(k, h, w, p.size // 4 + 64)[-1] == -1
    exact = connectivity._count_runs(k, h, w)
    assert connectivity._runs(k, h, w, exact)[-1] == exact > p.size // 4 + 64
    assert conn(p, g) == reference.conn(p, g)


def test_conn_levels_at_threshold_neighbours():
    vals = []
    for t in connectivity.THRESHOLDS:
        vals += [t, np.nextafter(t, 2.0), np.nextafter(t, -1.0)]
    vals = np.array(vals + [-0.0, -1.0, 2.0, np.inf, -np.inf, np.nan, 153 / 255])
    a = np.repeat(vals, vals.size)
    b = np.tile(vals, vals.size)
    k = connectivity._levels(a, b)
    want = ((a[:, None] >= connectivity.THRESHOLDS[1:]) & (b[:, None] >= connectivity.THRESHOLDS[1:])).sum(1)
    assert np.array_equal(k[:a.size], want)
    assert k.size == a.size + 64 and np.all(k[a.size:] == 0)


def test_grad_on_non_8bit_and_large_values():
    rng = np.random.default_rng(6)
    for shape in [(5, 9), (23, 41)]:
        p = rng.normal(0, 1e3, shape)
        g = rng.random(shape) * 1e-12
        assert grad(p, g) == reference.grad(p, g)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_block_sum_and_tree_sum_reproduce_numpy(dtype):
    rng = np.random.default_rng(8)
    for n in (1, 5, 8, 9, 15, 16, 17, 127, 128, 129, 255, 256, 257, 1000, 4099, 70001):
        x = (rng.random(n) * rng.choice([1.0, 1e-9, 1e9], n)).astype(dtype)
        zero = x.dtype.type(0)
        sched = pairwise_schedule(n)
        bounds = leaf_bounds(sched)
        leaf = np.array([block_sum(x, bounds[j], bounds[j + 1] - bounds[j], zero) for j in range(bounds.size - 1)],
                        dtype=dtype)
        assert tree_sum(sched, leaf, zero) == np.sum(x), n
        assert bounds[0] == 0 and bounds[-1] == n and np.all(np.diff(bounds) <= 128)


@njit(cache=True)
def _vector_ops(a, b, t, out, out_u8):
    x = load8(a, 0)
    y = load8(b, 0)
    m = where8(x < y, x, y)
    store8(out, 0, m)
    store8(out, 8, abs8(1.0 - x * 2.0))
    store8(out, 16, to_f64(to_f32(x)))
    store8(out, 24, where8(x != y, splat8(1.0), 0.0))
    tv = load8(t, 0)
    store8(out_u8, 0, to_u8(to_f64(tv) + where8(x >= 0.5, 1.0, 0.0)))
    return count8(tv == np.uint8(255)), count8(x == x), lane_sum8(load8(b, 8))


def test_simd_lanes_match_scalar_python():
    a = np.array([0.1, 0.6, np.nan, 0.3, 0.9, -0.0, 1 / 3, 1.0])
    b = np.array([0.7, 0.6, 0.9, np.nan, 0.3, 0.0, 0.5, np.nan] + [1e16, 1.0, -1e16, 3.0, 0.1, 0.2, 0.3, 1e-20])
    t = np.array([255, 0, 128, 255, 1, 254, 3, 4], np.uint8)
    out = np.empty(32)
    out_u8 = np.empty(8, np.uint8)
    n255, n_num, lanes = _vector_ops(a, b, t, out, out_u8)
    assert (n255, n_num) == (2, 7)
    r = b[8:]
    assert lanes == ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    want_min = [x if x < y else y for x, y in zip(a, b)]
    np.testing.assert_array_equal(out[:8], want_min)
    np.testing.assert_array_equal(out[8:16], np.abs(1.0 - a * 2.0))
    np.testing.assert_array_equal(out[16:24], a.astype(np.float32).astype(np.float64))
    np.testing.assert_array_equal(out[24:], [1.0 if x != y else 0.0 for x, y in zip(a, b)])
    np.testing.assert_array_equal(out_u8, t + (a >= 0.5))
