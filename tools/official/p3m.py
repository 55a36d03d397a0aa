"""The official P3M-Net code (github.com/JizhiziLi/P3M, ``core/``), run unchanged, for parity checks,
golden fixtures and ``tools/bench_zoo.py``. Not part of matbench.

Set ``P3M_REF=/path/to/P3M`` (a checkout holding ``core/network/P3mNet.py``). What the official
files import but inference does not need is stood in for while they are imported:
``torchvision`` (``transforms.Normalize`` for test.py, an empty ``models`` for P3mNet.py), ``tqdm``.
``resnet34_mp()`` would load the ImageNet backbone from a relative path: the network is built
with a random encoder instead and then given the weights. scikit-image 0.14.5 (the pinned
version) is replaced by ``resize.sk014_resize``, the same computation on today's libraries.

    REPO                                    the official repository ($P3M_REF)
    VARIANT                                 model options of the released network (there is one)
    weights()                               conditioned seeded weights (matbench_zoo.p3m.conditioning)
    official_network(state)                 the official P3mNet with those weights, eval mode
    official_predict(net, rgb, choice=..., samples=...)  the 8-bit PNG core/test.py writes
    save_released(state, path)              a checkpoint in the released file's format
"""
from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from types import ModuleType, SimpleNamespace

import numpy as np
import torch
from torch import nn

from .loader import OfficialRepo
from .patches import patched
from .resize import sk014_resize
from .stand_ins import missing_packages


def _stand_ins() -> dict[str, ModuleType]:
    """tqdm / torchvision stand-ins of the shared set, plus ``torchvision.models`` (P3mNet.py
    imports it and uses nothing of it)."""
    out = missing_packages()
    if "torchvision" in out:
        out["torchvision.models"] = out["torchvision"].models = ModuleType("torchvision.models")
    return out


REPO = OfficialRepo("P3M_REF", "github.com/JizhiziLi/P3M", "core", "network/P3mNet.py", _stand_ins)
#: P3M-Net has one architecture, hence no model options
VARIANT: dict = {}


def weights(**variant) -> dict[str, torch.Tensor]:
    """Conditioned seeded weights (the plugin's ``conditioned_state``)."""
    from matbench_zoo.p3m.conditioning import conditioned_state

    return conditioned_state(**variant)


def official_network(state: dict[str, torch.Tensor], **variant) -> nn.Module:
    """The official ``P3mNet()`` given ``state`` with ``load_state_dict(strict=True)`` as test.py
    does, in eval mode."""
    if variant:
        raise ValueError(f"P3M-Net has no variants, got {variant}")
    p3mnet, resnet = REPO.module("network.P3mNet"), REPO.module("network.resnet_mp")
    random_encoder = lambda: resnet.ResNet(resnet.BasicBlock, [3, 4, 6, 3])  # noqa: E731
    with patched(p3mnet, resnet34_mp=random_encoder), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = p3mnet.P3mNet()
    model.load_state_dict(state, strict=True)
    return model.eval()


def official_predict(net: nn.Module, rgb: np.ndarray, trimap: np.ndarray | None = None,
                     choice: str = "RESIZE", samples: bool = False, short_side: int = 1080) -> np.ndarray:
    """The 8-bit alpha the official ``core/test.py`` writes for the uint8 H x W x 3 RGB photo.

    ``choice``: its ``--test_choice`` (RESIZE, the paper's; or HYBRID). ``samples=False``: the
    P3M-500 loop of ``test_p3m10k`` (``inference_img`` then ``save_test_result``, run here
    one photo at a time); ``samples=True``: ``test_samples`` itself, on a folder holding only
    this photo (as a PNG), its ``SHORTER_PATH_LIMITATION`` (config.py: 1080) set to ``short_side``.
    Either way the PNG the official code wrote is read back."""
    if trimap is not None:
        raise ValueError("P3M-Net takes no trimap")
    if choice not in ("RESIZE", "HYBRID"):
        raise ValueError(f"choice must be 'RESIZE' or 'HYBRID', got {choice!r}")
    import cv2
    from PIL import Image

    test = REPO.module("test")
    args = SimpleNamespace(cuda=False, test_choice=choice)
    with tempfile.TemporaryDirectory() as tmp, patched(test, resize=sk014_resize), torch.no_grad(), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = Path(tmp) / "alpha"
        if samples:
            folders = {name: f"{tmp}/{name}/" for name in ("original", "alpha", "color")}
            os.makedirs(folders["original"])
            Image.fromarray(np.asarray(rgb, dtype=np.uint8)).save(f"{folders['original']}photo.png")
            with patched(test, SAMPLES_ORIGINAL_PATH=folders["original"], SAMPLES_RESULT_ALPHA_PATH=folders["alpha"],
                         SAMPLES_RESULT_COLOR_PATH=folders["color"], SHORTER_PATH_LIMITATION=short_side):
                test.test_samples(args, net)
            written = f"{folders['alpha']}photo.png"
        else:
            img = np.asarray(rgb, dtype=np.uint8)[:, :, :3]        # test_p3m10k: np.array(Image.open(...))[:, :, :3]
            predict = test.inference_img(args, net.eval(), img)
            written = f"{out}.png"
            test.save_test_result(written, predict)
        return cv2.imread(written, cv2.IMREAD_UNCHANGED)


def save_released(state: dict[str, torch.Tensor], path: str | os.PathLike, **variant) -> None:
    """``state`` as the released ``p3mnet_pretrained_on_p3m10k.pth`` holds it: ``{'state_dict':
    ...}`` of the unwrapped network (train.py ``save_last_checkpoint``), no ``module.`` prefix, all
    713 keys in the network's order, each encoder tensor under its two names sharing one storage."""
    from matbench_zoo.p3m import P3MNet

    net = P3MNet(**variant)
    net.load_state_dict(state, strict=True)
    torch.save({"state_dict": net.state_dict()}, path)
