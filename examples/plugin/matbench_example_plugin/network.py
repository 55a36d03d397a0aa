"""``TinyMattingNet``: a few convolutions, image -> alpha. Untrained; it shows the contract a
network plugin meets, not a good matte."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from matbench.api import MODELS

#: ImageNet mean and standard deviation (RGB), what most pretrained backbones expect
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


@MODELS.register_module()
class TinyMattingNet(nn.Module):
    """Automatic (trimap-free) toy network: two stride-2 convolutions down, two up, sigmoid alpha.

    ``forward(x)``: x is N x 3 x H x W float32, RGB in [0, 1] already passed through
    :meth:`normalize`, H and W multiples of ``size_divisor``; returns one N x 1 x H x W tensor
    in [0, 1], the output named "alpha".

    Args:
        width: channels of the hidden layers.
    """

    #: names of what forward returns, in order (a tuple of tensors, or one tensor for one name);
    #: the first-party strategies take "fusion" or "alpha"
    output_names = ("alpha",)
    #: H and W of the input must be multiples of this (two stride-2 convolutions)
    size_divisor = 4
    #: the strategy used when the command line names none (``matbench predict``)
    default_strategy = "pad"
    #: where the weights come from, shown when a run has no --checkpoint
    weights = "no published weights: train your own and pass them with --checkpoint FILE (.pth or .safetensors)"

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.down1 = nn.Conv2d(3, width, 3, stride=2, padding=1)
        self.down2 = nn.Conv2d(width, width, 3, stride=2, padding=1)
        self.up1 = nn.Conv2d(width, width, 3, padding=1)
        self.head = nn.Conv2d(width + 3, 1, 3, padding=1)
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] -> what forward expects (called by the strategies before forward)."""
        return (x - self.mean) / self.std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.down1(x))
        h = F.relu(self.down2(h))
        h = F.interpolate(F.relu(self.up1(h)), size=x.shape[2:], mode="bilinear", align_corners=False)
        return torch.sigmoid(self.head(torch.cat([h, x], 1)))
