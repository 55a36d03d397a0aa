"""IndexNet (matbench_zoo.indexnet) against the official IndexNet Matting code, without it: the
state dict's layout; the default procedure through ``matbench predict`` against the 8-bit PNGs
the official ``demo_indexnet_matting.py`` wrote (tools/make_indexnet_golden.py) for the same
conditioned weights, saved in the released checkpoint's format; wrong checkpoints as one-line
errors; ``matbench eval`` on a miniature Composition-1k, its rows equal to the metric functions
on the 8-bit predictions it saved, which equal what ``matbench predict`` writes."""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from matbench_zoo.indexnet.conditioning import conditioned_state, photo_like
from matbench_zoo.indexnet.network import IndexNet

GOLDEN = np.load(Path(__file__).parents[1] / "fixtures" / "zoo" / "indexnet_golden.npz")
CASES = ("odd", "aligned")


def _cli(*args, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "matbench.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


def _save_png(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def _grey(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def _released(state: dict, extras: dict | None = None) -> dict:
    """The released file's layout: ``{'state_dict': ...}`` with the ``module.`` prefixes of
    ``nn.DataParallel`` (plus what the training script saves beside it, when given)."""
    return {"state_dict": OrderedDict(("module." + k, v) for k, v in state.items()), **(extras or {})}


def _save_legacy(obj: object, path: Path) -> Path:
    """Written as PyTorch 0.4.1 / 1.1.0 wrote the released file (not a zip archive)."""
    torch.save(obj, path, _use_new_zipfile_serialization=False)
    return path


@pytest.fixture(scope="module")
def state() -> dict:
    return conditioned_state()


@pytest.fixture(scope="module")
def checkpoint(state, tmp_path_factory) -> Path:
    return _save_legacy(_released(state), tmp_path_factory.mktemp("ckpt") / "indexnet_matting.pth.tar")


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> tuple[Path, Path]:
    """One small photo and its trimap as files."""
    folder = tmp_path_factory.mktemp("photo")
    rgb, trimap = photo_like(3, 40, 52)
    return _save_png(folder / "photos" / "p.png", rgb), _save_png(folder / "trimaps" / "p.png", trimap)


def test_state_dict_has_the_released_layout():
    state = IndexNet().state_dict()
    assert len(state) == 549                                             # as the official network
    assert sum(p.numel() for p in IndexNet().parameters()) == 5_953_515
    assert tuple(state["layer0.0.weight"].shape) == (32, 4, 3, 3)        # RGB + trimap
    assert tuple(state["index6.indexnet4.0.weight"].shape) == (160, 160, 4, 4)   # m2o, with context
    assert tuple(state["index0.indexnet1.3.weight"].shape) == (32, 32, 1, 1)     # nonlinear
    assert tuple(state["dconv_pp.aspp4.atrous_conv.0.weight"].shape) == (320, 1, 3, 3)
    assert tuple(state["decoder_layer6.dconv.0.weight"].shape) == (96, 320, 5, 5)
    assert tuple(state["pred.1.weight"].shape) == (1, 1, 5, 5)


@pytest.fixture(scope="module")
def comp1k(tmp_path_factory) -> tuple[Path, dict]:
    """Composition-1k's pre-merged layout (merged/, alpha_copy/, trimaps/) holding the golden
    photos (one of an odd size, one of multiples of 32) with their trimaps and a made-up ground
    truth; returns the root and {name: (alpha8, trimap)}."""
    root = tmp_path_factory.mktemp("data") / "Composition-1k-testset"
    truth = {}
    for i, case in enumerate(CASES):
        trimap = GOLDEN[f"{case}_trimap"]
        rng = np.random.default_rng(i)
        alpha = np.where(trimap == 128, rng.integers(1, 255, trimap.shape), trimap).astype(np.uint8)
        _save_png(root / "merged" / f"{case}.png", GOLDEN[f"{case}_rgb"])
        _save_png(root / "alpha_copy" / f"{case}.png", alpha)
        _save_png(root / "trimaps" / f"{case}.png", trimap)
        truth[case] = alpha, trimap
    return root, truth


@pytest.fixture(scope="module")
def predicted(comp1k, checkpoint, tmp_path_factory) -> Path:
    """``matbench predict`` of the golden photos with the released-format checkpoint, no --strategy."""
    out = tmp_path_factory.mktemp("predicted")
    root = comp1k[0]
    proc = _cli("predict", root / "merged", "--trimap", root / "trimaps", "--model", "IndexNet",
                "--checkpoint", checkpoint, "--out", out, "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.parametrize("case", CASES)
def test_default_procedure_matches_the_official_script(predicted, case):
    ours, theirs = _grey(predicted / f"{case}.png"), GOLDEN[f"{case}_alpha"]
    assert ours.shape == theirs.shape
    diff = np.abs(ours.astype(int) - theirs.astype(int))
    unknown = GOLDEN[f"{case}_trimap"] == 128
    assert (diff[unknown] <= 2).mean() >= 0.999
    assert (diff <= 2).mean() >= 0.999
    assert ((theirs[unknown] > 12) & (theirs[unknown] < 243)).mean() > 0.8    # the weights are no constant


def test_released_file_with_training_extras_loads(state, tmp_path):
    """The training script saves its scores (NumPy scalars, here under NumPy 1's module names as
    a 2019 file holds them) and the optimizer beside the weights; such a file still loads."""
    extras = {"epoch": 30, "optimizer": {"state": {}, "param_groups": [{"lr": 0.01, "params": [0, 1]}]},
              "train_loss": {"epoch_loss": [0.5]}, "val_loss": {"epoch_loss": [np.float64(45.8)]},
              "measure": {"sad": [np.float64(45.8)], "mse": [np.float64(0.013)], "grad": [], "conn": []}}
    path = _save_legacy(_released(state, extras), tmp_path / "with_extras.pth.tar")
    path.write_bytes(path.read_bytes().replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    network = IndexNet()
    network.load_checkpoint(path)
    assert torch.equal(network.state_dict()["pred.1.weight"], state["pred.1.weight"])


class _RunsCode:
    """Unpickling this writes a file: a checkpoint that would run code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _other_configuration(state: dict) -> dict:
    """The state dict shapes of the code's depthwise one-to-one index blocks (index_mode='o2o')."""
    out = dict(state)
    for key, value in state.items():
        if key.startswith("index") and key.endswith(("0.weight", "3.weight")) and value.dim() == 4:
            out[key] = value[:, :1].clone()
    return out


@pytest.mark.parametrize("kind", ["other_configuration", "missing_keys", "runs_code"])
def test_wrong_checkpoints_are_one_line_errors(kind, state, photo, tmp_path):
    path = tmp_path / f"{kind}.pth.tar"
    marker = tmp_path / "code_ran"
    if kind == "other_configuration":
        _save_legacy(_released(_other_configuration(state)), path)
        needles = ("index_mode='o2o'",)
    elif kind == "missing_keys":
        _save_legacy(_released({k: v for k, v in state.items() if not k.startswith("pred.1")}), path)
        needles = ("missing: pred.1.weight",)
    else:
        with open(path, "wb") as f:
            pickle.dump({"state_dict": {"layer0.0.weight": _RunsCode(marker)}}, f, protocol=2)
        needles = ("cannot load checkpoint safely",)
    proc = _cli("predict", photo[0], "--trimap", photo[1], "--model", "IndexNet", "--checkpoint", path,
                "--out", tmp_path / "out", "--device", "cpu")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("matbench: error: "), proc.stderr
    assert str(path) in lines[0] and all(n in lines[0] for n in needles), lines[0]
    assert not marker.exists()


def test_eval_on_comp1k_matches_predict_and_the_metric_functions(comp1k, predicted, checkpoint, tmp_path):
    from matbench.leaderboard import load_results, render
    from matbench_metrics.dim import dim_metrics

    root, truth = comp1k
    work = tmp_path / "work"
    proc = _cli("eval", "--model", "IndexNet", "--checkpoint", checkpoint, "--dataset", "comp1k",
                "--data-root", root, "--work-dir", work, "--workers", "0", "--metric-workers", "0", "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    results = json.loads((work / "results.json").read_text())
    assert results["meta"]["variant"] == "dim"
    rows = {row["name"]: row for row in results["per_image"]}
    assert sorted(rows) == sorted(truth)
    for name, (alpha, trimap) in truth.items():
        saved = _grey(work / "predictions" / f"{name}.png")
        assert np.array_equal(saved, _grey(predicted / f"{name}.png"))
        expected = dim_metrics(saved / 255.0, alpha / 255.0, trimap)
        assert {k: rows[name][k] for k in expected} == expected

    board = render(load_results([work / "results.json"]), "md", references=["indexnet-readme"])
    table = next(t for t in board.split("\n\n") if "| IndexNet Matting (published)" in t)
    assert "| IndexNet Matting (matbench)  " in table and "45.80" in table      # the run beside the README row
