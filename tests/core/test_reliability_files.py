"""Damaged or hand-edited files given to matbench (checkpoints to eval / predict, results files to
the leaderboard): one line naming the file and the problem, never a traceback."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from matbench.errors import InputError
from matbench.evaluation.summary import summarize
from matbench.groups import group_specs
from matbench_datasets.aim500 import AIM500_GROUPS
from matbench.leaderboard import load_results, render

METRICS = ["sad", "mse", "mad", "sad_trimap", "mse_trimap", "mad_trimap", "sad_fg", "sad_bg", "conn", "grad"]


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "matbench.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=cwd)


def one_line_error(proc, *needles):
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("matbench: error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# --------------------------------------------------------------------------- empty checkpoints

def _empty_checkpoint(path, kind):
    if kind == "zero bytes":
        path.write_bytes(b"")
    elif kind == "empty dict":
        torch.save({}, path)
    else:
        torch.save({"state_dict": {}, "meta": {"iter": 0}}, path)
    return path


@pytest.mark.parametrize("kind", ["zero bytes", "empty dict", "empty state_dict"])
def test_empty_checkpoint_is_named(tmp_path, kind):
    from matbench.networks import load_state_dict

    path = _empty_checkpoint(tmp_path / "weights.pth", kind)
    with pytest.raises(InputError, match=r"weights\.pth: (empty checkpoint|checkpoint holds no tensors)") as exc:
        load_state_dict(path)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("kind", ["zero bytes", "empty dict"])
def test_eval_with_an_empty_checkpoint(tmp_path, kind):
    path = _empty_checkpoint(tmp_path / "empty.pth", kind)
    proc = cli("eval", "--strategy", "resize", "--checkpoint", path, "--work-dir", tmp_path / "w",
               "--workers", "0", "--metric-workers", "0", "--dataset-option", "indices=2", "--device", "cpu")
    line = one_line_error(proc, "empty.pth")
    assert "empty checkpoint" in line or "holds no tensors" in line


def test_predict_with_an_empty_checkpoint(tmp_path):
    path = _empty_checkpoint(tmp_path / "empty.pth", "zero bytes")
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "photo.png")
    proc = cli("predict", tmp_path / "photo.png", "--checkpoint", path, "--out", tmp_path / "out", "--device", "cpu")
    one_line_error(proc, "empty.pth", "empty checkpoint")


# --------------------------------------------------------------------------- results files

def _rows():
    rows = []
    for i, (type_, cat) in enumerate([("SO", "animal"), ("STM", "plant"), ("NS", "toy")]):
        row = {"name": f"im{i}", "type": type_, "category": cat, "unknown_pixels": 100 * i}
        row.update({k: float(i + 1) for k in METRICS})
        rows.append(row)
    for k in ("sad_trimap", "mse_trimap", "mad_trimap"):       # no unknown pixel: undefined
        rows[0][k] = None
    return rows


def results(rows=None):
    rows = _rows() if rows is None else rows
    return {"meta": {"variant": "aim", "label": "run", "dataset": {"type": "AIM500", "num_images": len(rows)}},
            "per_image": rows, "summary": summarize(rows, METRICS, group_specs(AIM500_GROUPS))}


def write_results(tmp_path, data, name="W"):
    path = tmp_path / name / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_results_with_nulls_still_load(tmp_path):
    data = results()
    data["summary"]["metrics"]["sad_trimap"] = None
    loaded = load_results([write_results(tmp_path, data)])
    assert loaded[0]["per_image"][0]["sad_trimap"] is None
    assert "run" in render(loaded)


def _edit(data, where, value):
    *parents, last = where
    node = data
    for key in parents:
        node = node[key]
    node[last] = value


@pytest.mark.parametrize("where, value, shown", [
    (("summary", "metrics", "sad"), "abc", "summary.metrics.sad: expected a number, got 'abc'"),
    (("summary", "metrics", "mse"), True, "summary.metrics.mse: expected a number, got True"),
    (("per_image", 1, "sad"), "abc", "per_image[1].sad: expected a number, got 'abc'"),
    (("per_image", 2, "unknown_pixels"), "many", "per_image[2].unknown_pixels: expected a number, got 'many'"),
    (("meta", "dataset", "num_images"), "x", "meta.dataset.num_images: expected a number, got 'x'"),
    (("summary", "type", "sad", "SO"), [1], "summary.type.sad.SO: expected a number, got [1]"),
    (("summary", "category", "avg"), "1.5", "summary.category.avg: expected a number, got '1.5'"),
    (("summary", "count"), "3", "summary.count: expected a number, got '3'"),
    (("per_image", 0), "row", "per_image[0]: expected a JSON object, got 'row'"),
    (("summary", "no_unknown_region"), 3, "summary.no_unknown_region: expected a JSON list, got 3"),
])
def test_hand_edited_results_name_the_bad_value(tmp_path, where, value, shown):
    data = results()
    _edit(data, where, value)
    path = write_results(tmp_path, data)
    with pytest.raises(InputError) as exc:
        load_results([path])
    assert str(exc.value) == f"{path}: {shown}"


def test_leaderboard_cli_with_a_string_metric(tmp_path):
    data = results()
    data["summary"]["metrics"]["sad"] = "abc"
    path = write_results(tmp_path, data)
    one_line_error(cli("leaderboard", path), f"{path}: summary.metrics.sad: expected a number, got 'abc'")
