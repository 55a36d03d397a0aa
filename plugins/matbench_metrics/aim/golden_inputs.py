"""Deterministic inputs of the "aim" golden fixture (``tests/fixtures/aim_golden.json``): each
case is a small recipe (kind, seed, size) that this module turns into (pred, alpha, trimap), so
the fixture stores recipes and official values, never arrays."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

#: the real photographs (research use only, never committed): $MATBENCH_ALPHAMATTING_LOWRES, else
#: ``shared/data/alphamatting-lowres`` beside the repository; their cases are skipped when absent
PHOTO_DIR = Path(os.environ.get("MATBENCH_ALPHAMATTING_LOWRES") or
                 Path(__file__).resolve().parents[3].parent / "shared" / "data" / "alphamatting-lowres")


def _trimap_from(alpha: np.ndarray) -> np.ndarray:
    t = np.full(alpha.shape, 128, dtype=np.uint8)
    t[alpha <= 0] = 0
    t[alpha >= 1] = 255
    return t


def _smooth_alpha(rng: np.random.Generator, h: int, w: int, sigma: float) -> np.ndarray:
    field = gaussian_filter(rng.standard_normal((h, w)), sigma, mode="wrap")
    field = field / (field.std() + 1e-12)
    return np.round(np.clip(0.5 + 0.6 * field, 0, 1) * 255) / 255


def _noisy(rng: np.random.Generator, alpha: np.ndarray, blur: float, noise: float, q8: bool) -> np.ndarray:
    p = np.clip(gaussian_filter(alpha, blur) + rng.normal(0, noise, alpha.shape), 0, 1)
    return np.round(p * 255) / 255 if q8 else p


def _read_gray(path: Path) -> np.ndarray:
    from PIL import Image
    a = np.array(Image.open(path))
    return a[:, :, 0] if a.ndim > 2 else a


def make_case(recipe: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pred float64, alpha float64, trimap uint8) for one recipe of the fixture."""
    kind, seed = recipe["kind"], recipe.get("seed", 0)
    h, w = recipe.get("shape", (1, 1))
    rng = np.random.default_rng(seed)
    if kind == "smooth":               # soft alpha, blurred noisy prediction
        g = _smooth_alpha(rng, h, w, recipe.get("sigma", 4.0))
        p = _noisy(rng, g, recipe.get("blur", 1.5), recipe.get("noise", 0.05), recipe.get("q8", False))
        return p, g, _trimap_from(g)
    if kind == "constant":             # all-zero / all-one pred and alpha
        return np.full((h, w), recipe["pred"], float), np.full((h, w), recipe["alpha"], float), \
            np.full((h, w), recipe.get("trimap", 128), np.uint8)
    if kind == "equal":                # pred == alpha
        g = _smooth_alpha(rng, h, w, 3.0)
        return g.copy(), g, _trimap_from(g)
    if kind == "no_unknown":           # trimap only 0 / 255
        g = _smooth_alpha(rng, h, w, 3.0)
        p = _noisy(rng, g, 1.0, 0.05, False)
        return p, g, np.where(g >= 0.5, 255, 0).astype(np.uint8)
    if kind == "levels8":              # 8-bit values on / next to the thresholds (153/255 ...)
        vals = np.array([0, 25, 26, 51, 76, 77, 102, 127, 128, 153, 154, 178, 179, 204, 229, 230, 255])
        g = rng.choice(vals, (h, w)) / 255
        p = rng.choice(vals, (h, w)) / 255
        g = np.where(rng.random((h, w)) < 0.4, p, g)
        return p, g, _trimap_from(g)
    if kind == "ties":                 # equal-size components at every threshold
        g = np.zeros((h, w))
        p = np.zeros((h, w))
        s = recipe.get("square", 4)
        for (r, c) in recipe["corners"]:
            g[r:r + s, c:c + s] = recipe.get("value", 1.0)
            p[r:r + s, c:c + s] = recipe.get("value", 1.0)
        p += rng.uniform(0, 0.3, (h, w)) * (g == 0)
        return np.clip(p, 0, 1), g, _trimap_from(g)
    if kind == "binary":               # binary masks
        g = (_smooth_alpha(rng, h, w, 3.0) > 0.5).astype(float)
        p = (_smooth_alpha(rng, h, w, 3.0) > 0.5).astype(float)
        return p, g, np.full((h, w), 128, np.uint8)
    if kind == "photo":                # a real alpha + trimap, synthetic 8-bit prediction
        g = _read_gray(PHOTO_DIR / "mask" / f"{recipe['photo']}.png").astype(np.float64) / 255
        t = _read_gray(PHOTO_DIR / "trimap" / f"{recipe['photo']}.png").astype(np.uint8)
        p = _noisy(rng, g, 2.0, 0.04, True)
        return p, g, t
    raise ValueError(f"unknown golden case kind {kind!r}")


def synthetic_cases() -> list[dict]:
    """The recipes of the synthetic cases."""
    cases = []
    for i, (h, w) in enumerate([(64, 80), (37, 53), (96, 64), (50, 50)]):
        cases.append({"name": f"smooth_{h}x{w}", "kind": "smooth", "seed": 100 + i, "shape": [h, w]})
    cases += [
        {"name": "smooth_q8", "kind": "smooth", "seed": 7, "shape": [60, 70], "q8": True},
        {"name": "smooth_coarse", "kind": "smooth", "seed": 8, "shape": [80, 90], "sigma": 12.0, "noise": 0.02},
        {"name": "zeros", "kind": "constant", "shape": [20, 30], "pred": 0.0, "alpha": 0.0, "trimap": 0},
        {"name": "ones", "kind": "constant", "shape": [20, 30], "pred": 1.0, "alpha": 1.0, "trimap": 255},
        {"name": "zero_pred_one_alpha", "kind": "constant", "shape": [21, 17], "pred": 0.0, "alpha": 1.0},
        {"name": "equal", "kind": "equal", "seed": 11, "shape": [45, 61]},
        {"name": "no_unknown", "kind": "no_unknown", "seed": 12, "shape": [40, 44]},
        {"name": "pixel_1x1", "kind": "smooth", "seed": 13, "shape": [1, 1]},
        {"name": "row_1x57", "kind": "smooth", "seed": 14, "shape": [1, 57], "sigma": 2.0},
        {"name": "col_43x1", "kind": "smooth", "seed": 15, "shape": [43, 1], "sigma": 2.0},
        {"name": "small_3x5", "kind": "smooth", "seed": 16, "shape": [3, 5], "sigma": 1.0},
        {"name": "levels8", "kind": "levels8", "seed": 17, "shape": [40, 40]},
        {"name": "levels8_b", "kind": "levels8", "seed": 18, "shape": [23, 71]},
        {"name": "ties_4", "kind": "ties", "seed": 19, "shape": [30, 30], "corners": [[20, 20], [2, 15], [2, 2], [15, 2]]},
        {"name": "ties_153", "kind": "ties", "seed": 20, "shape": [16, 24], "square": 3,
         "corners": [[10, 3], [1, 18], [1, 1]], "value": 153 / 255},
        {"name": "binary", "kind": "binary", "seed": 21, "shape": [48, 52]},
    ]
    return cases


def photo_cases() -> list[dict]:
    """Recipes for the real photographs (need PHOTO_DIR); seeded per image."""
    names = ["GT01", "GT02", "GT04", "GT05", "GT06", "GT11", "GT13", "GT16", "GT19", "GT24"]
    return [{"name": f"photo_{n}", "kind": "photo", "seed": 1000 + i, "photo": n} for i, n in enumerate(names)]
