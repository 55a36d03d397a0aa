"""``full``: one pass at native resolution, the image reflect-padded to the network's size
divisor and the outputs cropped back (no resampling at all)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from matbench.api import STRATEGIES, BaseStrategy, run_network


def run_padded(network: nn.Module, image: torch.Tensor, divisor: int,
               trimap: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """The network's outputs for ``image`` (and ``trimap``) at its own size: padded (reflect)
    up to a multiple of ``divisor``, run, cropped."""
    h, w = image.shape[2:]
    ph, pw = -h % divisor, -w % divisor
    mode = "reflect" if ph < h and pw < w else "replicate"     # reflect needs pad < size
    if ph or pw:
        image = F.pad(image, (0, pw, 0, ph), mode=mode)
        trimap = F.pad(trimap, (0, pw, 0, ph), mode=mode) if trimap is not None else None
    return {k: v[:, :, :h, :w] for k, v in run_network(network, image, trimap).items()}


@STRATEGIES.register_module(name="full")
class Full(BaseStrategy):
    """One pass at native size, padded to a multiple of the divisor (default: the network's
    ``size_divisor``, 32 when it names none; 1 for networks that pad themselves)."""

    def __init__(self, divisor: int | None = None) -> None:
        self.divisor = divisor

    def run(self, network: nn.Module, image: torch.Tensor,
            trimap: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        divisor = self.divisor or getattr(network, "size_divisor", 32)
        outputs = run_padded(network, image, divisor, trimap)
        result = {"alpha": self.pick(outputs, ("fusion", "alpha"))[0, 0]}
        if "global" in outputs:
            levels = torch.tensor([0, 128, 255], dtype=torch.uint8, device=image.device)
            result["trimap"] = levels[outputs["global"].argmax(1)[0]]
        return result
