"""Resizing as the IndexNet test script resizes: OpenCV's ``cv2.resize`` itself (bicubic for the
colour channels and the output, nearest for the trimap channel), applied to N x C x H x W tensors
on any device by way of a float32 NumPy copy, so the numbers are OpenCV's own.

OpenCV's ``INTER_CUBIC`` is Keys' cubic (a = -0.75) on half-pixel centres with edge pixels
repeated and no anti-aliasing when shrinking; torch's ``bicubic`` computes the sampling positions
in float32 and differs by up to ~1e-3 at 1500 pixels. ``INTER_NEAREST`` takes input pixel
``floor(d * n_in / n_out)`` (the top-left neighbour: torch's ``nearest``, not ``nearest-exact``).
"""
from __future__ import annotations

import numpy as np
import torch


def _cv2_resize(x: torch.Tensor, size: tuple[int, int], interpolation: str) -> torch.Tensor:
    import cv2  # imported where used: loading OpenCV is not every command's cost

    if tuple(x.shape[2:]) == tuple(size):
        return x
    interpolation = getattr(cv2, interpolation)
    out = []
    for item in x.detach().float().cpu().numpy():                 # C x H x W
        hwc = np.ascontiguousarray(item.transpose(1, 2, 0))
        resized = cv2.resize(hwc, (size[1], size[0]), interpolation=interpolation)
        out.append(resized.reshape(size[0], size[1], -1).transpose(2, 0, 1))
    return torch.from_numpy(np.stack(out)).to(x.device)


def resize_cubic(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """N x C x H x W ``x`` resized to ``size`` (H, W) by ``cv2.resize(..., INTER_CUBIC)`` in float32."""
    return _cv2_resize(x, size, "INTER_CUBIC")


def resize_nearest(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """N x C x H x W ``x`` resized to ``size`` (H, W) by ``cv2.resize(..., INTER_NEAREST)`` in float32."""
    return _cv2_resize(x, size, "INTER_NEAREST")
