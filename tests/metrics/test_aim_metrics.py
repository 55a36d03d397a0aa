"""The "aim" metric variant: fast path vs the official values (golden fixture), vs the plain
port (reference.py) on random and edge inputs, the torch path vs NumPy, and the quirks."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from matbench_metrics.aim import KEYS, AimMetric, aim_metrics, conn, grad
from matbench_metrics.aim.golden_inputs import PHOTO_DIR, make_case
from matbench_metrics.pairwise import numpy_sum
from matbench_metrics.aim.reference import aim_metrics_reference

GOLDEN = json.loads((Path(__file__).parents[1] / "fixtures" / "aim_golden.json").read_text())
SYNTHETIC = [c for c in GOLDEN["cases"] if c["recipe"]["kind"] != "photo"]
PHOTOS = [c for c in GOLDEN["cases"] if c["recipe"]["kind"] == "photo"]
REL = 1e-6


def assert_close(got: dict, want: dict, rel: float = REL, where: str = "") -> None:
    assert set(got) == set(KEYS)
    for key in KEYS:
        g, w = got[key], want[key]
        if w is None:
            assert g is None, f"{where} {key}: {g} (official: no unknown pixels)"
            continue
        assert g is not None and math.isfinite(g), f"{where} {key}: {g}"
        assert abs(g - w) <= rel * abs(w) + 1e-300, f"{where} {key}: {g!r} vs {w!r}"


@pytest.mark.parametrize("case", SYNTHETIC, ids=[c["recipe"]["name"] for c in SYNTHETIC])
def test_fast_path_matches_official_golden(case):
    got = aim_metrics(*make_case(case["recipe"]))
    assert_close(got, case["official"], where=case["recipe"]["name"])
    # our sums follow NumPy's pairwise order and scipy's filter arithmetic: bit-identical
    assert got == case["official"]


@pytest.mark.skipif(not PHOTO_DIR.is_dir(), reason=f"{PHOTO_DIR} not available")
@pytest.mark.parametrize("case", PHOTOS, ids=[c["recipe"]["name"] for c in PHOTOS])
def test_fast_path_matches_official_on_photos(case):
    assert_close(aim_metrics(*make_case(case["recipe"])), case["official"], where=case["recipe"]["name"])


def _random_case(rng: np.random.Generator):
    h, w = (int(x) for x in rng.integers(1, 40, 2))
    kind = rng.integers(0, 5)
    if kind == 0:      # white noise: many small components
        g, p = rng.random((h, w)), rng.random((h, w))
    elif kind == 1:    # smooth fields, 8-bit
        g = np.clip(gaussian_filter(rng.standard_normal((h, w)), 2.0) * 2 + 0.5, 0, 1)
        p = np.clip(g + rng.normal(0, 0.1, (h, w)), 0, 1)
        g, p = np.round(g * 255) / 255, np.round(p * 255) / 255
    elif kind == 2:    # values on the 0.1 grid (exactly on / next to thresholds)
        g = rng.integers(0, 11, (h, w)) / 10
        p = np.where(rng.random((h, w)) < 0.5, g, rng.integers(0, 11, (h, w)) / 10)
    elif kind == 3:    # binary blobs: equal-size components and ties
        g = (rng.random((h, w)) < 0.5).astype(float)
        p = np.where(rng.random((h, w)) < 0.8, g, 1 - g)
    else:              # 8-bit levels around 153/255
        vals = np.array([0, 25, 26, 51, 127, 128, 152, 153, 154, 204, 255]) / 255
        g, p = rng.choice(vals, (h, w)), rng.choice(vals, (h, w))
    t = rng.choice(np.array([0, 128, 255], np.uint8), (h, w), p=[0.3, 0.4, 0.3])
    return p, g, t


def test_fast_path_matches_reference_port_on_random_inputs():
    rng = np.random.default_rng(2024)
    for i in range(250):
        p, g, t = _random_case(rng)
        want = aim_metrics_reference(p, g, t)
        got = aim_metrics(p, g, t)
        assert got == want, f"case {i} {p.shape}: {got} vs {want}"


def test_reference_port_matches_official_golden():
    for case in SYNTHETIC:
        assert_close(aim_metrics_reference(*make_case(case["recipe"])), case["official"],
                     where=case["recipe"]["name"])


def test_mse_mad_trimap_none_without_unknown_region():
    p, g, _ = make_case({"kind": "smooth", "seed": 3, "shape": [20, 20]})
    t = np.where(g > 0.5, 255, 0).astype(np.uint8)
    out = aim_metrics(p, g, t)
    assert out["mse_trimap"] is None and out["mad_trimap"] is None
    assert out["sad_trimap"] == aim_metrics_reference(p, g, t)["sad_trimap"] > 0
    t[0, 0] = 128
    assert aim_metrics(p, g, t)["mse_trimap"] is not None


def test_threshold_quirk_153_fails_the_seventh_threshold():
    # alpha 1 everywhere; pred 1 except a column of 153/255. 153/255 == 0.6 < 0.6000000000000001,
    # so that column leaves the largest component at threshold 0.6 and gets l = 0.5:
    # |phi(pred) - phi(alpha)| = |1 - (1 - 0.5)| = 0.5 per pixel. With an exact 0.6 threshold
    # it would stay in until 0.7 and give |1 - (1 - (1 - f32(0.6)))| ~ 0.4.
    g = np.ones((4, 4))
    p = np.ones((4, 4))
    p[:, 0] = 153 / 255
    assert conn(p, g) == pytest.approx(4 * 0.5 / 1000, rel=1e-12)
    assert aim_metrics_reference(p, g, np.full((4, 4), 128, np.uint8))["conn"] == conn(p, g)


def test_connectivity_ties_go_to_first_component_in_raster_order():
    # two equal squares; the second (in raster order) is the one with prediction errors, so the
    # chosen Omega decides the value
    g = np.zeros((10, 12))
    g[1:4, 1:4] = 1.0
    g[6:9, 8:11] = 1.0
    p = g.copy()
    p[6:9, 8:11] = 0.95
    got = conn(p, g)
    assert got == aim_metrics_reference(p, g, np.full(g.shape, 128, np.uint8))["conn"]
    swapped = conn(p[::-1, ::-1].copy(), g[::-1, ::-1].copy())
    assert got != swapped      # the tie is decided by position, not by the values


def test_grad_is_float32_value():
    p, g, _ = make_case({"kind": "smooth", "seed": 5, "shape": [33, 47]})
    v = grad(p, g)
    assert v == float(np.float32(v)) and v > 0


def test_numpy_sum_replication():
    rng = np.random.default_rng(0)
    for n in (1, 7, 8, 9, 127, 128, 129, 1000, 8193, 100_003):
        x = rng.random(n) * rng.choice([1.0, 1e8], n)
        assert numpy_sum(x) == np.sum(x)
        x32 = x.astype(np.float32)
        assert numpy_sum(x32) == np.sum(x32)


def test_torch_path_matches_numpy_on_cpu():
    torch = pytest.importorskip("torch")
    from matbench_metrics.aim import aim_metrics_torch

    recipes = [c["recipe"] for c in SYNTHETIC[::2]] + [{"kind": "no_unknown", "seed": 1, "shape": [9, 11]}]
    for recipe in recipes:
        p, g, t = make_case(recipe)
        want = aim_metrics(p, g, t)
        got = aim_metrics_torch(torch.from_numpy(p), torch.from_numpy(g), torch.from_numpy(t))
        assert_close(got, want, where=str(recipe))
        assert got["conn"] == want["conn"]


def test_registered_metric_class():
    from matbench.registry import METRICS

    assert METRICS.get("aim") is AimMetric
    assert AimMetric.variant == "aim" and AimMetric.keys == KEYS
    p, g, t = make_case(SYNTHETIC[0]["recipe"])
    assert AimMetric.compute_image(p, g, t) == aim_metrics(p, g, t)


def test_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        aim_metrics(np.zeros((3, 4)), np.zeros((4, 3)), np.zeros((3, 4), np.uint8))
