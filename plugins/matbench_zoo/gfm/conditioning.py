"""Deterministic random GFM weights conditioned for parity checks against the official code.

Seeded weights alone prove little: GFM takes 0..255 inputs without normalisation, so the first
layers' activations are hundreds of times too large, every BatchNorm then passes garbage on and
the sigmoid heads saturate (the alpha sits at 0 or 1). Here the BatchNorm statistics are
re-estimated on photo-like inputs of the sizes the official passes have on photos of a few
hundred pixels, and each head's last convolution is rescaled so that on those inputs its logits
have mean 0 and standard deviation 2 per channel (the transition class's mean raised by 1):
every glance class occurs, in blobs, and the focus alpha spans (0, 1). The RIM mixing output (not squashed by the network) is scaled to mean 0.5 and standard
deviation 0.12, so it stays inside [0, 1] almost everywhere.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from matbench.api import fill_deterministic, recalibrate_batchnorm

from .network import GFM

#: model-input sizes (multiples of 32) of the calibration images, those of the official passes
#: on photos of 500-800 pixels: BatchNorm statistics of random weights measured on much smaller
#: inputs (where zero padding dominates the deep layers) do not carry over to real photos
CALIBRATION_SIZES = ((160, 256), (256, 160))
#: the logit means the heads are standardised to: glance classes (TT: bg, transition, fg; FT /
#: BT: two classes) and focus; the transition class is favoured so that the fused alpha takes
#: the focus alpha over a good part of a photo while exact 0 / 1 areas remain
GLANCE_MEANS = {3: (0.0, 1.0, 0.0), 2: (0.0, 0.0)}


def photo_like(h: int, w: int, seed: int) -> torch.Tensor:
    """A 3 x h x w float32 image in 0..255: smooth colour fields at three scales, sharp-edged
    discs, pixel noise, then a random contrast and brightness (dark to bright), as photographs
    vary."""
    gen = torch.Generator().manual_seed(seed)

    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=gen, dtype=torch.float64)

    image = torch.zeros(3, h, w, dtype=torch.float64)
    for cells, weight in ((3, 1.0), (10, 0.6), (40, 0.35)):
        image += weight * F.interpolate(uniform(1, 3, cells, cells), size=(h, w), mode="bicubic",
                                        align_corners=False)[0]
    image = image / 1.95
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    for _ in range(5):
        cy, cx, radius = uniform(3) * torch.tensor([h, w, min(h, w) / 3])
        inside = (yy - cy) ** 2 + (xx - cx) ** 2 < radius ** 2
        image = torch.where(inside, uniform(3, 1, 1).expand_as(image), image)
    image = image + 0.04 * torch.randn(3, h, w, generator=gen, dtype=torch.float64)
    contrast, level = 0.5 + 0.8 * uniform(1), 0.15 + 0.65 * uniform(1)
    image = (image - image.mean()) * contrast + level
    return (image * 255).clamp(0, 255).round().float()


def calibration_images(seed: int) -> list[torch.Tensor]:
    """One photo-like 1 x 3 x h x w image per calibration size."""
    return [photo_like(h, w, seed * 1000 + i)[None] for i, (h, w) in enumerate(CALIBRATION_SIZES)]


def head_convs(net: GFM) -> list[nn.Conv2d]:
    """The last convolution of every glance and focus head (their logits)."""
    suffixes = ("_tt", "_ft", "_bt") if net.rosta == "RIM" else ("",)
    heads = [getattr(net, f"decoder0_{branch}{suffix}") for suffix in suffixes for branch in ("g", "f")]
    return [head[0] if net.backbone == "r34_2b" else head[6] for head in heads]


@torch.no_grad()
def _standardise(net: GFM, convs: list[nn.Conv2d], batches: list[torch.Tensor], means: list[tuple[float, ...]],
                 std: float) -> None:
    """Rescale each conv's output channels to the conv's ``means`` and to ``std`` over ``batches``."""
    seen: dict[nn.Module, list[torch.Tensor]] = {conv: [] for conv in convs}
    hooks = [conv.register_forward_hook(lambda m, args, out: seen[m].append(out.double())) for conv in convs]
    try:
        for x in batches:
            net(x)
    finally:
        for hook in hooks:
            hook.remove()
    for conv, mean in zip(convs, means):
        values = torch.cat([o.transpose(0, 1).flatten(1) for o in seen[conv]], dim=1)
        gain = std / values.std(dim=1)
        conv.weight.mul_(gain.float().view(-1, 1, 1, 1))
        conv.bias.copy_((gain * (conv.bias.double() - values.mean(dim=1)) + torch.tensor(mean)).float())


@torch.no_grad()
def conditioned_state(backbone: str = "r34_2b", rosta: str = "TT", seed: int = 0) -> dict[str, torch.Tensor]:
    """The conditioned weights of one GFM variant, as a state dict (tied keys share tensors):
    seeded (``fill_deterministic``), BatchNorm statistics re-estimated on calibration images,
    then the heads standardised (eval mode) on other images: random weights amplify whatever
    differs from the images their statistics came from, and the heads must be scaled for that."""
    net = fill_deterministic(GFM(backbone, rosta), seed)
    recalibrate_batchnorm(net, [(x,) for x in calibration_images(seed)])
    held_out = calibration_images(seed) + calibration_images(seed + 1)
    convs = head_convs(net)
    means = [GLANCE_MEANS[conv.out_channels] if conv.out_channels > 1 else (0.0,) for conv in convs]
    _standardise(net, convs, held_out, means, std=2.0)
    if rosta == "RIM":
        _standardise(net, [net.rim[2]], held_out, [(0.5,)], std=0.12)
    return net.state_dict()
