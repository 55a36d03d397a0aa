"""The official AimNet (core/network/AimNet.py) and its inference (core/test.py ``inference_img``)."""
from __future__ import annotations

import os
import warnings
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from .loader import module
from .patches import patched
from .resize import sk014_resize

#: model-input sizes of the calibration passes (those of photos of a few hundred pixels at 1/4, 1/2)
CALIBRATION_SIZES = ((128, 160), (160, 128), (256, 320))


def build_aimnet(seed: int = 0, condition: bool = False) -> nn.Module:
    """The official AimNet in eval mode, its weights initialised after ``torch.manual_seed(seed)``.

    Its encoder is built without the ImageNet checkpoint that ``resnet34_mp()`` loads from a
    path relative to the working directory. ``condition=True`` then prepares the random network
    for parity checks (see ``condition_for_parity``)."""
    aimnet, resnet = module("network.AimNet"), module("network.resnet_mp")
    random_encoder = lambda: resnet.ResNet(resnet.BasicBlock, [3, 4, 6, 3])  # noqa: E731
    torch.manual_seed(seed)
    with patched(aimnet, resnet34_mp=random_encoder), warnings.catch_warnings():
        warnings.simplefilter("ignore")     # the official forward's F.upsample deprecation
        model = aimnet.AimNet()
        return condition_for_parity(model, seed) if condition else model.eval()


def _inputs(sizes: tuple[tuple[int, int], ...], seed: int, batch: int) -> list[torch.Tensor]:
    """Normalised photo-like batches, one per size."""
    from matbench_aim.models import AimNet
    from matbench_aim.testing import scene

    out = []
    for i, (h, w) in enumerate(sizes):
        images = [scene(h, w, seed=1000 * seed + batch * i + j) for j in range(batch)]
        x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255
        out.append(AimNet.normalize(x))
    return out


@torch.no_grad()
def condition_for_parity(model: nn.Module, seed: int = 0) -> nn.Module:
    """Make a randomly initialised AimNet a fair probe of two inference paths (eval mode).

    * Encoder BatchNorm biases +3: ReLUs then (almost) never output exact zeros, whose ties in
      the max-pool windows would let 1e-7 input differences move the max-unpooling indices of
      the local decoder, and with them whole pixels of the alpha.
    * Running statistics of every BatchNorm re-estimated (cumulative average) on photo-like
      inputs, so that eval-mode activations stay of order one.
    * Output convolutions rescaled so that on those inputs each logit channel has mean 0 and
      std 2: the local alpha spans (0, 1) instead of sitting at 0.5, and the three classes of
      the global decision all occur."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in model.resnet.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.bias.fill_(3.0)
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    for x in _inputs(CALIBRATION_SIZES, seed, batch=2):
        model(x)
    for m in norms:
        m.momentum = 0.1
    model.eval()
    heads = (model.decoder_final_g, model.decoder_final_l)
    logits: dict[nn.Module, list[torch.Tensor]] = {head: [] for head in heads}
    hooks = [head.register_forward_hook(lambda m, args, out: logits[m].append(out.double())) for head in heads]
    try:
        for x in _inputs(CALIBRATION_SIZES, seed + 1, batch=1):
            model(x)
    finally:
        for hook in hooks:
            hook.remove()
    for head in heads:
        values = torch.cat([o.transpose(0, 1).flatten(1) for o in logits[head]], dim=1)   # channels x pixels
        mean, gain = values.mean(dim=1), 2.0 / values.std(dim=1)
        head.weight.mul_(gain.float().view(-1, 1, 1, 1))
        head.bias.copy_((gain * (head.bias.double() - mean)).float())
    return model


def save_checkpoint(model: nn.Module, path: str | os.PathLike) -> None:
    """The weights in the official checkpoint format (``{'state_dict': ...}``, as test.py loads)."""
    torch.save({"state_dict": model.state_dict()}, path)


def predict(model: nn.Module, image: np.ndarray, choice: str) -> np.ndarray:
    """core/test.py ``inference_img``: ``choice`` 'RESIZE' or 'HYBRID', resizing as scikit-image
    0.14.5 did, on the device of ``model`` (test.py's ``args.cuda`` when it is on CUDA).
    ``image``: H x W x 3 uint8 RGB; returns the float64 H x W alpha."""
    if choice not in ("RESIZE", "HYBRID"):
        raise ValueError(f"choice must be 'RESIZE' or 'HYBRID', got {choice!r}")
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be H x W x 3 uint8 RGB, got {image.shape} {image.dtype}")
    test = module("test")
    args = SimpleNamespace(cuda=next(model.parameters()).is_cuda, test_choice=choice)
    with patched(test, resize=sk014_resize), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(test.inference_img(args, model.eval(), image), dtype=np.float64)
