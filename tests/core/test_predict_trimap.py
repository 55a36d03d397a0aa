"""``matbench predict --trimap`` for a classical trimap-based method: trimaps matched to the
photos by name, the alpha the method computes, one-line errors for what is missing."""
import subprocess
import sys

import numpy as np
from PIL import Image

from matbench.api import MODELS, build
from matbench.plugins import load_plugins


def matbench(*args):
    return subprocess.run([sys.executable, "-m", "matbench.cli", *map(str, args)], capture_output=True, text=True)


def test_closedform_predict_with_trimaps(tmp_path):
    rng = np.random.default_rng(0)
    photos, trimaps = tmp_path / "photos", tmp_path / "trimaps"
    photos.mkdir(), trimaps.mkdir()
    images = {}
    for stem, (h, w) in {"a": (30, 40), "b": (36, 28)}.items():
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        trimap = np.full((h, w), 128, np.uint8)
        trimap[: h // 3], trimap[-h // 3:] = 0, 255
        Image.fromarray(image).save(photos / f"{stem}.png")
        Image.fromarray(trimap).save(trimaps / f"{stem}.png")
        images[stem] = image, trimap
    out = tmp_path / "out"
    res = matbench("predict", photos, "--trimap", trimaps, "--model", "ClosedForm", "--out", out)
    assert res.returncode == 0, res.stderr
    load_plugins()
    method = build(MODELS, {"type": "ClosedForm"})
    for stem, (image, trimap) in images.items():
        expected = np.round(np.clip(method.predict(image, trimap), 0, 1) * 255)
        assert np.array_equal(np.asarray(Image.open(out / f"{stem}.png")), expected.astype(np.uint8))

    (trimaps / "b.png").unlink()
    res = matbench("predict", photos, "--trimap", trimaps, "--model", "ClosedForm", "--out", out)
    assert res.returncode == 2 and "no trimap named 'b'" in res.stderr and len(res.stderr.splitlines()) == 1
    res = matbench("predict", photos, "--model", "ClosedForm", "--out", out)
    assert res.returncode == 2 and "--trimap" in res.stderr and len(res.stderr.splitlines()) == 1
