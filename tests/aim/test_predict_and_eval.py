"""`matbench predict` and `matbench eval --strategy hybrid` as a user runs them (subprocess)."""
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from matbench_aim.testing import scene


def matbench(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "matbench.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(scene(150, 200, seed=3)).save(folder / "plain.jpg", quality=95)
    # stored sideways with an EXIF "rotate 90" tag: the alpha must have the upright size
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(scene(140, 180, seed=4)).save(folder / "rotated.jpg", exif=exif.tobytes())
    rgba = np.dstack([scene(160, 136, seed=5), np.full((160, 136), 200, np.uint8)])
    Image.fromarray(rgba).save(folder / "with_alpha.png")
    grey16 = (scene(144, 160, seed=6)[..., 0].astype(np.uint16) * 257)
    Image.fromarray(grey16).save(folder / "grey16.png")
    return folder


def test_predict_writes_alpha_extras_and_handles_odd_inputs(photos, tmp_path):
    out = tmp_path / "out"
    res = matbench("predict", photos, "--out", out, "--random-weights", "--strategy", "resize",
                   "--cutout", "--composite", "#00ff00", "--save-trimap", "--device", "cpu")
    assert res.returncode == 0, res.stderr
    sizes = {"plain": (200, 150), "rotated": (140, 180), "with_alpha": (136, 160), "grey16": (160, 144)}
    for stem, size in sizes.items():
        alpha = Image.open(out / f"{stem}.png")
        assert alpha.mode == "L" and alpha.size == size, stem
        assert Image.open(out / "cutout" / f"{stem}.png").mode == "RGBA"
        assert Image.open(out / "composite" / f"{stem}_on_00ff00.png").size == size
        assert set(np.unique(np.asarray(Image.open(out / "trimap" / f"{stem}.png")))) <= {0, 128, 255}
    cutout = np.asarray(Image.open(out / "cutout" / "plain.png"))
    assert np.array_equal(cutout[..., 3], np.asarray(Image.open(out / "plain.png")))


@pytest.mark.parametrize("args, message", [
    (["--random-weights", "--composite", "mauve"], "cannot read colour 'mauve'"),
    (["--random-weights", "--strategy", "hybird"], "did you mean 'hybrid'"),
    ([], "has no weights"),
    (["--model", "ClosedForm", "--random-weights"], "trimap-based"),
])
def test_predict_errors_are_one_line(photos, tmp_path, args, message):
    res = matbench("predict", photos, "--out", tmp_path / "o", *args)
    assert res.returncode == 2 and message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr


def test_predict_names_a_too_small_image(tmp_path):
    Image.fromarray(scene(60, 90)).save(tmp_path / "tiny.png")
    res = matbench("predict", tmp_path / "tiny.png", "--out", tmp_path / "o", "--random-weights")
    assert res.returncode == 2 and "tiny.png" in res.stderr and "too small" in res.stderr


def test_eval_hybrid_on_the_embedded_dataset(tmp_path):
    work = tmp_path / "work"
    res = matbench("eval", "--strategy", "hybrid", "--random-weights", "--work-dir", work,
                   "--workers", "0", "--metric-workers", "0", "--device", "cpu", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    results = json.loads((work / "results.json").read_text())
    assert results["meta"]["source"]["strategy"] == {"type": "hybrid"}
    assert results["meta"]["source"]["random_weights"] is True
    assert "(random weights)" in results["meta"]["label"]
    assert len(results["per_image"]) == 14
    assert all(np.isfinite(r["sad"]) and r["sad"] > 0 for r in results["per_image"])
    assert "AimNet / hybrid (random weights)" in res.stdout


def test_predict_with_extras_then_eval_of_its_folder(tmp_path):
    """The mattes folder of ``predict --cutout --composite --save-trimap`` is scored as it is:
    the extras are in sub-folders, so ``eval --predictions`` finds exactly one matte per photo."""
    data = tmp_path / "set"
    rng = np.random.default_rng(7)
    for sub in ("image", "alpha", "trimap"):
        (data / sub).mkdir(parents=True)
    for k in range(3):
        alpha = np.clip(np.linspace(-1, 2, 200)[None, :] + rng.normal(0, 0.05, (150, 200)), 0, 1)
        trimap = np.where(alpha < 0.02, 0, np.where(alpha > 0.98, 255, 128)).astype(np.uint8)
        Image.fromarray(scene(150, 200, seed=k)).save(data / "image" / f"p{k}.png")
        Image.fromarray(np.round(alpha * 255).astype(np.uint8)).save(data / "alpha" / f"p{k}.png")
        Image.fromarray(trimap).save(data / "trimap" / f"p{k}.png")
    out = tmp_path / "P"
    res = matbench("predict", data / "image", "--random-weights", "--strategy", "resize", "--device", "cpu",
                   "--out", out, "--cutout", "--composite", "green", "--save-trimap")
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in out.iterdir() if p.is_file() and p.suffix == ".png") == ["p0.png", "p1.png", "p2.png"]
    res = matbench("eval", "--dataset", "folder", "--data-root", data, "--predictions", out,
                   "--work-dir", tmp_path / "W", "--no-report")
    assert res.returncode == 0, res.stderr
    results = json.loads((tmp_path / "W" / "results.json").read_text())
    assert sorted(row["name"] for row in results["per_image"]) == ["p0", "p1", "p2"]
