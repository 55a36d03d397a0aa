"""Seeded random MODNet weights conditioned for parity tests: the same on every machine (up to the
float rounding of the BatchNorm re-estimation), with an alpha that spans (0, 1) on photographs.

A seeded fill alone gives eval-mode activations whose scale drifts through 50 normalised layers,
and an alpha stuck near one value. So: every BatchNorm's running statistics are re-estimated on
photo-like images at the sizes the official procedure feeds the network, then the alpha head is
rescaled so that its logits have mean 0 and standard deviation ``LOGIT_STD`` on other such
images. The InstanceNorm halves of the IBNorm layers need nothing: they have no statistics.
"""
from __future__ import annotations

import numpy as np
import torch

from matbench.api import fill_deterministic, recalibrate_batchnorm

from .network import MODNet

#: network-input sizes (H, W) of the calibration batches: the proportions of the photos the
#: reference-size rule gives, at a quarter of its scale (float64 convolutions are slow)
CALIBRATION_SIZES = ((128, 128), (128, 160), (160, 128))
#: the alpha head's logit spread: sigmoid(N(0, 2.5)) puts about 3/4 of the pixels in (0.05, 0.95)
LOGIT_STD = 2.5


def photo_like(h: int, w: int, seed: int) -> np.ndarray:
    """A uint8 H x W x 3 image with photo statistics: a smooth coloured background, a soft-edged
    head-and-shoulders silhouette of another colour, fine texture and noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    background = np.stack([0.5 + 0.3 * np.sin(2 * np.pi * (f[0] * xx + f[1] * yy) + f[2])
                           for f in rng.uniform(0.3, 1.6, (3, 3))], -1)
    cy, cx = rng.uniform(0.35, 0.5) * h / max(h, w), rng.uniform(0.35, 0.65) * w / max(h, w)
    head = np.hypot((yy - cy) / 0.16, (xx - cx) / 0.12)
    body = np.where(yy > cy + 0.2, np.abs(xx - cx) / (0.22 + 0.5 * (yy - cy - 0.2)), np.inf)
    inside = np.clip((1 - np.minimum(head, body)) * 12, 0, 1)[..., None]
    person = rng.uniform(0.1, 0.9, 3) + 0.1 * np.sin(xx * rng.uniform(40, 90))[..., None]
    image = background * (1 - inside) + person * inside + rng.normal(0, 0.04, (h, w, 3))
    return np.clip(np.round(image * 255), 0, 255).astype(np.uint8)


def _batch(sizes: tuple[tuple[int, int], ...], seed: int, per_size: int) -> list[tuple[torch.Tensor]]:
    """Normalised photo-like batches, one per size, as forward-argument tuples."""
    out = []
    for i, (h, w) in enumerate(sizes):
        images = np.stack([photo_like(h, w, seed + per_size * i + j) for j in range(per_size)])
        x = torch.from_numpy(images).permute(0, 3, 1, 2).double() / 255
        out.append((MODNet.normalize(x).contiguous(),))
    return out


@torch.no_grad()
def conditioned_state(hr_channels: int = 32, seed: int = 0) -> dict[str, torch.Tensor]:
    """The state dict (both copies of the tied backbone keys included) of a seeded MODNet made
    a fair probe of an inference path; see the module docstring."""
    # in float64: float32 statistics would depend on the number of threads (the order of the
    # sums) by far more than their rounding, through the train-mode BatchNorms that feed each other
    net = fill_deterministic(MODNet(hr_channels), seed).double()
    recalibrate_batchnorm(net, _batch(CALIBRATION_SIZES, 1000 * seed, per_size=2))
    head = net.f_branch.conv_f[1].layers[0]
    logits: list[torch.Tensor] = []
    hook = head.register_forward_hook(lambda module, args, out: logits.append(out.flatten()))
    try:
        for args in _batch(CALIBRATION_SIZES[:2], 1000 * seed + 500, per_size=1):
            net(*args)
    finally:
        hook.remove()
    values = torch.cat(logits)
    gain = LOGIT_STD / values.std()
    head.weight.mul_(gain)
    head.bias.sub_(values.mean()).mul_(gain)
    return net.float().state_dict()
