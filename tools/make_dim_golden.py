"""Make ``tests/fixtures/dim_golden.json``: mmagic's own SAD / MSE / Grad / Conn on seeded inputs.

Usage::

    export MMAGIC_SRC=<an empty folder>
    mkdir -p $MMAGIC_SRC && git --git-dir=<mmagic clone>/.git archive HEAD mmagic/evaluation mmagic/models/base_models \
        | tar -x -C $MMAGIC_SRC
    MMAGIC_COMMIT=<sha> MMAGIC_COMMIT_DATE=<yyyy-mm-dd> \
        python tools/make_dim_golden.py

The mmagic files are executed from ``MMAGIC_SRC`` (nothing of them is copied here); the few
packages they import that are not needed to compute a metric (mmcv, mmagic's registries,
``DataSample``) are replaced by stubs. Each case is stored as a *recipe* (seeded), never as
arrays: :func:`build_case` turns a recipe into ``(pred, alpha, trimap)`` and is imported by
``tests/metrics/test_dim_metrics.py``. Cases of kind ``photo`` read the alphamatting.com
photographs in ``$DIM_PHOTOS`` (default: the alphamatting-lowres folder of
``matbench_metrics.aim.golden_inputs``), which are not redistributed.
"""
from __future__ import annotations

import datetime
import hashlib
import importlib.util
import json
import os
import sys
import types
from pathlib import Path

import numpy as np

from matbench_metrics.aim.golden_inputs import PHOTO_DIR

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures" / "dim_golden.json"
PHOTOS = Path(os.environ.get("DIM_PHOTOS") or PHOTO_DIR)
PHOTO_NAMES = ["GT01", "GT02", "GT04", "GT05", "GT06", "GT11", "GT13", "GT16", "GT19", "GT24"]

# 8-bit values on either side of every conn threshold (153 is exactly 0.6 and misses t6)
THRESHOLD_VALUES = [0, 1, 25, 26, 51, 52, 76, 77, 102, 103, 127, 128, 153, 154, 178, 179, 204, 205,
                    229, 230, 254, 255]


# ---------------------------------------------------------------------------- inputs from recipes

def _blur(x: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(x, sigma, mode="nearest") if sigma > 0 else x


def _smooth_alpha(rng: np.random.Generator, h: int, w: int, scale: float) -> np.ndarray:
    """A random soft matte with flat 0 and 1 regions, quantised to k/255."""
    field = _blur(rng.standard_normal((h, w)), scale)
    field = (field - field.mean()) / (field.std() + 1e-12)
    return np.rint(np.clip(field * 0.7 + 0.5, 0, 1) * 255) / 255


def _band_trimap(alpha: np.ndarray, radius: int) -> np.ndarray:
    """0 / 255 where the alpha is flat 0 / 1 farther than ``radius`` from any soft pixel, else 128."""
    import cv2

    a8 = np.rint(alpha * 255).astype(np.uint8)
    soft = ((a8 > 0) & (a8 < 255)).astype(np.uint8)
    if radius > 0:
        soft = cv2.dilate(soft, np.ones((2 * radius + 1, 2 * radius + 1), np.uint8))
    trimap = np.where(a8 >= 128, 255, 0).astype(np.uint8)
    trimap[soft > 0] = 128
    return trimap


def _noisy(rng: np.random.Generator, alpha: np.ndarray, blur: float, noise: float, spill: float,
           quantize: bool) -> np.ndarray:
    """A plausible prediction: blurred alpha plus noise, a little outside [0, 1] unless quantised."""
    pred = _blur(alpha, blur) + rng.normal(0, noise, alpha.shape)
    pred = np.clip(pred, -spill, 1 + spill)
    if quantize:
        pred = np.rint(np.clip(pred, 0, 1) * 255) / 255
    return pred


def build_case(recipe: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(pred float64, alpha float64 k/255, trimap uint8 0/128/255)`` of one recipe."""
    kind = recipe["kind"]
    rng = np.random.default_rng(recipe.get("seed", 0))
    if kind == "mmagic_unit":
        # mmagic tests/test_evaluation/test_metrics/test_sad.py: gt all 255, 16x16 unknown,
        # 16x16 foreground, the rest background, all-zero prediction
        alpha = np.ones((32, 32))
        trimap = np.zeros((32, 32), np.uint8)
        trimap[:16, :16] = 128
        trimap[16:, 16:] = 255
        return np.zeros((32, 32)), alpha, trimap
    if kind == "smooth":
        h, w = recipe["shape"]
        alpha = _smooth_alpha(rng, h, w, recipe.get("scale", 6.0))
        if recipe.get("trimap") == "random":
            trimap = rng.choice(np.array([0, 128, 255], np.uint8), (h, w), p=[0.25, 0.5, 0.25])
        elif recipe.get("trimap") == "binary":
            trimap = np.where(alpha >= 0.5, 255, 0).astype(np.uint8)
        elif recipe.get("trimap") == "all_unknown":
            trimap = np.full((h, w), 128, np.uint8)
        else:
            trimap = _band_trimap(alpha, recipe.get("radius", 3))
        mode = recipe.get("pred", "noisy")
        if mode == "zeros":
            pred = np.zeros((h, w))
        elif mode == "ones":
            pred = np.ones((h, w))
        elif mode == "gt":
            pred = alpha.copy()
        elif mode == "independent":
            pred = _smooth_alpha(rng, h, w, recipe.get("scale", 6.0))
        else:
            pred = _noisy(rng, alpha, recipe.get("blur", 1.5), recipe.get("noise", 0.05),
                          recipe.get("spill", 0.1), recipe.get("quantize", False))
        return pred, alpha, trimap
    if kind == "levels":
        # every pixel on one side of a conn threshold, gt and pred drawn independently
        h, w = recipe["shape"]
        values = np.array(recipe.get("values", THRESHOLD_VALUES), np.float64)
        alpha = rng.choice(values, (h, w)) / 255
        pred = rng.choice(values, (h, w)) / 255
        if recipe.get("blocky"):
            # repeat values in 3x3 blocks so components larger than one pixel form
            alpha = np.kron(alpha, np.ones((3, 3)))[:h, :w]
            pred = np.kron(pred, np.ones((3, 3)))[:h, :w]
        trimap = np.full(alpha.shape, 128, np.uint8)
        return pred, alpha, trimap
    if kind == "constant":
        h, w = recipe["shape"]
        alpha = np.full((h, w), recipe["gt"] / 255)
        pred = np.full((h, w), recipe["pred"] / 255) if "pred" in recipe else \
            _noisy(rng, alpha, 0, 0.1, 0.0, True)
        trimap = np.full((h, w), 128, np.uint8)
        if recipe.get("border"):
            trimap[0, :] = trimap[:, 0] = 0
        return pred, alpha, trimap
    if kind == "pattern":
        return _pattern(recipe, rng)
    if kind == "photo":
        return _photo(recipe, rng)
    raise ValueError(f"unknown recipe kind {kind!r}")


def _pattern(recipe: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hand-made structures for the connectivity rules (4-connectivity, ties, empty sets)."""
    name = recipe["name"]
    h, w = recipe.get("shape", (24, 30))
    alpha = np.zeros((h, w))
    pred = np.zeros((h, w))
    if name == "diagonal":
        # a one-pixel diagonal line: one 8-connected component, many 4-connected ones
        for i in range(min(h, w)):
            alpha[i, i] = pred[i, i] = 1.0
            if i + 1 < w:
                alpha[i, i + 1] = 0.5
        alpha[2:5, 20:23] = pred[2:5, 20:23] = 0.8
    elif name == "thin_lines":
        alpha[::3, :] = 0.9
        pred[::3, :] = 0.7
        alpha[:, 5] = pred[:, 5] = 0.35
        pred[10, :] = 1.0
    elif name == "checkerboard":
        # every component is a single pixel: the tie goes to the first pixel in raster order
        yy, xx = np.mgrid[0:h, 0:w]
        board = ((yy + xx) % 2 == 0).astype(np.float64)
        alpha[:] = board * 0.9
        pred[:] = board * rng.choice(np.array([153, 154, 255]), (h, w)) / 255
    elif name == "tie":
        # two blobs of equal size; the one starting first in raster order must win
        alpha[2:6, 20:25] = pred[2:6, 20:25] = 0.75
        alpha[10:14, 2:7] = pred[10:14, 2:7] = 0.95
        alpha[12:20, 12:14] = 0.5
        pred[12:20, 12:14] = 0.45
    elif name == "disjoint":
        # gt high on the left, prediction high on the right: empty intersections from t1 up
        alpha[:, : w // 2] = np.linspace(0.2, 1.0, w // 2)[None, :]
        pred[:, w // 2:] = np.linspace(0.2, 1.0, w - w // 2)[None, :]
        alpha[h // 2, :] = 0.05
        pred[h // 2, :] = 0.05
    elif name == "overlap_step":
        # intersection non-empty up to 0.5, empty above it although each map goes higher
        alpha[4:20, 3:15] = 0.5
        alpha[4:20, 15:27] = 1.0
        pred[4:20, 3:15] = 1.0
        pred[4:20, 15:27] = 0.5
        alpha[8:12, 8:22] = 0.3
    elif name == "value_153":
        # 153 is exactly 0.6 but t6 is 0.6000000000000001; 154 passes
        alpha[3:20, 3:14] = 153 / 255
        alpha[3:20, 14:27] = 154 / 255
        pred[3:20, 3:27] = 1.0
        alpha[5:10, 5:10] = 1.0
    else:
        raise ValueError(f"unknown pattern {name!r}")
    alpha = np.rint(alpha * 255) / 255
    trimap = np.full((h, w), 128, np.uint8)
    if recipe.get("known_border"):
        trimap[0, :] = 0
        trimap[-1, :] = 255
    return pred, alpha, trimap


def _photo(recipe: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from PIL import Image

    name = recipe["name"]
    alpha = np.asarray(Image.open(PHOTOS / "mask" / f"{name}.png").convert("L")) / 255.0
    trimap = np.asarray(Image.open(PHOTOS / "trimap" / f"{name}.png").convert("L")).astype(np.uint8)
    pred = _noisy(rng, alpha, recipe["blur"], recipe["noise"], recipe.get("spill", 0.05),
                  recipe.get("quantize", False))
    return pred, alpha, trimap


def _recipes() -> list[dict]:
    cases = [{"id": "mmagic_unit_test", "kind": "mmagic_unit"}]
    for i, (shape, extra) in enumerate([
        ((64, 80), {}),
        ((97, 131), {"quantize": True}),
        ((150, 200), {"blur": 3.0, "noise": 0.1, "radius": 6}),
        ((200, 120), {"scale": 12.0, "noise": 0.02}),
        ((77, 53), {"trimap": "random"}),
        ((61, 89), {"trimap": "all_unknown", "spill": 0.3}),
        ((128, 128), {"pred": "independent", "trimap": "all_unknown"}),
    ]):
        cases.append({"id": f"smooth_{i}", "kind": "smooth", "seed": 100 + i, "shape": list(shape), **extra})
    for mode in ("zeros", "ones", "gt"):
        cases.append({"id": f"pred_{mode}", "kind": "smooth", "seed": 7, "shape": [60, 70], "pred": mode})
        cases.append({"id": f"pred_{mode}_all_unknown", "kind": "smooth", "seed": 8, "shape": [45, 38],
                      "pred": mode, "trimap": "all_unknown"})
    cases.append({"id": "no_unknown", "kind": "smooth", "seed": 9, "shape": [50, 60], "trimap": "binary"})
    for shape in ([1, 1], [1, 9], [9, 1], [2, 3], [5, 4], [13, 7], [31, 17]):
        cases.append({"id": f"odd_{shape[0]}x{shape[1]}", "kind": "smooth", "seed": 11, "shape": shape,
                      "trimap": "all_unknown", "scale": 1.0})
    for i, blocky in enumerate([False, True, False]):
        cases.append({"id": f"levels_{i}", "kind": "levels", "seed": 20 + i, "shape": [41, 47], "blocky": blocky})
    cases.append({"id": "levels_153", "kind": "levels", "seed": 30, "shape": [30, 30], "blocky": True,
                  "values": [0, 102, 152, 153, 154, 204, 255]})
    for i, (gt, pred) in enumerate([(0, 0), (128, 128), (255, 255), (128, 0), (77, 200)]):
        cases.append({"id": f"constant_{i}", "kind": "constant", "shape": [20, 25], "gt": gt, "pred": pred})
    cases.append({"id": "constant_gt_noisy_pred", "kind": "constant", "seed": 3, "shape": [33, 29], "gt": 153})
    cases.append({"id": "constant_gt_known_border", "kind": "constant", "seed": 4, "shape": [33, 29],
                  "gt": 200, "border": True})
    for name in ("diagonal", "thin_lines", "checkerboard", "tie", "disjoint", "overlap_step", "value_153"):
        cases.append({"id": f"pattern_{name}", "kind": "pattern", "name": name, "seed": 5})
    cases.append({"id": "pattern_tie_known_border", "kind": "pattern", "name": "tie", "known_border": True})
    for i, name in enumerate(PHOTO_NAMES):
        cases.append({"id": f"photo_{name}", "kind": "photo", "name": name, "seed": 1000 + i,
                      "blur": 1.0 + 0.5 * (i % 4), "noise": 0.02 + 0.01 * (i % 3), "quantize": i % 2 == 1})
    return cases


def input_digest(pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray) -> str:
    """Fingerprint of a case's inputs, to tell a changed recipe from a changed metric."""
    h = hashlib.sha256()
    for a in (np.asarray(pred, np.float32), np.rint(alpha * 255).astype(np.uint8), trimap):
        h.update(str(a.shape).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def digest_u8(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a, np.uint8).tobytes()).hexdigest()[:16]


# ---------------------------------------------------------------------------- mmagic, run in place

def _load_file(name: str, path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_mmagic(src: Path) -> types.SimpleNamespace:
    """mmagic's metric classes and ``BaseMattor``, executed from the extracted sources in ``src``."""

    class _Registry:
        def register_module(self, *args, **kwargs):
            return lambda obj: obj

    class _DataSample:
        def __init__(self, **kwargs):
            self.__dict__.update(kwargs)

    def package(name: str, path: Path | None = None) -> types.ModuleType:
        module = types.ModuleType(name)
        module.__path__ = [str(path)] if path else []
        sys.modules[name] = module
        return module

    def stub(name: str, **attrs) -> types.ModuleType:
        module = types.ModuleType(name)
        module.__dict__.update(attrs)
        sys.modules[name] = module
        return module

    if importlib.util.find_spec("mmcv") is None:
        stub("mmcv")  # metrics_utils imports it for colour conversions the matting metrics never use
    package("mmagic", src / "mmagic")
    stub("mmagic.registry", METRICS=_Registry(), MODELS=_Registry())
    stub("mmagic.utils", reorder_image=None)
    stub("mmagic.structures", DataSample=_DataSample)
    package("mmagic.evaluation", src / "mmagic/evaluation")
    gaussian_funcs = _load_file("mmagic.evaluation.gaussian_funcs",
                                src / "mmagic/evaluation/functional/gaussian_funcs.py")
    stub("mmagic.evaluation.functional", gauss_gradient=gaussian_funcs.gauss_gradient)
    metrics_dir = src / "mmagic/evaluation/metrics"
    package("mmagic.evaluation.metrics", metrics_dir)
    mods = {}
    for name in ("metrics_utils", "base_sample_wise_metric", "sad", "matting_mse", "gradient_error",
                 "connectivity_error"):
        mods[name] = _load_file(f"mmagic.evaluation.metrics.{name}", metrics_dir / f"{name}.py")
    package("mmagic.models", src / "mmagic/models")
    package("mmagic.models.base_models", src / "mmagic/models/base_models")
    base_mattor = _load_file("mmagic.models.base_models.base_mattor",
                             src / "mmagic/models/base_models/base_mattor.py")
    return types.SimpleNamespace(
        SAD=mods["sad"].SAD, MattingMSE=mods["matting_mse"].MattingMSE,
        GradientError=mods["gradient_error"].GradientError,
        ConnectivityError=mods["connectivity_error"].ConnectivityError,
        BaseMattor=base_mattor.BaseMattor, gauss_filter=gaussian_funcs.gauss_filter)


def mmagic_postprocess(mm: types.SimpleNamespace, pred: np.ndarray, trimap: np.ndarray) -> np.ndarray:
    """``BaseMattor.postprocess`` on a float32 network output of the image's own size."""
    import torch

    class _Samples:
        def __init__(self, trimap):
            self.ori_trimap = torch.from_numpy(trimap[None])

        def split(self):
            return [self]

    class _Mattor:
        def restore_size(self, pred_alpha, data_sample):
            return pred_alpha

    batch = torch.from_numpy(np.asarray(pred, np.float32)[None, None].copy())
    out = mm.BaseMattor.postprocess(_Mattor(), batch, _Samples(trimap))
    return out[0].pred_alpha.numpy()


def mmagic_values(mm: types.SimpleNamespace, pred: np.ndarray, alpha: np.ndarray,
                  trimap: np.ndarray) -> tuple[dict, str]:
    """mmagic's four per-image values and a digest of its post-processed 8-bit prediction."""
    import torch

    pred8 = mmagic_postprocess(mm, pred, trimap)
    alpha8 = np.rint(alpha * 255).astype(np.uint8)
    sample = {"ori_trimap": torch.from_numpy(trimap[None].copy()),
              "ori_alpha": torch.from_numpy(alpha8[None].copy()),
              "output": {"pred_alpha": torch.from_numpy(pred8)}}
    values = {}
    for key, cls, field in (("sad", mm.SAD, "sad"), ("mse", mm.MattingMSE, "mse"),
                            ("grad", mm.GradientError, "grad_err"),
                            ("conn", mm.ConnectivityError, "conn_err")):
        metric = cls()
        metric.process([], [sample])
        values[key] = float(metric.results[-1][field])
    return values, digest_u8(pred8)


def main() -> None:
    src = os.environ.get("MMAGIC_SRC")
    if not src:
        sys.exit("set MMAGIC_SRC to a folder holding mmagic's sources (mmagic/evaluation, mmagic/models)")
    commit = os.environ.get("MMAGIC_COMMIT", "unknown")
    commit_date = os.environ.get("MMAGIC_COMMIT_DATE", "date unknown")
    mm = load_mmagic(Path(src))
    kx, _ = mm.gauss_filter(1.4)
    cases = []
    for recipe in _recipes():
        if recipe["kind"] == "photo" and not PHOTOS.is_dir():
            sys.exit(f"{PHOTOS} is missing (set DIM_PHOTOS)")
        pred, alpha, trimap = build_case(recipe)
        values, pred8 = mmagic_values(mm, pred, alpha, trimap)
        cases.append({**recipe, "inputs": input_digest(pred, alpha, trimap), "pred8": pred8, "mmagic": values})
        print(f"{recipe['id']:32s} " + " ".join(f"{k}={v:.6g}" for k, v in values.items()))
    import cv2
    import torch

    doc = {
        "_note": (f"Made by tools/make_dim_golden.py on {datetime.date.today().isoformat()} by running "
                  f"mmagic's own metric code (open-mmlab/mmagic commit {commit} of {commit_date}, "
                  "mmagic/evaluation/metrics/"
                  "{sad,matting_mse,gradient_error,connectivity_error}.py and BaseMattor.postprocess, "
                  "default arguments) on inputs rebuilt from each case's recipe by build_case(). "
                  f"numpy {np.__version__}, opencv {cv2.__version__}, torch {torch.__version__}. "
                  "'inputs' fingerprints the rebuilt inputs, 'pred8' mmagic's post-processed uint8 "
                  "prediction; 'photo' cases need the alphamatting-lowres photographs (not in the repo)."),
        "gauss_kernel_x_hex": [float(v).hex() for v in kx.ravel()],
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.1f} KiB, {len(cases)} cases)")


if __name__ == "__main__":
    main()
