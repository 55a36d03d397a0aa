"""Guided contextual attention (the ``GuidedCxtAtten`` block of the official ``networks/ops.py``).

Image features ("guidance", 1/8 of the input) decide how the alpha features of known regions
propagate into the unknown region. With ``rate`` 2, at 1/16 of the input:

* every 3x3 guidance patch (reflect-padded, after a 1x1 conv and a nearest 1/2 downsampling) is
  one candidate; its correlation with every location is the dot product of the L2-normalised
  patch (norm at least 1e-4) with the location's own 3x3 neighbourhood;
* correlations are scaled per candidate — ``clamp(sqrt(unknown share / known share), 0.1, 10)``
  for candidates touching the unknown region (any unknown pixel in their 3x3 neighbourhood), the
  inverse for the others — an unknown candidate gets -1e4 at its own location, and a softmax
  over the candidates gives each location its attention;
* each location's output is the attention-weighted sum of the candidates' 4x4 alpha-feature
  patches (stride 2, reflect padding 1), overlapped back to 1/8 and divided by 4 (a transposed
  convolution with the patches as its kernel); the result goes through a 1x1 conv and a
  BatchNorm and is added to the alpha features.

The official code builds the whole candidates x locations matrix at once, plus a one-hot
"self" matrix of the same size (int64), which grows with the fourth power of the image side
(4K: about 13 GB each). Here the same numbers are computed a band of locations at a time, as
matrix products (the correlation is ``normalised patches @ patches^T``; the transposed
convolution is a product with the unfolded alpha patches followed by ``fold``), and the self
term is added on the diagonal: memory grows with the square of the image side instead.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: elements of one band of the candidates x locations matrix (float32: 128 MiB)
BAND_ELEMENTS = 2 ** 25


def patch_rows(x: torch.Tensor, kernel: int, stride: int = 1) -> torch.Tensor:
    """The ``kernel`` x ``kernel`` patches of 1 x C x H x W ``x`` every ``stride`` pixels, reflect-padded
    as the official ``extract_patches`` pads (``(kernel - stride + 1) // 2`` before, ``(kernel - stride) // 2``
    after), one row per patch in raster order: L x (C * kernel * kernel)."""
    before, after = (kernel - stride + 1) // 2, (kernel - stride) // 2
    padded = F.pad(x, (before, after, before, after), mode="reflect")
    return F.unfold(padded, kernel, stride=stride)[0].t()


class GuidedContextualAttention(nn.Module):
    """Attention over 1/16-scale patches guided by image features (see the module docstring):
    ``forward(guidance, alpha, unknown)`` with guidance ``N x guidance_channels x H x W``, alpha
    features ``N x out_channels x H x W`` and the unknown mask (``N x 1 x H x W``, 0 or 1)."""

    def __init__(self, out_channels: int, guidance_channels: int, rate: int = 2) -> None:
        super().__init__()
        self.rate = rate
        self.guidance_conv = nn.Conv2d(guidance_channels, guidance_channels // 2, kernel_size=1)
        self.W = nn.Sequential(nn.Conv2d(out_channels, out_channels, kernel_size=1, bias=False),
                               nn.BatchNorm2d(out_channels))

    def forward(self, guidance: torch.Tensor, alpha: torch.Tensor, unknown: torch.Tensor) -> torch.Tensor:
        guidance = F.interpolate(self.guidance_conv(guidance), scale_factor=1 / self.rate, mode="nearest")
        unknown = F.interpolate(unknown, scale_factor=1 / self.rate, mode="nearest")
        unknown_share = unknown.mean(dim=[2, 3])
        known_share = 1 - unknown_share
        unknown_scale = torch.clamp(torch.sqrt(unknown_share / known_share), 0.1, 10).to(alpha)
        known_scale = torch.clamp(torch.sqrt(known_share / unknown_share), 0.1, 10).to(alpha)
        attended = torch.cat([self.attend(guidance[i:i + 1], alpha[i:i + 1], unknown[i:i + 1],
                                          unknown_scale[i, 0], known_scale[i, 0])
                              for i in range(alpha.shape[0])])
        return self.W(attended) + alpha

    def attend(self, guidance: torch.Tensor, alpha: torch.Tensor, unknown: torch.Tensor,
               unknown_scale: torch.Tensor, known_scale: torch.Tensor) -> torch.Tensor:
        """One sample: the alpha features rebuilt from the candidates' patches (1 x C x H x W)."""
        h, w = guidance.shape[2:]
        patches = patch_rows(guidance, 3)                                   # P x (C*9), P = h*w
        # the official norm: squares summed over channels, then rows, then columns of the patch
        squares = (patches.view(-1, guidance.shape[1], 3, 3) ** 2).sum(1, keepdim=True)
        norms = squares.sum(2, keepdim=True).sum(3, keepdim=True).sqrt().view(-1, 1)
        normalised = patches / torch.max(norms, norms.new_tensor(1e-4))
        touches_unknown = patch_rows(unknown, 3).amax(1) > 0                # P
        scale = torch.where(touches_unknown, unknown_scale, known_scale)[:, None]
        alpha_patches = patch_rows(alpha, 2 * self.rate, stride=self.rate)  # P x (C*16)
        count = h * w
        band = max(1, BAND_ELEMENTS // count)
        columns = alpha.new_empty(alpha_patches.shape[1], count)
        for start in range(0, count, band):
            stop = min(start + band, count)
            scores = normalised @ patches[start:stop].t()                   # candidates x locations
            scores.mul_(scale)
            own = torch.arange(start, stop, device=scores.device)
            scores[own, own - start] += torch.where(touches_unknown[start:stop], -1e4, 0.0).to(scores)
            columns[:, start:stop] = alpha_patches.t() @ torch.softmax(scores, dim=0)
        out_size = (h * self.rate, w * self.rate)
        return F.fold(columns[None], out_size, 2 * self.rate, stride=self.rate, padding=1) / 4.0
