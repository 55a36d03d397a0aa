"""The "dim" metric variant against mmagic's own values and its documented quirks."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import load_tool
from matbench_metrics.dim import DimMetric, conn, dim_metrics, grad, mse, prepare_dim, sad
from matbench_metrics.dim.connectivity import THRESHOLDS
from matbench_metrics.dim.gradient import gauss_kernels

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = json.loads((ROOT / "tests" / "fixtures" / "dim_golden.json").read_text())


RECIPES = load_tool("make_dim_golden")


def _rel(a: float, b: float) -> float:
    return 0.0 if a == b else abs(a - b) / max(abs(a), abs(b))


# ------------------------------------------------------------------------------ golden parity

def test_gauss_kernel_is_mmagics_bit_for_bit():
    kx, ky = gauss_kernels()
    assert kx.shape == (9, 9)
    assert [float(v).hex() for v in kx.ravel()] == GOLDEN["gauss_kernel_x_hex"]
    np.testing.assert_array_equal(ky, kx.T)
    assert np.isclose((kx**2).sum(), 1.0)


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=[c["id"] for c in GOLDEN["cases"]])
def test_matches_mmagic(case):
    if case["kind"] == "photo" and not RECIPES.PHOTOS.is_dir():
        pytest.skip(f"{RECIPES.PHOTOS} not available")
    pred, alpha, trimap = RECIPES.build_case(case)
    assert RECIPES.input_digest(pred, alpha, trimap) == case["inputs"], \
        "the recipe no longer rebuilds the inputs the golden values were made from"
    p, g = prepare_dim(pred, alpha, trimap)
    assert RECIPES.digest_u8(np.rint(p * 255).astype(np.uint8)) == case["pred8"], \
        "post-processed prediction differs from mmagic's BaseMattor.postprocess"
    values = dim_metrics(pred, alpha, trimap)
    for key, expected in case["mmagic"].items():
        assert _rel(values[key], expected) <= 1e-6, (key, values[key], expected)


def test_mmagic_unit_test_values():
    # mmagic tests/test_evaluation/test_metrics/test_sad.py and test_matting_mse.py
    gt = np.ones((32, 32))
    trimap = np.zeros((32, 32), np.uint8)
    trimap[:16, :16] = 128
    trimap[16:, 16:] = 255
    values = dim_metrics(np.zeros((32, 32)), gt, trimap)
    assert values["sad"] == pytest.approx(0.768, abs=1e-12)
    assert values["mse"] == pytest.approx(3.0, abs=1e-12)


# ------------------------------------------------------------------------------ post-processing

def test_rounds_half_to_even_in_float32():
    ks, preds = [], []
    for k in range(0, 40):
        v = np.float32(k + 0.5) / np.float32(255)
        if v * np.float32(255) == np.float32(k + 0.5):  # the float32 product is exactly k + 0.5
            ks.append(k)
            preds.append(float(v))
    assert len(ks) >= 10
    trimap = np.full((1, len(ks)), 128, np.uint8)
    p, _ = prepare_dim(np.array([preds]), np.zeros((1, len(ks))), trimap)
    got = np.rint(p[0] * 255).astype(int)
    assert got.tolist() == [k if k % 2 == 0 else k + 1 for k in ks]  # 0.5 -> 0, 1.5 -> 2, 2.5 -> 2


def test_eight_bit_values_survive_the_float32_round_trip():
    k = np.arange(256)
    p, g = prepare_dim(k[None] / 255.0, k[None] / 255.0, np.full((1, 256), 128, np.uint8))
    np.testing.assert_array_equal(p, k[None] / 255.0)
    np.testing.assert_array_equal(g, k[None] / 255.0)


def test_prediction_is_clamped_and_forced_by_the_trimap():
    pred = np.array([[-0.3, 1.7, 0.0, 1.0, 0.5]])
    trimap = np.array([[128, 128, 255, 0, 128]], np.uint8)
    p, _ = prepare_dim(pred, np.zeros_like(pred), trimap)
    np.testing.assert_array_equal(p, [[0.0, 1.0, 1.0, 0.0, 128 / 255]])


def test_sad_counts_known_pixels_where_gt_disagrees_with_the_trimap():
    gt = np.full((4, 4), 1.0)
    trimap = np.zeros((4, 4), np.uint8)  # all background, no unknown pixel
    values = dim_metrics(np.ones((4, 4)), gt, trimap)
    assert values["sad"] == pytest.approx(16 / 1000)
    assert values["mse"] == 0.0 and values["grad"] == 0.0 and values["conn"] == 0.0


def test_mse_is_not_divided_by_1000():
    pred = np.array([[0.0, 1.0]])
    trimap = np.full((1, 2), 128, np.uint8)
    assert mse(*prepare_dim(pred, np.array([[1.0, 1.0]]), trimap), trimap) == 0.5


# ------------------------------------------------------------------------------ gradient

def test_grad_min_max_normalises_a_constant_map_to_zeros():
    rng = np.random.default_rng(0)
    pred = np.rint(rng.random((20, 30)) * 255) / 255
    trimap = np.full((20, 30), 128, np.uint8)
    constant = np.full((20, 30), 0.4)
    assert grad(pred, constant, trimap) == grad(pred, np.zeros((20, 30)), trimap)
    # and a map is scored after stretching to [0, 1]
    assert grad(pred, pred * 0.5 + 0.25, trimap) == pytest.approx(0.0, abs=1e-12)


# ------------------------------------------------------------------------------ connectivity

def _conn_by_hand(pred, gt, trimap, levels):
    dg, dp = gt - levels, pred - levels
    phi_g = 1 - dg * (dg >= 0.15)
    phi_p = 1 - dp * (dp >= 0.15)
    return float((np.abs(phi_g - phi_p) * (trimap == 128)).sum() / 1000)


def test_thresholds_are_numpys_arange():
    assert THRESHOLDS[6] == 0.6000000000000001 and THRESHOLDS[3] == 0.30000000000000004
    assert 153 / 255 < THRESHOLDS[6] <= 154 / 255


def test_153_misses_the_0_6_threshold():
    trimap = np.full((5, 6), 128, np.uint8)
    pred = np.ones((5, 6))
    # gt 153 = exactly 0.6: in B_1..B_5 only, level 0.5, so |phi_g - phi_p| = |1 - 0.5| per pixel
    gt = np.full((5, 6), 153 / 255)
    assert conn(pred, gt, trimap) == _conn_by_hand(pred, gt, trimap, THRESHOLDS[5])
    assert conn(pred, gt, trimap) == pytest.approx(30 * 0.5 / 1000)
    # gt 154 reaches t6: level 0.6000000000000001, error ~0.4 per pixel
    gt = np.full((5, 6), 154 / 255)
    assert conn(pred, gt, trimap) == _conn_by_hand(pred, gt, trimap, THRESHOLDS[6])
    assert conn(pred, gt, trimap) == pytest.approx(30 * 0.4 / 1000, rel=1e-2)


def test_empty_intersection_gives_unset_pixels_the_previous_threshold():
    # gt 0.5 everywhere; pred 1 on the left, 0.35 on the right. B_1..B_3 = all, B_4, B_5 = left
    # half, B_6 = empty: the right half stops at t3, the left half at t5 (never at 1).
    h, w = 4, 8
    gt = np.full((h, w), 0.5)
    pred = np.full((h, w), 0.35)
    pred[:, : w // 2] = 1.0
    trimap = np.full((h, w), 128, np.uint8)
    levels = np.full((h, w), THRESHOLDS[3])
    levels[:, : w // 2] = THRESHOLDS[5]
    assert conn(pred, gt, trimap) == _conn_by_hand(pred, gt, trimap, levels)
    # disjoint supports: B_1 is empty, every pixel takes t0 = 0
    gt = np.zeros((h, w))
    gt[:, :4] = 0.9
    pred = np.zeros((h, w))
    pred[:, 4:] = 0.9
    assert conn(pred, gt, trimap) == _conn_by_hand(pred, gt, trimap, np.zeros((h, w)))
    assert conn(pred, gt, trimap) == pytest.approx(32 * 0.9 / 1000)


def _two_blocks(second_at):
    gt = np.zeros((8, 8))
    pred = np.zeros((8, 8))
    for r, c in ((0, 0), second_at):
        gt[r:r + 2, c:c + 2] = 26 / 255  # just above t1 = 0.1
        pred[r:r + 2, c:c + 2] = 1.0
    return pred, gt


def test_four_connectivity_and_ties_go_to_the_first_component():
    # two equal 2x2 blocks touching only at a corner: two 4-connected components of one size.
    # The first in raster order is Omega_1 (level 0.1: error 0.9 a pixel); the other drops to
    # level 0 (error 1.0 a pixel).
    pred, gt = _two_blocks((2, 2))
    first = np.zeros((8, 8), np.uint8)
    first[0:2, 0:2] = 128
    second = np.zeros((8, 8), np.uint8)
    second[2:4, 2:4] = 128
    assert conn(pred, gt, first) == pytest.approx(4 * 0.9 / 1000)
    assert conn(pred, gt, first) == _conn_by_hand(pred, gt, first, np.full((8, 8), THRESHOLDS[1]))
    assert conn(pred, gt, second) == _conn_by_hand(pred, gt, second, np.zeros((8, 8)))
    assert conn(pred, gt, second) == pytest.approx(4 * 1.0 / 1000)


def test_conn_is_zero_for_a_perfect_prediction():
    rng = np.random.default_rng(3)
    gt = np.rint(rng.random((30, 40)) * 255) / 255
    trimap = np.full((30, 40), 128, np.uint8)
    assert conn(gt, gt, trimap) == 0.0 and sad(gt, gt) == 0.0


# ------------------------------------------------------------------------------ registration

def test_dim_metric_is_registered():
    from matbench.registry import METRICS, lookup

    cls = lookup(METRICS, "dim")
    assert cls is DimMetric
    assert cls.variant == "dim" and cls.keys == ("sad", "mse", "grad", "conn")
    case = next(c for c in GOLDEN["cases"] if c["id"] == "smooth_0")
    values = cls.compute_image(*RECIPES.build_case(case))
    assert set(values) == set(cls.keys)
    assert all(isinstance(v, float) for v in values.values())


def test_dim_and_aim_differ_where_their_conventions_do():
    pytest.importorskip("matbench_metrics.aim")
    from matbench.registry import METRICS, lookup

    try:
        aim = lookup(METRICS, "aim")
    except Exception:  # noqa: BLE001 (the aim plugin is optional here)
        aim = None
    if aim is None or not hasattr(aim, "compute_image"):
        pytest.skip("the 'aim' metric is not registered")
    # disjoint supports: dim takes t0 for every pixel (empty intersection), aim skips the
    # empty thresholds; grad is normalised and /1000 in dim, raw and /10 in aim
    case = next(c for c in GOLDEN["cases"] if c["id"] == "pattern_disjoint")
    pred, alpha, trimap = RECIPES.build_case(case)
    dim = dim_metrics(pred, alpha, trimap)
    other = aim.compute_image(pred, alpha, trimap)
    shared = [k for k in ("grad", "conn") if other.get(k) is not None]
    if not shared:
        pytest.skip("the 'aim' metric reports neither grad nor conn")
    for key in shared:
        assert _rel(dim[key], other[key]) > 1e-3, key
    if other.get("sad") is not None:  # dim scores the 8-bit rounded prediction, aim the float one
        assert dim["sad"] != other["sad"]
    # a perfect 8-bit prediction scores 0 in both
    perfect = aim.compute_image(alpha, alpha, trimap)
    for key in shared:
        assert perfect[key] == pytest.approx(0.0, abs=1e-12)
