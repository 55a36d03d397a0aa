"""Bilinear resizing as scikit-image 0.14's ``resize`` did it (the AIM and P3M papers' code), on tensors.

0.14 sampled output pixel ``k`` at input coordinate ``(k + 0.5) * n_in / n_out - 0.5``
(pixel-centre aligned, no anti-aliasing), with neighbours outside the image read as 0
(``mode='constant'``), then clipped the result to the input's [min, max] (keeping exact zeros
when 0 lies outside that range). The sampling positions are computed here with integer
arithmetic — the fraction is ``((2k + 1) n_in - n_out) / (2 n_out)`` exactly — so a pixel that
lies exactly on an input pixel gets weight 0 on its neighbour, which decides which pixels the
hybrid fusion keeps. Everything runs on the input's device.
"""
from __future__ import annotations

import torch


def scaled_size(h: int, w: int, scale: float, divisor: int = 32, cap: int = 1600) -> tuple[int, int]:
    """The official model-input size: ``int(side * scale)`` floored to a multiple of ``divisor``,
    capped at ``cap`` per side (so the proportions may change)."""
    def side(n: int) -> int:
        s = int(n * scale)
        return min(cap, s - s % divisor)
    return side(h), side(w)


def _axis(n_in: int, n_out: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Indices into the input padded by one pixel each side, and the two bilinear weights."""
    k = torch.arange(n_out, dtype=torch.int64)
    num = (2 * k + 1) * n_in - n_out                  # 2 * n_out * (sampling coordinate)
    i0 = torch.div(num, 2 * n_out, rounding_mode="floor")
    frac = (num - i0 * 2 * n_out).double() / (2 * n_out)
    # +1: index 0 of the padded input is the outside neighbour of pixel 0
    return (i0 + 1).to(device), (i0 + 2).clamp(max=n_in + 1).to(device), (1 - frac).to(device), frac.to(device)


def _resample(x: torch.Tensor, size: tuple[int, int], pad_value: float, binary: bool = False) -> torch.Tensor:
    """Separable bilinear sampling of N x C x H x W ``x`` padded with ``pad_value``. With
    ``binary`` every neighbour of non-zero weight counts 1, so the result is zero exactly where
    every contributing value is zero."""
    x = torch.nn.functional.pad(x, (1, 1, 1, 1), value=pad_value)
    # rows first (the padded columns ride along), then columns
    for dim, n_out in ((2, size[0]), (3, size[1])):
        i0, i1, w0, w1 = _axis(x.shape[dim] - 2, n_out, x.device)
        if binary:
            w0, w1 = w0 > 0, w1 > 0
        shape = [1, 1, 1, 1]
        shape[dim] = n_out
        w0, w1 = w0.to(x.dtype).view(shape), w1.to(x.dtype).view(shape)
        x = x.index_select(dim, i0) * w0 + x.index_select(dim, i1) * w1
    return x


def skimage014_resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """N x C x H x W float ``x`` resized to ``size`` as scikit-image 0.14 did (see module doc)."""
    out = _resample(x, size, 0.0)
    flat = x.flatten(1)
    lo, hi = flat.amin(1).view(-1, 1, 1, 1), flat.amax(1).view(-1, 1, 1, 1)
    exact_zero = out == 0
    out = torch.maximum(torch.minimum(out, hi), lo)
    return torch.where(((lo > 0) | (hi < 0)) & exact_zero, torch.zeros_like(out), out)


def resize_trimap(trimap: torch.Tensor | None, size: tuple[int, int]) -> torch.Tensor | None:
    """N x 1 x H x W trimap resized to ``size`` by nearest neighbour (pixel-centre aligned), so
    it keeps its three levels; None (an automatic network's) stays None."""
    if trimap is None or tuple(trimap.shape[2:]) == tuple(size):
        return trimap
    return torch.nn.functional.interpolate(trimap, size=size, mode="nearest-exact")


def keep_masks(classes: torch.Tensor, size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Where the official hybrid fusion keeps the global decision after upsizing the trimap.

    ``classes``: N x 1 x h x w global classes (0 bg, 1 transition, 2 fg). A full-size pixel stays
    foreground iff every input pixel it is interpolated from is foreground and it takes nothing
    from the zero padding (its resized value is exactly 255); it stays background iff every
    input pixel it is interpolated from is background (the padding reads as 0). Returns the
    two boolean N x 1 x H x W masks.
    """
    not_fg = (classes != 2).to(torch.float32)
    not_bg = (classes != 0).to(torch.float32)
    keep_fg = _resample(not_fg, size, 1.0, binary=True) == 0
    keep_bg = _resample(not_bg, size, 0.0, binary=True) == 0
    # an all-foreground trimap: 0.14 clipped the darkened border back to its minimum, 1.0
    all_fg = (not_fg.flatten(1).amax(1) == 0).view(-1, 1, 1, 1)
    return keep_fg | all_fg, keep_bg
