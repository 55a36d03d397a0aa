"""MODNet (matbench_zoo.modnet) against the official MODNet code, without it: the state dict's
layout; the default procedure (and the ONNX demo's) against the 8-bit mattes the official demo
scripts wrote (tools/make_modnet_golden.py) for the same conditioned weights, through
``matbench predict`` with a checkpoint in the released file's format; greyscale and RGBA photos
read as the demo reads them; wrong checkpoints refused (as one-line CLI errors); ``matbench eval`` on a miniature PPM-100, its rows equal to the metric functions
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

from matbench.api import fill_deterministic
from matbench_zoo.modnet.conditioning import conditioned_state, photo_like
from matbench_zoo.modnet.network import MODNet
from matbench_zoo.modnet.strategies import reference_size

GOLDEN = np.load(Path(__file__).parents[1] / "fixtures" / "zoo" / "modnet_golden.npz")
#: golden case -> the strategy of its official script
CASES = {"colab_101x133": "modnet-colab", "colab_123x517": "modnet-colab", "colab_96x512": "modnet-colab",
         "onnx_101x133": "modnet-onnx"}
TIED = "backbone.model.features.0.0.weight"
#: the golden photo also given as RGBA and as greyscale
GREY_RGBA_CASE = "colab_101x133"


def _cli(*args, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "matbench.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


def _grey(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def _photo(case: str) -> np.ndarray:
    h, w, seed, total = (int(v) for v in GOLDEN[f"{case}_photo"])
    photo = photo_like(h, w, seed)
    assert int(photo.astype(np.int64).sum()) == total, "photo_like() no longer makes the golden photo"
    return photo


def _released(state: dict) -> OrderedDict:
    """The released ``.ckpt`` layout: the plain state dict of ``nn.DataParallel(MODNet())``."""
    return OrderedDict(("module." + k, v) for k, v in state.items())


@pytest.fixture(scope="module")
def state() -> dict:
    return conditioned_state()


@pytest.fixture(scope="module")
def checkpoint(state, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "modnet_photographic_portrait_matting.ckpt"
    torch.save(_released(state), path)
    return path


@pytest.fixture(scope="module")
def small_photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("photo") / "p.png"
    Image.fromarray(photo_like(40, 52, 0)).save(path)
    return path


def _miniature_ppm100(root: Path) -> dict[str, np.ndarray]:
    """PPM-100's layout (image/ and matte/, JPEGs of identical names) with two portraits of odd
    sizes; returns {name: matte as read back}."""
    out = {}
    for i, (name, (h, w)) in enumerate({"1803151_8d4a0ff8e3_o": (61, 45), "2242563_6e5d1c57f1_o": (48, 70)}.items()):
        yy, xx = np.mgrid[0:h, 0:w]
        matte = np.clip((0.3 * min(h, w) - np.hypot(yy - h / 2, xx - w / 2)) / 4 + 0.5, 0, 1)
        for sub, array in (("image", photo_like(h, w, 30 + i)), ("matte", np.round(matte * 255).astype(np.uint8))):
            (root / sub).mkdir(parents=True, exist_ok=True)
            Image.fromarray(array).save(root / sub / f"{name}.jpg", quality=100)
        out[name] = _grey(root / "matte" / f"{name}.jpg")
    return out


@pytest.fixture(scope="module")
def predicted(checkpoint, tmp_path_factory) -> dict:
    """One ``matbench predict`` run (no --strategy, the released-format file) over the golden
    photos of the default procedure and the photos of a miniature PPM-100 (one command: each
    costs seconds of start-up)."""
    folder = tmp_path_factory.mktemp("predict")
    photos = folder / "photos"
    photos.mkdir()
    for case, strategy in CASES.items():
        if strategy == MODNet.default_strategy:
            Image.fromarray(_photo(case)).save(photos / f"{case}.png")
    # the demo's other inputs: a greyscale photo (its channel repeated) and RGBA (alpha dropped)
    rgb = _photo(GREY_RGBA_CASE)
    Image.fromarray(rgb[:, :, 1]).save(photos / "grey.png")
    Image.fromarray(np.repeat(rgb[:, :, 1:2], 3, axis=2)).save(photos / "grey_as_rgb.png")
    alpha = (np.arange(rgb[:, :, 0].size) % 256).reshape(rgb.shape[:2])
    Image.fromarray(np.dstack([rgb, alpha]).astype(np.uint8)).save(photos / "rgba.png")
    ppm = folder / "PPM-100"
    truth = _miniature_ppm100(ppm)
    proc = _cli("predict", photos, ppm / "image", "--model", "MODNet", "--checkpoint", checkpoint,
                "--out", folder / "out", "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    return {"out": folder / "out", "ppm": ppm, "truth": truth}


def test_state_dict_has_the_released_layout():
    net = MODNet()
    state = net.state_dict()
    assert len(state) == 751 and sum(k.endswith("num_batches_tracked") for k in state) == 121
    assert sum(p.numel() for p in net.parameters()) == 6_487_075           # unique tensors
    # the encoder is registered twice, as in the official network: one tensor, two keys
    assert state[TIED].data_ptr() == state[f"lr_branch.{TIED}"].data_ptr()
    assert sum(k.startswith("backbone.") for k in state) == sum(k.startswith("lr_branch.backbone.") for k in state) == 312
    assert tuple(state["lr_branch.se_block.fc.0.weight"].shape) == (320, 1280)
    assert tuple(state["lr_branch.conv_lr.layers.0.weight"].shape) == (1, 32, 3, 3)    # training-only heads
    assert tuple(state["hr_branch.conv_hr.1.layers.0.weight"].shape) == (1, 32, 1, 1)
    assert tuple(state["f_branch.conv_f.0.layers.1.bnorm.weight"].shape) == (8,)        # IBNorm: BN half of 16


def test_reference_size_rule():
    assert reference_size(497, 800) == (480, 800)        # kept, floored to multiples of 32
    assert reference_size(101, 133) == (512, 672)        # short side up to 512, long side truncated
    assert reference_size(1200, 1500) == (512, 640)      # short side down to 512
    assert reference_size(1500, 1200) == (640, 512)
    assert reference_size(96, 512) == (96, 512)


def _agree(ours: np.ndarray, case: str) -> None:
    """>= 99.9 % of the pixels within 2 grey levels of the official PNG (they are in fact equal)."""
    theirs = GOLDEN[case]
    assert ours.shape == theirs.shape, case
    diff = np.abs(ours.astype(int) - theirs.astype(int))
    assert (diff <= 2).mean() >= 0.999, case
    assert ((theirs > 12) & (theirs < 243)).mean() > 0.5, case      # the weights are no constant


def test_default_procedure_matches_the_official_colab_demo(predicted):
    """``matbench predict`` with the released-format file and no --strategy, at odd sizes (scaled
    up; sides floored) and at a size the demo feeds the network as it is."""
    for case, strategy in CASES.items():
        if strategy == MODNet.default_strategy:
            _agree(_grey(predicted["out"] / f"{case}.png"), case)


def test_greyscale_and_rgba_photos_are_read_as_the_demo_reads_them(predicted):
    out = predicted["out"]
    assert np.array_equal(_grey(out / "rgba.png"), _grey(out / f"{GREY_RGBA_CASE}.png"))
    assert np.array_equal(_grey(out / "grey.png"), _grey(out / "grey_as_rgb.png"))


def test_onnx_demo_strategy_matches_the_official_onnx_demo(state):
    from matbench.api import STRATEGIES, build, image_tensor, to_uint8

    net = MODNet().eval()
    net.load_state_dict(state)
    for case, strategy in CASES.items():
        if strategy == "modnet-onnx":
            with torch.no_grad():
                alpha = build(STRATEGIES, dict(type=strategy))(net, image_tensor(_photo(case), "cpu"))
            _agree(to_uint8(alpha.numpy(), MODNet.save_rule), case)


def test_released_file_loads_in_both_serialisations(state, tmp_path):
    """The released files may predate PyTorch's zip format: both forms load, tied copies included."""
    for zipped in (True, False):
        path = tmp_path / f"zip{zipped}.ckpt"
        torch.save(_released(state), path, _use_new_zipfile_serialization=zipped)
        network = MODNet()
        network.load_checkpoint(path)
        assert torch.equal(network.state_dict()[f"lr_branch.{TIED}"], state[TIED])


class _RunsCode:
    """Unpickling this writes a file: a checkpoint that would run code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _wrong_checkpoint(kind: str, state: dict, folder: Path) -> tuple[Path, tuple[str, ...]]:
    """A checkpoint of ``kind`` in ``folder`` and the words its error must contain."""
    path = folder / f"{kind}.ckpt"
    if kind == "other_variant":
        torch.save(_released(fill_deterministic(MODNet(hr_channels=16)).state_dict()), path)
        return path, ("hr_channels=16",)
    if kind == "missing_keys":
        torch.save(_released({k: v for k, v in state.items() if not k.startswith("f_branch.conv_f.1")}), path)
        return path, ("missing: f_branch.conv_f.1.layers.0.weight",)
    if kind == "differing_tied_copies":
        changed = dict(state)
        changed[f"lr_branch.{TIED}"] = state[TIED] + 1e-3
        torch.save(_released(changed), path)
        return path, ("tied tensor", TIED)
    with open(path, "wb") as f:
        pickle.dump({f"module.{TIED}": _RunsCode(folder / "code_ran")}, f, protocol=2)
    return path, ("cannot load checkpoint safely",)


WRONG = ("other_variant", "missing_keys", "differing_tied_copies", "runs_code")


@pytest.mark.parametrize("kind", WRONG)
def test_wrong_checkpoints_are_refused(kind, state, tmp_path):
    from matbench.api import InputError

    path, needles = _wrong_checkpoint(kind, state, tmp_path)
    with pytest.raises(InputError) as err:
        MODNet().load_checkpoint(path)
    assert err.value.path == str(path) and all(n in str(err.value) for n in needles), str(err.value)
    assert not (tmp_path / "code_ran").exists()


@pytest.mark.parametrize("kind", ["other_variant", "runs_code"])
def test_wrong_checkpoints_are_one_line_cli_errors(kind, state, small_photo, tmp_path):
    path, needles = _wrong_checkpoint(kind, state, tmp_path)
    proc = _cli("predict", small_photo, "--model", "MODNet", "--checkpoint", path, "--out", tmp_path / "out",
                "--device", "cpu")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("matbench: error: "), proc.stderr
    assert str(path) in lines[0] and all(n in lines[0] for n in needles), lines[0]
    assert not (tmp_path / "code_ran").exists()


def test_eval_on_ppm100_matches_predict_and_the_metric_functions(checkpoint, predicted, tmp_path):
    from matbench_metrics.aim.suite import aim_metrics

    work = tmp_path / "work"
    proc = _cli("eval", "--model", "MODNet", "--checkpoint", checkpoint, "--dataset", "ppm100",
                "--data-root", predicted["ppm"], "--work-dir", work, "--workers", "0", "--metric-workers", "0",
                "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    results = json.loads((work / "results.json").read_text())
    assert results["meta"]["variant"] == "aim"
    rows = {row["name"]: row for row in results["per_image"]}
    assert sorted(rows) == sorted(predicted["truth"])
    for name, alpha in predicted["truth"].items():
        saved = _grey(work / "predictions" / f"{name}.png")
        assert np.array_equal(saved, _grey(predicted["out"] / f"{name}.png"))
        trimap = _grey(next((work / "trimaps").glob(f"dilate_erode-*/{name}.png")))
        expected = aim_metrics(saved / 255.0, alpha / 255.0, trimap)
        assert {k: rows[name][k] for k in expected} == expected
