"""Identity by content (issue 18, principle 1): a journal row, a generated trimap and a converted
matte are reused only when the bytes they were made from are the same — never because a file's
stamps match (``cp -p``, ``tar x``, ``rsync -a`` keep modification times while content changes)."""
import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from matbench.evaluation.journal import INPUTS_KEY, Journal
from matbench.evaluation.options import make_job
from matbench.evaluation.run import evaluate


def _aim_job(data_root, pred, work, **kw):
    return make_job(dataset="aim500", data_root=data_root, predictions=pred, work_dir=work,
                    workers=0, metric_workers=0, **kw)


def _rows(results):
    return {r["name"]: r for r in results["per_image"]}


def _save_keeping_stamps(path, array, fmt="PNG", **kw):
    """Replace a file's content as ``cp -p`` would: same modification time afterwards."""
    st = os.stat(path)
    tmp = path.with_name(".tmp" + path.suffix)
    Image.fromarray(array).save(tmp, format=fmt, **kw)
    tmp.replace(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _sad(pred, alpha):
    return float(np.abs(pred / 255.0 - alpha / 255.0).sum() / 1000)


def test_prediction_changed_with_its_stamps_restored_is_recomputed(tiny_aim500, tiny_predictions, tmp_path):
    work = tmp_path / "w"
    first = evaluate(_aim_job(tiny_aim500, tiny_predictions, work))
    pred = tiny_predictions / "c03.png"
    old = np.asarray(Image.open(pred))
    new = 255 - old                                     # same size in bytes is not required: mtime kept
    _save_keeping_stamps(pred, new)
    again = evaluate(_aim_job(tiny_aim500, tiny_predictions, work))
    assert again["meta"]["resume"]["recomputed"] == {"prediction changed": ["c03"]}
    alpha = np.asarray(Image.open(tiny_aim500 / "mask" / "c03.png"))
    assert _rows(again)["c03"]["sad"] == pytest.approx(_sad(new, alpha), rel=1e-12)
    assert _rows(again)["c03"]["sad"] != _rows(first)["c03"]["sad"]


def test_touched_but_unchanged_files_are_reused(tiny_aim500, tiny_predictions, tmp_path):
    work = tmp_path / "w"
    evaluate(_aim_job(tiny_aim500, tiny_predictions, work))
    for path in [*tiny_predictions.glob("*.png"), *(tiny_aim500 / "mask").glob("*.png")]:
        shutil.copyfile(path, path.with_suffix(".bak"))
        path.with_suffix(".bak").replace(path)          # same bytes, new inode and stamps
    again = evaluate(_aim_job(tiny_aim500, tiny_predictions, work))
    assert again["meta"]["resumed_images"] == 4 and again["meta"]["resume"]["recomputed"] == {}


def test_journal_rows_record_content_hashes(tiny_aim500, tiny_predictions, tmp_path):
    from matbench.content import file_sha256

    work = tmp_path / "w"
    evaluate(_aim_job(tiny_aim500, tiny_predictions, work))
    row = json.loads((work / "per_image.jsonl").read_text().splitlines()[0])
    files = row[INPUTS_KEY]["files"]
    assert set(files) == {"alpha", "trimap", "prediction"}
    for role, (path, size, mtime, ctime, sha) in files.items():
        assert sha == file_sha256(path) and size == os.path.getsize(path)


def test_edited_labels_file_regroups_without_recomputing(tiny_aim500, tiny_predictions, tmp_path):
    work = tmp_path / "w"
    first = evaluate(_aim_job(tiny_aim500, tiny_predictions, work))
    labels_path = tiny_aim500 / "aim_category_type.json"
    labels = json.loads(labels_path.read_text())
    labels["a01"] = {"type": "NS", "category": "plant"}
    st = os.stat(labels_path)
    labels_path.write_text(json.dumps(labels))
    os.utime(labels_path, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = evaluate(_aim_job(tiny_aim500, tiny_predictions, work))
    row = _rows(again)["a01"]
    assert (row["type"], row["category"]) == ("NS", "plant")
    assert row["sad"] == _rows(first)["a01"]["sad"] and again["meta"]["resume"]["regrouped"] == 1
    # the group means follow the new labels
    assert again["summary"]["type"]["sad"]["NS"] != first["summary"]["type"]["sad"]["NS"]


def test_a_stale_row_of_another_rank_does_not_win(tiny_aim500, tiny_predictions, tmp_path):
    """After a torchrun run, a row left in per_image.rank1.jsonl that no longer holds must not
    shadow the single process's fresh row (it was recomputed on every resume)."""
    work = tmp_path / "w"
    evaluate(_aim_job(tiny_aim500, tiny_predictions, work))
    journal = work / "per_image.jsonl"
    lines = journal.read_text().splitlines()
    stale = json.loads(lines[1])
    stale[INPUTS_KEY]["run"] = "another run"
    (work / "per_image.rank1.jsonl").write_text(json.dumps(stale) + "\n")
    again = evaluate(_aim_job(tiny_aim500, tiny_predictions, work))
    assert again["meta"]["resumed_images"] == 4 and again["meta"]["resume"]["recomputed"] == {}


# generated trimaps and converted mattes (PPM-100 layout) ---------------------------------------

@pytest.fixture
def ppm(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "datasets"))
    from test_standard_sets import make_ppm, make_predictions

    root = make_ppm(tmp_path / "data", colour=True)
    names = sorted(p.stem for p in (root / "image").iterdir())
    alphas = {n: np.asarray(Image.open(root / "matte" / f"{n}.jpg").convert("L")) for n in names}
    pred = make_predictions(names, [alphas[n] / 255.0 for n in names], tmp_path / "pred")
    return root, pred, names


def _ppm_job(root, pred, work, **kw):
    return make_job(dataset="ppm100", data_root=root, predictions=pred, work_dir=work, workers=0,
                    metric_workers=0, **kw)


def _trimap_files(work):
    return sorted(p for p in (work / "trimaps").rglob("*.png") if "mattes-luma" not in p.parts)


def test_replaced_colour_matte_with_old_stamps_is_rescored(ppm, tmp_path):
    root, pred, names = ppm
    work = tmp_path / "w"
    first = evaluate(_ppm_job(root, pred, work))
    matte = root / "matte" / f"{names[0]}.jpg"
    rgb = np.asarray(Image.open(matte).convert("RGB"))
    _save_keeping_stamps(matte, 255 - rgb, fmt="JPEG", quality=95)
    again = evaluate(_ppm_job(root, pred, work))
    assert names[0] in sum(again["meta"]["resume"]["recomputed"].values(), [])
    assert _rows(again)[names[0]]["sad"] != pytest.approx(_rows(first)[names[0]]["sad"], rel=1e-3)


def test_matte_replaced_by_an_older_file_gets_a_fresh_trimap(ppm, tmp_path):
    root, pred, names = ppm
    work = tmp_path / "w"
    evaluate(_ppm_job(root, pred, work))
    matte = root / "matte" / f"{names[1]}.jpg"
    rgb = np.asarray(Image.open(matte).convert("RGB"))
    Image.fromarray(np.flipud(rgb).copy()).save(matte, format="JPEG", quality=95)
    os.utime(matte, ns=(1, 1))                           # older than the cached trimap
    again = evaluate(_ppm_job(root, pred, work))
    fresh = evaluate(_ppm_job(root, pred, tmp_path / "fresh"))
    assert _rows(again)[names[1]] == _rows(fresh)[names[1]]


@pytest.mark.parametrize("damage", ["edited", "truncated", "foreign"])
def test_damaged_cached_trimap_is_remade_never_scored(ppm, tmp_path, damage):
    root, pred, names = ppm
    work = tmp_path / "w"
    first = evaluate(_ppm_job(root, pred, work))
    cached = _trimap_files(work)[0]
    if damage == "edited":
        Image.fromarray(np.full(np.asarray(Image.open(cached)).shape, 128, np.uint8)).save(cached)
    elif damage == "truncated":
        cached.write_bytes(cached.read_bytes()[:40])
    else:
        cached.write_bytes(b"not a png at all")
    again = evaluate(_ppm_job(root, pred, work))
    assert _rows(again) == _rows(first)
    assert np.array_equal(np.asarray(Image.open(cached)),
                          np.asarray(Image.open(_trimap_files(tmp_path / "w")[0])))


def test_restart_clears_the_work_dir_cache(ppm, tmp_path):
    root, pred, names = ppm
    work = tmp_path / "w"
    evaluate(_ppm_job(root, pred, work))
    junk = work / "trimaps" / "leftover.png"
    junk.write_bytes(b"junk")
    evaluate(_ppm_job(root, pred, work, restart=True))
    assert not junk.exists() and _trimap_files(work)


def test_damaged_cache_manifest_is_not_fatal(ppm, tmp_path):
    root, pred, names = ppm
    work = tmp_path / "w"
    first = evaluate(_ppm_job(root, pred, work))
    for manifest in (work / "trimaps").rglob("manifest.json"):
        manifest.write_text("{broken")
    again = evaluate(_ppm_job(root, pred, work))
    assert _rows(again) == _rows(first)
