"""``indexnet-test``: the official IndexNet test procedure (``scripts/demo_indexnet_matting.py``,
the README's Composition-1k inference; ``scripts/demo.py`` computes the same), step for step:

1. the photo and its trimap as the script's float32 arrays: ``float32(v) * float32(1 / 255)``;
   the RGB channels ImageNet-normalised in float64 and stored as float32, the trimap channel left
   as trimap / 255 (0, 128/255, 1);
2. both RESIZED (not padded) to the next multiples of 32: OpenCV bicubic for the colour channels,
   OpenCV nearest for the trimap channel (a side already a multiple of 32 keeps its length);
3. one forward pass (batch 1);
4. the raw output (no sigmoid) resized back by OpenCV bicubic, then clipped to [0, 1];
5. known trimap pixels (0 or 255) replace the prediction; the script saves ``alpha * 255``
   truncated to 8 bits (the network's ``save_rule``).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from matbench.api import STRATEGIES, BaseStrategy, MatbenchError, check_finite

from .resize import resize_cubic, resize_nearest

#: the script's stride: both sides are resized to multiples of it
STRIDE = 32


def aligned_size(h: int, w: int, stride: int = STRIDE) -> tuple[int, int]:
    """The script's ``image_alignment`` size: each side rounded up to a multiple of ``stride``."""
    return math.ceil(h / stride) * stride, math.ceil(w / stride) * stride


@STRATEGIES.register_module(name="indexnet-test")
class IndexNetTest(BaseStrategy):
    """IndexNet's official test: image resized (bicubic) and trimap (nearest) to multiples of 32,
    the raw alpha resized back, clipped, known trimap regions kept."""

    needs = (("alpha",),)

    def label(self) -> str:
        return "Resize to x32"

    def run(self, network: nn.Module, image: torch.Tensor,
            trimap: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if trimap is None:
            raise MatbenchError("indexnet-test needs a trimap (IndexNet is trimap-based)")
        h, w = image.shape[2:]
        size = aligned_size(h, w)
        to_unit = torch.tensor(1 / 255, dtype=torch.float32, device=image.device)
        trimap8 = torch.round(trimap * 255)
        rgb = network.normalize(torch.round(image * 255).float() * to_unit)
        x = resize_cubic(rgb, size)
        tri = resize_nearest(trimap8.float() * to_unit, size)
        if next(network.parameters()).is_contiguous(memory_format=torch.channels_last):
            x, tri = x.contiguous(memory_format=torch.channels_last), tri.contiguous(memory_format=torch.channels_last)
        raw = network(x, tri).float()
        check_finite({"alpha": raw}, type(network).__name__)
        alpha = resize_cubic(raw, (h, w)).clamp_(0, 1).double()
        alpha = torch.where(trimap8 == 128, alpha, trimap8 / 255)
        return {"alpha": alpha[0, 0]}
