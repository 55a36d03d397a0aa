"""``resize``: one pass on the image scaled by ``ratio`` (official default 1/4); the fused
alpha is resized back to full size."""
from __future__ import annotations

import torch
from torch import nn

from matbench.api import STRATEGIES, BaseStrategy, check_size, keep_masks, resize_trimap, run_network, scaled_size
from matbench.api import skimage014_resize as resize


def trimap_from_global(global_sigmoid: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The full-size uint8 trimap of a global output: 255 / 0 where the upsized class map is
    exactly foreground / background (the hybrid rule), 128 elsewhere."""
    keep_fg, keep_bg = keep_masks(global_sigmoid.argmax(1, keepdim=True), size)
    trimap = torch.full(keep_fg.shape, 128, dtype=torch.uint8, device=keep_fg.device)
    return trimap.masked_fill_(keep_fg, 255).masked_fill_(keep_bg, 0)[0, 0]


@STRATEGIES.register_module(name="resize")
class Resize(BaseStrategy):
    """One pass on the image scaled by ratio (official 1/4)."""

    label_params = ("ratio",)

    def __init__(self, ratio: float = 1 / 4, divisor: int = 32, max_size: int = 1600) -> None:
        self.ratio, self.divisor, self.max_size = ratio, divisor, max_size

    def run(self, network: nn.Module, image: torch.Tensor,
            trimap: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        h, w = image.shape[2:]
        size = scaled_size(h, w, self.ratio, self.divisor, self.max_size)
        check_size(size, image, f"resize strategy at ratio {self.ratio:.4g}")
        outputs = run_network(network, resize(image, size), resize_trimap(trimap, size))
        alpha = resize(self.pick(outputs, ("fusion", "alpha")), (h, w))[0, 0]
        result = {"alpha": alpha}
        if "global" in outputs:
            result["trimap"] = trimap_from_global(outputs["global"], (h, w))
        return result
