"""Deterministic random MatteFormer weights that make a fair parity probe.

Seeded weights alone (``fill_deterministic``) leave the spectral-norm vectors random (the divisor
``u . W v`` can be tiny or negative), the BatchNorm statistics unrelated to the activations, and
the alpha heads either stuck at 0.5 or saturated. Conditioned here:

* spectral norm: power iterations until ``u``, ``v`` are the leading singular vectors (as a long
  training leaves them), so every wrapped weight has spectral norm 1;
* BatchNorm running statistics re-estimated on photo-like images with trimaps;
* the last convolution of each alpha head rescaled so that its logits have (median per image) mean 0
  and standard deviation 2 on such images: the OS8 alpha then has both certain (< 1/255,
  > 254/255) and uncertain regions, so the refinement bands really switch between heads, and the
  final alpha spans (0, 1).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from matbench.api import fill_deterministic, recalibrate_batchnorm

from .network import MatteFormer
from .spectral_norm import SpectralNorm

#: model-input sizes of the calibration images (sides multiples of 32): BatchNorm statistics from
#: the first four, the heads' logit statistics from all six
CALIBRATION_SIZES = ((192, 256), (256, 192), (224, 224), (160, 288), (192, 320), (288, 160))
POWER_ITERATIONS = 50
LOGIT_STD = 2.0


def photo_and_trimap(h: int, w: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A photo-like uint8 RGB image and the trimap (0 / 128 / 255) of its object: a wobbly blob
    with a soft edge, foreground and background each textured at several scales (smooth colour
    fields, blotches, fine grain), so activations vary as they do on photographs."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    cy, cx = rng.uniform(0.35, 0.65, 2) * (h / max(h, w), w / max(h, w))
    angle = np.arctan2(yy - cy, xx - cx)
    radius = 0.25 + 0.05 * np.sin(3 * angle + rng.uniform(0, 6)) + 0.03 * np.sin(7 * angle)
    signed = (radius - np.hypot(yy - cy, xx - cx)) * max(h, w)
    alpha = np.clip(signed / 6 + 0.5, 0, 1)[..., None]

    def texture() -> np.ndarray:
        layers = np.zeros((h, w, 3), np.float32)
        for cells, amplitude in ((3, 90.0), (12, 50.0), (48, 25.0)):
            coarse = torch.from_numpy(rng.normal(0, amplitude, (3, cells, cells)).astype(np.float32))[None]
            layers += np.asarray(F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True)[0].permute(1, 2, 0))
        return layers + rng.uniform(60, 200, 3).astype(np.float32)

    photo = alpha * texture() + (1 - alpha) * texture() + rng.normal(0, 8, (h, w, 3))
    trimap = np.full((h, w), 128, np.uint8)
    trimap[signed > 12], trimap[signed < -12] = 255, 0
    return np.clip(np.round(photo), 0, 255).astype(np.uint8), trimap


def calibration_batches(network: MatteFormer, seed: int, count: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Normalised (image, trimap) pairs for the network's forward, one for each of the first
    ``count`` calibration sizes."""
    batches = []
    for i, (h, w) in enumerate(CALIBRATION_SIZES[:count]):
        photo, trimap = photo_and_trimap(h, w, seed=1000 * seed + i)
        x = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255
        t = torch.from_numpy(trimap)[None, None].float() / 255
        batches.append((network.normalize(x), t))
    return batches


@torch.no_grad()
def condition(network: MatteFormer, seed: int = 0) -> MatteFormer:
    """Condition a seeded MatteFormer in place (see the module docstring); returns it in eval mode."""
    for module in network.modules():
        if isinstance(module, SpectralNorm):
            for _ in range(POWER_ITERATIONS):
                module.power_iteration()
    recalibrate_batchnorm(network, calibration_batches(network, seed, 4))
    heads = (network.decoder.refine_OS1, network.decoder.refine_OS4, network.decoder.refine_OS8)
    logits: dict[int, list[torch.Tensor]] = {i: [] for i in range(len(heads))}
    hooks = [head[3].register_forward_hook(lambda m, args, out, i=i: logits[i].append(out.double()))
             for i, head in enumerate(heads)]
    try:
        for x, t in calibration_batches(network, seed + 1, len(CALIBRATION_SIZES)):
            network(x, t)
    finally:
        for hook in hooks:
            hook.remove()
    for i, head in enumerate(heads):
        # per-image statistics, their medians: random weights make some images far off the rest
        mean = torch.stack([o.mean() for o in logits[i]]).quantile(0.5)
        gain = LOGIT_STD / torch.stack([o.std() for o in logits[i]]).quantile(0.5)
        head[3].weight.mul_(float(gain))
        head[3].bias.copy_((gain * (head[3].bias.double() - mean)).float())
    return network.eval()


def conditioned_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """The conditioned weights of MatteFormer (its only variant) for ``seed``: a state dict with
    the keys of the released checkpoint (without its ``module.`` prefix)."""
    network = fill_deterministic(MatteFormer(), seed=seed)
    return {k: v.clone() for k, v in condition(network, seed).state_dict().items()}
