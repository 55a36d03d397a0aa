"""GFM (plugins/matbench_zoo/gfm): the official test procedure against golden 8-bit outputs of the
official code (tools/make_gfm_golden.py; conditioned random weights, no official code needed
here), the released checkpoint layout, checkpoint errors, and predict / eval through the CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from matbench.api import STRATEGIES, InputError, MatbenchError, build, image_tensor, to_uint8
from matbench_zoo.gfm.conditioning import conditioned_state, photo_like
from matbench_zoo.gfm.network import GFM

GOLDEN = np.load(Path(__file__).parents[1] / "fixtures" / "zoo" / "gfm_golden.npz")
#: the golden photos (tools/make_gfm_golden.py): an odd size, whose pass sizes are floored, and
#: 192 x 384, whose 1/3 and 1/2 passes are exact
ODD, EXACT = (233, 301, 3), (192, 384, 3)


def photo(h: int, w: int, seed: int) -> np.ndarray:
    return photo_like(h, w, seed).permute(1, 2, 0).to(torch.uint8).numpy()


def agreement(ours: np.ndarray, golden: np.ndarray) -> tuple[float, float]:
    """Shares of pixels within 2 grey levels and exactly equal."""
    assert ours.shape == golden.shape
    diff = np.abs(ours.astype(np.int16) - golden.astype(np.int16))
    return float((diff <= 2).mean()), float((diff == 0).mean())


def matbench(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "matbench.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=600, **kwargs)


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def network() -> GFM:
    net = GFM()
    net.load_state_dict(conditioned_state())
    return net.eval()


@pytest.fixture(scope="module")
def checkpoint(network, tmp_path_factory) -> Path:
    """The conditioned weights as the released gfm_r34_2b_tt.pth is: ``torch.save`` of the plain
    state dict, every backbone tensor under both of its keys."""
    path = tmp_path_factory.mktemp("ckpt") / "gfm_r34_2b_tt.pth"
    torch.save(network.state_dict(), path)
    return path


def cheap_checkpoint(path: Path, backbone: str = "r34_2b", rosta: str = "TT", drop: str | None = None,
                     ones: str | None = None) -> Path:
    """A checkpoint with a variant's keys and shapes but a few bytes of data (zeros broadcast to
    each shape); ``drop`` leaves a key out, ``ones`` makes one key's values differ."""
    with torch.device("meta"):
        shapes = {k: (v.shape, v.dtype) for k, v in GFM(backbone, rosta).state_dict().items()}
    state = {k: torch.zeros((), dtype=dtype).expand(shape) for k, (shape, dtype) in shapes.items() if k != drop}
    if ones:
        state[ones] = torch.ones((), dtype=shapes[ones][1]).expand(shapes[ones][0])
    torch.save(state, path)
    return path


# ----------------------------------------------------------------------------- the network

def test_state_dict_has_the_released_layout(network):
    state = network.state_dict()
    assert len(state) == 831 and sum(v.numel() for v in state.values()) == 147_228_717
    # encoder stages alias the registered ResNet-34: one tensor under two keys
    assert state["encoder1.0.conv1.weight"].data_ptr() == state["resnet.layer1.0.conv1.weight"].data_ptr()
    # parts no forward uses are in the released files, and so required
    assert {"resnet.conv1.weight", "resnet.bn1.running_var", "resnet.fc.weight", "psp1.0.weight"} <= set(state)
    assert tuple(state["decoder0_g.0.weight"].shape) == (3, 64, 3, 3)


@pytest.mark.parametrize("backbone, rosta, keys, head", [
    ("r34", "TT", 688, ("decoder0_g.6.weight", 3)), ("r34", "FT", 688, ("decoder0_g.6.weight", 2)),
    ("r101", "TT", 1504, ("decoder0_g.6.weight", 3)), ("d121", "TT", 1708, ("decoder0_g.6.weight", 3)),
    ("d121", "RIM", 1778, ("decoder0_g_ft.6.weight", 2)), ("r34_2b", "BT", 831, ("decoder0_g.0.weight", 2)),
])
def test_every_variant_builds_with_its_keys(backbone, rosta, keys, head):
    with torch.device("meta"):
        state = GFM(backbone, rosta).state_dict()
    assert len(state) == keys and state[head[0]].shape[0] == head[1]
    assert ("rim.1.fc.0.weight" in state) == (rosta == "RIM")
    assert ("densenet.classifier.weight" in state) == (backbone == "d121")


# ----------------------------------------------------------------------------- the official procedure

EVAL_NAMES = ("m_0a1b2c3d", "m_9f8e7d6c")


@pytest.fixture(scope="module")
def am2k(tmp_path_factory) -> Path:
    """A miniature AM-2k (``AM-2k/validation/{original,mask,trimap}``) of two photos."""
    split = tmp_path_factory.mktemp("data") / "AM-2k" / "validation"
    for sub in ("original", "mask", "trimap"):
        (split / sub).mkdir(parents=True)
    for i, name in enumerate(EVAL_NAMES):
        h, w = 100 + 8 * i, 130
        Image.fromarray(photo(h, w, 20 + i)).save(split / "original" / f"{name}.jpg", quality=95)
        yy, xx = np.mgrid[0:h, 0:w]
        alpha8 = np.round(np.clip((xx - 60 - 10 * i + 8 * np.sin(yy / 9)) / 12 + 0.5, 0, 1) * 255).astype(np.uint8)
        Image.fromarray(alpha8).save(split / "mask" / f"{name}.png")
        Image.fromarray(np.where(alpha8 == 0, 0, np.where(alpha8 == 255, 255, 128)).astype(np.uint8)).save(
            split / "trimap" / f"{name}.png")
    return split.parent


@pytest.fixture(scope="module")
def predicted(checkpoint, am2k, tmp_path_factory) -> Path:
    """One `matbench predict` with no --strategy (gfm-hybrid, saved truncated) on the golden
    photos and the AM-2k photos."""
    root = tmp_path_factory.mktemp("predict")
    photos = root / "photos"
    photos.mkdir()
    for name, spec in (("odd", ODD), ("exact", EXACT)):
        Image.fromarray(photo(*spec)).save(photos / f"{name}.png")
    for jpg in (am2k / "validation" / "original").iterdir():
        (photos / jpg.name).write_bytes(jpg.read_bytes())
    res = matbench("predict", photos, "--model", "GFM", "--checkpoint", checkpoint, "--out", root / "out",
                   "--device", "cpu")
    assert res.returncode == 0, res.stderr
    return root / "out"


@pytest.mark.parametrize("name", ["odd", "exact"])
def test_predict_default_equals_the_official_bytes(predicted, name):
    ours = np.asarray(Image.open(predicted / f"{name}.png"))
    within, _ = agreement(ours, GOLDEN[f"r34_2b_tt_hybrid_{name}"])
    assert within >= 0.999
    assert 0.1 < ((ours > 12) & (ours < 243)).mean() < 0.95, "the conditioned alpha spans (0, 1)"


@pytest.mark.parametrize("key, strategy", [
    ("r34_2b_tt_resize_odd", dict(type="gfm-resize")),
    ("r34_2b_tt_hybrid_glance", dict(type="gfm-hybrid", pred_choice=1)),
    ("r34_2b_tt_hybrid_focus", dict(type="gfm-hybrid", pred_choice=2)),
])
def test_other_official_settings(network, key, strategy):
    with torch.no_grad():
        alpha = build(STRATEGIES, strategy)(network, image_tensor(photo(*ODD), "cpu")).numpy()
    within, _ = agreement(to_uint8(alpha, "truncate"), GOLDEN[key])
    assert within >= 0.999


@pytest.mark.parametrize("backbone, rosta, key", [("r34", "BT", "r34_bt_hybrid_odd"), ("d121", "RIM", "d121_rim_odd")])
def test_other_rostas(backbone, rosta, key):
    net = GFM(backbone, rosta)
    net.load_state_dict(conditioned_state(backbone, rosta))
    with torch.no_grad():
        alpha = build(STRATEGIES, dict(type="gfm-hybrid"))(net.eval(), image_tensor(photo(*ODD), "cpu")).numpy()
    within, _ = agreement(to_uint8(alpha, "truncate"), GOLDEN[key])
    assert within >= 0.999


# ----------------------------------------------------------------------------- checkpoint errors

def test_checkpoint_errors_are_one_line_naming_the_file(tmp_path):
    """Through the CLI: a checkpoint of another variant, a pickle that would run code."""
    Image.fromarray(photo(100, 130, 2)).save(tmp_path / "p.png")

    class RunsCode:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'ran'}",))

    torch.save({"encoder0.0.weight": RunsCode()}, tmp_path / "evil.pth")
    cases = {"r34_tt.pth": (cheap_checkpoint(tmp_path / "r34_tt.pth", "r34", "TT"),
                            ("keys of a GFM r34/TT checkpoint", "--model-option backbone=r34")),
             "evil.pth": (tmp_path / "evil.pth", ("cannot load checkpoint safely",))}
    procs = {name: subprocess.Popen([sys.executable, "-m", "matbench.cli", "predict", str(tmp_path / "p.png"),
                                     "--model", "GFM", "--checkpoint", str(path), "--out", str(tmp_path / f"out_{name}")],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name, (path, _) in cases.items()}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=600)
        assert_one_line_error(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr),
                              name, *cases[name][1])
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("model, make, message", [
    (("r34", "TT"), dict(backbone="r34", rosta="FT"), r"r34/FT or r34/BT checkpoint \(the two are indistinguishable by shape"),
    (("d121", "TT"), dict(backbone="d121", rosta="RIM"), r"keys of a GFM d121/RIM checkpoint.*rosta=RIM"),
    (("r34_2b", "TT"), dict(drop="decoder0_f.0.bias"), r"missing: decoder0_f\.0\.bias"),
    (("r34_2b", "TT"), dict(ones="encoder2.0.conv1.weight"), r"two different values for one tied tensor.*encoder2\.0"),
])
def test_wrong_checkpoints_are_named(tmp_path, model, make, message):
    """The InputError the CLI prints as one line (exit 2) names the file and what is wrong."""
    path = cheap_checkpoint(tmp_path / "wrong.pth", **make)
    with torch.device("meta"):
        net = GFM(*model)
    with pytest.raises(InputError, match=message) as err:
        net.to_empty(device="cpu").load_checkpoint(path)
    assert str(path) in str(err.value)


def test_ft_and_bt_checkpoints_load_into_either(tmp_path):
    """The two have the same keys and shapes: the file name, not the file, tells which."""
    path = cheap_checkpoint(tmp_path / "gfm_r34_ft.pth", "r34", "FT")
    with torch.device("meta"):
        net = GFM("r34", "BT")
    net.to_empty(device="cpu").load_checkpoint(path)


def test_too_small_photo_is_refused(network):
    with pytest.raises(MatbenchError, match="too small for the glance pass"):
        build(STRATEGIES, dict(type="gfm-hybrid"))(network, image_tensor(photo(90, 200, 1), "cpu"))


# ----------------------------------------------------------------------------- eval on AM-2k

def test_eval_am2k_scores_the_saved_predictions(checkpoint, am2k, predicted, tmp_path):
    """`matbench eval` end to end: its rows are the metric functions on the 8-bit PNGs it saved,
    which are the ones `matbench predict` writes."""
    from matbench_metrics.aim import KEYS, aim_metrics

    work = tmp_path / "work"
    res = matbench("eval", "--model", "GFM", "--checkpoint", checkpoint, "--dataset", "am2k", "--data-root", am2k,
                   "--work-dir", work, "--workers", "0", "--metric-workers", "0", "--device", "cpu")
    assert res.returncode == 0, res.stderr
    results = json.loads((work / "results.json").read_text())
    assert results["meta"]["source"]["strategy"] == {"type": "gfm-hybrid"}
    rows = {row["name"]: row for row in results["per_image"]}
    assert sorted(rows) == sorted(EVAL_NAMES)
    for name in EVAL_NAMES:
        saved = np.asarray(Image.open(work / "predictions" / f"{name}.png"))
        assert np.array_equal(saved, np.asarray(Image.open(predicted / f"{name}.png")))
        alpha8 = np.asarray(Image.open(am2k / "validation" / "mask" / f"{name}.png"))
        trimap = np.asarray(Image.open(am2k / "validation" / "trimap" / f"{name}.png"))
        assert {k: rows[name][k] for k in KEYS} == aim_metrics(saved / 255.0, alpha8 / 255.0, trimap)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.float64])
@pytest.mark.parametrize("shape, out", [((3, 97, 131), (31, 64)), ((1, 50, 40), (7, 3)), ((3, 20, 30), (40, 12))])
def test_scipys_gaussian_passes_equal_the_tensor_passes(dtype, shape, out):
    """The CPU resize filters with SciPy, CUDA with tensor passes: both must give the same bits."""
    from matbench_zoo.gfm.resize import gaussian_pass, gaussian_passes_cpu

    g = torch.Generator().manual_seed(sum(shape))
    x = (torch.randint(0, 256, shape, dtype=torch.uint8, generator=g) if dtype == torch.uint8
         else torch.rand(shape, generator=g, dtype=dtype))
    sigmas = tuple(max(0.0, (n / m - 1) / 2) for n, m in zip(shape[1:], out))
    expected = x.double()
    for dim, sigma in zip((1, 2), sigmas):
        if sigma > 1e-15:
            expected = gaussian_pass(expected, dim, sigma, dtype)
    assert torch.equal(gaussian_passes_cpu(x, sigmas), expected)
