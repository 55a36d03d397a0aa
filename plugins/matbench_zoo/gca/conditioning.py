"""Seeded GCA weights conditioned to behave like a trained network's on photos, for parity tests
against the official code (a random network whose alpha sits at 0.5 or saturates proves nothing).

From :func:`matbench.api.fill_deterministic` (which already replaces the official
initialisation's zeros: the trimap channels of the first conv, the last BN of every residual
branch, the attention blocks' 1e-3 output BN):

1. spectral norm: ``weight_u`` / ``weight_v`` moved by 1024 power iterations to the top
   singular vectors of their ``weight_bar``, as training converges them; seeded random vectors
   would make sigma a random projection — small or negative — and the layers explode or flip;
2. every BatchNorm's running statistics re-estimated on photo-like images with trimaps (the
   spectral-norm vectors left alone meanwhile), so each normalised layer has zero mean and unit
   variance again;
3. the last conv rescaled so that its logits over the unknown pixels of those images have mean
   0 and standard deviation 2: ``(tanh + 1) / 2`` then spans (0, 1).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from matbench.api import fill_deterministic, recalibrate_batchnorm

from .network import GCA
from .spectral_norm import SpectralNorm, power_iteration, unit

#: (height, width) of the calibration images, batch of two each
CALIBRATION_SIZES = ((160, 224), (224, 160), (192, 192))
#: 2 ** 10 power iterations of the spectral-norm vectors
SQUARINGS = 10
LOGIT_STD = 2.0
#: texture of the calibration scenes: contrast of each colour field, weight ratio of successive octaves
CONTRAST = 0.2
OCTAVE_DECAY = 0.6


def calibration_scene(h: int, w: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A photo-like RGB image in [0, 1] (1 x 3 x H x W, 8-bit values / 255) and its trimap
    (1 x 1 x H x W: 0, 128/255, 1): an object over a background, both textured at every scale,
    less so the finer the scale (as photos are), its alpha soft and frayed at the edge; the
    unknown band is where the alpha lies strictly between 0 and 1."""
    gen = torch.Generator().manual_seed(seed)

    def field(channels: int, coarsest: int = 2, decay: float = OCTAVE_DECAY) -> torch.Tensor:
        total, cells, weight = torch.zeros((1, channels, h, w), dtype=torch.float64), coarsest, 1.0
        while cells <= max(h, w) // 2:
            coarse = torch.rand((1, channels, cells, cells), generator=gen, dtype=torch.float64) - 0.5
            total += weight * F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
            cells, weight = cells * 2, weight * decay
        return total / total.std()

    alpha = (field(1, coarsest=3) * 2 + 0.25 * field(1, coarsest=16, decay=1.0)).clamp(-0.5, 0.5) + 0.5
    brightness = 0.15 + 0.5 * torch.rand((1, 2, 1, 1), generator=gen, dtype=torch.float64)
    foreground = (brightness[:, :1] + CONTRAST * field(3)).clamp(0, 1)
    background = (brightness[:, 1:] + CONTRAST * field(3)).clamp(0, 1)
    image = alpha * foreground + (1 - alpha) * background
    image = torch.round(image.clamp(0, 1) * 255) / 255
    trimap = torch.full_like(alpha, 128 / 255)
    trimap[alpha <= 0] = 0.0
    trimap[alpha >= 1] = 1.0
    return image, trimap


def calibration_batches(seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Normalised images and trimaps, two per size, as ``GCA.forward`` takes them."""
    batches = []
    for i, (h, w) in enumerate(CALIBRATION_SIZES):
        pairs = [calibration_scene(h, w, 1000 * seed + 2 * i + j) for j in range(2)]
        image = torch.cat([p[0] for p in pairs]).float()
        trimap = torch.cat([p[1] for p in pairs]).float()
        batches.append((GCA.normalize(image), trimap))
    return batches


class _FixedSpectralNorm(nn.Module):
    """Runs ``network`` with its spectral-norm layers in eval mode (no power iteration) while
    everything else, BatchNorm included, is in training mode."""

    def __init__(self, network: GCA) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor, trimap: torch.Tensor) -> torch.Tensor:
        for m in self.network.modules():
            if isinstance(m, SpectralNorm):
                m.module.eval()
        return self.network(x, trimap)


@torch.no_grad()
def converge_spectral_norms(network: nn.Module, squarings: int = SQUARINGS) -> None:
    """Every ``weight_u`` / ``weight_v`` moved ``2 ** squarings`` power iterations on.

    One official iteration (v from u, then u from v) multiplies u by the Gram matrix ``W W^T``
    (rows x rows); ``2 ** k`` of them are one product with its ``2 ** k``-th power, reached by
    ``k`` squarings (each rescaled to trace 1; float32 is precise enough for them)."""
    for m in network.modules():
        if isinstance(m, SpectralNorm):
            conv = m.module
            matrix = conv.weight_bar.detach().view(conv.weight_bar.shape[0], -1)
            power = matrix @ matrix.t()
            for _ in range(squarings):
                power = power / power.trace()
                power = power @ power
            u = unit(power.double().mv(conv.weight_u.double()))
            u, v = power_iteration(matrix.double(), u, conv.weight_v.double(), 1)
            conv.weight_u.copy_(u.float())
            conv.weight_v.copy_(v.float())


@torch.no_grad()
def scale_output(network: GCA, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
    """Rescale ``decoder.conv2`` so its logits on unknown pixels have mean 0 and std ``LOGIT_STD``."""
    head = network.decoder.conv2
    logits: list[torch.Tensor] = []
    hook = head.register_forward_hook(lambda m, args, out: logits.append(out.double()))
    try:
        for x, trimap in batches:
            network(x, trimap)
    finally:
        hook.remove()
    unknown = torch.cat([((t > 0) & (t < 1)).flatten() for _, t in batches])
    values = torch.cat([o.flatten() for o in logits])[unknown]
    gain = LOGIT_STD / values.std()
    head.weight.mul_(float(gain))
    head.bias.copy_((gain * (head.bias.double() - values.mean())).float())


def conditioned_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """The conditioned weights of the released architecture (see the module docstring), as the
    network's state dict (the official key names, without the ``module.`` prefix)."""
    network = fill_deterministic(GCA(), seed=seed)
    converge_spectral_norms(network)
    recalibrate_batchnorm(_FixedSpectralNorm(network), calibration_batches(seed))
    network.eval()
    scale_output(network, calibration_batches(seed + 1))
    return {k: v.detach().clone() for k, v in network.state_dict().items()}
