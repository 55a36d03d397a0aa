"""Deterministic random IndexNet weights that behave like a trained network's on photos, for
parity checks against the official code without the released file.

Seeded weights (``fill_deterministic``) alone give activations whose scale drifts layer by layer
and an output near 0 that the test procedure clips flat. So the BatchNorm statistics are
re-estimated on photo-like composites with their trimaps (the ASPP dropout held off meanwhile, so
the estimate does not depend on the global random state), and the head is set so the alpha
spans (0, 1): its BatchNorm maps the last feature to 0.5 +- 0.3 (mostly inside ReLU6's linear
range) and its final 5 x 5 convolution becomes a positive kernel of sum 1 (a local average).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from matbench.api import fill_deterministic, recalibrate_batchnorm

from .network import IndexNet
from .strategy import STRIDE

#: calibration batches: (batch size, height, width), sides multiples of the stride
CALIBRATION = ((2, 128, 192), (2, 192, 128), (2, 160, 160))
#: the head's pre-activation after re-estimation: N(0, 1) * SPREAD + CENTRE
CENTRE, SPREAD = 0.5, 0.3


def _smooth(gen: torch.Generator, channels: int, h: int, w: int, cells: int) -> torch.Tensor:
    """A 1 x channels x h x w field in about [0, 1]: uniform noise on a coarse grid of ``cells``
    along the shorter side, bicubically enlarged."""
    gh, gw = (cells, max(2, round(cells * w / h))) if h <= w else (max(2, round(cells * h / w)), cells)
    coarse = torch.rand((1, channels, gh, gw), generator=gen, dtype=torch.float64)
    return F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False)


def photo_like(seed: int, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """A deterministic photo-like composite and its trimap: uint8 H x W x 3 RGB (a textured
    foreground blob with a soft, detailed edge over a smooth textured background) and uint8
    H x W trimap (0 / 128 / 255, unknown where the alpha is strictly between 0.02 and 0.98)."""
    gen = torch.Generator().manual_seed(seed)
    background = 0.8 * _smooth(gen, 3, h, w, 3) + 0.2 * _smooth(gen, 3, h, w, 24)
    foreground = 0.7 * _smooth(gen, 3, h, w, 2) + 0.3 * _smooth(gen, 3, h, w, 16)
    shape = _smooth(gen, 1, h, w, 3) + 0.15 * _smooth(gen, 1, h, w, 40)
    alpha = ((shape - shape.median()) * 6 + 0.5).clamp(0, 1)
    image = (alpha * foreground + (1 - alpha) * background).clamp(0, 1)
    rgb = torch.round(image[0].permute(1, 2, 0) * 255).to(torch.uint8).numpy()
    a = alpha[0, 0]
    trimap = torch.full(a.shape, 128, dtype=torch.uint8)
    trimap[a <= 0.02], trimap[a >= 0.98] = 0, 255
    return rgb, trimap.numpy()


def network_inputs(network: IndexNet, rgb: np.ndarray, trimap: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """``forward``'s two inputs for a photo whose sides are multiples of the stride, as the
    ``indexnet-test`` strategy prepares them (no resizing needed)."""
    to_unit = torch.tensor(1 / 255, dtype=torch.float32)
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() * to_unit
    t = torch.from_numpy(trimap)[None, None].float() * to_unit
    return network.normalize(x), t


def _batches(network: IndexNet, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    batches = []
    for i, (n, h, w) in enumerate(CALIBRATION):
        assert h % STRIDE == 0 and w % STRIDE == 0
        pairs = [network_inputs(network, *photo_like(1000 * seed + 10 * i + j, h, w)) for j in range(n)]
        batches.append((torch.cat([p[0] for p in pairs]), torch.cat([p[1] for p in pairs])))
    return batches


@torch.no_grad()
def conditioned_network(seed: int = 0) -> IndexNet:
    """A seeded IndexNet with re-estimated BatchNorm statistics and a conditioned head (eval mode)."""
    network = fill_deterministic(IndexNet(), seed=seed)
    dropout = network.dconv_pp.dropout
    dropout.p, p = 0.0, dropout.p
    try:
        recalibrate_batchnorm(network, _batches(network, seed))
    finally:
        dropout.p = p
    head_bn, last = network.pred[0][1], network.pred[1]
    head_bn.weight.fill_(SPREAD)
    head_bn.bias.fill_(CENTRE)
    kernel = last.weight.abs()
    last.weight.copy_(kernel / kernel.sum())
    return network.eval()


def conditioned_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """The state dict of :func:`conditioned_network` (IndexNet has no model options)."""
    return conditioned_network(seed).state_dict()
