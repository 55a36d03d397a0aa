"""Composition-1k (both layouts) and RealWorldPortrait-636 on miniature layouts made here, and the
"mgmatting" metric variant against an independent float32 computation of MGMatting's formulas."""
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from matbench.errors import InputError, MatbenchError
from matbench.evaluation.options import choose_variant, make_job
from matbench.evaluation.run import evaluate
from matbench.registry import DATASETS, build

FGS = ("fg-a_one", "plain")             # Adobe fg stems may hold '_' and '-'
K = 3                                   # composites per foreground (20 in the real set)
NAMES = sorted(f"{fg}_{k}" for fg in FGS for k in range(K))
RWP_NAMES = ("p01", "p02", "p03")


def _disc(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    cy, cx, r = rng.uniform(0.35, 0.65) * h, rng.uniform(0.35, 0.65) * w, rng.uniform(0.2, 0.3) * min(h, w)
    return np.clip((r - np.hypot(yy - cy, xx - cx)) / 5 + 0.5, 0, 1)


def _trimap(a8: np.ndarray) -> np.ndarray:
    t = np.full(a8.shape, 128, np.uint8)
    t[a8 == 0], t[a8 == 255] = 0, 255
    return t


def _save(path: Path, array: np.ndarray, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kw)
    return path


def _comp1k_sources(seed: int = 0, size=(36, 44)) -> dict:
    """Per foreground: alpha and fg; per composite: merged image and trimap (same in both layouts)."""
    rng = np.random.default_rng(seed)
    h, w = size
    out = {}
    for fg in FGS:
        a = _disc(rng, h, w)
        a8 = np.round(a * 255).astype(np.uint8)
        colour = rng.uniform(0, 255, (h, w, 3))
        comps = {}
        for k in range(K):
            bg = rng.uniform(0, 255, (h, w, 3))
            merged = (colour * a[..., None] + bg * (1 - a[..., None])).astype(np.uint8)
            comps[f"{fg}_{k}"] = (merged, bg.astype(np.uint8), _trimap(a8))
        out[fg] = (a8, colour.astype(np.uint8), comps)
    return out


def make_comp1k_merged(root: Path, seed: int = 0) -> Path:
    """The pre-merged download: merged/, alpha_copy/, trimaps/ with one file per composite."""
    for fg, (a8, _, comps) in _comp1k_sources(seed).items():
        for name, (merged, _, trimap) in comps.items():
            _save(root / "merged" / f"{name}.png", merged)
            _save(root / "alpha_copy" / f"{name}.png", a8)
            _save(root / "trimaps" / f"{name}.png", trimap)
    return root


def make_comp1k_mmagic(root: Path, seed: int = 0) -> Path:
    """mmagic's processed layout: Adobe's folders, merged/ and bg/, and test_list.json at the root."""
    adobe = "Test_set/Adobe-licensed images"
    entries = []
    for fg, (a8, colour, comps) in _comp1k_sources(seed).items():
        _save(root / adobe / "alpha" / f"{fg}.png", a8)
        _save(root / adobe / "fg" / f"{fg}.png", colour)
        for name, (merged, bg, trimap) in comps.items():
            _save(root / "Test_set/merged" / f"{name}.png", merged)
            _save(root / "Test_set/bg" / f"{name}.png", bg)
            _save(root / adobe / "trimaps" / f"{name}.png", trimap)
            entries.append({"alpha_path": f"{adobe}/alpha/{fg}.png", "fg_path": f"{adobe}/fg/{fg}.png",
                            "bg_path": f"Test_set/bg/{name}.png", "merged_path": f"Test_set/merged/{name}.png",
                            "trimap_path": f"{adobe}/trimaps/{name}.png"})
    (root / "test_list.json").write_text(json.dumps(entries))
    return root


def make_predictions(alphas: dict[str, Path], out: Path, seed: int = 1) -> Path:
    """Noisy 8-bit versions of the true alphas, ``out/<name>.png``."""
    rng = np.random.default_rng(seed)
    for name, path in sorted(alphas.items()):
        a = np.asarray(Image.open(path), np.float64) / 255
        p = np.clip(a + rng.normal(0, 0.08, a.shape), 0, 1)
        _save(out / f"{name}.png", np.round(p * 255).astype(np.uint8))
    return out


def make_rwp(root: Path, seed: int = 0, size=(40, 52)) -> Path:
    """RealWorldPortrait-636's layout: image/*.jpg, alpha/*.png, detailmap/*_cloud_trimap.jpg (colour
    JPEGs, so the greyscale decoding matters)."""
    rng = np.random.default_rng(seed)
    h, w = size
    for name in RWP_NAMES:
        a = _disc(rng, h, w)
        a8 = np.round(a * 255).astype(np.uint8)
        img = (a[..., None] * rng.uniform(0, 255, 3) + (1 - a[..., None]) * rng.uniform(0, 255, (h, w, 3)))
        _save(root / "image" / f"{name}.jpg", img.astype(np.uint8), quality=95)
        _save(root / "alpha" / f"{name}.png", a8)
        detail = np.zeros((h, w, 3), np.uint8)
        y0, x0 = rng.integers(0, h // 2), rng.integers(0, w // 2)
        detail[y0:y0 + h // 2, x0:x0 + w // 2] = rng.integers(0, 256, (h // 2, w // 2, 3))
        _save(root / "detailmap" / f"{name}_cloud_trimap.jpg", detail, quality=90)
    return root


def _job(dataset: str, root: Path, pred: Path, work: Path, **kw):
    return make_job(dataset=dataset, data_root=root, predictions=pred, work_dir=work, workers=0,
                    metric_workers=0, **kw)


def _rows(results: dict) -> dict[str, dict]:
    return {r["name"]: r for r in results["per_image"]}


def _read01(path) -> np.ndarray:
    return np.asarray(Image.open(path), np.float64) / 255


# ---------------------------------------------------------------------------------- Composition-1k

def test_comp1k_merged_layout(tmp_path):
    root = make_comp1k_merged(tmp_path / "Composition-1k-testset")
    ds = build(DATASETS, dict(type="comp1k", data_root=str(root), pipeline=[]))
    assert ds.layout == "merged" and ds.ships_trimaps and len(ds) == 2 * K
    assert ds.names == NAMES
    for info in (ds.get_data_info(i) for i in range(len(ds))):
        name = info["name"]
        assert info["image_path"] == str(root / "merged" / f"{name}.png")
        assert info["alpha_path"] == str(root / "alpha_copy" / f"{name}.png")
        assert info["trimap_path"] == str(root / "trimaps" / f"{name}.png")


def test_comp1k_mmagic_layout(tmp_path):
    root = make_comp1k_mmagic(tmp_path / "adobe_composition-1k")
    ds = build(DATASETS, dict(type="comp1k", data_root=str(root), pipeline=[]))
    assert ds.layout == "mmagic" and ds.ships_trimaps and ds.names == NAMES
    infos = {info["name"]: info for info in (ds.get_data_info(i) for i in range(len(ds)))}
    adobe = root / "Test_set" / "Adobe-licensed images"
    for name, info in infos.items():
        fg = name.rsplit("_", 1)[0]
        assert info["image_path"] == str(root / "Test_set" / "merged" / f"{name}.png")
        assert info["alpha_path"] == str(adobe / "alpha" / f"{fg}.png")      # one alpha, K composites
        assert info["trimap_path"] == str(adobe / "trimaps" / f"{name}.png")
    assert len({info["alpha_path"] for info in infos.values()}) == len(FGS)


def test_comp1k_layout_can_be_forced(tmp_path):
    root = make_comp1k_mmagic(tmp_path / "both")
    make_comp1k_merged(root)
    assert build(DATASETS, dict(type="comp1k", data_root=str(root), pipeline=[])).layout == "mmagic"
    ds = build(DATASETS, dict(type="comp1k", data_root=str(root), layout="merged", pipeline=[]))
    assert ds.layout == "merged" and ds.names == NAMES
    with pytest.raises(MatbenchError, match="unknown Composition-1k layout 'x'"):
        build(DATASETS, dict(type="comp1k", data_root=str(root), layout="x"))


def _error(cfg: dict) -> InputError:
    with pytest.raises(InputError) as info:
        build(DATASETS, {"pipeline": [], **cfg})
    assert "\n" not in str(info.value)
    return info.value


def test_comp1k_merged_missing_and_extra_files(tmp_path):
    root = make_comp1k_merged(tmp_path / "c")
    cfg = dict(type="comp1k", data_root=str(root))
    (root / "trimaps" / "plain_1.png").unlink()
    err = _error(cfg)
    assert err.path == str(root / "trimaps" / "plain_1.png") and "trimap missing" in err.problem
    _save(root / "trimaps" / "plain_1.png", np.zeros((4, 4), np.uint8))
    _save(root / "alpha_copy" / "plain_7.png", np.zeros((4, 4), np.uint8))
    err = _error(cfg)
    assert err.path == str(root / "alpha_copy" / "plain_7.png") and "has no image" in err.problem
    (root / "alpha_copy" / "plain_7.png").unlink()
    (root / "alpha_copy" / "fg-a_one_0.png").unlink()
    assert _error(cfg).path == str(root / "alpha_copy" / "fg-a_one_0.png")


def test_comp1k_mmagic_missing_and_unlisted_files(tmp_path):
    root = make_comp1k_mmagic(tmp_path / "c")
    cfg = dict(type="comp1k", data_root=str(root))
    alpha = root / "Test_set" / "Adobe-licensed images" / "alpha" / "plain.png"
    alpha.rename(alpha.with_suffix(".bak"))
    err = _error(cfg)
    assert err.path == str(alpha) and "alpha" in err.problem and "test_list.json" in err.problem
    alpha.with_suffix(".bak").rename(alpha)
    stray = _save(root / "Test_set" / "merged" / "plain_9.png", np.zeros((4, 4, 3), np.uint8))
    err = _error(cfg)
    assert err.path == str(stray) and "not in test_list.json" in err.problem
    stray.unlink()
    entries = json.loads((root / "test_list.json").read_text())
    (root / "test_list.json").write_text(json.dumps(entries + entries[:1]))
    err = _error(cfg)
    assert err.path == str(root / "test_list.json") and "'fg-a_one_0'" in err.problem
    (root / "test_list.json").write_text(json.dumps([{"merged_path": "x.png"}]))
    assert "needs merged_path, alpha_path, trimap_path" in _error(cfg).problem


def test_comp1k_refuses_an_unknown_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    err = _error(dict(type="comp1k", data_root=str(tmp_path / "empty")))
    assert err.path == str(tmp_path / "empty") and "not a Composition-1k test set" in err.problem


def test_metainfo_and_default_variants():
    comp1k, rwp = DATASETS.get("comp1k").METAINFO, DATASETS.get("rwp636").METAINFO
    assert comp1k["name"] == "comp1k" and comp1k["default_variant"] == "dim" and comp1k["trimap_rule"] is None
    assert "Deep Image Matting" in comp1k["paper"]
    assert rwp["name"] == "rwp636" and rwp["default_variant"] == "mgmatting"
    assert rwp["trimap_rule"] == {"type": "dilate_erode", "kernel_size": 25}
    assert "Mask Guided Matting" in rwp["paper"]
    assert choose_variant(None, "comp1k") == ("dim", "the dataset's convention (comp1k)")
    assert choose_variant(None, "rwp636") == ("mgmatting", "the dataset's convention (rwp636)")


def test_comp1k_end_to_end_both_layouts_agree(tmp_path):
    from matbench_metrics.dim import dim_metrics

    merged = make_comp1k_merged(tmp_path / "Composition-1k-testset")
    mmagic = make_comp1k_mmagic(tmp_path / "adobe_composition-1k")
    pred = make_predictions({n: merged / "alpha_copy" / f"{n}.png" for n in NAMES}, tmp_path / "pred")
    a = evaluate(_job("comp1k", merged, pred, tmp_path / "wa"))
    b = evaluate(_job("comp1k", mmagic, pred, tmp_path / "wb"))
    for results in (a, b):
        meta = results["meta"]
        assert meta["variant"] == "dim" and meta["variant_chosen_by"] == "the dataset's convention (comp1k)"
        assert meta["dataset"]["num_images"] == 2 * K and meta["dataset"]["trimaps"] == {"source": "official"}
    rows = _rows(a)
    assert sorted(rows) == NAMES
    for name, row in rows.items():
        expected = dim_metrics(_read01(pred / f"{name}.png"), _read01(merged / "alpha_copy" / f"{name}.png"),
                               np.asarray(Image.open(merged / "trimaps" / f"{name}.png")))
        assert {k: row[k] for k in expected} == expected                     # unrounded, exactly
    assert a["per_image"] == b["per_image"]
    assert a["summary"]["metrics"] == b["summary"]["metrics"]


# ---------------------------------------------------------------------------- RealWorldPortrait-636

def official_rwp(pred_file: Path, label_file: Path, detail_file: Path) -> dict[str, float]:
    """MGMatting's evaluation_RWP.py formulas, written out independently: cv2 greyscale reads cast
    to float32 (0..255), e = (pred - label) / 255 in float32, masked float32 sums over the full
    array; dividing a float32 sum by 1000 or by (count + 1e-8) is float64 (NumPy 1 promotion of a
    float32 scalar with a Python number, as when the published numbers were made)."""
    pred = cv2.imread(str(pred_file), 0).astype(np.float32)
    label = cv2.imread(str(label_file), 0).astype(np.float32)
    detailmap = cv2.imread(str(detail_file), 0).astype(np.float32)
    detailmap[detailmap > 0] = 128

    def losses(trimap):
        error = (pred - label) / np.float32(255.0)
        inside = trimap == 128
        mse = np.float64(np.sum((error ** 2) * inside)) / (np.sum(inside) + 1e-8)
        sad = np.float64(np.sum(np.abs(error) * inside)) / 1000
        return float(sad), float(mse)

    sad_detail, mse_detail = losses(detailmap)
    detailmap[...] = 128
    sad, mse = losses(detailmap)
    return {"sad": sad, "mse": mse, "sad_detail": sad_detail, "mse_detail": mse_detail}


def test_rwp_layout(tmp_path):
    root = make_rwp(tmp_path / "RealWorldPortrait-636")
    ds = build(DATASETS, dict(type="rwp636", data_root=str(root), pipeline=[], trimap_cache=str(tmp_path / "t")))
    assert not ds.ships_trimaps and ds.names == list(RWP_NAMES)
    for info in (ds.get_data_info(i) for i in range(len(ds))):
        name = info["name"]
        assert info["image_path"] == str(root / "image" / f"{name}.jpg")
        assert info["alpha_path"] == str(root / "alpha" / f"{name}.png")
        assert info["detail_path"] == str(root / "detailmap" / f"{name}_cloud_trimap.jpg")
        trimap = np.asarray(Image.open(info["trimap_path"]))
        assert Path(info["trimap_path"]).parent.parent == tmp_path / "t"
        assert set(np.unique(trimap)) <= {0, 128, 255} and (trimap == 128).any()


def test_rwp_missing_extra_and_misnamed_detail_maps(tmp_path):
    root = make_rwp(tmp_path / "r")
    cfg = dict(type="rwp636", data_root=str(root), trimap_cache=str(tmp_path / "t"))
    missing = root / "detailmap" / "p02_cloud_trimap.jpg"
    missing.rename(tmp_path / "kept.jpg")
    err = _error(cfg)
    assert err.path == str(missing) and "detail map missing for image p02" in err.problem
    (tmp_path / "kept.jpg").rename(missing)
    extra = _save(root / "detailmap" / "p09_cloud_trimap.jpg", np.zeros((4, 4), np.uint8))
    err = _error(cfg)
    assert err.path == str(extra) and "detail map has no image" in err.problem
    extra.unlink()
    odd = _save(root / "detailmap" / "p01.jpg", np.zeros((4, 4), np.uint8))
    assert _error(cfg).path == str(odd)
    odd.unlink()
    (root / "alpha" / "p03.png").unlink()
    err = _error(cfg)
    assert err.path == str(root / "alpha" / "p03.png") and "alpha missing" in err.problem


def test_detail_map_decoded_as_cv2_greyscale(tmp_path):
    from matbench_metrics.mgmatting import read_detail

    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    rgb[:9] = 0
    rgb[9:14] = (3, 0, 1)                # near black: a converted RGB and the luma differ here
    path = _save(tmp_path / "d_cloud_trimap.jpg", rgb, quality=90)
    assert np.array_equal(read_detail(str(path)), cv2.imread(str(path), 0))
    with pytest.raises(InputError, match="cannot read detail map"):
        (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
        read_detail(str(tmp_path / "bad.jpg"))


def test_mgmatting_metrics_match_official_formulas_bit_for_bit(tmp_path):
    """Large enough (300x410) for float32 pairwise summation order to matter."""
    from matbench_metrics.mgmatting import mgmatting_metrics

    rng = np.random.default_rng(7)
    for case in range(3):
        a8 = rng.integers(0, 256, (300, 410), dtype=np.uint8)
        p8 = np.clip(a8.astype(int) + rng.integers(-40, 41, a8.shape), 0, 255).astype(np.uint8)
        detail = rng.integers(0, 256, a8.shape, dtype=np.uint8) * (rng.random(a8.shape) < 0.3 * case)
        files = [_save(tmp_path / f"{case}{n}.png", x) for n, x in (("p", p8), ("a", a8), ("d", detail.astype(np.uint8)))]
        expected = official_rwp(*files)
        got = mgmatting_metrics(p8 / 255.0, a8 / 255.0, detail)
        assert got == expected
        if case == 0:
            assert got["sad_detail"] == 0.0 and got["mse_detail"] == 0.0      # empty detail region


def test_rwp_end_to_end_mgmatting(tmp_path):
    root = make_rwp(tmp_path / "RealWorldPortrait-636")
    pred = make_predictions({n: root / "alpha" / f"{n}.png" for n in RWP_NAMES}, tmp_path / "pred")
    results = evaluate(_job("rwp636", root, pred, tmp_path / "w"))
    meta = results["meta"]
    assert meta["variant"] == "mgmatting" and meta["variant_chosen_by"] == "the dataset's convention (rwp636)"
    assert meta["dataset"]["num_images"] == 3 and meta["dataset"]["trimaps"]["source"] == "generated"
    rows = _rows(results)
    assert sorted(rows) == list(RWP_NAMES)
    for name, row in rows.items():
        expected = official_rwp(pred / f"{name}.png", root / "alpha" / f"{name}.png",
                                root / "detailmap" / f"{name}_cloud_trimap.jpg")
        assert {k: row[k] for k in expected} == expected
        assert row["sad_detail"] > 0 and row["sad_detail"] < row["sad"]
    summary = results["summary"]["metrics"]
    assert summary["sad"] == pytest.approx(np.mean([r["sad"] for r in rows.values()]), rel=1e-12)


def test_rwp_aim_variant_uses_generated_trimaps(tmp_path):
    from matbench_metrics.aim import aim_metrics

    root = make_rwp(tmp_path / "r")
    pred = make_predictions({n: root / "alpha" / f"{n}.png" for n in RWP_NAMES}, tmp_path / "pred")
    results = evaluate(_job("rwp636", root, pred, tmp_path / "w", variant="aim"))
    meta = results["meta"]
    assert meta["variant"] == "aim" and meta["variant_chosen_by"].startswith("--metric-variant")
    trimaps = meta["dataset"]["trimaps"]
    assert trimaps["source"] == "generated" and trimaps["rule"] == {"type": "dilate_erode", "kernel_size": 25}
    cached = sorted((tmp_path / "w" / "trimaps").glob("*/*.png"))
    assert [p.stem for p in cached] == list(RWP_NAMES)
    for path in cached:
        row = _rows(results)[path.stem]
        expected = aim_metrics(_read01(pred / f"{path.stem}.png"), _read01(root / "alpha" / f"{path.stem}.png"),
                               np.asarray(Image.open(path)))
        assert {k: row[k] for k in expected} == expected


def test_mgmatting_needs_detail_maps(tmp_path):
    root = make_comp1k_merged(tmp_path / "c")
    pred = make_predictions({n: root / "alpha_copy" / f"{n}.png" for n in NAMES}, tmp_path / "pred")
    with pytest.raises(MatbenchError, match="needs the detail files"):
        evaluate(_job("comp1k", root, pred, tmp_path / "w", variant="mgmatting"))


def test_cli_eval_rwp636(tmp_path):
    root = make_rwp(tmp_path / "RealWorldPortrait-636")
    pred = make_predictions({n: root / "alpha" / f"{n}.png" for n in RWP_NAMES}, tmp_path / "pred")
    work = tmp_path / "w"
    proc = subprocess.run([sys.executable, "-m", "matbench.cli", "eval", "--dataset", "rwp636",
                           "--data-root", str(root), "--predictions", str(pred), "--work-dir", str(work),
                           "--workers", "0", "--metric-workers", "0"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Detail SAD" in proc.stdout
    results = json.loads((work / "results.json").read_text())
    assert results["meta"]["variant"] == "mgmatting" and len(results["per_image"]) == 3
