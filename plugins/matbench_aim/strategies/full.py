"""``full``: one pass at native resolution, the image reflect-padded to the network's size
divisor and the outputs cropped back (no resampling at all)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from matbench.registry import STRATEGIES

from .base import Strategy, run_network


def run_padded(network: nn.Module, image: torch.Tensor, divisor: int) -> dict[str, torch.Tensor]:
    """The network's outputs for ``image`` at its own size: padded (reflect) up to a multiple
    of ``divisor``, run, cropped."""
    h, w = image.shape[2:]
    ph, pw = -h % divisor, -w % divisor
    mode = "reflect" if ph < h and pw < w else "replicate"     # reflect needs pad < size
    padded = F.pad(image, (0, pw, 0, ph), mode=mode) if ph or pw else image
    return {k: v[:, :, :h, :w] for k, v in run_network(network, padded).items()}


@STRATEGIES.register_module(name="full")
class Full(Strategy):
    def __init__(self, divisor: int = 32) -> None:
        self.divisor = divisor

    def run(self, network: nn.Module, image: torch.Tensor) -> dict[str, torch.Tensor]:
        outputs = run_padded(network, image, self.divisor)
        result = {"alpha": self.pick(outputs, ("fusion", "alpha"))[0, 0]}
        if "global" in outputs:
            levels = torch.tensor([0, 128, 255], dtype=torch.uint8, device=image.device)
            result["trimap"] = levels[outputs["global"].argmax(1)[0]]
        return result
