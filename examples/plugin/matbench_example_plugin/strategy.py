"""``pad``: one pass at native size, the image padded to the network's ``size_divisor``; with
``flip=True`` also on the mirrored image, the two alphas averaged (test-time augmentation)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from matbench.api import STRATEGIES, MatbenchError

MODES = ("replicate", "reflect", "constant")


def padded_alpha(network: nn.Module, image: torch.Tensor, mode: str) -> torch.Tensor:
    """The network's "alpha" for a 1 x 3 x H x W image in [0, 1], as a 1 x 1 x H x W tensor."""
    h, w = image.shape[2:]
    divisor = getattr(network, "size_divisor", 1)
    x = F.pad(image.float(), (0, -w % divisor, 0, -h % divisor), mode=mode)
    normalize = getattr(network, "normalize", None)
    out = network(normalize(x) if normalize is not None else x)
    names = tuple(getattr(network, "output_names", ("alpha",)))
    outputs = dict(zip(names, (out,) if isinstance(out, torch.Tensor) else out))
    return outputs["alpha"][:, :, :h, :w]


@STRATEGIES.register_module(name="pad")
class Pad:
    """Native size, padded to the network's size divisor (optionally flip-averaged).

    Args:
        mode: how the border is extended: "replicate", "reflect" or "constant" (zeros).
        flip: also run the left-right mirrored image and average the two alphas.
    """

    def __init__(self, mode: str = "replicate", flip: bool = False) -> None:
        if mode not in MODES:
            raise MatbenchError(f"pad: unknown mode '{mode}' (known: {', '.join(MODES)})")
        self.mode, self.flip = mode, flip

    def check_model(self, network: nn.Module) -> None:
        """Refuse, before any image, a network without an "alpha" output."""
        names = tuple(getattr(network, "output_names", ("alpha",)))
        if "alpha" not in names:
            raise MatbenchError(f"strategy 'pad' needs an 'alpha' output; {type(network).__name__} "
                                f"gives {', '.join(names)}")

    def label(self) -> str:
        """The "Test" cell of tables."""
        return "Pad (flip)" if self.flip else "Pad"

    def __call__(self, network: nn.Module, image: torch.Tensor) -> torch.Tensor:
        # image: 1 x 3 x H x W float64 RGB in [0, 1] on the network's device -> H x W alpha
        alpha = padded_alpha(network, image, self.mode)
        if self.flip:
            mirrored = padded_alpha(network, image.flip(3), self.mode).flip(3)
            alpha = (alpha + mirrored) / 2
        return alpha[0, 0]
