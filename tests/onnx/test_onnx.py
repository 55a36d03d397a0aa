"""The ONNX plugin against the same tiny networks run in torch: each network is exported with
``torch.onnx.export`` inside the test, then run through matbench (the API, ``eval`` and
``predict``) with the options that describe its conventions."""
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")                       # torch.onnx.export writes through it
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from matbench.api import MODELS, build  # noqa: E402
from matbench.plugins import load_plugins  # noqa: E402

# the TorchScript exporter needs no onnxscript (torch 2.9+ deprecates it, but it is what the
# tiny networks need)
pytestmark = [pytest.mark.filterwarnings("ignore:You are using the legacy TorchScript:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:The feature will be removed:DeprecationWarning")]

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def matbench(*args):
    return subprocess.run([sys.executable, "-m", "matbench.cli", *map(str, args)], capture_output=True, text=True)


class ImageNet(nn.Module):
    """Image -> alpha (sigmoid), any size (a MODNet-style export)."""

    def __init__(self, channels=3):
        super().__init__()
        self.a, self.b = nn.Conv2d(channels, 6, 3, padding=1), nn.Conv2d(6, 1, 3, padding=1)

    def forward(self, x):
        return torch.sigmoid(self.b(torch.relu(self.a(x))))


class TwoInputNet(nn.Module):
    """Image and trimap as two inputs plus a scalar input; returns (foreground, alpha logits)
    (an RVM-like set of extra inputs and outputs)."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(4, 6, 3, padding=1), nn.Conv2d(6, 4, 3, padding=1)

    def forward(self, src, trimap, gain):
        out = self.b(torch.relu(self.a(torch.cat([src, trimap], 1)))) * gain
        return out[:, :3], out[:, 3:]


def export(net, path, args, names, outputs, dynamic=True):
    torch.manual_seed(0)
    for p in net.parameters():
        nn.init.normal_(p, std=0.5)
    axes = {n: {2: "h", 3: "w"} for n in names if n != "gain"} if dynamic else None
    torch.onnx.export(net.eval(), args, str(path), input_names=names, output_names=outputs, dynamic_axes=axes,
                      dynamo=False)
    return net


def sample(h, w, seed):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    trimap = np.full((h, w), 128, np.uint8)
    trimap[: h // 3], trimap[-h // 4:] = 0, 255
    return image, trimap


def torch_inputs(image, trimap, mean=(0, 0, 0), std=(1, 1, 1)):
    x = torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].float() / 255
    x = (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    return x, torch.from_numpy(np.array(trimap))[None, None].float() / 255


def predict(path, model_options, image, trimap=None, strategy="full"):
    load_plugins()
    predictor = build(MODELS, {"type": "StrategyPredictor", "model": {"type": "onnx", **model_options},
                               "strategy": {"type": strategy}, "checkpoint": str(path)})
    sample_ = {"name": "x", "image": image, **({"trimap": trimap} if trimap is not None else {})}
    return predictor.predict(sample_).double().numpy()


def check(ours, theirs, what):
    diff = np.abs(ours - theirs).max()
    print(f"onnx {what}: max |matbench - torch| = {diff:.3g}")
    assert diff <= 1e-5


def test_image_only_with_imagenet_normalisation(tmp_path):
    net = export(ImageNet(), tmp_path / "m.onnx", torch.rand(1, 3, 32, 32), ["input"], ["alpha"])
    image, _ = sample(45, 67, 0)
    with torch.no_grad():
        theirs = net(torch_inputs(image, _, MEAN, STD)[0])[0, 0].double().numpy()
    check(predict(tmp_path / "m.onnx", {"mean": MEAN, "std": STD}, image), theirs, "image, any size")


def test_trimap_channel_with_pixel_scale_and_divisor(tmp_path):
    """Mean and std in pixel units (scale=1), a graph that wants multiples of 16: the strategy
    pads the image and trimap (reflect) and crops back."""
    net = export(ImageNet(4), tmp_path / "m.onnx", torch.rand(1, 4, 32, 32), ["input"], ["alpha"])
    image, trimap = sample(45, 67, 1)
    x, t = torch_inputs(image, trimap, MEAN, STD)
    pad = (0, 13, 0, 3)
    with torch.no_grad():
        theirs = net(torch.cat([F.pad(x, pad, mode="reflect"), F.pad(t, pad, mode="reflect")], 1))
    options = {"trimap": "channel", "scale": 1, "mean": [m * 255 for m in MEAN], "std": [s * 255 for s in STD],
               "size": 16}
    ours = predict(tmp_path / "m.onnx", options, image, trimap)
    check(ours, theirs[0, 0, :45, :67].double().numpy(), "image + trimap channel, multiple of 16")


def test_two_inputs_extra_input_named_output_and_logits(tmp_path):
    net = export(TwoInputNet(), tmp_path / "m.onnx",
                 (torch.rand(1, 3, 32, 32), torch.rand(1, 1, 32, 32), torch.tensor(1.0)),
                 ["src", "trimap", "gain"], ["fgr", "pha"])
    image, trimap = sample(38, 50, 2)
    x, t = torch_inputs(image, trimap)
    with torch.no_grad():
        theirs = torch.sigmoid(net(x, t, torch.tensor(0.75))[1])[0, 0].double().numpy()
    options = {"trimap": "input", "output": "pha", "activation": "sigmoid", "extra_inputs": {"gain": 0.75}}
    check(predict(tmp_path / "m.onnx", options, image, trimap), theirs, "two inputs, named output, logits")


def test_fixed_size(tmp_path):
    """A graph of one input size (a BiRefNet-style export): resized there and back."""
    net = export(ImageNet(), tmp_path / "m.onnx", torch.rand(1, 3, 32, 48), ["input"], ["alpha"], dynamic=False)
    image, _ = sample(45, 67, 3)
    x = torch_inputs(image, _)[0]
    with torch.no_grad():
        small = net(F.interpolate(x, size=(32, 48), mode="bilinear", align_corners=False))
    theirs = F.interpolate(small, size=(45, 67), mode="bilinear", align_corners=False)[0, 0].double().numpy()
    check(predict(tmp_path / "m.onnx", {"size": [32, 48]}, image), theirs, "fixed size")


def test_eval_and_predict_from_the_command_line(tmp_path):
    net = export(ImageNet(4), tmp_path / "m.onnx", torch.rand(1, 4, 32, 32), ["input"], ["alpha"])
    work = tmp_path / "eval"
    res = matbench("eval", "--model", "onnx", "--checkpoint", tmp_path / "m.onnx", "--model-option", "trimap='channel'",
                   "--strategy", "full", "--dataset", "embedded", "--work-dir", work, "--device", "cpu",
                   "--workers", "0", "--metric-workers", "0", "--no-report")
    assert res.returncode == 0, res.stderr[-3000:]
    assert "onnx / full" in res.stdout
    # the kept predictions are the torch network's, to 8 bits
    load_plugins()
    dataset = build(__import__("matbench.api", fromlist=["DATASETS"]).DATASETS, {"type": "embedded"})
    info = dataset.get_data_info(0)
    image = np.asarray(Image.open(info["image_path"]).convert("RGB"))
    trimap = np.asarray(Image.open(info["trimap_path"]))
    x, t = torch_inputs(image, trimap)
    with torch.no_grad():
        theirs = net(torch.cat([x, t], 1))[0, 0].numpy()
    kept = np.asarray(Image.open(work / "predictions" / f"{info['name']}.png")).astype(int)
    assert np.abs(kept - np.round(theirs * 255)).max() <= 1

    photos, trimaps = tmp_path / "photos", tmp_path / "trimaps"
    photos.mkdir(), trimaps.mkdir()
    image, trimap = sample(41, 59, 4)
    Image.fromarray(image).save(photos / "dog.png")
    Image.fromarray(trimap).save(trimaps / "dog.png")
    out = tmp_path / "out"
    res = matbench("predict", photos, "--trimap", trimaps, "--model", "onnx", "--checkpoint", tmp_path / "m.onnx",
                   "--model-option", "trimap='channel'", "--out", out, "--device", "cpu")
    assert res.returncode == 0, res.stderr[-3000:]
    x, t = torch_inputs(image, trimap)
    with torch.no_grad():
        theirs = net(torch.cat([x, t], 1))[0, 0].numpy()
    assert np.abs(np.asarray(Image.open(out / "dog.png")).astype(int) - np.round(theirs * 255)).max() <= 1


@pytest.mark.parametrize("options, message", [
    (["--model-option", "output='nope'"], "no output 'nope'"),
    (["--model-option", "trimap='sideways'"], "unknown trimap='sideways'"),
    (["--model-option", "size=[1,2,3]"], "unknown size="),
])
def test_errors_are_one_line(tmp_path, options, message):
    export(ImageNet(), tmp_path / "m.onnx", torch.rand(1, 3, 32, 32), ["input"], ["alpha"])
    photo = tmp_path / "p.png"
    Image.fromarray(sample(32, 32, 0)[0]).save(photo)
    res = matbench("predict", photo, "--model", "onnx", "--checkpoint", tmp_path / "m.onnx", "--out", tmp_path / "o",
                   *options)
    assert res.returncode == 2 and message in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


class NeedsMultipleOf8(nn.Module):
    """Downsamples by 8 and back: a graph that only runs on sides that are multiples of 8."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 1, 3, padding=1)

    def forward(self, x):
        small = F.avg_pool2d(self.a(x), 8)
        return torch.sigmoid(F.interpolate(small, scale_factor=8.0, mode="nearest") + self.a(x))


class Times255(ImageNet):
    """An export whose alpha is on the 0..255 scale."""

    def forward(self, x):
        return super().forward(x) * 255


@pytest.mark.parametrize("make, options, message", [
    (lambda p: export(ImageNet(4), p, torch.rand(1, 4, 32, 32), ["input"], ["alpha"]), [],
     "takes 4 channels, the options give 3: use --model-option trimap=channel"),
    (lambda p: export(ImageNet(), p, torch.rand(1, 3, 64, 64), ["input"], ["alpha"], dynamic=False), [],
     "fixed size 64x64: pass --model-option size=[64,64]"),
    (lambda p: export(NeedsMultipleOf8(), p, torch.rand(1, 3, 32, 32), ["input"], ["alpha"]), [],
     "pass --model-option size=N"),
    (lambda p: export(Times255(), p, torch.rand(1, 3, 32, 32), ["input"], ["alpha"]), [],
     "outside [0, 1]"),
])
def test_a_graph_used_against_its_conventions_is_one_line(tmp_path, make, options, message):
    """Graphs whose layout the options do not say: never a traceback, never a silent wrong matte."""
    make(tmp_path / "m.onnx")
    photo = tmp_path / "p.png"
    Image.fromarray(sample(45, 61, 0)[0]).save(photo)
    res = matbench("predict", photo, "--model", "onnx", "--checkpoint", tmp_path / "m.onnx", "--out", tmp_path / "o",
                   *options)
    assert res.returncode == 2 and message in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert not (tmp_path / "o" / "p.png").exists()
