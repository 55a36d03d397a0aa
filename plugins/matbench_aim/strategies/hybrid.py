"""``hybrid``: the global decision from a coarse pass (``global_ratio``, official 1/4) and the
local alpha from a finer pass (``local_ratio``, official 1/2; the AIM README also reports 1/3).
Upsized to full size, a pixel keeps the global foreground / background where the upsized
trimap is exactly 255 / 0 and takes the local alpha everywhere else (the official fusion)."""
from __future__ import annotations

import torch
from torch import nn

from matbench.api import STRATEGIES, BaseStrategy, check_size, keep_masks, resize_trimap, run_network, scaled_size
from matbench.api import skimage014_resize as resize


def fuse(local_full: torch.Tensor, global_sigmoid: torch.Tensor) -> dict[str, torch.Tensor]:
    """Full-size alpha and trimap from a full-size local alpha (1 x 1 x H x W) and a coarse
    global output (1 x 3 x h x w)."""
    size = local_full.shape[2:]
    keep_fg, keep_bg = keep_masks(global_sigmoid.argmax(1, keepdim=True), size)
    alpha = torch.where(keep_fg, torch.ones_like(local_full), local_full)
    alpha = torch.where(keep_bg, torch.zeros_like(alpha), alpha)
    trimap = torch.full(keep_fg.shape, 128, dtype=torch.uint8, device=alpha.device)
    trimap = trimap.masked_fill_(keep_fg, 255).masked_fill_(keep_bg, 0)
    return {"alpha": alpha[0, 0], "trimap": trimap[0, 0]}


@STRATEGIES.register_module(name="hybrid")
class Hybrid(BaseStrategy):
    """Global decision at 1/4, local alpha at 1/2, fused at full size (the official default)."""

    label_params = ("local_ratio", "global_ratio")

    needs = (("global",), ("local",))

    def __init__(self, global_ratio: float = 1 / 4, local_ratio: float = 1 / 2, divisor: int = 32,
                 max_size: int = 1600) -> None:
        self.global_ratio, self.local_ratio = global_ratio, local_ratio
        self.divisor, self.max_size = divisor, max_size

    def global_pass(self, network: nn.Module, image: torch.Tensor,
                    trimap: torch.Tensor | None = None) -> torch.Tensor:
        size = scaled_size(*image.shape[2:], self.global_ratio, self.divisor, self.max_size)
        check_size(size, image, f"global pass at ratio {self.global_ratio:.4g}")
        return run_network(network, resize(image, size), resize_trimap(trimap, size))["global"]

    def run(self, network: nn.Module, image: torch.Tensor,
            trimap: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        global_sigmoid = self.global_pass(network, image, trimap)
        size = scaled_size(*image.shape[2:], self.local_ratio, self.divisor, self.max_size)
        check_size(size, image, f"local pass at ratio {self.local_ratio:.4g}")
        local = run_network(network, resize(image, size), resize_trimap(trimap, size))["local"]
        return fuse(resize(local, image.shape[2:]), global_sigmoid)
