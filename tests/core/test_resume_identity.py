"""A resumed evaluation reuses a journalled row only if it was computed from the same inputs
by the same run; a results file never outlives the run it belongs to."""
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from matbench.errors import InputError, MatbenchError
from matbench.evaluation.options import make_job
from matbench.evaluation.run import RESULTS_FILE, evaluate


def _job(data_root, pred, work, **kw):
    return make_job(dataset="aim500", data_root=data_root, predictions=pred, work_dir=work,
                    workers=0, metric_workers=0, **kw)


def _sad(pred_png, mask_png):
    pred = np.asarray(Image.open(pred_png), np.float64) / 255
    alpha = np.asarray(Image.open(mask_png), np.float64) / 255
    return np.abs(pred - alpha).sum() / 1000


def _rows(results):
    return {r["name"]: r for r in results["per_image"]}


def _replace_png(path, array):
    tmp = path.with_name(".new.png")
    Image.fromarray(array).save(tmp)
    tmp.replace(path)


def test_changed_ground_truth_is_recomputed(tiny_aim500, tiny_predictions, tmp_path):
    work = tmp_path / "w"
    first = evaluate(_job(tiny_aim500, tiny_predictions, work))
    mask = tiny_aim500 / "mask" / "b02.png"
    _replace_png(mask, 255 - np.asarray(Image.open(mask)))
    again = evaluate(_job(tiny_aim500, tiny_predictions, work))
    assert again["meta"]["resumed_images"] == 3
    assert again["meta"]["resume"]["recomputed"] == {"alpha changed": ["b02"]}
    rows, old = _rows(again), _rows(first)
    assert rows["b02"]["sad"] == pytest.approx(_sad(tiny_predictions / "b02.png", mask), rel=1e-12)
    assert rows["b02"]["sad"] != old["b02"]["sad"]
    assert all(rows[n] == old[n] for n in ("a01", "c03", "d04"))


def test_reexported_prediction_is_recomputed(tiny_aim500, tiny_predictions, tmp_path, capsys):
    work = tmp_path / "w"
    evaluate(_job(tiny_aim500, tiny_predictions, work))
    pred = tiny_predictions / "d04.png"
    _replace_png(pred, np.zeros_like(np.asarray(Image.open(pred))))
    again = evaluate(_job(tiny_aim500, tiny_predictions, work))
    assert again["meta"]["resume"]["recomputed"] == {"prediction changed": ["d04"]}
    assert _rows(again)["d04"]["sad"] == pytest.approx(
        _sad(pred, tiny_aim500 / "mask" / "d04.png"), rel=1e-12)
    assert "3 of 4 images reused" in capsys.readouterr().err


def test_identity_is_the_data_not_the_path_string(tiny_aim500, tiny_predictions, tmp_path, monkeypatch):
    work = tmp_path / "w"
    monkeypatch.chdir(tmp_path)
    evaluate(_job(tiny_aim500.relative_to(tmp_path), tiny_predictions.relative_to(tmp_path), work))
    # the same data under absolute paths: the same run, every row reused
    again = evaluate(_job(tiny_aim500, tiny_predictions, work))
    assert again["meta"]["resumed_images"] == 4
    # the same relative path string from another directory names other data: refused
    other = tmp_path / "elsewhere"
    shutil.copytree(tiny_aim500, other / tiny_aim500.name)
    shutil.copytree(tiny_predictions, other / tiny_predictions.name)
    monkeypatch.chdir(other)
    with pytest.raises(MatbenchError, match="different run"):
        evaluate(_job(tiny_aim500.relative_to(tmp_path), tiny_predictions.relative_to(tmp_path), work))


def test_plugin_version_change_recomputes_everything(tiny_aim500, tiny_predictions, tmp_path, monkeypatch):
    import matbench.evaluation.run as run

    work = tmp_path / "w"
    evaluate(_job(tiny_aim500, tiny_predictions, work))
    packages = run._packages()
    monkeypatch.setattr(run, "_packages", lambda: {**packages, "matbench": "999"})
    again = evaluate(_job(tiny_aim500, tiny_predictions, work))
    assert again["meta"]["resumed_images"] == 0
    (reason, names), = again["meta"]["resume"]["recomputed"].items()
    assert "plugin versions" in reason and names == ["a01", "b02", "c03", "d04"]
    assert again["meta"]["identity"]["packages"]["matbench"] == "999"


EDITED_METRIC = """
from matbench.api import METRICS, ImageMetric

@METRICS.register_module(name="edited-sad", force=True)
class EditedSad(ImageMetric):
    variant = "edited-sad"
    keys = ("sad",)

    @staticmethod
    def compute_image(pred, alpha, trimap):
        return {"sad": float(abs(pred - alpha).sum()) / FACTOR}
"""


def test_edited_metric_code_recomputes_without_a_version_bump(tiny_aim500, tiny_predictions, tmp_path,
                                                              monkeypatch):
    import importlib
    import os

    from matbench.registry import METRICS

    module = tmp_path / "code" / "mb_edited_metric.py"
    module.parent.mkdir()
    monkeypatch.syspath_prepend(str(module.parent))
    monkeypatch.setattr(METRICS, "_module_dict", dict(METRICS._module_dict))   # leave no trace
    work = tmp_path / "w"
    runs = []
    for factor in (1000, 500):
        module.write_text(EDITED_METRIC.replace("FACTOR", str(factor)))
        os.utime(module, ns=(factor * 10**9, factor * 10**9))                   # a new mtime, surely
        importlib.invalidate_caches()
        importlib.reload(importlib.import_module("mb_edited_metric"))
        runs.append(evaluate(_job(tiny_aim500, tiny_predictions, work, variant="edited-sad")))
    first, second = runs
    assert second["meta"]["resumed_images"] == 0
    (reason, names), = second["meta"]["resume"]["recomputed"].items()
    assert "code changed" in reason and names == ["a01", "b02", "c03", "d04"]
    assert first["meta"]["identity"]["code"] != second["meta"]["identity"]["code"]
    for name, row in _rows(second).items():
        assert row["sad"] == pytest.approx(2 * _rows(first)[name]["sad"])


def test_rows_without_input_record_are_recomputed(tiny_aim500, tiny_predictions, tmp_path):
    work = tmp_path / "w"
    evaluate(_job(tiny_aim500, tiny_predictions, work))
    journal = work / "per_image.jsonl"
    rows = [json.loads(line) for line in journal.read_text().splitlines()]
    journal.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "_inputs"}) + "\n"
                               for r in rows))
    again = evaluate(_job(tiny_aim500, tiny_predictions, work))
    assert again["meta"]["resumed_images"] == 0
    assert "_inputs" not in again["per_image"][0]


def test_restart_removes_old_results_even_if_it_fails(tiny_aim500, tiny_predictions, tmp_path):
    work = tmp_path / "w"
    evaluate(_job(tiny_aim500, tiny_predictions, work))
    (tiny_predictions / "a01.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="a01.png"):
        evaluate(_job(tiny_aim500, tiny_predictions, work, variant="dim", restart=True))
    assert not (work / RESULTS_FILE).exists()


def test_failed_recompute_leaves_no_stale_results(tiny_aim500, tiny_predictions, tmp_path):
    work = tmp_path / "w"
    evaluate(_job(tiny_aim500, tiny_predictions, work))
    (tiny_predictions / "c03.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="c03.png"):
        evaluate(_job(tiny_aim500, tiny_predictions, work))
    assert not (work / RESULTS_FILE).exists()


def test_run_that_failed_before_any_image_does_not_block_the_next(tiny_aim500, tiny_predictions, tmp_path):
    work = tmp_path / "w"
    good = (tiny_predictions / "a01.png").read_bytes()
    (tiny_predictions / "a01.png").write_bytes(b"not a png")
    with pytest.raises(InputError):
        evaluate(_job(tiny_aim500, tiny_predictions, work))
    (tiny_predictions / "a01.png").write_bytes(good)
    results = evaluate(_job(tiny_aim500, tiny_predictions, work, variant="dim"))
    assert results["meta"]["variant"] == "dim" and len(results["per_image"]) == 4
