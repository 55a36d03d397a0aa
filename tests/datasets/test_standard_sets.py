"""The standard test-set plugins (am2k, p3m500-p, p3m500-np, ppm100) on miniature copies of each
official layout made here: counts, pairing, layout errors, --data-root variants, METAINFO and
evaluation end to end (rows equal the metric function on the same arrays)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from matbench.errors import InputError, MatbenchError
from matbench.evaluation.options import make_job
from matbench.evaluation.run import evaluate
from matbench.registry import DATASETS, build, lookup

SIZE = (40, 52)
AM2K_NAMES = ("m_0aa9dd6a", "m_3f2b81c4", "m_e1c07d55")
P3M_P_NAMES = ("p_015cd10e", "p_4be9a1f2", "p_c0ffee12")
P3M_NP_NAMES = ("p_0b5e7a31", "p_93d2c8e0")
PPM_NAMES = ("3104502752_cb935c1f0b_o", "6146816_556eaff97f_o", "8467219402_0d4c1a7e2b_o")
GFM_RULE = {"type": "dilate_erode", "kernel_size": 25}


# ----------------------------------------------------------------------------- miniature layouts

def _alpha8(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A soft-edged half plane at a random slant: large exact 0 and 255 areas, a band between."""
    yy, xx = np.mgrid[0:h, 0:w]
    angle = rng.uniform(-0.5, 0.5)
    d = (xx - w * rng.uniform(0.4, 0.6)) * np.cos(angle) + (yy - h / 2) * np.sin(angle)
    return np.round(np.clip(d / 6 + 0.5, 0, 1) * 255).astype(np.uint8)


def _image(rng: np.random.Generator, alpha8: np.ndarray) -> np.ndarray:
    a = alpha8[..., None] / 255
    fg, bg = rng.uniform(0, 255, 3), rng.uniform(0, 255, alpha8.shape + (3,))
    return np.round(a * fg + (1 - a) * bg).astype(np.uint8)


def _trimap(alpha8: np.ndarray) -> np.ndarray:
    t = np.full(alpha8.shape, 128, np.uint8)
    t[alpha8 == 0], t[alpha8 == 255] = 0, 255
    return t


def _split(folder: Path, names, image_dir: str, seed: int, extra_dirs=()) -> Path:
    """One GFM/P3M-style split: image_dir/<name>.jpg, mask/<name>.png, trimap/<name>.png."""
    rng = np.random.default_rng(seed)
    for sub in (image_dir, "mask", "trimap", *extra_dirs):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for name in names:
        a8 = _alpha8(rng, *SIZE)
        Image.fromarray(_image(rng, a8)).save(folder / image_dir / f"{name}.jpg", quality=95)
        Image.fromarray(a8).save(folder / "mask" / f"{name}.png")
        Image.fromarray(_trimap(a8)).save(folder / "trimap" / f"{name}.png")
        for sub in extra_dirs:   # e.g. P3M's facemask/: present, never read
            Image.fromarray(np.zeros(SIZE, np.uint8)).save(folder / sub / f"{name}.png")
    return folder


def make_am2k(parent: Path) -> Path:
    """``AM-2k/{train,validation}``; the train split holds a file the validation set must not list."""
    root = parent / "AM-2k"
    _split(root / "validation", AM2K_NAMES, "original", seed=0)
    _split(root / "train", ("m_ffffffff",), "original", seed=9)
    return root


def make_p3m(parent: Path, with_validation: bool = True) -> Path:
    """``P3M-10k/[validation/]{P3M-500-P,P3M-500-NP}`` (+ a train split that must not be read)."""
    root = parent / "P3M-10k"
    val = root / "validation" if with_validation else root
    _split(val / "P3M-500-P", P3M_P_NAMES, "blurred_image", seed=1, extra_dirs=("facemask",))
    _split(val / "P3M-500-NP", P3M_NP_NAMES, "original_image", seed=2)
    (root / "train" / "blurred_image").mkdir(parents=True)
    return root


def make_ppm(parent: Path, colour: bool = False) -> Path:
    """``PPM-100/{image,matte}/<flickr name>.jpg``; mattes are JPEGs (greyscale, or colour with
    channels that differ a little when `colour`)."""
    root = parent / "PPM-100"
    rng = np.random.default_rng(3)
    for sub in ("image", "matte"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name in PPM_NAMES:
        a8 = _alpha8(rng, *SIZE)
        Image.fromarray(_image(rng, a8)).save(root / "image" / f"{name}.jpg", quality=95)
        if colour:
            rgb = np.repeat(a8[..., None], 3, axis=2).astype(np.int16)
            rgb[..., 2] += rng.integers(-6, 7, SIZE).astype(np.int16)
            Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(root / "matte" / f"{name}.jpg", quality=90)
        else:
            Image.fromarray(a8).save(root / "matte" / f"{name}.jpg", quality=100)
    return root


def make_predictions(names, alphas, out: Path, seed: int = 5) -> Path:
    """A noisy 8-bit PNG prediction ``<name>.png`` per true alpha (float arrays in [0, 1])."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    for name, a in zip(names, alphas):
        p = np.clip(a + rng.normal(0, 0.08, a.shape), 0, 1)
        Image.fromarray(np.round(p * 255).astype(np.uint8)).save(out / f"{name}.png")
    return out


def _grey(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def _gfm_trimap(alpha8: np.ndarray) -> np.ndarray:
    """GFM's gen_trimap_with_dilate with k = 25, written out here with cv2."""
    import cv2

    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (25, 25))
    dilated = cv2.dilate((alpha8 != 0).astype(np.uint8), kernel, iterations=1)
    eroded = cv2.erode((alpha8 == 255).astype(np.uint8), kernel, iterations=1)
    return (255 * eroded + 128 * (dilated - eroded)).astype(np.uint8)


def _job(dataset: str, root: Path, pred: Path, work: Path, **kw):
    return make_job(dataset=dataset, data_root=root, predictions=pred, work_dir=work, workers=0,
                    metric_workers=0, **kw)


# ------------------------------------------------------------------------ the sets and their files

# (CLI name, layout maker, split folder under the root, image dir, image names)
SHIPPED = {
    "am2k": (make_am2k, "validation", "original", AM2K_NAMES),
    "p3m500-p": (make_p3m, "validation/P3M-500-P", "blurred_image", P3M_P_NAMES),
    "p3m500-np": (make_p3m, "validation/P3M-500-NP", "original_image", P3M_NP_NAMES),
}


def _build(name: str, root: Path, **kw):
    return build(DATASETS, dict(type=name, data_root=str(root), pipeline=[], **kw))


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_sets_list_and_pair_by_stem(name, tmp_path):
    make, split, image_dir, names = SHIPPED[name]
    root = make(tmp_path)
    ds = _build(name, root)
    assert len(ds) == len(names) and ds.names == sorted(names)
    info = ds.get_data_info(0)
    stem, folder = sorted(names)[0], root / split
    assert info["image_path"] == str(folder / image_dir / f"{stem}.jpg")
    assert info["alpha_path"] == str(folder / "mask" / f"{stem}.png")
    assert info["trimap_path"] == str(folder / "trimap" / f"{stem}.png")
    assert ds.ships_trimaps


def test_ppm100_lists_and_pairs_identical_names(tmp_path):
    root = make_ppm(tmp_path)
    ds = _build("ppm100", root, trimap_cache=str(tmp_path / "cache"))
    assert len(ds) == 3 and ds.names == sorted(PPM_NAMES)
    info = ds.get_data_info(1)
    assert info["image_path"] == str(root / "image" / f"{sorted(PPM_NAMES)[1]}.jpg")
    assert info["alpha_path"] == str(root / "matte" / f"{sorted(PPM_NAMES)[1]}.jpg")   # greyscale: as is
    assert Path(info["trimap_path"]).parent.parent == tmp_path / "cache"
    assert not ds.ships_trimaps


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_missing_and_extra_files_are_named(name, tmp_path):
    make, split, image_dir, names = SHIPPED[name]
    root = make(tmp_path)
    folder, first = root / split, sorted(names)[0]
    (folder / "trimap" / f"{first}.png").unlink()
    with pytest.raises(InputError) as err:
        _build(name, root)
    assert err.value.path == str(folder / "trimap" / f"{first}.png")
    assert "trimap missing" in str(err.value) and "\n" not in str(err.value)
    shutil.copy(folder / "mask" / f"{first}.png", folder / "trimap" / f"{first}.png")
    shutil.copy(folder / "mask" / f"{first}.png", folder / "mask" / "p_deadbeef.png")
    with pytest.raises(InputError) as err:
        _build(name, root)
    assert err.value.path == str(folder / "mask" / "p_deadbeef.png") and "\n" not in str(err.value)


def test_ppm100_missing_extra_and_misnamed_mattes(tmp_path):
    root = make_ppm(tmp_path)
    cache = str(tmp_path / "cache")
    first = sorted(PPM_NAMES)[0]
    (root / "matte" / f"{first}.jpg").rename(tmp_path / "kept.jpg")
    with pytest.raises(InputError, match="alpha missing") as err:
        _build("ppm100", root, trimap_cache=cache)
    assert err.value.path == str(root / "matte" / f"{first}.jpg")
    shutil.copy(tmp_path / "kept.jpg", root / "matte" / f"{first}.jpg")
    shutil.copy(tmp_path / "kept.jpg", root / "matte" / "123_abc_o.jpg")
    with pytest.raises(InputError, match="has no image") as err:
        _build("ppm100", root, trimap_cache=cache)
    assert err.value.path == str(root / "matte" / "123_abc_o.jpg")
    (root / "matte" / "123_abc_o.jpg").unlink()
    (root / "matte" / f"{first}.jpg").unlink()
    # a matte under another extension: the third-party scripts open matte/<image file name>
    Image.open(tmp_path / "kept.jpg").save(root / "matte" / f"{first}.png")
    with pytest.raises(InputError, match="not named like its image") as err:
        _build("ppm100", root, trimap_cache=cache)
    assert err.value.path == str(root / "matte" / f"{first}.png") and "\n" not in str(err.value)


# ------------------------------------------------------------------------------ data-root variants

def test_am2k_root_variants(tmp_path):
    root = make_am2k(tmp_path)
    for given in (root, root / "validation"):
        assert _build("am2k", given).names == sorted(AM2K_NAMES)
    with pytest.raises(InputError) as err:
        _build("am2k", tmp_path)
    assert err.value.path == str(tmp_path) and "validation/original/" in str(err.value)
    with pytest.raises(InputError, match="dataset folder not found"):
        _build("am2k", tmp_path / "nowhere")


@pytest.mark.parametrize("name, split, names", [("p3m500-p", "P3M-500-P", P3M_P_NAMES),
                                                ("p3m500-np", "P3M-500-NP", P3M_NP_NAMES)])
def test_p3m_root_variants(name, split, names, tmp_path):
    official = make_p3m(tmp_path / "a")
    flat = make_p3m(tmp_path / "b", with_validation=False)     # JizhiziLi/P3M core/config.py's paths
    for given in (official, official / "validation", official / "validation" / split, flat, flat / split):
        assert _build(name, given).names == sorted(names), given
    other = "P3M-500-NP" if split == "P3M-500-P" else "P3M-500-P"
    with pytest.raises(InputError) as err:            # the other split's folder is not this set
        _build(name, official / "validation" / other)
    assert f"validation/{split}/" in str(err.value) and "\n" not in str(err.value)


def test_ppm100_root_is_checked(tmp_path):
    root = make_ppm(tmp_path)
    with pytest.raises(InputError) as err:
        _build("ppm100", tmp_path, trimap_cache=str(tmp_path / "cache"))
    assert err.value.path == str(tmp_path) and "image/ and matte/" in str(err.value)
    with pytest.raises(MatbenchError, match="rgb_mattes"):
        _build("ppm100", root, trimap_cache=str(tmp_path / "cache"), rgb_mattes="average")


@pytest.mark.parametrize("name, title", [("am2k", "AM-2k (validation)"), ("p3m500-p", "P3M-500-P"),
                                         ("p3m500-np", "P3M-500-NP"), ("ppm100", "PPM-100")])
def test_metainfo(name, title):
    info = lookup(DATASETS, name).METAINFO
    assert info["name"] == name and info["title"] == title
    assert info["default_variant"] == "aim" and info["groups"] == [] and info["paper"]
    assert info["trimap_rule"] == (GFM_RULE if name == "ppm100" else None)


# ------------------------------------------------------------------------------------ end to end

def _check_rows(results: dict, pred: Path, alphas: dict, trimaps: dict) -> None:
    from matbench_metrics.aim import KEYS, aim_metrics

    rows = {r["name"]: r for r in results["per_image"]}
    assert sorted(rows) == sorted(alphas)
    for name, row in rows.items():
        expected = aim_metrics(_grey(pred / f"{name}.png") / 255.0, alphas[name] / 255.0, trimaps[name])
        assert {k: row[k] for k in KEYS} == expected            # unrounded, exactly


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_sets_evaluate_end_to_end(name, tmp_path):
    make, split, _, names = SHIPPED[name]
    root = make(tmp_path)
    folder = root / split
    alphas = {n: _grey(folder / "mask" / f"{n}.png") for n in names}
    trimaps = {n: _grey(folder / "trimap" / f"{n}.png") for n in names}
    pred = make_predictions(names, [alphas[n] / 255.0 for n in names], tmp_path / "pred")
    results = evaluate(_job(name, root, pred, tmp_path / "w"))
    _check_rows(results, pred, alphas, trimaps)
    meta = results["meta"]
    assert meta["variant"] == "aim" and f"the dataset's convention ({name})" in meta["variant_chosen_by"]
    assert meta["dataset"]["name"] == name and meta["dataset"]["num_images"] == len(names)
    assert meta["dataset"]["trimaps"] == {"source": "official"}


def _ppm_eval(root: Path, pred: Path, work: Path, **kw) -> dict:
    return evaluate(_job("ppm100", root, pred, work, **kw))


def test_ppm100_generates_gfm_trimaps_end_to_end(tmp_path):
    root = make_ppm(tmp_path)
    alphas = {n: _grey(root / "matte" / f"{n}.jpg") for n in PPM_NAMES}
    assert all(a.ndim == 2 for a in alphas.values())
    pred = make_predictions(PPM_NAMES, [alphas[n] / 255.0 for n in PPM_NAMES], tmp_path / "pred")
    first = _ppm_eval(root, pred, tmp_path / "w1")
    second = _ppm_eval(root, pred, tmp_path / "w2")
    trimaps = {n: _gfm_trimap(alphas[n]) for n in PPM_NAMES}
    assert any((t == 255).any() and (t == 128).any() and (t == 0).any() for t in trimaps.values())
    _check_rows(first, pred, alphas, trimaps)
    meta = first["meta"]
    assert meta["variant"] == "aim" and "the dataset's convention (ppm100)" in meta["variant_chosen_by"]
    assert meta["dataset"]["trimaps"]["source"] == "generated" and meta["dataset"]["trimaps"]["rule"] == GFM_RULE
    made = {w: sorted((tmp_path / w / "trimaps").glob("dilate_erode-*/*.png")) for w in ("w1", "w2")}
    assert [p.stem for p in made["w1"]] == sorted(PPM_NAMES)
    rule_file = json.loads(next((tmp_path / "w1" / "trimaps").glob("dilate_erode-*/rule.json")).read_text())
    assert rule_file["rule"] == GFM_RULE
    for a, b in zip(made["w1"], made["w2"]):                      # deterministic
        assert a.name == b.name and a.read_bytes() == b.read_bytes()
        assert np.array_equal(_grey(a), trimaps[a.stem])          # the rule, computed directly
    assert second["per_image"] == first["per_image"]


def test_ppm100_colour_mattes_read_as_luma_or_refused(tmp_path):
    import cv2

    root = make_ppm(tmp_path, colour=True)
    mattes = {n: root / "matte" / f"{n}.jpg" for n in PPM_NAMES}
    rgb = {n: np.asarray(Image.open(p)) for n, p in mattes.items()}
    assert all(a.ndim == 3 and (a[..., 0] != a[..., 2]).any() for a in rgb.values())
    luma = {n: cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for n, p in mattes.items()}  # third-party reading
    pred = make_predictions(PPM_NAMES, [luma[n] / 255.0 for n in PPM_NAMES], tmp_path / "pred")

    results = _ppm_eval(root, pred, tmp_path / "w")
    _check_rows(results, pred, luma, {n: _gfm_trimap(luma[n]) for n in PPM_NAMES})
    copies = sorted((tmp_path / "w" / "trimaps" / "mattes-luma").glob("*.png"))
    assert [p.stem for p in copies] == sorted(PPM_NAMES)
    assert all(np.array_equal(_grey(p), luma[p.stem]) for p in copies)

    with pytest.raises(InputError, match="differing channels"):
        _ppm_eval(root, pred, tmp_path / "strict", dataset_options=["rgb_mattes=strict"])


def test_ppm100_luma_copy_follows_the_matte(tmp_path):
    root = make_ppm(tmp_path, colour=True)
    cache = tmp_path / "cache"
    name = sorted(PPM_NAMES)[0]
    ds = _build("ppm100", root, trimap_cache=str(cache))
    copy = Path(ds.get_data_info(0)["alpha_path"])
    assert copy.parent == cache / "mattes-luma" and copy.stem == name
    matte = root / "matte" / f"{name}.jpg"
    Image.fromarray(np.full(SIZE + (3,), (200, 10, 10), np.uint8)).save(matte)
    _build("ppm100", root, trimap_cache=str(cache))
    import cv2

    assert np.array_equal(_grey(copy), cv2.imread(str(matte), cv2.IMREAD_GRAYSCALE))


def test_cli_eval_am2k(tmp_path):
    root = make_am2k(tmp_path)
    folder = root / "validation"
    pred = make_predictions(AM2K_NAMES, [_grey(folder / "mask" / f"{n}.png") / 255.0 for n in AM2K_NAMES],
                            tmp_path / "pred")
    work = tmp_path / "w"
    proc = subprocess.run([sys.executable, "-m", "matbench.cli", "eval", "--dataset", "am2k", "--data-root", str(root),
                           "--predictions", str(pred), "--work-dir", str(work), "--workers", "0",
                           "--metric-workers", "0"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((work / "results.json").read_text())
    assert len(results["per_image"]) == len(AM2K_NAMES) and results["meta"]["dataset"]["name"] == "am2k"
