"""The official MODNet code (github.com/ZHKKKe/MODNet) run unchanged, for golden values, parity
checks and tools/bench_zoo.py. Not part of matbench.

Set ``MODNET_REF=/path/to/MODNet`` (a checkout: the folder holding ``src/models/modnet.py``).

    REPO                                        the official repository ($MODNET_REF)
    VARIANT                                     model options of the released variant
    weights(**variant)                          conditioned seeded weights (matbench_zoo.modnet.conditioning)
    official_network(state, **variant)          the official MODNet with them, eval mode
    official_predict(net, rgb, setting=...)     the 8-bit matte the official script writes
    save_released(state, path, **variant)       a checkpoint in the released files' format

The demo scripts keep all their code under ``if __name__ == '__main__'``, so
``official_predict`` runs the script file itself (``runpy``) on one photo, with in-memory,
scoped stand-ins for what it would otherwise read or write: its argument list, the checkpoint
(``torch.load`` returns the network's own weights, keys prefixed ``module.``, as the released
file holds them), the ``MODNet`` it constructs (the given network), the file it saves (the array
is kept instead), and for the ONNX demo the ONNX Runtime session (the PyTorch network). The
photo is handed over as a lossless PPM file in a temporary folder.
"""
from __future__ import annotations

import contextlib
import io
import runpy
import sys
import tempfile
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import torch
from torch import nn

from .loader import OfficialRepo
from .patches import patched
from .stand_ins import Normalize, missing_packages

#: the official test procedures: setting -> the script that defines it
SCRIPTS = {
    "colab": "demo/image_matting/colab/inference.py",     # the README's image-matting demo (default)
    "onnx": "onnx/inference_onnx.py",                     # the ONNX demo, PyTorch in place of ONNX Runtime
}
#: the matbench strategy of each setting
STRATEGIES = {"colab": "modnet-colab", "onnx": "modnet-onnx"}

#: the network the ONNX Runtime stand-in runs (set for the duration of one official_predict)
_SESSION: dict[str, nn.Module] = {}


class _Compose:
    """``torchvision.transforms.Compose``: the transforms applied in order."""

    def __init__(self, transforms: list) -> None:
        self.transforms = transforms

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = t(x)
        return x


class _ToTensor:
    """``torchvision.transforms.ToTensor`` for an 8-bit PIL image: C x H x W float32, value / 255."""

    def __call__(self, pic: Any) -> torch.Tensor:
        array = np.array(pic, dtype=np.uint8, copy=True)
        if array.ndim == 2:
            array = array[:, :, None]
        return torch.from_numpy(array).permute(2, 0, 1).contiguous().to(torch.float32).div(255)


class _Session:
    """``onnxruntime.InferenceSession`` of the exported MODNet (``onnx/modnet_onnx.py``: input
    'input', output 'output', the alpha), computed by the official PyTorch network."""

    def __init__(self, path: str, *args: Any, **kwargs: Any) -> None:
        self.net = _SESSION["net"]

    def get_inputs(self) -> list:
        return [SimpleNamespace(name="input")]

    def get_outputs(self) -> list:
        return [SimpleNamespace(name="output")]

    def run(self, names: list, feeds: dict) -> list:
        with torch.no_grad():
            _, _, matte = self.net(torch.from_numpy(feeds["input"]), True)
        return [matte.numpy()]


def _stand_ins() -> dict[str, ModuleType]:
    """What the demos import that is not installed (torchvision), and ONNX Runtime always."""
    out = {k: v for k, v in missing_packages().items() if not k.startswith("torchvision")}
    if "torchvision" in missing_packages():
        transforms = ModuleType("torchvision.transforms")
        transforms.Compose, transforms.ToTensor, transforms.Normalize = _Compose, _ToTensor, Normalize
        out["torchvision"] = ModuleType("torchvision")
        out["torchvision"].transforms = transforms
        out["torchvision.transforms"] = transforms
    runtime = ModuleType("onnxruntime")
    runtime.InferenceSession = _Session
    out["onnxruntime"] = runtime
    return out


#: github.com/ZHKKKe/MODNet, from $MODNET_REF (files imported from the checkout's root)
REPO = OfficialRepo("MODNET_REF", "github.com/ZHKKKe/MODNet", ".", "src/models/modnet.py", stand_ins=_stand_ins)
VARIANT: dict[str, Any] = {"hr_channels": 32}


def weights(**variant: Any) -> dict[str, torch.Tensor]:
    """Conditioned seeded weights (bare keys, the tied backbone keys twice)."""
    from matbench_zoo.modnet.conditioning import conditioned_state

    return conditioned_state(**{**VARIANT, **variant})


def official_network(state: dict[str, torch.Tensor], **variant: Any) -> nn.Module:
    """The official ``MODNet`` (without its pretrained-backbone loading) holding ``state``, in eval mode."""
    variant = {**VARIANT, **variant}
    net = REPO.module("src.models.modnet").MODNet(hr_channels=variant["hr_channels"], backbone_pretrained=False)
    net.load_state_dict(state, strict=True)
    return net.eval()


def save_released(state: dict[str, torch.Tensor], path: str | Path, **variant: Any) -> None:
    """``state`` as the released ``.ckpt`` files hold it: the plain state dict of
    ``nn.DataParallel(MODNet(...))`` (every key ``module.``-prefixed, the backbone under
    ``module.backbone.*`` and ``module.lr_branch.backbone.*``, the training-only heads included)."""
    torch.save(nn.DataParallel(official_network(state, **variant)).state_dict(), path)


def official_predict(net: nn.Module, rgb: np.ndarray, trimap: np.ndarray | None = None,
                     setting: str = "colab") -> np.ndarray:
    """The uint8 H x W matte the official script of ``setting`` (``SCRIPTS``) writes for the
    H x W x 3 uint8 RGB photo ``rgb``, computed by ``net`` (an ``official_network``)."""
    if setting not in SCRIPTS:
        raise ValueError(f"setting must be one of {', '.join(SCRIPTS)}, got {setting!r}")
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"rgb must be H x W x 3 uint8, got {rgb.shape} {rgb.dtype}")
    import cv2
    from PIL import Image

    modnet = REPO.module("src.models.modnet")
    released = {f"module.{k}": v for k, v in net.state_dict().items()}
    saved: list[np.ndarray] = []

    def keep_pil(image: Any, *args: Any, **kwargs: Any) -> None:
        saved.append(np.array(image))

    def keep_cv2(path: str, array: np.ndarray, *args: Any) -> bool:
        saved.append(np.array(array))
        return True

    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "photo.ppm"
        Image.fromarray(rgb).save(photo)
        if setting == "colab":
            argv = ["--input-path", tmp, "--output-path", tmp, "--ckpt-path", str(photo)]
        else:
            argv = ["--image-path", str(photo), "--output-path", str(Path(tmp) / "photo.png"), "--model-path", str(photo)]
        _SESSION["net"] = net
        try:
            with (REPO.scope(),       # the script's imports resolve to the checkout
                  patched(sys, argv=[SCRIPTS[setting], *argv]), patched(modnet, MODNet=lambda *a, **k: net),
                  patched(torch, load=lambda *a, **k: released), patched(Image.Image, save=keep_pil),
                  patched(cv2, imwrite=keep_cv2), contextlib.redirect_stdout(io.StringIO())):
                runpy.run_path(str(REPO.root() / SCRIPTS[setting]), run_name="__main__")
        finally:
            _SESSION.clear()
    if len(saved) != 1:
        raise RuntimeError(f"the official {SCRIPTS[setting]} saved {len(saved)} mattes, expected 1")
    matte = saved[0]
    if matte.dtype != np.uint8 or matte.shape != rgb.shape[:2]:
        raise RuntimeError(f"the official script saved a {matte.dtype} {matte.shape} matte for a {rgb.shape} photo")
    return matte
