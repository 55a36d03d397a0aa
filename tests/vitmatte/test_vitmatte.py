"""The ViTMatte plugin against transformers' own processor and model, on a tiny random
checkpoint written with ``save_pretrained`` (nothing is downloaded), and from the command line."""
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

transformers = pytest.importorskip("transformers")
pytest.importorskip("safetensors")
import torch  # noqa: E402

from matbench.api import MODELS, build  # noqa: E402
from matbench.deterministic_weights import fill_deterministic  # noqa: E402
from matbench.plugins import load_plugins  # noqa: E402


def matbench(*args):
    return subprocess.run([sys.executable, "-m", "matbench.cli", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny random ViTMatte (2-layer ViTDet of width 32) saved as save_pretrained writes it."""
    torch.manual_seed(0)
    backbone = transformers.VitDetConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=2, num_channels=4,
                                         pretrain_image_size=64, out_features=["stage2"])
    config = transformers.VitMatteConfig(backbone_config=backbone, hidden_size=32,
                                         convstream_hidden_sizes=[4, 8, 16], fusion_hidden_sizes=[16, 8, 8, 4])
    model = transformers.VitMatteForImageMatting(config).eval()
    # transformers' initialisation makes the head output ~0 (alpha 0.5 everywhere): weights of
    # order one make every input matter, so the comparison means something
    fill_deterministic(model, seed=0)
    folder = tmp_path_factory.mktemp("vitmatte") / "tiny"
    model.save_pretrained(folder)
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
    return folder


def sample(h, w, seed):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    trimap = np.full((h, w), 128, np.uint8)
    trimap[: h // 3] = 0
    trimap[2 * h // 3:, : w // 2] = 255
    return image, trimap


def reference_alpha(folder, image, trimap):
    """transformers' own pipeline: VitMatteImageProcessor + the model, cropped back to the image."""
    processor = transformers.VitMatteImageProcessor()
    model = transformers.VitMatteForImageMatting.from_pretrained(folder).eval()
    inputs = processor(images=image, trimaps=trimap, return_tensors="pt")
    with torch.no_grad():
        alphas = model(**inputs).alphas
    return alphas[0, 0, : image.shape[0], : image.shape[1]].double().numpy()


@pytest.mark.parametrize("size", [(64, 96), (53, 71)])           # a multiple of 32, and odd
def test_alpha_matches_transformers(checkpoint, size):
    load_plugins()
    predictor = build(MODELS, {"type": "StrategyPredictor", "model": {"type": "ViTMatte"},
                               "strategy": {"type": "full"}, "checkpoint": str(checkpoint)})
    image, trimap = sample(*size, seed=size[1])
    ours = predictor.predict({"name": "x", "image": image, "trimap": trimap}).double().numpy()
    theirs = reference_alpha(checkpoint, image, trimap)
    assert ours.shape == size
    diff = np.abs(ours - theirs).max()
    print(f"ViTMatte {size}: max |matbench - transformers| = {diff:.3g} (alpha std {theirs.std():.3g})")
    assert diff <= 1e-5
    if size[0] % 32:
        # the processor pads with zeros after normalising (ViTMatte issue 26): a strategy's own
        # reflect padding would change the alpha, so the network pads itself (size_divisor 1)
        reflect = build(MODELS, {"type": "StrategyPredictor", "model": {"type": "ViTMatte"},
                                 "strategy": {"type": "full", "divisor": 32}, "checkpoint": str(checkpoint)})
        other = reflect.predict({"name": "x", "image": image, "trimap": trimap}).double().numpy()
        assert np.abs(other - theirs).max() > 1e-3


def test_trimap_changes_the_alpha(checkpoint):
    """The trimap reaches the network (a strategy that dropped it would give the same alpha)."""
    load_plugins()
    predictor = build(MODELS, {"type": "StrategyPredictor", "model": {"type": "ViTMatte"},
                               "strategy": {"type": "full"}, "checkpoint": str(checkpoint)})
    image, trimap = sample(40, 40, seed=1)
    a = predictor.predict({"name": "x", "image": image, "trimap": trimap})
    b = predictor.predict({"name": "x", "image": image, "trimap": 255 - trimap})
    assert (a - b).abs().max() > 1e-4


def test_eval_and_predict_from_the_command_line(checkpoint, tmp_path):
    work = tmp_path / "eval"
    res = matbench("eval", "--model", "ViTMatte", "--checkpoint", checkpoint, "--strategy", "full",
                   "--dataset", "embedded", "--work-dir", work, "--device", "cpu", "--workers", "0",
                   "--metric-workers", "0", "--no-report")
    assert res.returncode == 0, res.stderr[-3000:]
    assert "ViTMatte / full" in res.stdout and (work / "results.json").is_file()

    photos, trimaps = tmp_path / "photos", tmp_path / "trimaps"
    photos.mkdir(), trimaps.mkdir()
    image, trimap = sample(45, 61, seed=7)
    Image.fromarray(image).save(photos / "cat.png")
    Image.fromarray(trimap).save(trimaps / "cat.png")
    out = tmp_path / "out"
    res = matbench("predict", photos, "--trimap", trimaps, "--model", "ViTMatte", "--checkpoint", checkpoint,
                   "--out", out, "--device", "cpu")
    assert res.returncode == 0, res.stderr[-3000:]
    written = np.asarray(Image.open(out / "cat.png")).astype(int)
    expected = np.round(np.clip(reference_alpha(checkpoint, image, trimap), 0, 1) * 255).astype(int)
    assert np.abs(written - expected).max() <= 1

    res = matbench("predict", photos, "--model", "ViTMatte", "--checkpoint", checkpoint, "--out", out)
    assert res.returncode == 2 and "--trimap" in res.stderr and "Traceback" not in res.stderr


def test_tiled_at_native_size_covers_the_image(checkpoint):
    load_plugins()
    predictor = build(MODELS, {"type": "StrategyPredictor", "model": {"type": "ViTMatte"},
                               "strategy": {"type": "tiled", "local_ratio": 1, "tile": 64, "overlap": 16},
                               "checkpoint": str(checkpoint)})
    image, trimap = sample(90, 130, seed=2)
    alpha = predictor.predict({"name": "x", "image": image, "trimap": trimap})
    assert alpha.shape == (90, 130) and torch.isfinite(alpha).all()


@pytest.mark.parametrize("args, message", [
    (["--checkpoint", "{tmp}"], "not a transformers checkpoint folder"),
    (["--checkpoint", "{ckpt}", "--strategy", "hybrid"], "needs a model with a 'global'"),
])
def test_errors_are_one_line(checkpoint, tmp_path, args, message):
    photo = tmp_path / "p.png"
    Image.fromarray(sample(32, 32, 0)[0]).save(photo)
    args = [a.format(tmp=tmp_path, ckpt=checkpoint) for a in args]
    res = matbench("predict", photo, "--trimap", photo, "--model", "ViTMatte", "--out", tmp_path / "o", *args)
    assert res.returncode == 2 and message in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def _damaged_copy(checkpoint, tmp_path, damage):
    """A copy of the tiny checkpoint folder with one thing wrong."""
    import json
    import shutil

    from safetensors.torch import load_file, save_file

    folder = tmp_path / "damaged"
    shutil.copytree(checkpoint, folder)
    weights = folder / "model.safetensors"
    if damage == "no decoder":
        state = load_file(str(weights))
        save_file({k: v for k, v in state.items() if not k.startswith("decoder")}, str(weights),
                  metadata={"format": "pt"})
    elif damage == "int weights":
        state = load_file(str(weights))
        save_file({k: (v.to(torch.int32) if v.is_floating_point() else v) for k, v in state.items()}, str(weights),
                  metadata={"format": "pt"})
    elif damage == "other model":
        config = json.loads((folder / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps({**config, "model_type": "bert"}))
    elif damage == "bad processor":
        (folder / "preprocessor_config.json").write_text(json.dumps({"image_mean": [0.5, 0.5], "image_std": "x"}))
    elif damage == "processor list":
        (folder / "preprocessor_config.json").write_text("[1, 2, 3]")
    return folder


@pytest.mark.parametrize("damage, message", [
    ("no decoder", "checkpoint does not fit ViTMatte (missing: decoder"),
    ("int weights", "floating-point weights stored as integers"),
    ("other model", "a 'bert' checkpoint, not ViTMatte's"),
    ("bad processor", "image_mean should be three numbers"),
    ("processor list", "not a JSON object"),
])
def test_a_damaged_checkpoint_folder_is_refused(checkpoint, tmp_path, damage, message):
    """transformers would fill a missing decoder with random values (and truncate integer
    weights) and run: matbench refuses the folder in one line before any image."""
    folder = _damaged_copy(checkpoint, tmp_path, damage)
    photo = tmp_path / "p.png"
    Image.fromarray(sample(32, 32, 0)[0]).save(photo)
    res = matbench("predict", photo, "--trimap", photo, "--model", "ViTMatte", "--checkpoint", folder,
                   "--out", tmp_path / "o")
    assert res.returncode == 2 and message in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and not (tmp_path / "o" / "p.png").exists()
