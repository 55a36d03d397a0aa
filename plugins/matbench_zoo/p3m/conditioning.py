"""Seeded random P3M-Net weights that make a fair parity probe (no trained weights are shipped).

``fill_deterministic`` alone gives a network whose activations drift in scale, whose ReLUs output
exact zeros that tie in the encoder's max-pool windows (the unpooling positions of the matting
decoder would then hang on 1e-7 differences), and whose alpha sits near one value. So:

* the encoder's BatchNorm biases are raised by 3, so its ReLUs (almost) never output exact zeros;
* every BatchNorm's running statistics are re-estimated on photo-like portraits;
* the two heads are rescaled on other photo-like portraits: the three semantic logits get mean
  ``GLOBAL_MEANS`` and standard deviation 2 (all three classes occur, "transition" the most
  often), the local logit mean 0 and standard deviation 2, so the fused alpha spans (0, 1).

Everything is closed-form or seeded, and the passes run on one thread: the matting decoder's
max-unpooling keeps, where overlapping pooling windows share their maximum, whichever value it
writes last, which with several threads changes from run to run (measured: the local head's
statistics, hence its weights, differed between two runs in one process). So the same seed gives
the same weights on any machine up to float rounding of the statistics.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from matbench.api import fill_deterministic, recalibrate_batchnorm

from .network import P3MNet

#: model-input sizes of the passes that estimate the statistics (a 1/2 pass of a small photo)
CALIBRATION_SIZES = ((128, 160), (160, 128), (192, 160))
#: target means of the three semantic logits (background, transition, foreground)
GLOBAL_MEANS = (0.0, 1.0, 0.0)
LOGIT_STD = 2.0


def portrait(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A photo-like uint8 RGB image: a smooth coloured background, a soft-edged head-and-shoulders
    silhouette of another colour, stripes and mild noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    y, x = yy / h, xx / w
    phase = rng.uniform(0, 2 * np.pi, 3)
    background = np.stack([0.5 + 0.35 * np.sin(3 * x + 2 * y + phase[0]),
                           0.5 + 0.3 * np.cos(4 * y - x + phase[1]),
                           0.45 + 0.3 * np.sin(5 * x * y + phase[2])], -1)
    cx = rng.uniform(0.4, 0.6)
    head = 1 - np.hypot((x - cx) / 0.17, (y - 0.38) / 0.22)
    body = np.minimum(y - 0.62, 0.45 - np.abs(x - cx) - 0.3 * (0.8 - y).clip(0))
    person = np.clip(np.maximum(head * 12, body * 40) + 0.5, 0, 1)[..., None]
    skin = rng.uniform(0.2, 0.9, 3) * (1 + 0.15 * np.sin(40 * y + 9 * x))[..., None]
    img = background * (1 - person) + skin * person + rng.normal(0, 0.03, (h, w, 3))
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)


def _batches(sizes: tuple[tuple[int, int], ...], seed: int, batch: int) -> list[torch.Tensor]:
    """Normalised network inputs, one batch of portraits per size."""
    out = []
    for i, (h, w) in enumerate(sizes):
        images = np.stack([portrait(h, w, seed=1000 * seed + batch * i + j) for j in range(batch)])
        out.append(P3MNet.normalize(torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255))
    return out


@torch.no_grad()
def _rescale_head(conv: nn.Conv2d, logits: torch.Tensor, means: tuple[float, ...]) -> None:
    """Scale and shift ``conv`` so that its output channels get ``means`` and std LOGIT_STD on
    ``logits`` (channels x pixels, what ``conv`` gave)."""
    values = logits.double()
    gain = LOGIT_STD / values.std(dim=1)
    target = torch.tensor(means, dtype=torch.float64)
    conv.weight.mul_(gain.float().view(-1, 1, 1, 1))
    conv.bias.copy_((gain * (conv.bias.double() - values.mean(dim=1)) + target).float())


@torch.no_grad()
def conditioned_network(seed: int = 0) -> P3MNet:
    """The conditioned P3M-Net (eval mode); see the module's docstring."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _condition(seed)
    finally:
        torch.set_num_threads(threads)


def _condition(seed: int) -> P3MNet:
    net = fill_deterministic(P3MNet(), seed=seed)
    for m in net.resnet.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.bias.add_(3.0)
    recalibrate_batchnorm(net, [(x,) for x in _batches(CALIBRATION_SIZES, seed, batch=2)])
    heads = {"global": net.decoder0_g[-2], "local": net.decoder_final_l}
    seen: dict[str, list[torch.Tensor]] = {name: [] for name in heads}
    hooks = [conv.register_forward_hook(lambda m, args, out, name=name: seen[name].append(out.transpose(0, 1).flatten(1)))
             for name, conv in heads.items()]
    try:
        for x in _batches(CALIBRATION_SIZES, seed + 1, batch=1):
            net(x)
    finally:
        for hook in hooks:
            hook.remove()
    _rescale_head(heads["global"], torch.cat(seen["global"], 1), GLOBAL_MEANS)
    _rescale_head(heads["local"], torch.cat(seen["local"], 1), (0.0,))
    return net.eval()


def conditioned_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """The conditioned weights as P3M-Net's state dict (the official 713 keys; the encoder's
    tensors shared by their two names, as in the released file)."""
    return conditioned_network(seed).state_dict()
