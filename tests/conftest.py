"""Shared fixtures: small AIM-500-layout datasets and prediction folders made on the fly; the
scripts under tools/ as importable modules."""
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="session", autouse=True)
def _matbench_cache(tmp_path_factory):
    """matbench's cache (the plugin index) goes to a temporary folder, never the user's; the
    subprocesses of the tests inherit it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MATBENCH_CACHE", str(tmp_path_factory.mktemp("matbench-cache")))
        yield

ROOT = Path(__file__).resolve().parents[1]


def load_tool(name: str) -> ModuleType:
    """``tools/<name>.py`` imported as a module (the tools are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TINY_LABELS = {
    "a01": {"type": "SO", "category": "animal"},
    "b02": {"type": "STM", "category": "plant"},
    "c03": {"type": "SO", "category": "toy"},
    "d04": {"type": "NS", "category": "animal"},
}


def _alpha(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    cy, cx, r = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w, rng.uniform(0.2, 0.35) * min(h, w)
    d = np.hypot(yy - cy, xx - cx)
    return np.clip((r - d) / 4 + 0.5, 0, 1)


def make_aim500(root: Path, size=(40, 52), labels=TINY_LABELS, seed: int = 0) -> Path:
    """An AIM-500 layout (original/, mask/, trimap/, aim_category_type.json) with soft discs."""
    rng = np.random.default_rng(seed)
    for sub in ("original", "mask", "trimap"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    h, w = size
    for name in labels:
        a = _alpha(rng, h, w)
        a8 = np.round(a * 255).astype(np.uint8)
        trimap = np.full((h, w), 128, np.uint8)
        trimap[a8 == 0] = 0
        trimap[a8 == 255] = 255
        fg, bg = rng.uniform(0, 255, 3), rng.uniform(0, 255, (h, w, 3))
        img = np.round(a[..., None] * fg + (1 - a[..., None]) * bg).astype(np.uint8)
        Image.fromarray(img).save(root / "original" / f"{name}.jpg", quality=95)
        Image.fromarray(a8).save(root / "mask" / f"{name}.png")
        Image.fromarray(trimap).save(root / "trimap" / f"{name}.png")
    (root / "aim_category_type.json").write_text(json.dumps(labels))
    return root


def make_predictions(data_root: Path, out: Path, seed: int = 1) -> Path:
    """Noisy, blurred 8-bit versions of the true alphas, one PNG per image."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    for mask in sorted((data_root / "mask").glob("*.png")):
        a = np.asarray(Image.open(mask), dtype=np.float64) / 255
        p = np.clip(gaussian_filter(a, 1.5) + rng.normal(0, 0.05, a.shape), 0, 1)
        Image.fromarray(np.round(p * 255).astype(np.uint8)).save(out / mask.name)
    return out


@pytest.fixture
def tiny_aim500(tmp_path: Path) -> Path:
    return make_aim500(tmp_path / "AIM-500")


@pytest.fixture
def tiny_predictions(tiny_aim500: Path, tmp_path: Path) -> Path:
    return make_predictions(tiny_aim500, tmp_path / "pred")
